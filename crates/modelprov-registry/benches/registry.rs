//! The team registry at scale: 1,000,000 signed lineage records (1,000 models, each a chain of
//! 1,000 generations) published through the registry's own path (every signature verified
//! against the namespace's policy) into PostgreSQL, then, with the server on loopback and
//! `wrk` (Debian) as the load:
//!
//! - `GET /v1/digests/{d}` over random digests, with a reader's token (target >= 5,000/s);
//! - signed writes: `POST /v1/publish` of new records, each verified by the server (>= 500/s);
//! - `trace` of a model 1,000 generations deep, server-side and over HTTP (< 20 ms);
//!
//! and the same data in the embedded SQLite file, read in-process, side by side, with ratios.
//!
//! Run: `cargo bench -p modelprov-registry --bench registry` (needs PostgreSQL:
//! `MODELPROV_BENCH_POSTGRES`, an admin URL, else the local server; and `wrk` on PATH).
//! `MODELPROV_BENCH_MODELS=10` publishes 10 chains instead of 1,000, for a quick look.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use modelprov::RootDigest;
use modelprov::keys::{KeyType, PrivateKey};
use modelprov::lineage::{
    Entry, LineageRecord, Parent, Procedure, Relation, SqliteStore, Store, lineage_statement,
};
use modelprov::signing::sign_statement;
use modelprov::trust_policy::TrustPolicy;
use modelprov_registry::{Publication, Registry, Role, ServeOptions};
use rayon::prelude::*;

const GENERATIONS: u32 = 1_000;
const WRK_SECONDS: &str = "10";

fn digest(model: u32, generation: u32) -> RootDigest {
    let mut bytes = [0u8; 32];
    bytes[..4].copy_from_slice(&model.to_be_bytes());
    bytes[4..8].copy_from_slice(&generation.to_be_bytes());
    bytes[31] = 1;
    RootDigest(bytes)
}

/// Generation `generation` of model `model`: fine-tuned from the one before.
fn record(model: u32, generation: u32) -> LineageRecord {
    let parents = if generation == 0 {
        Vec::new()
    } else {
        vec![Parent {
            digest: digest(model, generation - 1),
            name: None,
            relation: Relation::ALL[0],
        }]
    };
    LineageRecord {
        name: format!("bench/model-{model}"),
        version: format!("1.{generation}.0"),
        digest: digest(model, generation),
        created: Some("2026-01-01T00:00:00Z".into()),
        parents,
        datasets: Vec::new(),
        procedure: Procedure {
            method: Some("SFT".into()),
            ..Procedure::default()
        },
        trainer: Some("https://ci.example/trainer".into()),
        modifications: None,
        metrics: BTreeMap::from([("accuracy".into(), 0.5)]),
        card_digest: None,
    }
}

