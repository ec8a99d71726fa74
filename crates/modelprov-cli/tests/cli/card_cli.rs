//! `modelprov card`: messy real-world cards read, validated with field paths and lines, written
//! back unchanged; cards drafted from a model folder, rendered, and bound to the model digest.

use std::fs;
use std::path::Path;

use crate::common::*;
use serde_json::{Value, json};

const MESSY_READMES: &[&str] = &[
    "bom-and-blank-line.md",
    "no-front-matter.md",
    "scalars-and-lists.md",
    "misspelled-keys.md",
    "invalid-values.md",
    "crlf.md",
    "duplicate-keys.md",
];

fn validate_json(card: &Path, code: i32) -> Value {
    json(&run(&["card", "validate", path_str(card), "--json"], code))
}

/// (severity, path, line) of every finding.
fn findings(report: &Value) -> Vec<(String, String, Option<u64>)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64(),
            )
        })
        .collect()
}

fn has(report: &Value, severity: &str, path: &str, line: u64, text: &str) -> bool {
    report["findings"].as_array().unwrap().iter().any(|f| {
        f["severity"] == severity
            && f["path"] == path
            && f["line"] == line
            && f["message"].as_str().unwrap().contains(text)
    })
}

#[test]
fn every_messy_card_renders_back_byte_for_byte() {
    for name in MESSY_READMES {
        let card = card_fixture(name);
        let rendered = run(&["card", "render", path_str(&card)], 0);
        assert_eq!(rendered.as_bytes(), fs::read(&card).unwrap(), "{name}");
    }
}

#[test]
fn bom_and_blank_line_before_the_front_matter_are_tolerated() {
    let card = card_fixture("bom-and-blank-line.md");
    let report = validate_json(&card, 0);
    assert_eq!(findings(&report), vec![], "{report:#}");
    let shown = json(&run(&["card", "show", path_str(&card), "--json"], 0));
    assert_eq!(shown["metadata"]["license"], "mit");
    assert_eq!(shown["metadata"]["language"], "en");
    assert_eq!(shown["metadata"]["pipeline_tag"], "text-classification");
}

#[test]
fn a_card_without_front_matter_is_a_card_without_metadata() {
    let report = validate_json(&card_fixture("no-front-matter.md"), 0);
    assert!(
        has_any(&report, "warning", "", "no YAML front matter"),
        "{report:#}"
    );
    assert_eq!(report["completeness"]["present"], 0);
}

fn has_any(report: &Value, severity: &str, path: &str, text: &str) -> bool {
    report["findings"].as_array().unwrap().iter().any(|f| {
        f["severity"] == severity
            && f["path"] == path
            && f["message"].as_str().unwrap().contains(text)
    })
}

#[test]
fn scalars_and_lists_are_read_either_way() {
    let card = card_fixture("scalars-and-lists.md");
    let report = validate_json(&card, 0);
    assert_eq!(report["errors"], 0, "{report:#}");
    assert!(has(&report, "warning", "license", 3, "one-item list"));
    assert!(has(&report, "warning", "pipeline_tag", 10, "one-item list"));
    let text = run(&["card", "show", path_str(&card)], 0);
    assert!(text.contains("licence       mit"), "{text}");
    assert!(text.contains("language      en"), "{text}");
    assert!(
        text.contains("distilbert/distilbert-base-uncased (finetune)"),
        "{text}"
    );
}

#[test]
fn misspelled_keys_get_suggestions_and_are_kept() {
    let card = card_fixture("misspelled-keys.md");
    let report = validate_json(&card, 1);
    for (path, line, suggestion) in [
        ("licence", 2, "did you mean 'license'?"),
        ("langauge", 3, "did you mean 'language'?"),
        ("pipline_tag", 4, "did you mean 'pipeline_tag'?"),
        ("library_name", 6, "did you mean 'transformers'?"),
        ("model_index", 7, "did you mean 'model-index'?"),
        ("provenance.creater", 10, "did you mean 'created'?"),
        (
            "provenance.training.data.source",
            13,
            "did you mean 'sources'?",
        ),
    ] {
        assert!(
            has(&report, "warning", path, line, suggestion),
            "{path}\n{report:#}"
        );
    }
    assert!(has(
        &report,
        "error",
        "pipeline_tag",
        5,
        "did you mean 'text-generation'?"
    ));
    // Unknown keys survive a JSON rendering too.
    let rendered = json(&run(
        &["card", "render", path_str(&card), "--format", "json"],
        0,
    ));
    assert_eq!(rendered["licence"], "apache-2.0");
    assert_eq!(rendered["provenance"]["creater"], "Team A");
    // --strict makes the warnings count.
    let strict = json(&run(
        &["card", "validate", path_str(&card), "--json", "--strict"],
        1,
    ));
    assert_eq!(strict["ok"], false);
}

