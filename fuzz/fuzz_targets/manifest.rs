//! A manifest file as `verify --manifest` and `diff` read it: parse, then everything computed from
//! the parsed value. A manifest that parses must write back to one that parses to the same value
//! and root digest, differ from itself in nothing, and sign as an OMS Statement that reads back
//! to the same root digest.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use modelprov::attest::{oms_statement, parse_oms_statement};
use modelprov::manifest::{diff_manifests, manifest_json, parse_manifest};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = Path::new("fuzz.manifest.json");
    let Ok(manifest) = parse_manifest(text, source) else {
        return;
    };
    let root = manifest.root_digest();
    let _ = manifest.total_size();
    let _ = manifest.file_count();
    let written = manifest_json(&manifest);
    let again = parse_manifest(&written, source).expect("a written manifest reads back");
    assert_eq!(again, manifest, "manifest round trip");
    assert_eq!(again.root_digest(), root);
    assert!(
        diff_manifests(&manifest, &again).is_empty(),
        "a manifest differs from itself"
    );
    let statement = parse_oms_statement(&oms_statement(&manifest))
        .expect("the OMS Statement of a manifest reads back");
    assert_eq!(statement.subject_digest, Some(root), "statement subject");
    assert_eq!(
        statement.manifest.root_digest(),
        root,
        "statement resources"
    );
});