/// A model's chain, signed: the entries (for SQLite) and the publications (for the server).
fn signed_chain(model: u32, key: &PrivateKey) -> (Vec<Entry>, Vec<Publication>) {
    (0..GENERATIONS)
        .into_par_iter()
        .map(|generation| {
            let record = record(model, generation);
            let statement = lineage_statement(&record);
            let bundle = sign_statement(&statement, key, &[])
                .unwrap()
                .to_json_string();
            let publication = Publication {
                name: record.name.clone(),
                version: record.version.clone(),
                bundles: vec![bundle.clone()],
            };
            let entry = Entry {
                record,
                statement,
                bundle: Some(bundle.into_bytes()),
                recorded_at: "2026-01-01T00:00:00Z".into(),
            };
            (entry, publication)
        })
        .unzip()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// `wrk` with `script` for 10 s: requests per second, p99 latency, and the non-2xx count.
fn wrk(url: &str, script: &std::path::Path, connections: &str) -> (f64, String, u64) {
    let output = Command::new("wrk")
        .args([
            "-t",
            "2",
            "-c",
            connections,
            "-d",
            WRK_SECONDS,
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(url)
        .output()
        .expect("wrk on PATH (apt-get install wrk)");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let rate = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no rate in wrk's output:\n{text}"));
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .map_or_else(|| "?".into(), |v| v.trim().to_string());
    let non_2xx = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    (rate, p99, non_2xx)
}

#[allow(clippy::too_many_lines)] // one run, in order
fn main() {
    let models: u32 = std::env::var("MODELPROV_BENCH_MODELS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let admin_url = std::env::var("MODELPROV_BENCH_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = "modelprov_bench";
    let mut admin_db = postgres::Client::connect(&admin_url, postgres::NoTls).unwrap();
    for sql in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        admin_db.batch_execute(&sql).unwrap();
    }
    let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
    let work = tempfile::tempdir().unwrap();

    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let policy = TrustPolicy::of_keys(vec![key.public_key()]).to_toml();
    let registry = Registry::connect(&url).unwrap();
    let admin_secret = registry.create_admin_token("bench").unwrap();
    let admin = registry
        .authenticate(Some(admin_secret.expose()))
        .unwrap()
        .unwrap();
    registry
        .create_namespace(Some(&admin), "bench", &policy, false)
        .unwrap();
    let (_, reader) = registry
        .create_token(Some(&admin), "bench", Role::Reader, "wrk")
        .unwrap();
    let (_, publisher) = registry
        .create_token(Some(&admin), "bench", Role::Publisher, "wrk")
        .unwrap();
    let reader_identity = registry.authenticate(Some(reader.expose())).unwrap();
    let mut sqlite = SqliteStore::open(&work.path().join("registry.sqlite"), true).unwrap();

    // Publishing: the registry's own path, a model's chain (1,000 publications) per transaction.
    let total = u64::from(models) * u64::from(GENERATIONS);
    println!("publishing {total} signed records ({models} models x {GENERATIONS} generations)");
    // Two publishers (one signs and verifies while the other writes), a model each at a time;
    // the SQLite file gets the same entries, timed apart.
    let started = Instant::now();
    // The first chain, then statistics: what autovacuum gives a new registry in its first
    // minute. Without them, a connection may plan its statements for empty tables and keep
    // scanning them as they grow (seen: every publication on one of the two publishers' connections
    // scanned lineage_edges whole).
    let (first_entries, first) = signed_chain(0, &key);
    registry.publish(Some(&admin), &first).unwrap();
    postgres::Client::connect(&url, postgres::NoTls)
        .unwrap()
        .batch_execute("ANALYZE")
        .unwrap();
    let (sender, entries_of) = std::sync::mpsc::sync_channel::<Vec<Entry>>(4);
    sender.send(first_entries).unwrap();
    let next = std::sync::atomic::AtomicU32::new(1);
    let recording = std::thread::scope(|scope| {
        for _ in 0..2 {
            let (sender, next, key, url, admin_secret) =
                (sender.clone(), &next, &key, &url, admin_secret.expose());
            scope.spawn(move || {
                let registry = Registry::connect(url).unwrap();
                let admin = registry.authenticate(Some(admin_secret)).unwrap();
                loop {
                    let model = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if model >= models {
                        return;
                    }
                    let (entries, publications) = signed_chain(model, key);
                    registry.publish(admin.as_ref(), &publications).unwrap();
                    sender.send(entries).unwrap();
                    if (model + 1) % (models / 10).max(1) == 0 {
                        println!(
                            "  {} models published, {:.0} s",
                            model + 1,
                            started.elapsed().as_secs_f64()
                        );
                    }
                }
            });
        }
        drop(sender);
        let mut recording = Duration::ZERO;
        for entries in entries_of {
            let started = Instant::now();
            sqlite.insert(&entries).unwrap();
            recording += started.elapsed();
        }
        recording
    });
    let publishing = started.elapsed();
    #[allow(clippy::cast_precision_loss)]
    let per_second = |d: Duration| total as f64 / d.as_secs_f64();
    println!(
        "published in {:.1} s ({:.0} records/s, signed and each signature verified, two publishers); SQLite file {:.1} s ({:.0}/s, none verified)",
        publishing.as_secs_f64(),
        per_second(publishing),
        recording.as_secs_f64(),
        per_second(recording)
    );
    // What an operator does after a bulk load (autovacuum would, later): fresh statistics, so
    // the planner walks lineage by index rather than scanning.
    postgres::Client::connect(&url, postgres::NoTls)
        .unwrap()
        .batch_execute("ANALYZE")
        .unwrap();
    let size: i64 = admin_db
        .query_one("SELECT pg_database_size($1)", &[&name])
        .unwrap()
        .get(0);
    println!(
        "database size {} MB; SQLite file {} MB",
        size >> 20,
        std::fs::metadata(work.path().join("registry.sqlite"))
            .unwrap()
            .len()
            >> 20
    );

    // Trace of a model 1,000 generations deep: server-side (the handler's work), over HTTP,
    // and from the SQLite file.
    let tip = digest(0, GENERATIONS - 1);
    let server_side = median(
        (0..21)
            .map(|_| {
                let started = Instant::now();
                let graph = registry
                    .lineage_graph(reader_identity.as_ref(), &tip, true)
                    .unwrap();
                assert_eq!(graph.nodes.len(), GENERATIONS as usize);
                started.elapsed()
            })
            .collect(),
    );
    let file = median(
        (0..21)
            .map(|_| {
                let started = Instant::now();
                let graph = sqlite.ancestors(&tip).unwrap();
                assert_eq!(graph.nodes.len(), GENERATIONS as usize);
                started.elapsed()
            })
            .collect(),
    );

    // The server, on loopback.
    let (tx, rx) = std::sync::mpsc::channel();
    let options = ServeOptions {
        database: url.clone(),
        listen: "127.0.0.1:0".parse().unwrap(),
        admin_token_file: work.path().join("admin.token"),
        connections: 16,
        tls: None,
        header_timeout: modelprov_registry::DEFAULT_HEADER_TIMEOUT,
    };
    std::thread::spawn(move || {
        modelprov_registry::serve(&options, |address, _| tx.send(address).unwrap()).unwrap();
    });
    let address = rx.recv().unwrap();
    let base = format!("http://{address}");
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    let over_http = median(
        (0..21)
            .map(|_| {
                let started = Instant::now();
                agent
                    .get(&format!(
                        "{base}/v1/lineage/graph?digest={tip}&direction=ancestors"
                    ))
                    .header("Authorization", &format!("Bearer {}", reader.expose()))
                    .call()
                    .unwrap()
                    .body_mut()
                    .read_to_string()
                    .unwrap();
                started.elapsed()
            })
            .collect(),
    );

    // GET /v1/digests/{d}: 10,000 random digests of the million, a reader's token.
    let mut lines = String::new();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut picks = Vec::new();
    for _ in 0..10_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        #[allow(clippy::cast_possible_truncation)]
        let (model, generation) = (
            (state % u64::from(models)) as u32,
            ((state >> 32) % u64::from(GENERATIONS)) as u32,
        );
        picks.push(digest(model, generation));
        lines.push_str(&format!("{}\n", digest(model, generation)));
    }
    std::fs::write(work.path().join("digests.txt"), lines).unwrap();
    let get_script = work.path().join("get.lua");
    std::fs::write(
        &get_script,
        format!(
            r#"local digests = {{}}
for line in io.lines("{}") do digests[#digests + 1] = line end
local n = 0
wrk.headers["Authorization"] = "Bearer {}"
request = function()
  n = n + 1
  return wrk.format("GET", "/v1/digests/" .. digests[(n % #digests) + 1])
end
"#,
            work.path().join("digests.txt").display(),
            reader.expose()
        ),
    )
    .unwrap();
    let (get_rate, get_p99, get_errors) = wrk(&base, &get_script, "64");
    assert_eq!(get_errors, 0, "GET answers that were not 200");
    // The same lookups from the SQLite file, in-process (no HTTP, no auth, no statements).
    let started = Instant::now();
    for digest in &picks {
        assert!(sqlite.by_digest(digest).unwrap().is_some());
    }
    #[allow(clippy::cast_precision_loss)]
    let sqlite_rate = picks.len() as f64 / started.elapsed().as_secs_f64();

    // Signed writes: new records (a chain per model), each verified by the server.
    let write_models = 30;
    let mut bodies = String::new();
    for model in 0..write_models {
        let (_, publications) = signed_chain(1_000_000 + model, &key);
        for p in publications {
            let body = serde_json::json!({"publications": [{
                "name": p.name, "version": p.version, "statements": p.bundles,
            }]});
            bodies.push_str(&body.to_string());
            bodies.push('\n');
        }
    }
    std::fs::write(work.path().join("bodies.txt"), bodies).unwrap();
    let post_script = work.path().join("post.lua");
    // Each connection thread takes every other body: no body is sent twice until all are.
    std::fs::write(
        &post_script,
        format!(
            r#"local bodies = {{}}
for line in io.lines("{}") do bodies[#bodies + 1] = line end
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {}"
local id = 0
setup = function(thread) id = id + 1; thread:set("offset", id) end
request = function()
  n = n + 1
  local i = ((n * 2 + offset) % #bodies) + 1
  return wrk.format(nil, "/v1/publish", nil, bodies[i])
end
"#,
            work.path().join("bodies.txt").display(),
            publisher.expose()
        ),
    )
    .unwrap();
    let count = |db: &mut postgres::Client| -> i64 {
        db.query_one("SELECT count(*) FROM registry_versions", &[])
            .unwrap()
            .get(0)
    };
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let before = count(&mut db);
    let started = Instant::now();
    let (post_rate, post_p99, post_errors) = wrk(&base, &post_script, "32");
    let elapsed = started.elapsed();
    #[allow(clippy::cast_precision_loss)]
    let written = (count(&mut db) - before) as f64 / elapsed.as_secs_f64();

    println!();
    println!(
        "GET /v1/digests/{{d}}     {get_rate:>9.0} requests/s  p99 {get_p99:<9} (target >= 5000/s: {}); SQLite file by_digest in-process {sqlite_rate:.0}/s: ratio server/file {:.2}",
        verdict(get_rate >= 5000.0),
        get_rate / sqlite_rate
    );
    println!(
        "POST /v1/publish         {post_rate:>9.0} requests/s  p99 {post_p99:<9} ({written:.0} new versions/s stored, {post_errors} not 201; target >= 500/s: {})",
        verdict(written >= 500.0 && post_errors == 0)
    );
    println!(
        "trace, 1,000 generations  server-side {:.2} ms, over HTTP {:.2} ms (target < 20 ms: {}); SQLite file {:.2} ms: ratio {:.2}",
        server_side.as_secs_f64() * 1000.0,
        over_http.as_secs_f64() * 1000.0,
        verdict(server_side < Duration::from_millis(20)),
        file.as_secs_f64() * 1000.0,
        server_side.as_secs_f64() / file.as_secs_f64()
    );
    let _ = std::io::stdout().flush();
    drop(db);
    drop(registry);
    // The server thread ends with the process; its database goes with the next run.
}

/// How a figure stands against the issue's target, in words a reader of the output cannot miss.
fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}
