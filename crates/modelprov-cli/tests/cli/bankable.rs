//! Issue 11: verdicts a user can bank on. One digest per model whichever command computes it;
//! writers that never destroy what they write over; no panic on a closed or full stdout; every
//! option takes effect or is refused; hostile small inputs are errors, not aborts.

use std::fs;
use std::os::unix::fs::{FileTypeExt, symlink};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::interop::{model_signing, text};
use crate::common::*;

fn keypair(folder: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let key = folder.join("signer.key");
    run(&["keygen", "--private-key", path_str(&key)], 0);
    let public = folder.join("signer.key.pub");
    (key, public)
}

fn edit_readme(model: &Path) {
    let readme = model.join("README.md");
    let mut text = fs::read_to_string(&readme).unwrap();
    text.push_str("\nEdited after signing.\n");
    fs::write(readme, text).unwrap();
}

// ---- 1. One model, one digest ----

#[test]
fn hash_card_lineage_sbom_and_sign_agree_on_one_digest() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_example_model(folder.path());
    let m = path_str(&model);
    let hashed = run(&["hash", m, "-q"], 0).trim().to_string();

    // The digest the example card records is the one `hash` prints.
    let card = fs::read_to_string(model.join("README.md")).unwrap();
    assert!(
        card.contains(&hashed),
        "the card records another digest than {hashed}"
    );
    run(
        &[
            "card",
            "validate",
            path_str(&model.join("README.md")),
            "--model",
            m,
            "-q",
        ],
        0,
    );

    // It verifies as a bare digest and as a trust-file entry, with a note on the card.
    let (_, stderr) = run_full(&["verify", m, "--digest", &hashed], 0);
    assert!(
        stderr.contains("README.md, the model card, is not covered"),
        "{stderr}"
    );
    let trust = folder.path().join("trust.json");
    fs::write(&trust, format!(r#"{{"tiny@1": "{hashed}"}}"#)).unwrap();
    run(
        &["verify", m, "--trusted", path_str(&trust), "--id", "tiny@1"],
        0,
    );

    // Lineage, SBOM and a plain signature carry the same digest.
    let registry = folder.path().join("registry.sqlite");
    let recorded = json(&run(
        &[
            "lineage",
            "record",
            "--name",
            "tiny",
            "--model-version",
            "1.0.0",
            "--model",
            m,
            "--registry",
            path_str(&registry),
            "--json",
        ],
        0,
    ));
    assert_eq!(recorded["digest"], hashed.as_str(), "{recorded}");
    let sbom = json(&run(
        &[
            "sbom",
            "generate",
            m,
            "-q",
            "--registry",
            path_str(&registry),
        ],
        0,
    ));
    assert!(
        sbom.to_string()
            .contains(hashed.trim_start_matches("sha256:"))
    );
    let (key, _) = keypair(folder.path());
    let signed = run(
        &[
            "sign",
            m,
            "--key",
            path_str(&key),
            "-o",
            path_str(&folder.path().join("m.sig")),
            "-q",
        ],
        0,
    );
    assert_eq!(signed.trim(), hashed);
}

#[test]
fn a_plain_signature_leaves_the_card_out_and_says_so() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_example_model(folder.path());
    let m = path_str(&model);
    let (key, public) = keypair(folder.path());
    let signature = folder.path().join("model.sig");
    let card = model.join("README.md");
    run(
        &[
            "sign",
            m,
            "--key",
            path_str(&key),
            "-o",
            path_str(&signature),
            "--card",
            path_str(&card),
            "-q",
        ],
        0,
    );
    edit_readme(&model);
    let verify = [
        "verify",
        m,
        "--signature",
        path_str(&signature),
        "--key",
        path_str(&public),
    ];
    // Today's defect: a plain OK with no word about the card. Now the note points at --card...
    let (stdout, stderr) = run_full(&verify, 0);
    assert!(stdout.starts_with("OK: "), "{stdout}");
    assert!(
        stderr.contains("README.md, the model card, is not covered by this signature")
            && stderr.contains("model.card.sig beside it covers it: add --card"),
        "{stderr}"
    );
    // ...and with --card the edited card fails.
    let mut with_card = verify.to_vec();
    with_card.extend(["--card", path_str(&card)]);
    run(&with_card, 1);
}

