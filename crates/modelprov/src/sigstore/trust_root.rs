//! Which Sigstore instance a keyless signature must come from: the public-good production or
//! staging instance (their trusted roots are embedded, so nothing is fetched), or a private
//! instance's `trusted_root.json`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use sigstore_trust_root::{
    SIGSTORE_PRODUCTION_TRUSTED_ROOT, SIGSTORE_STAGING_TRUSTED_ROOT, TrustedRoot,
};
use sigstore_verify::Verifier;

use crate::error::Problem;
use crate::error::{Error, Result};
use crate::fsutil::{limits, read_capped};

/// Where a trusted root came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Instance {
    /// The embedded Sigstore public-good production root, the default.
    Production,
    /// The embedded Sigstore public-good staging root (`--staging`).
    Staging,
    /// A `trusted_root.json` file.
    File(PathBuf),
}

impl std::fmt::Display for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Instance::Production => f.write_str("Sigstore public-good production"),
            Instance::Staging => f.write_str("Sigstore public-good staging"),
            Instance::File(path) => write!(f, "trusted root {}", path.display()),
        }
    }
}

/// A trusted root (Fulcio CAs, Rekor logs, CT logs, timestamp authorities), checked and ready to
/// verify with.
pub struct TrustRoot {
    instance: Instance,
    root: TrustedRoot,
    verifier: Verifier,
}

impl std::fmt::Debug for TrustRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustRoot")
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl TrustRoot {
    /// The embedded public-good production root.
    pub fn production() -> Arc<TrustRoot> {
        static ROOT: OnceLock<Arc<TrustRoot>> = OnceLock::new();
        ROOT.get_or_init(|| embedded(Instance::Production, SIGSTORE_PRODUCTION_TRUSTED_ROOT))
            .clone()
    }

    /// The embedded public-good staging root.
    pub fn staging() -> Arc<TrustRoot> {
        static ROOT: OnceLock<Arc<TrustRoot>> = OnceLock::new();
        ROOT.get_or_init(|| embedded(Instance::Staging, SIGSTORE_STAGING_TRUSTED_ROOT))
            .clone()
    }

    /// A private instance's `trusted_root.json` (the format `sigstore` clients and
    /// `sigstore-conformance` use). Refused when it cannot be read, is not a trusted root, or
    /// holds keys or certificates that cannot be used.
    pub fn read(path: &Path) -> Result<Arc<TrustRoot>> {
        let bytes = read_capped(path, limits::DOCUMENT_BYTES, "a trusted root")?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Error::invalid(path, "a trusted root is JSON text; this is not UTF-8"))?;
        crate::json_strict::reject_duplicate_keys(&bytes).map_err(|problem| {
            Error::invalid(path, format!("not a usable trusted root: {problem}"))
        })?;
        Self::from_json(Instance::File(path.to_path_buf()), text)
            .map(Arc::new)
            .map_err(|problem| Error::invalid(path, problem))
    }

    fn from_json(instance: Instance, text: &str) -> std::result::Result<TrustRoot, Problem> {
        let root = TrustedRoot::from_json(text)
            .map_err(|e| Problem::because("not a usable trusted root", e))?;
        let verifier =
            Verifier::new(&root).map_err(|e| Problem::because("not a usable trusted root", e))?;
        Ok(TrustRoot {
            instance,
            root,
            verifier,
        })
    }

    /// Where this root came from, as reports name it.
    pub fn instance(&self) -> &Instance {
        &self.instance
    }

    pub(crate) fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The base URL of the transparency log with this log id (the key id bytes), if the root
    /// lists it.
    pub(crate) fn log_url(&self, log_key_id: &[u8]) -> Option<&str> {
        self.root
            .tlogs
            .iter()
            .find(|log| log.log_id.key_id.as_bytes() == log_key_id)
            .map(|log| log.base_url.as_str())
    }
}

fn embedded(instance: Instance, json: &str) -> Arc<TrustRoot> {
    // The embedded roots ship inside the crate and are checked by its tests; failing here is a
    // build defect, not bad input.
    Arc::new(
        TrustRoot::from_json(instance, json)
            .expect("the embedded Sigstore trusted roots are valid"),
    )
}
