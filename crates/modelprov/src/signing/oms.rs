//! OMS signature files: a Sigstore bundle v0.3 whose DSSE envelope signs the in-toto Statement
//! of a model's manifest (shared/oms-format.md). Verification here checks the signature and the
//! Statement; the caller then re-hashes the model against the signed manifest.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::attest::{
    BUNDLE_MEDIA_TYPE, BUNDLE_MEDIA_TYPES, Bundle, Envelope, EnvelopeSignature,
    IN_TOTO_PAYLOAD_TYPE, OmsStatement, VerificationMaterial,
    bundle_public_key as public_key_material, oms_statement, pae, pae_model_signing_v0_2,
    parse_oms_statement,
};
use crate::warning::Warning;

use crate::error::{Error, Result};
use crate::evidence::{Evidence, SignedBy};
use crate::keys::{PrivateKey, PublicKey};
use crate::manifest::Manifest;
#[cfg(feature = "x509")]
use crate::sigstore::{
    BundleSigner, KeylessIdentity, TrustRoot, first_subject_sha256, parse_sigstore_bundle,
    verify_sigstore_bundle,
};

/// Signs `manifest` with `key`. Without certificates the bundle carries the key's hint, as
/// `model_signing sign key` writes; with them (DER, the leaf first, then its chain) it carries
/// the chain, as `sign certificate` writes. The leaf must hold `key`'s public key, and every
/// certificate must be valid now (`x509::check_valid_at`); certificates need the `x509`
/// feature.
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
        Some(_) => certificate_material(key, certificates)?,
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

/// The verification material of a certificate signature: the chain, leaf first, whose leaf holds
/// `key`'s public key and whose certificates are all valid now.
#[cfg(feature = "x509")]
fn certificate_material(
    key: &PrivateKey,
    certificates: &[Vec<u8>],
) -> Result<VerificationMaterial> {
    use crate::attest::{CertificateChain, RawBytes};
    let leaf_key = PublicKey::from_certificate_der(&certificates[0])
        .map_err(|p| Error::Usage(p.to_string()))?;
    if leaf_key != key.public_key() {
        return Err(Error::Usage(
            "the signing certificate holds a different public key than the private key".into(),
        ));
    }
    crate::x509::check_valid_at(certificates, std::time::SystemTime::now())
        .map_err(|p| Error::Usage(p.to_string()))?;
    Ok(VerificationMaterial {
        x509_certificate_chain: Some(CertificateChain {
            certificates: certificates
                .iter()
                .map(|der| RawBytes {
                    raw_bytes: STANDARD.encode(der),
                })
                .collect(),
        }),
        ..VerificationMaterial::default()
    })
}

#[cfg(not(feature = "x509"))]
fn certificate_material(_: &PrivateKey, _: &[Vec<u8>]) -> Result<VerificationMaterial> {
    Err(Error::feature_missing("x509", "signing with a certificate"))
}

