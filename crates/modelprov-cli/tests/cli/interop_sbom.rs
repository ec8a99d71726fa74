//! Every AI-SBOM the tests produce passes the official validators, run as separate programs:
//! `validate_cdx.py` from ../shared/schemas (jsonschema, Draft 7, the official CycloneDX schemas,
//! with its reference checks as errors), cyclonedx-python-lib's JsonStrictValidator, and
//! `validate_spdx3.py` (the SPDX 3.0.1 JSON schema and the SHACL model, with pyshacl).

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::interop::{text, venv};
use crate::common::sbom::{fixture, generate, tutorial_model};
use crate::common::*;

/// The validator scripts read the schemas from `schemas/` beside themselves, while the shared
/// folder keeps them beside the scripts; give them that layout. Returns the folder.
fn validator_layout(dir: &Path) -> PathBuf {
    let shared = vectors().join("../../schemas");
    let layout = dir.join("validators");
    fs::create_dir_all(&layout).unwrap();
    for script in ["validate_cdx.py", "validate_spdx3.py"] {
        fs::copy(shared.join(script), layout.join(script)).unwrap();
    }
    std::os::unix::fs::symlink(shared.canonicalize().unwrap(), layout.join("schemas")).unwrap();
    layout
}

/// Runs the official validator for `document` (by its extension); it must say valid.
fn official(layout: &Path, document: &Path, flags: &[&str]) -> String {
    let script = if document.to_string_lossy().ends_with(".spdx.json") {
        "validate_spdx3.py"
    } else {
        "validate_cdx.py"
    };
    let output = std::process::Command::new(venv().join("bin/python"))
        .arg(layout.join(script))
        .arg(document)
        .args(flags)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{} {flags:?}\n{}",
        document.display(),
        text(&output)
    );
    assert!(stdout.contains(": valid "), "{}", text(&output));
    stdout
}

#[test]
fn official_validators_accept_every_generated_sbom() {
    let dir = tempfile::tempdir().unwrap();
    let layout = validator_layout(dir.path());
    let (model, registry) = tutorial_model(dir.path());
    let osv = fixture("osv");
    let bare = copy_example_model(&dir.path().join("bare"));
    fs::remove_file(bare.join("README.md")).unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tiny-model");
    let mut with_every_lockfile = vec![
        path_str(&bare).to_string(),
        "--osv".into(),
        path_str(&osv).into(),
    ];
    for file in [
        "requirements.txt",
        "pyproject.toml",
        "uv.lock",
        "poetry.lock",
        "Pipfile.lock",
        "Cargo.lock",
        "package-lock.json",
    ] {
        with_every_lockfile.push("--requirements".into());
        with_every_lockfile.push(path_str(&fixture(&format!("deps/{file}"))).to_string());
    }
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "tutorial",
            vec![
                path_str(&model).into(),
                "--osv".into(),
                path_str(&osv).into(),
            ],
        ),
        ("example-with-card", vec![path_str(&example).into()]),
        ("bare-with-every-lockfile", with_every_lockfile),
    ];
    for (name, args) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        for spec in ["1.6", "1.7"] {
            let bom = generate(&[&args[..], &["--spec", spec]].concat(), &registry);
            let file = dir.path().join(format!("{name}-{spec}.cdx.json"));
            fs::write(&file, serde_json::to_vec_pretty(&bom).unwrap()).unwrap();
            official(&layout, &file, &["--strict-refs"]);
            official(&layout, &file, &["--lib"]);
        }
        let document = generate(&[&args[..], &["--format", "spdx"]].concat(), &registry);
        let file = dir.path().join(format!("{name}.spdx.json"));
        fs::write(&file, serde_json::to_vec_pretty(&document).unwrap()).unwrap();
        run(&["sbom", "validate", path_str(&file)], 0);
        let verdict = official(&layout, &file, &[]);
        assert!(verdict.contains("JSON schema + SHACL"), "{verdict}");
    }
}

#[test]
fn the_official_validators_agree_on_the_invalid_examples() {
    let dir = tempfile::tempdir().unwrap();
    let layout = validator_layout(dir.path());
    let examples = vectors().join("../../schemas/examples");
    for (file, script) in [
        ("mlbom-invalid-1.6.json", "validate_cdx.py"),
        ("aibom-invalid-spdx3.0.1.jsonld", "validate_spdx3.py"),
    ] {
        let output = std::process::Command::new(venv().join("bin/python"))
            .arg(layout.join(script))
            .arg(examples.join(file))
            .arg(if script == "validate_cdx.py" {
                "--strict-refs"
            } else {
                "--no-model"
            })
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{file}: {}", text(&output));
        run(&["sbom", "validate", path_str(&examples.join(file))], 1);
    }
}
