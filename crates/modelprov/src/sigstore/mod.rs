//! Sigstore: keyless signatures (a short-lived Fulcio certificate bound to an OIDC identity,
//! logged in Rekor) and managed-key bundles with log entries, verified offline against an
//! embedded or given trusted root.

mod identity;
mod trust_root;
mod verify;

pub use identity::{IdentityMatch, KeylessIdentity};
pub use trust_root::{Instance, TrustRoot};
pub(crate) use verify::first_subject_sha256;
pub use verify::{BundleSigner, parse_sigstore_bundle, verify_sigstore_bundle};
