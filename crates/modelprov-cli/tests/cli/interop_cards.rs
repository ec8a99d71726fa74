//! Model cards against the reference reader and writer, `huggingface_hub` (PyYAML underneath):
//! what modelprov renders, `ModelCard.load` reads as the same metadata; what
//! `ModelCard.from_template` writes, modelprov reads and writes back unchanged; and the two
//! places where YAML 1.1 and 1.2 readers disagree are exactly what `card validate` warns about.

use std::fs;
use std::path::Path;

use crate::common::interop::{python, text};
use crate::common::*;
use serde_json::{Value, json};

/// `ModelCard.load(path).data.to_dict()` as JSON (dates as text).
fn hub_metadata(card: &Path) -> Value {
    let output = python(
        "import json, sys\nfrom huggingface_hub import ModelCard\nprint(json.dumps(ModelCard.load(sys.argv[1]).data.to_dict(), default=str))",
        &[path_str(card)],
    );
    assert!(output.status.success(), "{}", text(&output));
    json(&String::from_utf8_lossy(&output.stdout))
}

fn modelprov_metadata(card: &Path) -> Value {
    json(&run(
        &["card", "render", path_str(card), "--format", "json"],
        0,
    ))
}

#[test]
fn cards_modelprov_renders_read_the_same_in_huggingface_hub() {
    let dir = tempfile::tempdir().unwrap();
    let model = copy_example_model(dir.path());
    fs::remove_file(model.join("README.md")).unwrap();
    let safechat = dir.path().join("safechat.md");
    run(
        &[
            "card",
            "init",
            path_str(&model),
            "--from",
            path_str(&card_fixture("safechat-provenance.yaml")),
            "-o",
            path_str(&safechat),
            "-q",
        ],
        0,
    );
    // A card whose values YAML 1.1 would misread if they were written plain.
    let tricky = dir.path().join("tricky.yaml");
    fs::write(
        &tricky,
        r##"{"language": ["en", "no", "on"], "tags": ["yes", "1_000", "0755", "1:20", "null", "~", ".inf", "- x", "a: b", "#c", "2024-03-15"],
           "provenance": {"version": "1.10", "created": "2024-03-15", "training": {"procedure": {"hyperparameters": {"learning_rate": 1e-5, "epochs": 3, "warmup": 0.1, "big": 1e300}}}},
           "co2_eq_emissions": {"emissions": 12.5, "source": "codecarbon"}, "widget": [{"text": "Hello: world"}]}"##,
    )
    .unwrap();
    let tricky_readme = dir.path().join("tricky.md");
    run(
        &[
            "card",
            "render",
            path_str(&tricky),
            "-o",
            path_str(&tricky_readme),
        ],
        0,
    );
    for card in [&safechat, &tricky_readme] {
        let ours = modelprov_metadata(card);
        assert_eq!(
            hub_metadata(card),
            ours,
            "{}",
            fs::read_to_string(card).unwrap()
        );
    }
    assert_eq!(
        modelprov_metadata(&tricky_readme)["language"],
        json!(["en", "no", "on"])
    );
}

#[test]
fn messy_cards_read_the_same_in_both() {
    for name in [
        "bom-and-blank-line.md",
        "scalars-and-lists.md",
        "misspelled-keys.md",
        "crlf.md",
        "duplicate-keys.md",
    ] {
        let card = card_fixture(name);
        assert_eq!(
            hub_metadata(&card),
            as_hub_lists_tags(modelprov_metadata(&card)),
            "{name}"
        );
    }
}

/// huggingface_hub's ModelCardData turns `tags: x` into `[x]`; modelprov keeps what was written
/// (and reads either form as a list of tags).
fn as_hub_lists_tags(mut metadata: Value) -> Value {
    if let Some(tags @ Value::String(_)) = metadata.get_mut("tags") {
        *tags = json!([tags.take()]);
    }
    metadata
}

