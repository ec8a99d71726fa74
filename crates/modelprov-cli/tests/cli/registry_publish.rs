//! A team's registry server as its members use it through `modelprov`: a namespace trusting one
//! key, tokens per role, signed models published (and unsigned or untrusted ones refused), the
//! `lineage` commands and `verify --id` against the server as against a file, yanks, and the
//! database refusing to change what was published.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{Value, json};

use super::registry_support::{Server, TestDatabase, call, token_file};

/// A team member's shell: `modelprov` in `dir`, with nothing from the caller's environment.
pub fn modelprov(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("modelprov").unwrap();
    command
        .current_dir(dir)
        .env_remove("MODELPROV_REGISTRY")
        .env_remove("MODELPROV_TOKEN");
    command
}

/// Writes a small model folder whose content (and so digest) depends on `variant`.
pub fn write_model(dir: &Path, variant: &str) -> PathBuf {
    let model = dir.join(format!("model-{variant}"));
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(
        model.join("config.json"),
        format!("{{\"variant\": \"{variant}\"}}"),
    )
    .unwrap();
    std::fs::write(model.join("weights.bin"), vec![7u8; 4096]).unwrap();
    model
}

/// `ml.key` (trusted by `team.toml`) and `other.key` (trusted by nobody), in `dir`.
pub fn keys_and_policy(dir: &Path) {
    for key in ["ml.key", "other.key"] {
        modelprov(dir)
            .args(["keygen", "-q", "--private-key", key])
            .assert()
            .success();
    }
    modelprov(dir)
        .args(["policy", "new", "--key", "ml.key.pub", "-o", "team.toml"])
        .assert()
        .success();
}

