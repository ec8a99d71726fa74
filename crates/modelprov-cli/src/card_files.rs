//! Where card and SBOM signatures go by default; shared by `sign` and `verify`.

use std::path::{Path, PathBuf};

/// `model.sig` -> `model.card.sig`; other names get `.card.sig` appended.
pub fn card_signature_path(signature: &Path) -> PathBuf {
    attachment_signature_path(signature, "card")
}

/// `model.sig` -> `model.KIND.sig`; other names get `.KIND.sig` appended.
pub fn attachment_signature_path(signature: &Path, kind: &str) -> PathBuf {
    let text = signature.as_os_str().to_string_lossy();
    match text.strip_suffix(".sig") {
        Some(stem) => PathBuf::from(format!("{stem}.{kind}.sig")),
        None => PathBuf::from(format!("{text}.{kind}.sig")),
    }
}
