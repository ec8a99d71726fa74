//! Signing and signature verification on bad input: a clear message naming the file; exit 1
//! when the model is not authentic, exit 2 when the input is unusable; no key material printed.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

struct Signed {
    _folder: tempfile::TempDir,
    folder: PathBuf,
    model: PathBuf,
    signature: PathBuf,
    public: PathBuf,
}

/// A copy of the test model signed with a fresh P-256 key.
fn signed_model() -> Signed {
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path().to_path_buf();
    let model = copy_model(&root);
    let signature = root.join("model.sig");
    let public = keygen_and_sign("p256", &root.join("k.pem"), &model, &signature);

    Signed {
        public,
        folder: root,
        model,
        signature,
        _folder: folder,
    }
}

fn verify_args<'a>(s: &'a Signed, signature: &'a Path) -> Vec<&'a str> {
    vec![
        "verify",
        path_str(&s.model),
        "--signature",
        path_str(signature),
        "--key",
        path_str(&s.public),
    ]
}

#[test]
fn unusable_keys_are_named_and_their_contents_never_printed() {
    let s = signed_model();
    let private = fs::read_to_string(s.folder.join("k.pem")).unwrap();
    // A private key where a public one belongs.
    let stderr = run_err(
        &[
            "verify",
            path_str(&s.model),
            "--signature",
            path_str(&s.signature),
            "--key",
            path_str(&s.folder.join("k.pem")),
        ],
        2,
    );
    assert!(
        stderr.contains("k.pem") && stderr.contains("private key"),
        "{stderr}"
    );
    for line in private.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!stderr.contains(line), "key material printed");
    }
    // Malformed PEM.
    let bad = s.folder.join("bad.pem");
    fs::write(
        &bad,
        "-----BEGIN PUBLIC KEY-----\nnot base64!\n-----END PUBLIC KEY-----\n",
    )
    .unwrap();
    let stderr = run_err(
        &[
            "verify",
            path_str(&s.model),
            "--signature",
            path_str(&s.signature),
            "--key",
            path_str(&bad),
        ],
        2,
    );
    assert!(
        stderr.contains("bad.pem") && stderr.contains("malformed"),
        "{stderr}"
    );
    fs::write(&bad, "hello").unwrap();
    let stderr = run_err(&["sign", path_str(&s.model), "--key", path_str(&bad)], 2);
    assert!(
        stderr.contains("bad.pem") && stderr.contains("no PEM block"),
        "{stderr}"
    );
    // An unsupported curve.
    let k256 = vectors().join("keys/k256_private.pem");
    let stderr = run_err(
        &[
            "sign",
            path_str(&s.model),
            "--key",
            path_str(&k256),
            "-o",
            path_str(&s.folder.join("x.sig")),
        ],
        2,
    );
    assert!(stderr.contains("unsupported key algorithm"), "{stderr}");
}

#[test]
fn encrypted_keys_need_their_passphrase_from_a_file_or_the_environment() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_model(folder.path());
    let key = folder.path().join("enc.pem");
    let passphrase = folder.path().join("pass.txt");
    fs::write(&passphrase, "correct horse\n").unwrap();
    run(
        &[
            "keygen",
            "--type",
            "p384",
            "--private-key",
            path_str(&key),
            "--passphrase-file",
            path_str(&passphrase),
        ],
        0,
    );
    assert!(
        fs::read_to_string(&key)
            .unwrap()
            .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let out = folder.path().join("m.sig");
    let stderr = run_err(
        &[
            "sign",
            path_str(&model),
            "--key",
            path_str(&key),
            "-o",
            path_str(&out),
        ],
        2,
    );
    assert!(
        stderr.contains("encrypted") && stderr.contains("enc.pem"),
        "{stderr}"
    );
    assert!(!out.exists());
    run(
        &[
            "sign",
            path_str(&model),
            "--key",
            path_str(&key),
            "-o",
            path_str(&out),
            "-q",
            "--passphrase-file",
            path_str(&passphrase),
        ],
        0,
    );
    let signed = modelprov()
        .args([
            "sign",
            path_str(&model),
            "--key",
            path_str(&key),
            "-o",
            path_str(&out),
            "-q",
            "--passphrase-env",
            "MP_TEST_PASS",
        ])
        .env("MP_TEST_PASS", "correct horse")
        .output()
        .unwrap();
    assert!(signed.status.success());
    let wrong = modelprov()
        .args([
            "sign",
            path_str(&model),
            "--key",
            path_str(&key),
            "-o",
            path_str(&out),
            "--passphrase-env",
            "MP_TEST_PASS",
        ])
        .env("MP_TEST_PASS", "wrong")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    // openssl reads the encrypted key we wrote.
    let read = std::process::Command::new("openssl")
        .args([
            "pkey",
            "-in",
            path_str(&key),
            "-passin",
            &format!("file:{}", path_str(&passphrase)),
            "-noout",
        ])
        .output()
        .unwrap();
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    // Existing key files are not overwritten by accident.
    let stderr = run_err(&["keygen", "--private-key", path_str(&key)], 2);
    assert!(stderr.contains("--force"), "{stderr}");
}

