//! Everything a signature file or key file passes through before any trust is given: bundle
//! JSON, the signer checks and DSSE verification, the in-toto Statement, and PEM key loading.
//! None may panic, whatever the bytes.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use modelprov::attest::{Bundle, parse_oms_statement};
use modelprov::keys::{KeyType, PrivateKey, PublicKey};
use modelprov::signing::{TrustedSigner, verify_bundle};

static KEY: OnceLock<PublicKey> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let key = KEY.get_or_init(|| {
        PrivateKey::generate(KeyType::EcdsaP256)
            .unwrap()
            .public_key()
    });
    if let Ok(bundle) = serde_json::from_slice::<Bundle>(data) {
        let _ = verify_bundle(&bundle, TrustedSigner::Key(key), Path::new("fuzz.sig"));
        let _ = verify_bundle(&bundle, TrustedSigner::Roots(&[]), Path::new("fuzz.sig"));
    }
    let _ = parse_oms_statement(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = PublicKey::from_pem(text, Path::new("fuzz.pem"));
        let _ = PrivateKey::from_pem(text, Some(b"pass"), Path::new("fuzz.pem"));
    }
});
