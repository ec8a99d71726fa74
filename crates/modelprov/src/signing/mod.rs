//! Signatures over models: OpenSSF Model Signing (OMS) signature files.

mod oms;

pub use oms::{TrustedSigner, VerifiedSignature, sign_manifest, verify_bundle};