#[test]
#[cfg_attr(
    not(feature = "interop"),
    ignore = "runs a reference tool: cargo test --features interop (scripts/test does)"
)]
fn model_signing_verifies_the_identity_and_its_whole_folder_signatures_cover_the_card() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_example_model(folder.path());
    let m = path_str(&model);
    let keys = vectors().join("keys");
    let (private, public) = (
        keys.join("p256_private_pkcs8.pem"),
        keys.join("p256_public.pem"),
    );

    // modelprov's signature records README.md as ignored: model_signing agrees it verifies.
    let ours = folder.path().join("ours.sig");
    run(
        &[
            "sign",
            m,
            "--key",
            path_str(&private),
            "-o",
            path_str(&ours),
            "-q",
        ],
        0,
    );
    let theirs_verify = |signature: &Path| {
        model_signing(&[
            "verify",
            "key",
            m,
            "--signature",
            path_str(signature),
            "--public_key",
            path_str(&public),
        ])
    };
    let checked = theirs_verify(&ours);
    assert!(checked.status.success(), "{}", text(&checked));

    // A model_signing signature of the whole folder covers the card: `--no-ignore-readme`
    // gives its digest, and an edited card fails it.
    let theirs = folder.path().join("theirs.sig");
    let signed = model_signing(&[
        "sign",
        "key",
        m,
        "--private_key",
        path_str(&private),
        "--signature",
        path_str(&theirs),
    ]);
    assert!(signed.status.success(), "{}", text(&signed));
    let plain = run(&["hash", m, "-q", "--no-ignore-readme"], 0);
    let verify = [
        "verify",
        m,
        "--signature",
        path_str(&theirs),
        "--key",
        path_str(&public),
    ];
    let (stdout, stderr) = run_full(&verify, 0);
    assert!(stdout.contains(plain.trim()), "{stdout}");
    assert!(!stderr.contains("not covered"), "{stderr}");
    edit_readme(&model);
    let stdout = run(&verify, 1);
    assert!(stdout.contains("modified  README.md"), "{stdout}");
}

#[test]
fn a_card_inside_the_model_other_than_its_readme_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_example_model(folder.path());
    let inner = model.join("card.md");
    fs::copy(model.join("README.md"), &inner).unwrap();
    let stderr = run_err(
        &[
            "card",
            "validate",
            path_str(&inner),
            "--model",
            path_str(&model),
        ],
        2,
    );
    assert!(stderr.contains("part of the model's content"), "{stderr}");
}

// ---- 2. Writing files never destroys anything ----

#[test]
fn outputs_to_devices_fifos_and_symlinks_keep_what_is_there() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_model(folder.path());
    let m = path_str(&model);

    // A character device is written in place (as root, renaming over /dev/null replaced it).
    let device = folder.path().join("null");
    let made = Command::new("mknod")
        .arg(&device)
        .args(["c", "1", "3"])
        .status();
    if made.is_ok_and(|s| s.success()) {
        run(&["hash", m, "-q", "-o", path_str(&device)], 0);
        assert!(
            fs::symlink_metadata(&device)
                .unwrap()
                .file_type()
                .is_char_device()
        );
    } else {
        eprintln!("not root: the character-device case is covered by the FIFO case only");
    }
    run(&["hash", m, "-q", "-o", "/dev/null"], 0);
    assert!(
        fs::symlink_metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );

    // A FIFO is written in place, read by a reader at the other end.
    let fifo = folder.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = Command::new("cat")
        .arg(&fifo)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    run(&["hash", m, "-q", "-o", path_str(&fifo)], 0);
    let read = reader.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&read.stdout).contains("modelprov.manifest/v1"));
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());

    // A symlink is followed: the link stays, its target gets the manifest.
    let target = folder.path().join("target.json");
    fs::write(&target, "old").unwrap();
    let link = folder.path().join("link.json");
    symlink(&target, &link).unwrap();
    run(&["hash", m, "-q", "-o", path_str(&link)], 0);
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        fs::read_to_string(&target)
            .unwrap()
            .contains("modelprov.manifest/v1")
    );

    // A dangling link and a folder are refused.
    let dangling = folder.path().join("dangling.json");
    symlink(folder.path().join("nowhere"), &dangling).unwrap();
    let stderr = run_err(&["hash", m, "-q", "-o", path_str(&dangling)], 2);
    assert!(stderr.contains("dangling"), "{stderr}");
    let stderr = run_err(&["hash", m, "-q", "-o", path_str(folder.path())], 2);
    assert!(stderr.contains("is a folder"), "{stderr}");
}

