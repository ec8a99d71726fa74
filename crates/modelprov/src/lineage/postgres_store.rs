//! The registry on a PostgreSQL server, for a team. The same contract as the SQLite file: the
//! Statement bytes are the source of truth and every row read is checked against them
//! ([`super::stored`]); each write is one transaction, and writers take one advisory lock, so the
//! checks a write makes (one digest, one name@version, no cycle) hold against every other writer.
//! The schema is versioned and migrated forward at connect ([`crate::postgres_schema`]).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use postgres::Client;

use super::store::{Entry, InsertOutcome, Store, Subgraph};
use super::stored::{
    ReachRow, Row, StoredUnderDigest, against_stored, assemble_reach, cycle, digest_of, id_taken,
    signature_applies,
};
use crate::digest::RootDigest;
use crate::error::{Error, Result};
use crate::postgres_schema::{
    PostgresError, PreparedTransaction, StatementCache, locked_transaction,
};

/// Schema migrations of the lineage tables; entry N brings them from version N to N+1.
const MIGRATIONS: &[&str] = &[r"
CREATE TABLE lineage_records (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    digest      BYTEA NOT NULL UNIQUE CHECK (octet_length(digest) = 32),
    name        TEXT NOT NULL,
    version     TEXT NOT NULL,
    created     TEXT,
    recorded_at TEXT NOT NULL,
    statement   BYTEA NOT NULL,
    bundle      BYTEA,
    UNIQUE (name, version)
);
CREATE TABLE lineage_edges (
    child    BYTEA NOT NULL REFERENCES lineage_records (digest),
    parent   BYTEA NOT NULL CHECK (octet_length(parent) = 32),
    relation TEXT NOT NULL,
    PRIMARY KEY (child, parent)
);
CREATE INDEX lineage_edges_by_parent ON lineage_edges (parent, child);
CREATE TABLE lineage_manifests (
    digest   BYTEA PRIMARY KEY,
    manifest TEXT NOT NULL
);
"];

/// The lineage schema version this build writes: older databases are migrated forward, newer
/// ones refused.
#[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)] // a handful of migrations
pub const POSTGRES_SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Advisory lock key of lineage writes (`MPRV`, 2).
const WRITE_LOCK: i64 = 0x4d50_5256_0000_0002;

/// The [`Store`] on a PostgreSQL server.
pub struct PostgresStore {
    client: Mutex<Client>,
    statements: StatementCache,
    /// The server and database, without credentials: what errors name.
    location: PathBuf,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/dbname`, or the key-value
    /// form libpq takes), creating or migrating the lineage tables.
    ///
    /// # Errors
    /// [`Error::Usage`] for a URL that cannot be parsed; [`Error::Database`] when the server
    /// cannot be reached or refuses; [`Error::InvalidInput`] for a database whose lineage schema is
    /// newer than this build's.
    pub fn connect(url: &str) -> Result<PostgresStore> {
        let (mut client, location) = crate::postgres_schema::connect(url)?;
        crate::postgres_schema::migrate(&mut client, &location, "lineage", MIGRATIONS)?;
        Ok(PostgresStore {
            client: Mutex::new(client),
            statements: StatementCache::default(),
            location,
        })
    }

    /// The server and database (`postgres://user@host:port/dbname`), without credentials.
    pub fn location(&self) -> &Path {
        &self.location
    }

    /// The connection, for a component that shares it (the team registry keeps its own tables
    /// in the same database and writes them in the same transactions as records).
    pub fn connection(&self) -> MutexGuard<'_, Client> {
        self.client()
    }

    /// The statements prepared on this connection, for a component writing in its transactions.
    pub fn statements(&self) -> &StatementCache {
        &self.statements
    }

    /// Runs the query `sql` as a statement prepared once on this connection: for the queries a
    /// server runs at every request.
    ///
    /// # Errors
    /// The server's error.
    pub fn query_prepared(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> std::result::Result<Vec<postgres::Row>, postgres::Error> {
        let mut client = self.client();
        let statement = self.statements.get(&mut *client, sql)?;
        client.query(&statement, params)
    }

    /// Up to `limit` entries recorded after the entry numbered `after` (0 for the first page),
    /// oldest first, each with its number: what a server pages [`Store::all`] by.
    ///
    /// # Errors
    /// [`Error::Database`], or [`Error::InvalidInput`] for a damaged row.
    pub fn page(&self, after: i64, limit: i64) -> Result<Vec<(i64, Entry)>> {
        let db = self.db();
        let rows = self
            .client()
            .query(
                &format!("SELECT id, {ENTRY_COLUMNS} FROM lineage_records WHERE id > $1 ORDER BY id LIMIT $2"),
                &[&after, &limit],
            )
            .map_err(&db)?;
        rows.iter()
            .map(|row| {
                let id: i64 = row.try_get(0).map_err(&db)?;
                let entry = Row {
                    digest: row.try_get(1).map_err(&db)?,
                    name: row.try_get(2).map_err(&db)?,
                    version: row.try_get(3).map_err(&db)?,
                    statement: row.try_get(4).map_err(&db)?,
                    bundle: row.try_get(5).map_err(&db)?,
                    recorded_at: row.try_get(6).map_err(&db)?,
                }
                .into_entry(&self.location)?;
                Ok((id, entry))
            })
            .collect()
    }

    /// [`Store::put_manifest`] through a shared reference (the connection is behind a lock).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn keep_manifest(&self, digest: &RootDigest, manifest_json: &str) -> Result<()> {
        let db = self.db();
        self.client()
            .execute(
                "INSERT INTO lineage_manifests (digest, manifest) VALUES ($1, $2) ON CONFLICT (digest) DO UPDATE SET manifest = excluded.manifest",
                &[&digest.0.as_slice(), &manifest_json],
            )
            .map(|_| ())
            .map_err(&db)
    }

    fn client(&self) -> MutexGuard<'_, Client> {
        // A panic while holding the lock cannot leave a half-done transaction behind (the driver
        // rolls back a transaction that is dropped), so a poisoned lock is still usable.
        self.client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn db(&self) -> impl Fn(postgres::Error) -> Error + '_ {
        |e| Error::database(&self.location, "registry database error", PostgresError(e))
    }

    fn entries(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Entry>> {
        let db = self.db();
        let rows = self.query_prepared(sql, params).map_err(&db)?;
        rows.iter()
            .map(|row| {
                Row {
                    digest: row.try_get(0).map_err(&db)?,
                    name: row.try_get(1).map_err(&db)?,
                    version: row.try_get(2).map_err(&db)?,
                    statement: row.try_get(3).map_err(&db)?,
                    bundle: row.try_get(4).map_err(&db)?,
                    recorded_at: row.try_get(5).map_err(&db)?,
                }
                .into_entry(&self.location)
            })
            .collect()
    }

    fn reach(&self, digest: &RootDigest, towards_parents: bool) -> Result<Subgraph> {
        let (from, to) = if towards_parents {
            ("child", "parent")
        } else {
            ("parent", "child")
        };
        // The walk collects the edges it follows, so each is read from the table once; the
        // nodes are the start and every edge's far end.
        let sql = format!(
            "WITH RECURSIVE walk(node, other, relation) AS ( \
                SELECT {from}, {to}, relation FROM lineage_edges WHERE {from} = $1 \
                UNION SELECT e.{from}, e.{to}, e.relation FROM lineage_edges e JOIN walk w ON e.{from} = w.other), \
             nodes(d) AS (SELECT $1::bytea UNION SELECT other FROM walk) \
             SELECT n.d, rec.name, rec.version, rec.statement, w.other, w.relation FROM nodes n \
             LEFT JOIN lineage_records rec ON rec.digest = n.d LEFT JOIN walk w ON w.node = n.d"
        );
        let db = self.db();
        let rows = self
            .query_prepared(&sql, &[&digest.0.as_slice()])
            .map_err(&db)?;
        assemble_reach(
            &self.location,
            rows.iter().map(|row| {
                Ok(ReachRow {
                    node: row.try_get(0).map_err(&db)?,
                    name: row.try_get(1).map_err(&db)?,
                    version: row.try_get(2).map_err(&db)?,
                    statement: row.try_get(3).map_err(&db)?,
                    other: row.try_get(4).map_err(&db)?,
                    relation: row.try_get(5).map_err(&db)?,
                })
            }),
            towards_parents,
        )
    }
}

