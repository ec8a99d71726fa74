//! Raw detached signatures both ways with openssl and Python `cryptography`, for every
//! algorithm: ECDSA P-256/P-384/P-521 (SHA-256, DER), Ed25519, RSA-3072 PSS (SHA-256, MGF1-SHA-256,
//! maximum salt when signing, any salt when verifying).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::interop::{python, text};
use crate::common::*;

/// Signs or verifies with Python cryptography: `sign|verify KEY FILE SIG`.
const CRYPTOGRAPHY: &str = r#"
import sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
mode, key_path, file_path, sig_path = sys.argv[1:5]
data = open(file_path, "rb").read()
pem = open(key_path, "rb").read()
pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)
if mode == "sign":
    key = serialization.load_pem_private_key(pem, password=None)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        sig = key.sign(data)
    elif isinstance(key, rsa.RSAPrivateKey):
        sig = key.sign(data, pss, hashes.SHA256())
    else:
        sig = key.sign(data, ec.ECDSA(hashes.SHA256()))
    open(sig_path, "wb").write(sig)
else:
    key = serialization.load_pem_public_key(pem)
    sig = open(sig_path, "rb").read()
    if isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(sig, data)
    elif isinstance(key, rsa.RSAPublicKey):
        key.verify(sig, data, pss, hashes.SHA256())
    else:
        key.verify(sig, data, ec.ECDSA(hashes.SHA256()))
"#;

fn openssl(args: &[&str]) -> std::process::Output {
    Command::new("openssl").args(args).output().unwrap()
}

/// A key pair made by openssl (so that both tools read a key neither wrote).
fn openssl_key(folder: &Path, name: &str) -> (String, String) {
    let private = folder.join(format!("{name}.pem"));
    let public = folder.join(format!("{name}.pub.pem"));
    let options: &[&str] = match name {
        "p256" => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "p384" => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        "p521" => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
        "ed25519" => &["-algorithm", "ED25519"],
        _ => &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
    };
    let made = openssl(&[&["genpkey"], options, &["-out", path_str(&private)]].concat());
    assert!(made.status.success(), "{}", text(&made));
    let made = openssl(&[
        "pkey",
        "-in",
        path_str(&private),
        "-pubout",
        "-out",
        path_str(&public),
    ]);
    assert!(made.status.success(), "{}", text(&made));
    (
        path_str(&private).to_string(),
        path_str(&public).to_string(),
    )
}

/// openssl's sign command for `name`'s scheme; `salt` picks the RSA-PSS salt length.
fn openssl_sign(
    name: &str,
    key: &str,
    file: &str,
    signature: &str,
    salt: &str,
) -> std::process::Output {
    match name {
        "ed25519" => openssl(&[
            "pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", file, "-out", signature,
        ]),
        "rsa" => openssl(&[
            "dgst",
            "-sha256",
            "-sign",
            key,
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            &format!("rsa_pss_saltlen:{salt}"),
            "-sigopt",
            "rsa_mgf1_md:sha256",
            "-out",
            signature,
            file,
        ]),
        _ => openssl(&["dgst", "-sha256", "-sign", key, "-out", signature, file]),
    }
}

fn openssl_verify(name: &str, public: &str, file: &str, signature: &str) -> std::process::Output {
    match name {
        "ed25519" => openssl(&[
            "pkeyutl", "-verify", "-pubin", "-inkey", public, "-rawin", "-in", file, "-sigfile",
            signature,
        ]),
        "rsa" => openssl(&[
            "dgst",
            "-sha256",
            "-verify",
            public,
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:auto",
            "-sigopt",
            "rsa_mgf1_md:sha256",
            "-signature",
            signature,
            file,
        ]),
        _ => openssl(&[
            "dgst",
            "-sha256",
            "-verify",
            public,
            "-signature",
            signature,
            file,
        ]),
    }
}