#[test]
fn where_the_readers_disagree_validate_says_so() {
    // An unquoted `no` is Norwegian to modelprov (YAML 1.2) and false to PyYAML (YAML 1.1).
    let invalid = card_fixture("invalid-values.md");
    let dir = tempfile::tempdir().unwrap();
    let only_language = dir.path().join("README.md");
    let text = fs::read_to_string(&invalid).unwrap();
    let language_block: String = text
        .lines()
        .skip(3)
        .take(4)
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(
        &only_language,
        format!("---\nlanguage:\n{language_block}---\n"),
    )
    .unwrap();
    assert_eq!(hub_metadata(&only_language)["language"][1], json!(false));
    assert_eq!(
        modelprov_metadata(&only_language)["language"][1],
        json!("no")
    );
    assert!(
        run(&["card", "validate", path_str(&only_language)], 1)
            .contains("language[1]: unquoted 'no'")
    );
}

#[test]
fn from_template_cards_pass_through_modelprov_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let card = dir.path().join("README.md");
    let output = python(
        r#"
import sys
from huggingface_hub import ModelCard, ModelCardData, EvalResult
data = ModelCardData(
    language=["en", "no"], license="mit", library_name="transformers", tags=["text-classification", "yes"],
    datasets=["stanfordnlp/imdb"], metrics=["accuracy"], base_model="distilbert/distilbert-base-uncased",
    eval_results=[EvalResult(task_type="text-classification", dataset_type="stanfordnlp/imdb", dataset_name="IMDB",
                             metric_type="accuracy", metric_value=0.93)],
    model_name="imdb-classifier", co2_eq_emissions={"emissions": 40, "source": "codecarbon"})
ModelCard.from_template(data, model_id="imdb-classifier", model_description="Sentiment of movie reviews.").save(sys.argv[1])
"#,
        &[path_str(&card)],
    );
    assert!(output.status.success(), "{}", text(&output));
    let written = fs::read(&card).unwrap();
    // Read and written back: the same bytes, in every format that keeps the body.
    let rendered = run(&["card", "render", path_str(&card)], 0);
    assert_eq!(rendered.as_bytes(), written.as_slice());
    // modelprov and huggingface_hub read the same metadata, and the card is valid.
    assert_eq!(modelprov_metadata(&card), hub_metadata(&card));
    let report = json(&run(&["card", "validate", path_str(&card), "--json"], 0));
    assert_eq!(report["errors"], 0, "{report:#}");

    // `card init` in the model folder edits only what it adds: the template's lines stay, and
    // huggingface_hub still reads every field (its own and modelprov's).
    let model = copy_example_model(dir.path());
    let readme = model.join("README.md");
    fs::copy(&card, &readme).unwrap();
    run(
        &[
            "card",
            "init",
            path_str(&model),
            "--name",
            "imdb-classifier",
            "-o",
            path_str(&readme),
            "-q",
        ],
        0,
    );
    let edited = fs::read_to_string(&readme).unwrap();
    let original = String::from_utf8(written).unwrap();
    let (original_front, original_body) = original[4..].split_once("\n---\n").unwrap();
    assert!(
        edited.starts_with(&format!("---\n{original_front}\nprovenance:\n")),
        "{edited}"
    );
    assert!(edited.ends_with(&format!("\n---\n{original_body}")));
    let ours = modelprov_metadata(&readme);
    assert_eq!(hub_metadata(&readme), ours);
    assert_eq!(ours["provenance"]["name"], "imdb-classifier");
    assert_eq!(ours["license"], "mit");
}

#[test]
fn model_signing_verifies_a_model_signed_with_its_card() {
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
    let signature = dir.path().join("model.sig");
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
    // The signature records that README.md (signed separately, as the card) is left out, and
    // model_signing applies the recorded ignore paths: it verifies with no extra flags.
    let public = dir.path().join("signer.pem.pub");
    let verify = || {
        crate::common::interop::model_signing(&[
            "verify",
            "key",
            path_str(&model),
            "--signature",
            path_str(&signature),
            "--public_key",
            path_str(&public),
        ])
    };
    let accepted = verify();
    assert!(accepted.status.success(), "{}", text(&accepted));
    fs::write(model.join("config.json"), "{}").unwrap();
    let refused = verify();
    assert!(!refused.status.success(), "{}", text(&refused));
}