#[test]
fn broken_or_oversized_signature_files_are_unusable_input() {
    let s = signed_model();
    let text = fs::read_to_string(&s.signature).unwrap();
    let broken = s.folder.join("broken.sig");
    for (content, expected) in [
        (
            text[..text.len() / 2].to_string(),
            "not a valid Sigstore bundle",
        ),
        ("{}".to_string(), "missing field"),
        (text.replacen("{", "{\"extra\":1,", 1), "unknown field"),
        (
            text.replace("application/vnd.in-toto+json", "application/json"),
            "payload type",
        ),
        (
            text.replace("bundle.v0.3+json", "bundle+json;version=0.2"),
            "media type",
        ),
    ] {
        fs::write(&broken, content).unwrap();
        let stderr = run_err(&verify_args(&s, &broken), 2);
        assert!(
            stderr.contains("broken.sig") && stderr.contains(expected),
            "wanted '{expected}':\n{stderr}"
        );
    }
    let huge = s.folder.join("huge.sig");
    let file = fs::File::create(&huge).unwrap();
    file.set_len(65 << 20).unwrap();
    let stderr = run_err(&verify_args(&s, &huge), 2);
    assert!(
        stderr.contains("huge.sig") && stderr.contains("64 MiB"),
        "{stderr}"
    );
}

#[test]
fn a_signature_for_another_model_or_with_a_swapped_payload_is_not_authentic() {
    let s = signed_model();
    // Another model: the signature is genuine, the bytes are not the ones it names.
    fs::write(s.model.join("tokenizer.json"), "{}").unwrap();
    let stdout = run(&verify_args(&s, &s.signature), 1);
    assert!(stdout.contains("modified  tokenizer.json"), "{stdout}");

    // A payload from another signature (over other content) under this signature: refused.
    sign(&s.model, &s.folder.join("k.pem"), &s.signature);
    let other = signed_model();
    let mine: serde_json::Value = json(&fs::read_to_string(&s.signature).unwrap());
    let mut theirs: serde_json::Value = json(&fs::read_to_string(&other.signature).unwrap());
    theirs["dsseEnvelope"]["payload"] = mine["dsseEnvelope"]["payload"].clone();
    let swapped = other.folder.join("swapped.sig");
    fs::write(&swapped, theirs.to_string()).unwrap();
    let stdout = run(&verify_args(&other, &swapped), 1);
    assert!(
        stdout.contains("FAILED") && stdout.contains("does not verify"),
        "{stdout}"
    );
}

#[test]
fn a_keyless_sigstore_bundle_is_answered_not_supported() {
    let s = signed_model();
    let mut bundle: serde_json::Value = json(&fs::read_to_string(&s.signature).unwrap());
    bundle["verificationMaterial"] = serde_json::json!({
        "certificate": {"rawBytes": "MIIB"},
        "tlogEntries": [{"logIndex": "1", "kindVersion": {"kind": "dsse", "version": "0.0.1"}}],
    });
    let keyless = s.folder.join("keyless.sig");
    fs::write(&keyless, bundle.to_string()).unwrap();
    let stderr = run_err(&verify_args(&s, &keyless), 2);
    assert!(
        stderr.contains("keyless") && stderr.contains("not supported yet"),
        "{stderr}"
    );
    let roots = vectors().join("pki/root_cert.pem");
    let stderr = run_err(
        &[
            "verify",
            path_str(&s.model),
            "--signature",
            path_str(&keyless),
            "--certificate-chain",
            path_str(&roots),
        ],
        2,
    );
    assert!(stderr.contains("not supported yet"), "{stderr}");
}

