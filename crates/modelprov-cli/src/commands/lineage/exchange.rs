//! `lineage export` and `lineage import`: records with their signatures as JSON Lines, one
//! `{"statement": <base64 Statement>, "bundle": <Sigstore bundle> | null}` per line; and records
//! drafted from a model card's `base_model`.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clap::Args;
use modelprov::attest::Bundle;
use modelprov::card::{Card, card_sha256};
use modelprov::keys::PublicKey;
use modelprov::lineage::{
    Entry, LineageRecord, Parent, Procedure, Relation, Store, lineage_statement,
    parse_lineage_statement, sort_versions,
};
use modelprov::signing::{TrustedSigner, verify_envelope};
use modelprov::{Error, Result, RootDigest};
use serde_json::{Value, json};

use super::RegistryArgs;
use super::record::now;
use crate::exit::Outcome;

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Where to write [default: stdout].
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// JSON Lines from `lineage export`.
    #[arg(required_unless_present = "card", conflicts_with = "card")]
    pub file: Option<PathBuf>,

    /// Record the model a card describes, with its base_model (which must be recorded) as
    /// parent.
    #[arg(long, value_name = "CARD")]
    pub card: Option<PathBuf>,

    /// Accept only records signed by one of these public keys; repeatable.
    #[arg(long = "key", value_name = "FILE")]
    pub keys: Vec<PathBuf>,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

pub fn run_export(args: ExportArgs) -> Result<Outcome> {
    let store = args.registry.open(false)?;
    let mut text = String::new();
    for entry in store.all()? {
        let bundle = match &entry.bundle {
            Some(bytes) => serde_json::from_slice::<Value>(bytes).map_err(|e| {
                Error::invalid(store.path(), format!("a stored bundle is damaged: {e}"))
            })?,
            None => Value::Null,
        };
        text.push_str(
            &json!({"statement": STANDARD.encode(&entry.statement), "bundle": bundle}).to_string(),
        );
        text.push('\n');
    }
    crate::output::write_output(args.output.as_deref(), text.as_bytes())?;
    Ok(Outcome::Ok)
}

pub fn run_import(args: ImportArgs) -> Result<Outcome> {
    let mut keys = Vec::new();
    for path in &args.keys {
        keys.push(PublicKey::read(path)?);
    }
    let mut store = args.registry.open(true)?;
    let entries = match (&args.file, &args.card) {
        (Some(file), _) => read_lines(file, &keys)?,
        (None, Some(card)) => vec![from_card(card, &store)?],
        (None, None) => unreachable!("clap requires one"),
    };
    let outcome = store.insert(&entries)?;
    outln!(
        "imported {} record(s), {} already present, into {}",
        outcome.added,
        outcome.unchanged,
        store.path().display()
    );
    Ok(Outcome::Ok)
}

/// Every line must be a valid record (and, with keys, signed by one of them): one bad line
/// refuses the whole file, so an import is all or nothing.
fn read_lines(path: &PathBuf, keys: &[PublicKey]) -> Result<Vec<Entry>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
    let mut entries = Vec::new();
    for (number, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::io("read", path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |problem: String| Error::invalid(path, format!("line {}: {problem}", number + 1));
        let value: Value =
            serde_json::from_str(&line).map_err(|e| bad(format!("not JSON: {e}")))?;
        let statement = value["statement"]
            .as_str()
            .and_then(|s| STANDARD.decode(s).ok())
            .ok_or_else(|| bad("no base64 'statement'".into()))?;
        let record = parse_lineage_statement(&statement).map_err(&bad)?;
        let bundle = match &value["bundle"] {
            Value::Null => None,
            bundle => {
                let parsed: Bundle = serde_json::from_value(bundle.clone())
                    .map_err(|e| bad(format!("bundle: {e}")))?;
                let payload = parsed
                    .dsse_envelope
                    .as_ref()
                    .and_then(|e| STANDARD.decode(&e.payload).ok());
                if payload.as_deref() != Some(statement.as_slice()) {
                    return Err(bad("the bundle signs other bytes than the statement".into()));
                }
                if !keys.is_empty()
                    && !keys
                        .iter()
                        .any(|key| verify_envelope(&parsed, TrustedSigner::Key(key), path).is_ok())
                {
                    return Err(bad(format!(
                        "{} is not signed by any of the given keys",
                        record.id()
                    )));
                }
                Some(bundle.to_string().into_bytes())
            }
        };
        if bundle.is_none() && !keys.is_empty() {
            return Err(bad(format!("{} is not signed", record.id())));
        }
        entries.push(Entry {
            record,
            statement,
            bundle,
            recorded_at: now(),
        });
    }
    Ok(entries)
}

/// A record for the model a card describes: its name, version and digest from the provenance
/// section, its base model as parent (resolved in the registry by name, newest version).
fn from_card(path: &PathBuf, store: &dyn Store) -> Result<Entry> {
    let bytes = Card::read_bytes(path)?;
    let card = Card::from_bytes(path, &bytes)?;
    let field = |name: &str| {
        card.metadata_value(name)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let missing = |name: &str| {
        Error::invalid(
            path,
            format!("the card has no {name}, which a lineage record needs"),
        )
    };
    let name = field("provenance.name").ok_or_else(|| missing("provenance.name"))?;
    let version = field("provenance.version").ok_or_else(|| missing("provenance.version"))?;
    let digest: RootDigest = field("provenance.model.digest")
        .ok_or_else(|| missing("provenance.model.digest (run `modelprov card init`)"))?
        .parse()
        .map_err(|e| Error::invalid(path, format!("provenance.model.digest: {e}")))?;
    let relation = match field("base_model_relation").as_deref() {
        None | Some("finetune") => Relation::Finetune,
        Some("adapter") => Relation::Adapter,
        Some("merge") => Relation::Merge,
        Some("quantized") => Relation::Quantized,
        Some(other) => {
            return Err(Error::invalid(
                path,
                format!("base_model_relation '{other}' is not one the Hub defines"),
            ));
        }
    };
    let bases: Vec<String> = match card.metadata.get("base_model") {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    let mut parents = Vec::new();
    for base in bases {
        let mut versions = store.versions(&base)?;
        sort_versions(&mut versions);
        let entry = versions.pop().ok_or_else(|| {
            Error::invalid(path, format!("base_model '{base}' is not recorded in the registry; record it first, so that the edge has its digest"))
        })?;
        parents.push(Parent {
            digest: entry.record.digest,
            name: Some(entry.record.id()),
            relation,
        });
    }
    let record = LineageRecord {
        name,
        version,
        digest,
        created: field("provenance.created").map(|date| {
            if date.len() == 10 {
                format!("{date}T00:00:00Z")
            } else {
                date
            }
        }),
        parents,
        datasets: Vec::new(),
        procedure: Procedure {
            method: field("provenance.training.procedure.method"),
            duration: field("provenance.training.procedure.duration"),
            compute: field("provenance.training.procedure.compute"),
            ..Procedure::default()
        },
        trainer: None,
        modifications: None,
        metrics: Default::default(),
        card_digest: Some(format!("sha256:{}", card_sha256(&bytes))),
    };
    record
        .check()
        .map_err(|problem| Error::invalid(path, problem))?;
    Ok(Entry {
        statement: lineage_statement(&record),
        record,
        bundle: None,
        recorded_at: now(),
    })
}
