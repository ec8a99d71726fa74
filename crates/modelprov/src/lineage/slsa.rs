//! A lineage record as an in-toto Statement with the SLSA Provenance v1 predicate
//! (docs/lineage.md). The subject is the model digest; parents and datasets are
//! `resolvedDependencies` with their digests; the procedure is `externalParameters`; the trainer is
//! `builder.id`. SLSA has no field for how a model derives from a parent, so each parent carries an
//! annotation `relation`.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize as _;
use serde_json::{Map, Value, json};

use super::record::{Dataset, LineageRecord, Parent, Procedure, Relation, canonical_sha256};
use crate::attest::STATEMENT_TYPE;
use crate::digest::RootDigest;
use crate::error::Problem;

/// The predicate type of SLSA Provenance v1, the predicate of every lineage Statement.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// Our build type: the schema of `externalParameters` and the annotations.
pub const LINEAGE_BUILD_TYPE: &str = "https://modelprov.dev/lineage/v1";
/// `builder.id` is required by SLSA; this stands for a record that names no trainer.
const NO_TRAINER: &str = "urn:modelprov:trainer:unspecified";

/// The Statement for `record` (compact JSON, keys in a fixed order): the bytes that get signed
/// and stored.
pub fn lineage_statement(record: &LineageRecord) -> Vec<u8> {
    let mut dependencies: Vec<Value> = record
        .parents
        .iter()
        .map(|parent| {
            let mut dependency = Map::new();
            if let Some(name) = &parent.name {
                dependency.insert("name".into(), json!(name));
            }
            dependency.insert("digest".into(), json!({"sha256": parent.digest.hex()}));
            dependency.insert(
                "annotations".into(),
                json!({"kind": "model", "relation": parent.relation.as_str()}),
            );
            Value::Object(dependency)
        })
        .collect();
    dependencies.extend(record.datasets.iter().map(|dataset| {
        let mut dependency = Map::new();
        dependency.insert("name".into(), json!(dataset.name));
        if let Some(uri) = &dataset.uri {
            dependency.insert("uri".into(), json!(uri));
        }
        if let Some(digest) = &dataset.digest {
            dependency.insert("digest".into(), json!({"sha256": digest.hex()}));
        }
        let mut annotations = Map::from_iter([("kind".to_string(), json!("dataset"))]);
        if let Some(version) = &dataset.version {
            annotations.insert("version".into(), json!(version));
        }
        if let Some(size) = &dataset.size {
            annotations.insert("size".into(), json!(size));
        }
        dependency.insert("annotations".into(), Value::Object(annotations));
        Value::Object(dependency)
    }));
    let mut external = Map::new();
    external.insert("name".into(), json!(record.name));
    external.insert("version".into(), json!(record.version));
    if !record.procedure.is_empty() {
        external.insert("procedure".into(), json!(record.procedure));
    }
    if let Some(modifications) = &record.modifications {
        external.insert("modifications".into(), json!(modifications));
    }
    let mut byproducts = Vec::new();
    if !record.metrics.is_empty() {
        let content = serde_json::to_vec(&record.metrics).expect("metrics serialise");
        byproducts.push(json!({"name": "metrics", "mediaType": "application/json", "content": STANDARD.encode(content)}));
    }
    if let Some(card) = &record.card_digest {
        let hex = card.strip_prefix("sha256:").unwrap_or(card);
        byproducts
            .push(json!({"name": "model-card", "digest": {"sha256": hex.to_ascii_lowercase()}}));
    }
    let mut run_details = Map::new();
    run_details.insert(
        "builder".into(),
        json!({"id": record.trainer.as_deref().unwrap_or(NO_TRAINER)}),
    );
    if let Some(created) = &record.created {
        run_details.insert("metadata".into(), json!({"finishedOn": created}));
    }
    if !byproducts.is_empty() {
        run_details.insert("byproducts".into(), Value::Array(byproducts));
    }
    let statement = json!({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": record.id(), "digest": {"sha256": record.digest.hex()}}],
        "predicateType": SLSA_PROVENANCE_V1,
        "predicate": {
            "buildDefinition": {
                "buildType": LINEAGE_BUILD_TYPE,
                "externalParameters": external,
                "resolvedDependencies": dependencies,
            },
            "runDetails": run_details,
        },
    });
    serde_json::to_vec(&statement).expect("statements serialise")
}