/// Who the verifier trusts to have signed. All but `Key` need the `x509` feature.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum TrustedSigner<'a> {
    /// This public key (the bundle must carry a key hint, or none). Log entries, when the bundle
    /// has any, are checked against the Sigstore public-good production root; without the
    /// `x509` feature such a bundle is refused, never accepted unchecked.
    Key(&'a PublicKey),
    /// This public key, with the bundle's log entries checked against this trusted root.
    #[cfg(feature = "x509")]
    LoggedKey(&'a PublicKey, &'a TrustRoot),
    /// Any leaf certificate that chains to one of these roots (DER).
    #[cfg(feature = "x509")]
    Roots(&'a [Vec<u8>]),
    /// A keyless (Fulcio) signature by this identity and issuer, logged and timestamped as the
    /// identity's trusted root requires.
    #[cfg(feature = "x509")]
    Keyless(&'a KeylessIdentity),
}

impl<'a> TrustedSigner<'a> {
    /// The trusted public key, for `Key` and `LoggedKey`.
    pub fn key(&self) -> Option<&'a PublicKey> {
        match *self {
            TrustedSigner::Key(key) => Some(key),
            #[cfg(feature = "x509")]
            TrustedSigner::LoggedKey(key, _) => Some(key),
            #[cfg(feature = "x509")]
            TrustedSigner::Roots(_) | TrustedSigner::Keyless(_) => None,
        }
    }
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
    if !BUNDLE_MEDIA_TYPES.contains(&bundle.media_type.as_str()) {
        return Err(Error::invalid(
            path,
            format!(
                "media type '{}' is not a Sigstore bundle this tool reads (expected {BUNDLE_MEDIA_TYPE})",
                bundle.media_type
            ),
        ));
    }
    let envelope = in_toto_envelope(bundle, path)?;
    let mut warnings = Vec::new();
    let (key, evidence) = match trusted {
        #[cfg(feature = "x509")]
        TrustedSigner::Keyless(keyless) => return verify_keyless(bundle, envelope, keyless, path),
        TrustedSigner::Key(key) => {
            let evidence = key_signer(bundle, envelope, key, None, path, &mut warnings)?;
            (key.clone(), evidence)
        }
        #[cfg(feature = "x509")]
        TrustedSigner::LoggedKey(key, root) => {
            let evidence = key_signer(bundle, envelope, key, Some(root), path, &mut warnings)?;
            (key.clone(), evidence)
        }
        #[cfg(feature = "x509")]
        TrustedSigner::Roots(roots) => certificate_signer(bundle, roots, path, &mut warnings)?,
    };
    if let Some(weakness) = key.key_type().weakness() {
        return Err(Error::not_authentic(
            path,
            format!(
                "signed with an {} key: {weakness}, so the signature is not accepted",
                key.key_type()
            ),
        ));
    }
    let Some(first) = envelope.signatures.first() else {
        return Err(Error::invalid(path, "the envelope holds no signature"));
    };
    let payload = decode(&envelope.payload)
        .map_err(|e| Error::invalid_because(path, "the payload is not base64", e))?;
    let signature = decode(&first.sig)
        .map_err(|e| Error::invalid_because(path, "the signature is not base64", e))?;
    if !key.verify(&pae(&envelope.payload_type, &payload), &signature) {
        // model_signing 0.2 signed a defective encoding, always with SHA-256; 1.x accepts it.
        let compat = pae_model_signing_v0_2(&envelope.payload_type, &payload);
        if !key.verify_ecdsa_sha256(&compat, &signature) {
            return Err(Error::not_authentic(
                path,
                "the signature does not verify with the given key: the payload or signature was altered, or another key signed it",
            ));
        }
        warnings.push(Warning::DefectiveLegacyEncoding);
    }
    Ok(VerifiedEnvelope {
        payload,
        evidence,
        warnings,
    })
}

/// Whether the bundle is a keyless Sigstore signature: a Fulcio certificate with a log entry.
fn is_keyless(material: &VerificationMaterial) -> bool {
    material.certificate.is_some() && !material.tlog_entries.is_empty()
}

fn names_no_signer(material: &VerificationMaterial) -> bool {
    material.public_key.is_none()
        && material.certificate.is_none()
        && material.x509_certificate_chain.is_none()
}

/// A bundle without a key or a certificate cannot be checked at all: an input error, where one
/// signed in another way than the verifier expects is a verdict (not signed by this signer).
fn no_signer(path: &Path) -> Error {
    Error::invalid(
        path,
        "the bundle names no signer: it has neither a public key nor a certificate",
    )
}

/// The checks of a key signature before its signature: the bundle must name a key, and that
/// key's hint; log entries are checked against `root` (the production root when `None`).
fn key_signer(
    bundle: &Bundle,
    envelope: &Envelope,
    key: &PublicKey,
    root: Option<&TrustRootRef>,
    path: &Path,
    warnings: &mut Vec<Warning>,
) -> Result<Evidence> {
    let material = &bundle.verification_material;
    let Some(identifier) = &material.public_key else {
        if names_no_signer(material) {
            return Err(no_signer(path));
        }
        return Err(Error::not_authentic(
            path,
            if is_keyless(material) {
                "this is a keyless Sigstore signature (Fulcio certificate, Rekor entry), not a key signature: verify it with the signer's identity and issuer"
            } else {
                "this signature carries a certificate, not a key: verify it with the roots its certificate chains to"
            },
        ));
    };
    match &identifier.hint {
        Some(hint) if !hint.is_empty() => {
            if !hint.eq_ignore_ascii_case(&key.hint()) {
                return Err(Error::not_authentic(
                    path,
                    format!(
                        "signed by another key: the signature's key hint is {hint}, the given key's is {}",
                        key.hint()
                    ),
                ));
            }
        }
        _ => warnings.push(Warning::NoKeyHint),
    }
    if material.tlog_entries.is_empty() {
        return Ok(Evidence::of(SignedBy {
            kind: "key",
            key: Some(key.hint()),
            ..SignedBy::default()
        }));
    }
    // Log entries are evidence a verifier must not skip: they are checked, with the signature,
    // by the Sigstore verifier.
    logged_key_evidence(bundle, envelope, key, root, path)
}

#[cfg(feature = "x509")]
type TrustRootRef = TrustRoot;
/// Without `x509` no trusted root exists; the type only keeps one signature for [`key_signer`].
#[cfg(not(feature = "x509"))]
type TrustRootRef = std::convert::Infallible;

#[cfg(feature = "x509")]
fn logged_key_evidence(
    bundle: &Bundle,
    envelope: &Envelope,
    key: &PublicKey,
    root: Option<&TrustRoot>,
    path: &Path,
) -> Result<Evidence> {
    let production;
    let root = match root {
        Some(root) => root,
        None => {
            production = TrustRoot::production();
            &production
        }
    };
    let sigstore = parse_sigstore_bundle(&bundle.to_json_string(), path)?;
    let (_, subject) = signed_subject(envelope, path)?;
    verify_sigstore_bundle(
        &sigstore,
        path,
        crate::evidence::Signed::Sha256(subject),
        BundleSigner::Key(key, root),
    )
}

#[cfg(not(feature = "x509"))]
fn logged_key_evidence(
    _: &Bundle,
    _: &Envelope,
    _: &PublicKey,
    _: Option<&TrustRootRef>,
    path: &Path,
) -> Result<Evidence> {
    Err(Error::feature_missing(
        "x509",
        &format!(
            "{}: checking the transparency-log entries this signature carries",
            path.display()
        ),
    ))
}

/// A keyless signature: the Sigstore verifier checks the certificate, log entry, timestamps and
/// identity, over the payload's first in-toto subject (what a Sigstore-verified DSSE bundle
/// binds).
#[cfg(feature = "x509")]
fn verify_keyless(
    bundle: &Bundle,
    envelope: &Envelope,
    keyless: &KeylessIdentity,
    path: &Path,
) -> Result<VerifiedEnvelope> {
    if bundle.verification_material.public_key.is_some() {
        return Err(Error::not_authentic(
            path,
            "this signature was made with a key, not keyless: verify it with the signer's public key",
        ));
    }
    let (payload, subject) = signed_subject(envelope, path)?;
    let sigstore = parse_sigstore_bundle(&bundle.to_json_string(), path)?;
    let evidence = verify_sigstore_bundle(
        &sigstore,
        path,
        crate::evidence::Signed::Sha256(subject),
        BundleSigner::Keyless(keyless),
    )?;
    Ok(VerifiedEnvelope {
        payload,
        evidence,
        warnings: Vec::new(),
    })
}

/// The payload and its first in-toto subject's SHA-256.
#[cfg(feature = "x509")]
fn signed_subject(envelope: &Envelope, path: &Path) -> Result<(Vec<u8>, [u8; 32])> {
    let payload = decode(&envelope.payload)
        .map_err(|e| Error::invalid_because(path, "the payload is not base64", e))?;
    let subject = first_subject_sha256(&payload).ok_or_else(|| {
        Error::invalid(
            path,
            "the signed statement has no subject with a SHA-256 digest",
        )
    })?;
    Ok((payload, subject))
}

/// A certificate signature: the leaf and the bundle's chain must lead to one of `roots`; the
/// leaf's key is the one the signature is checked with.
#[cfg(feature = "x509")]
fn certificate_signer(
    bundle: &Bundle,
    roots: &[Vec<u8>],
    path: &Path,
    warnings: &mut Vec<Warning>,
) -> Result<(PublicKey, Evidence)> {
    let material = &bundle.verification_material;
    if is_keyless(material) {
        return Err(Error::not_authentic(
            path,
            "this is a keyless Sigstore signature (Fulcio certificate, Rekor entry): verify it with the signer's identity and issuer, not certificate roots",
        ));
    }
    let certificates: Vec<Vec<u8>> = match (&material.x509_certificate_chain, &material.certificate) {
        (Some(chain), _) => chain
            .certificates
            .iter()
            .map(|c| decode(&c.raw_bytes))
            .collect::<std::result::Result<_, _>>(),
        (None, Some(single)) => decode(&single.raw_bytes).map(|der| vec![der]),
        (None, None) if names_no_signer(material) => return Err(no_signer(path)),
        (None, None) => {
            return Err(Error::not_authentic(
                path,
                "this signature carries a public key, not a certificate: verify it with the signer's public key",
            ));
        }
    }
    .map_err(|e| Error::invalid_because(path, "a certificate is not base64", e))?;
    let Some((leaf, intermediates)) = certificates.split_first() else {
        return Err(Error::invalid(path, "the certificate chain is empty"));
    };
    let verified = crate::x509::verify_leaf(leaf, intermediates, roots)
        .map_err(|p| Error::not_authentic(path, p))?;
    warnings.extend(verified.warnings);
    let evidence = Evidence::of(SignedBy {
        kind: "certificate",
        subject: Some(verified.subject),
        ..SignedBy::default()
    });
    Ok((verified.public_key, evidence))
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
