//! The one verification path for model bytes: re-hash the model the way the expectation says
//! and compare. With a manifest, every difference is named; with only a digest, the answer is
//! match or mismatch.

use std::path::Path;

use serde::Serialize;

use crate::digest::RootDigest;
use crate::error::Result;
use crate::manifest::{
    BuildContext, BuildStats, Manifest, ManifestDiff, Serialization, build_manifest, diff_manifests,
};

/// What the model is supposed to be.
#[derive(Clone, Debug)]
pub enum Expectation {
    /// A full manifest: differences can be named file by file.
    Manifest(Manifest),
    /// Only a root digest, and the serialization it was computed with.
    Digest {
        digest: RootDigest,
        serialization: Serialization,
    },
}

impl Expectation {
    pub fn serialization(&self) -> &Serialization {
        match self {
            Expectation::Manifest(manifest) => &manifest.serialization,
            Expectation::Digest { serialization, .. } => serialization,
        }
    }

    pub fn digest(&self) -> RootDigest {
        match self {
            Expectation::Manifest(manifest) => manifest.root_digest(),
            Expectation::Digest { digest, .. } => *digest,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    pub ok: bool,
    pub expected: RootDigest,
    pub actual: RootDigest,
    pub serialization: Serialization,
    /// File-level differences; `None` when only a digest was expected.
    pub diff: Option<ManifestDiff>,
    pub stats: BuildStats,
    pub warnings: Vec<String>,
}

/// Hashes `model` with the expectation's serialization and compares. `Ok` holds the verdict
/// (which may be a failure); `Err` means the model could not be hashed at all.
pub fn verify_model(
    model: &Path,
    expectation: &Expectation,
    context: &BuildContext<'_>,
) -> Result<Verification> {
    let built = build_manifest(model, expectation.serialization(), context)?;
    let actual = built.manifest.root_digest();
    let expected = expectation.digest();
    let diff = match expectation {
        Expectation::Manifest(manifest) => Some(diff_manifests(manifest, &built.manifest)),
        Expectation::Digest { .. } => None,
    };
    // With a manifest the resources decide (OMS compares them as a set, so a manifest listing
    // them in another order still matches); with a digest only the digest can.
    let ok = match &diff {
        Some(diff) => diff.is_empty(),
        None => actual == expected,
    };
    Ok(Verification {
        ok,
        expected,
        actual,
        serialization: expectation.serialization().clone(),
        diff,
        stats: built.stats,
        warnings: built.warnings,
    })
}
