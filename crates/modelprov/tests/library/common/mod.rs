//! Helpers shared by the library's integration tests.

use std::path::{Path, PathBuf};

#[cfg(feature = "postgres")]
pub mod test_database;

/// The reference vectors from `model_signing` 1.1.1: `MODELPROV_OMS_VECTORS`, else the team's
/// shared folder beside the checkout.
pub fn vectors() -> PathBuf {
    let path = std::env::var_os("MODELPROV_OMS_VECTORS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/oms"),
        PathBuf::from,
    );
    assert!(
        path.join("expected.json").is_file(),
        "OMS vectors not found at {} (set MODELPROV_OMS_VECTORS)",
        path.display()
    );
    path
}
