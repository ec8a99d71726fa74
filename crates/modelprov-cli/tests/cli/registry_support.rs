//! What the tests of `modelprov serve` share: a server on its own database, on loopback, and
//! requests with a token.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

// (Shared with the library's tests, whose helpers for damaging a database these do not need.)
#[path = "../../../modelprov/tests/library/common/test_database.rs"]
#[allow(dead_code)]
mod test_database;
pub use test_database::TestDatabase;

pub const POLICY: &str = "version = 1\n\n[[signer]]\nidentity = \"ml@example.com\"\nissuer = \"https://accounts.example.com\"\n";

/// A running server and its address.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    pub fn start(database: &TestDatabase, token_file: &Path) -> Server {
        Server::start_with(database, token_file, &[])
    }

    /// The server with more options (`--connections 4`, ...), deployed as docs/registry.md
    /// says: the tables migrated by their owner, the server connected as a role that owns
    /// nothing ([`server_role_url`]).
    pub fn start_with(database: &TestDatabase, token_file: &Path, options: &[&str]) -> Server {
        Server::start_at(&server_role_url(database), token_file, options)
    }

    /// The server connected as the tables' owner (the test server's admin), as a quick start
    /// runs it.
    pub fn start_as_owner(database: &TestDatabase, token_file: &Path) -> Server {
        Server::start_at(&database.url(), token_file, &[])
    }

    fn start_at(url: &str, token_file: &Path, options: &[&str]) -> Server {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("modelprov"))
            .args(["serve", "--listen", "127.0.0.1:0", "--database"])
            .arg(url)
            .arg("--admin-token-file")
            .arg(token_file)
            .args(options)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut base = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(address) = line.strip_prefix("listening on ") {
                base = Some(address.to_string());
                break;
            }
        }
        let base = base.expect("the server said where it listens");
        Server { child, base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL: the server gets no chance to finish anything.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, and the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The URL of `database` as its server's own role (`<database>_server`, dropped with the
/// database): made when missing, then `modelprov serve --migrate-only --grant-to` run as the
/// tables' owner.
pub fn server_role_url(database: &TestDatabase) -> String {
    let role = database.server_role();
    database.server_sql(&format!(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN CREATE ROLE {role} LOGIN; END IF; END $$"
    ));
    let output = Command::new(assert_cmd::cargo::cargo_bin("modelprov"))
        .args(["serve", "--migrate-only", "--grant-to", &role, "--database"])
        .arg(database.url())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    as_user(&database.url(), &role)
}

/// `url` with `user` in place of its user (and password).
pub fn as_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{user}@{host}")
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// The status and JSON body of a request with `token` (if any) and `body` (if any).
pub fn call(method: &str, url: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Value) {
    let agent = agent();
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut response = match (method, body) {
        ("GET", _) => {
            let mut request = agent.get(url);
            if let Some(auth) = &auth {
                request = request.header("Authorization", auth);
            }
            request.call()
        }
        ("PUT", Some(body)) => {
            let mut request = agent.put(url);
            if let Some(auth) = &auth {
                request = request.header("Authorization", auth);
            }
            request.send_json(body.clone())
        }
        ("DELETE", _) => {
            let mut request = agent.delete(url);
            if let Some(auth) = &auth {
                request = request.header("Authorization", auth);
            }
            request.call()
        }
        (_, body) => {
            let mut request = agent.post(url);
            if let Some(auth) = &auth {
                request = request.header("Authorization", auth);
            }
            request.send_json(body.cloned().unwrap_or(Value::Null))
        }
    }
    .unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    let value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {text}"));
    (status, value)
}

pub fn token_file(dir: &Path) -> PathBuf {
    dir.join("admin.token")
}