#[test]
fn invalid_values_are_errors_with_paths_and_lines() {
    let report = validate_json(&card_fixture("invalid-values.md"), 1);
    let expected = [
        (
            "error",
            "license",
            2,
            "neither a Hub licence id nor an SPDX expression",
        ),
        ("error", "language[0]", 4, "did you mean 'en'?"),
        ("warning", "language[1]", 5, "boolean to YAML 1.1 readers"),
        ("error", "base_model", 7, "write 'gpt2'"),
        (
            "error",
            "base_model_relation",
            8,
            "did you mean 'finetune'?",
        ),
        (
            "error",
            "model-index[0].results[0].metrics[0].value",
            19,
            "'high' is not a number",
        ),
        (
            "warning",
            "model-index[0].results[0].metrics[1].value",
            21,
            "number written as text",
        ),
        (
            "error",
            "model-index[0].results[0].metrics[2]",
            22,
            "has no 'type'",
        ),
        ("error", "provenance.created", 25, "not a date"),
        ("warning", "provenance.version", 27, "quote it"),
        ("error", "provenance.model.digest", 29, "not a model digest"),
    ];
    for (severity, path, line, text) in expected {
        assert!(
            has(&report, severity, path, line, text),
            "{path}\n{report:#}"
        );
    }
    assert_eq!(findings(&report).len(), expected.len(), "{report:#}");
    // Human output: file:line: severity: path: message.
    let text = run(
        &[
            "card",
            "validate",
            path_str(&card_fixture("invalid-values.md")),
        ],
        1,
    );
    assert!(text.contains("invalid-values.md:19: error: model-index[0].results[0].metrics[0].value: 'high' is not a number"), "{text}");
    assert!(text.contains("8 errors, 3 warnings - not valid"), "{text}");
}

#[test]
fn crlf_and_duplicate_keys() {
    let report = validate_json(&card_fixture("crlf.md"), 0);
    assert_eq!(findings(&report), vec![]);
    let report = validate_json(&card_fixture("duplicate-keys.md"), 0);
    assert!(
        has(
            &report,
            "warning",
            "license",
            4,
            "given twice (lines 2 and 4)"
        ),
        "{report:#}"
    );
}

#[test]
fn unreadable_yaml_is_an_input_error_with_line_and_column() {
    let error = run_err(
        &[
            "card",
            "validate",
            path_str(&card_fixture("broken-yaml.md")),
        ],
        2,
    );
    assert!(
        error.contains("broken-yaml.md: the card's YAML cannot be read: line 4, column 9"),
        "{error}"
    );
    let error = run_err(&["card", "show", path_str(&card_fixture("unclosed.md"))], 2);
    assert!(
        error.contains("unclosed.md: the front matter opened by '---' on line 1 is never closed"),
        "{error}"
    );
    let missing = run_err(&["card", "validate", "no/such/README.md"], 2);
    assert!(missing.contains("no/such/README.md"), "{missing}");
}

#[test]
fn a_100_kb_model_index_is_read_with_lines_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("---\nlicense: mit\nmodel-index:\n- name: big\n  results:\n");
    let mut i = 0;
    while text.len() < 100_000 {
        text.push_str(&format!(
            "  - task:\n      type: text-classification\n    dataset:\n      name: set {i}\n      type: set-{i}\n    metrics:\n    - type: accuracy\n      value: 0.{i:04}\n"
        ));
        i += 1;
    }
    // One bad value deep inside: its line must be found.
    text.push_str("  - task:\n      type: text-classification\n    dataset:\n      name: last\n      type: last\n    metrics:\n    - type: accuracy\n      value: n/a\n---\nBody\n");
    let bad_line = text.lines().position(|l| l.contains("value: n/a")).unwrap() + 1;
    let card = dir.path().join("README.md");
    fs::write(&card, &text).unwrap();
    let report = validate_json(&card, 1);
    let path = format!("model-index[0].results[{i}].metrics[0].value");
    assert!(
        has(
            &report,
            "error",
            &path,
            bad_line as u64,
            "'n/a' is not a number"
        ),
        "{:#}",
        report["findings"]
    );
    assert_eq!(run(&["card", "render", path_str(&card)], 0), text);
}

