//! What several targets share: a scratch folder for the path-based entry points, and the test
//! root certificate for the certificate paths.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A folder of this process's own below the temp dir (scripts/fuzz points TMPDIR at target/ and
/// clears it), so parallel jobs never share a file.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("modelprov-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch folder");
        dir
    })
}

/// Writes `data` to `name` in the scratch folder, as the CLI would find it on disk.
pub fn write(name: &str, data: &[u8]) -> PathBuf {
    let path = scratch().join(name);
    std::fs::write(&path, data).expect("scratch file");
    path
}

/// The OMS test vectors' root CA (a copy of shared/vectors/oms/pki/root_cert.pem), as DER.
pub fn root_der() -> &'static [Vec<u8>] {
    static ROOTS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let path = write("root_cert.pem", include_bytes!("../root_cert.pem"));
        modelprov::x509::read_certificates(&path).expect("the committed root certificate reads")
    })
}
