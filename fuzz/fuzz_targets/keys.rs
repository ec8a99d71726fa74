//! Key files as `sign --key` and `verify --key` read them: PEM (PKCS#8, encrypted PKCS#8, SEC1,
//! PKCS#1, SubjectPublicKeyInfo, certificates) and bare SubjectPublicKeyInfo DER. A key that
//! loads must sign what its public half verifies, and write back to the same key.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use modelprov::keys::{PrivateKey, PublicKey};

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.pem");
    if let Ok(key) = PublicKey::from_spki_der(data) {
        public_round_trip(&key);
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = PublicKey::from_pem(text, path) {
        public_round_trip(&key);
        let _ = key.hint();
        let _ = key.verify(b"message", data);
    }
    for passphrase in [None, Some(&b"pass"[..])] {
        let Ok(key) = PrivateKey::from_pem(text, passphrase, path) else {
            continue;
        };
        let public = key.public_key();
        assert_eq!(public.key_type(), key.key_type());
        let signature = key.sign(b"message").expect("a loaded key signs");
        assert!(
            public.verify(b"message", &signature),
            "own signature verifies"
        );
        let written = key.to_pkcs8_pem(None).expect("a loaded key writes");
        let again = PrivateKey::from_pem(&written, None, path).expect("a written key reads back");
        assert_eq!(again.public_key().to_spki_der(), public.to_spki_der());
    }
});

fn public_round_trip(key: &PublicKey) {
    let der = key.to_spki_der();
    let again = PublicKey::from_spki_der(&der).expect("a written public key reads back");
    assert_eq!(again.to_spki_der(), der, "SubjectPublicKeyInfo round trip");
    let pem = PublicKey::from_pem(&key.to_pem(), Path::new("fuzz.pem")).expect("PEM reads back");
    assert_eq!(pem.to_spki_der(), der, "PEM round trip");
}