/// Reads a lineage Statement back into its record.
pub fn parse_lineage_statement(payload: &[u8]) -> Result<LineageRecord, Problem> {
    let statement: Value = serde_json::from_slice(payload)
        .map_err(|e| Problem::because("the statement is not JSON", e))?;
    let text = |value: &Value, path: &[&str]| -> Result<String, String> {
        at(value, path)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("the statement has no text at /{}", path.join("/")))
    };
    if text(&statement, &["_type"])? != STATEMENT_TYPE {
        return Err("not an in-toto Statement v1".into());
    }
    if text(&statement, &["predicateType"])? != SLSA_PROVENANCE_V1 {
        return Err(
            format!("the predicate is not SLSA Provenance v1 ({SLSA_PROVENANCE_V1})").into(),
        );
    }
    if text(&statement, &["predicate", "buildDefinition", "buildType"])? != LINEAGE_BUILD_TYPE {
        return Err(format!(
            "the build type is not a modelprov lineage record ({LINEAGE_BUILD_TYPE})"
        )
        .into());
    }
    let subjects = statement["subject"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let [subject] = subjects else {
        return Err("a lineage statement has exactly one subject, the model".into());
    };
    let digest = sha256_digest(subject)?;
    let external = &statement["predicate"]["buildDefinition"]["externalParameters"];
    let procedure: Procedure = match external.get("procedure") {
        Some(value) => {
            Procedure::deserialize(value).map_err(|e| Problem::because("procedure", e))?
        }
        None => Procedure::default(),
    };
    let mut parents = Vec::new();
    let mut datasets = Vec::new();
    let dependencies = statement["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for dependency in dependencies {
        let annotation = |key: &str| {
            at(dependency, &["annotations", key])
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let name = dependency
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string);
        match annotation("kind").as_deref() {
            Some("model") => {
                let relation =
                    annotation("relation").ok_or("a parent has no relation annotation")?;
                parents.push(Parent {
                    digest: sha256_digest(dependency)?,
                    name,
                    relation: Relation::parse(&relation)
                        .ok_or_else(|| format!("unknown relation '{relation}'"))?,
                });
            }
            Some("dataset") => datasets.push(Dataset {
                name: name.ok_or("a dataset has no name")?,
                version: annotation("version"),
                digest: match dependency.get("digest") {
                    Some(_) => Some(sha256_digest(dependency)?),
                    None => None,
                },
                uri: dependency
                    .get("uri")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                size: annotation("size"),
            }),
            other => return Err(format!("a dependency of unknown kind {other:?}").into()),
        }
    }
    let run = &statement["predicate"]["runDetails"];
    let trainer = text(run, &["builder", "id"])?;
    let mut metrics = BTreeMap::new();
    let mut card_digest = None;
    for byproduct in run["byproducts"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        match byproduct.get("name").and_then(Value::as_str) {
            Some("metrics") => {
                let content = STANDARD
                    .decode(byproduct["content"].as_str().unwrap_or_default())
                    .map_err(|e| Problem::because("metrics", e))?;
                metrics =
                    serde_json::from_slice(&content).map_err(|e| Problem::because("metrics", e))?;
            }
            Some("model-card") => {
                card_digest = Some(canonical_sha256(&text(byproduct, &["digest", "sha256"])?));
            }
            _ => {}
        }
    }
    let record = LineageRecord {
        name: text(external, &["name"])?,
        version: text(external, &["version"])?,
        digest,
        created: at(run, &["metadata", "finishedOn"])
            .and_then(Value::as_str)
            .map(str::to_string),
        parents,
        datasets,
        procedure,
        trainer: (trainer != NO_TRAINER).then_some(trainer),
        modifications: external
            .get("modifications")
            .and_then(Value::as_str)
            .map(str::to_string),
        metrics,
        card_digest,
    };
    if text(subject, &["name"])? != record.id() {
        return Err("the subject's name is not the record's name@version".into());
    }
    record.check()?;
    Ok(record)
}

/// The value at `path` (object keys in turn): [`Value::pointer`] without parsing a pointer,
/// which a trace of a thousand records does a hundred thousand times.
fn at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(value, |value, key| value.get(key))
}

