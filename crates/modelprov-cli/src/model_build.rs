//! Hashing a model for a command that gives it an identity (`hash`, `sign`): the opt-in cache,
//! the progress bar, and the refusal of an empty model, in one place.

use std::path::Path;

use modelprov::manifest::{BuildOutcome, Serialization, build_manifest};
use modelprov::{Error, Result};

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
    warnings: &mut Vec<String>,
) -> Result<BuildOutcome> {
    let cache = cache.open(warnings);
    let mut built = with_progress(quiet, cache.as_ref(), |context| {
        build_manifest(path, serialization, context)
    })?;
    warnings.append(&mut built.warnings);
    if built.stats.files == 0 {
        return Err(Error::Walk {
            path: path.to_path_buf(),
            problem: format!(
                "holds no files to {action} (after the ignore rules); refusing to give an empty model an identity"
            ),
        });
    }
    Ok(built)
}

/// The manifest that gives the model its identity as cards, lineage records and SBOMs record it:
/// the default serialization (whole files, SHA-256, git paths and README.md left out), the same
/// digest `modelprov hash` prints. `card`, the card used with it, must be the folder's README.md
/// or lie outside the model.
pub fn build_card_model_manifest(
    model: &Path,
    card: Option<&Path>,
    quiet: bool,
    warnings: &mut Vec<String>,
) -> Result<BuildOutcome> {
    if let Some(card) = card {
        modelprov::card::check_card_location(model, card)?;
    }
    let (serialization, mut resolve_warnings) =
        crate::args::SerializationArgs::default().resolve(model, &[])?;
    warnings.append(&mut resolve_warnings);
    build_identified_manifest(
        model,
        &serialization,
        &CacheArgs::default(),
        quiet,
        "describe in a card",
        warnings,
    )
}
