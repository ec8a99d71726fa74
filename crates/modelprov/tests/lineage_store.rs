//! The registry contract, run against the SQLite store (a PostgreSQL store gets the same suite):
//! what is stored reads back byte for byte, refusals store nothing, the graph queries follow
//! digests, and a registry that is not ours or is newer is refused untouched.

use std::collections::BTreeMap;
use std::path::Path;

use modelprov::RootDigest;
use modelprov::lineage::{
    Entry, LineageRecord, Parent, Procedure, Relation, SCHEMA_VERSION, SqliteStore, Store,
    lineage_statement, sort_versions,
};

fn digest(n: u32) -> RootDigest {
    let mut bytes = [0u8; 32];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    RootDigest(bytes)
}

fn entry(name: &str, version: &str, d: u32, parents: &[(u32, Relation)]) -> Entry {
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

fn store(dir: &Path) -> SqliteStore {
    SqliteStore::open(&dir.join("registry.sqlite"), true).unwrap()
}

fn contract(store: &mut dyn Store) {
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
    assert_eq!(store(dir.path()).all().unwrap().len(), 7);
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

    let missing = dir.path().join("absent.sqlite");
    let error = SqliteStore::open(&missing, false)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("no lineage registry here yet"), "{error}");
    assert!(!missing.exists());
}
