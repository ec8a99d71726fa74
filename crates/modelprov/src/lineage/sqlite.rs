//! The embedded registry: one SQLite file (WAL, every write one IMMEDIATE transaction, so two
//! processes recording at once serialise instead of losing writes, and a killed process leaves the
//! last committed state). The schema is versioned with `PRAGMA user_version` and migrated forward
//! in a transaction; a registry from a newer modelprov is refused, not guessed at. Readers open it
//! without creating, migrating or locking anything a writer holds ([`SqliteStore::open_read_only`]),
//! and every row they read is checked against its Statement, the source of truth.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use super::store::{Entry, InsertOutcome, Store, Subgraph};
use super::stored::{
    ReachRow, Row, StoredUnderDigest, against_stored, assemble_reach, cycle, id_taken,
    signature_applies,
};
use crate::digest::RootDigest;
use crate::error::{Error, Problem, Result};

/// `MPRV`: marks the file as a modelprov registry.
const APPLICATION_ID: i32 = 0x4d50_5256;

/// Schema migrations; entry N brings a registry from version N to N+1.
const MIGRATIONS: &[&str] = &[r"
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
"];

/// The registry schema version this build writes (`PRAGMA user_version`): older registries are
/// migrated forward, newer ones refused.
#[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)] // a handful of migrations
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// The embedded [`Store`]: a registry in one SQLite file.
pub struct SqliteStore {
    connection: Connection,
    path: PathBuf,
}

/// How a registry is opened: readers never write, never create, never wait behind a writer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// Create the registry (and its folder) when missing; migrate an older schema.
    Create,
    /// Write an existing registry; migrate an older schema.
    Write,
    /// Read an existing registry as it is.
    Read,
}

impl SqliteStore {
    /// Opens the registry at `path` for writing, creating it (and its folder) when `create` is
    /// set. Reading commands use [`SqliteStore::open_read_only`].
    pub fn open(path: &Path, create: bool) -> Result<SqliteStore> {
        let access = if create {
            Access::Create
        } else {
            Access::Write
        };
        if !path.exists() {
            if access == Access::Write {
                return Err(no_registry(path));
            }
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
            }
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if access == Access::Create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        Self::connect(path, path.as_os_str(), flags, access)
    }

