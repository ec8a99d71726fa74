//! `lineage diff A B`: what changed from one recorded model to another.

use std::collections::BTreeSet;

use clap::Args;
use modelprov::Result;
use modelprov::lineage::Entry;
use modelprov::manifest::{ManifestDiff, diff_manifests, parse_manifest};
use serde::Serialize;
use serde_json::Value;

use super::{RegistryArgs, find};
use crate::exit::Outcome;
use crate::output::print_json;

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The earlier model, NAME@VERSION.
    pub from: String,
    /// The later model, NAME@VERSION.
    pub to: String,

    #[command(flatten)]
    pub registry: RegistryArgs,

    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct LineageDiff {
    from: String,
    to: String,
    /// `None` when either model was recorded without its folder (no manifest kept).
    files: Option<ManifestDiff>,
    metrics: Vec<MetricChange>,
    changes: Vec<FieldChange>,
}

#[derive(Serialize)]
struct MetricChange {
    metric: String,
    from: Option<f64>,
    to: Option<f64>,
    delta: Option<f64>,
}

#[derive(Serialize)]
struct FieldChange {
    field: String,
    from: Value,
    to: Value,
}

pub fn run(args: DiffArgs) -> Result<Outcome> {
    let store = args.registry.open_read_only()?;
    let a = find(&*store, &args.from, store.location())?;
    let b = find(&*store, &args.to, store.location())?;
    let files = match (
        store.manifest(&a.record.digest)?,
        store.manifest(&b.record.digest)?,
    ) {
        (Some(from), Some(to)) => Some(diff_manifests(
            &parse_manifest(&from, store.location())?,
            &parse_manifest(&to, store.location())?,
        )),
        _ => None,
    };
    let diff = LineageDiff {
        from: a.record.id(),
        to: b.record.id(),
        files,
        metrics: metric_changes(&a, &b),
        changes: field_changes(&a, &b),
    };
    if args.json {
        print_json(&diff);
    } else {
        print_diff(&diff, &a, &b);
    }
    Ok(Outcome::Ok)
}

fn metric_changes(a: &Entry, b: &Entry) -> Vec<MetricChange> {
    let names: BTreeSet<&String> = a
        .record
        .metrics
        .keys()
        .chain(b.record.metrics.keys())
        .collect();
    names
        .into_iter()
        .map(|name| {
            let from = a.record.metrics.get(name).copied();
            let to = b.record.metrics.get(name).copied();
            MetricChange {
                metric: name.clone(),
                from,
                to,
                delta: from.zip(to).map(|(f, t)| t - f),
            }
        })
        .collect()
}

/// Every record field other than name, version and metrics, compared as JSON.
fn field_changes(a: &Entry, b: &Entry) -> Vec<FieldChange> {
    let as_map =
        |entry: &Entry| match serde_json::to_value(&entry.record).expect("records serialise") {
            Value::Object(map) => map,
            _ => unreachable!("a record serialises to an object"),
        };
    let (from, to) = (as_map(a), as_map(b));
    let fields: BTreeSet<&String> = from.keys().chain(to.keys()).collect();
    fields
        .into_iter()
        .filter(|f| {
            !matches!(
                f.as_str(),
                "name" | "version" | "metrics" | "digest" | "created"
            )
        })
        .filter_map(|field| {
            let (old, new) = (
                from.get(field).cloned().unwrap_or(Value::Null),
                to.get(field).cloned().unwrap_or(Value::Null),
            );
            (old != new).then(|| FieldChange {
                field: field.clone(),
                from: old,
                to: new,
            })
        })
        .collect()
}

fn print_diff(diff: &LineageDiff, a: &Entry, b: &Entry) {
    outln!(
        "{} ({}) -> {} ({})",
        diff.from,
        a.record.digest,
        diff.to,
        b.record.digest
    );
    match &diff.files {
        None => outln!("files: not compared (record both with --model to keep their manifests)"),
        Some(files) if files.is_empty() => outln!("files: identical"),
        Some(files) => {
            for m in &files.modified {
                outln!("  modified  {}", m.path);
            }
            for f in &files.added {
                outln!("  added     {}", f.path);
            }
            for f in &files.missing {
                outln!("  removed   {}", f.path);
            }
            for r in &files.renamed {
                outln!("  renamed   {} -> {}", r.from, r.to);
            }
        }
    }
    for metric in &diff.metrics {
        let show = |v: Option<f64>| v.map_or_else(|| "-".into(), |v| v.to_string());
        let delta = metric
            .delta
            .map(|d| format!(" ({d:+.4})"))
            .unwrap_or_default();
        outln!(
            "  metric    {}: {} -> {}{delta}",
            metric.metric,
            show(metric.from),
            show(metric.to)
        );
    }
    for change in &diff.changes {
        outln!(
            "  changed   {}: {} -> {}",
            change.field,
            change.from,
            change.to
        );
    }
}