#[test]
fn raw_signatures_interoperate_with_openssl_and_cryptography_both_ways() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("weights.bin");
    fs::write(
        &file,
        (0..3_000_000u64)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let file = path_str(&file).to_string();
    let other = folder.path().join("other.bin");
    fs::write(&other, b"not the signed file").unwrap();
    let other = path_str(&other).to_string();

    for name in ["p256", "p384", "p521", "ed25519", "rsa"] {
        let (key, public) = openssl_key(folder.path(), name);
        let sig =
            |tag: &str| path_str(&folder.path().join(format!("{name}.{tag}.sig"))).to_string();
        let verify = |signature: &str, target: &str, code: i32| {
            run(
                &[
                    "verify",
                    target,
                    "--raw",
                    "--signature",
                    signature,
                    "--key",
                    &public,
                ],
                code,
            )
        };

        // openssl signs, modelprov verifies (RSA: the maximum salt and the digest-length salt).
        for salt in ["max", "digest"] {
            let signature = sig(&format!("openssl-{salt}"));
            let signed = openssl_sign(name, &key, &file, &signature, salt);
            assert!(signed.status.success(), "{name}: {}", text(&signed));
            assert!(
                verify(&signature, &file, 0).starts_with("OK"),
                "{name} {salt}"
            );
            verify(&signature, &other, 1);
        }

        // cryptography signs, modelprov verifies.
        let signature = sig("cryptography");
        let signed = python(CRYPTOGRAPHY, &["sign", &key, &file, &signature]);
        assert!(signed.status.success(), "{name}: {}", text(&signed));
        verify(&signature, &file, 0);

        // modelprov signs; openssl and cryptography verify, and refuse another file.
        let signature = sig("modelprov");
        run(
            &[
                "sign", &file, "--raw", "--key", &key, "-o", &signature, "-q",
            ],
            0,
        );
        let checked = openssl_verify(name, &public, &file, &signature);
        assert!(checked.status.success(), "{name}: {}", text(&checked));
        assert!(
            !openssl_verify(name, &public, &other, &signature)
                .status
                .success(),
            "{name}"
        );
        let checked = python(CRYPTOGRAPHY, &["verify", &public, &file, &signature]);
        assert!(checked.status.success(), "{name}: {}", text(&checked));
        assert!(
            !python(CRYPTOGRAPHY, &["verify", &public, &other, &signature])
                .status
                .success()
        );

        // One flipped signature bit is refused.
        let mut bytes = fs::read(&signature).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x10;
        fs::write(&signature, bytes).unwrap();
        verify(&signature, &file, 1);
    }
}

/// An SPKI file for `private` at `public`, written by openssl.
fn openssl_public(private: &Path, public: &Path) {
    let made = openssl(&[
        "pkey",
        "-in",
        path_str(private),
        "-pubout",
        "-out",
        path_str(public),
    ]);
    assert!(made.status.success(), "{}", text(&made));
}

#[test]
fn every_key_that_sign_accepts_verifies_both_as_oms_and_raw() {
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    let model = copy_model(root);
    let file = root.join("weights.bin");
    fs::write(&file, b"weights").unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys");

    // (name, private key, public key): keygen's types, then RSA keys made by openssl up to
    // OpenSSL's largest (8192 and 16384 bits come from fixtures: making them takes minutes).
    let mut keys = Vec::new();
    for key_type in ["p256", "p384", "p521", "ed25519", "rsa3072", "rsa4096"] {
        let private = root.join(format!("{key_type}.key"));
        run(
            &[
                "keygen",
                "--type",
                key_type,
                "--private-key",
                path_str(&private),
            ],
            0,
        );
        keys.push((
            key_type.to_string(),
            private.clone(),
            root.join(format!("{key_type}.key.pub")),
        ));
    }
    for bits in [2048, 3072, 4096] {
        let private = root.join(format!("openssl-rsa{bits}.pem"));
        let made = openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            &format!("rsa_keygen_bits:{bits}"),
            "-out",
            path_str(&private),
        ]);
        assert!(made.status.success(), "{}", text(&made));
        keys.push((format!("openssl RSA-{bits}"), private, PathBuf::new()));
    }
    for bits in [8192, 16384] {
        keys.push((
            format!("openssl RSA-{bits}"),
            fixtures.join(format!("rsa{bits}.pem")),
            PathBuf::new(),
        ));
    }

    for (name, private, public) in &mut keys {
        if public.as_os_str().is_empty() {
            *public = root.join(format!("{}.pub", name.replace(' ', "-")));
            openssl_public(private, public);
        }
        let signature = root.join("model.sig");
        sign(&model, private, &signature);
        let stdout = run(
            &[
                "verify",
                path_str(&model),
                "--signature",
                path_str(&signature),
                "--key",
                path_str(public),
            ],
            0,
        );
        assert!(stdout.starts_with("OK"), "{name}: {stdout}");

        let raw = root.join("weights.sig");
        run(
            &[
                "sign",
                path_str(&file),
                "--raw",
                "--key",
                path_str(private),
                "-o",
                path_str(&raw),
                "-q",
            ],
            0,
        );
        let stdout = run(
            &[
                "verify",
                path_str(&file),
                "--raw",
                "--signature",
                path_str(&raw),
                "--key",
                path_str(public),
            ],
            0,
        );
        assert!(stdout.starts_with("OK"), "{name}: {stdout}");
        if name.starts_with("openssl") {
            let checked = openssl_verify("rsa", path_str(public), path_str(&file), path_str(&raw));
            assert!(checked.status.success(), "{name}: {}", text(&checked));
        }
    }
}
