//! The registry contract, run against the SQLite store (and on PostgreSQL by `lineage_postgres`):
//! what is stored reads back byte for byte, refusals store nothing, the graph queries follow
//! digests, and a registry that is not ours or is newer is refused untouched.

use std::collections::BTreeMap;
use std::path::Path;

use modelprov::RootDigest;
use modelprov::lineage::{
    Entry, InsertOutcome, LineageRecord, Parent, Procedure, Relation, SCHEMA_VERSION, SignOutcome,
    SqliteStore, Store, lineage_statement, sign_record, sort_versions, verify_chain,
};
use modelprov::trust_policy::TrustPolicy;

pub(crate) fn digest(n: u32) -> RootDigest {
    let mut bytes = [0u8; 32];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    RootDigest(bytes)
}

pub(crate) fn entry(name: &str, version: &str, d: u32, parents: &[(u32, Relation)]) -> Entry {
    let record = LineageRecord {
        name: name.into(),
        version: version.into(),
        digest: digest(d),
        created: Some(format!("2024-01-01T00:00:{:02}Z", d % 60)),
        parents: parents
            .iter()
            .map(|(p, relation)| Parent {
                digest: digest(*p),
                name: None,
                relation: *relation,
            })
            .collect(),
        datasets: Vec::new(),
        procedure: Procedure::default(),
        trainer: None,
        modifications: None,
        metrics: BTreeMap::new(),
        card_digest: None,
    };
    Entry {
        statement: lineage_statement(&record),
        record,
        bundle: None,
        recorded_at: "2024-01-02T00:00:00Z".into(),
    }
}

/// `other@1` (digest 2) with a stand-in bundle (the store keeps bundles as given).
fn other_signed() -> Entry {
    Entry {
        bundle: Some(b"{\"stand-in\": \"signature\"}".to_vec()),
        ..entry("other", "1", 2, &[])
    }
}

fn store(dir: &Path) -> SqliteStore {
    SqliteStore::open(&dir.join("registry.sqlite"), true).unwrap()
}