fn safechat_model(dir: &Path) -> std::path::PathBuf {
    let model = copy_example_model(dir);
    fs::remove_file(model.join("README.md")).unwrap();
    model
}

#[test]
fn safechat_card_init_render_and_reread_keep_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let model = safechat_model(dir.path());
    let card = dir.path().join("SafeChat-v2.md");
    run(
        &[
            "card",
            "init",
            path_str(&model),
            "--from",
            path_str(&card_fixture("safechat-provenance.yaml")),
            "-o",
            path_str(&card),
            "-q",
        ],
        0,
    );
    let html = dir.path().join("card.html");
    run(
        &[
            "card",
            "render",
            path_str(&card),
            "--format",
            "html",
            "-o",
            path_str(&html),
        ],
        0,
    );
    let readme = dir.path().join("README.md");
    run(
        &[
            "card",
            "render",
            path_str(&card),
            "--regenerate-body",
            "-o",
            path_str(&readme),
        ],
        0,
    );
    let meta = &json(&run(&["card", "show", path_str(&readme), "--json"], 0))["metadata"];
    let p = &meta["provenance"];
    assert_eq!(p["name"], "SafeChat-v2");
    assert_eq!(p["created"], "2024-03-15");
    assert_eq!(p["last_updated"], "2024-03-20");
    assert_eq!(p["creators"], json!(["Team A", "Team B"]));
    assert_eq!(meta["license"], "Apache-2.0");
    assert_eq!(meta["base_model"], "claude-2");
    assert_eq!(
        p["training"]["data"]["sources"],
        json!(["internal_conversations", "public_datasets"])
    );
    assert_eq!(p["training"]["data"]["size"], "10M examples");
    assert_eq!(
        p["training"]["data"]["preprocessing"],
        json!(["PII redaction", "deduplication"])
    );
    assert_eq!(
        p["training"]["procedure"],
        json!({"method": "SFT + RLHF", "duration": "2 weeks", "compute": "8x A100 GPUs"})
    );
    assert_eq!(
        p["evaluation"]["results"],
        json!([{"benchmark": "MMLU", "value": 0.92}, {"benchmark": "HumanEval", "value": 0.78}])
    );
    assert_eq!(
        p["evaluation"]["limitations"],
        json!([
            "Performs poorly on non-English text",
            "May have biases from training data"
        ])
    );
    assert_eq!(
        p["intended_use"],
        json!({"primary": ["customer support chatbot"], "secondary": ["documentation generation"], "out_of_scope": ["medical diagnosis", "legal advice"]})
    );
    assert_eq!(
        p["ethical_considerations"],
        json!({"risks": ["bias against minorities", "tendency to be overly helpful"], "mitigations": ["regular bias audits", "human review of outputs"]})
    );
    assert_eq!(
        p["maintenance"],
        json!({"versioning": "semver", "update_frequency": "monthly"})
    );
    // Measured from the folder: parameters from the safetensors header, the digest, the formats.
    assert_eq!(p["model"]["parameters"], 36);
    assert_eq!(p["model"]["architecture"], "TinyLinear");
    assert_eq!(
        p["model"]["files"]["formats"]["safetensors"],
        json!({"count": 1, "bytes": 320})
    );
    let digest = run(&["hash", path_str(&model), "-q"], 0);
    assert_eq!(p["model"]["digest"], digest.trim());
    // The rendered body and page carry the sections.
    let body = fs::read_to_string(&readme).unwrap();
    for section in [
        "## Training",
        "| MMLU |  | 0.92 |",
        "### Out of scope",
        "- legal advice",
        "## Maintenance",
        "| Update frequency | monthly |",
    ] {
        assert!(body.contains(section), "{section}\n{body}");
    }
    let page = fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("<title>SafeChat-v2</title>")
            && page.contains("<h2>Ethical considerations</h2>"),
        "{page}"
    );
    // Valid apart from the SPDX spelling of the licence, complete, and bound to the model.
    let report = json(&run(
        &[
            "card",
            "validate",
            path_str(&readme),
            "--model",
            path_str(&model),
            "--json",
        ],
        0,
    ));
    assert_eq!(report["errors"], 0, "{report:#}");
    assert!(
        has(
            &report,
            "warning",
            "license",
            2,
            "'Apache-2.0' is a valid SPDX expression but not a Hub licence id"
        ),
        "{report:#}"
    );
    assert_eq!(report["model"]["matches"], true);
    // config.json names its transformers version, so the library is known too: nothing is missing.
    assert_eq!(meta["library_name"], "transformers");
    assert_eq!(report["completeness"]["percent"], 100);
}

