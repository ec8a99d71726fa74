//! Keys and the one signature scheme each key type uses:
//!
//! | key | scheme | signature bytes |
//! | --- | --- | --- |
//! | ECDSA P-256 / P-384 / P-521 | ECDSA with SHA-256 / SHA-384 / SHA-512 (the hash OMS picks by curve) | ASN.1 DER |
//! | Ed25519 | pure Ed25519 | 64 bytes |
//! | RSA | RSASSA-PSS, SHA-256, MGF1-SHA-256; signs with the maximum salt, verifies any | modulus length |
//!
//! Private keys load from PKCS#8 (plain or encrypted) and SEC1 PEM; public keys from SPKI PEM.
//!
//! RSA keys sign only from [`RSA_MIN_BITS`] to [`RSA_MAX_BITS`]; a signature by a smaller RSA key
//! never verifies, whatever its bytes (see [`KeyType::weakness`]).

mod detached;
mod pair_files;
mod passphrase;
mod pem_blocks;
mod private;
mod public;

pub use detached::Feed;
pub use pair_files::{KeyPairFiles, default_public_key_path, write_key_pair};
pub use passphrase::{passphrase_from_env, read_passphrase_file};
#[cfg(feature = "x509")]
pub(crate) use pem_blocks::pem_certificates;
pub use private::PrivateKey;
pub use public::PublicKey;

/// The smallest RSA modulus modelprov signs with or accepts signatures from: NIST SP 800-131A
/// disallows smaller ones for signatures since 2014.
pub const RSA_MIN_BITS: usize = 2048;

/// The largest RSA modulus modelprov handles: OpenSSL's limit (`OPENSSL_RSA_MAX_MODULUS_BITS`),
/// so every key openssl makes signs and verifies here.
pub const RSA_MAX_BITS: usize = 16384;

use std::fmt;

/// The key types modelprov generates and uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    /// ECDSA on the NIST P-256 curve (`p256`).
    EcdsaP256,
    /// ECDSA on the NIST P-384 curve (`p384`).
    EcdsaP384,
    /// ECDSA on the NIST P-521 curve (`p521`).
    EcdsaP521,
    /// Ed25519 (`ed25519`): pure Ed25519, 64-byte signatures.
    Ed25519,
    /// RSA with the given modulus size in bits.
    Rsa(usize),
}

impl KeyType {
    /// The key types by the names `modelprov keygen --type` takes.
    pub const NAMES: [(&'static str, KeyType); 6] = [
        ("p256", KeyType::EcdsaP256),
        ("p384", KeyType::EcdsaP384),
        ("p521", KeyType::EcdsaP521),
        ("ed25519", KeyType::Ed25519),
        ("rsa3072", KeyType::Rsa(3072)),
        ("rsa4096", KeyType::Rsa(4096)),
    ];

    /// The key type named `name` (one of [`KeyType::NAMES`]).
    pub fn from_name(name: &str) -> Option<KeyType> {
        Self::NAMES
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, key_type)| *key_type)
    }

    /// Whether `model_signing` (1.1.1) can verify OMS signatures made with this key: it accepts
    /// the NIST EC curves only.
    pub fn oms_compatible(self) -> bool {
        matches!(self, Self::EcdsaP256 | Self::EcdsaP384 | Self::EcdsaP521)
    }

    /// Why signatures by a key of this type cannot be trusted, if they cannot: RSA keys below
    /// [`RSA_MIN_BITS`] can be factored with enough computing power, so a signature by one proves
    /// nothing. Verification reports this reason instead of checking the signature.
    pub fn weakness(self) -> Option<String> {
        match self {
            Self::Rsa(bits) if bits < RSA_MIN_BITS => Some(format!(
                "{self} keys are too small to be safe (RSA keys need at least {RSA_MIN_BITS} bits)"
            )),
            _ => None,
        }
    }

    /// The scheme of raw detached signatures made with this key type.
    pub fn detached_scheme(self) -> &'static str {
        match self {
            Self::EcdsaP256 | Self::EcdsaP384 | Self::EcdsaP521 => "ECDSA with SHA-256, DER",
            Self::Ed25519 => "Ed25519",
            Self::Rsa(_) => "RSA-PSS with SHA-256, MGF1-SHA-256, maximum salt",
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EcdsaP256 => f.write_str("ECDSA P-256"),
            Self::EcdsaP384 => f.write_str("ECDSA P-384"),
            Self::EcdsaP521 => f.write_str("ECDSA P-521"),
            Self::Ed25519 => f.write_str("Ed25519"),
            Self::Rsa(bits) => write!(f, "RSA-{bits}"),
        }
    }
}
