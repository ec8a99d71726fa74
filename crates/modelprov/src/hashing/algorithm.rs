//! The hash algorithms a manifest may use, under the names OMS writes in its payloads.

use std::fmt;

/// A digest algorithm for resources; displays as its `hash_type` name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashAlgorithm {
    /// SHA-256 (`sha256`), 32-byte digests; what the default serializations use.
    Sha256,
    /// BLAKE2b-512, unkeyed, default parameters (Python's `hashlib.blake2b()`).
    Blake2b,
    /// BLAKE3 with 32-byte output.
    Blake3,
}

impl HashAlgorithm {
    /// Every supported algorithm, in the order the enum declares them.
    pub const ALL: [HashAlgorithm; 3] = [Self::Sha256, Self::Blake2b, Self::Blake3];

    /// The name in `serialization.hash_type` and in file-mode resource `algorithm` fields.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Blake2b => "blake2b",
            Self::Blake3 => "blake3",
        }
    }

    /// Parses a `hash_type`; `blake2` is the API name OMS also accepts there.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(Self::Sha256),
            "blake2b" | "blake2" => Some(Self::Blake2b),
            "blake3" => Some(Self::Blake3),
            _ => None,
        }
    }

    /// Length in bytes of a raw digest: 32, or 64 for BLAKE2b-512.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Sha256 | Self::Blake3 => 32,
            Self::Blake2b => 64,
        }
    }

    /// OMS defines no sharded form of BLAKE3 (the reference tool silently falls back to whole
    /// files); BLAKE3 is a tree hash and is parallelised within each file instead.
    pub fn supports_shards(self) -> bool {
        !matches!(self, Self::Blake3)
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