/// What every backend must do, run on an empty store; it leaves 7 records.
pub(crate) fn contract(store: &mut dyn Store) {
    use Relation::*;
    let base = entry("base", "1.0.0", 1, &[]);
    let other = entry("other", "1", 2, &[]);
    let tuned = entry("tuned", "1.0.0", 3, &[(1, Finetune)]);
    let merged = entry("merged", "1.0.0", 4, &[(3, Merge), (2, Merge)]);
    let quant = entry("merged-q4", "1.0.0", 5, &[(4, Quantized)]);
    let outcome = store
        .insert(&[base.clone(), other, tuned.clone(), merged, quant])
        .unwrap();
    assert_eq!(outcome.added, 5);

    // Read back exactly.
    let read = store.by_id("tuned", "1.0.0").unwrap().unwrap();
    assert_eq!(read, tuned);
    assert_eq!(store.by_digest(&digest(1)).unwrap().unwrap(), base);
    assert!(store.by_id("tuned", "9").unwrap().is_none());
    assert_eq!(store.all().unwrap().len(), 5);

    // Ancestors of the quantised merge: both branches, to the roots; edges by digest.
    let up = store.ancestors(&digest(5)).unwrap();
    let nodes: Vec<RootDigest> = up.nodes.iter().map(|n| n.digest).collect();
    assert_eq!(nodes, [1, 2, 3, 4, 5].map(digest));
    assert_eq!(up.edges.len(), 4);
    let down = store.descendants(&digest(1)).unwrap();
    assert_eq!(
        down.nodes.iter().map(|n| n.digest).collect::<Vec<_>>(),
        [1, 3, 4, 5].map(digest)
    );

    // The same record again changes nothing; conflicting identities are refused.
    assert_eq!(
        store.insert(std::slice::from_ref(&base)).unwrap().unchanged,
        1
    );
    let error = store
        .insert(&[entry("renamed", "1", 1, &[])])
        .unwrap_err()
        .to_string();
    assert!(error.contains("already recorded as base@1.0.0"), "{error}");
    let error = store
        .insert(&[entry("base", "1.0.0", 99, &[])])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("base@1.0.0 is already recorded with digest"),
        "{error}"
    );

    // A batch with one bad entry stores nothing.
    let error = store
        .insert(&[entry("fine", "1", 50, &[]), entry("base", "1.0.0", 51, &[])])
        .unwrap_err();
    assert!(error.to_string().contains("nothing recorded"));
    assert!(store.by_digest(&digest(50)).unwrap().is_none());

    // A parent recorded after its child is fine; closing a cycle is not.
    store
        .insert(&[entry("child", "1", 60, &[(61, Finetune)])])
        .unwrap();
    let missing = store.ancestors(&digest(60)).unwrap();
    assert!(
        missing
            .nodes
            .iter()
            .any(|n| n.digest == digest(61) && n.name.is_none())
    );
    let error = store
        .insert(&[entry("parent", "1", 61, &[(60, Distilled)])])
        .unwrap_err()
        .to_string();
    assert!(error.contains("would be its own ancestor"), "{error}");
    store.insert(&[entry("parent", "1", 61, &[])]).unwrap();
    // Three generations published newest first: the oldest may not descend from the newest.
    store
        .insert(&[
            entry("g3", "1", 72, &[(71, Finetune)]),
            entry("g2", "1", 71, &[(70, Finetune)]),
        ])
        .unwrap();
    let error = store
        .insert(&[entry("g1", "1", 70, &[(99, Finetune), (72, Distilled)])])
        .unwrap_err()
        .to_string();
    assert!(error.contains("would be its own ancestor"), "{error}");
    store
        .insert(&[entry("g1", "1", 70, &[(99, Finetune)])])
        .unwrap();
    assert_eq!(store.ancestors(&digest(72)).unwrap().nodes.len(), 4);

    // A record stored unsigned takes a signature later, by re-insertion or `add_signature`; a
    // stored signature is never replaced, and the Statement (the record) never changes.
    let mut signed = other_signed();
    assert_eq!(
        store.insert(std::slice::from_ref(&signed)).unwrap(),
        InsertOutcome {
            signed: 1,
            ..InsertOutcome::default()
        }
    );
    assert_eq!(store.by_digest(&digest(2)).unwrap().unwrap(), signed);
    signed.bundle = Some(b"{\"another\": \"signature\"}".to_vec());
    assert_eq!(
        store.insert(std::slice::from_ref(&signed)).unwrap(),
        InsertOutcome {
            unchanged: 1,
            signature_kept: 1,
            ..InsertOutcome::default()
        }
    );
    // An unsigned copy does not strip the signature either.
    let unsigned = entry("other", "1", 2, &[]);
    assert_eq!(
        store
            .insert(std::slice::from_ref(&unsigned))
            .unwrap()
            .unchanged,
        1
    );
    assert_eq!(
        store.by_digest(&digest(2)).unwrap().unwrap(),
        other_signed()
    );
    assert!(
        !store
            .add_signature(&digest(2), &unsigned.statement, b"{}")
            .unwrap()
    );
    assert!(
        store
            .add_signature(&digest(1), &base.statement, b"{\"sig\": 1}")
            .unwrap()
    );
    assert_eq!(
        store.by_digest(&digest(1)).unwrap().unwrap().bundle,
        Some(b"{\"sig\": 1}".to_vec())
    );
    let error = store
        .add_signature(&digest(3), b"other bytes", b"{}")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("other bytes than the stored record tuned@1.0.0"),
        "{error}"
    );
    assert!(
        store
            .by_digest(&digest(3))
            .unwrap()
            .unwrap()
            .bundle
            .is_none()
    );
    assert!(store.add_signature(&digest(77), b"x", b"{}").is_err());

    // Manifests for diff.
    store.put_manifest(&digest(1), "{\"m\": 1}").unwrap();
    assert_eq!(
        store.manifest(&digest(1)).unwrap().as_deref(),
        Some("{\"m\": 1}")
    );
    assert_eq!(store.manifest(&digest(2)).unwrap(), None);
}

#[test]
fn sqlite_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    contract(&mut store(dir.path()));
    // And it is all still there after reopening.
    assert_eq!(store(dir.path()).all().unwrap().len(), 10);
}

#[test]
fn versions_sort_semantically_or_by_time_never_as_strings() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    s.insert(&[
        entry("m", "1.10.0", 1, &[]),
        entry("m", "1.9.0", 2, &[]),
        entry("m", "v1.2.0", 3, &[]),
    ])
    .unwrap();
    let mut versions = s.versions("m").unwrap();
    sort_versions(&mut versions);
    let order: Vec<&str> = versions.iter().map(|e| e.record.version.as_str()).collect();
    assert_eq!(order, ["v1.2.0", "1.9.0", "1.10.0"]);
    // Not all semantic: creation time decides (digest n was created at second n).
    s.insert(&[
        entry("n", "beta", 9, &[]),
        entry("n", "alpha", 7, &[]),
        entry("n", "1.0", 8, &[]),
    ])
    .unwrap();
    let mut versions = s.versions("n").unwrap();
    sort_versions(&mut versions);
    let order: Vec<&str> = versions.iter().map(|e| e.record.version.as_str()).collect();
    assert_eq!(order, ["alpha", "1.0", "beta"]);
}

