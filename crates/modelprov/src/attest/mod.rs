//! Attestations: the DSSE envelope and its pre-authentication encoding, the Sigstore bundle
//! that carries it, and the in-toto Statement with the OMS predicate that it signs.

mod bundle;
mod dsse;
mod statement;

pub use bundle::{
    BUNDLE_MEDIA_TYPE, BUNDLE_MEDIA_TYPES, Bundle, CertificateChain, Envelope, EnvelopeSignature,
    MAX_BUNDLE_BYTES, PublicKeyIdentifier, RawBytes, VerificationMaterial, bundle_public_key,
    read_bundle,
};
pub use dsse::{IN_TOTO_PAYLOAD_TYPE, pae, pae_model_signing_v0_2};
pub use statement::{
    OMS_LEGACY_PREDICATE_TYPE, OMS_PREDICATE_TYPE, OmsStatement, STATEMENT_TYPE, Sha256Out,
    StatementOut, oms_statement, parse_oms_statement,
};
