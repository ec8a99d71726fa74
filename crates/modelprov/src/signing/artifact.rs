//! Sigstore bundles over one file, as cosign, sigstore-python and GitHub artifact attestations
//! write them: a message signature over the file's bytes, or a DSSE in-toto attestation (such as
//! SLSA provenance) whose subject is the file's SHA-256. A `sha256:<hex>` digest may stand in for
//! the file.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::oms::{TrustedSigner, verify_envelope};
use crate::attest::{Bundle, IN_TOTO_PAYLOAD_TYPE, OMS_LEGACY_PREDICATE_TYPE, OMS_PREDICATE_TYPE};
use crate::error::{Error, Result};
use crate::evidence::{Evidence, Signed, SignedBy};

/// What a Sigstore bundle signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureKind {
    /// An OMS model signature: a DSSE envelope whose in-toto Statement lists a model's files.
    Model,
    /// A signature or attestation of one file.
    Artifact,
}

/// Tells a model signature from a file's by what the bundle signs; `None` when the text is not
/// a JSON object holding an in-toto DSSE envelope or a message signature (the bundle parser
/// then says what is wrong).
pub fn signature_kind(text: &[u8]) -> Option<SignatureKind> {
    let bundle: Value = serde_json::from_slice(text).ok()?;
    let envelope = bundle.as_object()?.get("dsseEnvelope");
    let Some(envelope) = envelope else {
        return bundle
            .get("messageSignature")
            .map(|_| SignatureKind::Artifact);
    };
    // Sigstore's DSSE bundles carry in-toto Statements only; any other payload type is left to
    // the model signature parser, which names it.
    if envelope.get("payloadType").and_then(Value::as_str) != Some(IN_TOTO_PAYLOAD_TYPE) {
        return None;
    }
    let is_model = envelope
        .get("payload")
        .and_then(Value::as_str)
        .and_then(|payload| STANDARD.decode(payload).ok())
        .and_then(|payload| serde_json::from_slice::<Value>(&payload).ok())
        .is_some_and(|statement| {
            matches!(
                statement.get("predicateType").and_then(Value::as_str),
                Some(OMS_PREDICATE_TYPE | OMS_LEGACY_PREDICATE_TYPE)
            )
        });
    Some(if is_model {
        SignatureKind::Model
    } else {
        SignatureKind::Artifact
    })
}

/// Verifies the Sigstore bundle `text` (read from `path`) over `signed`, by `trusted`.
///
/// Keyless signatures, and key signatures with log entries or timestamps, are verified by the
/// Sigstore verifier against their trusted root (the production root for [`TrustedSigner::Key`]).
/// A key or certificate signature with neither is checked here: the signature over the file (or
/// the DSSE envelope, whose in-toto subject must then be the file's SHA-256).
pub fn verify_artifact_bundle(
    text: &str,
    path: &Path,
    signed: Signed<'_>,
    trusted: TrustedSigner<'_>,
) -> Result<Evidence> {
    #[cfg(feature = "x509")]
    if let Some(evidence) = verify_logged(text, path, signed, trusted)? {
        return Ok(evidence);
    }
    verify_unlogged(text, path, signed, trusted)
}

/// Keyless bundles, and key bundles with log entries or timestamps, through the Sigstore
/// verifier; `None` for the bundles [`verify_unlogged`] checks.
#[cfg(feature = "x509")]
fn verify_logged(
    text: &str,
    path: &Path,
    signed: Signed<'_>,
    trusted: TrustedSigner<'_>,
) -> Result<Option<Evidence>> {
    use crate::sigstore::{BundleSigner, TrustRoot, parse_sigstore_bundle, verify_sigstore_bundle};
    let sigstore = parse_sigstore_bundle(text, path)?;
    let material = &sigstore.verification_material;
    let logged = !material.tlog_entries.is_empty()
        || !material
            .timestamp_verification_data
            .rfc3161_timestamps
            .is_empty();
    let production;
    let (key, root) = match trusted {
        TrustedSigner::Keyless(keyless) => {
            return verify_sigstore_bundle(&sigstore, path, signed, BundleSigner::Keyless(keyless))
                .map(Some);
        }
        TrustedSigner::LoggedKey(key, root) => (key, root),
        TrustedSigner::Key(key) => {
            production = TrustRoot::production();
            (key, &*production)
        }
        TrustedSigner::Roots(_) => return Ok(None),
    };
    if !logged {
        return Ok(None);
    }
    verify_sigstore_bundle(&sigstore, path, signed, BundleSigner::Key(key, root)).map(Some)
}

