//! Helpers shared by the CLI tests.
#![allow(dead_code)] // each test binary uses its own subset

pub mod corpus;
pub mod corpus_ghsa;
pub mod interop;
pub mod pki;
pub mod sbom;

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

pub const MODEL_DIGEST: &str =
    "sha256:8892da4eac46260d5938336518ba9825282fe615289912758c5cca9e226de196";

pub fn modelprov() -> Command {
    Command::cargo_bin("modelprov").unwrap()
}

pub fn vectors() -> PathBuf {
    let path = std::env::var_os("MODELPROV_OMS_VECTORS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/oms"),
        PathBuf::from,
    );
    assert!(
        path.join("model").is_dir(),
        "OMS vectors not found at {}",
        path.display()
    );
    path
}

/// A writable copy of the reference test model (dotfiles included) in `into`/model.
pub fn copy_model(into: &Path) -> PathBuf {
    let target = into.join("model");
    copy_tree(&vectors().join("model"), &target);
    target
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let destination = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &destination);
        } else {
            fs::write(&destination, fs::read(entry.path()).unwrap()).unwrap();
        }
    }
}

/// Runs `modelprov args...`, expecting exit `code`; returns (stdout, stderr).
pub fn run_full(args: &[&str], code: i32) -> (String, String) {
    let output = modelprov().args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(code),
        "modelprov {args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    (stdout, stderr)
}

/// Runs `modelprov args...`, expecting exit `code`; returns stdout.
pub fn run(args: &[&str], code: i32) -> String {
    run_full(args, code).0
}

/// Runs `modelprov args...`, expecting exit `code`; returns stderr.
pub fn run_err(args: &[&str], code: i32) -> String {
    run_full(args, code).1
}

/// `modelprov sign MODEL --key KEY -o SIGNATURE -q`, which must succeed.
pub fn sign(model: &Path, key: &Path, signature: &Path) {
    run(
        &[
            "sign",
            path_str(model),
            "--key",
            path_str(key),
            "-o",
            path_str(signature),
            "-q",
        ],
        0,
    );
}

/// A fresh `key_type` key at `key` (its public key at `<key>.pub`, returned), then `sign`.
pub fn keygen_and_sign(key_type: &str, key: &Path, model: &Path, signature: &Path) -> PathBuf {
    run(
        &["keygen", "--type", key_type, "--private-key", path_str(key)],
        0,
    );
    sign(model, key, signature);
    let mut public = key.as_os_str().to_owned();
    public.push(".pub");
    PathBuf::from(public)
}

pub fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A messy card fixture from tests/fixtures/cards.
pub fn card_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cards")
        .join(name)
}

/// A writable copy of the bundled example model (examples/tiny-model) in `into`/tiny-model.
pub fn copy_example_model(into: &Path) -> PathBuf {
    let target = into.join("tiny-model");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tiny-model"),
        &target,
    );
    target
}
