//! Where card and SBOM signatures go by default; shared by `sign` and `verify`.

use std::path::{Path, PathBuf};

pub use modelprov::model::attachment_signature_path;

/// `model.sig` -> `model.card.sig`; other names get `.card.sig` appended.
pub fn card_signature_path(signature: &Path) -> PathBuf {
    attachment_signature_path(signature, "card")
}
