//! Everything a signature file passes through before any trust is given: bundle JSON, the signer
//! checks (key hint, certificate chain) and DSSE verification, and the in-toto Statement (OMS and
//! lineage), and the Sigstore verifier for keyless and file bundles. None may panic, whatever
//! the bytes.
#![no_main]

mod common;

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use modelprov::attest::{Bundle, parse_oms_statement};
use modelprov::evidence::Signed;
use modelprov::keys::{KeyType, PublicKey};
use modelprov::lineage::parse_lineage_statement;
use modelprov::signing::{
    TrustedSigner, signature_kind, verify_artifact_bundle, verify_bundle, verify_envelope,
};
use modelprov::sigstore::{IdentityMatch, KeylessIdentity, TrustRoot};

fuzz_target!(|data: &[u8]| {
    static KEY: OnceLock<PublicKey> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        modelprov::keys::PrivateKey::generate(KeyType::EcdsaP256)
            .unwrap()
            .public_key()
    });
    let path = Path::new("fuzz.sig");
    static KEYLESS: OnceLock<KeylessIdentity> = OnceLock::new();
    let keyless = KEYLESS.get_or_init(|| KeylessIdentity {
        identity: IdentityMatch::regex(".*").unwrap(),
        issuer: "https://token.actions.githubusercontent.com".into(),
        root: TrustRoot::production(),
    });
    let _ = signature_kind(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let digest = Signed::Sha256([7; 32]);
        let _ = verify_artifact_bundle(text, path, digest, TrustedSigner::Keyless(keyless));
        let _ = verify_artifact_bundle(text, path, digest, TrustedSigner::Key(key));
    }
    if let Ok(bundle) = serde_json::from_slice::<Bundle>(data) {
        let _ = verify_bundle(&bundle, TrustedSigner::Key(key), path);
        let _ = verify_bundle(&bundle, TrustedSigner::Roots(common::root_der()), path);
        let _ = verify_envelope(&bundle, TrustedSigner::Roots(&[]), path);
        let _ = verify_envelope(&bundle, TrustedSigner::Keyless(keyless), path);
        let written = bundle.to_json();
        let again: Bundle = serde_json::from_slice(&written).expect("a written bundle reads back");
        assert_eq!(again.to_json(), written, "bundle round trip");
    }
    let _ = parse_oms_statement(data);
    let _ = parse_lineage_statement(data);
});
