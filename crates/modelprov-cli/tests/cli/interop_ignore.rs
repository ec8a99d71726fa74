//! Ignore paths with the reference `model_signing` 1.1.1: paths the signer left out (recorded in
//! the signature and honoured by the other tool), paths left out at verification (`--ignore` /
//! `--ignore-paths`), and `--ignore-unsigned-files` against bundles model_signing wrote. Every
//! case runs both tools on the same model and signature and checks that they agree.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::interop::{model_signing, text};
use crate::common::*;
use base64::Engine as _;

/// How a signature is made and checked.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Key,
    Certificate,
}

const KINDS: [Kind; 2] = [Kind::Key, Kind::Certificate];

fn keys() -> PathBuf {
    vectors().join("keys")
}

fn pki() -> PathBuf {
    vectors().join("pki")
}

/// `model_signing sign ...` of `model` into `signature`, leaving `ignore` (absolute) out.
fn their_sign(kind: Kind, model: &Path, signature: &Path, ignore: Option<&Path>) {
    let (private, certificate, chain) = (
        keys().join("p256_private_pkcs8.pem"),
        pki().join("leaf_cert.pem"),
        pki().join("int_cert.pem"),
    );
    let leaf_key = pki().join("leaf_key.pem");
    let mut args = vec!["sign"];
    match kind {
        Kind::Key => args.extend(["key", path_str(model), "--private_key", path_str(&private)]),
        Kind::Certificate => args.extend([
            "certificate",
            path_str(model),
            "--private_key",
            path_str(&leaf_key),
            "--signing_certificate",
            path_str(&certificate),
            "--certificate_chain",
            path_str(&chain),
        ]),
    }
    args.extend(["--signature", path_str(signature)]);
    if let Some(ignore) = ignore {
        args.extend(["--ignore-paths", path_str(ignore)]);
    }
    let signed = model_signing(&args);
    assert!(signed.status.success(), "{kind:?}: {}", text(&signed));
}

/// `modelprov sign ...` of `model` into `signature`, leaving `ignore` (relative) out.
fn our_sign(kind: Kind, model: &Path, signature: &Path, ignore: Option<&str>) {
    let (private, leaf_key, certificate, chain) = (
        keys().join("p256_private_pkcs8.pem"),
        pki().join("leaf_key.pem"),
        pki().join("leaf_cert.pem"),
        pki().join("int_cert.pem"),
    );
    let mut args = vec!["sign", path_str(model)];
    match kind {
        Kind::Key => args.extend(["--key", path_str(&private)]),
        Kind::Certificate => args.extend([
            "--key",
            path_str(&leaf_key),
            "--certificate",
            path_str(&certificate),
            "--certificate-chain",
            path_str(&chain),
        ]),
    }
    args.extend(["-o", path_str(signature), "-q"]);
    if let Some(ignore) = ignore {
        args.extend(["--ignore", ignore]);
    }
    run(&args, 0);
}

/// `model_signing verify ...` with `extra` options.
fn their_verify(kind: Kind, model: &Path, signature: &Path, extra: &[&str]) -> Output {
    let (public, root) = (keys().join("p256_public.pem"), pki().join("root_cert.pem"));
    let mut args = vec!["verify"];
    match kind {
        Kind::Key => args.extend(["key", path_str(model), "--public_key", path_str(&public)]),
        Kind::Certificate => args.extend([
            "certificate",
            path_str(model),
            "--certificate_chain",
            path_str(&root),
        ]),
    }
    args.extend(["--signature", path_str(signature)]);
    args.extend(extra);
    model_signing(&args)
}

/// `modelprov verify ...` with `extra` options, expecting exit `code`: (stdout, stderr).
fn our_verify(
    kind: Kind,
    model: &Path,
    signature: &Path,
    extra: &[&str],
    code: i32,
) -> (String, String) {
    let (public, root) = (keys().join("p256_public.pem"), pki().join("root_cert.pem"));
    let mut args = vec![
        "verify",
        path_str(model),
        "--signature",
        path_str(signature),
    ];
    match kind {
        Kind::Key => args.extend(["--key", path_str(&public)]),
        Kind::Certificate => args.extend(["--certificate-chain", path_str(&root)]),
    }
    args.extend(extra);
    run_full(&args, code)
}