/// [`Store::insert`] inside a transaction the caller holds (and commits): how another
/// component sharing the database (the team registry) stores records together with its own
/// rows. Takes the lineage write lock for the rest of the transaction.
///
/// # Errors
/// As [`Store::insert`]; `location` is what errors name.
pub fn insert_within(
    transaction: &mut PreparedTransaction<'_, '_>,
    location: &Path,
    entries: &[Entry],
) -> Result<InsertOutcome> {
    let db =
        |e: postgres::Error| Error::database(location, "registry database error", PostgresError(e));
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
        .map_err(db)?;
    let mut outcome = InsertOutcome::default();
    for entry in entries {
        let record = &entry.record;
        let key = record.digest.0.as_slice();
        // What is stored under this digest, what holds its name@version, and whether anything
        // descends from it: one round trip, since the write lock is held across it.
        let row = transaction
            .query_one(
                "SELECT r.name, r.version, r.statement, r.bundle, o.digest, \
                 EXISTS (SELECT 1 FROM lineage_edges WHERE parent = $1) \
                 FROM (SELECT 1) AS one \
                 LEFT JOIN lineage_records r ON r.digest = $1 \
                 LEFT JOIN lineage_records o ON o.name = $2 AND o.version = $3 AND o.digest <> $1",
                &[&key, &record.name, &record.version],
            )
            .map_err(db)?;
        let stored_name: Option<String> = row.try_get(0).map_err(db)?;
        if let Some(name) = stored_name {
            let stored = StoredUnderDigest {
                name,
                version: row.try_get(1).map_err(db)?,
                statement: row.try_get(2).map_err(db)?,
                bundle: row.try_get(3).map_err(db)?,
            };
            if let Some(bundle) = against_stored(location, entry, &stored, &mut outcome)? {
                transaction
                    .execute(
                        "UPDATE lineage_records SET bundle = $1 WHERE digest = $2 AND bundle IS NULL",
                        &[&bundle, &key],
                    )
                    .map_err(db)?;
            }
            continue;
        }
        let other: Option<Vec<u8>> = row.try_get(4).map_err(db)?;
        if let Some(other) = other {
            return Err(id_taken(location, record, &other));
        }
        // A cycle needs an edge into this digest already: only then walk the parents' ancestry.
        let has_children: bool = row.try_get(5).map_err(db)?;
        if has_children && !record.parents.is_empty() {
            // A parent among this digest's descendants would close a cycle. Walk down from it
            // rather than up from the parents: what descends from a record not yet stored was
            // published out of order and is usually a handful, its ancestry can be the whole
            // chain.
            let parents: Vec<&[u8]> = record
                .parents
                .iter()
                .map(|p| p.digest.0.as_slice())
                .collect();
            let closing: Option<Vec<u8>> = transaction
                .query_opt(
                    "WITH RECURSIVE below(d) AS (SELECT $1::bytea UNION SELECT e.child FROM lineage_edges e JOIN below b ON e.parent = b.d) \
                     SELECT d FROM below WHERE d = ANY($2) LIMIT 1",
                    &[&key, &parents],
                )
                .and_then(|row| row.map(|row| row.try_get(0)).transpose())
                .map_err(db)?;
            if let Some(parent) = closing {
                return Err(cycle(location, record, &digest_of(&parent)));
            }
        }
        transaction
            .execute(
                "INSERT INTO lineage_records (digest, name, version, created, recorded_at, statement, bundle) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[&key, &record.name, &record.version, &record.created, &entry.recorded_at, &entry.statement, &entry.bundle],
            )
            .map_err(db)?;
        for parent in &record.parents {
            transaction
                .execute(
                    "INSERT INTO lineage_edges (child, parent, relation) VALUES ($1, $2, $3)",
                    &[&key, &parent.digest.0.as_slice(), &parent.relation.as_str()],
                )
                .map_err(db)?;
        }
        outcome.added += 1;
    }
    Ok(outcome)
}

