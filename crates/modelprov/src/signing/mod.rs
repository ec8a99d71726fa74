//! Signatures over models: OpenSSF Model Signing (OMS) signature files.

mod artifact;
mod oms;
mod output;
mod raw;

pub use artifact::{SignatureKind, signature_kind, verify_artifact_bundle};
pub use oms::{
    TrustedSigner, VerifiedEnvelope, VerifiedSignature, sign_manifest, sign_statement,
    verify_bundle, verify_envelope,
};
pub use output::check_signature_output;
pub use raw::{sign_file, verify_file};
