//! `modelprov verify`: the reference tampering cases, against a manifest, a digest and a trust
//! file, in human and JSON form.

use std::fs;
use std::path::Path;

use crate::common::*;

/// Hashes a fresh copy of the test model into a manifest, applies `tamper`, verifies.
fn tampered(options: &[&str], tamper: impl FnOnce(&Path)) -> (i32, String, serde_json::Value) {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_model(folder.path());
    let manifest = folder.path().join("manifest.json");
    let mut hash = vec!["hash", path_str(&model), "-q", "-o", path_str(&manifest)];
    hash.extend_from_slice(options);
    run(&hash, 0);
    tamper(&model);
    let verify = [
        "verify",
        path_str(&model),
        "--manifest",
        path_str(&manifest),
    ];
    let human = modelprov().args(verify).output().unwrap();
    let code = human.status.code().unwrap();
    let machine = modelprov().args(verify).arg("--json").output().unwrap();
    assert_eq!(machine.status.code(), Some(code));
    (
        code,
        String::from_utf8(human.stdout).unwrap(),
        json(&String::from_utf8(machine.stdout).unwrap()),
    )
}

fn flip_byte(path: &Path, at: usize) {
    let mut bytes = fs::read(path).unwrap();
    bytes[at] ^= 1;
    fs::write(path, bytes).unwrap();
}

#[test]
fn an_untouched_model_verifies() {
    let (code, human, report) = tampered(&[], |_| {});
    assert_eq!(code, 0);
    assert!(human.starts_with("OK: "), "{human}");
    assert_eq!(report["ok"], true);
    assert_eq!(report["expected"], MODEL_DIGEST);
    assert_eq!(report["actual"], MODEL_DIGEST);
}

#[test]
fn a_changed_byte_names_the_file_and_in_shard_mode_the_range() {
    let (code, human, report) =
        tampered(&[], |m| flip_byte(&m.join("model.safetensors"), 1_500_000));
    assert_eq!(code, 1);
    assert!(
        human.contains("modified  model.safetensors (content differs)"),
        "{human}"
    );
    assert_eq!(report["diff"]["modified"][0]["path"], "model.safetensors");

    let (code, human, report) = tampered(&["--shard-size", "1000000"], |m| {
        flip_byte(&m.join("model.safetensors"), 1_500_000);
    });
    assert_eq!(code, 1);
    assert!(
        human.contains("modified  model.safetensors (bytes 1000000..2000000)"),
        "{human}"
    );
    let modified = &report["diff"]["modified"][0];
    assert_eq!(modified["ranges"][0]["start"], 1_000_000);
    assert_eq!(modified["ranges"][0]["end"], 2_000_000);
}

#[test]
fn added_missing_renamed_and_resized_files_are_each_named() {
    let (code, human, report) = tampered(&[], |m| {
        fs::write(m.join("added.txt"), "new").unwrap();
        fs::remove_file(m.join("extra/nested/vocab.txt")).unwrap();
        fs::rename(m.join("tokenizer.json"), m.join("tokenizer2.json")).unwrap();
        fs::write(m.join("empty.bin"), "x").unwrap();
        let mut config = fs::read(m.join("config.json")).unwrap();
        config.truncate(100);
        fs::write(m.join("config.json"), config).unwrap();
    });
    assert_eq!(code, 1);
    for line in [
        "modified  config.json (size 106 -> 100 bytes)",
        "modified  empty.bin (size 0 -> 1 bytes)",
        "added     added.txt (3 bytes)",
        "missing   extra/nested/vocab.txt (7 bytes)",
        "renamed   tokenizer.json -> tokenizer2.json (158 bytes)",
    ] {
        assert!(human.contains(line), "missing '{line}' in:\n{human}");
    }
    let diff = &report["diff"];
    assert_eq!(diff["modified"].as_array().unwrap().len(), 2);
    assert_eq!(diff["added"][0]["path"], "added.txt");
    assert_eq!(diff["missing"][0]["path"], "extra/nested/vocab.txt");
    assert_eq!(diff["renamed"][0]["from"], "tokenizer.json");
    assert_eq!(diff["renamed"][0]["to"], "tokenizer2.json");
}

