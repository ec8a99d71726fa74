//! A trusted-digests file as `verify --trusted FILE --id NAME` reads it: every entry, its digest
//! and serialization, and the lookup of an id (present or not).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use modelprov::trust::TrustFile;

fuzz_target!(|data: &[u8]| {
    let path = common::write("trusted.json", data);
    let Ok(trust) = TrustFile::read(&path) else {
        return;
    };
    let ids: Vec<String> =
        serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(data)
            .map(|map| map.keys().cloned().collect())
            .unwrap_or_default();
    for id in &ids {
        trust.get(id, &path).expect("every id in the file is found");
    }
    assert!(
        trust.get("\u{0}not-an-id", &path).is_err() || ids.iter().any(|id| id == "\u{0}not-an-id")
    );
});
