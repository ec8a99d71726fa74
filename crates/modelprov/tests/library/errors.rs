//! Errors keep their causes: a program can tell a database fault from a malformed certificate
//! by the underlying error's type, not by parsing text, and every error names its file.

use std::error::Error as _;

use modelprov::Error;
use modelprov::manifest::read_manifest;
#[cfg(feature = "x509")]
use modelprov::x509::{read_certificates, verify_leaf};

#[cfg(feature = "x509")]
use crate::common::vectors;

/// The cause of `error`, which must be of type `T`.
fn cause<T: std::error::Error + 'static>(error: &Error) -> &T {
    error
        .source()
        .unwrap_or_else(|| panic!("no cause kept: {error}"))
        .downcast_ref::<T>()
        .unwrap_or_else(|| panic!("the cause is not a {}: {error}", std::any::type_name::<T>()))
}

#[test]
fn a_manifest_that_is_not_json_keeps_the_serde_json_error() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("model.manifest.json");
    std::fs::write(&path, "{\"version\": ").unwrap();
    let error = read_manifest(&path).unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }), "{error}");
    assert_eq!(error.path(), Some(path.as_path()));
    assert_eq!(error.code(), "invalid_input");
    let json = cause::<serde_json::Error>(&error);
    assert!(json.is_eof(), "{json}");
    // The message users read still says what the parser said.
    assert!(error.to_string().contains(&json.to_string()), "{error}");
}

#[cfg(feature = "x509")]
#[test]
fn a_malformed_certificate_keeps_the_der_error() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("cert.pem");
    let der = pem::Pem::new("CERTIFICATE", vec![0x30, 0x03, 0x02, 0x01]);
    std::fs::write(&path, pem::encode(&der)).unwrap();
    let error = read_certificates(&path).unwrap_err();
    assert_eq!(error.path(), Some(path.as_path()));
    cause::<x509_cert::der::Error>(&error);
}

#[cfg(feature = "x509")]
#[test]
fn a_certificate_that_chains_to_no_given_root_keeps_the_webpki_error() {
    let pki = vectors().join("pki");
    let leaf = read_certificates(&pki.join("leaf_cert.pem")).unwrap();
    let root = read_certificates(&pki.join("root_cert.pem")).unwrap();
    // Without the intermediate, no path reaches the root.
    let problem = verify_leaf(&leaf[0], &[], &root).unwrap_err();
    let error = problem.at(pki.join("leaf_cert.pem"));
    let webpki_error = cause::<webpki::Error>(&error);
    assert!(
        matches!(webpki_error, webpki::Error::UnknownIssuer),
        "{webpki_error:?}"
    );
}

#[cfg(feature = "lineage")]
#[test]
fn a_registry_that_is_not_a_database_keeps_the_sqlite_error() {
    use modelprov::lineage::SqliteStore;

    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("registry.sqlite");
    std::fs::write(&path, vec![b'x'; 8192]).unwrap();
    let Err(error) = SqliteStore::open_read_only(&path) else {
        panic!("a file of x is opened as a registry");
    };
    assert_eq!(error.path(), Some(path.as_path()));
    assert!(
        error
            .to_string()
            .contains("not a modelprov lineage registry"),
        "{error}"
    );
    let sqlite = cause::<rusqlite::Error>(&error);
    assert_eq!(
        sqlite.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase),
        "{sqlite}"
    );
}