#[test]
fn files_that_are_not_our_registry_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "not a database, just some text that is long enough to have a header",
    )
    .unwrap();
    let before = std::fs::read(&text).unwrap();
    let error = SqliteStore::open(&text, true).err().unwrap().to_string();
    assert!(
        error.contains("notes.txt: not a modelprov lineage registry"),
        "{error}"
    );
    assert_eq!(std::fs::read(&text).unwrap(), before);

    let foreign = dir.path().join("other.sqlite");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    let error = SqliteStore::open(&foreign, true).err().unwrap().to_string();
    assert!(
        error.contains("not a modelprov lineage registry"),
        "{error}"
    );

    let newer = dir.path().join("newer.sqlite");
    drop(SqliteStore::open(&newer, true).unwrap());
    let connection = rusqlite::Connection::open(&newer).unwrap();
    connection
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(connection);
    let error = SqliteStore::open(&newer, true).err().unwrap().to_string();
    assert!(
        error.contains(&format!(
            "schema version {}, newer than this modelprov",
            SCHEMA_VERSION + 1
        )),
        "{error}"
    );

    // A negative schema version (SQLite's user_version is any i32) is refused, not a panic
    // while picking the migrations to run.
    let negative = dir.path().join("negative.sqlite");
    drop(SqliteStore::open(&negative, true).unwrap());
    let connection = rusqlite::Connection::open(&negative).unwrap();
    connection.pragma_update(None, "user_version", -1).unwrap();
    drop(connection);
    for create in [true, false] {
        let error = SqliteStore::open(&negative, create)
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("schema version -1, which no modelprov writes"),
            "{error}"
        );
    }
    let error = SqliteStore::open_read_only(&negative)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("schema version -1"), "{error}");

    let missing = dir.path().join("absent.sqlite");
    let error = SqliteStore::open(&missing, false)
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("no lineage registry at this path"),
        "{error}"
    );
    assert!(!missing.exists());
    let error = SqliteStore::open_read_only(&missing)
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("absent.sqlite: no lineage registry at this path"),
        "{error}"
    );
    assert!(!missing.exists());
}

/// base(1) <- tuned(3) <- merged(4) -> other(2).
pub(crate) fn family_entries() -> Vec<Entry> {
    use Relation::*;
    vec![
        entry("base", "1", 1, &[]),
        entry("other", "1", 2, &[]),
        entry("tuned", "1", 3, &[(1, Finetune)]),
        entry("merged", "1", 4, &[(3, Merge), (2, Merge)]),
    ]
}

/// A registry file with [`family_entries`], closed.
fn family(dir: &Path) -> std::path::PathBuf {
    store(dir).insert(&family_entries()).unwrap();
    dir.join("registry.sqlite")
}

#[test]
fn a_reader_does_not_wait_for_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = family(dir.path());
    // Another process in the middle of a write transaction.
    let writer = rusqlite::Connection::open(&path).unwrap();
    writer
        .execute_batch(
            "BEGIN IMMEDIATE; INSERT INTO manifests (digest, manifest) VALUES (x'00', '{}');",
        )
        .unwrap();
    let started = std::time::Instant::now();
    let reader = SqliteStore::open_read_only(&path).unwrap();
    assert_eq!(reader.ancestors(&digest(4)).unwrap().nodes.len(), 4);
    assert_eq!(
        reader.by_id("tuned", "1").unwrap().unwrap().record.digest,
        digest(3)
    );
    assert_eq!(reader.all().unwrap().len(), 4);
    let waited = started.elapsed();
    assert!(
        waited < std::time::Duration::from_secs(5),
        "the reader waited {waited:?} behind the writer"
    );
    writer.execute_batch("COMMIT").unwrap();
}

/// Every file in `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn reading_changes_no_file_and_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = family(dir.path());
    let before = snapshot(dir.path());
    let mut reader = SqliteStore::open_read_only(&path).unwrap();
    assert_eq!(reader.all().unwrap().len(), 4);
    let error = reader.insert(&[entry("new", "1", 9, &[])]).unwrap_err();
    assert!(error.to_string().contains("readonly"), "{error}");
    drop(reader);
    assert_eq!(
        snapshot(dir.path()),
        before,
        "a reader left or changed files"
    );

    // An empty database is not a registry to a reader, and stays empty.
    let empty = dir.path().join("empty.sqlite");
    std::fs::write(&empty, "").unwrap();
    let error = SqliteStore::open_read_only(&empty)
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("an empty database, not a lineage registry"),
        "{error}"
    );
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);

    let error = SqliteStore::open_read_only(dir.path())
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("a folder, not a lineage registry file"),
        "{error}"
    );
}

