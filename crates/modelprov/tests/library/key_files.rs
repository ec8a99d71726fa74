//! Encrypted key files set their own key-derivation cost; one that asks for more than a signer can
//! afford is refused before any derivation (found by the `keys` fuzz target, docs/fuzzing.md).

use std::path::Path;
use std::time::{Duration, Instant};

use modelprov::keys::PrivateKey;

/// PBES2 with scrypt N=2^40, r=8, p=1: 128 TiB of scrypt memory (the allocation aborted).
const SCRYPT_N_2_40: &str = "\
-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHoMFMGCSqGSIb3DQEFDTBGMCUGCSsGAQQB2kcECzAYBAi0tLS0tLS0tAIGAQAA
AAAAAgEIAgEBMB0GCWCGSAFlAwQBKgQQBwcHBwcHBwcHBwcHBwcHBwSBkCUlJSUl
JSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUl
JSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUl
JSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJQ==
-----END ENCRYPTED PRIVATE KEY-----
";

/// PBES2 with scrypt N=2^20, r=1024, p=1: 128 GiB.
const SCRYPT_128_GIB: &str = "\
-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHmMFEGCSqGSIb3DQEFDTBEMCMGCSsGAQQB2kcECzAWBAi0tLS0tLS0tAIDEAAA
AgIEAAIBATAdBglghkgBZQMEASoEEAcHBwcHBwcHBwcHBwcHBwcEgZAlJSUlJSUl
JSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUl
JSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUl
JSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSU=
-----END ENCRYPTED PRIVATE KEY-----
";

/// PBES2 with PBKDF2-HMAC-SHA256 at 10^8 iterations (the most pkcs5 allows): minutes of work.
const PBKDF2_10_8: &str = "\
-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHuMFkGCSqGSIb3DQEFDTBMMCsGCSqGSIb3DQEFDDAeBAi0tLS0tLS0tAIEBfXh
ADAMBggqhkiG9w0CCQUAMB0GCWCGSAFlAwQBKgQQBwcHBwcHBwcHBwcHBwcHBwSB
kCUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUl
JSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUl
JSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUl
JQ==
-----END ENCRYPTED PRIVATE KEY-----
";

#[test]
fn key_files_that_ask_for_unbounded_key_derivation_are_refused_at_once() {
    for (pem, expected) in [
        (SCRYPT_N_2_40, "scrypt N=1099511627776 r=8 p=1"),
        (SCRYPT_128_GIB, "scrypt N=1048576 r=1024 p=1"),
        (PBKDF2_10_8, "100000000 PBKDF2 iterations"),
    ] {
        let start = Instant::now();
        let error = PrivateKey::from_pem(pem, Some(b"secret"), Path::new("crafted.pem"))
            .err()
            .expect("refused")
            .to_string();
        assert!(
            error.contains("crafted.pem") && error.contains(expected),
            "{error}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{expected}: no derivation ran"
        );
    }
}