const ENTRY_COLUMNS: &str = "digest, name, version, statement, bundle, recorded_at";

impl Store for PostgresStore {
    fn location(&self) -> &Path {
        &self.location
    }

    fn insert(&mut self, entries: &[Entry]) -> Result<InsertOutcome> {
        let location = self.location.clone();
        let db = |e: postgres::Error| {
            Error::database(&location, "registry database error", PostgresError(e))
        };
        let mut client = self.client();
        let mut transaction = client.transaction().map_err(db)?;
        let outcome = insert_within(
            &mut PreparedTransaction::new(&mut transaction, &self.statements),
            &location,
            entries,
        )?;
        transaction.commit().map_err(db)?;
        Ok(outcome)
    }

    fn add_signature(
        &mut self,
        digest: &RootDigest,
        statement: &[u8],
        bundle: &[u8],
    ) -> Result<bool> {
        let location = self.location.clone();
        let db = |e: postgres::Error| {
            Error::database(&location, "registry database error", PostgresError(e))
        };
        let mut client = self.client();
        let mut transaction = locked_transaction(&mut client, WRITE_LOCK).map_err(db)?;
        let stored = transaction
            .query_opt(
                "SELECT name, version, statement, bundle IS NOT NULL FROM lineage_records WHERE digest = $1",
                &[&digest.0.as_slice()],
            )
            .map_err(db)?
            .map(|row| -> std::result::Result<_, postgres::Error> {
                Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?))
            })
            .transpose()
            .map_err(db)?;
        if !signature_applies(&location, digest, stored, statement)? {
            return Ok(false);
        }
        transaction
            .execute(
                "UPDATE lineage_records SET bundle = $1 WHERE digest = $2 AND bundle IS NULL",
                &[&bundle, &digest.0.as_slice()],
            )
            .map_err(db)?;
        transaction.commit().map_err(db)?;
        Ok(true)
    }

    fn by_digest(&self, digest: &RootDigest) -> Result<Option<Entry>> {
        Ok(self
            .entries(
                &format!("SELECT {ENTRY_COLUMNS} FROM lineage_records WHERE digest = $1"),
                &[&digest.0.as_slice()],
            )?
            .pop())
    }

    fn by_id(&self, name: &str, version: &str) -> Result<Option<Entry>> {
        Ok(self
            .entries(
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM lineage_records WHERE name = $1 AND version = $2"
                ),
                &[&name, &version],
            )?
            .pop())
    }

    fn versions(&self, name: &str) -> Result<Vec<Entry>> {
        self.entries(
            &format!("SELECT {ENTRY_COLUMNS} FROM lineage_records WHERE name = $1 ORDER BY id"),
            &[&name],
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
            &format!("SELECT {ENTRY_COLUMNS} FROM lineage_records ORDER BY id"),
            &[],
        )
    }

    fn manifest(&self, digest: &RootDigest) -> Result<Option<String>> {
        let db = self.db();
        self.client()
            .query_opt(
                "SELECT manifest FROM lineage_manifests WHERE digest = $1",
                &[&digest.0.as_slice()],
            )
            .map_err(&db)?
            .map(|row| row.try_get(0).map_err(&db))
            .transpose()
    }

    fn put_manifest(&mut self, digest: &RootDigest, manifest_json: &str) -> Result<()> {
        self.keep_manifest(digest, manifest_json)
    }
}
