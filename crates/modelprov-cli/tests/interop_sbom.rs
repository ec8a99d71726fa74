//! Every ML-BOM the tests produce passes the official validators, run as separate programs:
//! `validate_cdx.py` from ../shared/schemas (jsonschema, Draft 7, the official CycloneDX schemas,
//! with its reference checks as errors) and cyclonedx-python-lib's JsonStrictValidator.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::interop::{text, venv};
use common::sbom::{fixture, generate, tutorial_model};
use common::*;

/// validate_cdx.py reads the schemas from `schemas/` beside itself; give it that layout.
fn validator_layout(dir: &Path) -> PathBuf {
    let shared = vectors().join("../../schemas");
    let layout = dir.join("validators");
    fs::create_dir_all(&layout).unwrap();
    fs::copy(
        shared.join("validate_cdx.py"),
        layout.join("validate_cdx.py"),
    )
    .unwrap();
    std::os::unix::fs::symlink(shared.canonicalize().unwrap(), layout.join("schemas")).unwrap();
    layout.join("validate_cdx.py")
}

fn official(script: &Path, bom: &Path, flags: &[&str]) {
    let output = std::process::Command::new(venv().join("bin/python"))
        .arg(script)
        .arg(bom)
        .args(flags)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{} {flags:?}\n{}",
        bom.display(),
        text(&output)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains(": valid CycloneDX"),
        "{}",
        text(&output)
    );
}

#[test]
fn official_validators_accept_every_generated_bom() {
    let dir = tempfile::tempdir().unwrap();
    let script = validator_layout(dir.path());
    let (model, registry) = tutorial_model(dir.path());
    let osv = fixture("osv");
    let bare = copy_example_model(&dir.path().join("bare"));
    fs::remove_file(bare.join("README.md")).unwrap();
    let mut deps = vec![path_str(&bare).to_string()];
    for file in [
        "requirements.txt",
        "pyproject.toml",
        "uv.lock",
        "poetry.lock",
        "Pipfile.lock",
        "Cargo.lock",
        "package-lock.json",
    ] {
        deps.push("--requirements".into());
        deps.push(path_str(&fixture(&format!("deps/{file}"))).to_string());
    }
    deps.extend(["--osv".into(), path_str(&osv).to_string()]);
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "tutorial-1.6",
            vec![
                path_str(&model).into(),
                "--osv".into(),
                path_str(&osv).into(),
            ],
        ),
        (
            "tutorial-1.7",
            vec![
                path_str(&model).into(),
                "--osv".into(),
                path_str(&osv).into(),
                "--spec".into(),
                "1.7".into(),
            ],
        ),
        (
            "example-card",
            vec![
                path_str(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tiny-model"))
                    .into(),
            ],
        ),
        ("bare-with-every-lockfile", deps),
    ];
    for (name, args) in cases {
        let bom = generate(
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            &registry,
        );
        let file = dir.path().join(format!("{name}.cdx.json"));
        fs::write(&file, serde_json::to_vec_pretty(&bom).unwrap()).unwrap();
        official(&script, &file, &["--strict-refs"]);
        official(&script, &file, &["--lib"]);
    }
}

#[test]
fn the_official_validator_agrees_on_the_invalid_example() {
    let dir = tempfile::tempdir().unwrap();
    let script = validator_layout(dir.path());
    let invalid = vectors().join("../../schemas/examples/mlbom-invalid-1.6.json");
    let output = std::process::Command::new(venv().join("bin/python"))
        .arg(&script)
        .arg(&invalid)
        .arg("--strict-refs")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    run(&["sbom", "validate", path_str(&invalid)], 1);
}