#[test]
fn changes_under_ignored_git_paths_still_verify() {
    let (code, _, _) = tampered(&[], |m| {
        fs::write(m.join(".gitattributes"), "changed").unwrap();
        fs::create_dir_all(m.join(".git")).unwrap();
        fs::write(m.join(".git/HEAD"), "ref: refs/heads/main").unwrap();
    });
    assert_eq!(code, 0);
    // A nested .git is part of the model (OMS ignores only the top-level ones).
    let (code, human, _) = tampered(&[], |m| {
        fs::create_dir_all(m.join("extra/.git")).unwrap();
        fs::write(m.join("extra/.git/HEAD"), "x").unwrap();
    });
    assert_eq!(code, 1);
    assert!(human.contains("added     extra/.git/HEAD"), "{human}");
}

#[test]
fn verifies_against_a_digest() {
    let model = vectors().join("model");
    let stdout = run(&["verify", path_str(&model), "--digest", MODEL_DIGEST], 0);
    assert!(stdout.starts_with("OK: "), "{stdout}");
    let sharded = "sha256:a668025f48c29ca0ef26920886c5c243517ec57421febf3b39180bc9dd545189";
    run(
        &[
            "verify",
            path_str(&model),
            "--digest",
            sharded,
            "--shard-size",
            "1000000",
        ],
        0,
    );
    let stdout = run(&["verify", path_str(&model), "--digest", sharded], 1);
    assert!(stdout.contains("FAILED"), "{stdout}");
    let report = json(&run(
        &["verify", path_str(&model), "--digest", sharded, "--json"],
        1,
    ));
    assert_eq!(report["ok"], false);
    assert_eq!(report["diff"], serde_json::Value::Null);
    let stderr = run_err(&["verify", path_str(&model), "--digest", "sha256:1234"], 2);
    assert!(stderr.contains("--digest"), "{stderr}");
}

#[test]
fn verifies_against_a_trust_file() {
    let folder = tempfile::tempdir().unwrap();
    let trust = folder.path().join("trusted.json");
    fs::write(
        &trust,
        format!(
            r#"{{ "acme/model@1.0": "{MODEL_DIGEST}",
                 "acme/model@1.0-sharded": {{ "digest": "sha256:a668025f48c29ca0ef26920886c5c243517ec57421febf3b39180bc9dd545189",
                                              "serialization": {{ "method": "shards", "shard_size": 1000000 }} }},
                 "acme/other@2": "sha256:0000000000000000000000000000000000000000000000000000000000000000" }}"#
        ),
    )
    .unwrap();
    let model = vectors().join("model");
    let (model, trust) = (path_str(&model), path_str(&trust));
    run(
        &[
            "verify",
            model,
            "--trusted",
            trust,
            "--id",
            "acme/model@1.0",
        ],
        0,
    );
    run(
        &[
            "verify",
            model,
            "--trusted",
            trust,
            "--id",
            "acme/model@1.0-sharded",
        ],
        0,
    );
    run(
        &["verify", model, "--trusted", trust, "--id", "acme/other@2"],
        1,
    );
    let stderr = run_err(&["verify", model, "--trusted", trust, "--id", "nobody"], 2);
    assert!(
        stderr.contains("no trusted digest for 'nobody'") && stderr.contains("acme/model@1.0"),
        "{stderr}"
    );
    run_err(&["verify", model, "--trusted", trust], 2);
    let stderr = run_err(
        &[
            "verify",
            model,
            "--trusted",
            trust,
            "--id",
            "acme/model@1.0",
            "--shard-size",
            "5",
        ],
        2,
    );
    assert!(stderr.contains("go with --digest"), "{stderr}");
}

#[test]
fn needs_exactly_one_expectation() {
    let model = vectors().join("model");
    run_err(&["verify", path_str(&model)], 2);
    run_err(
        &[
            "verify",
            path_str(&model),
            "--digest",
            MODEL_DIGEST,
            "--manifest",
            "x.json",
        ],
        2,
    );
}