/// Signs `model` with `key` into `signature` (and its scan report into `scan`, when given);
/// returns the digest.
pub fn sign(dir: &Path, model: &Path, key: &str, signature: &str, scan: Option<&str>) -> String {
    let mut command = modelprov(dir);
    command
        .arg("sign")
        .arg(model)
        .args(["-q", "--key", key, "-o", signature]);
    if let Some(scan) = scan {
        command.args(["--scan-signature", scan]);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// The namespace `namespace` on `server`, made with the admin token in `dir`, trusting the
/// signer that `policy new` options `signer` name.
fn namespace_trusting(dir: &Path, server: &Server, namespace: &str, signer: &[&str]) {
    let policy = format!("{namespace}.toml");
    modelprov(dir)
        .args(["policy", "new"])
        .args(signer)
        .args(["-o", &policy])
        .assert()
        .success();
    modelprov(dir)
        .args(["namespace", "create", namespace, "--policy", &policy])
        .args(["--registry", &server.base, "--token-file", "admin.token"])
        .assert()
        .success();
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
#[allow(clippy::too_many_lines)] // one team's story, told in order
fn a_team_publishes_signed_models_and_every_client_command_reads_them_back() {
    use std::os::unix::fs::PermissionsExt as _;
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let server = Server::start(&database, &token_file(dir));
    let url = server.base.clone();
    let admin = std::fs::read_to_string(token_file(dir)).unwrap();
    let admin = admin.trim();
    keys_and_policy(dir);
    let registry = ["--registry", url.as_str()];

    // The server's admin makes the namespace and the team's tokens.
    modelprov(dir)
        .args(["namespace", "create", "vision", "--policy", "team.toml"])
        .args(registry)
        .args(["--token-file", "admin.token"])
        .assert()
        .success();
    for (role, file) in [
        ("publisher", "pub.token"),
        ("reader", "read.token"),
        ("admin", "nsadmin.token"),
    ] {
        modelprov(dir)
            .args(["token", "create", "--namespace", "vision", "--role", role])
            .args(["-o", file, "--token-file", "admin.token"])
            .args(registry)
            .assert()
            .success();
        assert_eq!(
            std::fs::metadata(dir.join(file))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    // A token file is never overwritten, and no token is made for a file that cannot be kept.
    let before = std::fs::read(dir.join("pub.token")).unwrap();
    let output = modelprov(dir)
        .args([
            "token",
            "create",
            "--namespace",
            "vision",
            "--role",
            "admin",
        ])
        .args(["-o", "pub.token", "--token-file", "admin.token"])
        .args(registry)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("never overwritten"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read(dir.join("pub.token")).unwrap(), before);
    let read_token = std::fs::read_to_string(dir.join("read.token")).unwrap();
    let reader = read_token.trim();

    // Publishing a signed model with its scan report.
    let model = write_model(dir, "base");
    let digest = sign(dir, &model, "ml.key", "model.sig", Some("scan.sig"));
    let publish = |id: &str, files: &[&str], token: &str| {
        let mut command = modelprov(dir);
        command.args(["publish", id, "--json", "--token-file", token]);
        command.args(registry);
        for file in files {
            let option = if file.starts_with("scan") {
                "--scan-signature"
            } else {
                "--signature"
            };
            command.args([option, file]);
        }
        command.output().unwrap()
    };
    let output = publish("vision/tiny@1.0", &["model.sig", "scan.sig"], "pub.token");
    assert!(output.status.success(), "{}", stderr(&output));
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["digest"], digest.as_str());
    assert_eq!(
        (answer["new_version"].clone(), answer["added"].clone()),
        (json!(true), json!(2))
    );
    assert_eq!(answer["kinds"], json!(["signature", "scan"]));
    // Again: nothing new, not an error.
    let output = publish("vision/tiny@1.0", &["model.sig"], "pub.token");
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (answer["added"].clone(), answer["unchanged"].clone()),
        (json!(0), json!(1))
    );

    // Refused: a signer the policy does not trust, another model under a published version, a
    // reader publishing, a token nobody issued. Nothing of them is stored.
    sign(dir, &model, "other.key", "other.sig", None);
    let output = publish("vision/tiny@1.1", &["other.sig"], "pub.token");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not_trusted"),
        "{}",
        stderr(&output)
    );
    let changed = write_model(dir, "changed");
    let changed_digest = sign(dir, &changed, "ml.key", "changed.sig", None);
    let output = publish("vision/tiny@1.0", &["changed.sig"], "pub.token");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("a version never changes"),
        "{}",
        stderr(&output)
    );
    let output = publish("vision/tiny@1.2", &["model.sig"], "read.token");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("forbidden"), "{}", stderr(&output));
    std::fs::write(
        dir.join("forged.token"),
        format!("mprv_{}\n", "A".repeat(43)),
    )
    .unwrap();
    let output = publish("vision/tiny@1.2", &["model.sig"], "forged.token");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("unauthenticated"),
        "{}",
        stderr(&output)
    );
    let (status, versions) = call(
        "GET",
        &server.url("/v1/models?name=vision/tiny"),
        Some(reader),
        None,
    );
    assert_eq!(status, 200);
    let listed: Vec<&str> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["1.0"]);
    let (status, _) = call(
        "GET",
        &server.url(&format!("/v1/digests/{changed_digest}")),
        Some(admin),
        None,
    );
    assert_eq!(status, 404, "a refused publication left something behind");

    // What the registry knows about these bytes; nothing to someone without a token.
    let about_url = server.url(&format!("/v1/digests/{digest}"));
    let (status, about) = call("GET", &about_url, Some(reader), None);
    assert_eq!(status, 200, "{about}");
    assert_eq!(about["versions"][0]["name"], "vision/tiny");
    let kinds: Vec<&str> = about["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["signature", "scan"]);
    assert_eq!(about["statements"][1]["summary"]["ok"], true);
    assert!(
        about["statements"][0]["signer"]
            .as_str()
            .unwrap()
            .starts_with("key ")
    );
    assert_eq!(call("GET", &about_url, None, None).0, 404);

    // Lineage against the server: signed records only; then every reading command.
    modelprov(dir)
        .args([
            "lineage",
            "record",
            "--name",
            "vision/tiny",
            "--model-version",
            "1.0",
        ])
        .arg("--model")
        .arg(&model)
        .args(["--key", "ml.key", "--token-file", "pub.token"])
        .args(registry)
        .assert()
        .success();
    let child = write_model(dir, "finetuned");
    modelprov(dir)
        .args([
            "lineage",
            "record",
            "--name",
            "vision/tiny-ft",
            "--model-version",
            "2.0",
        ])
        .arg("--model")
        .arg(&child)
        .args(["--parent", "finetune=vision/tiny@1.0"])
        .args(["--key", "ml.key", "--token-file", "pub.token"])
        .args(registry)
        .assert()
        .success();
    let output = modelprov(dir)
        .args([
            "lineage",
            "record",
            "--name",
            "vision/unsigned",
            "--model-version",
            "1",
        ])
        .arg("--model")
        .arg(&changed)
        .args(["--token-file", "pub.token"])
        .args(registry)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("signed records only"),
        "{}",
        stderr(&output)
    );
    // A reader, with the token in the environment and the server in MODELPROV_REGISTRY.
    let as_reader = |args: &[&str]| {
        modelprov(dir)
            .env("MODELPROV_REGISTRY", &url)
            .env("MODELPROV_TOKEN", reader)
            .args(args)
            .output()
            .unwrap()
    };
    let trace = as_reader(&["lineage", "trace", "vision/tiny-ft@2.0"]);
    assert!(trace.status.success(), "{}", stderr(&trace));
    assert!(String::from_utf8_lossy(&trace.stdout).contains("finetune vision/tiny@1.0"));
    let verified = as_reader(&[
        "lineage",
        "verify",
        "vision/tiny-ft@2.0",
        "--key",
        "ml.key.pub",
    ]);
    assert!(verified.status.success(), "{}", stderr(&verified));
    let untrusted = as_reader(&[
        "lineage",
        "verify",
        "vision/tiny-ft@2.0",
        "--key",
        "other.key.pub",
    ]);
    assert_eq!(untrusted.status.code(), Some(1));
    let diff = as_reader(&["lineage", "diff", "vision/tiny@1.0", "vision/tiny-ft@2.0"]);
    assert!(diff.status.success(), "{}", stderr(&diff));
    assert!(String::from_utf8_lossy(&diff.stdout).contains("modified  config.json"));
    let ok = as_reader(&["verify", model.to_str().unwrap(), "--id", "vision/tiny@1.0"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let wrong = as_reader(&["verify", child.to_str().unwrap(), "--id", "vision/tiny@1.0"]);
    assert_eq!(wrong.status.code(), Some(1), "{}", stderr(&wrong));
    let versions = as_reader(&["lineage", "versions", "vision/tiny"]);
    assert!(String::from_utf8_lossy(&versions.stdout).contains("1.0"));
    let export = as_reader(&["lineage", "export"]);
    assert!(export.status.success());
    std::fs::write(dir.join("all.jsonl"), &export.stdout).unwrap();
    assert_eq!(String::from_utf8_lossy(&export.stdout).lines().count(), 2);
    let output = modelprov(dir)
        .args([
            "lineage",
            "import",
            "all.jsonl",
            "--token-file",
            "pub.token",
        ])
        .args(registry)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("2 already present"));
    let (_, about) = call("GET", &about_url, Some(reader), None);
    assert_eq!(about["lineage"]["id"], "vision/tiny@1.0");

    // Yanking: a namespace admin's act, with a reason, never undone.
    let yank = |token: &str, reason: &str| {
        modelprov(dir)
            .args([
                "yank",
                "vision/tiny@1.0",
                "--reason",
                reason,
                "--token-file",
                token,
            ])
            .args(registry)
            .output()
            .unwrap()
    };
    assert_eq!(yank("pub.token", "oops").status.code(), Some(2));
    assert!(
        yank("nsadmin.token", "CVE-2026-0001 in the tokenizer")
            .status
            .success()
    );
    assert!(yank("nsadmin.token", "second thoughts").status.success());
    let (_, about) = call("GET", &about_url, Some(reader), None);
    assert_eq!(
        about["versions"][0]["yanked"]["reason"],
        "CVE-2026-0001 in the tokenizer"
    );

    // The audit log has each accepted write once (the repeated publication and yank are not
    // writes), and the database refuses to change what was published, whoever connects.
    let (_, log) = call("GET", &server.url("/v1/audit?limit=100"), Some(admin), None);
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "token.create",
            "namespace.create",
            "token.create",
            "token.create",
            "token.create",
            "publish",
            "publish",
            "manifest.put",
            "publish",
            "manifest.put",
            "version.yank"
        ]
    );
    for tamper in [
        "UPDATE registry_versions SET digest = digest",
        "DELETE FROM registry_versions",
        "DELETE FROM registry_statements",
        "UPDATE registry_yanks SET reason = 'nothing happened'",
        "TRUNCATE registry_yanks",
    ] {
        let error = database.try_sql(tamper).unwrap_err();
        assert!(
            error.to_string().contains("never changed or removed")
                || error
                    .as_db_error()
                    .is_some_and(|e| e.message().contains("never changed")),
            "{tamper}: {error}"
        );
    }
    assert!(server.stop().success());
}

