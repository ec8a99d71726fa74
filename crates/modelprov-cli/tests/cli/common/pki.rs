//! Small test PKIs built with rcgen: CAs with any basic constraints and validity, and leaves
//! that may sign, written as PEM files.

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use time::{Duration, OffsetDateTime};

/// A CA: its certificate file and what it needs to issue.
pub struct Ca {
    pub cert: PathBuf,
    issuer: Issuer<'static, KeyPair>,
}

/// A validity period relative to now.
#[derive(Clone, Copy)]
pub struct Validity {
    pub from: Duration,
    pub until: Duration,
}

impl Validity {
    /// Valid from `from` to `until` (offsets from now, negative for the past).
    pub fn new(from: Duration, until: Duration) -> Self {
        Validity { from, until }
    }

    /// From a day ago to a year ahead.
    pub fn current() -> Self {
        Validity::new(Duration::days(-1), Duration::days(365))
    }
}

fn params(name: &str, validity: Validity) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    let now = OffsetDateTime::now_utc();
    params.not_before = now + validity.from;
    params.not_after = now + validity.until;
    params
}

/// A CA named `name` with `constraints`, self-signed (a root) or issued by `parent`, written to
/// `folder/<file>.pem`.
pub fn ca(
    folder: &Path,
    file: &str,
    name: &str,
    constraints: BasicConstraints,
    validity: Validity,
    parent: Option<&Ca>,
) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = params(name, validity);
    params.is_ca = IsCa::Ca(constraints);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = match parent {
        None => params.self_signed(&key).unwrap(),
        Some(parent) => params.signed_by(&key, &parent.issuer).unwrap(),
    };
    let path = folder.join(format!("{file}.pem"));
    fs::write(&path, cert.pem()).unwrap();
    Ca {
        cert: path,
        issuer: Issuer::new(params, key),
    }
}

/// A leaf that may sign (KeyUsage digitalSignature), issued by `issuer`: (certificate, key).
pub fn leaf(folder: &Path, file: &str, issuer: &Ca, validity: Validity) -> (PathBuf, PathBuf) {
    let key = KeyPair::generate().unwrap();
    let mut params = params(&format!("{file} signer"), validity);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let cert = params.signed_by(&key, &issuer.issuer).unwrap();
    let paths = (
        folder.join(format!("{file}.pem")),
        folder.join(format!("{file}.key")),
    );
    fs::write(&paths.0, cert.pem()).unwrap();
    fs::write(&paths.1, key.serialize_pem()).unwrap();
    paths
}
