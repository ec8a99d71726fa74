//! `modelprov scan` on the labelled corpus (tests/cli/common/corpus.rs): every malicious file
//! flagged with the technique's callable, no benign file flagged, malformed files invalid; the
//! command's output and exit codes.

use crate::common::corpus::{Label, corpus};
use crate::common::*;
use modelprov::scan::{Verdict, scan_file};

#[test]
fn the_corpus_is_judged_right() {
    let dir = tempfile::tempdir().unwrap();
    let samples = corpus(dir.path());
    assert!(
        samples
            .iter()
            .filter(|s| s.label == Label::Malicious)
            .count()
            >= 20
    );
    // Every misjudged sample is listed, not only the first.
    let mut wrong = Vec::new();
    for sample in &samples {
        let scan = scan_file(&sample.path);
        let found: Vec<String> = scan
            .findings
            .iter()
            .map(|f| {
                format!(
                    "{:?} {}",
                    f.finding.risk,
                    f.finding
                        .callable
                        .clone()
                        .unwrap_or_else(|| f.finding.message.clone())
                )
            })
            .collect();
        let expected = match sample.label {
            Label::Benign => Verdict::Safe,
            Label::Malicious => Verdict::Unsafe,
            Label::Malformed => Verdict::Invalid,
        };
        if scan.verdict != expected {
            wrong.push(format!(
                "{} ({}): {:?}, expected {expected:?}: {found:?} {:?}",
                sample.path.display(),
                sample.technique,
                scan.verdict,
                scan.notes
            ));
        } else if sample.label == Label::Malicious
            && !found.iter().any(|f| f.contains(sample.expected))
        {
            wrong.push(format!(
                "{}: {} not in {found:?}",
                sample.technique, sample.expected
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} misjudged:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn scan_reports_files_and_exits_1_on_anything_unsafe() {
    let dir = tempfile::tempdir().unwrap();
    let samples = corpus(dir.path());
    let benign = samples
        .iter()
        .find(|s| s.technique.starts_with("torch zip checkpoint"))
        .unwrap();
    let out = run(&["scan", path_str(&benign.path)], 0);
    assert!(
        out.starts_with("SAFE ") && out.contains("1 files: 1 safe, 0 unsafe"),
        "{out}"
    );
    let text = run(&["scan", path_str(dir.path())], 1);
    assert!(
        text.contains("UNSAFE      ") && text.contains("mal-os-system.pkl"),
        "{text}"
    );
    assert!(
        text.contains("  dangerous GLOBAL at offset 0: imports os.system, which can run code"),
        "{text}"
    );
    assert!(
        text.contains("  note      archive/data.pkl: bad CRC"),
        "{text}"
    );
    assert!(text.contains("NOT SAFE TO LOAD"), "{text}");
    let report = json(&run(&["scan", path_str(dir.path()), "--json"], 1));
    let summary = &report["summary"];
    assert_eq!(summary["files"], samples.len());
    assert_eq!(
        summary["safe"],
        samples.iter().filter(|s| s.label == Label::Benign).count()
    );
    assert_eq!(
        summary["invalid"],
        samples
            .iter()
            .filter(|s| s.label == Label::Malformed)
            .count()
    );
    let error = run_err(&["scan", "no/such/model"], 2);
    assert!(error.contains("no/such/model"), "{error}");
}

#[test]
fn verify_scan_fails_a_verified_model_that_would_run_code() {
    let dir = tempfile::tempdir().unwrap();
    let model = copy_example_model(dir.path());
    let manifest = dir.path().join("manifest.json");
    run(
        &["hash", path_str(&model), "-o", path_str(&manifest), "-q"],
        0,
    );
    let ok = run(
        &[
            "verify",
            path_str(&model),
            "--manifest",
            path_str(&manifest),
            "--scan",
        ],
        0,
    );
    assert!(
        ok.starts_with("OK: ") && ok.contains("4 files: 4 safe, 0 unsafe"),
        "{ok}"
    );
    // The publisher's own manifest covers a payload: the bytes verify, the scan does not pass.
    std::fs::write(model.join("optimizer.pt"), b"cos\nsystem\n(S'id'\ntR.").unwrap();
    run(
        &["hash", path_str(&model), "-o", path_str(&manifest), "-q"],
        0,
    );
    let failed = run(
        &[
            "verify",
            path_str(&model),
            "--manifest",
            path_str(&manifest),
            "--scan",
        ],
        1,
    );
    assert!(
        failed.starts_with("OK: ")
            && failed.contains("UNSAFE      ")
            && failed.contains("optimizer.pt"),
        "{failed}"
    );
    let report = json(&run(
        &[
            "verify",
            path_str(&model),
            "--manifest",
            path_str(&manifest),
            "--scan",
            "--json",
        ],
        1,
    ));
    assert_eq!(report["ok"], true);
    assert!(
        report["scan"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["verdict"] == "unsafe")
    );
}

/// Not a check: scripts/fuzz runs it to write the corpus into `MODELPROV_FUZZ_SEEDS`, where it
/// seeds the scanner's fuzz targets with every format and technique the scanner knows.
#[test]
#[ignore = "run by scripts/fuzz"]
fn write_fuzz_seeds() {
    let dir =
        std::env::var_os("MODELPROV_FUZZ_SEEDS").expect("MODELPROV_FUZZ_SEEDS names a folder");
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    assert!(!corpus(&dir).is_empty());
}
