//! X.509 certificate chains for certificate-based signatures, judged as `model_signing` 1.1.1
//! (an OpenSSL store) judges them: the leaf must chain to one of the given roots through the
//! certificates in the bundle, with validity checked at the leaf's own notBefore (there is no
//! trusted signing time without a timestamp authority, so the reference tool uses that instant)
//! for every certificate on the path, the root included, and with every CA's pathLenConstraint
//! honoured, the root's included; the leaf must allow signing (KeyUsage digitalSignature or
//! ExtendedKeyUsage codeSigning). rustls-webpki builds and checks the path; it treats a root as
//! a bare trust anchor, so the root's own constraints are checked here, as OpenSSL checks them.
//!
//! Signing has its own rule ([`check_valid_at`]): every certificate carried must be valid at the
//! signing time, since a signature made outside a certificate's validity vouches for nothing.

use std::cell::RefCell;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls_pki_types::{CertificateDer, UnixTime};
use webpki::{EndEntityCert, ExtendedKeyUsageValidator, KeyPurposeIdIter, VerifiedPath};
use x509_cert::Certificate;
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};

use crate::error::Problem;
use crate::error::{Error, Result};
use crate::fsutil::{limits, read_capped_string};
use crate::keys::PublicKey;
use crate::keys::pem_certificates;
use crate::warning::Warning;

/// id-kp-codeSigning, 1.3.6.1.5.5.7.3.3.
const CODE_SIGNING: x509_cert::der::oid::ObjectIdentifier =
    x509_cert::der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");

/// Reads every certificate (DER) in a PEM file (at most [`limits::KEY_BYTES`]), in file order.
pub fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>> {
    let text = read_capped_string(path, limits::KEY_BYTES, "a certificate file")?;
    let certificates = pem_certificates(&text).map_err(|problem| Error::invalid(path, problem))?;
    for der in &certificates {
        Certificate::from_der(der)
            .map_err(|e| Error::invalid_because(path, "malformed certificate", e))?;
    }
    Ok(certificates)
}

/// A leaf certificate that chains to a trusted root and may sign.
#[derive(Clone, Debug)]
pub struct VerifiedLeaf {
    /// The leaf's subject public key, which must verify the signature.
    pub public_key: PublicKey,
    /// The leaf's subject, for reports.
    pub subject: String,
    /// Things accepted that the user should know (a leaf certificate that has since expired).
    pub warnings: Vec<Warning>,
}