    /// Opens an existing registry for reading only: nothing is created (a missing file is an
    /// error), migrated or written (`query_only`), and no lock is taken that a writer holds, so
    /// a read never waits behind a write transaction (WAL readers see the last commit).
    ///
    /// A registry in a folder the reader cannot write (where SQLite cannot create the `-shm` file
    /// WAL mode needs) is opened `immutable`, but only when the file itself is read-only (no write
    /// permission bits, or a read-only file system) and no write-ahead log holds changes: then no
    /// writer can change it while it is read, which is what `immutable` promises SQLite.
    pub fn open_read_only(path: &Path) -> Result<SqliteStore> {
        if !path.exists() {
            return Err(no_registry(path));
        }
        if path.is_dir() {
            return Err(Error::invalid(
                path,
                "a folder, not a lineage registry file",
            ));
        }
        // A file we may not read gets the operating system's word for it, not SQLite's.
        std::fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
        // Read-write (without create) rather than read-only: a read-only connection leaves the
        // -wal and -shm files behind, a read-write one removes them when it is the last to close.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        match Self::try_connect(path, path.as_os_str(), flags, Access::Read) {
            Ok(Ok(store)) => Ok(store),
            Ok(Err(refused)) => Err(refused),
            Err(e)
                if cannot_create_side_files(&e)
                    && is_read_only_file(path)
                    && wal_is_empty(path) =>
            {
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_URI
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let uri = immutable_uri(path);
                Self::connect(path, std::ffi::OsStr::new(&uri), flags, Access::Read)
            }
            Err(
                e @ rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error {
                        code: rusqlite::ErrorCode::ReadOnly,
                        ..
                    },
                    _,
                ),
            ) => Err(Error::invalid(
                path,
                format!(
                    "cannot read the registry: SQLite needs to create its -shm file in the registry's folder, which is not writable ({e}); make the folder writable, or make the registry file read-only (chmod a-w) so it is read as an unchanging file"
                ),
            )),
            Err(e) => Err(database_error(path, e)),
        }
    }

    fn connect(
        path: &Path,
        name: &std::ffi::OsStr,
        flags: OpenFlags,
        access: Access,
    ) -> Result<SqliteStore> {
        Self::try_connect(path, name, flags, access)
            .map_err(|e| database_error(path, e))
            .and_then(|r| r)
    }

    /// The outer error is SQLite's, the inner a registry refused by the schema check.
    fn try_connect(
        path: &Path,
        name: &std::ffi::OsStr,
        flags: OpenFlags,
        access: Access,
    ) -> rusqlite::Result<Result<SqliteStore>> {
        let connection = Connection::open_with_flags(name, flags)?;
        let mut store = SqliteStore {
            connection,
            path: path.to_path_buf(),
        };
        Ok(store.prepare(access)?.map(|()| store))
    }

    /// Settings, then the schema check and, for writers, migrations. The outer error is
    /// SQLite's, the inner a registry that is not ours, too new, or (for readers) too old.
    fn prepare(&mut self, access: Access) -> rusqlite::Result<Result<()>> {
        self.connection.busy_timeout(Duration::from_secs(30))?;
        if access == Access::Read {
            // Belt and braces: a reading command cannot change the file even by mistake.
            self.connection.pragma_update(None, "query_only", "ON")?;
            // A deferred read: in WAL mode it takes no lock a writer holds.
            let transaction = self.connection.transaction()?;
            let checked = schema_check(&transaction, &self.path, access)?;
            transaction.commit()?;
            return Ok(checked.map(|_| ()));
        }
        self.connection.pragma_update(None, "foreign_keys", "ON")?;
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version = match schema_check(&transaction, &self.path, access)? {
            Ok(version) => version,
            Err(e) => return Ok(Err(e)),
        };
        // Only an older (or new) registry is written to: opening never touches a current one.
        if version < SCHEMA_VERSION {
            // schema_check refused a negative version.
            let applied = usize::try_from(version).unwrap_or(MIGRATIONS.len());
            for migration in &MIGRATIONS[applied..] {
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

    /// The registry file this store was opened at.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn db(&self, e: rusqlite::Error) -> Error {
        database_error(&self.path, e)
    }

    /// The record a row holds, parsed from its Statement, which must be the record the row's
    /// index columns say it is: a damaged row is an error naming it, never skipped.
    fn entries(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<Entry>> {
        let mut statement = self
            .connection
            .prepare_cached(sql)
            .map_err(|e| self.db(e))?;
        let rows = statement
            .query_map(params, |row| {
                Ok(Row {
                    digest: row.get(0)?,
                    name: row.get(1)?,
                    version: row.get(2)?,
                    statement: row.get(3)?,
                    bundle: row.get(4)?,
                    recorded_at: row.get(5)?,
                })
            })
            .map_err(|e| self.db(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.db(e))?;
        rows.into_iter()
            .map(|row| row.into_entry(&self.path))
            .collect()
    }

    /// Nodes and edges reachable from `digest` following `edges` one way, in one recursive
    /// query: each reached node with its label, its Statement and its edges onward, checked by
    /// [`assemble_reach`].
    fn reach(&self, digest: &RootDigest, towards_parents: bool) -> Result<Subgraph> {
        let (from, to) = if towards_parents {
            ("child", "parent")
        } else {
            ("parent", "child")
        };
        let sql = format!(
            "WITH RECURSIVE reach(d) AS (SELECT ?1 UNION SELECT e.{to} FROM edges e JOIN reach r ON e.{from} = r.d) \
             SELECT r.d, rec.name, rec.version, rec.statement, e.{to}, e.relation FROM reach r \
             LEFT JOIN records rec ON rec.digest = r.d LEFT JOIN edges e ON e.{from} = r.d"
        );
        let mut statement = self
            .connection
            .prepare_cached(&sql)
            .map_err(|e| self.db(e))?;
        let rows = statement
            .query_map([digest.0.to_vec()], |row| {
                Ok(ReachRow {
                    node: row.get(0)?,
                    name: row.get(1)?,
                    version: row.get(2)?,
                    statement: row.get(3)?,
                    other: row.get(4)?,
                    relation: row.get(5)?,
                })
            })
            .map_err(|e| self.db(e))?;
        assemble_reach(
            &self.path,
            rows.map(|row| row.map_err(|e| self.db(e))),
            towards_parents,
        )
    }
}

/// The version of a registry that is ours (or an empty database, version 0), or why not.
fn schema_check(
    connection: &Connection,
    path: &Path,
    access: Access,
) -> rusqlite::Result<Result<i32>> {
    let version: i32 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let application: i32 = connection.query_row("PRAGMA application_id", [], |row| row.get(0))?;
    let tables: i64 =
        connection.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))?;
    if application != APPLICATION_ID && (application != 0 || tables > 0) {
        return Ok(Err(Error::invalid(
            path,
            "an SQLite database, but not a modelprov lineage registry",
        )));
    }
    if version < 0 {
        // SQLite's user_version is any 32-bit value; no modelprov ever writes a negative one.
        return Ok(Err(Error::invalid(
            path,
            format!("the registry has schema version {version}, which no modelprov writes"),
        )));
    }
    if version > SCHEMA_VERSION {
        return Ok(Err(Error::invalid(
            path,
            format!(
                "the registry has schema version {version}, newer than this modelprov understands ({SCHEMA_VERSION}); upgrade modelprov"
            ),
        )));
    }
    if access == Access::Read && version < SCHEMA_VERSION {
        // A reader never migrates: the next `lineage record` or `import` does.
        let problem = if version == 0 {
            "an empty database, not a lineage registry yet (record a model first)".to_string()
        } else {
            format!(
                "the registry has schema version {version}, older than this modelprov's ({SCHEMA_VERSION}); a writing command (lineage record, import) upgrades it"
            )
        };
        return Ok(Err(Error::invalid(path, problem)));
    }
    Ok(Ok(version))
}

fn no_registry(path: &Path) -> Error {
    Error::invalid(
        path,
        format!(
            "no lineage registry at this path (record a model first, or pass --registry or set {})",
            super::REGISTRY_ENV
        ),
    )
}

/// SQLite could not create (or lock) the -shm/-wal files next to the registry.
fn cannot_create_side_files(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(code, _)
            if matches!(code.code, rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen)
    )
}

