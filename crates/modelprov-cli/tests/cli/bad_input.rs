//! Bad input: a clear message naming the file, exit code 2, no panic, and nothing written.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command as Process;

use crate::common::*;
use serde_json::{Value, json as j};

fn mkfifo(path: &Path) {
    let status = Process::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

#[test]
fn a_missing_model_is_an_input_error() {
    let stderr = run_err(&["hash", "/nonexistent/model"], 2);
    assert!(
        stderr.contains("/nonexistent/model") && stderr.contains("No such file"),
        "{stderr}"
    );
    let stderr = run_err(
        &["verify", "/nonexistent/model", "--digest", MODEL_DIGEST],
        2,
    );
    assert!(stderr.contains("/nonexistent/model"), "{stderr}");
}

#[test]
fn special_files_are_refused_without_blocking() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_model(folder.path());
    mkfifo(&model.join("pipe"));
    let stderr = run_err(&["hash", path_str(&model)], 2);
    assert!(
        stderr.contains("pipe") && stderr.contains("FIFO"),
        "{stderr}"
    );
    // The model path itself a FIFO: refused before anything opens it.
    let stderr = run_err(&["hash", path_str(&model.join("pipe"))], 2);
    assert!(stderr.contains("FIFO"), "{stderr}");
    let stderr = run_err(&["hash", "/dev/null"], 2);
    assert!(stderr.contains("character device"), "{stderr}");
}

#[test]
fn symlinks_are_refused_unless_allowed() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_model(folder.path());
    let outside = folder.path().join("outside.bin");
    fs::write(&outside, "secret").unwrap();
    symlink(&outside, model.join("link.bin")).unwrap();
    let stderr = run_err(&["hash", path_str(&model)], 2);
    assert!(
        stderr.contains("link.bin") && stderr.contains("symlink"),
        "{stderr}"
    );

    let output = modelprov()
        .args(["hash", path_str(&model), "--allow-symlinks", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let report = json(&String::from_utf8(output.stdout).unwrap());
    assert_eq!(report["files"], 7);
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("link.bin") && warnings.contains("outside the model"),
        "{warnings}"
    );

    // A link to a folder is skipped (as OMS does), and said so.
    fs::remove_file(model.join("link.bin")).unwrap();
    symlink(model.join("extra"), model.join("dirlink")).unwrap();
    let report = json(&run(
        &["hash", path_str(&model), "--allow-symlinks", "--json"],
        0,
    ));
    assert_eq!(report["digest"], MODEL_DIGEST);
    assert!(report["warnings"].to_string().contains("dirlink"));

    // A dangling link cannot be hashed.
    symlink(folder.path().join("gone"), model.join("dangling")).unwrap();
    let stderr = run_err(&["hash", path_str(&model), "--allow-symlinks"], 2);
    assert!(stderr.contains("dangling"), "{stderr}");
}

#[test]
fn an_unreadable_file_is_an_input_error_naming_it() {
    use std::os::unix::fs::PermissionsExt;
    let folder = tempfile::tempdir().unwrap();
    fs::set_permissions(folder.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let model = folder.path().join("model");
    fs::create_dir(&model).unwrap();
    fs::write(model.join("weights.bin"), "w").unwrap();
    fs::write(model.join("secret.bin"), "s").unwrap();
    fs::set_permissions(model.join("secret.bin"), fs::Permissions::from_mode(0o000)).unwrap();
    let binary = assert_cmd::cargo::cargo_bin("modelprov");
    // Root reads everything; drop to an unprivileged user to meet the error users meet.
    let mut command = if running_as_root() {
        let mut c = Process::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&binary);
        c
    } else {
        Process::new(&binary)
    };
    let output = command.args(["hash", path_str(&model)]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("secret.bin") && stderr.contains("Permission denied"),
        "{stderr}"
    );
}

fn running_as_root() -> bool {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .any(|line| line.starts_with("Uid:") && line.split_whitespace().nth(1) == Some("0"))
}

#[test]
fn a_name_that_is_not_utf8_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_model(folder.path());
    fs::write(model.join(OsStr::from_bytes(b"bad\xffname")), "x").unwrap();
    let stderr = run_err(&["hash", path_str(&model)], 2);
    assert!(stderr.contains("not valid UTF-8"), "{stderr}");
}

#[test]
fn an_empty_model_gets_no_identity() {
    let folder = tempfile::tempdir().unwrap();
    let stderr = run_err(&["hash", path_str(folder.path())], 2);
    assert!(stderr.contains("no files to hash"), "{stderr}");
    fs::create_dir_all(folder.path().join(".git")).unwrap();
    fs::write(folder.path().join(".git/HEAD"), "x").unwrap();
    let stderr = run_err(&["hash", path_str(folder.path())], 2);
    assert!(stderr.contains("no files to hash"), "{stderr}");
}