#[test]
fn init_keeps_an_existing_readme_and_validate_binds_it_to_the_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let model = copy_example_model(dir.path());
    let readme = model.join("README.md");
    let before = "---\nlicense: apache-2.0  # hand-written\nlanguage: [en]\ntags:\n  - example\n---\n\n# tiny\n\nProse.\n";
    fs::write(&readme, before).unwrap();
    run(
        &[
            "card",
            "init",
            path_str(&model),
            "--name",
            "tiny-linear",
            "--model-version",
            "1.0.0",
            "-o",
            path_str(&readme),
            "-q",
        ],
        0,
    );
    let after = fs::read_to_string(&readme).unwrap();
    // The hand-written front matter lines and body are untouched; provenance is appended.
    let (front_before, body_before) = before[4..].split_once("\n---\n").unwrap();
    assert!(
        after.starts_with(&format!(
            "---\n{front_before}\nprovenance:\n  name: tiny-linear\n"
        )),
        "{after}"
    );
    assert!(after.ends_with(&format!("\n---\n{body_before}")), "{after}");
    // README.md is not part of the digest it records, so writing it did not invalidate it.
    run(
        &[
            "card",
            "validate",
            path_str(&readme),
            "--model",
            path_str(&model),
            "-q",
        ],
        0,
    );
    fs::write(model.join("config.json"), "{}").unwrap();
    let failed = run(
        &[
            "card",
            "validate",
            path_str(&readme),
            "--model",
            path_str(&model),
        ],
        1,
    );
    assert!(
        failed.contains("error: provenance.model.digest: the card describes sha256:"),
        "{failed}"
    );
    assert!(
        failed.contains("the card is not about these bytes"),
        "{failed}"
    );
}

#[test]
fn init_does_not_overwrite_other_files_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let model = copy_example_model(dir.path());
    let other = dir.path().join("other.md");
    fs::write(&other, "keep me").unwrap();
    let error = run_err(
        &["card", "init", path_str(&model), "-o", path_str(&other)],
        2,
    );
    assert!(error.contains("exists; pass --force"), "{error}");
    assert_eq!(fs::read_to_string(&other).unwrap(), "keep me");
    run(
        &[
            "card",
            "init",
            path_str(&model),
            "-o",
            path_str(&other),
            "--force",
            "-q",
        ],
        0,
    );
    assert!(fs::read_to_string(&other).unwrap().contains("provenance:"));
    let error = run_err(&["card", "init", path_str(&model.join("config.json"))], 2);
    assert!(error.contains("is not a folder"), "{error}");
}

#[test]
fn a_broken_safetensors_header_is_named_and_no_parameter_count_is_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let model = copy_example_model(dir.path());
    let weights = model.join("model.safetensors");
    let mut bytes = fs::read(&weights).unwrap();
    bytes.truncate(bytes.len() - 4);
    fs::write(&weights, bytes).unwrap();
    let (stdout, stderr) = run_full(&["card", "init", path_str(&model)], 0);
    assert!(
        stderr.contains("model.safetensors: not a valid safetensors file"),
        "{stderr}"
    );
    assert!(!stdout.contains("parameters:"), "{stdout}");
}