/// A key or certificate bundle with no log entry: the signature itself, and its binding to the
/// file.
fn verify_unlogged(
    text: &str,
    path: &Path,
    signed: Signed<'_>,
    trusted: TrustedSigner<'_>,
) -> Result<Evidence> {
    let invalid = |problem: String| Error::invalid(path, problem);
    let bundle: Bundle = serde_json::from_str(text)
        .map_err(|e| Error::invalid_because(path, "not a valid Sigstore bundle", e))?;
    #[cfg(not(feature = "x509"))]
    refuse_logged(&bundle, path)?;
    let digest = signed_sha256(signed)?;
    if bundle.dsse_envelope.is_some() {
        let envelope = verify_envelope(&bundle, trusted, path)?;
        let statement: Value = serde_json::from_slice(&envelope.payload)
            .map_err(|e| Error::invalid_because(path, "the signed statement is not JSON", e))?;
        crate::json_strict::reject_duplicate_keys(&envelope.payload)
            .map_err(|problem| invalid(format!("the signed statement is ambiguous: {problem}")))?;
        let subjects = statement
            .get("subject")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("the signed statement has no subject list".into()))?;
        let hex_digest = hex::encode(digest);
        let bound = subjects.iter().any(|subject| {
            subject
                .get("digest")
                .and_then(|d| d.get("sha256"))
                .and_then(Value::as_str)
                .is_some_and(|value| value.eq_ignore_ascii_case(&hex_digest))
        });
        if !bound {
            return Err(Error::not_authentic(
                path,
                format!(
                    "the attestation is about other bytes: no subject has the SHA-256 {hex_digest}"
                ),
            ));
        }
        return Ok(envelope.evidence);
    }
    let Some(message) = &bundle.message_signature else {
        return Err(invalid(
            "the bundle holds neither a message signature nor a DSSE envelope".into(),
        ));
    };
    // A message signature signs the file's bytes; the digest beside it must be the file's.
    if let Some(recorded) = message
        .get("messageDigest")
        .and_then(|d| d.get("digest"))
        .and_then(Value::as_str)
    {
        let recorded = STANDARD
            .decode(recorded)
            .map_err(|e| Error::invalid_because(path, "the message digest is not base64", e))?;
        if recorded != digest {
            return Err(Error::not_authentic(
                path,
                "the signature is of other bytes: its message digest is not the file's SHA-256",
            ));
        }
    }
    let signature = message
        .get("signature")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("the message signature has no 'signature'".into()))?;
    let signature = STANDARD
        .decode(signature)
        .map_err(|e| Error::invalid_because(path, "the signature is not base64", e))?;
    let Some(key) = trusted.key() else {
        return Err(invalid(
            "a certificate message signature with no transparency-log entry is not supported: \
             sign the file with a DSSE attestation, or verify with its key"
                .into(),
        ));
    };
    let Signed::File(file) = signed else {
        return Err(Error::Usage(
            "a message signature signs the file's bytes: give the file, not its digest".into(),
        ));
    };
    if !super::verify_file(file, key, &signature)? {
        return Err(Error::not_authentic(
            path,
            "the signature does not verify with the given key: the file or signature was altered, or another key signed it",
        ));
    }
    Ok(Evidence::of(SignedBy {
        kind: "key",
        key: Some(key.hint()),
        ..Default::default()
    }))
}

/// Without the Sigstore verifier, log entries and timestamps cannot be checked; a bundle that
/// carries them is refused rather than accepted on its signature alone.
#[cfg(not(feature = "x509"))]
fn refuse_logged(bundle: &Bundle, path: &Path) -> Result<()> {
    let material = &bundle.verification_material;
    let timestamped = material
        .timestamp_verification_data
        .as_ref()
        .and_then(|data| data.get("rfc3161Timestamps"))
        .and_then(Value::as_array)
        .is_some_and(|timestamps| !timestamps.is_empty());
    if material.tlog_entries.is_empty() && !timestamped {
        return Ok(());
    }
    Err(Error::feature_missing(
        "x509",
        &format!(
            "{}: checking the transparency-log entries and timestamps this signature carries",
            path.display()
        ),
    ))
}

/// The SHA-256 of what was signed: the file's, streamed, or the digest given for it.
fn signed_sha256(signed: Signed<'_>) -> Result<[u8; 32]> {
    match signed {
        Signed::Sha256(digest) => Ok(digest),
        Signed::File(file) => {
            use std::io::Read as _;
            let mut reader = std::fs::File::open(file)
                .map_err(|e| Error::io("open the signed file", file, e))?;
            let mut hasher = Sha256::new();
            let mut buffer = vec![0u8; 1 << 20];
            loop {
                let read = reader
                    .read(&mut buffer)
                    .map_err(|e| Error::io("read the signed file", file, e))?;
                if read == 0 {
                    break;
                }
                hasher.update(&buffer[..read]);
            }
            Ok(hasher.finalize().into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope_bundle(payload_type: &str, predicate_type: &str) -> String {
        let statement = serde_json::json!({"predicateType": predicate_type});
        serde_json::json!({"dsseEnvelope": {
            "payloadType": payload_type,
            "payload": STANDARD.encode(statement.to_string()),
        }})
        .to_string()
    }

    #[test]
    fn what_a_bundle_signs_is_told_by_its_content() {
        let model = envelope_bundle(IN_TOTO_PAYLOAD_TYPE, OMS_PREDICATE_TYPE);
        assert_eq!(signature_kind(model.as_bytes()), Some(SignatureKind::Model));
        let legacy = envelope_bundle(IN_TOTO_PAYLOAD_TYPE, OMS_LEGACY_PREDICATE_TYPE);
        assert_eq!(
            signature_kind(legacy.as_bytes()),
            Some(SignatureKind::Model)
        );
        let provenance = envelope_bundle(IN_TOTO_PAYLOAD_TYPE, "https://slsa.dev/provenance/v1");
        assert_eq!(
            signature_kind(provenance.as_bytes()),
            Some(SignatureKind::Artifact)
        );
        let message = br#"{"messageSignature": {"signature": ""}}"#;
        assert_eq!(signature_kind(message), Some(SignatureKind::Artifact));
        // Neither a DSSE envelope nor a message signature: left to the bundle parser to name.
        let other_payload = envelope_bundle("application/json", OMS_PREDICATE_TYPE);
        for text in [
            &b"{}"[..],
            b"[]",
            b"not json",
            br#"{"verificationMaterial": {}}"#,
            other_payload.as_bytes(),
        ] {
            assert_eq!(
                signature_kind(text),
                None,
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }
}
