//! OMS signature files: a Sigstore bundle v0.3 whose DSSE envelope signs the in-toto Statement
//! of a model's manifest (shared/oms-format.md). Verification here checks the signature and the
//! Statement; the caller then re-hashes the model against the signed manifest.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::attest::{
    BUNDLE_MEDIA_TYPE, Bundle, Envelope, EnvelopeSignature, IN_TOTO_PAYLOAD_TYPE, OmsStatement,
    VerificationMaterial, bundle_public_key as public_key_material, oms_statement, pae,
    parse_oms_statement,
};

use crate::error::{Error, Result};
use crate::keys::{PrivateKey, PublicKey};
use crate::manifest::Manifest;

/// Signs `manifest` with `key` into a bundle carrying the key's hint and no transparency-log
/// entries, as `model_signing sign key` writes.
pub fn sign_manifest(manifest: &Manifest, key: &PrivateKey) -> Result<Bundle> {
    let payload = oms_statement(manifest);
    let signature = key.sign(&pae(IN_TOTO_PAYLOAD_TYPE, &payload))?;
    Ok(Bundle {
        media_type: BUNDLE_MEDIA_TYPE.to_string(),
        verification_material: VerificationMaterial {
            public_key: Some(public_key_material(Some(key.public_key().hint()))),
            ..VerificationMaterial::default()
        },
        dsse_envelope: Some(Envelope {
            payload: STANDARD.encode(&payload),
            payload_type: IN_TOTO_PAYLOAD_TYPE.to_string(),
            signatures: vec![EnvelopeSignature {
                sig: STANDARD.encode(signature),
                keyid: Some(String::new()),
            }],
        }),
        message_signature: None,
    })
}

/// A signature that verified, and what it says the model is.
#[derive(Clone, Debug)]
pub struct VerifiedSignature {
    pub statement: OmsStatement,
    pub warnings: Vec<String>,
}

/// Checks a key-signed bundle (read from `path`) against `key`: media type, key hint, the DSSE
/// signature over the exact payload bytes, and the Statement. `NotAuthentic` when the signature
/// or key does not match; `InvalidInput` when the bundle cannot be used at all.
pub fn verify_bundle_with_key(
    bundle: &Bundle,
    key: &PublicKey,
    path: &Path,
) -> Result<VerifiedSignature> {
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
    match (
        &material.public_key,
        &material.x509_certificate_chain,
        &material.certificate,
    ) {
        (Some(identifier), None, None) => match &identifier.hint {
            Some(hint) if !hint.is_empty() => {
                if !hint.eq_ignore_ascii_case(&key.hint()) {
                    return Err(not_authentic(format!(
                        "signed by another key: the signature's key hint is {hint}, the given key's is {}",
                        key.hint()
                    )));
                }
            }
            _ => warnings.push(
                "the signature uses an older format without a key hint; re-sign it to record one"
                    .to_string(),
            ),
        },
        (None, _, Some(_)) if !material.tlog_entries.is_empty() => {
            return Err(invalid(
                "this is a Sigstore keyless signature (Fulcio certificate, Rekor entry); verifying those is not supported yet".into(),
            ));
        }
        (None, Some(_), _) | (None, None, Some(_)) => {
            return Err(invalid(
                "this signature carries a certificate; verify it with --certificate-chain, not --key".into(),
            ));
        }
        _ => {
            return Err(invalid(
                "the bundle has no usable verification material".into(),
            ));
        }
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
    let statement = parse_oms_statement(&payload).map_err(invalid)?;
    Ok(VerifiedSignature {
        statement,
        warnings,
    })
}
