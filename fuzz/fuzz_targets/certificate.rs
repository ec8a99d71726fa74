//! Certificate files and chains as `verify --certificate-chain` and certificate bundles use them:
//! PEM certificate files, and chain validation with arbitrary leaf, intermediate and root DER.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use modelprov::x509::{read_certificates, verify_leaf};

fuzz_target!(|data: &[u8]| {
    let roots = common::root_der();
    // The bytes as one DER certificate in every position of a chain.
    let _ = verify_leaf(data, &[], roots);
    let _ = verify_leaf(data, roots, roots);
    let _ = verify_leaf(&roots[0], &[], &[data.to_vec()]);
    let _ = verify_leaf(&roots[0], &[data.to_vec()], roots);
    // The bytes as a PEM file of certificates: leaf first, the rest as intermediates.
    let path = common::write("chain.pem", data);
    if let Ok(certificates) = read_certificates(&path)
        && let Some((leaf, rest)) = certificates.split_first()
    {
        let _ = verify_leaf(leaf, rest, roots);
        let _ = verify_leaf(leaf, rest, &certificates);
    }
});