#[test]
fn a_hundred_thousand_small_files() {
    let folder = tempfile::tempdir().unwrap();
    let model = folder.path().join("many");
    for group in 0..100 {
        let dir = model.join(format!("g{group:03}"));
        fs::create_dir_all(&dir).unwrap();
        for index in 0..1000 {
            fs::write(
                dir.join(format!("{index:04}.txt")),
                format!("{group}/{index}"),
            )
            .unwrap();
        }
    }
    let manifest = folder.path().join("many.json");
    let report = json(&run(
        &[
            "hash",
            path_str(&model),
            "--json",
            "-o",
            path_str(&manifest),
        ],
        0,
    ));
    assert_eq!(report["files"], 100_000);
    let stdout = run(
        &[
            "verify",
            path_str(&model),
            "--manifest",
            path_str(&manifest),
        ],
        0,
    );
    assert!(stdout.starts_with("OK"));
}

/// Breaks one thing in a manifest.
type Breaker = Box<dyn Fn(&mut Value)>;

/// A valid manifest of the test model, as JSON to be broken.
fn valid_manifest(folder: &Path) -> Value {
    let path = folder.join("good.json");
    run(
        &[
            "hash",
            path_str(&vectors().join("model")),
            "-q",
            "-o",
            path_str(&path),
        ],
        0,
    );
    json(&fs::read_to_string(path).unwrap())
}

#[test]
fn malformed_manifests_are_refused_with_what_and_where() {
    let folder = tempfile::tempdir().unwrap();
    let good = valid_manifest(folder.path());
    let model = vectors().join("model");
    let broken: Vec<(&str, Breaker)> = vec![
        (
            "appears more than once",
            Box::new(|m| {
                let first = m["resources"][0].clone();
                m["resources"].as_array_mut().unwrap().push(first);
            }),
        ),
        (
            "contains '..'",
            Box::new(|m| m["resources"][1]["name"] = j!("../config.json")),
        ),
        (
            "is absolute",
            Box::new(|m| m["resources"][1]["name"] = j!("/etc/passwd")),
        ),
        (
            "unknown algorithm 'md5'",
            Box::new(|m| m["resources"][2]["algorithm"] = j!("md5")),
        ),
        (
            "unknown hash_type 'md5'",
            Box::new(|m| m["serialization"]["hash_type"] = j!("md5")),
        ),
        (
            "not hexadecimal",
            Box::new(|m| m["resources"][0]["digest"] = j!("zz")),
        ),
        (
            "manifest is inconsistent",
            Box::new(|m| m["digest"] = j!(format!("sha256:{}", "0".repeat(64)))),
        ),
        (
            "unknown manifest format",
            Box::new(|m| m["format"] = j!("other/v9")),
        ),
        (
            "missing field `resources`",
            Box::new(|m| {
                m.as_object_mut().unwrap().remove("resources");
            }),
        ),
    ];
    for (expected, breaker) in broken {
        let mut manifest = good.clone();
        breaker(&mut manifest);
        let path = folder.path().join("bad.json");
        fs::write(&path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
        let stderr = run_err(
            &["verify", path_str(&model), "--manifest", path_str(&path)],
            2,
        );
        assert!(
            stderr.contains("bad.json") && stderr.contains(expected),
            "wanted '{expected}':\n{stderr}"
        );
    }
    let path = folder.path().join("bad.json");
    fs::write(&path, "{\n  \"format\": ").unwrap();
    let stderr = run_err(
        &["verify", path_str(&model), "--manifest", path_str(&path)],
        2,
    );
    assert!(
        stderr.contains("bad.json") && stderr.contains("line 2"),
        "{stderr}"
    );
}

#[test]
fn a_failed_hash_leaves_an_existing_manifest_untouched() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_model(folder.path());
    let manifest = folder.path().join("m.json");
    run(
        &["hash", path_str(&model), "-q", "-o", path_str(&manifest)],
        0,
    );
    let before = fs::read(&manifest).unwrap();
    mkfifo(&model.join("pipe"));
    run_err(&["hash", path_str(&model), "-o", path_str(&manifest)], 2);
    assert_eq!(fs::read(&manifest).unwrap(), before);
    let leftovers: Vec<_> = fs::read_dir(folder.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "{leftovers:?}"); // model/ and m.json, no temporary files
}
