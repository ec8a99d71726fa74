//! `modelprov serve` as a team runs it: on its own PostgreSQL database, over HTTP on loopback,
//! stopped with SIGTERM. The admin token file, the API's answers and errors, its OpenAPI
//! document, and what a restart keeps.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use super::registry_support::{
    POLICY, Server, TestDatabase, agent, as_user, call, server_role_url, token_file,
};

#[test]
fn a_team_starts_the_server_creates_a_namespace_and_a_token_and_restarts_it() {
    use std::os::unix::fs::PermissionsExt as _;
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let file = token_file(dir.path());
    // The quick start: the server connects as the tables' owner (and migrates them).
    let server = Server::start_as_owner(&database, &file);
    let admin = std::fs::read_to_string(&file).unwrap();
    let admin = admin.trim();
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    assert_eq!(
        call("GET", &server.url("/v1/health"), None, None),
        (200, json!({"status": "ok"}))
    );
    assert_eq!(
        call("GET", &server.url("/v1/ready"), None, None),
        (200, json!({"status": "ready"}))
    );

    let namespaces = server.url("/v1/namespaces");
    let new = json!({"name": "vision", "policy": POLICY});
    let (status, body) = call("POST", &namespaces, None, Some(&new));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    let (status, body) = call("POST", &namespaces, Some(admin), Some(&new));
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["name"], "vision");
    let (status, body) = call("POST", &namespaces, Some(admin), Some(&new));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("conflict"))
    );

    let tokens = server.url("/v1/namespaces/vision/tokens");
    let (status, body) = call(
        "POST",
        &tokens,
        Some(admin),
        Some(&json!({"role": "publisher", "label": "ci"})),
    );
    assert_eq!(status, 201, "{body}");
    let publisher = body["secret"].as_str().unwrap().to_string();
    let publisher_id = body["token"]["id"].as_i64().unwrap();
    // A publisher reads its namespace but may not make tokens; nobody reads it without one.
    let vision = server.url("/v1/namespaces/vision");
    assert_eq!(call("GET", &vision, Some(&publisher), None).0, 200);
    assert_eq!(call("GET", &vision, None, None).0, 401);
    let (status, body) = call(
        "POST",
        &tokens,
        Some(&publisher),
        Some(&json!({"role": "admin"})),
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    // Revoked, it opens nothing.
    let revoke = server.url(&format!("/v1/tokens/{publisher_id}"));
    assert_eq!(call("DELETE", &revoke, Some(admin), None).0, 200);
    let (status, body) = call("GET", &vision, Some(&publisher), None);
    assert_eq!(
        (status, body["error"]["message"].as_str()),
        (
            401,
            Some(format!("token {publisher_id} was revoked").as_str())
        )
    );

    // The audit log over HTTP: every write, in order, canonical bytes included.
    let (status, body) = call("GET", &server.url("/v1/audit?limit=10"), Some(admin), None);
    assert_eq!(status, 200);
    let actions: Vec<&str> = body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "token.create",
            "namespace.create",
            "token.create",
            "token.revoke"
        ]
    );
    assert_eq!(body["next"], 4);
    let (_, page) = call("GET", &server.url("/v1/audit?after=4"), Some(admin), None);
    assert_eq!(page, json!({"entries": [], "next": null}));

    // SIGTERM: a clean exit.
    assert!(server.stop().success());
    // Started again, now as a role that owns nothing (the tables' owner granted it what the
    // server needs), it reads the same admin token file and changes no byte of it.
    let before = std::fs::read(&file).unwrap();
    let server = Server::start(&database, &file);
    assert_eq!(std::fs::read(&file).unwrap(), before);
    let vision = server.url("/v1/namespaces/vision");
    assert_eq!(call("GET", &vision, Some(admin), None).0, 200);
    drop(server);
}

