//! `--cache`: unchanged files come from the cache, changed ones are re-read, and the answer is
//! always the same as without it.

use std::fs;
use std::thread::sleep;
use std::time::{Duration, SystemTime};

use crate::common::*;

#[test]
fn rehashing_reads_only_what_changed() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_model(folder.path());
    let cache = folder.path().join("cache.sqlite3");
    let hash = |extra: &[&str]| {
        let mut args = vec![
            "hash",
            path_str(&model),
            "--json",
            "--cache-file",
            path_str(&cache),
        ];
        args.extend_from_slice(extra);
        json(&run(&args, 0))
    };
    // Files changed moments ago are hashed but not cached (a second change in the same
    // timestamp tick would be invisible); let the copies settle first.
    sleep(Duration::from_millis(300));
    let first = hash(&[]);
    assert_eq!(first["digest"], MODEL_DIGEST);
    assert_eq!(first["cache_hits"], 0);

    let second = hash(&[]);
    assert_eq!(second["digest"], MODEL_DIGEST);
    assert_eq!(second["cache_hits"], 6);
    assert_eq!(second["bytes_hashed"], 0);

    // Same size, new content: must be re-read, and the digest must change.
    fs::write(model.join("config.json"), vec![b'x'; 106]).unwrap();
    let third = hash(&[]);
    assert_eq!(third["cache_hits"], 5);
    assert_eq!(third["bytes_hashed"], 106);
    assert_ne!(third["digest"], MODEL_DIGEST);
    let fresh = json(&run(&["hash", path_str(&model), "--json"], 0));
    assert_eq!(third["digest"], fresh["digest"]);

    // A file whose last change is not safely before the run started is read again rather than
    // trusted. "Just written" depends on how fast this machine starts a process, so the test
    // stamps the file in the future (a skewed clock), which never counts as settled.
    let config = fs::File::options()
        .write(true)
        .open(model.join("config.json"))
        .unwrap();
    config
        .set_modified(SystemTime::now() + Duration::from_secs(3600))
        .unwrap();
    drop(config);
    let fourth = hash(&[]);
    assert_eq!(fourth["cache_hits"], 5);
    assert_eq!(fourth["bytes_hashed"], 106);

    // Shards are cached per range and algorithm.
    let sharded = hash(&["--shard-size", "1000000"]);
    assert_eq!(sharded["cache_hits"], 0);
    let sharded = hash(&["--shard-size", "1000000"]);
    assert_eq!(sharded["cache_hits"], 7); // config.json's stamp still lies in the future
}

#[test]
fn verify_uses_the_cache_only_when_asked() {
    let folder = tempfile::tempdir().unwrap();
    let model = copy_model(folder.path());
    let cache = folder.path().join("cache.sqlite3");
    sleep(Duration::from_millis(300));
    run(
        &[
            "hash",
            path_str(&model),
            "-q",
            "--cache-file",
            path_str(&cache),
        ],
        0,
    );
    let plain = json(&run(
        &[
            "verify",
            path_str(&model),
            "--digest",
            MODEL_DIGEST,
            "--json",
        ],
        0,
    ));
    assert_eq!(plain["stats"]["cache_hits"], 0);
    let cached = json(&run(
        &[
            "verify",
            path_str(&model),
            "--digest",
            MODEL_DIGEST,
            "--json",
            "--cache-file",
            path_str(&cache),
        ],
        0,
    ));
    assert_eq!(cached["stats"]["cache_hits"], 6);
}

#[test]
fn an_unusable_cache_is_a_warning_not_a_wrong_answer() {
    let folder = tempfile::tempdir().unwrap();
    let cache = folder.path().join("cache.sqlite3");
    fs::write(&cache, vec![b'?'; 8192]).unwrap();
    let model = vectors().join("model");
    let output = modelprov()
        .args(["hash", path_str(&model), "--cache-file", path_str(&cache)])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap().trim(),
        MODEL_DIGEST
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("warning") && stderr.contains("cache.sqlite3"),
        "{stderr}"
    );
}
