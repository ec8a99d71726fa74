//! A database of its own on the PostgreSQL server the tests use: `MODELPROV_TEST_POSTGRES`
//! (an admin URL), else the local server with trust authentication. Shared by the library's and
//! the registry's tests (the registry includes this file by path).

use std::sync::atomic::{AtomicU32, Ordering};

/// A database of its own on the test server, dropped (with any connection left) on drop.
pub struct TestDatabase {
    admin: String,
    /// The database's name.
    pub name: String,
}

impl TestDatabase {
    /// Creates a database with a name no other test uses.
    pub fn create() -> TestDatabase {
        TestDatabase::create_at(
            std::env::var("MODELPROV_TEST_POSTGRES")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
        )
    }

    /// Creates a database with a name no other test uses on the server `admin` (a URL with the
    /// right to create databases) names.
    pub fn create_at(admin: String) -> TestDatabase {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "modelprov_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap_or_else(|e| {
            panic!("the PostgreSQL tests need a server (MODELPROV_TEST_POSTGRES={admin}): {e}")
        });
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        TestDatabase { admin, name }
    }

    /// The database's URL: the admin URL with its database name replaced.
    pub fn url(&self) -> String {
        let (server, _) = self.admin.rsplit_once('/').unwrap();
        format!("{server}/{}", self.name)
    }

    /// Runs `sql` on the database directly, as an operator (or damage) would.
    pub fn sql(&self, sql: &str) {
        self.try_sql(sql).unwrap();
    }

    /// Runs `sql` on the database directly; the server's answer.
    pub fn try_sql(&self, sql: &str) -> Result<(), postgres::Error> {
        postgres::Client::connect(&self.url(), postgres::NoTls)
            .unwrap()
            .batch_execute(sql)
    }

    #[allow(dead_code)] // the server's fault tests
    /// The one number `sql` (a `SELECT count(*) ...`) answers on the database.
    pub fn count(&self, sql: &str) -> i64 {
        postgres::Client::connect(&self.url(), postgres::NoTls)
            .unwrap()
            .query_one(sql, &[])
            .unwrap()
            .get(0)
    }

    #[allow(dead_code)] // the registry server's tests
    /// The name of the database role a registry server on this database runs as (made by the
    /// registry's tests, dropped with the database).
    pub fn server_role(&self) -> String {
        format!("{}_server", self.name)
    }

    #[allow(dead_code)] // the server's fault tests
    /// Runs `sql` on the server's admin database (to take this one offline and back).
    pub fn server_sql(&self, sql: &str) {
        postgres::Client::connect(&self.admin, postgres::NoTls)
            .unwrap()
            .batch_execute(sql)
            .unwrap();
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Ok(mut client) = postgres::Client::connect(&self.admin, postgres::NoTls) else {
            eprintln!(
                "cannot reach {} to drop test database {}",
                self.admin, self.name
            );
            return;
        };
        // One statement per message: DROP DATABASE refuses to run in the implicit transaction
        // of a multi-statement one (which, ignored, left every test database behind).
        for sql in [
            format!("ALTER DATABASE {} ALLOW_CONNECTIONS true", self.name),
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            format!("DROP ROLE IF EXISTS {}_server", self.name),
        ] {
            if let Err(e) = client.batch_execute(&sql) {
                eprintln!("{sql}: {e}");
            }
        }
    }
}
