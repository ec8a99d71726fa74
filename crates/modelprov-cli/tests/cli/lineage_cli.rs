//! `modelprov lineage`: recording signed records from real model folders, querying the graph,
//! verifying chains, moving records between registries, and refusing bad input without touching
//! the registry; two writers at once and a writer killed mid-transaction lose nothing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::*;
use serde_json::json;

/// (digest or child, name or relation, version, statement or parent, bundle).
type StoredRow = (Vec<u8>, String, String, Vec<u8>, Option<Vec<u8>>);

struct Lab {
    dir: tempfile::TempDir,
    registry: PathBuf,
}

impl Lab {
    fn new() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let registry = dir.path().join("registry.sqlite");
        Lab { dir, registry }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `modelprov lineage ARGS --registry R`, expecting `code`; stdout.
    fn lineage(&self, args: &[&str], code: i32) -> String {
        let mut all = vec!["lineage"];
        all.extend_from_slice(args);
        all.extend(["--registry", path_str(&self.registry)]);
        run(&all, code)
    }

    fn lineage_err(&self, args: &[&str], code: i32) -> String {
        let mut all = vec!["lineage"];
        all.extend_from_slice(args);
        all.extend(["--registry", path_str(&self.registry)]);
        run_err(&all, code)
    }

    /// A copy of the example model with `extra` written into it (so each variant has its own digest).
    fn model(&self, name: &str, extra: &str) -> PathBuf {
        let folder = self.path(name);
        fs::create_dir_all(&folder).unwrap();
        let model = copy_example_model(&folder);
        fs::write(model.join("variant.txt"), extra).unwrap();
        model
    }

    fn key(&self) -> (PathBuf, PathBuf) {
        let key = self.path("signer.pem");
        if !key.exists() {
            run(&["keygen", "--private-key", path_str(&key)], 0);
        }
        (key.clone(), PathBuf::from(format!("{}.pub", key.display())))
    }

    /// Every record and edge, as stored (the file's bytes move with WAL checkpoints).
    fn registry_contents(&self) -> Vec<StoredRow> {
        let connection = rusqlite::Connection::open(&self.registry).unwrap();
        let mut rows: Vec<_> = connection
            .prepare("SELECT digest, name, version, statement, bundle FROM records ORDER BY id")
            .unwrap()
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let edges: Vec<(Vec<u8>, Vec<u8>, String)> = connection
            .prepare("SELECT child, parent, relation FROM edges ORDER BY child, parent")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.extend(
            edges
                .into_iter()
                .map(|(c, p, r)| (c, r, String::new(), p, None)),
        );
        rows
    }
}

/// base -> tuned -> (tuned + other) merged -> quantised, all signed.
fn family(lab: &Lab) -> Vec<PathBuf> {
    let (key, _) = lab.key();
    let base = lab.model("base", "base");
    let other = lab.model("other", "other");
    let tuned = lab.model("tuned", "tuned");
    let merged = lab.model("merged", "merged");
    let quant = lab.model("quant", "quant");
    let k = path_str(&key);
    lab.lineage(
        &[
            "record",
            "--name",
            "base",
            "--model-version",
            "1.0.0",
            "--model",
            path_str(&base),
            "--trainer",
            "team-a",
            "--metric",
            "mmlu=0.50",
            "--key",
            k,
        ],
        0,
    );
    lab.lineage(
        &[
            "record",
            "--name",
            "other",
            "--model-version",
            "2.0",
            "--model",
            path_str(&other),
            "--key",
            k,
        ],
        0,
    );
    lab.lineage(
        &[
            "record",
            "--name",
            "tuned",
            "--model-version",
            "1.1.0",
            "--model",
            path_str(&tuned),
            "--parent",
            "finetune=base@1.0.0",
            "--dataset",
            "conversations@2024-01=https://data.example/conv",
            "--method",
            "SFT",
            "--metric",
            "mmlu=0.61",
            "--key",
            k,
        ],
        0,
    );
    lab.lineage(
        &[
            "record",
            "--name",
            "merged",
            "--model-version",
            "1.0.0",
            "--model",
            path_str(&merged),
            "--parent",
            "merge=tuned@1.1.0",
            "--parent",
            "merge=other@2.0",
            "--key",
            k,
        ],
        0,
    );
    lab.lineage(
        &[
            "record",
            "--name",
            "merged-q4",
            "--model-version",
            "1.0.0",
            "--model",
            path_str(&quant),
            "--parent",
            "quantized=merged@1.0.0",
            "--key",
            k,
        ],
        0,
    );
    vec![base, other, tuned, merged, quant]
}

