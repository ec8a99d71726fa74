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
    /// Files of the model folder that this verification did not check because the expectation
    /// leaves them out: the model card (README.md), which a model's identity does not cover.
    pub not_covered: Vec<String>,
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
        not_covered: uncovered_card(model, expectation.serialization())
            .into_iter()
            .collect(),
        warnings: built.warnings,
    })
}

/// The model card's name when the folder has one that `serialization` leaves out, so that a
/// verdict can say what it did not cover.
pub fn uncovered_card(model: &Path, serialization: &Serialization) -> Option<String> {
    (serialization.leaves_out_card() && model.join(crate::walk::MODEL_CARD).is_file())
        .then(|| crate::walk::MODEL_CARD.to_string())
}
