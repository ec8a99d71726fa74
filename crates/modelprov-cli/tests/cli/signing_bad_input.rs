//! Signing and signature verification on bad input: a clear message naming the file; exit 1
//! when the model is not authentic, exit 2 when the input is unusable; no key material printed.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::pki::{Validity, ca, leaf as make_leaf};
use crate::common::*;
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
        (text.replacen('{', "{\"extra\":1,", 1), "unknown field"),
        (
            text.replace("application/vnd.in-toto+json", "application/json"),
            "payload type",
        ),
        (
            text.replace("bundle.v0.3+json", "bundle+json;version=0.9"),
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
fn a_keyless_sigstore_bundle_given_a_key_or_roots_fails_and_points_to_the_identity_options() {
    let s = signed_model();
    let mut bundle: serde_json::Value = json(&fs::read_to_string(&s.signature).unwrap());
    bundle["verificationMaterial"] = serde_json::json!({
        "certificate": {"rawBytes": "MIIB"},
        "tlogEntries": [{"logIndex": "1", "kindVersion": {"kind": "dsse", "version": "0.0.1"}}],
    });
    let keyless = s.folder.join("keyless.sig");
    fs::write(&keyless, bundle.to_string()).unwrap();
    // Not signed by the key given: a verdict (1), as under a trust policy of any size, with the
    // way to check it instead.
    let stdout = run(&verify_args(&s, &keyless), 1);
    assert!(
        stdout.contains("FAILED")
            && stdout.contains("keyless.sig")
            && stdout.contains("keyless Sigstore signature")
            && stdout.contains("identity and issuer"),
        "{stdout}"
    );
    let roots = vectors().join("pki/root_cert.pem");
    let stdout = run(
        &[
            "verify",
            path_str(&s.model),
            "--signature",
            path_str(&keyless),
            "--certificate-chain",
            path_str(&roots),
        ],
        1,
    );
    assert!(
        stdout.contains("keyless Sigstore signature") && stdout.contains("not certificate roots"),
        "{stdout}"
    );
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

    // A leaf that expired after signing: valid at its notBefore, which is the instant
    // model_signing checks; accepted with a warning. (Signing with an expired leaf is refused.)
    let authority = ca(
        folder.path(),
        "brief-ca",
        "brief CA",
        BasicConstraints::Unconstrained,
        Validity::current(),
        None,
    );
    let (leaf, key) = make_leaf(
        folder.path(),
        "brief",
        &authority,
        Validity::new(time::Duration::hours(-1), time::Duration::seconds(2)),
    );
    let brief = sign(&leaf, &key, "brief.sig");
    std::thread::sleep(std::time::Duration::from_secs(3));
    let (_, stderr) = verify(&brief, &authority.cert, 0);
    assert!(stderr.contains("expired"), "{stderr}");
}

fn openssl(args: &[&str]) -> std::process::Output {
    let output = std::process::Command::new("openssl")
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// An openssl key (`genpkey` options) at `folder/name.pem` and its SPKI at `folder/name.pub`.
fn openssl_key(folder: &Path, name: &str, options: &[&str]) -> (PathBuf, PathBuf) {
    let private = folder.join(format!("{name}.pem"));
    let public = folder.join(format!("{name}.pub"));
    openssl(&[&["genpkey"], options, &["-out", path_str(&private)]].concat());
    openssl(&[
        "pkey",
        "-in",
        path_str(&private),
        "-pubout",
        "-out",
        path_str(&public),
    ]);
    (private, public)
}

/// An RSA-256 key pair: openssl refuses to make one (below 512 bits), but such files exist.
const RSA256_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIHDAgEAMA0GCSqGSIb3DQEBAQUABIGuMIGrAgEAAiEA1Irt2FEfQqWVjOr7gDNC
uMqhQG7iW4x/ujGrl+phX5ECAwEAAQIgRvB/5j1dQ69ktP4RJ370e4ECloOdOsqd
7SzYOg56DikCEQDZ0w9X7b1GJwqqzR9Y6ezDAhEA+crln7Ny81xo5kg2V5qNGwIQ
H5hPp29ifuR21aN/IoR7xQIRAJRM9qkrA/siCRF3G/REyLMCEQCHEr2DZ4rEpJb+
WQBqY73+
-----END PRIVATE KEY-----
";
const RSA256_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MDwwDQYJKoZIhvcNAQEBBQADKwAwKAIhANSK7dhRH0KllYzq+4AzQrjKoUBu4luM
f7oxq5fqYV+RAgMBAAE=
-----END PUBLIC KEY-----
";

/// `openssl dgst` RSA-PSS as `sign --raw` makes it (SHA-256, MGF1-SHA-256, maximum salt).
fn openssl_pss_sign(key: &Path, file: &Path, signature: &Path) {
    openssl(&[
        "dgst",
        "-sha256",
        "-sign",
        path_str(key),
        "-sigopt",
        "rsa_padding_mode:pss",
        "-sigopt",
        "rsa_pss_saltlen:max",
        "-sigopt",
        "rsa_mgf1_md:sha256",
        "-out",
        path_str(signature),
        path_str(file),
    ]);
}

#[test]
fn rsa_keys_below_2048_bits_never_sign_and_their_signatures_never_verify() {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    let model = copy_model(root);
    let file = model.join("config.json");
    let (weak, weak_public) = openssl_key(
        root,
        "rsa1024",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
    );
    let tiny = root.join("rsa256.pem");
    let tiny_public = root.join("rsa256.pub");
    fs::write(&tiny, RSA256_PRIVATE).unwrap();
    fs::write(&tiny_public, RSA256_PUBLIC).unwrap();

    // Refused for signing, OMS and raw, before anything is written (RSA-256 used to panic).
    let out = root.join("weak.sig");
    for (key, size) in [(&weak, "RSA-1024"), (&tiny, "RSA-256")] {
        for target in [&model, &file] {
            let mut args = vec![
                "sign",
                path_str(target),
                "--key",
                path_str(key),
                "-o",
                path_str(&out),
            ];
            if target == &file {
                args.push("--raw");
            }
            let stderr = run_err(&args, 2);
            assert!(
                stderr.contains(path_str(key))
                    && stderr.contains(&format!("{size} keys are too small"))
                    && stderr.contains("2048 bits"),
                "{stderr}"
            );
            assert!(!out.exists());
        }
    }

    // A genuine raw signature by the weak key (made by openssl) fails verification, naming why.
    let signature = root.join("config.weak.sig");
    openssl_pss_sign(&weak, &file, &signature);
    for (public, size) in [(&weak_public, "RSA-1024"), (&tiny_public, "RSA-256")] {
        let stdout = run(
            &[
                "verify",
                path_str(&file),
                "--raw",
                "--signature",
                path_str(&signature),
                "--key",
                path_str(public),
            ],
            1,
        );
        assert!(
            stdout.starts_with("FAILED") && stdout.contains(&format!("the key is {size}")),
            "{stdout}"
        );
    }

    // A genuine OMS signature by the weak key (the DSSE signature made by openssl over the PAE,
    // the bundle carrying the weak key's hint) fails verification too.
    let signed = root.join("p256.sig");
    keygen_and_sign("p256", &root.join("p256.key"), &model, &signed);
    let mut bundle = json(&fs::read_to_string(&signed).unwrap());
    let payload = STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let payload_type = "application/vnd.in-toto+json";
    let mut pae = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    pae.extend(&payload);
    let pae_file = root.join("pae.bin");
    fs::write(&pae_file, pae).unwrap();
    let pae_signature = root.join("pae.sig");
    openssl_pss_sign(&weak, &pae_file, &pae_signature);
    let hint =
        String::from_utf8(openssl(&["dgst", "-sha256", "-r", path_str(&weak_public)]).stdout)
            .unwrap();
    bundle["verificationMaterial"]["publicKey"]["hint"] = hint[..64].into();
    bundle["dsseEnvelope"]["signatures"][0]["sig"] =
        STANDARD.encode(fs::read(&pae_signature).unwrap()).into();
    let forged = root.join("weak-oms.sig");
    fs::write(&forged, bundle.to_string()).unwrap();
    let stdout = run(
        &[
            "verify",
            path_str(&model),
            "--signature",
            path_str(&forged),
            "--key",
            path_str(&weak_public),
        ],
        1,
    );
    assert!(
        stdout.starts_with("FAILED")
            && stdout.contains("signed with an RSA-1024 key")
            && stdout.contains("too small"),
        "{stdout}"
    );
}

#[test]
fn an_empty_passphrase_is_refused_for_keygen_and_for_loading() {
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    let key = root.join("k.pem");
    let passphrase = root.join("pass.txt");
    for content in ["", "\n", "\r\n"] {
        fs::write(&passphrase, content).unwrap();
        let stderr = run_err(
            &[
                "keygen",
                "--private-key",
                path_str(&key),
                "--passphrase-file",
                path_str(&passphrase),
            ],
            2,
        );
        assert!(
            stderr.contains("pass.txt: the passphrase is empty"),
            "{content:?}: {stderr}"
        );
        assert!(!key.exists());
    }
    let keygen = modelprov()
        .args([
            "keygen",
            "--private-key",
            path_str(&key),
            "--passphrase-env",
            "MP_EMPTY_PASS",
        ])
        .env("MP_EMPTY_PASS", "")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&keygen.stderr);
    assert_eq!(keygen.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("MP_EMPTY_PASS (--passphrase-env) is empty"),
        "{stderr}"
    );
    assert!(!key.exists());

    // Loading: an empty passphrase given for a key says so, whatever the key.
    let model = copy_model(root);
    run(&["keygen", "--private-key", path_str(&key)], 0);
    let stderr = run_err(
        &[
            "sign",
            path_str(&model),
            "--key",
            path_str(&key),
            "--passphrase-file",
            path_str(&passphrase),
            "-o",
            path_str(&root.join("m.sig")),
        ],
        2,
    );
    assert!(
        stderr.contains("pass.txt: the passphrase is empty"),
        "{stderr}"
    );
}

#[test]
fn endless_key_certificate_and_passphrase_files_are_refused_by_name() {
    let s = signed_model();
    let zero = "/dev/zero";
    let pki = vectors().join("pki");
    let leaf = path_str(&pki.join("leaf_cert.pem")).to_string();
    let leaf_key = path_str(&pki.join("leaf_key.pem")).to_string();
    let key = s.folder.join("k.pem");
    let out = s.folder.join("z.sig");
    let (model, key, out, public, signature) = (
        path_str(&s.model),
        path_str(&key),
        path_str(&out),
        path_str(&s.public),
        path_str(&s.signature),
    );
    for args in [
        vec!["sign", model, "--key", zero, "-o", out],
        vec![
            "sign",
            model,
            "--key",
            key,
            "--passphrase-file",
            zero,
            "-o",
            out,
        ],
        vec![
            "sign",
            model,
            "--key",
            key,
            "--certificate",
            zero,
            "-o",
            out,
        ],
        vec![
            "sign",
            model,
            "--key",
            &leaf_key,
            "--certificate",
            &leaf,
            "--certificate-chain",
            zero,
            "-o",
            out,
        ],
        vec!["verify", model, "--signature", signature, "--key", zero],
        vec![
            "verify",
            public,
            "--raw",
            "--signature",
            public,
            "--key",
            zero,
        ],
        vec![
            "verify",
            model,
            "--signature",
            signature,
            "--certificate-chain",
            zero,
        ],
    ] {
        let stderr = run_err(&args, 2);
        assert!(
            stderr.contains("/dev/zero: larger than 1 MiB"),
            "{args:?}: {stderr}"
        );
    }
}

/// `text`'s PEM base64 re-wrapped at `width` columns with `line_end`.
fn rewrap(text: &str, width: usize, line_end: &str) -> String {
    let mut out = String::new();
    let mut body = String::new();
    for line in text.lines() {
        if line.starts_with("-----") {
            if !body.is_empty() {
                for chunk in body.as_bytes().chunks(width) {
                    out.push_str(std::str::from_utf8(chunk).unwrap());
                    out.push_str(line_end);
                }
                body.clear();
            }
            out.push_str(line);
            out.push_str(line_end);
        } else {
            body.push_str(line.trim());
        }
    }
    out
}

#[test]
fn pem_files_are_read_as_openssl_reads_them_and_bad_keys_are_named() {
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    let model = copy_model(root);
    let (key, public) = openssl_key(
        root,
        "p384",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    );
    // 76-column (MIME) lines, CRLF, one long line: openssl reads them all, and so does modelprov.
    for (width, line_end) in [(76, "\n"), (76, "\r\n"), (4096, "\n")] {
        let wrapped_key = root.join(format!("key-{width}.pem"));
        let wrapped_public = root.join(format!("pub-{width}.pem"));
        fs::write(
            &wrapped_key,
            rewrap(&fs::read_to_string(&key).unwrap(), width, line_end),
        )
        .unwrap();
        fs::write(
            &wrapped_public,
            rewrap(&fs::read_to_string(&public).unwrap(), width, line_end),
        )
        .unwrap();
        openssl(&["pkey", "-in", path_str(&wrapped_key), "-noout"]);
        openssl(&["pkey", "-pubin", "-in", path_str(&wrapped_public), "-noout"]);
        let signature = root.join(format!("m-{width}.sig"));
        sign(&model, &wrapped_key, &signature);
        run(
            &[
                "verify",
                path_str(&model),
                "--signature",
                path_str(&signature),
                "--key",
                path_str(&wrapped_public),
            ],
            0,
        );
    }

    // OpenSSL's legacy encrypted PEM: named, with the conversion to PKCS#8.
    let legacy = root.join("legacy.pem");
    openssl(&[
        "ec",
        "-in",
        path_str(&key),
        "-aes256",
        "-passout",
        "pass:secret",
        "-out",
        path_str(&legacy),
    ]);
    assert!(
        fs::read_to_string(&legacy)
            .unwrap()
            .contains("Proc-Type: 4,ENCRYPTED")
    );
    let stderr = run_err(&["sign", path_str(&model), "--key", path_str(&legacy)], 2);
    assert!(
        stderr.contains("legacy.pem")
            && stderr.contains("OpenSSL's legacy PEM encryption")
            && stderr.contains("openssl pkcs8 -topk8"),
        "{stderr}"
    );

    // A supported algorithm with a bad key is not an "unsupported algorithm".
    let off_curve = root.join("off-curve.pub");
    fs::write(
        &off_curve,
        "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE/ikcGi5zhh4V1oYTpAtuXigIo7M8
P9WXqxR23gpcKB/5mMje3GwBNBmMPja3O3odmLnY9TO7QVOt4Pd13uD8/A==
-----END PUBLIC KEY-----
",
    )
    .unwrap();
    let huge_exponent = root.join("huge-exponent.pub");
    fs::write(
        &huge_exponent,
        "-----BEGIN PUBLIC KEY-----
MIIBJTANBgkqhkiG9w0BAQEFAAOCARIAMIIBDQKCAQEAqdqnkh1iWPad9Jl1IxOO
OdSYJutyDW6Zb7oasj0JuLkWYk1mUO7XUEkTqQOPXKQI7456HvsXItU7h9/xiAMe
5xh/6DyGR6KET8NwvXyAZA2eOpNVO4lLLVQ27jxp4DG0GZA7Uwqc06Wf4mBLHnYx
MSkJqfcCtRGFi7MZ/rLK9FO3t6OvpACH6+qEwm1MxzgX1/A8lCTFb9Exf9Tk6KK3
vKNs2Y+ud2b+6N19LyLskv46gZ/FbSJb8UvtS2AzElZOwczs07hkVBTxFB5bCFoW
hZO+xaRCuaRURGcs9w75H2L3qMklFnzYdJC/QBSVk4sI9xSoSLgo3K6ZYa0HrZ1v
SwIGAQAAAAAB
-----END PUBLIC KEY-----
",
    )
    .unwrap();
    let signature = root.join("m-76.sig");
    for (file, expected) in [
        (
            &off_curve,
            "the P-256 public key is not a point on the curve",
        ),
        (
            &huge_exponent,
            "out of range: the public exponent is above 2^33-1",
        ),
    ] {
        let stderr = run_err(
            &[
                "verify",
                path_str(&model),
                "--signature",
                path_str(&signature),
                "--key",
                path_str(file),
            ],
            2,
        );
        assert!(
            stderr.contains(path_str(file))
                && stderr.contains(expected)
                && !stderr.contains("unsupported"),
            "{stderr}"
        );
    }
}

/// `sign MODEL --key KEY --certificate LEAF [--certificate-chain C]...` expecting `code`.
fn sign_with_certificate(
    model: &Path,
    key: &Path,
    leaf: &Path,
    chain: &[&Path],
    out: &Path,
    code: i32,
) -> String {
    let mut args = vec![
        "sign",
        path_str(model),
        "--key",
        path_str(key),
        "--certificate",
        path_str(leaf),
        "-o",
        path_str(out),
        "-q",
    ];
    for certificate in chain {
        args.extend(["--certificate-chain", path_str(certificate)]);
    }
    run_err(&args, code)
}

fn verify_to_root(model: &Path, signature: &Path, root: &Path, code: i32) -> String {
    run(
        &[
            "verify",
            path_str(model),
            "--signature",
            path_str(signature),
            "--certificate-chain",
            path_str(root),
        ],
        code,
    )
}

#[test]
fn path_length_constraints_are_enforced_up_to_the_root() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let model = copy_model(dir);
    let signature = dir.join("m.sig");
    let current = Validity::current();

    // root (pathlen:0) -> intermediate -> leaf: the root allows no intermediate CA.
    let root = ca(
        dir,
        "root0",
        "Root pathlen0",
        BasicConstraints::Constrained(0),
        current,
        None,
    );
    let intermediate = ca(
        dir,
        "int",
        "Intermediate",
        BasicConstraints::Unconstrained,
        current,
        Some(&root),
    );
    let (leaf, key) = make_leaf(dir, "leaf", &intermediate, current);
    sign_with_certificate(&model, &key, &leaf, &[&intermediate.cert], &signature, 0);
    let stdout = verify_to_root(&model, &signature, &root.cert, 1);
    assert!(
        stdout.contains("the root (CN=Root pathlen0) has the path length constraint pathlen:0"),
        "{stdout}"
    );
    // The same path under pathlen:1 verifies.
    let root1 = ca(
        dir,
        "root1",
        "Root pathlen1",
        BasicConstraints::Constrained(1),
        current,
        None,
    );
    let intermediate = ca(
        dir,
        "int1",
        "Intermediate 1",
        BasicConstraints::Unconstrained,
        current,
        Some(&root1),
    );
    let (leaf, key) = make_leaf(dir, "leaf1", &intermediate, current);
    sign_with_certificate(&model, &key, &leaf, &[&intermediate.cert], &signature, 0);
    verify_to_root(&model, &signature, &root1.cert, 0);
    // An intermediate's own pathlen:0 with another CA below it.
    let upper = ca(
        dir,
        "upper",
        "Upper pathlen0",
        BasicConstraints::Constrained(0),
        current,
        Some(&root1),
    );
    let lower = ca(
        dir,
        "lower",
        "Lower",
        BasicConstraints::Unconstrained,
        current,
        Some(&upper),
    );
    let (leaf, key) = make_leaf(dir, "leaf2", &lower, current);
    sign_with_certificate(
        &model,
        &key,
        &leaf,
        &[&lower.cert, &upper.cert],
        &signature,
        0,
    );
    let stdout = verify_to_root(&model, &signature, &root1.cert, 1);
    assert!(stdout.contains("path length constraint"), "{stdout}");
}

