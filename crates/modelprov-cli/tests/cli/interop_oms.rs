//! OMS signatures both ways with the reference `model_signing` 1.1.1: what it signs, modelprov
//! verifies; what modelprov signs, it verifies; after one byte of the model changes, both refuse.

use std::fs;
use std::path::Path;

use crate::common::interop::{model_signing, text};
use crate::common::*;

fn flip_config_byte(model: &Path) {
    let path = model.join("config.json");
    let mut bytes = fs::read(&path).unwrap();
    bytes[10] ^= 1;
    fs::write(path, bytes).unwrap();
}

#[test]
fn model_signing_signs_modelprov_verifies() {
    let keys = vectors().join("keys");
    for curve in ["p256", "p384"] {
        let folder = tempfile::tempdir().unwrap();
        let model = copy_model(folder.path());
        let signature = folder.path().join("model.sig");
        let private = keys.join(format!("{curve}_private_pkcs8.pem"));
        let public = keys.join(format!("{curve}_public.pem"));
        let signed = model_signing(&[
            "sign",
            "key",
            path_str(&model),
            "--private_key",
            path_str(&private),
            "--signature",
            path_str(&signature),
        ]);
        assert!(signed.status.success(), "{}", text(&signed));
        let verify = [
            "verify",
            path_str(&model),
            "--signature",
            path_str(&signature),
            "--key",
            path_str(&public),
        ];
        let stdout = run(&verify, 0);
        assert!(stdout.starts_with("OK: "), "{curve}: {stdout}");
        flip_config_byte(&model);
        let stdout = run(&verify, 1);
        assert!(
            stdout.contains("modified  config.json"),
            "{curve}: {stdout}"
        );
    }
}

#[test]
fn modelprov_signs_model_signing_verifies() {
    for curve in ["p256", "p384", "p521"] {
        let folder = tempfile::tempdir().unwrap();
        let model = copy_model(folder.path());
        let key = folder.path().join("signer.key");
        let signature = folder.path().join("model.sig");
        let public = keygen_and_sign(curve, &key, &model, &signature);

        let verify = [
            "verify",
            "key",
            path_str(&model),
            "--signature",
            path_str(&signature),
            "--public_key",
            path_str(&public),
        ];
        let accepted = model_signing(&verify);
        assert!(accepted.status.success(), "{curve}: {}", text(&accepted));
        assert!(String::from_utf8_lossy(&accepted.stdout).contains("Verification succeeded"));
        flip_config_byte(&model);
        let refused = model_signing(&verify);
        assert_eq!(
            refused.status.code(),
            Some(1),
            "{curve}: {}",
            text(&refused)
        );
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("Hash mismatch for 'config.json'"),
            "{}",
            text(&refused)
        );
    }
}

#[test]
fn a_signature_inside_the_model_is_left_out_both_ways() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_model(folder.path());
    let key = folder.path().join("signer.key");
    let signature = model.join("model.sig");
    let public = keygen_and_sign("p256", &key, &model, &signature);

    let accepted = model_signing(&[
        "verify",
        "key",
        path_str(&model),
        "--signature",
        path_str(&signature),
        "--public_key",
        path_str(&public),
    ]);
    assert!(accepted.status.success(), "{}", text(&accepted));
    run(
        &[
            "verify",
            path_str(&model),
            "--signature",
            path_str(&signature),
            "--key",
            path_str(&public),
        ],
        0,
    );
    let _ = fs::remove_file(&signature);
}

#[test]
fn certificate_signatures_both_ways() {
    let pki = vectors().join("pki");
    let (leaf_key, leaf, intermediate, root) = (
        pki.join("leaf_key.pem"),
        pki.join("leaf_cert.pem"),
        pki.join("int_cert.pem"),
        pki.join("root_cert.pem"),
    );
    // model_signing signs with the leaf and intermediate; modelprov verifies to the root.
    let folder = tempfile::tempdir().unwrap();
    let model = copy_model(folder.path());
    let theirs = folder.path().join("theirs.sig");
    let signed = model_signing(&[
        "sign",
        "certificate",
        path_str(&model),
        "--private_key",
        path_str(&leaf_key),
        "--signing_certificate",
        path_str(&leaf),
        "--certificate_chain",
        path_str(&intermediate),
        "--signature",
        path_str(&theirs),
    ]);
    assert!(signed.status.success(), "{}", text(&signed));
    let verify = [
        "verify",
        path_str(&model),
        "--signature",
        path_str(&theirs),
        "--certificate-chain",
        path_str(&root),
    ];
    let stdout = run(&verify, 0);
    assert!(stdout.contains("OMS Test Signer"), "{stdout}");
    // The intermediate is not a root, for either tool.
    run(
        &[
            "verify",
            path_str(&model),
            "--signature",
            path_str(&theirs),
            "--certificate-chain",
            path_str(&intermediate),
        ],
        1,
    );

    // modelprov signs the same way; model_signing verifies to the root.
    let ours = folder.path().join("ours.sig");
    run(
        &[
            "sign",
            path_str(&model),
            "--key",
            path_str(&leaf_key),
            "--certificate",
            path_str(&leaf),
            "--certificate-chain",
            path_str(&intermediate),
            "-o",
            path_str(&ours),
            "-q",
        ],
        0,
    );
    let their_verify = [
        "verify",
        "certificate",
        path_str(&model),
        "--signature",
        path_str(&ours),
        "--certificate_chain",
        path_str(&root),
    ];
    let accepted = model_signing(&their_verify);
    assert!(accepted.status.success(), "{}", text(&accepted));

    flip_config_byte(&model);
    assert_eq!(model_signing(&their_verify).status.code(), Some(1));
    run(&verify, 1);
}

