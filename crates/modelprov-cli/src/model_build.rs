//! Hashing a model for a command that gives it an identity (`hash`, `sign`): the opt-in cache,
//! the progress bar, and the refusal of an empty model, in one place.

use std::path::Path;

use modelprov::Result;
use modelprov::manifest::{BuildOutcome, Serialization};
use modelprov::model::{card_model_manifest, hash_model};

use crate::args::CacheArgs;
use crate::progress_bar::with_progress;

/// Builds the manifest of the model at `path`, appending the build's warnings to `warnings`.
/// `action` ("hash", "sign") names what an empty model cannot be given.
pub fn build_identified_manifest(
    path: &Path,
    serialization: &Serialization,
    cache: &CacheArgs,
    quiet: bool,
    action: &str,
    warnings: &mut Vec<modelprov::Warning>,
) -> Result<BuildOutcome> {
    let cache = cache.open(warnings);
    let mut built = with_progress(quiet, cache.as_ref(), |context| {
        hash_model(path, serialization, context, action)
    })?;
    warnings.append(&mut built.warnings);
    Ok(built)
}

/// The manifest that gives the model its identity as cards, lineage records and SBOMs record it
/// ([`modelprov::model::card_model_manifest`]), hashed with a progress bar.
pub fn build_card_model_manifest(
    model: &Path,
    card: Option<&Path>,
    quiet: bool,
    warnings: &mut Vec<modelprov::Warning>,
) -> Result<BuildOutcome> {
    let mut built = with_progress(quiet, None, |context| {
        card_model_manifest(model, card, context)
    })?;
    warnings.append(&mut built.warnings);
    Ok(built)
}
