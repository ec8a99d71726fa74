//! What every modelprov component on PostgreSQL shares: connecting (with a bounded wait, and the
//! server named without credentials) and versioned migrations. Each component (`lineage`, the
//! team registry) keeps its version in `modelprov_schema` and is migrated forward in one
//! transaction, under an advisory lock so that servers starting together migrate once; a
//! database from a newer modelprov is refused, not guessed at.

use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::time::Duration;

use postgres::config::Host;
use postgres::{Client, Config, NoTls};

use crate::error::{Error, Result};

/// A PostgreSQL error that shows what the server said: `postgres::Error` alone displays "db
/// error" and keeps the server's message (and an I/O error's cause) as its source.
#[derive(Debug)]
pub struct PostgresError(pub postgres::Error);

impl std::fmt::Display for PostgresError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::error::Error as _;
        match self.0.source() {
            Some(cause) => write!(f, "{}: {cause}", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

impl std::error::Error for PostgresError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Advisory lock key of migrations (`MPRV`, 1).
const MIGRATION_LOCK: i64 = 0x4d50_5256_0000_0001;

/// How long connecting may take before the server counts as unreachable, unless the URL says.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to the database at `url` (`postgres://user@host:port/dbname`, or libpq's key-value
/// form); also returns the server and database as errors name them, without credentials.
///
/// # Errors
/// [`Error::Usage`] for a URL that cannot be parsed (shown without its password);
/// [`Error::Database`] when the server cannot be reached or refuses.
pub fn connect(url: &str) -> Result<(Client, PathBuf)> {
    let mut config = Config::from_str(url)
        .map_err(|e| Error::Usage(format!("'{}' is not a PostgreSQL URL: {e}", redacted(url))))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    let location = location(&config);
    let client = config.connect(NoTls).map_err(|e| {
        Error::database(
            &location,
            "cannot connect to the database",
            PostgresError(e),
        )
    })?;
    Ok((client, location))
}

/// The statements a connection has prepared, by their SQL: a query run often is parsed and
/// planned once per connection instead of at every call (one round trip instead of two).
#[derive(Default)]
pub struct StatementCache {
    prepared: std::sync::Mutex<std::collections::HashMap<String, postgres::Statement>>,
}

impl StatementCache {
    /// The prepared statement of `sql` on `client`, preparing it the first time. Use one cache
    /// per connection: a statement belongs to the connection that prepared it.
    ///
    /// # Errors
    /// The server's error preparing it.
    pub fn get(
        &self,
        client: &mut impl postgres::GenericClient,
        sql: &str,
    ) -> std::result::Result<postgres::Statement, postgres::Error> {
        let cached = self
            .prepared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(sql)
            .cloned();
        if let Some(statement) = cached {
            return Ok(statement);
        }
        let statement = client.prepare(sql)?;
        self.prepared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(sql.to_string(), statement.clone());
        Ok(statement)
    }
}

/// A transaction whose queries are prepared once per connection ([`StatementCache`]): what the
/// write paths use, where each write runs a dozen small statements.
pub struct PreparedTransaction<'c, 't> {
    transaction: &'c mut postgres::Transaction<'t>,
    cache: &'c StatementCache,
}

type Params<'p> = &'p [&'p (dyn postgres::types::ToSql + Sync)];

impl<'c, 't> PreparedTransaction<'c, 't> {
    /// `transaction`, with the statements of `cache` (the connection's).
    pub fn new(transaction: &'c mut postgres::Transaction<'t>, cache: &'c StatementCache) -> Self {
        PreparedTransaction { transaction, cache }
    }

    /// The rows `sql` answers.
    ///
    /// # Errors
    /// The server's error.
    pub fn query(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> std::result::Result<Vec<postgres::Row>, postgres::Error> {
        let statement = self.cache.get(self.transaction, sql)?;
        self.transaction.query(&statement, params)
    }

    /// The one row `sql` answers, if any.
    ///
    /// # Errors
    /// The server's error, or more than one row.
    pub fn query_opt(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> std::result::Result<Option<postgres::Row>, postgres::Error> {
        let statement = self.cache.get(self.transaction, sql)?;
        self.transaction.query_opt(&statement, params)
    }

    /// The one row `sql` answers.
    ///
    /// # Errors
    /// The server's error, or not exactly one row.
    pub fn query_one(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> std::result::Result<postgres::Row, postgres::Error> {
        let statement = self.cache.get(self.transaction, sql)?;
        self.transaction.query_one(&statement, params)
    }

    /// Runs `sql`; the number of rows it changed.
    ///
    /// # Errors
    /// The server's error.
    pub fn execute(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> std::result::Result<u64, postgres::Error> {
        let statement = self.cache.get(self.transaction, sql)?;
        self.transaction.execute(&statement, params)
    }

    /// Runs `work` in a savepoint: what it wrote is kept when it returns `Ok`, rolled back when
    /// it returns `Err`, and the transaction goes on either way (so one of several writes
    /// sharing a transaction can be refused alone). The outer error is the server's, from
    /// making, releasing or rolling back the savepoint.
    ///
    /// # Errors
    /// The server's error.
    pub fn savepoint<T, E>(
        &mut self,
        work: impl FnOnce(&mut PreparedTransaction<'_, '_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<std::result::Result<T, E>, postgres::Error> {
        let mut nested = self.transaction.transaction()?;
        let result = work(&mut PreparedTransaction::new(&mut nested, self.cache));
        match result {
            Ok(value) => {
                nested.commit()?;
                Ok(Ok(value))
            }
            Err(error) => {
                nested.rollback()?;
                Ok(Err(error))
            }
        }
    }
}

/// A transaction holding the advisory lock `key` until it ends: how every modelprov writer on
/// PostgreSQL serialises with the others of its kind.
pub fn locked_transaction(
    client: &mut Client,
    key: i64,
) -> std::result::Result<postgres::Transaction<'_>, postgres::Error> {
    let mut transaction = client.transaction()?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&key])?;
    Ok(transaction)
}

/// Brings `component`'s tables to version `migrations.len()`: entry N of `migrations` takes
/// them from version N to N+1. A database already there is only read, so a role that owns
/// nothing and may only read and write rows (a server's, docs/registry.md) connects to it.
///
/// # Errors
/// [`Error::InvalidInput`] for a database whose version of the component is newer than this
/// build's, or that this role may not read or (when it is behind) migrate; [`Error::Database`]
/// when a statement fails otherwise. Nothing is changed then.
pub fn migrate(
    client: &mut Client,
    location: &Path,
    component: &str,
    migrations: &[&str],
) -> Result<()> {
    // A refused privilege is the role's setup, not a failing database: said as what to do.
    let failed = |e: postgres::Error, denied: &str| {
        if e.code() == Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE) {
            Error::invalid_because(location, denied, PostgresError(e))
        } else {
            Error::database(location, "cannot prepare the schema", PostgresError(e))
        }
    };
    let db = |e| {
        failed(
            e,
            "this role may not read the tables: their owner grants it access",
        )
    };
    let known = i32::try_from(migrations.len()).expect("a handful of migrations");
    let mut transaction = locked_transaction(client, MIGRATION_LOCK).map_err(db)?;
    // (Two queries: a missing table in the second would fail it at parse time.)
    let versioned: bool = transaction
        .query_one("SELECT to_regclass('modelprov_schema') IS NOT NULL", &[])
        .map_err(db)?
        .try_get(0)
        .map_err(db)?;
    let version: i32 = if versioned {
        transaction
            .query_opt(
                "SELECT version FROM modelprov_schema WHERE component = $1",
                &[&component],
            )
            .map_err(db)?
            .map(|row| row.try_get(0))
            .transpose()
            .map_err(db)?
            .unwrap_or(0)
    } else {
        0
    };
    if version == known {
        return transaction.commit().map_err(db);
    }
    if version > known {
        return Err(Error::invalid(
            location,
            format!(
                "the database has {component} schema version {version}, newer than this modelprov understands ({known}); upgrade modelprov"
            ),
        ));
    }
    // The schema is behind: only a role that may create and alter tables can bring it up.
    let behind = format!(
        "the {component} schema is at version {version} and this build needs {known}, but this role may not change the tables: migrate them as their owner"
    );
    let change = |e| failed(e, &behind);
    transaction
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS modelprov_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL CHECK (version >= 0))",
        )
        .map_err(change)?;
    let pending = usize::try_from(version).map_or(&[][..], |done| &migrations[done..]);
    for migration in pending {
        transaction.batch_execute(migration).map_err(change)?;
    }
    transaction
        .execute(
            "INSERT INTO modelprov_schema (component, version) VALUES ($1, $2) ON CONFLICT (component) DO UPDATE SET version = excluded.version",
            &[&component, &known],
        )
        .map_err(db)?;
    transaction.commit().map_err(db)
}

/// `postgres://user@host:port/dbname`, never the password.
fn location(config: &Config) -> PathBuf {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        Some(Host::Unix(folder)) => folder.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let dbname = config.get_dbname().unwrap_or("");
    PathBuf::from(format!("postgres://{user}{host}:{port}/{dbname}"))
}

/// A URL as it may be shown: anything between `://` and `@` (user and password) left out.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://...@{}", &url[..scheme], &url[at + 1..])
        }
        _ if url.contains("password") => "(a connection string with a password)".into(),
        _ => url.to_string(),
    }
}
