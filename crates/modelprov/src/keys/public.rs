//! Public keys: loading from SPKI PEM or an X.509 certificate, the canonical SPKI PEM text and
//! its OMS hint, and verifying.

use std::path::Path;

use pkcs8::der::Decode as _;
use pkcs8::der::pem::LineEnding;
use rsa::pss;
use rsa::traits::PublicKeyParts;
use sha2::{Digest as _, Sha256};
use signature::Verifier;
use spki::{DecodePublicKey as _, EncodePublicKey as _};

use super::pem_blocks::pem_blocks;
use super::{KeyType, RSA_MAX_BITS};
use crate::error::{Error, Problem, Result, ResultExt};
use crate::fsutil::{limits, read_capped_string};

/// A public key of any [`KeyType`], for verifying signatures: read from SPKI PEM or from an
/// X.509 certificate's subject key.
#[derive(Clone, Debug, PartialEq)]
pub struct PublicKey(pub(super) Inner);

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Inner {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(p521::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    Rsa(rsa::PublicKey),
}

impl From<p256::ecdsa::VerifyingKey> for PublicKey {
    fn from(key: p256::ecdsa::VerifyingKey) -> Self {
        PublicKey(Inner::P256(key))
    }
}
impl From<p384::ecdsa::VerifyingKey> for PublicKey {
    fn from(key: p384::ecdsa::VerifyingKey) -> Self {
        PublicKey(Inner::P384(key))
    }
}
impl From<p521::ecdsa::VerifyingKey> for PublicKey {
    fn from(key: p521::ecdsa::VerifyingKey) -> Self {
        PublicKey(Inner::P521(key))
    }
}
impl From<ed25519_dalek::VerifyingKey> for PublicKey {
    fn from(key: ed25519_dalek::VerifyingKey) -> Self {
        PublicKey(Inner::Ed25519(key))
    }
}
impl From<rsa::PublicKey> for PublicKey {
    fn from(key: rsa::PublicKey) -> Self {
        PublicKey(Inner::Rsa(key))
    }
}

impl PublicKey {
    /// Reads the first public key (`PUBLIC KEY`) or certificate (`CERTIFICATE`, its subject's
    /// key) in a PEM text.
    pub fn from_pem(text: &str, path: &Path) -> Result<Self> {
        let invalid = |problem: String| Error::invalid(path, problem);
        let blocks = pem_blocks(text).at(path)?;
        for block in &blocks {
            match block.label.as_str() {
                "PUBLIC KEY" => return Self::from_spki_der(&block.der).at(path),
                "CERTIFICATE" => return Self::from_certificate_der(&block.der).at(path),
                "PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" | "EC PRIVATE KEY" | "RSA PRIVATE KEY" => {
                    return Err(invalid(
                        "this is a private key; give the public key (openssl pkey -pubout) instead"
                            .into(),
                    ));
                }
                _ => {}
            }
        }
        let labels: Vec<&str> = blocks.iter().map(|b| b.label.as_str()).collect();
        Err(invalid(format!(
            "no public key or certificate in this file (found: {})",
            labels.join(", ")
        )))
    }

    /// The public key a DER certificate holds (its subject's key).
    #[cfg(feature = "x509")]
    pub fn from_certificate_der(der: &[u8]) -> std::result::Result<Self, Problem> {
        use x509_cert::der::{Decode as _, Encode as _};
        let certificate = x509_cert::Certificate::from_der(der)
            .map_err(|e| Problem::because("malformed certificate", e))?;
        let spki = certificate
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| Problem::because("malformed certificate key", e))?;
        Self::from_spki_der(&spki)
    }

    /// Without the `x509` feature a certificate's key is not read.
    #[cfg(not(feature = "x509"))]
    pub fn from_certificate_der(_: &[u8]) -> std::result::Result<Self, Problem> {
        Err(Problem::new(
            "reading a certificate needs modelprov built with its `x509` feature, which this build leaves out",
        ))
    }

    /// Reads a public key or certificate file (at most [`limits::KEY_BYTES`]).
    pub fn read(path: &Path) -> Result<Self> {
        let text = read_capped_string(path, limits::KEY_BYTES, "a public key")?;
        Self::from_pem(&text, path)
    }

    /// Parses a DER SubjectPublicKeyInfo. A supported algorithm with a bad key (an EC point not
    /// on its curve, an RSA modulus or exponent out of range) is named as such.
    pub fn from_spki_der(der: &[u8]) -> std::result::Result<Self, Problem> {
        let info = spki::SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| Problem::because("malformed public key", e))?;
        let not_on = |curve: &str| {
            format!("the {curve} public key is not a point on the curve (or is not encoded as one)")
        };
        match (info.algorithm.oid, info.algorithm.parameters_oid().ok()) {
            (oids::EC_PUBLIC_KEY, Some(oids::SECP256R1)) => {
                p256::ecdsa::VerifyingKey::from_public_key_der(der)
                    .map(Into::into)
                    .map_err(|e| Problem::worded(not_on("P-256"), e))
            }
            (oids::EC_PUBLIC_KEY, Some(oids::SECP384R1)) => {
                p384::ecdsa::VerifyingKey::from_public_key_der(der)
                    .map(Into::into)
                    .map_err(|e| Problem::worded(not_on("P-384"), e))
            }
            (oids::EC_PUBLIC_KEY, Some(oids::SECP521R1)) => {
                p521::ecdsa::VerifyingKey::from_public_key_der(der)
                    .map(Into::into)
                    .map_err(|e| Problem::worded(not_on("P-521"), e))
            }
            (oids::ED25519, _) => ed25519_dalek::VerifyingKey::from_public_key_der(der)
                .map(Into::into)
                .map_err(|e| Problem::worded(not_on("Ed25519"), e)),
            (oids::RSA_ENCRYPTION, _) => rsa_public_key(&info).map(Into::into),
            (oid, parameters) => Err(format!(
                "unsupported public key algorithm {oid}{} (supported: ECDSA P-256/P-384/P-521, Ed25519, RSA)",
                parameters
                    .map(|oid| format!(" with parameters {oid}"))
                    .unwrap_or_default()
            ).into()),
        }
    }

    /// The key's type (for RSA, with its modulus size in bits).
    pub fn key_type(&self) -> KeyType {
        match &self.0 {
            Inner::P256(_) => KeyType::EcdsaP256,
            Inner::P384(_) => KeyType::EcdsaP384,
            Inner::P521(_) => KeyType::EcdsaP521,
            Inner::Ed25519(_) => KeyType::Ed25519,
            Inner::Rsa(key) => KeyType::Rsa(key.n().bit_width() as usize),
        }
    }

    /// The DER SubjectPublicKeyInfo (EC points uncompressed, curves named).
    pub fn to_spki_der(&self) -> Vec<u8> {
        match &self.0 {
            Inner::P256(key) => key.to_public_key_der(),
            Inner::P384(key) => key.to_public_key_der(),
            Inner::P521(key) => key.to_public_key_der(),
            Inner::Ed25519(key) => key.to_public_key_der(),
            Inner::Rsa(key) => key.to_public_key_der(),
        }
        .expect("public keys always encode")
        .into_vec()
    }

    /// The SPKI PEM text exactly as `openssl pkey -pubout` writes it.
    pub fn to_pem(&self) -> String {
        pkcs8::der::pem::encode_string("PUBLIC KEY", LineEnding::LF, &self.to_spki_der())
            .expect("PEM encoding of a DER document cannot fail")
    }

    /// The OMS key hint: lowercase hex SHA-256 of the SPKI PEM text.
    pub fn hint(&self) -> String {
        hex::encode(Sha256::digest(self.to_pem().as_bytes()))
    }

    /// Checks `signature` over `message` with the key type's scheme; false for any malformed
    /// signature, and for any signature by a key with a [`KeyType::weakness`].
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.0 {
            Inner::P256(key) => p256::ecdsa::Signature::from_der(signature)
                .is_ok_and(|s| key.verify(message, &s).is_ok()),
            Inner::P384(key) => p384::ecdsa::Signature::from_der(signature)
                .is_ok_and(|s| key.verify(message, &s).is_ok()),
            Inner::P521(key) => p521::ecdsa::Signature::from_der(signature)
                .is_ok_and(|s| key.verify(message, &s).is_ok()),
            Inner::Ed25519(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|s| key.verify_strict(message, &s).is_ok()),
            // Never a signature by a key too small to be safe (`KeyType::weakness`).
            Inner::Rsa(_) if self.key_type().weakness().is_some() => false,
            Inner::Rsa(key) => rsa_signature(signature).is_some_and(|s| {
                pss::VerifyingKey::<Sha256>::new_with_auto_salt_len(key.clone())
                    .verify(message, &s)
                    .is_ok()
            }),
        }
    }
}

