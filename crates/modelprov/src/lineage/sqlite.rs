//! The embedded registry: one SQLite file (WAL, every write one IMMEDIATE transaction, so two
//! processes recording at once serialise instead of losing writes, and a killed process leaves the
//! last committed state). The schema is versioned with `PRAGMA user_version` and migrated forward
//! in a transaction; a registry from a newer modelprov is refused, not guessed at.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::record::Relation;
use super::slsa::parse_lineage_statement;
use super::store::{Edge, Entry, InsertOutcome, Node, Store, Subgraph};
use crate::digest::RootDigest;
use crate::error::{Error, Result};

/// `MPRV`: marks the file as a modelprov registry.
const APPLICATION_ID: i32 = 0x4d50_5256;

/// Schema migrations; entry N brings a registry from version N to N+1.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE records (
    id          INTEGER PRIMARY KEY,
    digest      BLOB NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    version     TEXT NOT NULL,
    created     TEXT,
    recorded_at TEXT NOT NULL,
    statement   BLOB NOT NULL,
    bundle      BLOB,
    UNIQUE (name, version)
);
CREATE TABLE edges (
    child    BLOB NOT NULL REFERENCES records (digest),
    parent   BLOB NOT NULL,
    relation TEXT NOT NULL,
    PRIMARY KEY (child, parent)
) WITHOUT ROWID;
CREATE INDEX edges_by_parent ON edges (parent, child);
CREATE TABLE manifests (
    digest   BLOB PRIMARY KEY,
    manifest TEXT NOT NULL
) WITHOUT ROWID;
"#];

pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

