//! Option groups shared by several commands.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use modelprov::cache::DigestCache;
use modelprov::hashing::HashAlgorithm;
use modelprov::keys::{passphrase_from_env, read_passphrase_file};
use modelprov::manifest::Serialization;
use modelprov::model::HashConfig;
use modelprov::{Result, Warning};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum AlgorithmArg {
    Sha256,
    #[value(alias = "blake2")]
    Blake2b,
    Blake3,
}

impl From<AlgorithmArg> for HashAlgorithm {
    fn from(value: AlgorithmArg) -> Self {
        match value {
            AlgorithmArg::Sha256 => HashAlgorithm::Sha256,
            AlgorithmArg::Blake2b => HashAlgorithm::Blake2b,
            AlgorithmArg::Blake3 => HashAlgorithm::Blake3,
        }
    }
}

/// How the model is turned into a manifest (the OMS serialization).
#[derive(Args, Debug, Default)]
pub struct SerializationArgs {
    /// Hash algorithm for the resources.
    #[arg(long, short = 'a', value_enum, value_name = "ALG")]
    pub algorithm: Option<AlgorithmArg>,

    /// Hash files in shards of this many bytes; without a value, 1000000000 (the OMS default,
    /// `modelprov::manifest::DEFAULT_SHARD_SIZE`).
    #[arg(long, value_name = "BYTES", num_args = 0..=1, default_missing_value = "1000000000")]
    pub shard_size: Option<u64>,

    /// Leave this path (relative to the model, or absolute inside it) out; repeatable.
    #[arg(long, value_name = "PATH")]
    pub ignore: Vec<PathBuf>,

    /// Hash the top-level .git, .gitattributes, .github and .gitignore too.
    #[arg(long)]
    pub no_ignore_git_paths: bool,

    /// Hash the top-level README.md (the model card) too: model_signing's plain digest of the
    /// whole folder. By default a model's identity leaves its card out (docs/manifest.md).
    #[arg(long)]
    pub no_ignore_readme: bool,

    /// Follow symlinks to files (hashed under the link's name) instead of refusing them.
    #[arg(long)]
    pub allow_symlinks: bool,
}

impl SerializationArgs {
    pub fn is_default(&self) -> bool {
        self.algorithm.is_none()
            && self.shard_size.is_none()
            && self.ignore.is_empty()
            && !self.no_ignore_git_paths
            && !self.no_ignore_readme
            && !self.allow_symlinks
    }

    /// Whether `--ignore` is the only hashing option given (what a signature's verification
    /// takes: the rest is recorded in the signature).
    pub fn only_ignores(&self) -> bool {
        self.algorithm.is_none()
            && self.shard_size.is_none()
            && !self.no_ignore_git_paths
            && !self.no_ignore_readme
            && !self.allow_symlinks
    }

    /// The library's hashing configuration these options describe.
    pub fn config(&self) -> HashConfig {
        let mut config = HashConfig::default()
            .algorithm(self.algorithm.map_or(HashAlgorithm::Sha256, Into::into))
            .shard_size(self.shard_size)
            .ignore_git_paths(!self.no_ignore_git_paths)
            .ignore_card(!self.no_ignore_readme)
            .allow_symlinks(self.allow_symlinks);
        for path in &self.ignore {
            config = config.ignore(path);
        }
        config
    }

    /// The serialization these options describe for `model`; `own_outputs` are files this run
    /// writes, ignored when they lie inside the model. Returns warnings alongside.
    pub fn resolve(
        &self,
        model: &Path,
        own_outputs: &[&Path],
    ) -> Result<(Serialization, Vec<Warning>)> {
        self.config().resolve(model, own_outputs)
    }
}

/// The opt-in incremental digest cache.
#[derive(Args, Debug, Default)]
pub struct CacheArgs {
    /// Reuse digests of files unchanged since an earlier run (keyed by device, inode, size,
    /// mtime and ctime).
    #[arg(long)]
    pub cache: bool,

    /// Cache database to use (implies --cache) [default: the user cache folder].
    #[arg(long, value_name = "FILE")]
    pub cache_file: Option<PathBuf>,
}

impl CacheArgs {
    /// Whether this run asked for the cache.
    pub fn requested(&self) -> bool {
        self.cache || self.cache_file.is_some()
    }

    /// Opens the cache when asked for. A cache that cannot be opened is a warning, not an
    /// error: hashing without it gives the same answer, only slower.
    pub fn open(&self, warnings: &mut Vec<Warning>) -> Option<DigestCache> {
        if !self.requested() {
            return None;
        }
        let Some(path) = self.cache_file.clone().or_else(DigestCache::default_path) else {
            warnings.push(Warning::CacheUnavailable {
                problem: "no user cache folder is known; pass --cache-file".into(),
            });
            return None;
        };
        match DigestCache::open(&path) {
            Ok(cache) => Some(cache),
            Err(problem) => {
                warnings.push(Warning::CacheUnavailable {
                    problem: problem.to_string(),
                });
                None
            }
        }
    }
}

/// How results are shown.
#[derive(Args, Debug, Default)]
pub struct OutputArgs {
    /// Print one JSON object on stdout instead of text.
    #[arg(long)]
    pub json: bool,

    /// No progress bar, summary or warnings on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Where a private key's passphrase comes from: never the command line, where other users can
/// read it in the process list.
#[derive(Args, Debug, Default)]
pub struct PassphraseArgs {
    /// Read the key's passphrase from this file (one trailing newline is dropped; empty is refused).
    #[arg(long, value_name = "FILE", conflicts_with = "passphrase_env")]
    pub passphrase_file: Option<PathBuf>,

    /// Read the key's passphrase from this environment variable (empty is refused).
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
}

impl PassphraseArgs {
    /// The passphrase, by the library's rule (`modelprov::keys::read_passphrase_file`).
    pub fn read(&self) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>> {
        if let Some(path) = &self.passphrase_file {
            return read_passphrase_file(path).map(Some);
        }
        if let Some(variable) = &self.passphrase_env {
            return passphrase_from_env(variable).map(Some);
        }
        Ok(None)
    }
}
