//! modelprov: where a machine-learning model came from and whether it is exactly the bytes it
//! claims to be. The content digest of a model's manifest is its identity; everything else
//! points at that digest. See docs/ for the file formats.
//!
//! Layers, lowest first: [`walk`] (which files make up a model), [`hashing`] (streaming
//! digests), [`manifest`] (resources, root digest, diff), [`cache`] (opt-in incremental
//! re-hashing), [`verify`] and [`trust`] (checking a model against what it should be).
//! [`model`] holds one call each for hashing, signing and verifying a model:
//!
//! ```
//! use modelprov::keys::{KeyType, PrivateKey};
//! use modelprov::manifest::BuildContext;
//! use modelprov::model::{HashConfig, ModelSigner, SignRequest, hash_model, sign_model};
//! use modelprov::model::{SignatureCheck, signed_expectation};
//! use modelprov::trust_policy::TrustPolicy;
//! use modelprov::verify::{VerifyOptions, verify_model_with};
//! # fn main() -> modelprov::Result<()> {
//! # let folder = tempfile::tempdir().unwrap();
//! # let model = folder.path().join("model");
//! # std::fs::create_dir(&model).unwrap();
//! # std::fs::write(model.join("weights.bin"), b"weights").unwrap();
//! let (serialization, _warnings) = HashConfig::default().resolve(&model, &[])?;
//! let hashed = hash_model(&model, &serialization, &BuildContext::default(), "hash")?;
//!
//! let signer = ModelSigner::new(PrivateKey::generate(KeyType::EcdsaP256)?);
//! let request = SignRequest::new(&model, &serialization, &signer);
//! let signed = sign_model(&request, &BuildContext::default())?;
//! assert_eq!(signed.digest(), hashed.manifest.root_digest());
//! let signature = folder.path().join("model.sig");
//! modelprov::fsutil::write_atomically(&signature, &signed.signature.to_json())?;
//!
//! let trusted = TrustPolicy::of_keys(vec![signer.key.public_key()]);
//! let expected = signed_expectation(&model, &signature, &trusted, &SignatureCheck::default())?;
//! let verdict = verify_model_with(
//!     &model, &expected.expectation, &BuildContext::default(), VerifyOptions::default())?;
//! assert!(verdict.ok);
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod attest;
pub mod cache;
#[cfg(feature = "card")]
pub mod card;
pub mod digest;
pub mod error;
pub mod evidence;
pub mod fsutil;
pub mod hashing;
pub mod json_strict;
pub mod keys;
#[cfg(feature = "lineage")]
pub mod lineage;
pub mod manifest;
pub mod model;
#[cfg(feature = "postgres")]
pub mod postgres_schema;
pub mod progress;
#[cfg(any(feature = "card", feature = "scan"))]
pub mod safetensors_header;
#[cfg(feature = "sbom")]
pub mod sbom;
#[cfg(feature = "scan")]
pub mod scan;
pub mod signing;
#[cfg(feature = "x509")]
pub mod sigstore;
pub mod trust;
pub mod trust_policy;
pub mod trust_sources;
pub mod verify;
pub mod walk;
pub mod warning;
#[cfg(feature = "x509")]
pub mod x509;

pub use digest::RootDigest;
pub use error::{Error, Result};
pub use warning::Warning;