#[test]
fn certificates_outside_their_validity_are_refused_at_signing() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let model = copy_model(dir);
    let signature = dir.join("m.sig");
    let current = Validity::current();
    let root = ca(
        dir,
        "root",
        "Root",
        BasicConstraints::Unconstrained,
        current,
        None,
    );
    let days = time::Duration::days;
    for (name, validity, expected) in [
        (
            "future",
            Validity::new(days(1), days(30)),
            "is not valid yet at the signing time",
        ),
        (
            "past",
            Validity::new(days(-30), days(-1)),
            "is expired at the signing time",
        ),
    ] {
        let (leaf, key) = make_leaf(dir, name, &root, validity);
        let stderr = sign_with_certificate(&model, &key, &leaf, &[], &signature, 2);
        assert!(
            stderr.contains(&format!("the signing certificate (CN={name} signer)"))
                && stderr.contains(expected),
            "{stderr}"
        );
        assert!(!signature.exists());
    }
    // A chain certificate that expired is refused the same way.
    let old = ca(
        dir,
        "old",
        "Old Intermediate",
        BasicConstraints::Unconstrained,
        Validity::new(days(-30), days(-1)),
        Some(&root),
    );
    let (leaf, key) = make_leaf(dir, "under-old", &old, current);
    let stderr = sign_with_certificate(&model, &key, &leaf, &[&old.cert], &signature, 2);
    assert!(
        stderr.contains("the chain certificate (CN=Old Intermediate)")
            && stderr.contains("expired"),
        "{stderr}"
    );
    assert!(!signature.exists());
}