/// Runs `sql` on the registry file directly, as damage would.
fn damage(path: &Path, sql: &str) {
    rusqlite::Connection::open(path)
        .unwrap()
        .execute_batch(sql)
        .unwrap();
}

/// SQL that damages a [`family_entries`] registry whose tables are `records` and `edges`, and
/// what the error must then say.
pub(crate) fn damage_cases(records: &str, edges: &str) -> [(String, &'static str); 5] {
    let statement_of_base = lineage_statement(&entry("base", "1", 1, &[]).record);
    [
        (
            format!("UPDATE {records} SET statement = '\\x7b6e6f' WHERE name = 'tuned'"),
            "the stored record tuned@1 (sha256:00000003",
        ),
        (
            format!(
                "UPDATE {records} SET statement = '\\x{}' WHERE name = 'tuned'",
                hex::encode(&statement_of_base)
            ),
            "is damaged: its statement is about sha256:00000001",
        ),
        (
            format!("UPDATE {records} SET name = 'renamed' WHERE name = 'tuned'"),
            "renamed@1 (sha256:00000003",
        ),
        (
            format!("DELETE FROM {edges} WHERE relation = 'finetune'"),
            "which the registry's index lacks",
        ),
        (
            format!("UPDATE {edges} SET relation = 'adapter' WHERE relation = 'finetune'"),
            "which its statement does not state",
        ),
    ]
}

/// A damaged registry's reads fail, naming the damage; none skips the row.
pub(crate) fn assert_damage_is_named(store: &dyn Store, sql: &str, expected: &str) {
    let error = store.ancestors(&digest(4)).unwrap_err().to_string();
    assert!(error.contains(expected), "{sql}: {error}");
    assert!(error.contains("damaged"), "{sql}: {error}");
    if !sql.contains("edges") {
        assert!(store.all().is_err(), "{sql}");
        assert!(store.by_digest(&digest(3)).is_err(), "{sql}");
        assert!(store.descendants(&digest(1)).is_err(), "{sql}");
    }
}

#[test]
fn a_damaged_row_is_an_error_naming_it_never_skipped() {
    for (sql, expected) in damage_cases("records", "edges") {
        // SQLite spells a blob literal x'..', PostgreSQL '\\x..'.
        let sql = sql.replace("'\\x", "x'");
        let dir = tempfile::tempdir().unwrap();
        let path = family(dir.path());
        damage(&path, &sql);
        let reader = SqliteStore::open_read_only(&path).unwrap();
        assert_damage_is_named(&reader, &sql, expected);
    }
}

#[test]
fn a_stored_record_is_signed_later_and_never_re_signed_by_another_key() {
    use modelprov::keys::{KeyType, PrivateKey};
    let dir = tempfile::tempdir().unwrap();
    let path = family(dir.path());
    let registry = path.clone();
    let mut s = SqliteStore::open(&path, false).unwrap();
    let key = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let stranger = PrivateKey::generate(KeyType::EcdsaP256).unwrap();

    let error = verify_chain(&s, &digest(3), &TrustPolicy::default()).unwrap_err();
    assert!(matches!(error, modelprov::Error::Usage(_)), "{error}");
    assert!(
        !verify_chain(
            &s,
            &digest(1),
            &TrustPolicy::of_keys(vec![key.public_key()])
        )
        .unwrap()
        .ok
    );

    let base = s.by_digest(&digest(1)).unwrap().unwrap();
    assert_eq!(
        sign_record(&mut s, &base, &key, &registry).unwrap(),
        SignOutcome::Signed
    );
    let signed = s.by_digest(&digest(1)).unwrap().unwrap();
    assert_eq!(
        signed.statement, base.statement,
        "signing changed the record"
    );
    assert!(
        verify_chain(
            &s,
            &digest(1),
            &TrustPolicy::of_keys(vec![key.public_key()])
        )
        .unwrap()
        .ok
    );
    // Again with the same key (even from a stale copy of the entry): nothing changes.
    assert_eq!(
        sign_record(&mut s, &base, &key, &registry).unwrap(),
        SignOutcome::AlreadySigned
    );
    let error = sign_record(&mut s, &signed, &stranger, &registry)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("base@1 is already signed, not by this key"),
        "{error}"
    );
    assert_eq!(s.by_digest(&digest(1)).unwrap().unwrap(), signed);
}
