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
