//! `lineage export` and `lineage import`: records with their signatures as JSON Lines, one
//! `{"statement": <base64 Statement>, "bundle": <Sigstore bundle> | null}` per line; and records
//! drafted from a model card's `base_model`.

use std::path::PathBuf;

use clap::Args;
use modelprov::card::{Card, card_sha256};
use modelprov::lineage::{
    Entry, LineageRecord, Parent, Procedure, Relation, Store, export_line, lineage_statement,
    read_export, sort_versions,
};
use modelprov::{Error, Result, RootDigest};
use serde_json::Value;

use super::RegistryArgs;
use super::now;
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

    /// Accept only records signed by a signer this trust policy trusts for their model names
    /// (docs/trust-policy.md).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

pub fn run_export(args: ExportArgs) -> Result<Outcome> {
    let store = args.registry.open_read_only()?;
    let mut text = String::new();
    for entry in store.all()? {
        text.push_str(&export_line(&entry, store.location())?);
        text.push('\n');
    }
    crate::output::write_output(args.output.as_deref(), text.as_bytes())?;
    Ok(Outcome::Ok)
}

pub fn run_import(args: ImportArgs) -> Result<Outcome> {
    let trusted = crate::trust_args::policy_or_keys(args.policy.as_ref(), &args.keys)?;
    let mut store = args.registry.open(true)?;
    let entries = match (&args.file, &args.card) {
        (Some(file), _) => read_export(file, &trusted, &now())?,
        (None, Some(card)) => vec![from_card(card, &*store)?],
        (None, None) => unreachable!("clap requires one"),
    };
    let outcome = store.insert(&entries)?;
    let mut signed = String::new();
    if outcome.signed > 0 {
        signed.push_str(&format!(", {} stored unsigned now signed", outcome.signed));
    }
    if outcome.signature_kept > 0 {
        signed.push_str(&format!(
            " ({} signed otherwise here: the stored signature is kept)",
            outcome.signature_kept
        ));
    }
    outln!(
        "imported {} record(s), {} already present{signed}, into {}",
        outcome.added,
        outcome.unchanged,
        store.location().display()
    );
    Ok(Outcome::Ok)
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
        metrics: std::collections::BTreeMap::default(),
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
