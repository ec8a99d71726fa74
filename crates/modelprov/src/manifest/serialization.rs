//! How a model is turned into resources: whole files or fixed-size shards, which hash, and what
//! is left out. The same parameters OMS records in `predicate.serialization`.

use serde::Serialize;

use crate::hashing::HashAlgorithm;
use crate::walk::{DefaultIgnores, IgnoreSet, ModelFile};

use super::name::ResourceName;

/// The OMS library default shard size: 10^9 bytes (not 2^30).
pub const DEFAULT_SHARD_SIZE: u64 = 1_000_000_000;

/// At most this many shards in one model. Each shard costs memory while hashing (its name and
/// digest), so a manifest or signature with a tiny shard size (`shard_size: 1`) would otherwise
/// make verification allocate per byte of model. 2^20 shards is 1 TB in 1 MB shards.
pub const MAX_SHARDS: u64 = 1 << 20;

/// How a model's files are cut into resources (`serialization.method` in a manifest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum Method {
    /// One resource per file (`files`).
    Files,
    /// One resource per `shard_size` bytes of each file (`shards`); the last shard of a file
    /// may be shorter, and an empty file has none.
    Shards {
        /// Bytes per shard, at least 1 (OMS's default is [`DEFAULT_SHARD_SIZE`]).
        shard_size: u64,
    },
}

/// The parameters that turn a model into resources, recorded in its manifest and signature so
/// that verification hashes the model the same way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Serialization {
    /// Whole files or fixed-size shards.
    pub method: Method,
    /// The hash of each resource (`serialization.hash_type`).
    pub algorithm: HashAlgorithm,
    /// Whether symlinks to files are followed (hashed under the link's name) rather than refused.
    pub allow_symlinks: bool,
    /// Sorted POSIX paths relative to the model root (see `walk::IgnoreSet`).
    pub ignore_paths: Vec<String>,
}

impl Serialization {
    /// A model's identity: whole files, SHA-256, no symlinks, the four git paths and the model
    /// card (README.md) left out. What `hash`, `sign`, cards, lineage, SBOMs and a bare digest
    /// in a trust file mean by "the model's digest".
    pub fn model_default() -> Self {
        Serialization::with_ignores(DefaultIgnores::MODEL)
    }

    /// Whole files, SHA-256, no symlinks, the four git paths ignored: what `model_signing`'s
    /// CLI signs and verifies by default (the card is hashed with the model).
    pub fn oms_default() -> Self {
        Serialization::with_ignores(DefaultIgnores::OMS)
    }

    fn with_ignores(defaults: DefaultIgnores) -> Self {
        Serialization {
            method: Method::Files,
            algorithm: HashAlgorithm::Sha256,
            allow_symlinks: false,
            ignore_paths: IgnoreSet::defaults(defaults).paths().to_vec(),
        }
    }

    /// True when this serialization leaves the model card out of the model.
    pub fn leaves_out_card(&self) -> bool {
        self.ignore_paths
            .iter()
            .any(|p| p == crate::walk::MODEL_CARD)
    }

    /// Refuses combinations that OMS cannot express.
    pub fn check(&self) -> Result<(), String> {
        if let Method::Shards { shard_size } = self.method {
            if shard_size == 0 {
                return Err("shard size must be at least 1 byte".to_string());
            }
            if !self.algorithm.supports_shards() {
                return Err(format!(
                    "{} has no sharded form in OMS; hash it per file (it is parallel within each file)",
                    self.algorithm
                ));
            }
        }
        Ok(())
    }

    /// Refuses a shard size that would cut these files into more than [`MAX_SHARDS`] shards,
    /// before anything is allocated per shard.
    pub fn check_shard_count(&self, files: &[ModelFile]) -> Result<(), String> {
        let Method::Shards { shard_size } = self.method else {
            return Ok(());
        };
        let shards: u64 = files
            .iter()
            .map(|file| file.stamp.size.div_ceil(shard_size))
            .fold(0, u64::saturating_add);
        if shards <= MAX_SHARDS {
            return Ok(());
        }
        let bytes: u64 = files.iter().map(|file| file.stamp.size).sum();
        Err(format!(
            "a shard size of {shard_size} bytes cuts this model into {shards} shards, more than \
             the {MAX_SHARDS} modelprov hashes; use shards of at least {} bytes",
            bytes.div_ceil(MAX_SHARDS).max(1)
        ))
    }

    /// The `algorithm` string every resource carries: `sha256`, or `sha256-sharded-<size>`.
    pub fn resource_algorithm(&self) -> String {
        match self.method {
            Method::Files => self.algorithm.name().to_string(),
            Method::Shards { shard_size } => format!("{}-sharded-{shard_size}", self.algorithm),
        }
    }

    /// Bytes per shard, or `None` when the model is hashed per file.
    pub fn shard_size(&self) -> Option<u64> {
        match self.method {
            Method::Files => None,
            Method::Shards { shard_size } => Some(shard_size),
        }
    }

    /// The resources a file of this model becomes: one per file, or one per shard (none for an
    /// empty file in shard mode, as OMS does).
    pub fn resource_names(&self, file: &ModelFile) -> Vec<ResourceName> {
        match self.method {
            Method::Files => vec![ResourceName::file(&file.name)],
            Method::Shards { shard_size } => (0..file.stamp.size)
                .step_by(usize::try_from(shard_size).unwrap_or(usize::MAX))
                .map(|start| {
                    let end = start.saturating_add(shard_size).min(file.stamp.size);
                    ResourceName::shard(&file.name, start, end)
                })
                .collect(),
        }
    }
}
