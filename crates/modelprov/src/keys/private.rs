//! Private keys: loading, generating, writing as PKCS#8 PEM, and signing.

use std::path::Path;

use pkcs8::der::Decode as _;
use pkcs8::der::pem::LineEnding;
use pkcs8::{EncodePrivateKey, EncryptedPrivateKeyInfoRef, PrivateKeyInfoRef};
use rsa::pss;
use rsa::traits::PublicKeyParts;
use sha2::Sha256;
use signature::{RandomizedSigner, Signer};
use zeroize::Zeroizing;

use super::KeyType;
use super::pem_blocks::pem_blocks;
use super::public::PublicKey;
use crate::error::{Error, Result};

pub struct PrivateKey(pub(super) Inner);

pub(super) enum Inner {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
    Rsa(Box<rsa::PrivateKey>),
}

/// PBKDF2 iterations for keys we encrypt (OWASP's 2023 figure for PBKDF2-HMAC-SHA256).
const PBKDF2_ITERATIONS: u32 = 600_000;

/// The most key-derivation work a key file may ask for. The file sets its own cost, so without a
/// cap a crafted key hangs the signer (PBKDF2 allows 10^8 iterations) or aborts it (scrypt's
/// 128·N·r bytes overflow any allocation). 10^7 iterations is 16 times what we write; scrypt's
/// 1 GiB admits OpenSSL's `-scrypt` defaults (N=2^14, r=8, p=16: 256 MiB) four times over.
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
const MAX_SCRYPT_WORK_BYTES: u64 = 1 << 30;

fn kdf_within_limits(scheme: &pkcs8::pkcs5::EncryptionScheme) -> std::result::Result<(), String> {
    use pkcs8::pkcs5::{EncryptionScheme, pbes2::Kdf};
    let EncryptionScheme::Pbes2(parameters) = scheme else {
        return Ok(()); // PBES1 is refused by decrypt itself
    };
    match &parameters.kdf {
        Kdf::Pbkdf2(pbkdf2) if pbkdf2.iteration_count > MAX_PBKDF2_ITERATIONS => Err(format!(
            "the private key's encryption asks for {} PBKDF2 iterations (at most {MAX_PBKDF2_ITERATIONS} accepted)",
            pbkdf2.iteration_count
        )),
        Kdf::Scrypt(scrypt) => {
            let work = scrypt
                .cost_parameter
                .checked_mul(u64::from(scrypt.block_size))
                .and_then(|n| n.checked_mul(u64::from(scrypt.parallelization)))
                .and_then(|n| n.checked_mul(128));
            match work {
                Some(bytes) if bytes <= MAX_SCRYPT_WORK_BYTES => Ok(()),
                _ => Err(format!(
                    "the private key's encryption asks for scrypt N={} r={} p={}, more than the {} MiB of work accepted",
                    scrypt.cost_parameter,
                    scrypt.block_size,
                    scrypt.parallelization,
                    MAX_SCRYPT_WORK_BYTES >> 20
                )),
            }
        }
        _ => Ok(()),
    }
}

impl PrivateKey {
    /// Generates a new key from the operating system's random number generator.
    pub fn generate(key_type: KeyType) -> Result<Self> {
        use p256::elliptic_curve::Generate;
        let failed = |e: &dyn std::fmt::Display| {
            Error::Usage(format!("cannot generate a {key_type} key: {e}"))
        };
        let inner = match key_type {
            KeyType::EcdsaP256 => Inner::P256(Generate::try_generate().map_err(|e| failed(&e))?),
            KeyType::EcdsaP384 => Inner::P384(Generate::try_generate().map_err(|e| failed(&e))?),
            KeyType::EcdsaP521 => Inner::P521(Generate::try_generate().map_err(|e| failed(&e))?),
            KeyType::Ed25519 => {
                Inner::Ed25519(ed25519_dalek::SigningKey::generate(&mut system_rng()))
            }
            KeyType::Rsa(bits) => {
                if !(2048..=16384).contains(&bits) {
                    return Err(Error::Usage(format!(
                        "RSA keys must have 2048 to 16384 bits, not {bits}"
                    )));
                }
                Inner::Rsa(Box::new(
                    rsa::PrivateKey::new(&mut getrandom::SysRng, bits).map_err(|e| failed(&e))?,
                ))
            }
        };
        Ok(PrivateKey(inner))
    }