impl PublicKey {
    /// ECDSA over SHA-256 whatever the curve: what model_signing 0.2 signed with for every EC key
    /// (P-384 and P-521 included). Only for verifying its signatures; false for other key types.
    pub fn verify_ecdsa_sha256(&self, message: &[u8], signature: &[u8]) -> bool {
        use signature::hazmat::PrehashVerifier as _;
        let digest = Sha256::digest(message);
        match &self.0 {
            Inner::P256(key) => p256::ecdsa::Signature::from_der(signature)
                .is_ok_and(|s| key.verify_prehash(&digest, &s).is_ok()),
            Inner::P384(key) => p384::ecdsa::Signature::from_der(signature)
                .is_ok_and(|s| key.verify_prehash(&digest, &s).is_ok()),
            Inner::P521(key) => p521::ecdsa::Signature::from_der(signature)
                .is_ok_and(|s| key.verify_prehash(&digest, &s).is_ok()),
            Inner::Ed25519(_) | Inner::Rsa(_) => false,
        }
    }
}

/// Algorithm identifiers of the supported key types.
pub(super) mod oids {
    use spki::ObjectIdentifier;
    pub const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
    pub const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
    pub const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
    pub const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
    pub const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
    pub const RSA_ENCRYPTION: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
}

/// The bit length of a big-endian unsigned integer (no leading zero bytes, as DER writes it).
pub(super) fn bit_length(bytes: &[u8]) -> usize {
    match bytes.iter().position(|&b| b != 0) {
        None => 0,
        Some(first) => (bytes.len() - first) * 8 - bytes[first].leading_zeros() as usize,
    }
}

