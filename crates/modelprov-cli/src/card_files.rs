//! Where a card signature goes by default; shared by `sign --card` and `verify --card`.

use std::path::{Path, PathBuf};

/// `model.sig` -> `model.card.sig`; other names get `.card.sig` appended.
pub fn card_signature_path(signature: &Path) -> PathBuf {
    let text = signature.as_os_str().to_string_lossy();
    match text.strip_suffix(".sig") {
        Some(stem) => PathBuf::from(format!("{stem}.card.sig")),
        None => PathBuf::from(format!("{text}.card.sig")),
    }
}