#[test]
fn a_family_is_recorded_queried_and_verified() {
    let lab = Lab::new();
    let models = family(&lab);
    let (_, public) = lab.key();

    let shown = json(&lab.lineage(&["show", "tuned@1.1.0", "--json"], 0));
    assert_eq!(shown["signed"], true);
    assert_eq!(shown["record"]["parents"][0]["relation"], "finetune");
    assert_eq!(shown["record"]["parents"][0]["name"], "base@1.0.0");
    assert_eq!(
        shown["record"]["datasets"][0],
        json!({"name": "conversations", "version": "2024-01", "uri": "https://data.example/conv"})
    );
    let digest = run(
        &["hash", path_str(&models[2]), "--ignore", "README.md", "-q"],
        0,
    );
    assert_eq!(shown["record"]["digest"], digest.trim());

    let trace = lab.lineage(&["trace", "merged-q4@1.0.0"], 0);
    assert!(trace.starts_with("merged-q4@1.0.0 sha256:"), "{trace}");
    for line in [
        "  quantized merged@1.0.0",
        "    merge tuned@1.1.0",
        "      finetune base@1.0.0",
        "    merge other@2.0",
    ] {
        assert!(trace.contains(line), "{line}\n{trace}");
    }
    assert!(trace.ends_with("4 ancestors\n"), "{trace}");
    let below = json(&lab.lineage(&["descendants", "base", "--json"], 0));
    assert_eq!(below["nodes"].as_array().unwrap().len(), 4);

    let dot = lab.lineage(&["graph", "--format", "dot"], 0);
    assert!(
        dot.starts_with("digraph lineage {") && dot.matches(" -> ").count() == 4,
        "{dot}"
    );
    let mermaid = lab.lineage(&["graph", "tuned", "--format", "mermaid"], 0);
    assert!(
        mermaid.contains("-->|finetune|") && mermaid.contains("-->|quantized|"),
        "{mermaid}"
    );

    let diff = lab.lineage(&["diff", "base@1.0.0", "tuned@1.1.0"], 0);
    assert!(diff.contains("  modified  variant.txt"), "{diff}");
    assert!(
        diff.contains("  metric    mmlu: 0.5 -> 0.61 (+0.1100)"),
        "{diff}"
    );
    assert!(
        diff.contains("  changed   procedure: null -> {\"method\":\"SFT\"}"),
        "{diff}"
    );

    let ok = lab.lineage(
        &[
            "verify",
            "merged-q4@1.0.0",
            "--key",
            path_str(&public),
            "--model",
            path_str(&models[4]),
        ],
        0,
    );
    assert!(
        ok.contains("OK: merged-q4@1.0.0 and its 4 ancestor record(s) verify"),
        "{ok}"
    );
    // The registry is the team's list of trusted digests.
    let verified = run(
        &[
            "verify",
            path_str(&models[3]),
            "--id",
            "merged@1.0.0",
            "--registry",
            path_str(&lab.registry),
        ],
        0,
    );
    assert!(verified.starts_with("OK: "), "{verified}");
    fs::write(models[3].join("variant.txt"), "changed").unwrap();
    let failed = run(
        &[
            "verify",
            path_str(&models[3]),
            "--id",
            "merged@1.0.0",
            "--registry",
            path_str(&lab.registry),
        ],
        1,
    );
    assert!(failed.contains("modified  variant.txt"), "{failed}");
    let failed = lab.lineage(
        &[
            "verify",
            "merged@1.0.0",
            "--key",
            path_str(&public),
            "--model",
            path_str(&models[3]),
        ],
        1,
    );
    assert!(failed.contains("MISMATCH"), "{failed}");
}