#[test]
fn dash_is_stdout_for_every_document_writer() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_example_model(folder.path());
    let m = path_str(&model);
    let card_path = model.join("README.md");
    let card = path_str(&card_path);
    let registry = folder.path().join("r.sqlite");
    let r = path_str(&registry);
    run(
        &[
            "lineage",
            "record",
            "--name",
            "t",
            "--model-version",
            "1",
            "--model",
            m,
            "--registry",
            r,
        ],
        0,
    );
    let (key, public) = keypair(folder.path());
    let cases: [(&[&str], &str); 5] = [
        (&["hash", m, "-q", "-o", "-"], "modelprov.manifest/v1"),
        (&["sbom", "generate", m, "-q", "-o", "-"], "CycloneDX"),
        (
            &["card", "render", card, "--format", "json", "-o", "-"],
            "provenance",
        ),
        (
            &["lineage", "export", "--registry", r, "-o", "-"],
            "statement",
        ),
        (
            &["sign", m, "--key", path_str(&key), "-q", "-o", "-"],
            "dsseEnvelope",
        ),
    ];
    for (args, expected) in cases {
        let stdout = run(args, 0);
        assert!(stdout.contains(expected), "{args:?}: {stdout}");
        assert!(!Path::new("-").exists(), "{args:?} wrote a file named '-'");
    }
    // The signature written to stdout verifies.
    let signature = folder.path().join("from-stdout.sig");
    fs::write(
        &signature,
        run(&["sign", m, "--key", path_str(&key), "-q", "-o", "-"], 0),
    )
    .unwrap();
    run(
        &[
            "verify",
            m,
            "--signature",
            path_str(&signature),
            "--key",
            path_str(&public),
        ],
        0,
    );
}

#[test]
fn a_signature_never_replaces_a_model_file_or_an_input() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_model(folder.path());
    let m = path_str(&model);
    let (key, _) = keypair(folder.path());
    let weights = model.join("model.safetensors");
    let before = fs::read(&weights).unwrap();
    let stderr = run_err(
        &["sign", m, "--key", path_str(&key), "-o", path_str(&weights)],
        2,
    );
    assert!(stderr.contains("not a signature"), "{stderr}");
    assert_eq!(fs::read(&weights).unwrap(), before);
    // A signature inside the model may replace an earlier signature.
    let inside = model.join("model.sig");
    run(
        &[
            "sign",
            m,
            "--key",
            path_str(&key),
            "-o",
            path_str(&inside),
            "-q",
        ],
        0,
    );
    run(
        &[
            "sign",
            m,
            "--key",
            path_str(&key),
            "-o",
            path_str(&inside),
            "-q",
        ],
        0,
    );
    // A raw signature over the file it signs, or over the key, is refused.
    let file = path_str(&weights);
    let stderr = run_err(
        &["sign", file, "--raw", "--key", path_str(&key), "-o", file],
        2,
    );
    assert!(stderr.contains("would destroy it"), "{stderr}");
    let stderr = run_err(
        &[
            "sign",
            file,
            "--raw",
            "--key",
            path_str(&key),
            "-o",
            path_str(&key),
        ],
        2,
    );
    assert!(stderr.contains("would destroy it"), "{stderr}");
    assert_eq!(fs::read(&weights).unwrap(), before);
}

#[test]
fn keygen_never_leaves_a_lost_or_mismatched_pair() {
    let folder = tempfile::tempdir().unwrap();
    let key = folder.path().join("k");
    let same = [
        "keygen",
        "--private-key",
        path_str(&key),
        "--public-key",
        path_str(&key),
    ];
    let stderr = run_err(&same, 2);
    assert!(stderr.contains("must be two files"), "{stderr}");
    assert!(!key.exists());

    run(&["keygen", "--private-key", path_str(&key)], 0);
    let private = fs::read(&key).unwrap();
    let public = fs::read(folder.path().join("k.pub")).unwrap();
    // The public key cannot be written: neither key may change.
    let unwritable = folder.path().join("missing-folder/k.pub");
    run_err(
        &[
            "keygen",
            "--force",
            "--private-key",
            path_str(&key),
            "--public-key",
            path_str(&unwritable),
        ],
        2,
    );
    assert_eq!(fs::read(&key).unwrap(), private);
    assert_eq!(fs::read(folder.path().join("k.pub")).unwrap(), public);
}

