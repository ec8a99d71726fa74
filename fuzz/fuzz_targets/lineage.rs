//! Lineage inputs: a record file as `lineage record --file` reads it (YAML or JSON), the lines of
//! a `lineage export` file as `lineage import` reads them (base64 Statement plus optional bundle),
//! and version ordering. A record that reads must survive its Statement unchanged.
#![no_main]

mod common;

use std::path::Path;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use modelprov::attest::Bundle;
use modelprov::keys::{KeyType, PrivateKey, PublicKey};
use modelprov::lineage::{
    Entry, LineageRecord, lineage_statement, parse_lineage_statement, sort_versions, split_id,
};
use modelprov::signing::{TrustedSigner, verify_envelope};

fuzz_target!(|data: &[u8]| {
    let path = common::write("record.yaml", data);
    if let Ok(record) = LineageRecord::read(&path) {
        let statement = lineage_statement(&record);
        let again = parse_lineage_statement(&statement).expect("a record's Statement reads back");
        assert_eq!(again, record, "record -> Statement -> record");
        let mut entries: Vec<Entry> = ["1.0.0", "v2.0.0-rc.1", record.version.as_str()]
            .into_iter()
            .map(|version| Entry {
                record: LineageRecord {
                    version: version.to_string(),
                    ..record.clone()
                },
                statement: statement.clone(),
                bundle: None,
                recorded_at: "2026-11-27T00:00:00Z".to_string(),
            })
            .collect();
        sort_versions(&mut entries);
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.lines() {
        let _ = split_id(line);
        export_line(line);
    }
});

/// One line of an export file, read as `lineage import` reads it.
fn export_line(line: &str) {
    static KEY: OnceLock<PublicKey> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        PrivateKey::generate(KeyType::EcdsaP256)
            .unwrap()
            .public_key()
    });
    let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
        return;
    };
    let Some(statement) = value["statement"]
        .as_str()
        .and_then(|s| STANDARD.decode(s).ok())
    else {
        return;
    };
    if let Ok(record) = parse_lineage_statement(&statement) {
        let _ = record.check();
        let _ = record.id();
    }
    if let Ok(bundle) = serde_json::from_value::<Bundle>(value["bundle"].clone()) {
        let _ = verify_envelope(&bundle, TrustedSigner::Key(key), Path::new("records.jsonl"));
    }
}