    /// Reads a private key from PEM: PKCS#8 (`PRIVATE KEY`), encrypted PKCS#8 (`ENCRYPTED
    /// PRIVATE KEY`, needs `passphrase`) or SEC1 (`EC PRIVATE KEY`). `path` names the source in
    /// errors; the key material itself never appears in one.
    pub fn from_pem(text: &str, passphrase: Option<&[u8]>, path: &Path) -> Result<Self> {
        let invalid = |problem: String| Error::invalid(path, problem);
        let blocks = pem_blocks(text).map_err(invalid)?;
        for block in &blocks {
            match block.label.as_str() {
                "PRIVATE KEY" => return from_pkcs8_der(&block.der).map_err(invalid),
                "ENCRYPTED PRIVATE KEY" => {
                    let Some(passphrase) = passphrase else {
                        return Err(invalid(
                            "the private key is encrypted; give its passphrase (--passphrase-file or --passphrase-env)".into(),
                        ));
                    };
                    let encrypted = EncryptedPrivateKeyInfoRef::from_der(&block.der)
                        .map_err(|e| invalid(format!("malformed encrypted private key: {e}")))?;
                    kdf_within_limits(&encrypted.encryption_algorithm).map_err(invalid)?;
                    let plain = encrypted
                        .decrypt(passphrase)
                        .map_err(|_| invalid("cannot decrypt the private key: wrong passphrase or unsupported encryption".into()))?;
                    return from_pkcs8_der(plain.as_bytes()).map_err(invalid);
                }
                "EC PRIVATE KEY" => return from_sec1_der(&block.der).map_err(invalid),
                "RSA PRIVATE KEY" => {
                    use rsa::pkcs1::DecodeRsaPrivateKey as _;
                    let key = rsa::PrivateKey::from_pkcs1_der(&block.der)
                        .map_err(|e| invalid(format!("malformed RSA private key: {e}")))?;
                    return Ok(PrivateKey(Inner::Rsa(Box::new(key))));
                }
                _ => {}
            }
        }
        let labels: Vec<&str> = blocks.iter().map(|b| b.label.as_str()).collect();
        Err(invalid(format!(
            "no private key in this file (found: {})",
            labels.join(", ")
        )))
    }

    /// Reads a private key file.
    pub fn read(path: &Path, passphrase: Option<&[u8]>) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::io("read private key", path, e))?;
        Self::from_pem(&text, passphrase, path)
    }

    pub fn key_type(&self) -> KeyType {
        self.public_key().key_type()
    }

    pub fn public_key(&self) -> PublicKey {
        match &self.0 {
            Inner::P256(key) => PublicKey::from(*key.verifying_key()),
            Inner::P384(key) => PublicKey::from(*key.verifying_key()),
            Inner::P521(key) => PublicKey::from(*key.verifying_key()),
            Inner::Ed25519(key) => PublicKey::from(key.verifying_key()),
            Inner::Rsa(key) => PublicKey::from(key.to_public_key()),
        }
    }

    /// PKCS#8 PEM, encrypted (PBKDF2-HMAC-SHA256, AES-256-CBC) when a passphrase is given.
    pub fn to_pkcs8_pem(&self, passphrase: Option<&[u8]>) -> Result<Zeroizing<String>> {
        let document = match &self.0 {
            Inner::P256(key) => key.to_pkcs8_der(),
            Inner::P384(key) => key.to_pkcs8_der(),
            Inner::P521(key) => key.to_pkcs8_der(),
            Inner::Ed25519(key) => key.to_pkcs8_der(),
            Inner::Rsa(key) => key.to_pkcs8_der(),
        }
        .map_err(|e| Error::Usage(format!("cannot encode the private key: {e}")))?;
        let (label, der) = match passphrase {
            None => ("PRIVATE KEY", document),
            Some(passphrase) => {
                let mut salt = [0u8; 16];
                let mut iv = [0u8; 16];
                getrandom::fill(&mut salt)
                    .and_then(|()| getrandom::fill(&mut iv))
                    .map_err(|e| Error::Usage(format!("no randomness for key encryption: {e}")))?;
                let parameters = pkcs8::pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
                    PBKDF2_ITERATIONS,
                    &salt,
                    iv,
                )
                .map_err(|e| Error::Usage(format!("cannot encrypt the private key: {e}")))?;
                let info = PrivateKeyInfoRef::from_der(document.as_bytes())
                    .map_err(|e| Error::Usage(format!("cannot encrypt the private key: {e}")))?;
                let encrypted = info
                    .encrypt_with_params(parameters, passphrase)
                    .map_err(|e| Error::Usage(format!("cannot encrypt the private key: {e}")))?;
                ("ENCRYPTED PRIVATE KEY", encrypted)
            }
        };
        let pem = der
            .to_pem(label, LineEnding::LF)
            .map_err(|e| Error::Usage(format!("cannot encode the private key: {e}")))?;
        Ok(pem)
    }

    /// Signs `message` with the key type's scheme (see the module table).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        Ok(match &self.0 {
            Inner::P256(key) => Signer::<p256::ecdsa::Signature>::sign(key, message)
                .to_der()
                .as_bytes()
                .to_vec(),
            Inner::P384(key) => Signer::<p384::ecdsa::Signature>::sign(key, message)
                .to_der()
                .as_bytes()
                .to_vec(),
            Inner::P521(key) => Signer::<p521::ecdsa::Signature>::sign(key, message)
                .to_der()
                .as_bytes()
                .to_vec(),
            Inner::Ed25519(key) => key.sign(message).to_bytes().to_vec(),
            Inner::Rsa(key) => {
                let signer = pss::SigningKey::<Sha256>::new_with_salt_len(
                    (**key).clone(),
                    max_pss_salt(key),
                );
                let signature = signer
                    .try_sign_with_rng(&mut getrandom::SysRng, message)
                    .map_err(|e| Error::Usage(format!("RSA signing failed: {e}")))?;
                Box::<[u8]>::from(signature).into_vec()
            }
        })
    }
}