// ---- 3. No panic, bounded resources ----

#[test]
fn a_closed_pipe_keeps_the_verdict_and_a_full_disk_exits_2() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_model(folder.path());
    let manifest = folder.path().join("m.json");
    run(
        &["hash", path_str(&model), "-q", "-o", path_str(&manifest)],
        0,
    );
    fs::write(model.join("config.json"), "changed").unwrap();
    let verify = [
        "verify",
        path_str(&model),
        "--manifest",
        path_str(&manifest),
    ];

    let mut child = Command::cargo_bin_path()
        .args(verify)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader leaves before anything is written
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));

    let full = Command::cargo_bin_path()
        .args(verify)
        .stdout(
            fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&full.stderr);
    assert_eq!(full.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot write to stdout"), "{stderr}");
}

#[test]
fn threads_shards_and_endless_inputs_are_bounded() {
    let model = vectors().join("model");
    let m = path_str(&model);
    let stderr = run_err(&["--threads", "100000", "hash", m], 2);
    assert!(stderr.contains("--threads takes 1 to 1024"), "{stderr}");
    // One-byte shards of a 3 MB model: refused before allocating per byte.
    let digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    let stderr = run_err(&["verify", m, "--digest", digest, "--shard-size", "1"], 2);
    assert!(stderr.contains("shards of at least"), "{stderr}");
    for (option, extra) in [("--manifest", None), ("--trusted", Some("x"))] {
        let mut args = vec!["verify", m, option, "/dev/zero"];
        if let Some(id) = extra {
            args.extend(["--id", id]);
        }
        let stderr = run_err(&args, 2);
        assert!(
            stderr.contains("/dev/zero: larger than"),
            "{option}: {stderr}"
        );
    }
}

#[test]
fn a_file_from_a_special_file_system_is_never_hashed_as_empty() {
    let folder = tempfile::tempdir().unwrap();
    let model = folder.path().join("m");
    fs::create_dir(&model).unwrap();
    fs::write(model.join("weights.bin"), "w").unwrap();
    symlink("/proc/self/status", model.join("status")).unwrap();
    let stderr = run_err(&["hash", path_str(&model), "--allow-symlinks"], 2);
    assert!(stderr.contains("special file system"), "{stderr}");
}

#[test]
fn a_device_is_not_a_clean_scan() {
    // "0 files" was exit 0: a pass on nothing.
    let stderr = run_err(&["scan", "/dev/zero"], 2);
    assert!(stderr.contains("nothing to scan"), "{stderr}");
}

// ---- 4. Never 0 on doubt ----

#[test]
fn signature_options_without_a_signature_are_refused() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_model(folder.path());
    let m = path_str(&model);
    let manifest = folder.path().join("m.json");
    run(&["hash", m, "-q", "-o", path_str(&manifest)], 0);
    let digest = run(&["hash", m, "-q"], 0).trim().to_string();
    for expectation in [
        ["--manifest", path_str(&manifest)],
        ["--digest", digest.as_str()],
    ] {
        for option in ["--card", "--sbom", "--key", "--certificate-chain"] {
            let mut args = vec!["verify", m];
            args.extend(expectation);
            args.extend([option, "/nonexistent"]);
            let stderr = run_err(&args, 2);
            assert!(
                stderr.contains("goes with --signature"),
                "{args:?}: {stderr}"
            );
        }
    }
}

#[test]
fn a_passphrase_for_a_key_without_one_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let model = vectors().join("model");
    let (key, _) = keypair(folder.path());
    let stderr = modelprov()
        .args([
            "sign",
            path_str(&model),
            "--key",
            path_str(&key),
            "--passphrase-env",
            "PASS",
        ])
        .args(["-o", path_str(&folder.path().join("m.sig"))])
        .env("PASS", "secret")
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8_lossy(&stderr);
    assert!(stderr.contains("is not encrypted"), "{stderr}");
    assert!(!folder.path().join("m.sig").exists());
}