#[test]
fn errors_are_json_with_stable_codes_and_bodies_are_bounded() {
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&database, &token_file(dir.path()));
    let admin = std::fs::read_to_string(token_file(dir.path())).unwrap();
    let admin = admin.trim();
    let namespaces = server.url("/v1/namespaces");
    let cases: Vec<(&str, String, Option<Value>, u16, &str)> = vec![
        (
            "GET",
            server.url("/v1/nothing-here"),
            None,
            404,
            "not_found",
        ),
        (
            "GET",
            server.url("/v1/namespaces/..%2fetc"),
            None,
            422,
            "invalid",
        ),
        (
            "GET",
            server.url("/v1/namespaces/Robert%27%29%3B%20DROP%20TABLE%20x%3B--"),
            None,
            422,
            "invalid",
        ),
        (
            "GET",
            server.url(&format!("/v1/namespaces/{}", "n".repeat(10_000))),
            None,
            422,
            "invalid",
        ),
        (
            "GET",
            server.url("/v1/namespaces/absent"),
            None,
            404,
            "not_found",
        ),
        (
            "POST",
            namespaces.clone(),
            Some(json!({"name": "x"})),
            422,
            "invalid",
        ),
        (
            "POST",
            namespaces.clone(),
            Some(json!({"name": "x", "policy": POLICY, "extra": 1})),
            422,
            "invalid",
        ),
        (
            "POST",
            namespaces.clone(),
            Some(json!({"name": "a\u{0}b", "policy": POLICY})),
            422,
            "invalid",
        ),
        (
            "POST",
            namespaces.clone(),
            Some(json!({"name": "big", "policy": "#".repeat(300_000)})),
            413,
            "too_large",
        ),
        (
            "DELETE",
            server.url("/v1/tokens/not-a-number"),
            None,
            400,
            "invalid",
        ),
        (
            "DELETE",
            server.url("/v1/tokens/987654"),
            None,
            404,
            "not_found",
        ),
        (
            "GET",
            server.url("/v1/audit?limit=ten"),
            None,
            400,
            "invalid",
        ),
    ];
    for (method, url, body, status, code) in cases {
        let (got, answer) = call(method, &url, Some(admin), body.as_ref());
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{method} {url:.80}: {answer}"
        );
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty() && m.len() < 1000)
        );
    }
    // A header that is not a bearer token.
    let mut response = agent()
        .get(&server.url("/v1/namespaces/absent"))
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert!(
        response
            .body_mut()
            .read_to_string()
            .unwrap()
            .contains("Bearer")
    );
}

#[test]
fn the_openapi_document_is_the_repositorys_and_names_every_endpoint() {
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&database, &token_file(dir.path()));
    let (status, served) = call("GET", &server.url("/v1/openapi.json"), None, None);
    assert_eq!(status, 200);
    let kept: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../modelprov-registry/openapi.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(served, kept);
    assert_eq!(served["openapi"], "3.1.0");
    for (path, method) in [
        ("/v1/health", "get"),
        ("/v1/ready", "get"),
        ("/v1/openapi.json", "get"),
        ("/v1/namespaces", "post"),
        ("/v1/namespaces/{namespace}", "get"),
        ("/v1/namespaces/{namespace}/tokens", "post"),
        ("/v1/tokens/{id}", "delete"),
        ("/v1/audit", "get"),
        ("/v1/publish", "post"),
        ("/v1/yank", "post"),
        ("/v1/models", "get"),
        ("/v1/digests/{digest}", "get"),
        ("/v1/statements/{id}", "get"),
        ("/v1/lineage/records", "get"),
        ("/v1/lineage/graph", "get"),
        ("/v1/lineage/manifests/{digest}", "get"),
        ("/v1/lineage/manifests/{digest}", "put"),
    ] {
        assert!(served["paths"][path][method].is_object(), "{method} {path}");
    }
    assert_eq!(
        served["paths"].as_object().unwrap().len(),
        16,
        "an endpoint the tests do not know"
    );
}