#[test]
fn the_card_is_signed_with_the_model_and_checked_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let model = copy_example_model(dir.path());
    let readme = model.join("README.md");
    run(
        &[
            "card",
            "init",
            path_str(&model),
            "-o",
            path_str(&readme),
            "-q",
        ],
        0,
    );
    let key = dir.path().join("signer.pem");
    run(&["keygen", "--private-key", path_str(&key)], 0);
    let public = dir.path().join("signer.pem.pub");
    let signature = model.join("model.sig");
    run(
        &[
            "sign",
            path_str(&model),
            "--key",
            path_str(&key),
            "--card",
            path_str(&readme),
            "-o",
            path_str(&signature),
            "-q",
        ],
        0,
    );
    assert!(model.join("model.card.sig").is_file());
    let verify = |code: i32| {
        run(
            &[
                "verify",
                path_str(&model),
                "--signature",
                path_str(&signature),
                "--key",
                path_str(&public),
                "--card",
                path_str(&readme),
            ],
            code,
        )
    };
    let ok = verify(0);
    assert!(
        ok.contains("OK: card") && ok.contains("is signed with the model"),
        "{ok}"
    );
    // The card statement: our predicate, subject = the model digest the card records.
    let bundle = json(&fs::read_to_string(model.join("model.card.sig")).unwrap());
    let payload = base64_decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap());
    let statement = json(&payload);
    assert_eq!(
        statement["predicateType"],
        "https://modelprov.dev/model-card/v1"
    );
    let shown = json(&run(&["card", "show", path_str(&readme), "--json"], 0));
    let recorded = shown["metadata"]["provenance"]["model"]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        format!(
            "sha256:{}",
            statement["subject"][0]["digest"]["sha256"]
                .as_str()
                .unwrap()
        ),
        recorded
    );
    // An edited card no longer verifies; nor does a card signature from another key.
    let original = fs::read(&readme).unwrap();
    fs::write(&readme, [original.as_slice(), b"\nEdited.\n"].concat()).unwrap();
    assert!(verify(1).contains("FAILED: "));
    fs::write(&readme, &original).unwrap();
    verify(0);
    // A card describing other bytes is refused at signing.
    fs::write(model.join("config.json"), "{}").unwrap();
    let error = run_err(
        &[
            "sign",
            path_str(&model),
            "--key",
            path_str(&key),
            "--card",
            path_str(&readme),
            "-o",
            path_str(&signature),
        ],
        2,
    );
    assert!(
        error.contains("refresh it with `modelprov card init`"),
        "{error}"
    );
}

fn base64_decode(text: &str) -> String {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn init_again_on_an_up_to_date_card_changes_no_byte() {
    let dir = tempfile::tempdir().unwrap();
    let model = copy_example_model(dir.path());
    let readme = model.join("README.md");
    let before = fs::read(&readme).unwrap();
    let provenance =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tiny-model-provenance.yaml");
    run(
        &[
            "card",
            "init",
            path_str(&model),
            "--from",
            path_str(&provenance),
            "-o",
            path_str(&readme),
            "-q",
        ],
        0,
    );
    assert_eq!(fs::read(&readme).unwrap(), before);
}

#[test]
fn json_and_yaml_card_files_have_lines_too() {
    let dir = tempfile::tempdir().unwrap();
    let card = dir.path().join("card.json");
    fs::write(&card, "{\n  \"license\": \"mit\",\n  \"pipeline_tag\": \"text-gen\",\n  \"provenance\": {\"created\": \"2024-13-01\"}\n}\n").unwrap();
    let report = validate_json(&card, 1);
    assert!(
        has(
            &report,
            "error",
            "pipeline_tag",
            3,
            "did you mean 'text-generation'?"
        ),
        "{report:#}"
    );
    assert!(
        has(&report, "error", "provenance.created", 4, "not a date"),
        "{report:#}"
    );
    // A metadata file renders to a README with a generated body.
    let readme = run(&["card", "render", path_str(&card)], 0);
    assert!(readme.starts_with("---\nlicense: mit\npipeline_tag: text-gen\nprovenance:\n  created: \"2024-13-01\"\n---\n"), "{readme}");
}

#[test]
fn cards_that_are_not_text_or_not_files_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("README.md");
    fs::write(&binary, b"---\nlicense: \xff\xfe\n---\n").unwrap();
    let error = run_err(&["card", "validate", path_str(&binary)], 2);
    assert!(error.contains("README.md: not UTF-8 text"), "{error}");
    let error = run_err(&["card", "show", path_str(dir.path())], 2);
    assert!(error.contains(path_str(dir.path())), "{error}");
    let list = dir.path().join("list.yaml");
    fs::write(&list, "- a\n- b\n").unwrap();
    let error = run_err(&["card", "render", path_str(&list)], 2);
    assert!(
        error.contains("list.yaml: the card's metadata must be a mapping of fields, not a list"),
        "{error}"
    );
}