/// A CA and a leaf with the given usages and validity, written as PEM files in `folder`.
fn pki(
    folder: &Path,
    name: &str,
    usages: Vec<KeyUsagePurpose>,
    ekus: Vec<ExtendedKeyUsagePurpose>,
    years: (i32, i32),
) -> (PathBuf, PathBuf, PathBuf) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name
        .push(DnType::CommonName, format!("{name} CA"));
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec!["signer.example".to_string()]).unwrap();
    leaf.distinguished_name
        .push(DnType::CommonName, format!("{name} signer"));
    leaf.key_usages = usages;
    leaf.extended_key_usages = ekus;
    leaf.not_before = time::OffsetDateTime::now_utc()
        .replace_year(years.0)
        .unwrap();
    leaf.not_after = time::OffsetDateTime::now_utc()
        .replace_year(years.1)
        .unwrap();
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    let paths = (
        folder.join(format!("{name}-root.pem")),
        folder.join(format!("{name}-leaf.pem")),
        folder.join(format!("{name}-leaf.key")),
    );
    fs::write(&paths.0, ca_cert.pem()).unwrap();
    fs::write(&paths.1, leaf_cert.pem()).unwrap();
    fs::write(&paths.2, leaf_key.serialize_pem()).unwrap();
    paths
}

#[test]
fn certificate_chains_are_judged_by_root_usage_and_the_notbefore_rule() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_model(folder.path());
    let sign = |leaf: &Path, key: &Path, out: &str| {
        let out = folder.path().join(out);
        run(
            &[
                "sign",
                path_str(&model),
                "--key",
                path_str(key),
                "--certificate",
                path_str(leaf),
                "-o",
                path_str(&out),
                "-q",
            ],
            0,
        );
        out
    };
    let verify = |signature: &Path, root: &Path, code: i32| {
        run_full(
            &[
                "verify",
                path_str(&model),
                "--signature",
                path_str(signature),
                "--certificate-chain",
                path_str(root),
            ],
            code,
        )
    };
    let now = time::OffsetDateTime::now_utc().year();

    let (root, leaf, key) = pki(
        folder.path(),
        "good",
        vec![KeyUsagePurpose::DigitalSignature],
        vec![],
        (now - 1, now + 1),
    );
    let good = sign(&leaf, &key, "good.sig");
    verify(&good, &root, 0);

    // A root that did not issue the leaf.
    let (other_root, _, _) = pki(
        folder.path(),
        "other",
        vec![KeyUsagePurpose::DigitalSignature],
        vec![],
        (now - 1, now + 1),
    );
    let (stdout, _) = verify(&good, &other_root, 1);
    assert!(stdout.contains("does not chain"), "{stdout}");

    // A leaf that may not sign.
    let (root, leaf, key) = pki(
        folder.path(),
        "tls",
        vec![KeyUsagePurpose::KeyEncipherment],
        vec![ExtendedKeyUsagePurpose::ServerAuth],
        (now - 1, now + 1),
    );
    let tls = sign(&leaf, &key, "tls.sig");
    let (stdout, _) = verify(&tls, &root, 1);
    assert!(stdout.contains("may not sign"), "{stdout}");
    // codeSigning alone is enough.
    let (root, leaf, key) = pki(
        folder.path(),
        "code",
        vec![],
        vec![ExtendedKeyUsagePurpose::CodeSigning],
        (now - 1, now + 1),
    );
    verify(&sign(&leaf, &key, "code.sig"), &root, 0);

    // An expired leaf: valid at its notBefore, which is the instant model_signing checks; said.
    let (root, leaf, key) = pki(
        folder.path(),
        "old",
        vec![KeyUsagePurpose::DigitalSignature],
        vec![],
        (now - 5, now - 3),
    );
    let (_, stderr) = verify(&sign(&leaf, &key, "old.sig"), &root, 0);
    assert!(stderr.contains("expired"), "{stderr}");
}