#[test]
fn trust_files_refuse_repeated_ids_and_unknown_fields() {
    let folder = tempfile::tempdir().unwrap();
    let model = vectors().join("model");
    let trust = folder.path().join("trust.json");
    let check = |text: &str, expected: &str| {
        fs::write(&trust, text).unwrap();
        let stderr = run_err(
            &[
                "verify",
                path_str(&model),
                "--trusted",
                path_str(&trust),
                "--id",
                "a",
            ],
            2,
        );
        assert!(stderr.contains(expected), "{text}: {stderr}");
    };
    // The last digest of a repeated id used to win silently.
    check(
        &format!(r#"{{"a": "{MODEL_DIGEST}", "a": "{MODEL_DIGEST}"}}"#),
        "\"a\" appears twice",
    );
    check(
        &format!(r#"{{"a": {{"digest": "{MODEL_DIGEST}", "serialisation": {{}}}}}}"#),
        "unknown field 'serialisation'",
    );
    check(
        &format!(
            r#"{{"a": {{"digest": "{MODEL_DIGEST}", "serialization": {{"shard-size": 5}}}}}}"#
        ),
        "unknown field 'serialization.shard-size'",
    );
}

#[test]
fn a_signed_payload_or_manifest_with_a_repeated_key_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_model(folder.path());
    let manifest = folder.path().join("m.json");
    run(
        &["hash", path_str(&model), "-q", "-o", path_str(&manifest)],
        0,
    );
    let text = fs::read_to_string(&manifest).unwrap();
    // In the serialization object, read as a map: the last "method" used to win silently.
    let doubled = text.replacen("\"method\"", "\"method\": \"shards\", \"method\"", 1);
    assert_ne!(doubled, text);
    fs::write(&manifest, doubled).unwrap();
    let stderr = run_err(
        &[
            "verify",
            path_str(&model),
            "--manifest",
            path_str(&manifest),
        ],
        2,
    );
    assert!(stderr.contains("appears twice"), "{stderr}");
}

// ---- 6. Messages a person can trust ----

#[test]
fn hostile_and_lookalike_names_are_shown_for_what_they_are() {
    let folder = tempfile::tempdir().unwrap();
    let model = folder.path().join("m");
    fs::create_dir(&model).unwrap();
    let forged = "a\n  expected  sha256:0000";
    fs::write(model.join(forged), "x").unwrap();
    fs::write(model.join("caf\u{e9}.bin"), "w").unwrap();
    let manifest = folder.path().join("m.json");
    run(
        &["hash", path_str(&model), "-q", "-o", path_str(&manifest)],
        0,
    );
    fs::remove_file(model.join(forged)).unwrap();
    fs::rename(model.join("caf\u{e9}.bin"), model.join("cafe\u{301}.bin")).unwrap();
    let stdout = run(
        &[
            "verify",
            path_str(&model),
            "--manifest",
            path_str(&manifest),
        ],
        1,
    );
    assert!(
        stdout.contains("missing   a\\n  expected  sha256:0000"),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().filter(|l| l.contains("expected")).count(),
        2,
        "{stdout}"
    );
    assert!(
        stdout.contains("caf\\u{e9}.bin and cafe\\u{301}.bin differ only by Unicode normalisation"),
        "{stdout}"
    );
}

// ---- 6. Errors as JSON ----

#[test]
fn with_json_an_error_is_a_json_object_on_stdout_with_the_same_exit_code() {
    let model = vectors().join("model");
    let m = path_str(&model);
    for (args, kind) in [
        (vec!["verify", m, "--digest", "nope", "--json"], "usage"),
        (vec!["hash", "/nonexistent", "--json"], "io"),
        (vec!["verify", m, "--no-such-flag", "--json"], "usage"),
    ] {
        let report = json(&run(&args, 2));
        assert_eq!(report["ok"], false, "{args:?}");
        assert_eq!(report["exit_code"], 2);
        assert_eq!(report["error"]["kind"], kind, "{report}");
        assert!(
            !report["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("error:")
        );
    }
}

trait CargoBinPath {
    fn cargo_bin_path() -> Command;
}

impl CargoBinPath for Command {
    /// The binary under test as a plain `std::process::Command` (for pipes and spawning).
    fn cargo_bin_path() -> Command {
        Command::new(assert_cmd::cargo::cargo_bin("modelprov"))
    }
}
