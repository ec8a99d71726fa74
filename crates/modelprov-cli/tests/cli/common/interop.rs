//! The reference implementations, from the venv that scripts/test sets up.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The interop venv: `MODELPROV_INTEROP_VENV`, else the one scripts/test leaves in target/.
/// Missing is a failure, never a skip: these tests are the proof of interoperability.
pub fn venv() -> PathBuf {
    let venv = std::env::var_os("MODELPROV_INTEROP_VENV").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/interop-venv"),
        PathBuf::from,
    );
    assert!(
        venv.join("bin/model_signing").is_file(),
        "the reference tools are not installed at {}: run scripts/test (it creates the venv), \
         or set MODELPROV_INTEROP_VENV",
        venv.display()
    );
    venv
}

/// Runs `model_signing args...`.
pub fn model_signing(args: &[&str]) -> Output {
    Command::new(venv().join("bin/model_signing"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs the venv's Python on `script` with `args`.
pub fn python(script: &str, args: &[&str]) -> Output {
    Command::new(venv().join("bin/python"))
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap()
}

/// [`python`], which must succeed: the reference files a test compares with.
pub fn python_ok(script: &str, args: &[&str]) -> Output {
    let output = python(script, args);
    assert!(output.status.success(), "{}", text(&output));
    output
}

pub fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
