//! X.509 certificate chains for certificate-based signatures, judged as `model_signing` 1.1.1
//! judges them: the leaf must chain to one of the given roots through the certificates in the
//! bundle, with validity checked at the leaf's own notBefore (there is no trusted signing time
//! without a timestamp authority, so the reference tool uses that instant), and the leaf must
//! allow signing (KeyUsage digitalSignature or ExtendedKeyUsage codeSigning).

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls_pki_types::{CertificateDer, UnixTime};
use webpki::{EndEntityCert, ExtendedKeyUsageValidator, KeyPurposeIdIter};
use x509_cert::Certificate;
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage};

use crate::error::{Error, Result};
use crate::keys::PublicKey;
use crate::keys::pem_certificates;

/// id-kp-codeSigning, 1.3.6.1.5.5.7.3.3.
const CODE_SIGNING: x509_cert::der::oid::ObjectIdentifier =
    x509_cert::der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");

/// Reads every certificate (DER) in a PEM file, in file order.
pub fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::io("read certificates", path, e))?;
    let certificates = pem_certificates(&text).map_err(|problem| Error::invalid(path, problem))?;
    for der in &certificates {
        Certificate::from_der(der)
            .map_err(|e| Error::invalid(path, format!("malformed certificate: {e}")))?;
    }
    Ok(certificates)
}

/// A leaf certificate that chains to a trusted root and may sign.
#[derive(Clone, Debug)]
pub struct VerifiedLeaf {
    pub public_key: PublicKey,
    /// The leaf's subject, for reports.
    pub subject: String,
    pub warnings: Vec<String>,
}

/// Validates `leaf` (DER) through `intermediates` to one of `roots`. Errors are plain messages
/// for the caller to attach to the signature file.
pub fn verify_leaf(
    leaf: &[u8],
    intermediates: &[Vec<u8>],
    roots: &[Vec<u8>],
) -> std::result::Result<VerifiedLeaf, String> {
    let parsed =
        Certificate::from_der(leaf).map_err(|e| format!("malformed signing certificate: {e}"))?;
    let tbs = parsed.tbs_certificate();
    let subject = tbs.subject().to_string();
    let not_before = tbs.validity().not_before.to_unix_duration();
    let not_after = tbs.validity().not_after.to_unix_duration();

    // OpenSSL (and so the reference tool) needs the path to end at a self-issued root; a given
    // certificate that is not one only helps build the path.
    let mut extra_intermediates = Vec::new();
    let mut root_ders = Vec::new();
    for der in roots {
        let certificate = Certificate::from_der(der)
            .map_err(|e| format!("malformed trusted certificate: {e}"))?;
        let tbs = certificate.tbs_certificate();
        if tbs.subject() == tbs.issuer() {
            root_ders.push(der);
        } else {
            extra_intermediates.push(der);
        }
    }
    if root_ders.is_empty() {
        return Err(
            "none of the given certificates is a root (self-issued); the chain must end at one, as model_signing requires"
                .to_string(),
        );
    }
    let anchors = root_ders
        .iter()
        .map(|der| {
            webpki::anchor_from_trusted_cert(&CertificateDer::from(der.as_slice()))
                .map(|anchor| anchor.to_owned())
                .map_err(|e| format!("a trusted root is not a usable certificate: {e:?}"))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let intermediates: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .map(|der| CertificateDer::from(der.as_slice()))
        .collect();
    let leaf_der = CertificateDer::from(leaf);
    let end_entity = EndEntityCert::try_from(&leaf_der)
        .map_err(|e| format!("unusable signing certificate: {e:?}"))?;
    end_entity
        .verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &intermediates,
            UnixTime::since_unix_epoch(not_before),
            AnyPurpose,
            None,
            None,
        )
        .map_err(|e| {
            format!("the signing certificate ({subject}) does not chain to a given root: {e:?}")
        })?;

    let key_usage = tbs
        .get_extension::<KeyUsage>()
        .map_err(|e| format!("malformed KeyUsage: {e}"))?;
    let extended = tbs
        .get_extension::<ExtendedKeyUsage>()
        .map_err(|e| format!("malformed ExtendedKeyUsage: {e}"))?;
    let may_sign = key_usage.is_some_and(|(_, usage)| usage.digital_signature())
        || extended.is_some_and(|(_, usage)| usage.0.contains(&CODE_SIGNING));
    if !may_sign {
        return Err(format!(
            "the signing certificate ({subject}) may not sign: it has neither KeyUsage digitalSignature nor ExtendedKeyUsage codeSigning"
        ));
    }

    let spki = tbs
        .subject_public_key_info()
        .to_der()
        .map_err(|e| format!("malformed certificate key: {e}"))?;
    let public_key = PublicKey::from_spki_der(&spki)?;
    let mut warnings = Vec::new();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    if not_after < now {
        warnings.push(format!(
            "the signing certificate ({subject}) has expired; accepted because validity is checked at its notBefore, as model_signing does"
        ));
    }
    Ok(VerifiedLeaf {
        public_key,
        subject,
        warnings,
    })
}

/// No ExtendedKeyUsage constraint along the path: the reference tool's OpenSSL store sets no
/// purpose, and the leaf's own usage is checked separately.
struct AnyPurpose;

impl ExtendedKeyUsageValidator for AnyPurpose {
    fn validate(&self, _: KeyPurposeIdIter<'_, '_>) -> std::result::Result<(), webpki::Error> {
        Ok(())
    }
}
