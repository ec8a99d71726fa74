//! Scan results as a SARIF 2.1.0 log, for code-scanning dashboards: one result per finding
//! (file URI, byte offset, a rule per finding kind, level from risk), plus one per file that is
//! invalid or unscannable, since those fail or weaken the scan without a finding. Findings of
//! allowlisted callables are `pass` results (level `none`): evaluated, nothing wrong.
//!
//! Offsets inside an archive member are offsets in the member's decompressed bytes, not the file:
//! such results carry the member and its offset as properties, and no file region.

use std::collections::BTreeMap;
use std::path::Path;

use percent_encoding::{AsciiSet, CONTROLS, percent_encode};
use serde::Serialize;

use super::pickle::Risk;
use super::{FileScan, Verdict};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// A SARIF 2.1.0 log of one scanner run, ready to serialise as JSON for code-scanning dashboards.
#[derive(Serialize)]
pub struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
struct Run {
    tool: Tool,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    short_description: Text,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    kind: &'static str,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<Properties>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    archive_member: String,
    member_byte_offset: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    byte_offset: usize,
}

/// The SARIF log of these scans.
pub fn log(scans: &[FileScan]) -> Log {
    let mut rules: BTreeMap<String, String> = BTreeMap::new();
    let mut results = Vec::new();
    for scan in scans {
        let uri = file_uri(&scan.path);
        for found in &scan.findings {
            let f = &found.finding;
            let rule = rule_id(f.opcode);
            rules
                .entry(rule.clone())
                .or_insert_with(|| rule_description(f.opcode));
            let (kind, level) = match f.risk {
                Risk::Dangerous => ("fail", "error"),
                Risk::Unknown => ("fail", "warning"),
                // A team's policy vouched for it: shown, not failed.
                Risk::Allowed => ("pass", "note"),
                Risk::Safe => ("pass", "none"),
            };
            let (message, region, properties) = match &found.member {
                Some(member) => (
                    format!("{member}: {}", f.message),
                    None,
                    Some(Properties {
                        archive_member: member.clone(),
                        member_byte_offset: f.offset,
                    }),
                ),
                // Only a pickle opcode has a place in the file; other findings (a Keras layer,
                // a symlink, ONNX external data) are about the file as a whole.
                None => (
                    f.message.clone(),
                    is_pickle_opcode(f.opcode).then_some(Region {
                        byte_offset: f.offset,
                    }),
                    None,
                ),
            };
            results.push(result(rule, kind, level, message, &uri, region, properties));
        }
        let verdict_rule = match scan.verdict {
            Verdict::Invalid => Some(("invalid-file", "error")),
            Verdict::Unscannable => Some(("unscannable-file", "warning")),
            Verdict::Safe | Verdict::Unsafe => None,
        };
        if let Some((rule, level)) = verdict_rule {
            rules
                .entry(rule.to_string())
                .or_insert_with(|| rule_description(rule));
            let message = if scan.notes.is_empty() {
                rule.to_string()
            } else {
                format!("{rule}: {}", scan.notes.join("; "))
            };
            results.push(result(
                rule.to_string(),
                "fail",
                level,
                message,
                &uri,
                None,
                None,
            ));
        }
    }
    // Rules are listed sorted; each result names its rule's position.
    let index: BTreeMap<&str, usize> = rules
        .keys()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    for result in &mut results {
        result.rule_index = index[result.rule_id.as_str()];
    }
    Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "modelprov",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: env!("CARGO_PKG_REPOSITORY"),
                    rules: rules
                        .into_iter()
                        .map(|(id, text)| Rule {
                            id,
                            short_description: Text { text },
                        })
                        .collect(),
                },
            },
            results,
        }],
    }
}

fn result(
    rule_id: String,
    kind: &'static str,
    level: &'static str,
    message: String,
    uri: &str,
    region: Option<Region>,
    properties: Option<Properties>,
) -> SarifResult {
    SarifResult {
        rule_id,
        rule_index: 0,
        kind,
        level,
        message: Text { text: message },
        locations: vec![Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: uri.to_string(),
                },
                region,
            },
        }],
        properties,
    }
}

/// A finding's kind as a rule id: `STACK_GLOBAL` becomes `stack-global`.
fn rule_id(kind: &str) -> String {
    kind.to_ascii_lowercase().replace('_', "-")
}

