//! `modelprov scan` on real ONNX models, symlinked model folders (the Hugging Face cache layout)
//! and `--format sarif`.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use crate::common::corpus::{Pickle, corpus};
use crate::common::*;

fn onnx_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/onnx")
}

/// `os.system("id")`, called on load.
fn evil_pickle() -> Vec<u8> {
    Pickle::proto(2)
        .global("os", "system")
        .text("id")
        .op(b"\x85R")
        .stop()
}

/// A Hugging Face cache repo: `blobs/<sha>` holding `content`, linked from
/// `snapshots/<rev>/pytorch_model.bin` as `../../blobs/<sha>`, and a config beside it.
fn hf_repo(dir: &Path, content: &[u8]) -> PathBuf {
    let repo = dir.join("models--org--model");
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(repo.join("snapshots/0123abc")).unwrap();
    std::fs::write(repo.join("blobs/aaaa"), content).unwrap();
    std::fs::write(repo.join("blobs/bbbb"), b"{\"model_type\": \"gpt2\"}").unwrap();
    symlink(
        "../../blobs/aaaa",
        repo.join("snapshots/0123abc/pytorch_model.bin"),
    )
    .unwrap();
    symlink(
        "../../blobs/bbbb",
        repo.join("snapshots/0123abc/config.json"),
    )
    .unwrap();
    repo
}

#[test]
fn real_onnx_models_are_recognised_and_safe() {
    let out = run(&["scan", path_str(&onnx_fixtures()), "--json"], 0);
    let report = json(&out);
    let files = report["files"].as_array().unwrap();
    let models: Vec<_> = files
        .iter()
        .filter(|f| f["path"].as_str().unwrap().ends_with(".onnx"))
        .collect();
    assert_eq!(models.len(), 6, "{out}");
    for model in models {
        assert_eq!(model["format"], "onnx", "{model}");
        assert_eq!(model["verdict"], "safe", "{model}");
        assert!(
            model["notes"][0].as_str().unwrap().starts_with("ONNX IR v"),
            "{model}"
        );
    }
}

#[test]
fn a_hugging_face_snapshot_is_scanned_through_its_links() {
    let dir = tempfile::tempdir().unwrap();
    let repo = hf_repo(dir.path(), &evil_pickle());
    let snapshot = repo.join("snapshots/0123abc");
    let text = run(&["scan", path_str(&snapshot)], 1);
    assert!(
        text.contains("UNSAFE") && text.contains("snapshots/0123abc/pytorch_model.bin"),
        "{text}"
    );
    assert!(text.contains("os.system"), "{text}");
    assert!(text.contains("2 files: 1 safe, 1 unsafe"), "{text}");
    // The repo folder: the blobs and the links to them.
    let text = run(&["scan", path_str(&repo)], 1);
    assert!(text.contains("4 files: 2 safe, 2 unsafe"), "{text}");

    let benign = tempfile::tempdir().unwrap();
    let repo = hf_repo(benign.path(), &crate::common::corpus::torch_state_dict());
    let text = run(&["scan", path_str(&repo.join("snapshots/0123abc"))], 0);
    assert!(text.contains("2 files: 2 safe, 0 unsafe"), "{text}");
}

#[test]
fn verify_scan_scans_the_files_behind_the_links() {
    let dir = tempfile::tempdir().unwrap();
    let repo = hf_repo(dir.path(), &evil_pickle());
    let snapshot = repo.join("snapshots/0123abc");
    let digest = run(
        &["hash", path_str(&snapshot), "--allow-symlinks", "--json"],
        0,
    );
    let digest = json(&digest)["digest"].as_str().unwrap().to_string();
    let out = run(
        &[
            "verify",
            path_str(&snapshot),
            "--digest",
            &digest,
            "--allow-symlinks",
            "--scan",
        ],
        1,
    );
    assert!(out.contains("os.system"), "{out}");
}

#[test]
fn a_link_out_of_the_model_is_a_finding_not_a_skip() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    std::fs::create_dir(&model).unwrap();
    std::fs::write(dir.path().join("elsewhere.bin"), evil_pickle()).unwrap();
    std::fs::write(model.join("config.json"), b"{}").unwrap();
    symlink("../elsewhere.bin", model.join("pytorch_model.bin")).unwrap();
    symlink("nowhere", model.join("dangling.bin")).unwrap();
    let text = run(&["scan", path_str(&model)], 1);
    assert!(text.contains("symlink leads out of the model"), "{text}");
    assert!(text.contains("symlink cannot be followed"), "{text}");
    assert!(text.contains("3 files: 1 safe, 2 unsafe"), "{text}");
}

