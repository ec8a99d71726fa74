//! Documents `sbom validate`, `sbom diff` and `sbom attest` read: CycloneDX and SPDX JSON (format
//! detection, offline validation, the described digest, diff, the attestation Statement), and OSV
//! records as `--osv DIR` loads them. The first byte picks which: even for an SBOM, odd for OSV.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use modelprov::sbom::{
    Ecosystem, OsvDatabase, Package, described_digest, detect_format, diff_sboms, sbom_statement,
    serial_number, validate_sbom,
};

fuzz_target!(|data: &[u8]| {
    let Some((&first, file)) = data.split_first() else {
        return;
    };
    if first % 2 == 0 {
        sbom(file);
    } else {
        osv(file);
    }
});

fn sbom(file: &[u8]) {
    let Ok(document) = serde_json::from_slice::<serde_json::Value>(file) else {
        return;
    };
    let _ = serial_number(&document);
    let digest = described_digest(&document);
    if let Ok(format) = detect_format(&document) {
        let _ = validate_sbom(&document, format);
        if let Some(digest) = digest {
            let _ = sbom_statement("fuzz", &digest, &document);
        }
    }
    if let Ok(diff) = diff_sboms(&document, &document) {
        assert!(diff.is_empty(), "an SBOM differs from itself: {diff:?}");
    }
}

fn osv(file: &[u8]) {
    let dir = common::scratch().join("osv");
    std::fs::create_dir_all(&dir).expect("scratch folder");
    common::write("osv/record.json", file);
    let Ok(database) = OsvDatabase::load(&dir) else {
        return;
    };
    let packages: Vec<Package> = [
        (Ecosystem::PyPI, "torch", "2.0.1"),
        (Ecosystem::PyPI, "transformers", "4.30.0"),
        (Ecosystem::Npm, "left-pad", "1.0.0"),
        (Ecosystem::CratesIo, "serde", "1.0.0"),
    ]
    .into_iter()
    .map(|(ecosystem, name, version)| Package {
        ecosystem,
        name: name.to_string(),
        version: Some(version.to_string()),
        source: "fuzz".to_string(),
    })
    .collect();
    let _ = database.matches(&packages);
}
