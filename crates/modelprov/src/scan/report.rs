//! A scan's report as JSON (what `scan --json` prints), and the in-toto Statement that binds a
//! report to the model digest it was made for, so a signed scan verdict can be published.

use serde_json::{Value, json};

use super::pickle::Risk;
use super::{FileScan, Verdict};
use crate::attest::STATEMENT_TYPE;
use crate::digest::RootDigest;

/// Our predicate type of a scan report. A name, not a URL anything is fetched from.
pub const SCAN_REPORT_PREDICATE_TYPE: &str = "https://modelprov.dev/scan-report/v1";

/// The report of `scans`: whether it passes (`ok`), the count of each verdict (and of findings a
/// team's policy allowed, never silent) and every file's scan.
pub fn report_json(scans: &[FileScan]) -> Value {
    let count = |verdict: Verdict| scans.iter().filter(|s| s.verdict == verdict).count();
    let allowed = scans
        .iter()
        .flat_map(|s| &s.findings)
        .filter(|f| f.finding.risk == Risk::Allowed)
        .count();
    json!({
        "ok": !scans.iter().any(|s| s.fails),
        "summary": {
            "files": scans.len(),
            "safe": count(Verdict::Safe),
            "unsafe": count(Verdict::Unsafe),
            "invalid": count(Verdict::Invalid),
            "unscannable": count(Verdict::Unscannable),
            "allowed_by_policy": allowed,
        },
        "files": scans,
    })
}

/// The Statement binding the report of `scans` to the model `model_name` with `model_digest`
/// (file paths as the scan reached them: scan the model folder to get them relative to it).
pub fn scan_statement(model_name: &str, model_digest: &RootDigest, scans: &[FileScan]) -> Vec<u8> {
    let statement = json!({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": model_name, "digest": {"sha256": model_digest.hex()}}],
        "predicateType": SCAN_REPORT_PREDICATE_TYPE,
        "predicate": report_json(scans),
    });
    serde_json::to_vec(&statement).expect("statements serialise")
}
