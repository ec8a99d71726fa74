//! Signatures over models: OpenSSF Model Signing (OMS) signature files.

mod oms;

pub use oms::{VerifiedSignature, sign_manifest, verify_bundle_with_key};
