//! OMS signature files: a Sigstore bundle v0.3 whose DSSE envelope signs the in-toto Statement
//! of a model's manifest (shared/oms-format.md). Verification here checks the signature and the
//! Statement; the caller then re-hashes the model against the signed manifest.

use std::path::Path;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::attest::{
    BUNDLE_MEDIA_TYPE, Bundle, Envelope, EnvelopeSignature, IN_TOTO_PAYLOAD_TYPE, OmsStatement,
    VerificationMaterial, bundle_public_key as public_key_material, oms_statement, pae,
    parse_oms_statement,
};

use crate::attest::{CertificateChain, RawBytes};
use crate::error::{Error, Result};
use crate::keys::{PrivateKey, PublicKey};
use crate::manifest::Manifest;
use crate::x509::{check_valid_at, verify_leaf};

/// Signs `manifest` with `key`. Without certificates the bundle carries the key's hint, as
/// `model_signing sign key` writes; with them (DER, the leaf first, then its chain) it carries
/// the chain, as `sign certificate` writes. The leaf must hold `key`'s public key, and every
/// certificate must be valid now ([`check_valid_at`]).
pub fn sign_manifest(
    manifest: &Manifest,
    key: &PrivateKey,
    certificates: &[Vec<u8>],
) -> Result<Bundle> {
    sign_statement(&oms_statement(manifest), key, certificates)
}

/// Signs any in-toto Statement `payload` into a bundle, as [`sign_manifest`] does the OMS one.
pub fn sign_statement(
    payload: &[u8],
    key: &PrivateKey,
    certificates: &[Vec<u8>],
) -> Result<Bundle> {
    let verification_material = match certificates.first() {
        None => VerificationMaterial {
            public_key: Some(public_key_material(Some(key.public_key().hint()))),
            ..VerificationMaterial::default()
        },
        Some(leaf) => {
            let leaf_key = certificate_key(leaf).map_err(Error::Usage)?;
            if leaf_key != key.public_key() {
                return Err(Error::Usage(
                    "the signing certificate holds a different public key than the private key"
                        .into(),
                ));
            }
            check_valid_at(certificates, SystemTime::now()).map_err(Error::Usage)?;
            VerificationMaterial {
                x509_certificate_chain: Some(CertificateChain {
                    certificates: certificates
                        .iter()
                        .map(|der| RawBytes {
                            raw_bytes: STANDARD.encode(der),
                        })
                        .collect(),
                }),
                ..VerificationMaterial::default()
            }
        }
    };
    let signature = key.sign(&pae(IN_TOTO_PAYLOAD_TYPE, payload))?;
    Ok(Bundle {
        media_type: BUNDLE_MEDIA_TYPE.to_string(),
        verification_material,
        dsse_envelope: Some(Envelope {
            payload: STANDARD.encode(payload),
            payload_type: IN_TOTO_PAYLOAD_TYPE.to_string(),
            signatures: vec![EnvelopeSignature {
                sig: STANDARD.encode(signature),
                keyid: Some(String::new()),
            }],
        }),
        message_signature: None,
    })
}

