//! Signatures over models: OpenSSF Model Signing (OMS) signature files.

mod oms;
mod raw;

pub use oms::{TrustedSigner, VerifiedSignature, sign_manifest, verify_bundle};
pub use raw::{sign_file, verify_file};