/// Validates `leaf` (DER) through `intermediates` to one of `roots`. Errors are plain messages
/// for the caller to attach to the signature file.
pub fn verify_leaf(
    leaf: &[u8],
    intermediates: &[Vec<u8>],
    roots: &[Vec<u8>],
) -> std::result::Result<VerifiedLeaf, Problem> {
    let intermediates_der = intermediates;
    let parsed = Certificate::from_der(leaf)
        .map_err(|e| Problem::because("malformed signing certificate", e))?;
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
            .map_err(|e| Problem::because("malformed trusted certificate", e))?;
        let tbs = certificate.tbs_certificate();
        if tbs.subject() == tbs.issuer() {
            root_ders.push(der);
        } else {
            extra_intermediates.push(der);
        }
    }
    if root_ders.is_empty() {
        return Err(
            "none of the given certificates is a root (self-issued); the chain must end at one, as model_signing requires".into(),
        );
    }
    let root_certificates = root_ders
        .iter()
        .map(|der| {
            Certificate::from_der(der)
                .map_err(|e| Problem::because("malformed trusted certificate", e))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let anchors = root_ders
        .iter()
        .map(|der| {
            webpki::anchor_from_trusted_cert(&CertificateDer::from(der.as_slice()))
                .map(|anchor| anchor.to_owned())
                .map_err(|e| {
                    Problem::worded(
                        format!("a trusted root is not a usable certificate: {e:?}"),
                        e,
                    )
                })
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let intermediates: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .map(|der| CertificateDer::from(der.as_slice()))
        .collect();
    let leaf_der = CertificateDer::from(leaf);
    let end_entity = EndEntityCert::try_from(&leaf_der)
        .map_err(|e| Problem::worded(format!("unusable signing certificate: {e:?}"), e))?;
    // The root's own checks, run on each path webpki finds (it tries others when one fails).
    let root_problem = RefCell::new(None);
    let check_root = |path: &VerifiedPath<'_>| {
        let Some(index) = anchors.iter().position(|a| std::ptr::eq(a, path.anchor())) else {
            return Ok(());
        };
        let root = &root_certificates[index];
        let below = path
            .intermediate_certificates()
            .filter(|cert| cert.issuer() != cert.subject())
            .count();
        let checked = root_constraints(root, below, not_before);
        checked.map_err(|(problem, error)| {
            root_problem.replace(Some(problem));
            error
        })
    };
    let time = UnixTime::since_unix_epoch(not_before);
    let verified = end_entity.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &intermediates,
        time,
        AnyPurpose,
        None,
        Some(&check_root),
    );
    if let Err(error) = verified {
        return Err(match root_problem.into_inner() {
            Some(problem) => Problem::worded(
                format!(
                    "the signing certificate ({subject}) does not chain to a given root: {problem}"
                ),
                error,
            ),
            // model_signing (through OpenSSL) accepts a CA:TRUE signing certificate; modelprov
            // refuses it, naming what is unusual, rather than validate such a path by hand.
            None if matches!(error, webpki::Error::CaUsedAsEndEntity) => Problem::worded(
                format!(
                    "the signing certificate ({subject}) is a CA (BasicConstraints CA:TRUE); a CA is not accepted as the signing certificate (model_signing, through OpenSSL, accepts one): sign with an end-entity certificate"
                ),
                error,
            ),
            None => Problem::worded(
                chain_problem(&subject, &error, intermediates_der, not_before),
                error,
            ),
        });
    }

    let key_usage = tbs
        .get_extension::<KeyUsage>()
        .map_err(|e| Problem::because("malformed KeyUsage", e))?;
    let extended = tbs
        .get_extension::<ExtendedKeyUsage>()
        .map_err(|e| Problem::because("malformed ExtendedKeyUsage", e))?;
    let may_sign = key_usage.is_some_and(|(_, usage)| usage.digital_signature())
        || extended.is_some_and(|(_, usage)| usage.0.contains(&CODE_SIGNING));
    if !may_sign {
        return Err(format!(
            "the signing certificate ({subject}) may not sign: it has neither KeyUsage digitalSignature nor ExtendedKeyUsage codeSigning"
        ).into());
    }

    let spki = tbs
        .subject_public_key_info()
        .to_der()
        .map_err(|e| Problem::because("malformed certificate key", e))?;
    let public_key = PublicKey::from_spki_der(&spki)?;
    let mut warnings = Vec::new();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    if not_after < now {
        warnings.push(Warning::CertificateExpired {
            subject: subject.clone(),
        });
    }
    Ok(VerifiedLeaf {
        public_key,
        subject,
        warnings,
    })
}

/// Checks what OpenSSL checks of a root and webpki does not: its pathLenConstraint against the
/// `below` CA certificates under it (self-issued ones not counted, as OpenSSL counts them), and its
/// validity at `time`. The error pairs the message with the webpki error that stops the path.
fn root_constraints(
    root: &Certificate,
    below: usize,
    time: Duration,
) -> std::result::Result<(), (String, webpki::Error)> {
    let tbs = root.tbs_certificate();
    let name = tbs.subject().to_string();
    let constraints = tbs.get_extension::<BasicConstraints>().map_err(|e| {
        (
            format!("the root ({name}) has a malformed BasicConstraints extension: {e}"),
            webpki::Error::BadDer,
        )
    })?;
    let limit = constraints.and_then(|(_, constraints)| constraints.path_len_constraint);
    if let Some(limit) = limit.filter(|&limit| below > usize::from(limit)) {
        return Err((
            format!(
                "the root ({name}) has the path length constraint pathlen:{limit}, which allows {limit} intermediate CA certificate(s) below it, but the path has {below}; OpenSSL and model_signing refuse it too"
            ),
            webpki::Error::PathLenConstraintViolated,
        ));
    }
    let validity = tbs.validity();
    let (from, until) = (
        validity.not_before.to_unix_duration(),
        validity.not_after.to_unix_duration(),
    );
    if time < from || time > until {
        return Err((
            format!(
                "the root ({name}) is not valid at the signing certificate's notBefore {} (the instant model_signing checks the chain at): it is valid from {} to {}",
                show_time(time),
                show_time(from),
                show_time(until)
            ),
            if time < from {
                webpki::Error::CertNotValidYet {
                    time: UnixTime::since_unix_epoch(time),
                    not_before: UnixTime::since_unix_epoch(from),
                }
            } else {
                webpki::Error::CertExpired {
                    time: UnixTime::since_unix_epoch(time),
                    not_after: UnixTime::since_unix_epoch(until),
                }
            },
        ));
    }
    Ok(())
}

/// Why webpki found no path, in words; a validity failure names the certificates of the bundle
/// that are not valid at the leaf's notBefore.
fn chain_problem(
    subject: &str,
    error: &webpki::Error,
    intermediates: &[Vec<u8>],
    time: Duration,
) -> String {
    let problem = match error {
        webpki::Error::CertNotValidYet { .. } | webpki::Error::CertExpired { .. } => {
            let invalid: Vec<String> = intermediates
                .iter()
                .filter_map(|der| Certificate::from_der(der).ok())
                .filter(|c| !valid_at(c, time))
                .map(|c| describe_validity(&c))
                .collect();
            format!(
                "a certificate on the path is not valid at the signing certificate's notBefore {} (the instant model_signing checks the chain at){}",
                show_time(time),
                if invalid.is_empty() {
                    String::new()
                } else {
                    format!(": {}", invalid.join("; "))
                }
            )
        }
        webpki::Error::PathLenConstraintViolated => "an intermediate CA's path length constraint (pathLenConstraint) is exceeded; OpenSSL and model_signing refuse it too".to_string(),
        other => format!("{other:?}"),
    };
    format!("the signing certificate ({subject}) does not chain to a given root: {problem}")
}

/// Checks that every certificate in `certificates` (DER: the leaf, then its chain) is valid at
/// `time`, the signing time: a signature made outside a certificate's validity is refused at
/// verification by any X.509 verifier that knows the signing time, and vouches for nothing.
pub fn check_valid_at(
    certificates: &[Vec<u8>],
    time: SystemTime,
) -> std::result::Result<(), Problem> {
    let time = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    for (index, der) in certificates.iter().enumerate() {
        let certificate =
            Certificate::from_der(der).map_err(|e| Problem::because("malformed certificate", e))?;
        if !valid_at(&certificate, time) {
            let role = if index == 0 {
                "signing certificate"
            } else {
                "chain certificate"
            };
            let validity = certificate.tbs_certificate().validity();
            let when = if time < validity.not_before.to_unix_duration() {
                "not valid yet"
            } else {
                "expired"
            };
            return Err(format!(
                "the {role} {} is {when} at the signing time {}; refusing to sign with it",
                describe_validity(&certificate),
                show_time(time)
            )
            .into());
        }
    }
    Ok(())
}

fn valid_at(certificate: &Certificate, time: Duration) -> bool {
    let validity = certificate.tbs_certificate().validity();
    validity.not_before.to_unix_duration() <= time && time <= validity.not_after.to_unix_duration()
}

/// "(CN=...) (valid from ... to ...)".
fn describe_validity(certificate: &Certificate) -> String {
    let tbs = certificate.tbs_certificate();
    format!(
        "({}) (valid from {} to {})",
        tbs.subject(),
        show_time(tbs.validity().not_before.to_unix_duration()),
        show_time(tbs.validity().not_after.to_unix_duration())
    )
}

/// An instant as RFC 3339 UTC.
fn show_time(since_epoch: Duration) -> String {
    i64::try_from(since_epoch.as_secs())
        .ok()
        .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{} s after 1970", since_epoch.as_secs()))
}

/// No ExtendedKeyUsage constraint along the path: the reference tool's OpenSSL store sets no
/// purpose, and the leaf's own usage is checked separately.
struct AnyPurpose;

impl ExtendedKeyUsageValidator for AnyPurpose {
    fn validate(&self, _: KeyPurposeIdIter<'_, '_>) -> std::result::Result<(), webpki::Error> {
        Ok(())
    }
}

/// Certificates (DER) as PEM text, one `CERTIFICATE` block each, in order.
pub fn certificates_pem(certificates: &[Vec<u8>]) -> String {
    certificates
        .iter()
        .map(|der| {
            pem::encode_config(
                &pem::Pem::new("CERTIFICATE", der.clone()),
                pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
            )
        })
        .collect()
}
