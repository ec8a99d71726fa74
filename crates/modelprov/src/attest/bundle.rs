//! The Sigstore bundle (v0.3) that OMS writes as a model's signature file. Unknown fields are
//! refused, as the reference tool's models do (`extra="forbid"`); key order and whitespace do
//! not matter when reading. Written compact, with the field order the reference tool uses.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Every media type Sigstore clients have written, read alike (v0.1 and v0.2 differ only in
/// which verification material they allow; v0.3 has two spellings).
pub const BUNDLE_MEDIA_TYPES: &[&str] = &[
    BUNDLE_MEDIA_TYPE,
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
];

/// Signature files larger than this are refused before parsing.
pub const MAX_BUNDLE_BYTES: u64 = 64 << 20;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Bundle {
    pub media_type: String,
    pub verification_material: VerificationMaterial,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsse_envelope: Option<Envelope>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_signature: Option<Value>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerificationMaterial {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyIdentifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_chain: Option<CertificateChain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<RawBytes>,
    #[serde(default)]
    pub tlog_entries: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_verification_data: Option<Value>,
}

/// `hint` is the SHA-256 of the SPKI PEM; `rawBytes`/`keyDetails` appear in bundles from
/// model_signing before 1.1 and are ignored, as 1.1.1 ignores them.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublicKeyIdentifier {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(default, skip_serializing)]
    pub raw_bytes: Option<String>,
    #[serde(default, skip_serializing)]
    pub key_details: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertificateChain {
    pub certificates: Vec<RawBytes>,
}

/// Base64 DER.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawBytes {
    pub raw_bytes: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Envelope {
    /// Standard base64 of the payload bytes.
    pub payload: String,
    pub payload_type: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeSignature {
    /// Standard base64 of the signature bytes.
    pub sig: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyid: Option<String>,
}

/// The `publicKey` material for a key with this hint.
pub fn bundle_public_key(hint: Option<String>) -> PublicKeyIdentifier {
    PublicKeyIdentifier {
        hint,
        ..PublicKeyIdentifier::default()
    }
}

impl Bundle {
    /// The bundle as the reference tool writes it: compact JSON, no trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("bundles serialise")
    }

    /// The bundle as JSON text, for verifiers that parse it themselves. Always this value's own
    /// serialisation (never the text it was read from), so what they verify is what the caller
    /// holds.
    pub fn to_json_string(&self) -> String {
        String::from_utf8(self.to_json()).expect("JSON is UTF-8")
    }
}

/// Reads a signature file, refusing anything over `MAX_BUNDLE_BYTES` before parsing it.
pub fn read_bundle(path: &Path) -> Result<Bundle> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("open signature", path, e))?;
    let mut text = Vec::new();
    file.take(MAX_BUNDLE_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|e| Error::io("read signature", path, e))?;
    if text.len() as u64 > MAX_BUNDLE_BYTES {
        return Err(Error::invalid(
            path,
            format!(
                "larger than {} MiB; not a signature file",
                MAX_BUNDLE_BYTES >> 20
            ),
        ));
    }
    let bundle: Bundle = serde_json::from_slice(&text)
        .map_err(|e| Error::invalid(path, format!("not a valid Sigstore bundle: {e}")))?;
    // A bundle that names a field twice reads differently in different verifiers.
    crate::json_strict::reject_duplicate_keys(&text).map_err(|problem| {
        Error::invalid(path, format!("not a valid Sigstore bundle: {problem}"))
    })?;
    Ok(bundle)
}