/// The largest PSS salt the modulus allows (what OpenSSL's `rsa_pss_saltlen:max` gives).
pub(super) fn max_pss_salt(key: &rsa::PrivateKey) -> usize {
    let em_len = (key.n().bit_width() as usize - 1).div_ceil(8);
    em_len - 32 - 2
}

fn from_pkcs8_der(der: &[u8]) -> std::result::Result<PrivateKey, String> {
    use pkcs8::DecodePrivateKey as _;
    if let Ok(key) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
        return Ok(PrivateKey(Inner::P256(key)));
    }
    if let Ok(key) = p384::ecdsa::SigningKey::from_pkcs8_der(der) {
        return Ok(PrivateKey(Inner::P384(key)));
    }
    if let Ok(key) = p521::ecdsa::SigningKey::from_pkcs8_der(der) {
        return Ok(PrivateKey(Inner::P521(key)));
    }
    if let Ok(key) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
        return Ok(PrivateKey(Inner::Ed25519(key)));
    }
    if let Ok(key) = rsa::PrivateKey::from_pkcs8_der(der) {
        return Ok(PrivateKey(Inner::Rsa(Box::new(key))));
    }
    Err(unsupported_algorithm(der))
}

fn from_sec1_der(der: &[u8]) -> std::result::Result<PrivateKey, String> {
    if let Ok(key) = p256::SecretKey::from_sec1_der(der) {
        return Ok(PrivateKey(Inner::P256(key.into())));
    }
    if let Ok(key) = p384::SecretKey::from_sec1_der(der) {
        return Ok(PrivateKey(Inner::P384(key.into())));
    }
    if let Ok(key) = p521::SecretKey::from_sec1_der(der) {
        return Ok(PrivateKey(Inner::P521(key.into())));
    }
    Err(
        "unsupported or malformed EC private key (supported curves: P-256, P-384, P-521)"
            .to_string(),
    )
}

/// Names what a PKCS#8 key is when none of the supported types accepted it.
fn unsupported_algorithm(der: &[u8]) -> String {
    match PrivateKeyInfoRef::from_der(der) {
        Err(e) => format!("malformed PKCS#8 private key: {e}"),
        Ok(info) => {
            let curve = info
                .algorithm
                .parameters_oid()
                .map(|oid| format!(" with parameters {oid}"))
                .unwrap_or_default();
            format!(
                "unsupported key algorithm {}{curve} (supported: ECDSA P-256/P-384/P-521, Ed25519, RSA)",
                info.algorithm.oid
            )
        }
    }
}

fn system_rng() -> impl rand_core::CryptoRng {
    rand_core::UnwrapErr(getrandom::SysRng)
}