/// `depth` nested flow lists around `1`.
fn nested_lists(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn deeply_nested_cards_are_input_errors_not_stack_overflows() {
    let dir = tempfile::tempdir().unwrap();
    let readme = dir.path().join("README.md");
    fs::write(
        &readme,
        format!("---\nlicense: mit\ntags: {}\n---\n", nested_lists(100_000)),
    )
    .unwrap();
    // Block sequences: two bytes a level, not bounded by the YAML scanner.
    let block = dir.path().join("block.md");
    fs::write(
        &block,
        format!("---\nlicense: mit\ntags:\n{}1\n---\n", "- ".repeat(100_000)),
    )
    .unwrap();
    let yaml = dir.path().join("fields.yaml");
    fs::write(&yaml, format!("extra: {}\n", nested_lists(100_000))).unwrap();
    let json_card = dir.path().join("card.json");
    fs::write(
        &json_card,
        format!(
            "{{\"license\": \"mit\", \"x\": {}{}}}",
            "{\"a\": ".repeat(100_000),
            "}".repeat(100_000)
        ),
    )
    .unwrap();
    for (args, file) in [
        (vec!["card", "validate", path_str(&readme)], &readme),
        (vec!["card", "validate", path_str(&block)], &block),
        (vec!["card", "show", path_str(&json_card)], &json_card),
        (vec!["card", "render", path_str(&yaml)], &yaml),
    ] {
        let error = run_err(&args, 2);
        assert!(
            error.contains(path_str(file)) && error.contains("nested deeper than 128 levels"),
            "{error}"
        );
    }
    let model = copy_example_model(dir.path());
    let out = dir.path().join("out.md");
    let error = run_err(
        &[
            "card",
            "init",
            path_str(&model),
            "--from",
            path_str(&yaml),
            "-o",
            path_str(&out),
        ],
        2,
    );
    assert!(error.contains("nested deeper than 128 levels"), "{error}");
    assert!(!out.exists());
    // At the bound, the card reads.
    fs::write(
        &readme,
        format!("---\nlicense: mit\nx: {}\n---\n", nested_lists(127)),
    )
    .unwrap();
    run(&["card", "show", path_str(&readme)], 0);
}

#[test]
fn one_long_string_aliased_thousands_of_times_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let readme = dir.path().join("README.md");
    let big = "x".repeat(4 << 20);
    let aliases = vec!["*big"; 3000].join(", ");
    fs::write(
        &readme,
        format!("---\nlicense: mit\nnote: &big {big}\ntags: [{aliases}]\n---\n"),
    )
    .unwrap();
    let error = run_err(&["card", "validate", path_str(&readme)], 2);
    assert!(
        error.contains("README.md: the card's YAML cannot be read: line 4")
            && error.contains("expands to more than 67108864 bytes of text"),
        "{error}"
    );
}

