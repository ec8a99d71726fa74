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
use crate::warning::Warning;

/// What the model is supposed to be.
#[derive(Clone, Debug)]
pub enum Expectation {
    /// A full manifest: differences can be named file by file.
    Manifest(Manifest),
    /// Only a root digest, and the serialization it was computed with.
    Digest {
        /// The root digest the model should have.
        digest: RootDigest,
        /// How that digest was computed; the model is hashed the same way.
        serialization: Serialization,
    },
}

impl Expectation {
    /// The serialization the model is hashed with to be compared.
    pub fn serialization(&self) -> &Serialization {
        match self {
            Expectation::Manifest(manifest) => &manifest.serialization,
            Expectation::Digest { serialization, .. } => serialization,
        }
    }

    /// The root digest the model should have.
    pub fn digest(&self) -> RootDigest {
        match self {
            Expectation::Manifest(manifest) => manifest.root_digest(),
            Expectation::Digest { digest, .. } => *digest,
        }
    }
}

/// The verdict of comparing a model with its [`Expectation`].
#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    /// True when the model is as expected: no file differs (against a manifest), or the root
    /// digests are equal (against a bare digest).
    pub ok: bool,
    /// The root digest the expectation gives.
    pub expected: RootDigest,
    /// The root digest of the model as hashed (unsigned files left out, when so asked).
    pub actual: RootDigest,
    /// The serialization the model was hashed with: the expectation's.
    pub serialization: Serialization,
    /// File-level differences; `None` when only a digest was expected.
    pub diff: Option<ManifestDiff>,
    /// What hashing the model took.
    pub stats: BuildStats,
    /// Files of the model folder that this verification did not check because the expectation
    /// leaves them out: the model card (README.md), which a model's identity does not cover.
    pub not_covered: Vec<String>,
    /// With [`VerifyOptions::ignore_unsigned_files`]: the files found that the expectation does
    /// not list, left out of the comparison.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unsigned_ignored: Vec<String>,
    /// Problems met while hashing the model that did not stop it, one message each.
    pub warnings: Vec<Warning>,
}

/// How a model is compared with its expectation.
#[derive(Clone, Copy, Debug, Default)]
pub struct VerifyOptions {
    /// Files the expected manifest does not list are left out instead of failing the
    /// verification as added (model_signing's `--ignore_unsigned_files`). Missing and changed
    /// files still fail. Applies to manifests only: a bare digest lists no files.
    pub ignore_unsigned_files: bool,
}

/// Hashes `model` with the expectation's serialization and compares. `Ok` holds the verdict
/// (which may be a failure); `Err` means the model could not be hashed at all.
pub fn verify_model(
    model: &Path,
    expectation: &Expectation,
    context: &BuildContext<'_>,
) -> Result<Verification> {
    verify_model_with(model, expectation, context, VerifyOptions::default())
}

/// [`verify_model`] with options.
pub fn verify_model_with(
    model: &Path,
    expectation: &Expectation,
    context: &BuildContext<'_>,
    options: VerifyOptions,
) -> Result<Verification> {
    if let Expectation::Manifest(expected) = expectation {
        refuse_names_through_symlinks(model, expected)?;
    }
    let mut built = build_manifest(model, expectation.serialization(), context)?;
    let mut unsigned_ignored = Vec::new();
    if let (true, Expectation::Manifest(expected)) = (options.ignore_unsigned_files, expectation) {
        let signed: std::collections::HashSet<&str> = expected
            .resources
            .iter()
            .map(|r| r.name.path.as_str())
            .collect();
        built.manifest.resources.retain(|resource| {
            let keep = signed.contains(resource.name.path.as_str());
            if !keep && unsigned_ignored.last() != Some(&resource.name.path) {
                unsigned_ignored.push(resource.name.path.clone());
            }
            keep
        });
    }
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
        unsigned_ignored,
        warnings: built.warnings,
    })
}

/// A signed name whose folder part is a symlink in the model (`weights/x.bin` where `weights`
/// links elsewhere) would have the verifier hash bytes outside the model under a signed name.
/// Refused before any file is read. (`..` and absolute names never parse.)
fn refuse_names_through_symlinks(model: &Path, expected: &Manifest) -> Result<()> {
    let mut checked = std::collections::HashSet::new();
    for resource in &expected.resources {
        let mut prefix = std::path::PathBuf::new();
        let parts: Vec<&str> = resource.name.path.split('/').collect();
        for part in &parts[..parts.len().saturating_sub(1)] {
            prefix.push(part);
            if !checked.insert(prefix.clone()) {
                continue;
            }
            let on_disk = model.join(&prefix);
            if std::fs::symlink_metadata(&on_disk).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(crate::error::Error::invalid(
                    &on_disk,
                    format!(
                        "the signed name '{}' goes through this symlink; refused before reading any file (a signature covers the model's own files)",
                        resource.name.path
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The model card's name when the folder has one that `serialization` leaves out, so that a
/// verdict can say what it did not cover.
pub fn uncovered_card(model: &Path, serialization: &Serialization) -> Option<String> {
    (serialization.leaves_out_card() && model.join(crate::walk::MODEL_CARD).is_file())
        .then(|| crate::walk::MODEL_CARD.to_string())
}
