//! A team's scan policy on the command line: `--allow MODULE.NAME` and `--scan-policy FILE` on
//! `scan` and `verify --scan`. Trusted classes are reported as allowed (text and JSON), never
//! silently; names that can run code cannot be allowed.

use crate::common::*;

/// `mycompany.models.Net()` as protocol 2 writes it: GLOBAL, EMPTY_TUPLE, NEWOBJ.
const TEAM_CLASS: &[u8] = b"\x80\x02cmycompany.models\nNet\n)\x81.";

#[test]
fn allowed_classes_are_reported_and_do_not_fail_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.pkl");
    std::fs::write(&model, TEAM_CLASS).unwrap();
    let unsafe_ = run(&["scan", path_str(&model)], 1);
    assert!(
        unsafe_.contains("unknown   GLOBAL at offset 2: imports mycompany.models.Net"),
        "{unsafe_}"
    );

    let allowed = run(
        &[
            "scan",
            path_str(&model),
            "--allow",
            "mycompany.models.Net",
            "-q",
        ],
        0,
    );
    assert!(
        allowed.contains(
            "  allowed   GLOBAL at offset 2: imports mycompany.models.Net, allowed by policy"
        ) && allowed.contains(
            "1 files: 1 safe, 0 unsafe, 0 invalid, 0 unscannable (2 findings allowed by policy)"
        ),
        "{allowed}"
    );

    let policy = dir.path().join("scan-policy.toml");
    std::fs::write(&policy, "allow = [\"mycompany.models.Net\"]\n").unwrap();
    let report = json(&run(
        &[
            "scan",
            path_str(&model),
            "--scan-policy",
            path_str(&policy),
            "--json",
        ],
        0,
    ));
    assert_eq!(report["summary"]["allowed_by_policy"], 2);
    assert_eq!(report["files"][0]["verdict"], "safe");
    assert_eq!(report["files"][0]["findings"][0]["risk"], "allowed");

    // Another class in the same file is still judged.
    std::fs::write(
        &model,
        b"\x80\x02cmycompany.models\nNet\n)\x81cmycompany.models\nOther\n)\x81\x86.",
    )
    .unwrap();
    let other = run(
        &["scan", path_str(&model), "--allow", "mycompany.models.Net"],
        1,
    );
    assert!(
        other.contains("unknown   GLOBAL at offset 26: imports mycompany.models.Other"),
        "{other}"
    );
}

#[test]
fn names_that_run_code_cannot_be_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.pkl");
    std::fs::write(&model, b"cos\nsystem\n(S'id'\ntR.").unwrap();
    for name in [
        "os.system",
        "builtins.eval",
        "pathlib.os.system",
        "numpy.__builtins__",
    ] {
        let error = run_err(&["scan", path_str(&model), "--allow", name], 2);
        assert!(
            error.contains(&format!("cannot allow '{name}'")) && error.contains("can run code"),
            "{name}: {error}"
        );
    }
    let policy = dir.path().join("scan-policy.toml");
    std::fs::write(&policy, "allow = [\"os.system\"]\n").unwrap();
    let error = run_err(
        &["scan", path_str(&model), "--scan-policy", path_str(&policy)],
        2,
    );
    assert!(
        error.contains("scan-policy.toml") && error.contains("cannot allow 'os.system'"),
        "{error}"
    );
    // A misspelt key is refused, not read as an empty policy.
    std::fs::write(&policy, "alow = [\"mycompany.models.Net\"]\n").unwrap();
    let error = run_err(
        &["scan", path_str(&model), "--scan-policy", path_str(&policy)],
        2,
    );
    assert!(
        error.contains("scan-policy.toml") && error.contains("unknown field `alow`"),
        "{error}"
    );
}

#[test]
fn verify_scan_takes_the_same_policy() {
    let dir = tempfile::tempdir().unwrap();
    let model = copy_example_model(dir.path());
    std::fs::write(model.join("extra.pkl"), TEAM_CLASS).unwrap();
    let manifest = dir.path().join("manifest.json");
    run(
        &["hash", path_str(&model), "-o", path_str(&manifest), "-q"],
        0,
    );
    let verify = |extra: &[&str], code| {
        let mut args = vec![
            "verify",
            path_str(&model),
            "--manifest",
            path_str(&manifest),
        ];
        args.extend_from_slice(extra);
        run(&args, code)
    };
    verify(&["--scan"], 1);
    let ok = verify(&["--scan", "--allow", "mycompany.models.Net"], 0);
    // verify prints only files that are not plainly safe: the allowed one is shown.
    assert!(
        ok.contains("extra.pkl") && ok.contains("allowed by policy"),
        "{ok}"
    );
    let error = run_err(
        &[
            "verify",
            path_str(&model),
            "--manifest",
            path_str(&manifest),
            "--allow",
            "mycompany.models.Net",
        ],
        2,
    );
    assert!(error.contains("go with --scan"), "{error}");
}

/// Real pickles written by the pinned libraries the allowlist was generated from (scikit-learn
/// 1.9 and 1.3, NumPy 2 and 1, scipy.sparse, gensim, sklearn-crfsuite, XGBoost, LightGBM,
/// omegaconf; scripts/allowlist/make_fixtures.py): none may be a false alarm.
#[test]
fn real_pickles_of_the_allowlisted_libraries_scan_safe() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/allowlist-models");
    let scans = modelprov::scan::scan_path(&dir).unwrap();
    assert!(scans.len() >= 180, "{} files", scans.len());
    let flagged: Vec<String> = scans
        .iter()
        .filter(|s| s.verdict != modelprov::scan::Verdict::Safe)
        .map(|s| {
            let found: Vec<_> = s
                .findings
                .iter()
                .map(|f| f.finding.message.clone())
                .collect();
            format!(
                "{}: {:?} {found:?} {:?}",
                s.path.display(),
                s.verdict,
                s.notes
            )
        })
        .collect();
    assert!(flagged.is_empty(), "{flagged:#?}");
}
