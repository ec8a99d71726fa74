//! modelprov: where a machine-learning model came from and whether it is exactly the bytes it
//! claims to be. The content digest of a model's manifest is its identity; everything else
//! points at that digest. See docs/ for the file formats.
//!
//! Layers, lowest first: [`walk`] (which files make up a model), [`hashing`] (streaming
//! digests), [`manifest`] (resources, root digest, diff), [`cache`] (opt-in incremental
//! re-hashing), [`verify`] and [`trust`] (checking a model against what it should be).

pub mod attest;
pub mod cache;
pub mod card;
pub mod digest;
pub mod error;
pub mod fsutil;
pub mod hashing;
pub mod json_strict;
pub mod keys;
pub mod lineage;
pub mod manifest;
pub mod progress;
pub mod sbom;
pub mod scan;
pub mod signing;
pub mod sigstore;
pub mod trust;
pub mod trust_policy;
pub mod verify;
pub mod walk;
pub mod x509;

pub use digest::RootDigest;
pub use error::{Error, Result};
