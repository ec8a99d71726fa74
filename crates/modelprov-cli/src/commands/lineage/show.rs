//! `lineage show NAME[@VERSION]` and `lineage versions NAME`.

use clap::Args;
use modelprov::Result;
use modelprov::lineage::{Entry, LineageRecord, Store, sort_versions};
use serde_json::json;

use super::{RegistryArgs, find};
use crate::exit::Outcome;
use crate::output::print_json;

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// NAME@VERSION, or NAME for its newest version.
    pub id: String,

    #[command(flatten)]
    pub registry: RegistryArgs,

    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct VersionsArgs {
    pub name: String,

    #[command(flatten)]
    pub registry: RegistryArgs,

    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ShowArgs) -> Result<Outcome> {
    let store = args.registry.open_read_only()?;
    let entry = find(&*store, &args.id, store.location())?;
    if args.json {
        print_json(&entry_json(&entry));
        return Ok(Outcome::Ok);
    }
    print_record(&entry.record, &*store)?;
    outln!(
        "  signed        {}",
        if entry.bundle.is_some() { "yes" } else { "no" }
    );
    outln!("  recorded at   {}", entry.recorded_at);
    Ok(Outcome::Ok)
}

pub fn entry_json(entry: &Entry) -> serde_json::Value {
    json!({
        "id": entry.record.id(),
        "record": entry.record,
        "signed": entry.bundle.is_some(),
        "recorded_at": entry.recorded_at,
    })
}

fn print_record(record: &LineageRecord, store: &dyn Store) -> Result<()> {
    outln!("{} ({})", record.id(), record.digest);
    if let Some(created) = &record.created {
        outln!("  created       {created}");
    }
    if let Some(trainer) = &record.trainer {
        outln!("  trainer       {trainer}");
    }
    for parent in &record.parents {
        let label = match &parent.name {
            Some(name) => name.clone(),
            None => match store.by_digest(&parent.digest)? {
                Some(entry) => entry.record.id(),
                None => "(not recorded)".into(),
            },
        };
        outln!(
            "  parent        {} {label} ({})",
            parent.relation,
            parent.digest
        );
    }
    for dataset in &record.datasets {
        let reference = dataset
            .digest
            .map(|d| d.to_string())
            .or_else(|| dataset.uri.clone())
            .unwrap_or_default();
        let version = dataset
            .version
            .as_ref()
            .map(|v| format!("@{v}"))
            .unwrap_or_default();
        outln!("  dataset       {}{version} {reference}", dataset.name);
    }
    let procedure = &record.procedure;
    for (label, value) in [
        ("method", &procedure.method),
        ("duration", &procedure.duration),
        ("compute", &procedure.compute),
        ("code revision", &procedure.code_revision),
        ("modifications", &record.modifications),
        ("card", &record.card_digest),
    ] {
        if let Some(value) = value {
            outln!("  {label:<13} {value}");
        }
    }
    for (name, value) in &procedure.hyperparameters {
        outln!("  hyperparameter {name} = {value}");
    }
    for (name, value) in &record.metrics {
        outln!("  metric        {name} = {value}");
    }
    Ok(())
}

pub fn run_versions(args: VersionsArgs) -> Result<Outcome> {
    let store = args.registry.open_read_only()?;
    let mut versions = store.versions(&args.name)?;
    if versions.is_empty() {
        return Err(modelprov::Error::invalid(
            store.location(),
            format!(
                "no model named '{}' is recorded in this registry",
                args.name
            ),
        ));
    }
    sort_versions(&mut versions);
    if args.json {
        print_json(&versions.iter().map(entry_json).collect::<Vec<_>>());
    } else {
        for entry in &versions {
            outln!(
                "{:<16} {}  {}{}",
                entry.record.version,
                entry.record.digest,
                entry
                    .record
                    .created
                    .as_deref()
                    .unwrap_or(&entry.recorded_at),
                if entry.bundle.is_some() {
                    "  signed"
                } else {
                    ""
                }
            );
        }
    }
    Ok(Outcome::Ok)
}
