//! Lineage registry at scale: 100,000 versions across 1,000 models with fine-tune chains, merges,
//! quantisations and distillations; bulk recording rate, `trace` of a model 1,000 generations
//! deep, `descendants` of a root with 10,000 descendants, and the registry's size on disk.
//!
//! Run: `cargo bench -p modelprov --bench lineage` (targets: trace < 50 ms, descendants < 200 ms).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use modelprov::RootDigest;
use modelprov::keys::{KeyType, PrivateKey};
use modelprov::lineage::{
    Entry, LineageRecord, Parent, Procedure, Relation, SqliteStore, Store, lineage_statement,
};
use modelprov::signing::sign_statement;

const MODELS: u32 = 1_000;
const VERSIONS: u32 = 100_000;

fn digest(model: u32, version: u32) -> RootDigest {
    let mut bytes = [0u8; 32];
    bytes[..4].copy_from_slice(&model.to_be_bytes());
    bytes[4..8].copy_from_slice(&version.to_be_bytes());
    bytes[31] = 1;
    RootDigest(bytes)
}

fn record(model: u32, version: u32, parents: Vec<Parent>) -> LineageRecord {
    LineageRecord {
        name: format!("org/model-{model}"),
        version: format!("1.{version}.0"),
        digest: digest(model, version),
        created: Some("2026-01-01T00:00:00Z".into()),
        parents,
        datasets: Vec::new(),
        procedure: Procedure {
            method: Some("SFT".into()),
            ..Procedure::default()
        },
        trainer: Some("https://ci.example/trainer".into()),
        modifications: None,
        metrics: BTreeMap::from([("accuracy".into(), 0.5 + f64::from(version % 50) / 100.0)]),
        card_digest: None,
    }
}

fn parent(model: u32, version: u32, relation: Relation) -> Parent {
    Parent {
        digest: digest(model, version),
        name: None,
        relation,
    }
}

/// The family: model 0 is one chain of 1,000 generations; models 1..=100 each have 100
/// versions and descend from model 1000's root (10,000 descendants); the rest have about 100
/// versions each. Within a model every version fine-tunes the previous; every 10th is a
/// quantisation, every 25th a distillation, and every 50th a merge with another model.
fn plan() -> Vec<LineageRecord> {
    let mut records = Vec::with_capacity(VERSIONS as usize);
    records.push(record(1000, 0, Vec::new()));
    let remaining = VERSIONS - 1 - 1_000;
    let per_model = remaining / (MODELS - 1);
    let mut extra = remaining % (MODELS - 1);
    for model in 0..MODELS {
        let count = if model == 0 {
            1_000
        } else {
            per_model
                + u32::from(
                    extra > 0 && {
                        extra -= 1;
                        true
                    },
                )
        };
        for version in 0..count {
            let mut parents = Vec::new();
            if version == 0 {
                if (1..=100).contains(&model) {
                    parents.push(parent(1000, 0, Relation::Finetune));
                }
            } else {
                let relation = match version {
                    v if v % 10 == 0 => Relation::Quantized,
                    v if v % 25 == 0 => Relation::Distilled,
                    _ => Relation::Finetune,
                };
                parents.push(parent(model, version - 1, relation));
                if version % 50 == 0 && model > 1 {
                    let other = model - 1;
                    parents[0].relation = Relation::Merge;
                    parents.push(parent(other, 0, Relation::Merge));
                }
            }
            records.push(record(model, version, parents));
        }
    }
    records
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.sqlite");
    let mut store = SqliteStore::open(&path, true).unwrap();
    let records = plan();
    assert_eq!(records.len(), VERSIONS as usize);

    let started = Instant::now();
    let entries: Vec<Entry> = records
        .into_iter()
        .map(|record| Entry {
            statement: lineage_statement(&record),
            record,
            bundle: None,
            recorded_at: "2026-01-01T00:00:00Z".into(),
        })
        .collect();
    for batch in entries.chunks(1_000) {
        store.insert(batch).unwrap();
    }
    let bulk = started.elapsed();
    println!(
        "bulk record, unsigned: {} records in {:.2} s = {:.0} records/s (batches of 1,000, one transaction each)",
        entries.len(),
        bulk.as_secs_f64(),
        entries.len() as f64 / bulk.as_secs_f64()
    );

    // Signed, one record per transaction, as `lineage record --key` does.
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let signed: Vec<Entry> = (0..2_000)
        .map(|i| record(5_000 + i, 0, Vec::new()))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|record| Entry {
            statement: lineage_statement(&record),
            record,
            bundle: None,
            recorded_at: "2026-01-01T00:00:00Z".into(),
        })
        .collect();
    let started = Instant::now();
    for mut entry in signed {
        entry.bundle = Some(
            sign_statement(&entry.statement, &key, &[])
                .unwrap()
                .to_json(),
        );
        store.insert(std::slice::from_ref(&entry)).unwrap();
    }
    let one_by_one = started.elapsed();
    println!(
        "record signed, one transaction each: 2000 records in {:.2} s = {:.0} records/s",
        one_by_one.as_secs_f64(),
        2_000.0 / one_by_one.as_secs_f64()
    );

    let deepest = digest(0, 999);
    let trace = store.ancestors(&deepest).unwrap();
    assert_eq!(trace.nodes.len(), 1_000);
    let trace_time = median(
        (0..21)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(store.ancestors(&deepest).unwrap());
                t.elapsed()
            })
            .collect(),
    );
    println!(
        "trace of a model 1,000 generations deep: {} ancestors in {:.1} ms (median of 21; target < 50 ms)",
        trace.nodes.len() - 1,
        trace_time.as_secs_f64() * 1e3
    );

    let root = digest(1000, 0);
    let below = store.descendants(&root).unwrap();
    assert!(below.nodes.len() > 10_000);
    let descendants_time = median(
        (0..11)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(store.descendants(&root).unwrap());
                t.elapsed()
            })
            .collect(),
    );
    println!(
        "descendants of a root: {} descendants in {:.1} ms (median of 11; target < 200 ms)",
        below.nodes.len() - 1,
        descendants_time.as_secs_f64() * 1e3
    );

    drop(store);
    let size = std::fs::metadata(&path).unwrap().len();
    let wal = std::fs::metadata(path.with_extension("sqlite-wal")).map_or(0, |m| m.len());
    println!(
        "registry size: {:.1} MB for {} records ({:.0} bytes per record; WAL {} bytes after close)",
        size as f64 / 1e6,
        VERSIONS + 2_000,
        size as f64 / f64::from(VERSIONS + 2_000),
        wal
    );
}