#[test]
fn broken_chains_and_untrusted_signatures_fail_verification() {
    let lab = Lab::new();
    let (key, public) = lab.key();
    let model = lab.model("orphan", "orphan");
    let absent = format!("sha256:{}", "ab".repeat(32));
    lab.lineage(
        &[
            "record",
            "--name",
            "orphan",
            "--model-version",
            "1",
            "--model",
            path_str(&model),
            "--parent",
            &format!("distilled={absent}"),
            "--key",
            path_str(&key),
        ],
        0,
    );
    let report = lab.lineage(&["verify", "orphan@1", "--key", path_str(&public)], 1);
    assert!(
        report.contains(&format!(
            "MISSING   {absent} (a parent of orphan@1) has no record"
        )),
        "{report}"
    );

    let unsigned = lab.model("unsigned", "unsigned");
    lab.lineage(
        &[
            "record",
            "--name",
            "unsigned",
            "--model-version",
            "1",
            "--model",
            path_str(&unsigned),
        ],
        0,
    );
    assert!(
        lab.lineage(&["verify", "unsigned@1", "--key", path_str(&public)], 1)
            .contains("UNSIGNED  unsigned@1")
    );

    let stranger = lab.path("stranger.pem");
    run(&["keygen", "--private-key", path_str(&stranger)], 0);
    let report = lab.lineage(
        &[
            "verify",
            "orphan@1",
            "--key",
            &format!("{}.pub", stranger.display()),
        ],
        1,
    );
    assert!(report.contains("BAD       orphan@1"), "{report}");
}

#[test]
fn bad_input_is_refused_and_leaves_the_registry_unchanged() {
    let lab = Lab::new();
    family(&lab);
    let before = lab.registry_contents();
    let model = lab.model("new", "new");
    let bad_record = lab.path("bad.yaml");
    fs::write(&bad_record, "name: x\nversion: 1\ndigest: sha256:12\n").unwrap();
    for (args, expected) in [
        (vec!["show", "nobody@1"], "no model 'nobody@1' is recorded"),
        (vec!["trace", "nobody"], "no model 'nobody' is recorded"),
        (
            vec!["record", "--file", path_str(&bad_record)],
            "bad.yaml: not a lineage record",
        ),
        (
            vec![
                "record",
                "--name",
                "new",
                "--model-version",
                "1",
                "--model",
                path_str(&model),
                "--parent",
                "finetune=ghost@1",
            ],
            "parent 'ghost@1' is not recorded",
        ),
        (
            vec![
                "record",
                "--name",
                "new",
                "--model-version",
                "1",
                "--model",
                path_str(&model),
                "--parent",
                "finetuned=base@1.0.0",
            ],
            "'finetuned' is not one of",
        ),
        (
            vec![
                "record",
                "--name",
                "base",
                "--model-version",
                "1.0.0",
                "--model",
                path_str(&model),
            ],
            "base@1.0.0 is already recorded with digest",
        ),
        (
            vec![
                "record",
                "--name",
                "copy",
                "--model-version",
                "1",
                "--model",
                path_str(&lab.path("base/tiny-model")),
            ],
            "already recorded as base@1.0.0",
        ),
    ] {
        let error = lab.lineage_err(&args, 2);
        assert!(error.contains(expected), "{args:?}: {error}");
    }
    assert_eq!(
        lab.registry_contents(),
        before,
        "a refused command changed the registry"
    );

    let not_db = lab.path("notes.sqlite");
    fs::write(
        &not_db,
        "definitely not SQLite, but long enough to have a header of sorts",
    )
    .unwrap();
    let error = run_err(
        &[
            "lineage",
            "versions",
            "base",
            "--registry",
            path_str(&not_db),
        ],
        2,
    );
    assert!(
        error.contains("notes.sqlite: not a modelprov lineage registry"),
        "{error}"
    );
}