#[test]
fn signatures_model_signing_wrote_are_published_under_a_policy_trusting_their_signer() {
    // The reference implementation's own bundles (model_signing 1.1.1, ../shared/vectors/oms):
    // one signed with a key, one with a certificate chaining to the test PKI's root.
    let vectors = super::common::vectors();
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let server = Server::start(&database, &token_file(dir));
    let registry = ["--registry", server.base.as_str()];
    let admin = ["--token-file", "admin.token"];
    for (namespace, signer, file) in [
        ("keys", "--key", "keys/p256_public.pem"),
        ("pki", "--certificate-root", "pki/root_cert.pem"),
    ] {
        let file = vectors.join(file);
        namespace_trusting(dir, &server, namespace, &[signer, file.to_str().unwrap()]);
    }
    let publish = |id: &str, signature: &str| {
        modelprov(dir)
            .args(["publish", id, "--json", "--signature"])
            .arg(vectors.join("sigs").join(signature))
            .args(registry)
            .args(admin)
            .output()
            .unwrap()
    };
    // The root digest model_signing computed for vectors/oms/model.
    let digest = "sha256:8892da4eac46260d5938336518ba9825282fe615289912758c5cca9e226de196";
    for (id, signature) in [
        ("keys/m@1", "p256_files.sig"),
        ("pki/m@1", "cert_chain_files.sig"),
    ] {
        let output = publish(id, signature);
        assert!(output.status.success(), "{id}: {}", stderr(&output));
        let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(answer["digest"], digest, "{id}");
    }
    // Each namespace refuses the other's signer, naming why; nothing is stored.
    for (id, signature) in [
        ("keys/m@2", "cert_chain_files.sig"),
        ("pki/m@2", "p256_files.sig"),
    ] {
        let output = publish(id, signature);
        assert_eq!(output.status.code(), Some(2), "{id}");
        assert!(
            stderr(&output).contains("not_trusted"),
            "{id}: {}",
            stderr(&output)
        );
    }
    let admin_token = std::fs::read_to_string(token_file(dir)).unwrap();
    let (status, known) = call(
        "GET",
        &server.url(&format!("/v1/digests/{digest}")),
        Some(admin_token.trim()),
        None,
    );
    assert_eq!(status, 200, "{known}");
    let names: Vec<_> = known["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            format!(
                "{}@{}",
                v["name"].as_str().unwrap(),
                v["version"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(names, ["keys/m@1", "pki/m@1"]);
    // Who signed, as the server's verifier established it.
    let signers: Vec<_> = known["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["kind"].clone(), s["signer"].clone(), s["trusted"].clone()))
        .collect();
    assert_eq!(
        signers,
        [
            (
                json!("signature"),
                json!("key 2107c432d05132433035793384d36a72b8906d803e6c75fe576fedb7a55660f8"),
                json!(true)
            ),
            (
                json!("signature"),
                json!("certificate O=Example,CN=OMS Test Signer"),
                json!(true)
            ),
        ]
    );
}

#[test]
fn a_real_keyless_bundle_is_verified_by_the_server_before_its_statement_is_read() {
    // A keyless (Fulcio certificate, Rekor entry) DSSE bundle from the Sigstore conformance
    // suite (../shared/sigstore-conformance): SLSA provenance of a build, signed by the suite's
    // GitHub Actions identity on the production instance.
    let case = super::common::vectors()
        .join("../../sigstore-conformance/bundle-verify/happy-path-intoto-in-dsse-v3/bundle.sigstore.json");
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let server = Server::start(&database, &token_file(dir));
    let registry = ["--registry", server.base.as_str()];
    let admin = ["--token-file", "admin.token"];
    let beacon = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    for (namespace, identity) in [("ci", beacon), ("other", "someone@example.com")] {
        let issuer = "https://token.actions.githubusercontent.com";
        namespace_trusting(
            dir,
            &server,
            namespace,
            &["--identity", identity, "--issuer", issuer],
        );
    }
    let publish = |id: &str| {
        modelprov(dir)
            .args(["publish", id, "--statement"])
            .arg(&case)
            .args(registry)
            .args(admin)
            .output()
            .unwrap()
    };
    // Another identity's namespace: the signature is checked, and it is not theirs.
    let output = publish("other/build@1");
    assert_eq!(output.status.code(), Some(2));
    let refused = stderr(&output);
    assert!(
        refused.contains("not_trusted")
            && refused.contains("identity mismatch: expected someone@example.com")
            && refused.contains(beacon),
        "{refused}"
    );
    // The identity's own: the signature verifies; the statement, a build's provenance and not a
    // modelprov lineage record, is then refused as invalid, saying what it lacks.
    let output = publish("ci/build@1");
    assert_eq!(output.status.code(), Some(2));
    let refused = stderr(&output);
    assert!(
        refused.contains("(invalid, HTTP 422)")
            && refused.contains("the build type is not a modelprov lineage record"),
        "{refused}"
    );
    let admin_token = std::fs::read_to_string(token_file(dir)).unwrap();
    let (status, body) = call(
        "GET",
        &server.url("/v1/models?name=ci/build"),
        Some(admin_token.trim()),
        None,
    );
    assert_eq!((status, body["versions"].clone()), (200, json!([])));
}
