//! Keys and the one signature scheme each key type uses:
//!
//! | key | scheme | signature bytes |
//! | --- | --- | --- |
//! | ECDSA P-256 / P-384 / P-521 | ECDSA with SHA-256 / SHA-384 / SHA-512 (the hash OMS picks by curve) | ASN.1 DER |
//! | Ed25519 | pure Ed25519 | 64 bytes |
//! | RSA | RSASSA-PSS, SHA-256, MGF1-SHA-256; signs with the maximum salt, verifies any | modulus length |
//!
//! Private keys load from PKCS#8 (plain or encrypted) and SEC1 PEM; public keys from SPKI PEM.

mod detached;
mod pem_blocks;
mod private;
mod public;

pub use detached::Feed;
pub(crate) use pem_blocks::pem_certificates;
pub use private::PrivateKey;
pub use public::PublicKey;

use std::fmt;

/// The key types modelprov generates and uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    EcdsaP256,
    EcdsaP384,
    EcdsaP521,
    Ed25519,
    /// RSA with the given modulus size in bits.
    Rsa(usize),
}

impl KeyType {
    /// Whether `model_signing` (1.1.1) can verify OMS signatures made with this key: it accepts
    /// the NIST EC curves only.
    pub fn oms_compatible(self) -> bool {
        matches!(self, Self::EcdsaP256 | Self::EcdsaP384 | Self::EcdsaP521)
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
