//! The registry contract on PostgreSQL: the suite the SQLite store passes, on a database each
//! test creates on the server `MODELPROV_TEST_POSTGRES` names (the local server by default) and
//! drops afterwards; concurrent writers; what a newer schema, damage or an unreachable server
//! does.

use modelprov::Error;
use modelprov::lineage::{POSTGRES_SCHEMA_VERSION, PostgresStore, Relation, Store};

use crate::common::test_database::TestDatabase;
use crate::lineage_store::{
    assert_damage_is_named, contract, damage_cases, digest, entry, family_entries,
};

#[test]
fn postgres_store_keeps_the_contract() {
    let database = TestDatabase::create();
    contract(&mut PostgresStore::connect(&database.url()).unwrap());
    // And it is all still there after reconnecting (which migrates nothing twice).
    let again = PostgresStore::connect(&database.url()).unwrap();
    assert_eq!(again.all().unwrap().len(), 10);
    assert!(again.location().to_string_lossy().ends_with(&database.name));
}

#[test]
fn a_damaged_row_is_an_error_naming_it_never_skipped() {
    for (sql, expected) in damage_cases("lineage_records", "lineage_edges") {
        let database = TestDatabase::create();
        let mut store = PostgresStore::connect(&database.url()).unwrap();
        store.insert(&family_entries()).unwrap();
        // The foreign key keeps an edge from naming a record that is not there; damage goes
        // around it as a restore from a broken backup would.
        database.sql(&format!(
            "ALTER TABLE lineage_edges DROP CONSTRAINT lineage_edges_child_fkey; {sql}"
        ));
        assert_damage_is_named(&store, &sql, expected);
    }
}

#[test]
fn concurrent_writers_lose_nothing_and_cannot_close_a_cycle() {
    let database = TestDatabase::create();
    let url = database.url();
    drop(PostgresStore::connect(&url).unwrap());
    // Eight writers, each recording its own chain of 25 generations on a shared base.
    let mut base = PostgresStore::connect(&url).unwrap();
    base.insert(&[entry("base", "1", 1, &[])]).unwrap();
    std::thread::scope(|scope| {
        for writer in 0..8u32 {
            let url = &url;
            scope.spawn(move || {
                let mut store = PostgresStore::connect(url).unwrap();
                let mut parent = 1;
                for generation in 0..25u32 {
                    let d = 1000 * (writer + 1) + generation;
                    let name = format!("w{writer}");
                    let version = generation.to_string();
                    let added = store
                        .insert(&[entry(&name, &version, d, &[(parent, Relation::Finetune)])])
                        .unwrap();
                    assert_eq!(added.added, 1);
                    parent = d;
                }
            });
        }
    });
    let store = PostgresStore::connect(&url).unwrap();
    assert_eq!(store.all().unwrap().len(), 1 + 8 * 25);
    assert_eq!(
        store.descendants(&digest(1)).unwrap().nodes.len(),
        1 + 8 * 25
    );
    assert_eq!(store.ancestors(&digest(8024)).unwrap().nodes.len(), 26);

    // Two writers racing to make a (70) and b (71) each other's parent: each alone is fine,
    // together they close a cycle. Writers are serialised, so exactly one is refused.
    for _ in 0..5 {
        let database = TestDatabase::create();
        let url = database.url();
        drop(PostgresStore::connect(&url).unwrap());
        let barrier = std::sync::Barrier::new(2);
        let results: Vec<_> = std::thread::scope(|scope| {
            let race = |name: &'static str, d: u32, parent: u32| {
                let (url, barrier) = (&url, &barrier);
                scope.spawn(move || {
                    let mut store = PostgresStore::connect(url).unwrap();
                    barrier.wait();
                    store.insert(&[entry(name, "1", d, &[(parent, Relation::Merge)])])
                })
            };
            let first = race("a", 70, 71);
            let second = race("b", 71, 70);
            vec![first.join().unwrap(), second.join().unwrap()]
        });
        let refused: Vec<String> = results
            .iter()
            .filter_map(|r| r.as_ref().err().map(ToString::to_string))
            .collect();
        assert_eq!(refused.len(), 1, "{results:?}");
        assert!(
            refused[0].contains("lineage cannot have cycles"),
            "{refused:?}"
        );
    }
}

#[test]
fn a_schema_from_a_newer_modelprov_is_refused_untouched() {
    let database = TestDatabase::create();
    drop(PostgresStore::connect(&database.url()).unwrap());
    let newer = POSTGRES_SCHEMA_VERSION + 1;
    database.sql(&format!(
        "UPDATE modelprov_schema SET version = {newer} WHERE component = 'lineage'"
    ));
    let Err(error) = PostgresStore::connect(&database.url()) else {
        panic!("a newer schema was accepted");
    };
    let text = error.to_string();
    assert!(text.contains("newer than this modelprov"), "{text}");
    assert!(matches!(error, Error::InvalidInput { .. }), "{text}");
}

#[test]
fn an_unreachable_server_is_a_database_error_that_never_shows_the_password() {
    // Port 1 on loopback: nothing listens, so the connection is refused at once.
    let Err(error) = PostgresStore::connect("postgres://someone:s3cret@127.0.0.1:1/registry")
    else {
        panic!("connected to nothing");
    };
    let text = error.to_string();
    assert_eq!(error.code(), "database", "{text}");
    assert!(
        text.contains("127.0.0.1:1/registry") && !text.contains("s3cret"),
        "{text}"
    );
    let Err(error) = PostgresStore::connect("postgres://someone:s3cret@[bad") else {
        panic!("parsed a broken URL");
    };
    let text = error.to_string();
    assert!(
        matches!(error, Error::Usage(_)) && !text.contains("s3cret"),
        "{text}"
    );
}

#[test]
fn a_test_database_and_its_server_role_are_dropped_with_it() {
    // (Every test database was once left behind: the drop failed, and was ignored.)
    let database = TestDatabase::create();
    let (name, role) = (database.name.clone(), database.server_role());
    database.server_sql(&format!("CREATE ROLE {role} LOGIN"));
    drop(database);
    let other = TestDatabase::create();
    let left = other.count(&format!(
        "SELECT (SELECT count(*) FROM pg_database WHERE datname = '{name}') + (SELECT count(*) FROM pg_roles WHERE rolname = '{role}')"
    ));
    assert_eq!(left, 0);
}