fn sha256_digest(descriptor: &Value) -> Result<RootDigest, Problem> {
    let hex = at(descriptor, &["digest", "sha256"])
        .and_then(Value::as_str)
        .ok_or("a resource has no sha256 digest")?;
    hex.parse().map_err(Problem::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn sample() -> LineageRecord {
        LineageRecord {
            name: "safechat".into(),
            version: "2.0.0".into(),
            digest: RootDigest([1; 32]),
            created: Some("2024-03-15T10:00:00Z".into()),
            parents: vec![
                Parent {
                    digest: RootDigest([2; 32]),
                    name: Some("base@1.0".into()),
                    relation: Relation::Finetune,
                },
                Parent {
                    digest: RootDigest([3; 32]),
                    name: None,
                    relation: Relation::ContinuedPretraining,
                },
            ],
            datasets: vec![Dataset {
                name: "common-crawl".into(),
                version: Some("2024-01".into()),
                digest: None,
                uri: Some("https://commoncrawl.org/2024-01".into()),
                size: Some("5 TB".into()),
            }],
            procedure: Procedure {
                method: Some("SFT + RLHF".into()),
                hyperparameters: serde_json::from_value(json!({"lr": 2e-5, "epochs": 3})).unwrap(),
                duration: Some("2 weeks".into()),
                compute: Some("8x A100".into()),
                code_revision: Some("git:abc123".into()),
            },
            trainer: Some("https://ci.example/jobs/42".into()),
            modifications: Some("safety tuning".into()),
            metrics: BTreeMap::from([("mmlu".into(), 0.92), ("humaneval".into(), 0.78)]),
            card_digest: Some(format!("sha256:{}", "ab".repeat(32))),
        }
    }

    #[test]
    fn statements_round_trip_every_field() {
        let record = sample();
        let payload = lineage_statement(&record);
        assert_eq!(parse_lineage_statement(&payload).unwrap(), record);
        let minimal = LineageRecord {
            parents: vec![],
            datasets: vec![],
            procedure: Procedure::default(),
            trainer: None,
            modifications: None,
            metrics: BTreeMap::new(),
            card_digest: None,
            created: None,
            ..record
        };
        assert_eq!(
            parse_lineage_statement(&lineage_statement(&minimal)).unwrap(),
            minimal
        );
    }

    #[test]
    fn a_card_digest_read_in_any_case_or_without_its_prefix_survives_its_statement() {
        // Found by the lineage fuzz target: a record file's `SHA256:`/uppercase card digest
        // was kept as written while its Statement holds lowercase hex.
        for written in [
            format!("sha256:{}", "0A".repeat(32)),
            format!("SHA256:{}", "0a".repeat(32)),
            "0A".repeat(32),
        ] {
            let mut value = serde_json::to_value(sample()).unwrap();
            value["card_digest"] = json!(written);
            let record: LineageRecord = serde_json::from_value(value).unwrap();
            assert_eq!(
                record.card_digest.as_deref(),
                Some(format!("sha256:{}", "0a".repeat(32)).as_str())
            );
            assert_eq!(
                parse_lineage_statement(&lineage_statement(&record)).unwrap(),
                record,
                "{written}"
            );
        }
        // What is not a digest is kept, for the record's check to name.
        let mut value = serde_json::to_value(sample()).unwrap();
        value["card_digest"] = json!("sha256:zz");
        let record: LineageRecord = serde_json::from_value(value).unwrap();
        assert!(record.check().unwrap_err().contains("sha256:zz"));
    }

    #[test]
    fn the_statement_is_slsa_provenance() {
        let statement: Value = serde_json::from_slice(&lineage_statement(&sample())).unwrap();
        assert_eq!(statement["predicateType"], SLSA_PROVENANCE_V1);
        assert_eq!(statement["subject"][0]["digest"]["sha256"], "01".repeat(32));
        let dependencies = &statement["predicate"]["buildDefinition"]["resolvedDependencies"];
        assert_eq!(dependencies[0]["digest"]["sha256"], "02".repeat(32));
        assert_eq!(dependencies[0]["annotations"]["relation"], "finetune");
        assert_eq!(dependencies[2]["uri"], "https://commoncrawl.org/2024-01");
        assert_eq!(
            statement["predicate"]["runDetails"]["builder"]["id"],
            "https://ci.example/jobs/42"
        );
        assert_eq!(
            statement["predicate"]["buildDefinition"]["externalParameters"]["procedure"]["method"],
            "SFT + RLHF"
        );
    }
}
