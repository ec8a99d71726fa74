//! The Sigstore bundle (v0.3) that OMS writes as a model's signature file. Unknown fields are
//! refused, as the reference tool's models do (`extra="forbid"`); key order and whitespace do
//! not matter when reading. Written compact, with the field order the reference tool uses.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// The media type modelprov writes: Sigstore bundle v0.3, as model_signing does.
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

/// A Sigstore bundle: the signature (a DSSE envelope or a message signature) and the material to
/// verify it with.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Bundle {
    /// The bundle format's media type; verifiers accept those in [`BUNDLE_MEDIA_TYPES`].
    pub media_type: String,
    /// The signer's key hint or certificates, and any transparency-log entries and timestamps.
    pub verification_material: VerificationMaterial,
    /// The DSSE envelope holding the signed in-toto Statement; `None` in a bundle that holds a
    /// message signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsse_envelope: Option<Envelope>,
    /// A signature over a file's bytes (with its `messageDigest`), kept as JSON; `None` in OMS
    /// signatures, which carry a DSSE envelope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_signature: Option<Value>,
}

/// What a verifier checks the signature with: the signer's key hint or certificates, and any log
/// and timestamp evidence.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerificationMaterial {
    /// The signing key's hint, for a signature made with a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyIdentifier>,
    /// The signing certificate chain, leaf first, as `model_signing sign certificate` writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_chain: Option<CertificateChain>,
    /// The signing certificate alone, as v0.3 bundles carry it (a Fulcio certificate in keyless
    /// signatures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<RawBytes>,
    /// Transparency-log (Rekor) entries, as JSON; empty in the bundles modelprov writes.
    #[serde(default)]
    pub tlog_entries: Vec<Value>,
    /// RFC 3161 timestamps, as JSON, when the signature was timestamped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_verification_data: Option<Value>,
}

/// `hint` is the SHA-256 of the SPKI PEM; `rawBytes`/`keyDetails` appear in bundles from
/// model_signing before 1.1 and are ignored, as 1.1.1 ignores them.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublicKeyIdentifier {
    /// Hex SHA-256 of the signing key's SPKI PEM text; absent before model_signing 1.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Legacy copy of the public key (model_signing before 1.1): read and ignored, never written.
    #[serde(default, skip_serializing)]
    pub raw_bytes: Option<String>,
    /// Legacy key type (model_signing before 1.1): read and ignored, never written.
    #[serde(default, skip_serializing)]
    pub key_details: Option<String>,
}

/// The certificates a bundle's signer is verified by.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertificateChain {
    /// The leaf (signing) certificate first, then the rest of its chain.
    pub certificates: Vec<RawBytes>,
}

/// Base64 DER.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawBytes {
    /// Standard base64 of the certificate's DER bytes.
    pub raw_bytes: String,
}

/// A DSSE envelope: the payload and the signatures over its pre-authentication encoding
/// ([`pae`](crate::attest::pae)).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Envelope {
    /// Standard base64 of the payload bytes.
    pub payload: String,
    /// The payload's media type: [`IN_TOTO_PAYLOAD_TYPE`](crate::attest::IN_TOTO_PAYLOAD_TYPE) for
    /// in-toto Statements, the only kind modelprov signs or verifies.
    pub payload_type: String,
    /// The signatures over the payload's encoding; verifiers check the first.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature of a DSSE envelope.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeSignature {
    /// Standard base64 of the signature bytes.
    pub sig: String,
    /// An unauthenticated hint at the signing key; modelprov writes it empty and does not use it
    /// when verifying.
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
        .map_err(|e| Error::invalid_because(path, "not a valid Sigstore bundle", e))?;
    // A bundle that names a field twice reads differently in different verifiers.
    crate::json_strict::reject_duplicate_keys(&text).map_err(|problem| {
        Error::invalid(path, format!("not a valid Sigstore bundle: {problem}"))
    })?;
    Ok(bundle)
}