#[test]
fn export_and_import_move_signed_records_between_registries() {
    let lab = Lab::new();
    family(&lab);
    let (_, public) = lab.key();
    let exported = lab.path("records.jsonl");
    lab.lineage(&["export", "-o", path_str(&exported)], 0);
    assert_eq!(fs::read_to_string(&exported).unwrap().lines().count(), 5);
    let other = lab.path("other.sqlite");
    let imported = run(
        &[
            "lineage",
            "import",
            path_str(&exported),
            "--key",
            path_str(&public),
            "--registry",
            path_str(&other),
        ],
        0,
    );
    assert!(
        imported.contains("imported 5 record(s), 0 already present"),
        "{imported}"
    );
    let verified = run(
        &[
            "lineage",
            "verify",
            "merged-q4",
            "--key",
            path_str(&public),
            "--registry",
            path_str(&other),
        ],
        0,
    );
    assert!(verified.contains("OK: "), "{verified}");
    // Importing again is a no-op; a tampered line refuses the whole file.
    assert!(
        run(
            &[
                "lineage",
                "import",
                path_str(&exported),
                "--registry",
                path_str(&other)
            ],
            0
        )
        .contains("0 record(s), 5 already present")
    );
    let text = fs::read_to_string(&exported).unwrap();
    let mut lines: Vec<serde_json::Value> = text.lines().map(json).collect();
    let statement = &lines[2]["statement"].as_str().unwrap().to_string();
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let tampered = String::from_utf8(engine.decode(statement).unwrap())
        .unwrap()
        .replace("SFT", "DPO");
    lines[2]["statement"] = json!(engine.encode(tampered));
    let forged = lab.path("forged.jsonl");
    fs::write(
        &forged,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    let third = lab.path("third.sqlite");
    let error = run_err(
        &[
            "lineage",
            "import",
            path_str(&forged),
            "--key",
            path_str(&public),
            "--registry",
            path_str(&third),
        ],
        2,
    );
    assert!(
        error.contains("line 3: the bundle signs other bytes than the statement"),
        "{error}"
    );
    let error = run_err(
        &[
            "lineage",
            "versions",
            "base",
            "--registry",
            path_str(&third),
        ],
        2,
    );
    assert!(error.contains("no model named 'base'"), "{error}");
}

#[test]
fn a_card_imports_as_a_record_whose_parent_is_its_base_model() {
    let lab = Lab::new();
    family(&lab);
    let model = lab.model("carded", "carded");
    let readme = model.join("README.md");
    fs::write(
        &readme,
        "---\nlicense: mit\nbase_model: tuned\nbase_model_relation: adapter\n---\n# carded\n",
    )
    .unwrap();
    run(
        &[
            "card",
            "init",
            path_str(&model),
            "--name",
            "carded",
            "--model-version",
            "0.1.0",
            "--created",
            "2024-05-01",
            "-o",
            path_str(&readme),
            "-q",
        ],
        0,
    );
    let imported = lab.lineage(&["import", "--card", path_str(&readme)], 0);
    assert!(imported.contains("imported 1 record(s)"), "{imported}");
    let shown = json(&lab.lineage(&["show", "carded@0.1.0", "--json"], 0));
    assert_eq!(shown["record"]["parents"][0]["name"], "tuned@1.1.0");
    assert_eq!(shown["record"]["parents"][0]["relation"], "adapter");
    assert_eq!(shown["record"]["created"], "2024-05-01T00:00:00Z");
    assert!(
        shown["record"]["card_digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    // The digest the card records is the one lineage keeps.
    run(
        &[
            "verify",
            path_str(&model),
            "--id",
            "carded@0.1.0",
            "--registry",
            path_str(&lab.registry),
        ],
        0,
    );
    let orphan = lab.path("orphan.md");
    fs::write(&orphan, "---\nbase_model: unknown/model\nprovenance:\n  name: o\n  version: '1'\n  model:\n    digest: sha256:0000000000000000000000000000000000000000000000000000000000000000\n---\n").unwrap();
    let error = lab.lineage_err(&["import", "--card", path_str(&orphan)], 2);
    assert!(
        error.contains("base_model 'unknown/model' is not recorded in the registry"),
        "{error}"
    );
}

/// A JSONL file of `count` unsigned records (chain `prefix`-0 .. -count).
fn records_file(path: &Path, prefix: &str, start: u32, count: u32) {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut text = String::new();
    for i in start..start + count {
        let digest = format!(
            "{:064x}",
            (u64::from(i) << 8) | u64::from(prefix.as_bytes()[0])
        );
        let mut record = json!({"_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": format!("{prefix}@{i}"), "digest": {"sha256": digest}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {"buildDefinition": {"buildType": "https://modelprov.dev/lineage/v1",
                "externalParameters": {"name": prefix, "version": i.to_string()}, "resolvedDependencies": []},
                "runDetails": {"builder": {"id": "urn:modelprov:trainer:unspecified"}}}});
        if i > start {
            let parent = format!(
                "{:064x}",
                (u64::from(i - 1) << 8) | u64::from(prefix.as_bytes()[0])
            );
            record["predicate"]["buildDefinition"]["resolvedDependencies"] = json!([{"digest": {"sha256": parent}, "annotations": {"kind": "model", "relation": "finetune"}}]);
        }
        text.push_str(&json!({"statement": engine.encode(serde_json::to_vec(&record).unwrap()), "bundle": null}).to_string());
        text.push('\n');
    }
    fs::write(path, text).unwrap();
}

fn count(registry: &Path) -> i64 {
    let connection = rusqlite::Connection::open(registry).unwrap();
    let check: String = connection
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let orphans: i64 = connection
        .query_row(
            "SELECT count(*) FROM edges WHERE child NOT IN (SELECT digest FROM records)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0, "edges without their record");
    connection
        .query_row("SELECT count(*) FROM records", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn two_processes_recording_at_once_lose_nothing() {
    let lab = Lab::new();
    let (a, b) = (lab.path("a.jsonl"), lab.path("b.jsonl"));
    records_file(&a, "a", 0, 200);
    records_file(&b, "b", 0, 200);
    // Each writer imports its records one small file at a time, interleaving with the other.
    let writer = |file: &Path, prefix: &str| {
        let text = fs::read_to_string(file).unwrap();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let registry = lab.registry.clone();
        let dir = lab.path(prefix);
        fs::create_dir_all(&dir).unwrap();
        std::thread::spawn(move || {
            for (i, chunk) in lines.chunks(10).enumerate() {
                let part = dir.join(format!("{i}.jsonl"));
                fs::write(&part, chunk.join("\n")).unwrap();
                let status = Command::new(assert_cmd::cargo::cargo_bin("modelprov"))
                    .args([
                        "lineage",
                        "import",
                        path_str(&part),
                        "--registry",
                        path_str(&registry),
                    ])
                    .stdout(Stdio::null())
                    .status()
                    .unwrap();
                assert!(status.success());
            }
        })
    };
    let (x, y) = (writer(&a, "a"), writer(&b, "b"));
    x.join().unwrap();
    y.join().unwrap();
    assert_eq!(count(&lab.registry), 400);
}

#[test]
fn a_writer_killed_mid_transaction_leaves_the_last_committed_state() {
    let lab = Lab::new();
    let (first, second) = (lab.path("first.jsonl"), lab.path("second.jsonl"));
    records_file(&first, "f", 0, 100);
    records_file(&second, "s", 0, 60_000);
    lab.lineage(&["import", path_str(&first)], 0);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("modelprov"))
        .args([
            "lineage",
            "import",
            path_str(&second),
            "--registry",
            path_str(&lab.registry),
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Kill once the transaction is under way (the WAL file grows), not before.
    let wal = PathBuf::from(format!("{}-wal", lab.registry.display()));
    let started = std::time::Instant::now();
    while fs::metadata(&wal).map_or(0, |m| m.len()) < 1 << 20 && started.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        count(&lab.registry),
        100,
        "the killed import must leave no partial records"
    );
    // The registry is usable afterwards.
    assert!(lab.lineage(&["versions", "f"], 0).lines().count() == 100);
}

/// `modelprov args...` run as an unprivileged user when the tests run as root (root ignores
/// permission bits); (exit code, stdout, stderr).
fn run_unprivileged(args: &[&str]) -> (Option<i32>, String, String) {
    let binary = assert_cmd::cargo::cargo_bin("modelprov");
    let mut command = if running_as_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&binary);
        c
    } else {
        Command::new(&binary)
    };
    let output = command.args(args).output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn running_as_root() -> bool {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .any(|line| line.starts_with("Uid:") && line.split_whitespace().nth(1) == Some("0"))
}

/// Every file in `dir` with its bytes.
fn files_in(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    files.sort();
    files
}

/// `lineage record` of a fresh unsigned model `name@1` (the same command each time), then `extra`.
fn record_args<'a>(model: &'a Path, name: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "record",
        "--name",
        name,
        "--model-version",
        "1",
        "--model",
        path_str(model),
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn a_reader_does_not_wait_for_a_writer() {
    let lab = Lab::new();
    family(&lab);
    // Another process in the middle of a (long) write transaction.
    let writer = rusqlite::Connection::open(&lab.registry).unwrap();
    writer
        .execute_batch(
            "BEGIN IMMEDIATE; INSERT INTO manifests (digest, manifest) VALUES (x'00', '{}');",
        )
        .unwrap();
    let started = std::time::Instant::now();
    let trace = lab.lineage(&["trace", "merged-q4@1.0.0"], 0);
    assert!(trace.ends_with("4 ancestors\n"), "{trace}");
    lab.lineage(&["show", "tuned"], 0);
    let (_, public) = lab.key();
    lab.lineage(&["verify", "merged-q4", "--key", path_str(&public)], 0);
    let waited = started.elapsed();
    assert!(
        waited < std::time::Duration::from_secs(20),
        "readers waited {waited:?} behind the writer"
    );
    writer.execute_batch("COMMIT").unwrap();
}

#[test]
fn a_read_only_registry_in_a_read_only_folder_can_be_read() {
    use std::os::unix::fs::PermissionsExt;
    let lab = Lab::new();
    family(&lab);
    let (_, public) = lab.key();
    // The unprivileged reader must get through the temporary folder.
    fs::set_permissions(lab.dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let folder = lab.path("read-only");
    fs::create_dir(&folder).unwrap();
    let registry = folder.join("registry.sqlite");
    fs::copy(&lab.registry, &registry).unwrap();
    fs::set_permissions(&public, fs::Permissions::from_mode(0o644)).unwrap();
    fs::set_permissions(&registry, fs::Permissions::from_mode(0o444)).unwrap();
    fs::set_permissions(&folder, fs::Permissions::from_mode(0o555)).unwrap();
    let before = files_in(&folder);
    let r = path_str(&registry);
    for args in [
        vec!["lineage", "trace", "merged-q4@1.0.0", "--registry", r],
        vec!["lineage", "descendants", "base", "--registry", r],
        vec!["lineage", "show", "tuned@1.1.0", "--registry", r],
        vec!["lineage", "versions", "base", "--registry", r],
        vec!["lineage", "graph", "--registry", r],
        vec!["lineage", "export", "--registry", r],
        vec![
            "lineage",
            "verify",
            "merged-q4",
            "--key",
            path_str(&public),
            "--registry",
            r,
        ],
    ] {
        let (code, stdout, stderr) = run_unprivileged(&args);
        assert_eq!(code, Some(0), "{args:?}\n{stdout}\n{stderr}");
        if args[1] == "trace" {
            assert!(stdout.ends_with("4 ancestors\n"), "{stdout}");
        }
    }
    assert_eq!(
        files_in(&folder),
        before,
        "a reader created or changed files"
    );

    // Writable file, folder not: SQLite cannot make its -shm file; the error says what to do.
    fs::set_permissions(&folder, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&registry, fs::Permissions::from_mode(0o666)).unwrap();
    fs::set_permissions(&folder, fs::Permissions::from_mode(0o555)).unwrap();
    let (code, _, stderr) = run_unprivileged(&["lineage", "trace", "base", "--registry", r]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("registry.sqlite: cannot read the registry")
            && stderr.contains("make the folder writable"),
        "{stderr}"
    );
    assert_eq!(files_in(&folder), before);
    fs::set_permissions(&folder, fs::Permissions::from_mode(0o755)).unwrap();

    // A registry the reader may not read at all: the operating system's error, naming it.
    if running_as_root() {
        fs::set_permissions(&registry, fs::Permissions::from_mode(0o600)).unwrap();
        let (code, _, stderr) = run_unprivileged(&["lineage", "trace", "base", "--registry", r]);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("cannot open {r}: Permission denied")),
            "{stderr}"
        );
    }
}

#[test]
fn reading_commands_on_a_missing_registry_create_nothing() {
    let lab = Lab::new();
    let model = lab.model("m", "m");
    let (key, public) = lab.key();
    let nowhere = lab.path("nowhere");
    let registry = nowhere.join("registry.sqlite");
    let r = path_str(&registry);
    let out = lab.path("export.jsonl");
    let p = path_str(&public);
    for args in [
        vec!["lineage", "show", "m@1"],
        vec!["lineage", "versions", "m"],
        vec!["lineage", "trace", "m@1"],
        vec!["lineage", "descendants", "m@1"],
        vec!["lineage", "diff", "m@1", "m@2"],
        vec!["lineage", "graph"],
        vec!["lineage", "verify", "m@1", "--key", p],
        vec!["lineage", "export", "-o", path_str(&out)],
        vec!["lineage", "sign", "m@1", "--key", path_str(&key)],
        vec!["verify", path_str(&model), "--id", "m@1"],
        vec!["sbom", "generate", path_str(&model), "--id", "m@1"],
    ] {
        let mut all = args.clone();
        all.extend(["--registry", r]);
        let error = run_err(&all, 2);
        assert!(
            error.contains(&format!("{r}: no lineage registry at this path")),
            "{args:?}: {error}"
        );
        assert!(!nowhere.exists(), "{args:?} created {}", nowhere.display());
        assert!(!out.exists());
    }
    // Through the environment too.
    let output = modelprov()
        .args(["lineage", "trace", "m@1"])
        .env("MODELPROV_REGISTRY", &registry)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(!nowhere.exists());
}

#[test]
fn an_unsigned_record_is_signed_later_without_changing_it() {
    let lab = Lab::new();
    let (key, public) = lab.key();
    let model = lab.model("late", "late");
    lab.lineage(&record_args(&model, "late", &[]), 0);
    let statement = |lab: &Lab| lab.registry_contents()[0].3.clone();
    let unsigned = statement(&lab);
    let report = lab.lineage(&["verify", "late@1", "--key", path_str(&public)], 1);
    assert!(report.contains("UNSIGNED  late@1"), "{report}");

    let signed = lab.lineage(&["sign", "late@1", "--key", path_str(&key)], 0);
    assert!(signed.starts_with("signed late@1 (sha256:"), "{signed}");
    assert_eq!(statement(&lab), unsigned, "signing changed the record");
    let ok = lab.lineage(&["verify", "late@1", "--key", path_str(&public)], 0);
    assert!(ok.contains("OK: late@1"), "{ok}");
    assert_eq!(
        json(&lab.lineage(&["show", "late@1", "--json"], 0))["signed"],
        true
    );

    // Signing again with the same key is a no-op; another key is refused and changes nothing.
    let again = lab.lineage(&["sign", "late@1", "--key", path_str(&key)], 0);
    assert!(again.contains("already signed with this key"), "{again}");
    let before = lab.registry_contents();
    let stranger = lab.path("stranger.pem");
    run(&["keygen", "--private-key", path_str(&stranger)], 0);
    let error = lab.lineage_err(&["sign", "late@1", "--key", path_str(&stranger)], 2);
    assert!(
        error.contains("late@1 is already signed, not by this key"),
        "{error}"
    );
    assert_eq!(lab.registry_contents(), before);
    // A bare name is not enough to sign; an unknown record is an input error.
    let error = lab.lineage_err(&["sign", "late", "--key", path_str(&key)], 2);
    assert!(error.contains("give NAME@VERSION"), "{error}");
    let error = lab.lineage_err(&["sign", "ghost@1", "--key", path_str(&key)], 2);
    assert!(error.contains("no model 'ghost@1' is recorded"), "{error}");
}

#[test]
fn re_recording_with_a_key_adds_the_signature() {
    let lab = Lab::new();
    let (key, public) = lab.key();
    let model = lab.model("again", "again");
    lab.lineage(&record_args(&model, "again", &[]), 0);
    let unsigned = lab.registry_contents();
    let k = path_str(&key);
    // The same command with --key (no --created: the first recording's time is kept).
    let signed = lab.lineage(&record_args(&model, "again", &["--key", k]), 0);
    assert!(
        signed.contains("again@1 was already recorded unsigned; its signature is added"),
        "{signed}"
    );
    let now = lab.registry_contents();
    assert_eq!(now[0].3, unsigned[0].3, "the Statement changed");
    assert!(now[0].4.is_some());
    lab.lineage(&["verify", "again@1", "--key", path_str(&public)], 0);
    let again = lab.lineage(&record_args(&model, "again", &["--key", k]), 0);
    assert!(
        again.contains("already recorded exactly so and signed with this key"),
        "{again}"
    );
    let stranger = lab.path("stranger.pem");
    run(&["keygen", "--private-key", path_str(&stranger)], 0);
    let error = lab.lineage_err(
        &record_args(&model, "again", &["--key", path_str(&stranger)]),
        2,
    );
    assert!(error.contains("already signed, not by this key"), "{error}");
    assert_eq!(lab.registry_contents(), now);
}

#[test]
fn a_damaged_record_is_reported_not_skipped() {
    for damage in [
        // Not a Statement at all.
        "UPDATE records SET statement = x'0102' WHERE name = 'tuned'",
        // Another record's Statement: valid, but not about this digest.
        "UPDATE records SET statement = (SELECT statement FROM records WHERE name = 'other') WHERE name = 'tuned'",
    ] {
        let lab = Lab::new();
        family(&lab);
        let (_, public) = lab.key();
        rusqlite::Connection::open(&lab.registry)
            .unwrap()
            .execute_batch(damage)
            .unwrap();
        for args in [
            vec!["trace", "merged-q4@1.0.0"],
            vec!["trace", "merged-q4@1.0.0", "--json"],
            vec!["descendants", "base@1.0.0"],
            vec!["graph"],
            vec!["graph", "base"],
            vec!["export"],
            vec!["show", "tuned@1.1.0"],
            vec!["verify", "merged-q4@1.0.0", "--key", path_str(&public)],
        ] {
            let (stdout, stderr) = {
                let mut all = vec!["lineage"];
                all.extend_from_slice(&args);
                all.extend(["--registry", path_str(&lab.registry)]);
                run_full(&all, 2)
            };
            assert!(
                stderr.contains("the stored record tuned@1.1.0 (sha256:")
                    && stderr.contains("is damaged"),
                "{damage}\n{args:?}\n{stdout}\n{stderr}"
            );
        }
    }
}

#[test]
fn lineage_verify_without_a_trusted_key_is_a_usage_error() {
    let lab = Lab::new();
    family(&lab);
    let error = lab.lineage_err(&["verify", "merged-q4@1.0.0"], 2);
    assert!(
        error.contains("at least one trusted signer (--key or --policy)"),
        "{error}"
    );
}

#[test]
fn oversized_record_files_and_import_lines_are_refused() {
    let lab = Lab::new();
    // A sparse file just over the cap: refused before it is parsed.
    let huge = lab.path("huge.yaml");
    let file = fs::File::create(&huge).unwrap();
    file.set_len(modelprov::fsutil::limits::DOCUMENT_BYTES + 1)
        .unwrap();
    let error = lab.lineage_err(&["record", "--file", path_str(&huge)], 2);
    assert!(
        error.contains("huge.yaml: larger than") && error.contains("a lineage record"),
        "{error}"
    );

    let lines = lab.path("lines.jsonl");
    records_file(&lines, "l", 0, 2);
    let mut text = fs::read_to_string(&lines).unwrap();
    text.push_str(&"x".repeat(modelprov::lineage::IMPORT_LINE_BYTES as usize + 1));
    text.push('\n');
    fs::write(&lines, text).unwrap();
    let error = lab.lineage_err(&["import", path_str(&lines)], 2);
    assert!(
        error.contains("lines.jsonl: line 3: longer than"),
        "{error}"
    );
    assert_eq!(count(&lab.registry), 0, "a refused import stored records");
}

#[test]
fn importing_signed_copies_signs_records_stored_unsigned() {
    let lab = Lab::new();
    family(&lab);
    let exported = lab.path("records.jsonl");
    lab.lineage(&["export", "-o", path_str(&exported)], 0);
    // The same records, unsigned, in another registry; then the signed export.
    let other = lab.path("other.sqlite");
    let text = fs::read_to_string(&exported).unwrap();
    let unsigned: String = text
        .lines()
        .map(|l| {
            let mut v = json(l);
            v["bundle"] = serde_json::Value::Null;
            format!("{v}\n")
        })
        .collect();
    let unsigned_file = lab.path("unsigned.jsonl");
    fs::write(&unsigned_file, unsigned).unwrap();
    let o = path_str(&other);
    run(
        &[
            "lineage",
            "import",
            path_str(&unsigned_file),
            "--registry",
            o,
        ],
        0,
    );
    let imported = run(
        &["lineage", "import", path_str(&exported), "--registry", o],
        0,
    );
    assert!(
        imported.contains("imported 0 record(s), 0 already present, 5 stored unsigned now signed"),
        "{imported}"
    );
    let (_, public) = lab.key();
    run(
        &[
            "lineage",
            "verify",
            "merged-q4",
            "--key",
            path_str(&public),
            "--registry",
            o,
        ],
        0,
    );
}

#[test]
fn a_registry_on_a_read_only_file_system_can_be_read() {
    use std::os::unix::fs::PermissionsExt;
    let lab = Lab::new();
    family(&lab);
    let source = lab.path("source");
    fs::create_dir(&source).unwrap();
    fs::copy(&lab.registry, source.join("registry.sqlite")).unwrap();
    // Writable permission bits: only the read-only mount makes the file unchangeable.
    fs::set_permissions(
        source.join("registry.sqlite"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let mounted = lab.path("mounted");
    fs::create_dir(&mounted).unwrap();
    let registry = mounted.join("registry.sqlite");
    // A read-only bind mount in a private mount namespace (needs CAP_SYS_ADMIN, so root).
    let output = Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            r#"mount --bind -o ro "$1" "$2" || exit 99; shift 2; exec "$@""#,
            "sh",
            path_str(&source),
            path_str(&mounted),
        ])
        .arg(assert_cmd::cargo::cargo_bin("modelprov"))
        .args(["lineage", "trace", "merged-q4@1.0.0", "--registry"])
        .arg(&registry)
        .output();
    // 99: the mount failed; 1: unshare itself was refused (`lineage trace` never exits 1).
    let output = match output {
        Ok(output) if output.status.code() != Some(99) && output.status.code() != Some(1) => output,
        _ => {
            eprintln!("skipped: no read-only bind mount here (unshare -m, mount --bind -o ro)");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.ends_with("4 ancestors\n"), "{stdout}");
    assert_eq!(
        files_in(&source).len(),
        1,
        "nothing may be left beside the registry"
    );
}
