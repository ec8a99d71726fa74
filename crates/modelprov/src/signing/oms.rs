//! OMS signature files: a Sigstore bundle v0.3 whose DSSE envelope signs the in-toto Statement
//! of a model's manifest (shared/oms-format.md). Verification here checks the signature and the
//! Statement; the caller then re-hashes the model against the signed manifest.

use std::path::Path;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::attest::{
    BUNDLE_MEDIA_TYPE, BUNDLE_MEDIA_TYPES, Bundle, Envelope, EnvelopeSignature,
    IN_TOTO_PAYLOAD_TYPE, OmsStatement, VerificationMaterial,
    bundle_public_key as public_key_material, oms_statement, pae, pae_model_signing_v0_2,
    parse_oms_statement,
};
use crate::error::Problem;
use crate::warning::Warning;

use crate::attest::{CertificateChain, RawBytes};
use crate::error::{Error, Result};
use crate::keys::{PrivateKey, PublicKey};
use crate::manifest::Manifest;
use crate::sigstore::{
    BundleSigner, Evidence, KeylessIdentity, Signed, SignedBy, TrustRoot, first_subject_sha256,
    parse_sigstore_bundle, verify_sigstore_bundle,
};
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
            let leaf_key = certificate_key(leaf).map_err(|p| Error::Usage(p.to_string()))?;
            if leaf_key != key.public_key() {
                return Err(Error::Usage(
                    "the signing certificate holds a different public key than the private key"
                        .into(),
                ));
            }
            check_valid_at(certificates, SystemTime::now())
                .map_err(|p| Error::Usage(p.to_string()))?;
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
    /// This public key (the bundle must carry a key hint, or none). Log entries, when the bundle
    /// has any, are checked against the Sigstore public-good production root.
    Key(&'a PublicKey),
    /// This public key, with the bundle's log entries checked against this trusted root.
    LoggedKey(&'a PublicKey, &'a TrustRoot),
    /// Any leaf certificate that chains to one of these roots (DER).
    Roots(&'a [Vec<u8>]),
    /// A keyless (Fulcio) signature by this identity and issuer, logged and timestamped as the
    /// identity's trusted root requires.
    Keyless(&'a KeylessIdentity),
}

/// A signature that verified, and what it says the model is.
#[derive(Clone, Debug)]
pub struct VerifiedSignature {
    /// The signed OMS Statement: the model's name and resources as signed.
    pub statement: OmsStatement,
    /// Who signed, when, and where it was logged.
    pub evidence: Evidence,
    /// Caveats for the user (an older bundle without a key hint, model_signing 0.2's defective
    /// encoding, an expired leaf certificate); the signature verified all the same.
    pub warnings: Vec<Warning>,
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
        evidence: envelope.evidence,
        warnings: envelope.warnings,
    })
}

/// A bundle whose signature verified: the exact payload bytes that were signed.
#[derive(Clone, Debug)]
pub struct VerifiedEnvelope {
    /// The exact payload bytes the signature covers, decoded from the envelope.
    pub payload: Vec<u8>,
    /// Who signed, when, and where it was logged.
    pub evidence: Evidence,
    /// Caveats for the user (an older bundle without a key hint, model_signing 0.2's defective
    /// encoding, an expired leaf certificate); the signature verified all the same.
    pub warnings: Vec<Warning>,
}

