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

use super::pem_blocks::pem_blocks;
use super::public::{PublicKey, bit_length, oids, rsa_out_of_range};
use super::{KeyType, RSA_MAX_BITS, RSA_MIN_BITS};
use crate::error::{Error, Problem, Result, ResultExt};
use crate::fsutil::{limits, read_capped_string};

/// A private key of any [`KeyType`], for signing: read from a PEM file with
/// [`PrivateKey::read`] or made with [`PrivateKey::generate`].
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
                if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
                    return Err(Error::Usage(format!(
                        "RSA keys must have {RSA_MIN_BITS} to {RSA_MAX_BITS} bits, not {bits}"
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
    /// PRIVATE KEY`, needs `passphrase`), SEC1 (`EC PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`).
    /// RSA keys outside [`RSA_MIN_BITS`]..=[`RSA_MAX_BITS`] are refused: a key modelprov loads
    /// is one it signs with. `path` names the source in errors; the key material itself never
    /// appears in one.
    pub fn from_pem(text: &str, passphrase: Option<&[u8]>, path: &Path) -> Result<Self> {
        let invalid = |problem: String| Error::invalid(path, problem);
        let blocks = pem_blocks(text).at(path)?;
        // A passphrase for a key that has none would be an option without effect: refused, so
        // that a user who believes the key is protected learns it is not.
        let refuse_passphrase = || -> Result<()> {
            match passphrase {
                Some(_) => Err(Error::Usage(format!(
                    "{} is not encrypted; the passphrase given has nothing to unlock",
                    path.display()
                ))),
                None => Ok(()),
            }
        };
        for block in &blocks {
            if matches!(
                block.label.as_str(),
                "PRIVATE KEY" | "EC PRIVATE KEY" | "RSA PRIVATE KEY"
            ) {
                refuse_passphrase()?;
            }
            match block.label.as_str() {
                "PRIVATE KEY" => return from_pkcs8_der(&block.der).at(path),
                "ENCRYPTED PRIVATE KEY" => {
                    let Some(passphrase) = passphrase else {
                        return Err(invalid(
                            "the private key is encrypted; give its passphrase (--passphrase-file or --passphrase-env)".into(),
                        ));
                    };
                    let encrypted =
                        EncryptedPrivateKeyInfoRef::from_der(&block.der).map_err(|e| {
                            Error::invalid_because(path, "malformed encrypted private key", e)
                        })?;
                    kdf_within_limits(&encrypted.encryption_algorithm).at(path)?;
                    let plain = encrypted
                        .decrypt(passphrase)
                        .map_err(|_| invalid("cannot decrypt the private key: wrong passphrase or unsupported encryption".into()))?;
                    return from_pkcs8_der(plain.as_bytes()).at(path);
                }
                "EC PRIVATE KEY" => return from_sec1_der(&block.der).at(path),
                "RSA PRIVATE KEY" => {
                    let key = rsa_private_key(&block.der).at(path)?;
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

    /// Reads a private key file (at most [`limits::KEY_BYTES`]).
    pub fn read(path: &Path, passphrase: Option<&[u8]>) -> Result<Self> {
        let text = Zeroizing::new(read_capped_string(
            path,
            limits::KEY_BYTES,
            "a private key",
        )?);
        Self::from_pem(&text, passphrase, path)
    }

    /// The key's type (for RSA, with its modulus size).
    pub fn key_type(&self) -> KeyType {
        self.public_key().key_type()
    }

    /// The public key that verifies this key's signatures.
    pub fn public_key(&self) -> PublicKey {
        match &self.0 {
            Inner::P256(key) => PublicKey::from(*key.verifying_key()),
            Inner::P384(key) => PublicKey::from(*key.verifying_key()),
            Inner::P521(key) => PublicKey::from(*key.verifying_key()),
            Inner::Ed25519(key) => PublicKey::from(key.verifying_key()),
            Inner::Rsa(key) => PublicKey::from(key.to_public_key()),
        }
    }

    /// PKCS#8 PEM, encrypted (PBKDF2-HMAC-SHA256, AES-256-CBC) when a passphrase is given. An
    /// empty passphrase is refused: the key would be marked encrypted yet open to anyone.
    pub fn to_pkcs8_pem(&self, passphrase: Option<&[u8]>) -> Result<Zeroizing<String>> {
        if passphrase.is_some_and(<[u8]>::is_empty) {
            return Err(Error::Usage(
                "an empty passphrase protects nothing; give a real one, or none for an unencrypted key"
                    .into(),
            ));
        }
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
                    max_pss_salt(key)?,
                );
                let signature = signer
                    .try_sign_with_rng(&mut getrandom::SysRng, message)
                    .map_err(|e| Error::Usage(format!("RSA signing failed: {e}")))?;
                Box::<[u8]>::from(signature).into_vec()
            }
        })
    }
}

/// The largest PSS salt the modulus allows (what OpenSSL's `rsa_pss_saltlen:max` gives). Keys
/// load only from `RSA_MIN_BITS`, so there is always room; the check keeps a tiny key an error.
pub(super) fn max_pss_salt(key: &rsa::PrivateKey) -> Result<usize> {
    let bits = key.n().bit_width() as usize;
    (bits.saturating_sub(1))
        .div_ceil(8)
        .checked_sub(32 + 2)
        .filter(|_| bits >= RSA_MIN_BITS)
        .ok_or_else(|| Error::Usage(format!("RSA-{bits} keys are too small to sign with")))
}

fn from_pkcs8_der(der: &[u8]) -> std::result::Result<PrivateKey, Problem> {
    use pkcs8::DecodePrivateKey as _;
    let info = PrivateKeyInfoRef::from_der(der)
        .map_err(|e| Problem::because("malformed PKCS#8 private key", e))?;
    let invalid_scalar = |curve: &str| {
        format!(
            "the {curve} private key is out of range (zero, or not below the curve order) or malformed"
        )
    };
    let inner = match (info.algorithm.oid, info.algorithm.parameters_oid().ok()) {
        (oids::EC_PUBLIC_KEY, Some(oids::SECP256R1)) => {
            p256::ecdsa::SigningKey::from_pkcs8_der(der)
                .map(Inner::P256)
                .map_err(|_| invalid_scalar("P-256"))?
        }
        (oids::EC_PUBLIC_KEY, Some(oids::SECP384R1)) => {
            p384::ecdsa::SigningKey::from_pkcs8_der(der)
                .map(Inner::P384)
                .map_err(|_| invalid_scalar("P-384"))?
        }
        (oids::EC_PUBLIC_KEY, Some(oids::SECP521R1)) => {
            p521::ecdsa::SigningKey::from_pkcs8_der(der)
                .map(Inner::P521)
                .map_err(|_| invalid_scalar("P-521"))?
        }
        // The curve may be named inside the SEC1 structure instead.
        (oids::EC_PUBLIC_KEY, None) => return from_sec1_der(info.private_key.as_bytes()),
        (oids::ED25519, _) => ed25519_dalek::SigningKey::from_pkcs8_der(der)
            .map(Inner::Ed25519)
            .map_err(|e| Problem::because("malformed Ed25519 private key", e))?,
        (oids::RSA_ENCRYPTION, _) => {
            Inner::Rsa(Box::new(rsa_private_key(info.private_key.as_bytes())?))
        }
        (oid, parameters) => {
            return Err(format!(
                "unsupported key algorithm {oid}{} (supported: ECDSA P-256/P-384/P-521, Ed25519, RSA)",
                parameters
                    .map(|oid| format!(" with parameters {oid}"))
                    .unwrap_or_default()
            ).into());
        }
    };
    Ok(PrivateKey(inner))
}

fn from_sec1_der(der: &[u8]) -> std::result::Result<PrivateKey, Problem> {
    let curve = sec1::EcPrivateKey::from_der(der)
        .map_err(|e| Problem::because("malformed EC private key", e))?
        .parameters
        .and_then(sec1::EcParameters::named_curve);
    let invalid_scalar = |curve: &str| {
        format!(
            "the {curve} private key is out of range (zero, or not below the curve order) or malformed"
        )
    };
    let any = curve.is_none();
    if any || curve == Some(oids::SECP256R1) {
        match p256::SecretKey::from_sec1_der(der) {
            Ok(key) => return Ok(PrivateKey(Inner::P256(key.into()))),
            Err(_) if !any => return Err(invalid_scalar("P-256").into()),
            Err(_) => {}
        }
    }
    if any || curve == Some(oids::SECP384R1) {
        match p384::SecretKey::from_sec1_der(der) {
            Ok(key) => return Ok(PrivateKey(Inner::P384(key.into()))),
            Err(_) if !any => return Err(invalid_scalar("P-384").into()),
            Err(_) => {}
        }
    }
    if any || curve == Some(oids::SECP521R1) {
        match p521::SecretKey::from_sec1_der(der) {
            Ok(key) => return Ok(PrivateKey(Inner::P521(key.into()))),
            Err(_) if !any => return Err(invalid_scalar("P-521").into()),
            Err(_) => {}
        }
    }
    Err(match curve {
        Some(oid) => {
            format!("unsupported EC curve {oid} (supported curves: P-256, P-384, P-521)").into()
        }
        None => "malformed EC private key, or not on P-256, P-384 or P-521".into(),
    })
}

/// A PKCS#1 RSA private key of `RSA_MIN_BITS` to `RSA_MAX_BITS`; out-of-range components are
/// named as such.
fn rsa_private_key(der: &[u8]) -> std::result::Result<rsa::PrivateKey, Problem> {
    let key = rsa::pkcs1::RsaPrivateKeyRef::from_der(der)
        .map_err(|e| Problem::because("malformed RSA private key", e))?;
    let n = key.modulus.as_bytes();
    let bits = bit_length(n);
    if let Some(weakness) = KeyType::Rsa(bits).weakness() {
        return Err(format!("{weakness}; modelprov does not sign with them").into());
    }
    if bits > RSA_MAX_BITS {
        return Err(format!(
            "the RSA key has a {bits}-bit modulus, out of range: at most {RSA_MAX_BITS} bits (OpenSSL's limit)"
        ).into());
    }
    // The public half first, for a message that says which bound was crossed.
    let uint = |bytes: &[u8]| {
        let bits = u32::try_from(bytes.len().max(1) * 8)
            .map_err(|_| "malformed RSA private key".to_string())?;
        rsa::BoxedUint::from_be_slice(bytes, bits)
            .map_err(|_| "malformed RSA private key".to_string())
    };
    let e = key.public_exponent.as_bytes();
    rsa::PublicKey::new_with_size_limits(uint(n)?, uint(e)?, 1..=RSA_MAX_BITS)
        .map_err(|error| rsa_out_of_range(bits, &error))?;
    rsa::PrivateKey::try_from(key).map_err(|e| {
        Problem::worded(
            format!(
            "the RSA private key (modulus of {bits} bits) is invalid: its primes and exponents do not fit together"
            ),
            e,
        )
    })
}

fn system_rng() -> impl rand_core::CryptoRng {
    rand_core::UnwrapErr(getrandom::SysRng)
}