pub struct SqliteStore {
    connection: Connection,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens the registry at `path`, creating it (and its folder) when `create` is set.
    pub fn open(path: &Path, create: bool) -> Result<SqliteStore> {
        if !path.exists() {
            if !create {
                return Err(Error::invalid(
                    path,
                    "no lineage registry here yet (record a model first, or pass --registry)",
                ));
            }
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
            }
        }
        let connection = Connection::open(path).map_err(|e| database_error(path, e))?;
        let mut store = SqliteStore {
            connection,
            path: path.to_path_buf(),
        };
        store
            .prepare()
            .map_err(|e| database_error(path, e))
            .and_then(|r| r)?;
        Ok(store)
    }

    /// Settings, then the schema check and migrations. The outer error is SQLite's, the inner a
    /// registry that is not ours or too new.
    fn prepare(&mut self) -> rusqlite::Result<Result<()>> {
        self.connection.busy_timeout(Duration::from_secs(30))?;
        self.connection.pragma_update(None, "foreign_keys", "ON")?;
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i32 = transaction.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        let application: i32 =
            transaction.query_row("PRAGMA application_id", [], |row| row.get(0))?;
        let tables: i64 =
            transaction.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))?;
        if application != APPLICATION_ID && (application != 0 || tables > 0) {
            return Ok(Err(Error::invalid(
                &self.path,
                "an SQLite database, but not a modelprov lineage registry",
            )));
        }
        if version > SCHEMA_VERSION {
            return Ok(Err(Error::invalid(
                &self.path,
                format!(
                    "the registry has schema version {version}, newer than this modelprov understands ({SCHEMA_VERSION}); upgrade modelprov"
                ),
            )));
        }
        // Only an older (or new) registry is written to: opening never touches a current one.
        if version < SCHEMA_VERSION {
            for migration in &MIGRATIONS[version as usize..] {
                transaction.execute_batch(migration)?;
            }
            transaction.pragma_update(None, "application_id", APPLICATION_ID)?;
            transaction.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        }
        transaction.commit()?;
        // WAL outside the transaction (it cannot change inside one).
        self.connection.pragma_update(None, "journal_mode", "WAL")?;
        Ok(Ok(()))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn db(&self, e: rusqlite::Error) -> Error {
        database_error(&self.path, e)
    }

    fn entry_of(&self, row: (Vec<u8>, Option<Vec<u8>>, String)) -> Result<Entry> {
        let (statement, bundle, recorded_at) = row;
        let record = parse_lineage_statement(&statement).map_err(|problem| {
            Error::invalid(&self.path, format!("a stored record is damaged: {problem}"))
        })?;
        Ok(Entry {
            record,
            statement,
            bundle,
            recorded_at,
        })
    }

    fn entries(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<Entry>> {
        let mut statement = self
            .connection
            .prepare_cached(sql)
            .map_err(|e| self.db(e))?;
        let rows = statement
            .query_map(params, |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .map_err(|e| self.db(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.db(e))?;
        rows.into_iter().map(|row| self.entry_of(row)).collect()
    }

    /// Nodes and edges reachable from `digest` following `edges` one way, in one recursive
    /// query: each reached node with its label and its edges onward.
    fn reach(&self, digest: &RootDigest, towards_parents: bool) -> Result<Subgraph> {
        let (from, to) = if towards_parents {
            ("child", "parent")
        } else {
            ("parent", "child")
        };
        let sql = format!(
            "WITH RECURSIVE reach(d) AS (SELECT ?1 UNION SELECT e.{to} FROM edges e JOIN reach r ON e.{from} = r.d) \
             SELECT r.d, rec.name, rec.version, e.{to}, e.relation FROM reach r \
             LEFT JOIN records rec ON rec.digest = r.d LEFT JOIN edges e ON e.{from} = r.d"
        );
        let mut statement = self
            .connection
            .prepare_cached(&sql)
            .map_err(|e| self.db(e))?;
        let rows = statement
            .query_map([digest.0.to_vec()], |row| {
                Ok((
                    row.get::<_, Vec<u8>>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, Option<Vec<u8>>>(3)?,
                    row.get::<_, Option<String>>(4)?,
                ))
            })
            .map_err(|e| self.db(e))?;
        let mut graph = Subgraph::default();
        for row in rows {
            let (node, name, version, other, relation) = row.map_err(|e| self.db(e))?;
            let node = digest_of(node);
            if graph
                .nodes
                .last()
                .is_none_or(|last: &Node| last.digest != node)
            {
                graph.nodes.push(Node {
                    digest: node,
                    name,
                    version,
                });
            }
            if let (Some(other), Some(relation)) = (other, relation) {
                let other = digest_of(other);
                let (child, parent) = if towards_parents {
                    (node, other)
                } else {
                    (other, node)
                };
                graph.edges.push(Edge {
                    child,
                    parent,
                    relation: Relation::parse(&relation).unwrap_or(Relation::Other),
                });
            }
        }
        graph.nodes.sort();
        graph.nodes.dedup_by(|a, b| a.digest == b.digest);
        graph.edges.sort();
        Ok(graph)
    }
}

fn digest_of(bytes: Vec<u8>) -> RootDigest {
    let mut digest = [0u8; 32];
    if bytes.len() == 32 {
        digest.copy_from_slice(&bytes);
    }
    RootDigest(digest)
}

fn database_error(path: &Path, error: rusqlite::Error) -> Error {
    let problem = match &error {
        rusqlite::Error::SqliteFailure(code, _)
            if code.code == rusqlite::ErrorCode::NotADatabase =>
        {
            "not a modelprov lineage registry (not an SQLite database)".to_string()
        }
        _ => format!("registry database error: {error}"),
    };
    Error::invalid(path, problem)
}

impl Store for SqliteStore {
    fn insert(&mut self, entries: &[Entry]) -> Result<InsertOutcome> {
        let path = self.path.clone();
        let db = |e: rusqlite::Error| database_error(&path, e);
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let mut outcome = InsertOutcome::default();
        for entry in entries {
            let record = &entry.record;
            let key = record.digest.0.to_vec();
            let existing: Option<(String, String, Vec<u8>)> = transaction
                .query_row(
                    "SELECT name, version, statement FROM records WHERE digest = ?1",
                    [&key],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )
                .optional()
                .map_err(db)?;
            if let Some((name, version, statement)) = existing {
                if name == record.name && version == record.version && statement == entry.statement
                {
                    outcome.unchanged += 1;
                    continue;
                }
                let refusal = if name == record.name && version == record.version {
                    format!(
                        "{} is already recorded with different provenance",
                        record.id()
                    )
                } else {
                    format!(
                        "{} is already recorded as {name}@{version}; one model digest has one name@version",
                        record.digest
                    )
                };
                return Err(Error::invalid(
                    &path,
                    format!("refused, nothing recorded: {refusal}"),
                ));
            }
            let other: Option<Vec<u8>> = transaction
                .query_row(
                    "SELECT digest FROM records WHERE name = ?1 AND version = ?2",
                    params![record.name, record.version],
                    |row| row.get(0),
                )
                .optional()
                .map_err(db)?;
            if let Some(other) = other {
                return Err(Error::invalid(
                    &path,
                    format!(
                        "refused, nothing recorded: {} is already recorded with digest {}",
                        record.id(),
                        digest_of(other)
                    ),
                ));
            }
            // A cycle needs an edge into this digest already: only then walk the parents' ancestry.
            let has_children: bool = transaction
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM edges WHERE parent = ?1)",
                    [&key],
                    |row| row.get(0),
                )
                .map_err(db)?;
            if has_children {
                for parent in &record.parents {
                    let cycle: bool = transaction
                        .query_row(
                            "WITH RECURSIVE reach(d) AS (SELECT ?1 UNION SELECT e.parent FROM edges e JOIN reach r ON e.child = r.d) SELECT EXISTS (SELECT 1 FROM reach WHERE d = ?2)",
                            params![parent.digest.0.to_vec(), key],
                            |row| row.get(0),
                        )
                        .map_err(db)?;
                    if cycle {
                        return Err(Error::invalid(
                            &path,
                            format!(
                                "refused, nothing recorded: {} would be its own ancestor (its parent {} already descends from it): lineage cannot have cycles",
                                record.id(),
                                parent.digest
                            ),
                        ));
                    }
                }
            }
            transaction
                .execute(
                    "INSERT INTO records (digest, name, version, created, recorded_at, statement, bundle) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![key, record.name, record.version, record.created, entry.recorded_at, entry.statement, entry.bundle],
                )
                .map_err(db)?;
            for parent in &record.parents {
                transaction
                    .execute(
                        "INSERT INTO edges (child, parent, relation) VALUES (?1, ?2, ?3)",
                        params![key, parent.digest.0.to_vec(), parent.relation.as_str()],
                    )
                    .map_err(db)?;
            }
            outcome.added += 1;
        }
        transaction.commit().map_err(db)?;
        Ok(outcome)
    }

    fn by_digest(&self, digest: &RootDigest) -> Result<Option<Entry>> {
        Ok(self
            .entries(
                "SELECT statement, bundle, recorded_at FROM records WHERE digest = ?1",
                [digest.0.to_vec()],
            )?
            .pop())
    }

    fn by_id(&self, name: &str, version: &str) -> Result<Option<Entry>> {
        Ok(self
            .entries("SELECT statement, bundle, recorded_at FROM records WHERE name = ?1 AND version = ?2", [name, version])?
            .pop())
    }

    fn versions(&self, name: &str) -> Result<Vec<Entry>> {
        self.entries(
            "SELECT statement, bundle, recorded_at FROM records WHERE name = ?1 ORDER BY id",
            [name],
        )
    }

    fn ancestors(&self, digest: &RootDigest) -> Result<Subgraph> {
        self.reach(digest, true)
    }

    fn descendants(&self, digest: &RootDigest) -> Result<Subgraph> {
        self.reach(digest, false)
    }

    fn all(&self) -> Result<Vec<Entry>> {
        self.entries(
            "SELECT statement, bundle, recorded_at FROM records ORDER BY id",
            [],
        )
    }

    fn manifest(&self, digest: &RootDigest) -> Result<Option<String>> {
        self.connection
            .query_row(
                "SELECT manifest FROM manifests WHERE digest = ?1",
                [digest.0.to_vec()],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.db(e))
    }

    fn put_manifest(&mut self, digest: &RootDigest, manifest_json: &str) -> Result<()> {
        self.connection
            .execute(
                "INSERT INTO manifests (digest, manifest) VALUES (?1, ?2) ON CONFLICT (digest) DO UPDATE SET manifest = excluded.manifest",
                params![digest.0.to_vec(), manifest_json],
            )
            .map(|_| ())
            .map_err(|e| self.db(e))
    }
}