/// model_signing accepted.
fn accepted(kind: Kind, output: &Output) {
    assert!(output.status.success(), "{kind:?}: {}", text(output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("Verification succeeded"),
        "{kind:?}: {}",
        text(output)
    );
}

/// model_signing refused (exit 1), saying `words`.
fn refused(kind: Kind, output: &Output, words: &[&str]) {
    assert_eq!(output.status.code(), Some(1), "{kind:?}: {}", text(output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for word in words {
        assert!(
            stderr.contains(word),
            "{kind:?}: {word:?} in {}",
            text(output)
        );
    }
}

/// The signature's predicate: (serialization.ignore_paths, resource names).
fn recorded(signature: &Path) -> (Vec<String>, Vec<String>) {
    let bundle = json(&fs::read_to_string(signature).unwrap());
    let payload = base64::engine::general_purpose::STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let payload = json(std::str::from_utf8(&payload).unwrap());
    let strings = |value: &serde_json::Value, field: Option<&str>| -> Vec<String> {
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|item| {
                let item = field.map_or(item, |field| &item[field]);
                item.as_str().unwrap().to_string()
            })
            .collect()
    };
    (
        strings(&payload["predicate"]["serialization"]["ignore_paths"], None),
        strings(&payload["predicate"]["resources"], Some("name")),
    )
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// Key and certificate signatures, each tool signing with and without a signer-side ignore
/// path: the other tool verifies. An ignored path is recorded in the signature, so files added
/// under it later are still accepted by both, while a file added elsewhere is refused by both.
#[test]
fn signer_side_ignore_paths_both_ways() {
    for kind in KINDS {
        for ignore in [false, true] {
            for model_signing_signs in [true, false] {
                let case =
                    format!("{kind:?} ignore={ignore} model_signing signs={model_signing_signs}");
                let folder = tempfile::tempdir().unwrap();
                let model = copy_model(folder.path());
                let signature = folder.path().join("model.sig");
                let logs = model.join("logs");
                if ignore {
                    write(&logs.join("run.txt"), "step 1\n");
                }
                match (model_signing_signs, ignore) {
                    (true, false) => their_sign(kind, &model, &signature, None),
                    (true, true) => their_sign(kind, &model, &signature, Some(&logs)),
                    (false, false) => our_sign(kind, &model, &signature, None),
                    (false, true) => our_sign(kind, &model, &signature, Some("logs")),
                }
                let (ignore_paths, resources) = recorded(&signature);
                assert_eq!(
                    ignore_paths.contains(&"logs".to_string()),
                    ignore,
                    "{case}: {ignore_paths:?}"
                );
                assert!(
                    !resources.iter().any(|name| name.starts_with("logs/")),
                    "{case}: {resources:?}"
                );
                assert!(resources.contains(&"config.json".to_string()), "{case}");

                if model_signing_signs {
                    let (stdout, _) = our_verify(kind, &model, &signature, &[], 0);
                    assert!(stdout.starts_with("OK: "), "{case}: {stdout}");
                } else {
                    accepted(kind, &their_verify(kind, &model, &signature, &[]));
                }
                if !ignore {
                    continue;
                }
                // Later files under the recorded ignore path: still accepted by both.
                write(&logs.join("later.txt"), "step 2\n");
                accepted(kind, &their_verify(kind, &model, &signature, &[]));
                our_verify(kind, &model, &signature, &[], 0);
                // A file elsewhere: refused by both.
                write(&model.join("stray.txt"), "stray\n");
                refused(
                    kind,
                    &their_verify(kind, &model, &signature, &[]),
                    &["Extra files found", "stray.txt"],
                );
                let (stdout, _) = our_verify(kind, &model, &signature, &[], 1);
                assert!(stdout.contains("added     stray.txt"), "{case}: {stdout}");
                assert!(!stdout.contains("logs/"), "{case}: {stdout}");
            }
        }
    }
}

/// model_signing signs; a file then appears under logs/. Leaving logs out at verification
/// (model_signing `--ignore-paths MODEL/logs`, modelprov `--ignore logs`) is accepted by both;
/// without it both refuse, naming the file. Leaving out a SIGNED file at verification is refused
/// by both: the signature lists it, so it is missing.
#[test]
fn verify_time_ignore_paths() {
    for kind in KINDS {
        let folder = tempfile::tempdir().unwrap();
        let model = copy_model(folder.path());
        let signature = folder.path().join("model.sig");
        their_sign(kind, &model, &signature, None);
        let logs = model.join("logs");
        write(&logs.join("run.txt"), "step 1\n");

        refused(
            kind,
            &their_verify(kind, &model, &signature, &[]),
            &["Extra files found", "logs/run.txt"],
        );
        let (stdout, _) = our_verify(kind, &model, &signature, &[], 1);
        assert!(
            stdout.contains("added     logs/run.txt"),
            "{kind:?}: {stdout}"
        );

        accepted(
            kind,
            &their_verify(
                kind,
                &model,
                &signature,
                &["--ignore-paths", path_str(&logs)],
            ),
        );
        let (stdout, _) = our_verify(kind, &model, &signature, &["--ignore", "logs"], 0);
        assert!(stdout.starts_with("OK: "), "{kind:?}: {stdout}");
        // modelprov also takes the path absolute, as model_signing does.
        our_verify(kind, &model, &signature, &["--ignore", path_str(&logs)], 0);

        // Ignoring a file the signature lists: both refuse, as missing.
        let tokenizer = model.join("tokenizer.json");
        refused(
            kind,
            &their_verify(
                kind,
                &model,
                &signature,
                &[
                    "--ignore-paths",
                    path_str(&logs),
                    "--ignore-paths",
                    path_str(&tokenizer),
                ],
            ),
            &["Missing files", "tokenizer.json"],
        );
        let (stdout, _) = our_verify(
            kind,
            &model,
            &signature,
            &["--ignore", "logs", "--ignore", "tokenizer.json"],
            1,
        );
        assert!(
            stdout.contains("missing   tokenizer.json"),
            "{kind:?}: {stdout}"
        );
        assert!(!stdout.contains("logs/"), "{kind:?}: {stdout}");
    }
}

/// `--ignore-unsigned-files` against bundles model_signing wrote: files the signature does not
/// list are accepted by both with the flag and refused by both without it; a signed file
/// modified or deleted is refused by both even with it.
#[test]
fn ignore_unsigned_files_against_model_signing_bundles() {
    for kind in KINDS {
        let folder = tempfile::tempdir().unwrap();
        let model = copy_model(folder.path());
        let signature = folder.path().join("model.sig");
        their_sign(kind, &model, &signature, None);
        write(&model.join("notes.txt"), "unsigned\n");
        write(&model.join("logs/run.txt"), "unsigned too\n");

        refused(
            kind,
            &their_verify(kind, &model, &signature, &[]),
            &["Extra files found", "notes.txt"],
        );
        let (stdout, _) = our_verify(kind, &model, &signature, &[], 1);
        assert!(stdout.contains("added     notes.txt"), "{kind:?}: {stdout}");
        assert!(
            stdout.contains("added     logs/run.txt"),
            "{kind:?}: {stdout}"
        );

        accepted(
            kind,
            &their_verify(kind, &model, &signature, &["--ignore_unsigned_files"]),
        );
        for flag in ["--ignore-unsigned-files", "--ignore_unsigned_files"] {
            let (stdout, stderr) = our_verify(kind, &model, &signature, &[flag], 0);
            assert!(stdout.starts_with("OK: "), "{kind:?} {flag}: {stdout}");
            assert!(
                stderr.contains("2 file(s) the signature does not list were left out"),
                "{kind:?} {flag}: {stderr}"
            );
        }

        // A signed file modified: refused by both, even with the flag.
        let config = model.join("config.json");
        let original = fs::read(&config).unwrap();
        let mut changed = original.clone();
        changed[10] ^= 1;
        fs::write(&config, &changed).unwrap();
        refused(
            kind,
            &their_verify(kind, &model, &signature, &["--ignore_unsigned_files"]),
            &["Hash mismatch for 'config.json'"],
        );
        let (stdout, _) = our_verify(kind, &model, &signature, &["--ignore-unsigned-files"], 1);
        assert!(
            stdout.contains("modified  config.json"),
            "{kind:?}: {stdout}"
        );
        fs::write(&config, &original).unwrap();
        our_verify(kind, &model, &signature, &["--ignore-unsigned-files"], 0);

        // A signed file deleted: refused by both, even with the flag (model_signing fails when
        // it opens the file the signature lists).
        fs::remove_file(model.join("empty.bin")).unwrap();
        refused(
            kind,
            &their_verify(kind, &model, &signature, &["--ignore_unsigned_files"]),
            &["empty.bin"],
        );
        let (stdout, _) = our_verify(kind, &model, &signature, &["--ignore-unsigned-files"], 1);
        assert!(stdout.contains("missing   empty.bin"), "{kind:?}: {stdout}");
    }
}