#[test]
fn an_admin_token_file_that_is_not_this_registrys_is_refused_and_kept() {
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let file = token_file(dir.path());
    for content in [
        "not a token\n",
        "mprv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
    ] {
        std::fs::write(&file, content).unwrap();
        let output = Command::new(assert_cmd::cargo::cargo_bin("modelprov"))
            .args(["serve", "--listen", "127.0.0.1:0", "--database"])
            .arg(database.url())
            .arg("--admin-token-file")
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("admin.token"), "{stderr}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), content);
    }
    // And a database that is not PostgreSQL is refused before anything is made.
    let output = Command::new(assert_cmd::cargo::cargo_bin("modelprov"))
        .args([
            "serve",
            "--database",
            "sqlite:/tmp/x.sqlite",
            "--admin-token-file",
        ])
        .arg(dir.path().join("never.token"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(!dir.path().join("never.token").exists());
}

#[test]
fn a_server_role_that_owns_nothing_cannot_undo_what_was_published() {
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&database, &token_file(dir.path()));
    let admin = std::fs::read_to_string(token_file(dir.path())).unwrap();
    let new = json!({"name": "vision", "policy": POLICY});
    let (status, body) = call(
        "POST",
        &server.url("/v1/namespaces"),
        Some(admin.trim()),
        Some(&new),
    );
    assert_eq!(status, 201, "{body}");
    drop(server);

    // Someone holding the server's credentials, at the database directly: neither the rows
    // nor the triggers that guard them can be touched. Refused by the permissions ("permission
    // denied", "must be owner"), not only by the triggers (whose message says "append-only").
    let url = server_role_url(&database);
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    for sql in [
        "UPDATE registry_audit SET action = 'forged'",
        "DELETE FROM registry_audit",
        "TRUNCATE registry_audit",
        "DELETE FROM registry_namespaces",
        "UPDATE registry_tokens SET role = 'admin'",
        "ALTER TABLE registry_audit DISABLE TRIGGER ALL",
        "DROP TRIGGER registry_audit_no_change ON registry_audit",
        "DROP TABLE registry_statements",
        "UPDATE lineage_records SET statement = ''",
        "UPDATE modelprov_schema SET version = 0",
    ] {
        let error = client.batch_execute(sql).expect_err(sql);
        let message = error
            .as_db_error()
            .map_or_else(|| error.to_string(), |e| e.message().to_string());
        assert!(
            message.contains("permission denied") || message.contains("must be owner"),
            "{sql}: {message}"
        );
    }
    assert_eq!(
        database.count("SELECT count(*) FROM registry_audit"),
        2,
        "the admin token and the namespace"
    );

    // A role that was granted nothing cannot migrate a new database: the server says why.
    let fresh = TestDatabase::create();
    let role_url = as_user(&fresh.url(), &database.server_role());
    let token = dir.path().join("fresh.token");
    let token = token.to_str().unwrap();
    let on_fresh = ["--listen", "127.0.0.1:0", "--admin-token-file", token];
    let stderr = refused(dir.path(), &role_url, &on_fresh);
    assert!(
        stderr.contains("this role may not change the tables")
            && stderr.contains("permission denied for schema"),
        "{stderr}"
    );
    assert!(!dir.path().join("fresh.token").exists());

    // A busy address: refused before anything is made (this panicked once: the connection was
    // dropped on the runtime's threads).
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = busy.local_addr().unwrap().to_string();
    let stderr = refused(
        dir.path(),
        &fresh.url(),
        &["--listen", &busy, "--admin-token-file", "busy.token"],
    );
    assert!(stderr.contains("cannot listen on"), "{stderr}");
    assert!(!dir.path().join("busy.token").exists());

    // `fresh` is migrated now, but the role was granted nothing there: it says so.
    let stderr = refused(dir.path(), &role_url, &on_fresh);
    assert!(
        stderr.contains("this role may not read the tables: their owner grants it access"),
        "{stderr}"
    );

    // Refused: a role that does not exist, --grant-to without --migrate-only, and --migrate-only
    // with an option only a server takes.
    for (args, expected) in [
        (
            vec!["--migrate-only", "--grant-to", "no_such_role_here"],
            "there is no database role",
        ),
        (
            vec!["--grant-to", "x", "--admin-token-file", "t"],
            "--grant-to goes with --migrate-only",
        ),
        (
            vec!["--migrate-only", "--connections", "4"],
            "cannot be used with",
        ),
    ] {
        let stderr = refused(dir.path(), &fresh.url(), &args);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

/// `modelprov serve --database URL args...` in `dir`, which must exit 2; its stderr.
fn refused(dir: &Path, url: &str, args: &[&str]) -> String {
    let output = Command::new(assert_cmd::cargo::cargo_bin("modelprov"))
        .args(["serve", "--database", url])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    stderr
}