#[test]
fn the_whole_chain_is_judged_at_the_leafs_not_before() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let model = copy_model(dir);
    let signature = dir.join("m.sig");
    let days = time::Duration::days;
    // Everything is valid now, but the leaf's notBefore (two days ago) predates one CA.
    let leaf_validity = Validity::new(days(-2), days(30));
    let young = Validity::new(days(-1), days(365));
    let old = Validity::new(days(-10), days(365));

    let young_root = ca(
        dir,
        "young-root",
        "Young Root",
        BasicConstraints::Unconstrained,
        young,
        None,
    );
    let (leaf, key) = make_leaf(dir, "under-young-root", &young_root, leaf_validity);
    sign_with_certificate(&model, &key, &leaf, &[], &signature, 0);
    let stdout = verify_to_root(&model, &signature, &young_root.cert, 1);
    assert!(
        stdout.contains(
            "the root (CN=Young Root) is not valid at the signing certificate's notBefore"
        ),
        "{stdout}"
    );

    let root = ca(
        dir,
        "root",
        "Root",
        BasicConstraints::Unconstrained,
        old,
        None,
    );
    let young_intermediate = ca(
        dir,
        "young-int",
        "Young Intermediate",
        BasicConstraints::Unconstrained,
        young,
        Some(&root),
    );
    let (leaf, key) = make_leaf(dir, "under-young-int", &young_intermediate, leaf_validity);
    sign_with_certificate(
        &model,
        &key,
        &leaf,
        &[&young_intermediate.cert],
        &signature,
        0,
    );
    let stdout = verify_to_root(&model, &signature, &root.cert, 1);
    assert!(
        stdout.contains("not valid at the signing certificate's notBefore")
            && stdout.contains("(CN=Young Intermediate)"),
        "{stdout}"
    );
}