/// Pickle opcodes are named as in CPython's pickletools (`STACK_GLOBAL`); other finding kinds
/// are kebab-case.
fn is_pickle_opcode(kind: &str) -> bool {
    kind.chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn rule_description(kind: &str) -> String {
    match kind {
        "invalid-file" => {
            "The file claims a format it does not follow; loaders may do anything with it".into()
        }
        "unscannable-file" => "The file is not a format modelprov can judge".into(),
        "keras-layer" => "A Keras layer that runs Python code or imports custom objects".into(),
        "chat-template" => "A GGUF chat template that reaches Python internals".into(),
        "symlink" => "A symlink that leads out of the model, dangles or loops".into(),
        opcode
            if opcode
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') =>
        {
            format!("A pickle {opcode} opcode imports or calls a callable on load")
        }
        other => format!("Finding of kind {other}"),
    }
}

/// Bytes kept as they are in a URI path; the rest is percent-encoded (`:` too, so a relative
/// path never reads as a scheme).
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b':')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// An absolute path as a `file://` URI, a relative one as a relative reference (resolved against
/// where the scan ran, as dashboards resolve them against the checkout).
fn file_uri(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt as _;
    let encoded = percent_encode(path.as_os_str().as_bytes(), PATH).to_string();
    if path.is_absolute() {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_encode_what_a_uri_path_cannot_hold() {
        assert_eq!(file_uri(Path::new("m/a b#1.pt")), "m/a%20b%231.pt");
        assert_eq!(file_uri(Path::new("c:x.bin")), "c%3Ax.bin");
        assert_eq!(file_uri(Path::new("/m/é.pt")), "file:///m/%C3%A9.pt");
    }

    use crate::scan::pickle::Finding;
    use crate::scan::{Format, MemberFinding};

    fn finding(
        member: Option<&str>,
        risk: Risk,
        opcode: &'static str,
        offset: usize,
    ) -> MemberFinding {
        MemberFinding {
            member: member.map(str::to_string),
            finding: Finding {
                risk,
                offset,
                opcode,
                callable: Some("os.system".into()),
                message: "calls os.system".into(),
            },
        }
    }

    fn scans() -> Vec<FileScan> {
        let scan = |path: &str, verdict, findings, notes: &[&str]| FileScan {
            path: path.into(),
            format: Format::Pickle,
            verdict,
            findings,
            notes: notes.iter().map(std::string::ToString::to_string).collect(),
            fails: verdict != Verdict::Safe,
        };
        vec![
            scan(
                "m/evil.pkl",
                Verdict::Unsafe,
                vec![
                    finding(None, Risk::Dangerous, "STACK_GLOBAL", 17),
                    finding(None, Risk::Safe, "GLOBAL", 2),
                ],
                &[],
            ),
            scan(
                "/abs/model dir/pytorch_model.bin",
                Verdict::Unsafe,
                vec![finding(
                    Some("archive/data.pkl"),
                    Risk::Unknown,
                    "REDUCE",
                    40,
                )],
                &[],
            ),
            scan(
                "m/bad.safetensors",
                Verdict::Invalid,
                vec![],
                &["broken header"],
            ),
            scan(
                "m/link.bin",
                Verdict::Unsafe,
                vec![finding(None, Risk::Unknown, "symlink", 0)],
                &[],
            ),
            scan("m/blob", Verdict::Unscannable, vec![], &[]),
            scan("m/ok.safetensors", Verdict::Safe, vec![], &[]),
        ]
    }

    #[test]
    fn the_log_follows_the_sarif_2_1_0_schema() {
        let schema_path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/sarif/sarif-2.1.0-rtm.5.json");
        // rtm.5 has a stray `]` in run.language's pattern, which the meta-schema's `regex`
        // format rejects; the OASIS text means this pattern.
        let text = std::fs::read_to_string(schema_path).unwrap().replace(
            r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
            r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#,
        );
        let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(true)
            .build(&schema)
            .unwrap();
        let log = serde_json::to_value(log(&scans())).unwrap();
        let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}\n{log:#}");
        // An empty scan is a valid log too.
        assert!(validator.is_valid(&serde_json::to_value(super::log(&[])).unwrap()));
        // The schema is strict enough to catch a wrong document.
        let mut broken = log.clone();
        broken["runs"][0]["results"][0]["level"] = "fatal".into();
        assert!(!validator.is_valid(&broken));
    }

    #[test]
    fn each_finding_is_one_result_with_its_file_offset_rule_and_level() {
        let log = serde_json::to_value(log(&scans())).unwrap();
        let run = &log["runs"][0];
        let results = run["results"].as_array().unwrap();
        // 4 findings, one invalid file, one unscannable file; nothing for the safe file.
        assert_eq!(results.len(), 6, "{results:#?}");
        let first = &results[0];
        assert_eq!(first["ruleId"], "stack-global");
        assert_eq!(first["level"], "error");
        assert_eq!(first["kind"], "fail");
        let location = &first["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "m/evil.pkl");
        assert_eq!(location["region"]["byteOffset"], 17);
        assert_eq!(results[1]["kind"], "pass");
        assert_eq!(results[1]["level"], "none");
        // A member's offset is not the file's: carried as properties, no region.
        let member = &results[2];
        assert_eq!(member["level"], "warning");
        assert_eq!(
            member["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "file:///abs/model%20dir/pytorch_model.bin"
        );
        assert!(member["locations"][0]["physicalLocation"]["region"].is_null());
        assert_eq!(member["properties"]["archiveMember"], "archive/data.pkl");
        assert_eq!(member["properties"]["memberByteOffset"], 40);
        assert_eq!(results[3]["ruleId"], "invalid-file");
        assert_eq!(results[3]["level"], "error");
        assert!(
            results[3]["message"]["text"]
                .as_str()
                .unwrap()
                .contains("broken header")
        );
        // A finding about the whole file has no region.
        assert_eq!(results[4]["ruleId"], "symlink");
        assert!(results[4]["locations"][0]["physicalLocation"]["region"].is_null());
        assert_eq!(results[5]["ruleId"], "unscannable-file");
        // Every result points at its rule.
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        for result in results {
            let index = usize::try_from(result["ruleIndex"].as_u64().unwrap()).unwrap();
            assert_eq!(rules[index]["id"], result["ruleId"]);
        }
        assert_eq!(run["tool"]["driver"]["name"], "modelprov");
    }

    #[test]
    fn rule_ids_name_the_finding_kind() {
        assert_eq!(rule_id("STACK_GLOBAL"), "stack-global");
        assert_eq!(rule_id("keras-layer"), "keras-layer");
    }
}