/// Who the verifier trusts to have signed.
#[derive(Clone, Copy, Debug)]
pub enum TrustedSigner<'a> {
    /// This public key (the bundle must carry a key hint, or none).
    Key(&'a PublicKey),
    /// Any leaf certificate that chains to one of these roots (DER).
    Roots(&'a [Vec<u8>]),
}

/// A signature that verified, and what it says the model is.
#[derive(Clone, Debug)]
pub struct VerifiedSignature {
    pub statement: OmsStatement,
    /// The signing certificate's subject, for certificate signatures.
    pub signer: Option<String>,
    pub warnings: Vec<String>,
}

/// Checks an OMS bundle (read from `path`): [`verify_envelope`], then the OMS Statement.
pub fn verify_bundle(
    bundle: &Bundle,
    trusted: TrustedSigner<'_>,
    path: &Path,
) -> Result<VerifiedSignature> {
    let envelope = verify_envelope(bundle, trusted, path)?;
    let statement =
        parse_oms_statement(&envelope.payload).map_err(|problem| Error::invalid(path, problem))?;
    Ok(VerifiedSignature {
        statement,
        signer: envelope.signer,
        warnings: envelope.warnings,
    })
}

/// A bundle whose signature verified: the exact payload bytes that were signed.
#[derive(Clone, Debug)]
pub struct VerifiedEnvelope {
    pub payload: Vec<u8>,
    /// The signing certificate's subject, for certificate signatures.
    pub signer: Option<String>,
    pub warnings: Vec<String>,
}

/// Checks a bundle (read from `path`): media type, the signer (key hint, or certificate chain
/// and leaf usage) and the DSSE signature over the exact payload bytes of an in-toto payload.
/// `NotAuthentic` when the signer or signature does not match, or the signer's key is too weak
/// to prove anything (`KeyType::weakness`); `InvalidInput` when the bundle cannot be used at all.
pub fn verify_envelope(
    bundle: &Bundle,
    trusted: TrustedSigner<'_>,
    path: &Path,
) -> Result<VerifiedEnvelope> {
    let invalid = |problem: String| Error::invalid(path, problem);
    let not_authentic = |problem: String| Error::NotAuthentic {
        path: path.to_path_buf(),
        problem,
    };
    let mut warnings = Vec::new();
    if bundle.media_type != BUNDLE_MEDIA_TYPE {
        return Err(invalid(format!(
            "media type '{}' is not supported (expected {BUNDLE_MEDIA_TYPE})",
            bundle.media_type
        )));
    }
    let material = &bundle.verification_material;
    if material.certificate.is_some() && !material.tlog_entries.is_empty() {
        return Err(invalid(
            "this is a Sigstore keyless signature (Fulcio certificate, Rekor entry); verifying those is not supported yet".into(),
        ));
    }
    let mut signer = None;
    let key = match trusted {
        TrustedSigner::Key(key) => {
            let Some(identifier) = &material.public_key else {
                return Err(invalid(
                    "this signature carries a certificate; verify it with --certificate-chain, not --key".into(),
                ));
            };
            match &identifier.hint {
                Some(hint) if !hint.is_empty() => {
                    if !hint.eq_ignore_ascii_case(&key.hint()) {
                        return Err(not_authentic(format!(
                            "signed by another key: the signature's key hint is {hint}, the given key's is {}",
                            key.hint()
                        )));
                    }
                }
                _ => warnings.push(
                    "the signature uses an older format without a key hint; re-sign it to record one".to_string(),
                ),
            }
            key.clone()
        }
        TrustedSigner::Roots(roots) => {
            let certificates: Vec<Vec<u8>> = match (&material.x509_certificate_chain, &material.certificate) {
                (Some(chain), _) => chain.certificates.iter().map(|c| decode(&c.raw_bytes)).collect::<std::result::Result<_, _>>(),
                (None, Some(single)) => decode(&single.raw_bytes).map(|der| vec![der]),
                (None, None) => {
                    return Err(invalid(
                        "this signature carries a public key, not a certificate; verify it with --key".into(),
                    ));
                }
            }
            .map_err(|e| invalid(format!("a certificate is not base64: {e}")))?;
            let Some((leaf, intermediates)) = certificates.split_first() else {
                return Err(invalid("the certificate chain is empty".into()));
            };
            let verified = verify_leaf(leaf, intermediates, roots).map_err(not_authentic)?;
            warnings.extend(verified.warnings);
            signer = Some(verified.subject);
            verified.public_key
        }
    };
    if let Some(weakness) = key.key_type().weakness() {
        return Err(not_authentic(format!(
            "signed with an {} key: {weakness}, so the signature is not accepted",
            key.key_type()
        )));
    }
    let Some(envelope) = &bundle.dsse_envelope else {
        return Err(invalid(
            "the bundle has no DSSE envelope (message signatures are not OMS signatures)".into(),
        ));
    };
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(invalid(format!(
            "payload type '{}' is not an in-toto statement ({IN_TOTO_PAYLOAD_TYPE})",
            envelope.payload_type
        )));
    }
    let Some(first) = envelope.signatures.first() else {
        return Err(invalid("the envelope holds no signature".into()));
    };
    let payload = STANDARD
        .decode(&envelope.payload)
        .map_err(|e| invalid(format!("the payload is not base64: {e}")))?;
    let signature = STANDARD
        .decode(&first.sig)
        .map_err(|e| invalid(format!("the signature is not base64: {e}")))?;
    if !key.verify(&pae(&envelope.payload_type, &payload), &signature) {
        return Err(not_authentic(
            "the signature does not verify with the given key: the payload or signature was altered, or another key signed it".into(),
        ));
    }
    Ok(VerifiedEnvelope {
        payload,
        signer,
        warnings,
    })
}

fn decode(text: &str) -> std::result::Result<Vec<u8>, base64::DecodeError> {
    STANDARD.decode(text)
}

/// The public key a DER certificate holds.
fn certificate_key(der: &[u8]) -> std::result::Result<PublicKey, String> {
    use x509_cert::der::{Decode as _, Encode as _};
    let certificate =
        x509_cert::Certificate::from_der(der).map_err(|e| format!("malformed certificate: {e}"))?;
    let spki = certificate
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|e| format!("malformed certificate key: {e}"))?;
    PublicKey::from_spki_der(&spki)
}