/// `openssl verify` of `leaf` through `intermediates` to `root`, optionally at a unix time.
fn openssl_verify(
    root: &Path,
    intermediates: &[&Path],
    leaf: &Path,
    at: Option<i64>,
) -> std::process::Output {
    let mut command = std::process::Command::new("openssl");
    command.args(["verify", "-CAfile", path_str(root)]);
    for intermediate in intermediates {
        command.args(["-untrusted", path_str(intermediate)]);
    }
    if let Some(at) = at {
        command.args(["-attime", &at.to_string()]);
    }
    command.arg(path_str(leaf)).output().unwrap()
}

/// PKIs that differ from a good one in one constraint: modelprov, `openssl verify` and
/// model_signing 1.1.1 all refuse them, and all accept the good one.
#[test]
fn certificate_constraints_are_judged_as_openssl_and_model_signing_judge_them() {
    use crate::common::pki::{Validity, ca, leaf};
    use rcgen::BasicConstraints::{Constrained, Unconstrained};
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let model = copy_model(dir);
    let days = time::Duration::days;
    let two_days_ago = Validity::new(days(-2), days(30));
    // An instant after the leaves' notBefore (two days ago) and before the young root's.
    let leaf_not_before = time::OffsetDateTime::now_utc().unix_timestamp() - 2 * 86400 + 60;

    struct Case {
        name: &'static str,
        root_constraints: rcgen::BasicConstraints,
        root_validity: Validity,
        accepted: bool,
        reason: &'static str,
        openssl_says: &'static str,
    }
    for case in [
        Case {
            name: "good",
            root_constraints: Constrained(1),
            root_validity: Validity::new(days(-10), days(365)),
            accepted: true,
            reason: "",
            openssl_says: "OK",
        },
        Case {
            name: "pathlen0",
            root_constraints: Constrained(0),
            root_validity: Validity::new(days(-10), days(365)),
            accepted: false,
            reason: "has the path length constraint pathlen:0",
            openssl_says: "path length constraint exceeded",
        },
        Case {
            name: "young",
            root_constraints: Unconstrained,
            root_validity: Validity::new(days(-1), days(365)),
            accepted: false,
            reason: "is not valid at the signing certificate's notBefore",
            openssl_says: "certificate is not yet valid",
        },
    ] {
        let name = case.name;
        let root = ca(
            dir,
            &format!("{name}-root"),
            &format!("{name} root"),
            case.root_constraints,
            case.root_validity,
            None,
        );
        let intermediate = ca(
            dir,
            &format!("{name}-int"),
            &format!("{name} intermediate"),
            Unconstrained,
            Validity::new(days(-10), days(365)),
            Some(&root),
        );
        let (cert, key) = leaf(dir, &format!("{name}-leaf"), &intermediate, two_days_ago);
        let signature = dir.join(format!("{name}.sig"));
        run(
            &[
                "sign",
                path_str(&model),
                "--key",
                path_str(&key),
                "--certificate",
                path_str(&cert),
                "--certificate-chain",
                path_str(&intermediate.cert),
                "-o",
                path_str(&signature),
                "-q",
            ],
            0,
        );

        let stdout = run(
            &[
                "verify",
                path_str(&model),
                "--signature",
                path_str(&signature),
                "--certificate-chain",
                path_str(&root.cert),
            ],
            i32::from(!case.accepted),
        );
        assert!(stdout.contains(case.reason), "{name}: {stdout}");

        let theirs = model_signing(&[
            "verify",
            "certificate",
            path_str(&model),
            "--signature",
            path_str(&signature),
            "--certificate_chain",
            path_str(&root.cert),
        ]);
        assert_eq!(
            theirs.status.success(),
            case.accepted,
            "{name}: {}",
            text(&theirs)
        );

        let checked = openssl_verify(
            &root.cert,
            &[&intermediate.cert],
            &cert,
            Some(leaf_not_before),
        );
        assert_eq!(
            checked.status.success(),
            case.accepted,
            "{name}: {}",
            text(&checked)
        );
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&checked.stdout),
            String::from_utf8_lossy(&checked.stderr)
        );
        assert!(said.contains(case.openssl_says), "{name}: {said}");
    }
}
