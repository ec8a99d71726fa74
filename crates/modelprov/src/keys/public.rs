//! Public keys: loading from SPKI PEM or an X.509 certificate, the canonical SPKI PEM text and
//! its OMS hint, and verifying.

use std::path::Path;

use pkcs8::der::pem::LineEnding;
use pkcs8::der::{Decode as _, Encode as _};
use rsa::pss;
use rsa::traits::PublicKeyParts;
use sha2::{Digest as _, Sha256};
use signature::Verifier;
use spki::{DecodePublicKey, EncodePublicKey};

use super::KeyType;
use super::pem_blocks::pem_blocks;
use crate::error::{Error, Result};

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
        let blocks = pem_blocks(text).map_err(invalid)?;
        for block in &blocks {
            match block.label.as_str() {
                "PUBLIC KEY" => return Self::from_spki_der(&block.der).map_err(invalid),
                "CERTIFICATE" => {
                    let certificate = x509_cert::Certificate::from_der(&block.der)
                        .map_err(|e| invalid(format!("malformed certificate: {e}")))?;
                    let spki = certificate
                        .tbs_certificate()
                        .subject_public_key_info()
                        .to_der()
                        .map_err(|e| invalid(format!("malformed certificate key: {e}")))?;
                    return Self::from_spki_der(&spki).map_err(invalid);
                }
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

    /// Reads a public key or certificate file.
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::io("read public key", path, e))?;
        Self::from_pem(&text, path)
    }

    /// Parses a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> std::result::Result<Self, String> {
        if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(key.into());
        }
        if let Ok(key) = p384::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(key.into());
        }
        if let Ok(key) = p521::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(key.into());
        }
        if let Ok(key) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
            return Ok(key.into());
        }
        if let Ok(key) = rsa::PublicKey::from_public_key_der(der) {
            return Ok(key.into());
        }
        match spki::SubjectPublicKeyInfoRef::from_der(der) {
            Err(e) => Err(format!("malformed public key: {e}")),
            Ok(info) => Err(format!(
                "unsupported public key algorithm {}{} (supported: ECDSA P-256/P-384/P-521, Ed25519, RSA)",
                info.algorithm.oid,
                info.algorithm
                    .parameters_oid()
                    .map(|oid| format!(" with parameters {oid}"))
                    .unwrap_or_default()
            )),
        }
    }

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
    /// signature.
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
            Inner::Rsa(key) => pss::Signature::try_from(signature).is_ok_and(|s| {
                pss::VerifyingKey::<Sha256>::new_with_auto_salt_len(key.clone())
                    .verify(message, &s)
                    .is_ok()
            }),
        }
    }
}