#[test]
fn init_refuses_impossible_dates_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let model = copy_example_model(dir.path());
    let out = dir.path().join("card.md");
    for (flag, date) in [
        ("--created", "2024-02-30"),
        ("--last-updated", "2023-13-01"),
    ] {
        let error = run_err(
            &[
                "card",
                "init",
                path_str(&model),
                flag,
                date,
                "-o",
                path_str(&out),
            ],
            2,
        );
        assert!(
            error.contains(&format!("{flag}: '{date}' is not a date")),
            "{error}"
        );
        assert!(!out.exists());
    }
    let from = dir.path().join("fields.yaml");
    for fields in [
        "provenance:\n  created: 2024-02-30\n",
        "provenance:\n  last_updated: '2021-04-31'\n",
        "provenance:\n  created: 20240101\n",
    ] {
        fs::write(&from, fields).unwrap();
        let error = run_err(
            &[
                "card",
                "init",
                path_str(&model),
                "--from",
                path_str(&from),
                "-o",
                path_str(&out),
            ],
            2,
        );
        assert!(
            error.contains("fields.yaml: provenance.")
                && (error.contains("is not a date") || error.contains("expected a date")),
            "{error}"
        );
        assert!(!out.exists());
    }
    // A real leap day is a date.
    run(
        &[
            "card",
            "init",
            path_str(&model),
            "--created",
            "2024-02-29",
            "-o",
            path_str(&out),
            "-q",
        ],
        0,
    );
    let card = json(&run(&["card", "show", path_str(&out), "--json"], 0));
    assert_eq!(card["metadata"]["provenance"]["created"], "2024-02-29");
}

#[test]
fn init_on_a_copied_folder_does_not_keep_the_other_models_identity() {
    let dir = tempfile::tempdir().unwrap();
    // The example's README records the example's digest; a new file makes this another model.
    let model = copy_example_model(dir.path());
    let readme = model.join("README.md");
    let parent = fs::read_to_string(&readme).unwrap();
    assert!(parent.contains("name: tiny-linear") && parent.contains("digest: sha256:"));
    let with_metrics = parent.replacen(
        "---\n",
        "---\nmodel-index:\n- name: tiny-linear\n  results:\n  - task: {type: feature-extraction}\n    dataset: {name: none, type: none}\n    metrics:\n    - {type: accuracy, value: 0.99}\n",
        1,
    );
    fs::write(&readme, &with_metrics).unwrap();
    fs::write(model.join("extra.txt"), "a different model").unwrap();
    let (_, stderr) = run_full(
        &["card", "init", path_str(&model), "-o", path_str(&readme)],
        0,
    );
    for (field, set_with) in [
        ("provenance.name", "--name"),
        ("provenance.version", "--model-version"),
        ("model-index", "a model-index in --from FILE"),
    ] {
        assert!(
            stderr.contains(&format!(
                "warning: dropped {field} from the existing card: it describes the model sha256:"
            )) && stderr.contains(&format!("set it with {set_with}")),
            "{field}\n{stderr}"
        );
    }
    let card = json(&run(&["card", "show", path_str(&readme), "--json"], 0))["metadata"].take();
    assert_eq!(card["provenance"].get("name"), None, "{card}");
    assert_eq!(card["provenance"].get("version"), None, "{card}");
    assert_eq!(card.get("model-index"), None, "{card}");
    // What describes the model in general stays; the digest is this folder's.
    assert_eq!(card["license"], "apache-2.0");
    assert_eq!(
        card["provenance"]["creators"],
        json!(["modelprov maintainers"])
    );
    run(
        &[
            "card",
            "validate",
            path_str(&readme),
            "--model",
            path_str(&model),
            "-q",
        ],
        0,
    );

    // Flags set the identity anew, without a warning for what they set.
    fs::write(&readme, &with_metrics).unwrap();
    let (_, stderr) = run_full(
        &[
            "card",
            "init",
            path_str(&model),
            "--name",
            "tiny-copy",
            "-o",
            path_str(&readme),
        ],
        0,
    );
    assert!(!stderr.contains("dropped provenance.name"), "{stderr}");
    assert!(stderr.contains("dropped provenance.version"), "{stderr}");
    let card = json(&run(&["card", "show", path_str(&readme), "--json"], 0));
    assert_eq!(card["metadata"]["provenance"]["name"], "tiny-copy");

    // The card of the folder it was written for keeps everything.
    let own = copy_example_model(&dir.path().join("own"));
    let (_, stderr) = run_full(&["card", "init", path_str(&own)], 0);
    assert!(!stderr.contains("dropped"), "{stderr}");
}

#[test]
fn an_endless_file_as_card_fields_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let model = copy_example_model(dir.path());
    let error = run_err(
        &["card", "init", path_str(&model), "--from", "/dev/zero"],
        2,
    );
    assert!(
        error.contains("/dev/zero: larger than 16 MiB; too large for a model card"),
        "{error}"
    );
}