/// Checks a bundle (read from `path`): media type, the signer (key hint, certificate chain and
/// leaf usage, or a keyless certificate, log entry and identity) and the DSSE signature over the
/// exact payload bytes of an in-toto payload. `NotAuthentic` when the signer or signature does
/// not match, or the signer's key is too weak to prove anything (`KeyType::weakness`);
/// `InvalidInput` when the bundle cannot be used at all.
pub fn verify_envelope(
    bundle: &Bundle,
    trusted: TrustedSigner<'_>,
    path: &Path,
) -> Result<VerifiedEnvelope> {
    let invalid = |problem: String| Error::invalid(path, problem);
    let not_authentic = |problem: String| Error::not_authentic(path, problem);
    let mut warnings = Vec::new();
    if !BUNDLE_MEDIA_TYPES.contains(&bundle.media_type.as_str()) {
        return Err(invalid(format!(
            "media type '{}' is not a Sigstore bundle this tool reads (expected {BUNDLE_MEDIA_TYPE})",
            bundle.media_type
        )));
    }
    let envelope = in_toto_envelope(bundle, path)?;
    // What a Sigstore-verified DSSE bundle binds: the payload's first in-toto subject.
    let signed_subject = || -> Result<(Vec<u8>, [u8; 32])> {
        let payload = decode(&envelope.payload)
            .map_err(|e| Error::invalid_because(path, "the payload is not base64", e))?;
        let subject = first_subject_sha256(&payload).ok_or_else(|| {
            invalid("the signed statement has no subject with a SHA-256 digest".into())
        })?;
        Ok((payload, subject))
    };
    let material = &bundle.verification_material;
    let logged = !material.tlog_entries.is_empty();
    let fulcio = material.certificate.is_some() && logged;
    let production;
    let key_root: Option<&TrustRoot> = match trusted {
        TrustedSigner::Key(_) if logged => {
            production = TrustRoot::production();
            Some(&production)
        }
        TrustedSigner::LoggedKey(_, root) if logged => Some(root),
        _ => None,
    };
    let (key, evidence) = match trusted {
        TrustedSigner::Keyless(keyless) => {
            if material.public_key.is_some() {
                return Err(invalid(
                    "this signature was made with a key, not keyless: verify it with --key".into(),
                ));
            }
            // The DSSE bundle binds its in-toto subject; the payload is what was signed.
            let (payload, subject) = signed_subject()?;
            let sigstore = parse_sigstore_bundle(&bundle.to_json_string(), path)?;
            let evidence = verify_sigstore_bundle(
                &sigstore,
                path,
                Signed::Sha256(subject),
                BundleSigner::Keyless(keyless),
            )?;
            return Ok(VerifiedEnvelope {
                payload,
                evidence,
                warnings,
            });
        }
        TrustedSigner::Key(key) | TrustedSigner::LoggedKey(key, _) => {
            let Some(identifier) = &material.public_key else {
                return Err(invalid(if fulcio {
                    "this is a keyless Sigstore signature (Fulcio certificate, Rekor entry); verify it with --identity and --issuer".into()
                } else {
                    "this signature carries a certificate; verify it with --certificate-chain, not --key".into()
                }));
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
                _ => warnings.push(Warning::NoKeyHint),
            }
            let evidence = match key_root {
                // Log entries are evidence a verifier must not skip: they are checked, with the
                // signature, by the Sigstore verifier.
                Some(root) => {
                    let sigstore = parse_sigstore_bundle(&bundle.to_json_string(), path)?;
                    let (_, subject) = signed_subject()?;
                    verify_sigstore_bundle(
                        &sigstore,
                        path,
                        Signed::Sha256(subject),
                        BundleSigner::Key(key, root),
                    )?
                }
                None => Evidence::of(SignedBy {
                    kind: "key",
                    key: Some(key.hint()),
                    ..SignedBy::default()
                }),
            };
            (key.clone(), evidence)
        }
        TrustedSigner::Roots(roots) => {
            if fulcio {
                return Err(invalid(
                    "this is a keyless Sigstore signature (Fulcio certificate, Rekor entry); verify it with --identity and --issuer, not --certificate-chain".into(),
                ));
            }
            let certificates: Vec<Vec<u8>> = match (&material.x509_certificate_chain, &material.certificate) {
                (Some(chain), _) => chain.certificates.iter().map(|c| decode(&c.raw_bytes)).collect::<std::result::Result<_, _>>(),
                (None, Some(single)) => decode(&single.raw_bytes).map(|der| vec![der]),
                (None, None) => {
                    return Err(invalid(
                        "this signature carries a public key, not a certificate; verify it with --key".into(),
                    ));
                }
            }
            .map_err(|e| Error::invalid_because(path, "a certificate is not base64", e))?;
            let Some((leaf, intermediates)) = certificates.split_first() else {
                return Err(invalid("the certificate chain is empty".into()));
            };
            let verified = verify_leaf(leaf, intermediates, roots)
                .map_err(|p| Error::not_authentic(path, p))?;
            warnings.extend(verified.warnings);
            let evidence = Evidence::of(SignedBy {
                kind: "certificate",
                subject: Some(verified.subject),
                ..SignedBy::default()
            });
            (verified.public_key, evidence)
        }
    };
    if let Some(weakness) = key.key_type().weakness() {
        return Err(not_authentic(format!(
            "signed with an {} key: {weakness}, so the signature is not accepted",
            key.key_type()
        )));
    }
    let Some(first) = envelope.signatures.first() else {
        return Err(invalid("the envelope holds no signature".into()));
    };
    let payload = decode(&envelope.payload)
        .map_err(|e| Error::invalid_because(path, "the payload is not base64", e))?;
    let signature = decode(&first.sig)
        .map_err(|e| Error::invalid_because(path, "the signature is not base64", e))?;
    if !key.verify(&pae(&envelope.payload_type, &payload), &signature) {
        // model_signing 0.2 signed a defective encoding, always with SHA-256; 1.x accepts it.
        let compat = pae_model_signing_v0_2(&envelope.payload_type, &payload);
        if key.verify_ecdsa_sha256(&compat, &signature) {
            warnings.push(Warning::DefectiveLegacyEncoding);
            return Ok(VerifiedEnvelope {
                payload,
                evidence,
                warnings,
            });
        }
        return Err(not_authentic(
            "the signature does not verify with the given key: the payload or signature was altered, or another key signed it".into(),
        ));
    }
    Ok(VerifiedEnvelope {
        payload,
        evidence,
        warnings,
    })
}

/// The bundle's DSSE envelope, which must hold an in-toto payload.
fn in_toto_envelope<'b>(bundle: &'b Bundle, path: &Path) -> Result<&'b Envelope> {
    let Some(envelope) = &bundle.dsse_envelope else {
        return Err(Error::invalid(
            path,
            "the bundle has no DSSE envelope (message signatures are not OMS signatures)",
        ));
    };
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(Error::invalid(
            path,
            format!(
                "payload type '{}' is not an in-toto statement ({IN_TOTO_PAYLOAD_TYPE})",
                envelope.payload_type
            ),
        ));
    }
    Ok(envelope)
}

fn decode(text: &str) -> std::result::Result<Vec<u8>, base64::DecodeError> {
    STANDARD.decode(text)
}

/// The public key a DER certificate holds.
fn certificate_key(der: &[u8]) -> std::result::Result<PublicKey, Problem> {
    use x509_cert::der::{Decode as _, Encode as _};
    let certificate = x509_cert::Certificate::from_der(der)
        .map_err(|e| Problem::because("malformed certificate", e))?;
    let spki = certificate
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|e| Problem::because("malformed certificate key", e))?;
    PublicKey::from_spki_der(&spki)
}