#[test]
fn a_fifo_in_a_folder_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), b"{}").unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(dir.path().join("pytorch_model.bin"))
        .status()
        .unwrap();
    assert!(status.success());
    let err = run_err(&["scan", path_str(dir.path())], 2);
    assert!(err.contains("FIFO"), "{err}");
}

#[test]
fn sarif_output_has_one_result_per_finding_with_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let samples = corpus(dir.path());
    let log = json(&run(
        &["scan", path_str(dir.path()), "--format", "sarif"],
        1,
    ));
    assert_eq!(log["version"], "2.1.0");
    let run0 = &log["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "modelprov");
    let results = run0["results"].as_array().unwrap();
    let report = json(&run(&["scan", path_str(dir.path()), "--json"], 1));
    let findings: usize = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["findings"].as_array().unwrap().len())
        .sum();
    let failed_files = report["summary"]["invalid"].as_u64().unwrap()
        + report["summary"]["unscannable"].as_u64().unwrap();
    assert_eq!(results.len() as u64, findings as u64 + failed_files);
    // The ONNX external-data finding points at its file.
    let onnx = results
        .iter()
        .find(|r| r["ruleId"] == "onnx-external-data")
        .expect("an onnx-external-data result");
    assert_eq!(onnx["level"], "error");
    let uri = onnx["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        uri.starts_with("file:///") && uri.ends_with(".onnx"),
        "{uri}"
    );
    // A pickle finding carries its byte offset.
    let evil = samples
        .iter()
        .find(|s| s.path.ends_with("mal-os-system.pkl"))
        .unwrap();
    let evil_uri = format!("file://{}", evil.path.display());
    assert!(
        results.iter().any(|r| {
            let location = &r["locations"][0]["physicalLocation"];
            location["artifactLocation"]["uri"] == evil_uri.as_str()
                && location["region"]["byteOffset"].is_u64()
                && r["level"] == "error"
        }),
        "no located result for {evil_uri}"
    );
    // --json is --format json; both at once is a usage error.
    assert_eq!(
        run(&["scan", path_str(&evil.path), "--json"], 1),
        run(&["scan", path_str(&evil.path), "--format", "json"], 1)
    );
    run_err(
        &["scan", path_str(&evil.path), "--json", "--format", "sarif"],
        2,
    );
}

/// A `torch.jit.save` layout; `constants` is the constants.pkl member.
fn torchscript(dir: &Path, constants: &[u8]) -> PathBuf {
    use std::io::Write as _;
    let path = dir.join("scripted.pt");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let plain = Pickle::proto(2).op(b"}").stop();
    let members: [(&str, &[u8]); 6] = [
        ("scripted/data.pkl", &plain),
        ("scripted/constants.pkl", constants),
        (
            "scripted/code/__torch__.py",
            b"class Model(Module):\n  pass\n",
        ),
        ("scripted/code/__torch__.py.debug_pkl", &plain),
        ("scripted/extra/producer.json", b"{}"),
        ("scripted/.data/version", b"6\n"),
    ];
    for (name, bytes) in members {
        writer.start_file(name, stored).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap();
    path
}

#[test]
fn torchscript_archives_list_their_code_and_scan_their_pickles() {
    let dir = tempfile::tempdir().unwrap();
    let plain = Pickle::proto(2).op(b"}").stop();
    let report = json(&run(
        &["scan", path_str(&torchscript(dir.path(), &plain)), "--json"],
        0,
    ));
    let notes = report["files"][0]["notes"].to_string();
    assert!(
        notes.contains("TorchScript archive: 1 code file")
            && notes.contains("code/__torch__.py")
            && notes.contains("producer.json"),
        "{notes}"
    );
    let evil = tempfile::tempdir().unwrap();
    let out = run(
        &["scan", path_str(&torchscript(evil.path(), &evil_pickle()))],
        1,
    );
    assert!(
        out.contains("scripted/constants.pkl: ") && out.contains("os.system"),
        "{out}"
    );
}
