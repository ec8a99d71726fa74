//! A trusted-digests file as `verify --trusted FILE --id NAME` reads it: every entry, its digest
//! and serialization, and the lookup of an id (present or not). The same bytes as a trust policy
//! (`--policy FILE`): any policy that reads writes back to one that reads the same.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use modelprov::trust::TrustFile;
use modelprov::trust_policy::TrustPolicy;

fuzz_target!(|data: &[u8]| {
    let policy_path = common::write("policy.toml", data);
    if let Ok(policy) = TrustPolicy::read(&policy_path) {
        let written = policy.to_toml();
        let again_path = common::write("policy-again.toml", written.as_bytes());
        let again = TrustPolicy::read(&again_path).expect("a written policy reads back");
        assert_eq!(again.to_toml(), written, "policy round trip");
        for signer in policy.signers() {
            let _ = signer.applies_to(Some("acme/model"));
            assert!(signer.applies_to(None) == signer.models.is_empty());
        }
    }
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