/// An RSA public key of any size up to [`RSA_MAX_BITS`]: keys below `RSA_MIN_BITS` load (the
/// `rsa` crate's default would refuse them as malformed) so that verification can say why their
/// signatures are refused.
fn rsa_public_key(
    info: &spki::SubjectPublicKeyInfoRef<'_>,
) -> std::result::Result<rsa::PublicKey, Problem> {
    use rsa::pkcs1::RsaPublicKeyRef;
    let bytes = info
        .subject_public_key
        .as_bytes()
        .ok_or("malformed RSA public key: the key is not a whole number of bytes")?;
    let key = RsaPublicKeyRef::from_der(bytes)
        .map_err(|e| Problem::because("malformed RSA public key", e))?;
    let n = key.modulus.as_bytes();
    let e = key.public_exponent.as_bytes();
    let bits = bit_length(n);
    if bits > RSA_MAX_BITS {
        return Err(format!(
            "the RSA key has a {bits}-bit modulus, out of range: at most {RSA_MAX_BITS} bits (OpenSSL's limit)"
        ).into());
    }
    let uint = |bytes: &[u8]| {
        let bits = u32::try_from(bytes.len().max(1) * 8)
            .map_err(|_| "malformed RSA public key".to_string())?;
        rsa::BoxedUint::from_be_slice(bytes, bits)
            .map_err(|_| "malformed RSA public key".to_string())
    };
    rsa::PublicKey::new_with_size_limits(uint(n)?, uint(e)?, 1..=RSA_MAX_BITS)
        .map_err(|error| Problem::worded(rsa_out_of_range(bits, &error), error))
}

/// Why RSA key components were refused, in words.
pub(super) fn rsa_out_of_range(bits: usize, error: &rsa::Error) -> String {
    let problem = match error {
        rsa::Error::PublicExponentTooSmall => "the public exponent is below 2".to_string(),
        rsa::Error::PublicExponentTooLarge => format!(
            "the public exponent is above 2^33-1 (at most {}, the bound that keeps verification cheap)",
            rsa::PublicKey::MAX_PUB_EXPONENT
        ),
        rsa::Error::InvalidModulus => {
            "the modulus is even or not larger than the public exponent".to_string()
        }
        rsa::Error::ModulusTooLarge => format!("at most {RSA_MAX_BITS} bits are supported"),
        other => other.to_string(),
    };
    format!("the RSA key (modulus of {bits} bits) is out of range: {problem}")
}

/// An RSA-PSS signature of up to `RSA_MAX_BITS` (the `rsa` crate's default stops at 8192).
pub(super) fn rsa_signature(bytes: &[u8]) -> Option<pss::Signature> {
    pss::Signature::from_bytes_with_max_len(bytes, RSA_MAX_BITS / 8).ok()
}