/// Nobody can write the file: it has no write permission bits, or its file system is mounted
/// read-only. (Lacking permission ourselves is not enough: its owner could be writing it.)
fn is_read_only_file(path: &Path) -> bool {
    let Ok(metadata) = std::fs::metadata(path) else {
        return false;
    };
    if metadata.permissions().readonly() {
        return true;
    }
    // Opening for writing neither truncates nor changes the file; only the error is wanted.
    matches!(
        std::fs::OpenOptions::new().write(true).open(path),
        Err(e) if e.kind() == std::io::ErrorKind::ReadOnlyFilesystem
    )
}

/// No write-ahead log holds changes that an `immutable` read would miss.
fn wal_is_empty(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    match std::fs::metadata(PathBuf::from(wal)) {
        Ok(metadata) => metadata.len() == 0,
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

/// `file:<path>?mode=ro&immutable=1`, the path percent-encoded so that `?`, `#` and `%` in it
/// stay part of the name.
fn immutable_uri(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut uri = String::from("file:");
    for &byte in absolute.as_os_str().as_encoded_bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            let _ = write!(uri, "%{byte:02X}");
        }
    }
    uri.push_str("?mode=ro&immutable=1");
    uri
}

fn database_error(path: &Path, error: rusqlite::Error) -> Error {
    match &error {
        rusqlite::Error::SqliteFailure(code, _)
            if code.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Problem::worded(
                "not a modelprov lineage registry (not an SQLite database)",
                error,
            )
            .at(path)
        }
        _ => Error::database(path, "registry database error", error),
    }
}

impl Store for SqliteStore {
    fn location(&self) -> &Path {
        self.path()
    }

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
            let existing = transaction
                .query_row(
                    "SELECT name, version, statement, bundle FROM records WHERE digest = ?1",
                    [&key],
                    |row| {
                        Ok(StoredUnderDigest {
                            name: row.get(0)?,
                            version: row.get(1)?,
                            statement: row.get(2)?,
                            bundle: row.get(3)?,
                        })
                    },
                )
                .optional()
                .map_err(db)?;
            if let Some(stored) = existing {
                if let Some(bundle) = against_stored(&path, entry, &stored, &mut outcome)? {
                    transaction
                        .execute(
                            "UPDATE records SET bundle = ?1 WHERE digest = ?2 AND bundle IS NULL",
                            params![bundle, key],
                        )
                        .map_err(db)?;
                }
                continue;
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
                return Err(id_taken(&path, record, &other));
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
                    let closes_cycle: bool = transaction
                        .query_row(
                            "WITH RECURSIVE reach(d) AS (SELECT ?1 UNION SELECT e.parent FROM edges e JOIN reach r ON e.child = r.d) SELECT EXISTS (SELECT 1 FROM reach WHERE d = ?2)",
                            params![parent.digest.0.to_vec(), key],
                            |row| row.get(0),
                        )
                        .map_err(db)?;
                    if closes_cycle {
                        return Err(cycle(&path, record, &parent.digest));
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
                "SELECT digest, name, version, statement, bundle, recorded_at FROM records WHERE digest = ?1",
                [digest.0.to_vec()],
            )?
            .pop())
    }

    fn by_id(&self, name: &str, version: &str) -> Result<Option<Entry>> {
        Ok(self
            .entries("SELECT digest, name, version, statement, bundle, recorded_at FROM records WHERE name = ?1 AND version = ?2", [name, version])?
            .pop())
    }

    fn versions(&self, name: &str) -> Result<Vec<Entry>> {
        self.entries(
            "SELECT digest, name, version, statement, bundle, recorded_at FROM records WHERE name = ?1 ORDER BY id",
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
            "SELECT digest, name, version, statement, bundle, recorded_at FROM records ORDER BY id",
            [],
        )
    }

    fn add_signature(
        &mut self,
        digest: &RootDigest,
        statement: &[u8],
        bundle: &[u8],
    ) -> Result<bool> {
        let path = self.path.clone();
        let db = |e: rusqlite::Error| database_error(&path, e);
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let stored: Option<(String, String, Vec<u8>, bool)> = transaction
            .query_row(
                "SELECT name, version, statement, bundle IS NOT NULL FROM records WHERE digest = ?1",
                [digest.0.to_vec()],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .optional()
            .map_err(db)?;
        if !signature_applies(&path, digest, stored, statement)? {
            return Ok(false);
        }
        transaction
            .execute(
                "UPDATE records SET bundle = ?1 WHERE digest = ?2 AND bundle IS NULL",
                params![bundle, digest.0.to_vec()],
            )
            .map_err(db)?;
        transaction.commit().map_err(db)?;
        Ok(true)
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
