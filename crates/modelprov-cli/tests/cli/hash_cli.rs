//! `modelprov hash`: digests, manifest files and machine output.

use std::fs;

use crate::common::*;

#[test]
fn prints_the_reference_digest_for_each_serialization() {
    let model = vectors().join("model");
    let model = path_str(&model);
    let cases: [(&[&str], &str); 5] = [
        (
            &[],
            "8892da4eac46260d5938336518ba9825282fe615289912758c5cca9e226de196",
        ),
        (
            &["--shard-size", "1000000"],
            "a668025f48c29ca0ef26920886c5c243517ec57421febf3b39180bc9dd545189",
        ),
        (
            &["--shard-size"],
            "5f78f928a92e338099e0cc729295ef8d0ae34638a37348171764d9607f2d575e",
        ),
        (
            &["-a", "blake2b"],
            "78531b36e7c788ab07b140530cdb6d8ef33969219dbad52fd84bb92260d7e728",
        ),
        (
            &["--algorithm", "blake3"],
            "0c78b828265d5f834b20468a3a57c6044e9048c506696a8ba02f87ec43b9475a",
        ),
    ];
    for (options, digest) in cases {
        let mut args = vec!["hash", model, "-q"];
        args.extend_from_slice(options);
        assert_eq!(run(&args, 0), format!("sha256:{digest}\n"), "{options:?}");
    }
}

#[test]
fn writes_a_manifest_that_verifies() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_model(folder.path());
    let manifest = folder.path().join("model.manifest.json");
    let stdout = run(&["hash", path_str(&model), "-o", path_str(&manifest)], 0);
    assert_eq!(stdout.trim(), MODEL_DIGEST);
    let written = json(&fs::read_to_string(&manifest).unwrap());
    assert_eq!(written["format"], "modelprov.manifest/v1");
    assert_eq!(written["name"], "model");
    assert_eq!(written["resources"].as_array().unwrap().len(), 6);
    assert_eq!(written["resources"][4]["name"], "model.safetensors");
    assert_eq!(written["resources"][4]["size"], 3_145_851);
    let stdout = run(
        &[
            "verify",
            path_str(&model),
            "--manifest",
            path_str(&manifest),
        ],
        0,
    );
    assert!(stdout.starts_with("OK: "), "{stdout}");
}

#[test]
fn a_manifest_is_never_written_inside_the_model() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_model(folder.path());
    let weights = model.join("model.safetensors");
    let before = fs::read(&weights).unwrap();
    // Today's regression: `-o model/weights` overwrote the weights with the manifest, exit 0.
    for target in [weights.clone(), model.join("model.manifest.json")] {
        let stderr = run_err(&["hash", path_str(&model), "-o", path_str(&target)], 2);
        assert!(stderr.contains("inside the model"), "{stderr}");
    }
    assert_eq!(fs::read(&weights).unwrap(), before);
    assert!(!model.join("model.manifest.json").exists());
}

#[test]
fn json_output_describes_the_run() {
    let model = vectors().join("model");
    let report = json(&run(
        &[
            "hash",
            path_str(&model),
            "--json",
            "--shard-size",
            "1000000",
        ],
        0,
    ));
    assert_eq!(
        report["digest"],
        "sha256:a668025f48c29ca0ef26920886c5c243517ec57421febf3b39180bc9dd545189"
    );
    assert_eq!(report["files"], 6);
    assert_eq!(report["resources"], 8);
    assert_eq!(report["bytes"], 3_146_132);
    assert_eq!(report["serialization"]["method"], "shards");
    assert_eq!(report["serialization"]["shard_size"], 1_000_000);
    assert_eq!(report["manifest"], serde_json::Value::Null);
}

#[test]
fn manifest_to_stdout_puts_the_digest_on_stderr() {
    let model = vectors().join("model");
    let output = modelprov()
        .args(["hash", path_str(&model), "-o", "-"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let manifest = json(&String::from_utf8(output.stdout).unwrap());
    assert_eq!(manifest["digest"], MODEL_DIGEST);
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains(MODEL_DIGEST)
    );
    run_err(&["hash", path_str(&model), "-o", "-", "--json"], 2);
}

#[test]
fn ignore_paths_are_relative_to_the_model() {
    let vectors = vectors();
    let model = vectors.join("model");
    let ignored = run(
        &["hash", path_str(&model), "-q", "--ignore", "tokenizer.json"],
        0,
    );
    assert_eq!(
        ignored.trim(),
        "sha256:98caac25606b0fbf92a09b04c51075e2a7d6cdd8d787cf87075df05c0fccfb17"
    );
    let stderr = run_err(
        &["hash", path_str(&model), "--ignore", "model/tokenizer.json"],
        0,
    );
    assert!(stderr.contains("matches nothing"), "{stderr}");
    let stderr = run_err(&["hash", path_str(&model), "--ignore", "../keys"], 2);
    assert!(stderr.contains(".."), "{stderr}");
    let no_git = run(
        &["hash", path_str(&model), "-q", "--no-ignore-git-paths"],
        0,
    );
    assert_eq!(
        no_git.trim(),
        "sha256:03cc84f8f35091b81684715b562915a4f5f3f0f519ab656d91c7febed417903c"
    );
}

#[test]
fn a_single_file_is_a_model_named_dot() {
    let file = vectors().join("model/config.json");
    let folder = tempfile::tempdir().unwrap();
    let manifest = folder.path().join("m.json");
    let stdout = run(
        &["hash", path_str(&file), "-q", "-o", path_str(&manifest)],
        0,
    );
    assert_eq!(
        stdout.trim(),
        "sha256:dfc1a3fda6e0d95808e11ad53508007199ae13f81832d2971c0e3e4fc02c3066"
    );
    let written = json(&fs::read_to_string(&manifest).unwrap());
    assert_eq!(written["name"], "config.json");
    assert_eq!(written["resources"][0]["name"], ".");
}

#[test]
fn blake3_refuses_shards_with_a_reason() {
    let model = vectors().join("model");
    let stderr = run_err(
        &[
            "hash",
            path_str(&model),
            "-a",
            "blake3",
            "--shard-size",
            "100",
        ],
        2,
    );
    assert!(stderr.contains("blake3 has no sharded form"), "{stderr}");
}
