//! The registry server when things go wrong: killed with SIGKILL while 32 clients publish, and
//! its database going away under load. What it acknowledged must be there afterwards, nothing
//! half-written; while the database is away requests fail fast with 503, and the server serves
//! again, without a restart, when it is back.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::registry_cluster::PrivateCluster;
use super::registry_publish::{keys_and_policy, modelprov, sign, write_model};
use super::registry_support::{Server, TestDatabase, call, token_file};

/// A namespace `team` trusting `ml.key`, a publisher token, and a signed model: what the load
/// publishes, under a new version each time.
fn prepared(dir: &std::path::Path, server: &Server) -> (String, String) {
    let admin = std::fs::read_to_string(token_file(dir)).unwrap();
    keys_and_policy(dir);
    let policy = std::fs::read_to_string(dir.join("team.toml")).unwrap();
    let (status, body) = call(
        "POST",
        &server.url("/v1/namespaces"),
        Some(admin.trim()),
        Some(&json!({"name": "team", "policy": policy})),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = call(
        "POST",
        &server.url("/v1/namespaces/team/tokens"),
        Some(admin.trim()),
        Some(&json!({"role": "publisher"})),
    );
    assert_eq!(status, 201, "{body}");
    let model = write_model(dir, "load");
    sign(dir, &model, "ml.key", "model.sig", None);
    let bundle = std::fs::read_to_string(dir.join("model.sig")).unwrap();
    (body["secret"].as_str().unwrap().to_string(), bundle)
}

fn publication(version: &str, bundle: &str) -> Value {
    json!({"publications": [{"name": "team/m", "version": version, "statements": [bundle]}]})
}

/// Every version of `team/m` the server lists.
fn listed(server: &Server, token: &str) -> BTreeSet<String> {
    let (status, body) = call(
        "GET",
        &server.url("/v1/models?name=team/m"),
        Some(token),
        None,
    );
    assert_eq!(status, 200, "{body}");
    body["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn what_the_server_acknowledged_survives_sigkill_during_32_writers() {
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let server = Server::start_with(&database, &token_file(dir), &["--connections", "8"]);
    let (token, bundle) = prepared(dir, &server);
    let base = server.base.clone();
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let writers: Vec<_> = (0..32)
        .map(|writer| {
            let (base, token, bundle) = (base.clone(), token.clone(), bundle.clone());
            let acknowledged = Arc::clone(&acknowledged);
            std::thread::spawn(move || {
                for n in 0.. {
                    let version = format!("{writer}.{n}");
                    let url = format!("{base}/v1/publish");
                    // Once the server is gone, requests fail to connect: the writer stops.
                    let Some((status, _)) = try_call(&url, &token, &publication(&version, &bundle))
                    else {
                        return;
                    };
                    if status == 201 {
                        acknowledged.lock().unwrap().insert(version);
                    }
                }
            })
        })
        .collect();
    // Let the writers get going, then kill the server mid-flight.
    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < 200 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill();
    for writer in writers {
        writer.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 200,
        "only {} writes",
        acknowledged.len()
    );

    // Restarted on the same database: every acknowledged version is there, each with its
    // statement and its audit entry, and the audit log has no gap.
    let server = Server::start(&database, &token_file(dir));
    let admin = std::fs::read_to_string(token_file(dir)).unwrap();
    let stored = listed(&server, admin.trim());
    let missing: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    let (status, log) = call(
        "GET",
        &server.url("/v1/audit?namespace=team&limit=1000"),
        Some(admin.trim()),
        None,
    );
    assert_eq!(status, 200);
    let mut publishes = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "publish")
        .count();
    let mut after = log["next"].as_i64().unwrap();
    loop {
        let (_, page) = call(
            "GET",
            &server.url(&format!(
                "/v1/audit?namespace=team&limit=1000&after={after}"
            )),
            Some(admin.trim()),
            None,
        );
        let entries = page["entries"].as_array().unwrap();
        if entries.is_empty() {
            break;
        }
        publishes += entries.iter().filter(|e| e["action"] == "publish").count();
        after = page["next"].as_i64().unwrap();
    }
    assert_eq!(publishes, stored.len(), "a version without its audit entry");
    let statements = database.count("SELECT count(*) FROM registry_statements");
    assert_eq!(statements, i64::try_from(stored.len()).unwrap());
    let gaps = database.count("SELECT max(seq) - count(*) FROM registry_audit");
    assert_eq!(gaps, 0);
    assert!(server.stop().success());
}

#[test]
fn while_the_database_is_away_requests_fail_fast_and_then_it_serves_again() {
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let server = Server::start_with(&database, &token_file(dir), &["--connections", "4"]);
    let (token, bundle) = prepared(dir, &server);
    let publish = |version: &str| {
        try_call(
            &server.url("/v1/publish"),
            &token,
            &publication(version, &bundle),
        )
        .expect("the server answers")
        .0
    };
    assert_eq!(publish("before"), 201);

    // The outage: the database takes no connections and every open one is cut.
    database.server_sql(&format!(
        "ALTER DATABASE \"{0}\" ALLOW_CONNECTIONS false; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{0}' AND pid <> pg_backend_pid()",
        database.name
    ));
    for attempt in 0..5 {
        let started = Instant::now();
        let status = publish(&format!("during-{attempt}"));
        assert_eq!(status, 503, "attempt {attempt}");
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "a request hung"
        );
        let (status, _) = call("GET", &server.url("/v1/ready"), None, None);
        assert_eq!(status, 503);
    }

    // Back: the same server process serves reads and writes again.
    database.server_sql(&format!(
        "ALTER DATABASE \"{}\" ALLOW_CONNECTIONS true",
        database.name
    ));
    let started = Instant::now();
    loop {
        if call("GET", &server.url("/v1/ready"), None, None).0 == 200 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never recovered"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(publish("after"), 201);
    let versions = listed(&server, &token);
    assert_eq!(
        versions,
        ["after", "before"].map(String::from).into_iter().collect()
    );
    assert!(server.stop().success());
}

#[test]
fn postgresql_crashing_and_restarting_under_load_costs_no_acknowledged_write() {
    // A server of the test's own, so that it can be crashed without disturbing other tests.
    let cluster = PrivateCluster::start();
    let database = TestDatabase::create_at(cluster.admin_url());
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let mut server = Server::start_with(&database, &token_file(dir), &["--connections", "4"]);
    let (token, bundle) = prepared(dir, &server);

    // Eight writers publish new versions until told to stop; each answer is kept with how long
    // it took.
    let stop = Arc::new(AtomicBool::new(false));
    let answers = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let url = server.url("/v1/publish");
            let (token, bundle) = (token.clone(), bundle.clone());
            let (stop, answers) = (Arc::clone(&stop), Arc::clone(&answers));
            std::thread::spawn(move || {
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let version = format!("{writer}.{n}");
                    let started = Instant::now();
                    let answer = try_call(&url, &token, &publication(&version, &bundle));
                    let status = answer.map(|(status, _)| status);
                    answers
                        .lock()
                        .unwrap()
                        .push((version, status, started.elapsed()));
                }
            })
        })
        .collect();
    let count = |wanted: Option<u16>| {
        answers
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, status, _)| *status == wanted)
            .count()
    };
    let wait_for = |what: &str, done: &dyn Fn() -> bool| {
        let started = Instant::now();
        while !done() {
            assert!(started.elapsed() < Duration::from_secs(60), "never {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };

    wait_for("50 writes", &|| count(Some(201)) >= 50);
    cluster.crash();
    // Down: writes are answered 503, and readiness says so.
    let before_outage = count(Some(503));
    wait_for("refused during the outage", &|| {
        count(Some(503)) >= before_outage + 16
    });
    assert_eq!(call("GET", &server.url("/v1/ready"), None, None).0, 503);
    cluster.start_again();
    // Back: the same server process writes again, without a restart.
    let before_recovery = count(Some(201));
    wait_for("written after the restart", &|| {
        count(Some(201)) >= before_recovery + 50
    });
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().unwrap();
    }
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server exited"
    );

    let answers = answers.lock().unwrap().clone();
    for (version, status, took) in &answers {
        assert!(
            matches!(status, Some(201 | 503)),
            "{version}: answered {status:?}"
        );
        assert!(*took < Duration::from_secs(15), "{version}: took {took:?}");
    }
    // Every acknowledged write survived the crash, each with its audit entry, and the log has
    // no gap.
    let acknowledged: BTreeSet<String> = answers
        .iter()
        .filter(|(_, status, _)| *status == Some(201))
        .map(|(version, _, _)| version.clone())
        .collect();
    let stored = listed(&server, &token);
    let lost: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    let audited = database.count("SELECT count(*) FROM registry_audit WHERE action = 'publish'");
    assert_eq!(audited, i64::try_from(stored.len()).unwrap());
    assert_eq!(
        database.count("SELECT max(seq) - count(*) FROM registry_audit"),
        0
    );
    assert!(server.stop().success());
}

/// POSTs `body` with `token`; `None` when the server cannot be reached.
fn try_call(url: &str, token: &str, body: &Value) -> Option<(u16, Value)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut response = agent
        .post(url)
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(body)
        .ok()?;
    let status = response.status().as_u16();
    let value = response.body_mut().read_json().unwrap_or(Value::Null);
    Some((status, value))
}

#[test]
fn the_cli_names_the_server_when_it_cannot_be_reached() {
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let output = modelprov(dir.path())
        .args(["lineage", "show", "team/m@1", "--registry", &url])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&url) && stderr.contains("cannot reach the registry server"),
        "{stderr}"
    );
}
