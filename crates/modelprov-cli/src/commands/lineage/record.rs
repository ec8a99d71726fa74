//! `modelprov lineage record`: one record, from a YAML/JSON file and/or flags.

use std::path::PathBuf;

use clap::Args;
use modelprov::keys::PrivateKey;
use modelprov::lineage::{LineageRecord, RecordRequest, Relation, record_model, split_id};
use modelprov::{Error, Result, RootDigest};
use serde_json::json;

use super::RegistryArgs;
use crate::args::PassphraseArgs;
use crate::exit::Outcome;
use crate::output::print_json;
use crate::progress_bar::with_progress;

#[derive(Args, Debug)]
pub struct RecordArgs {
    /// The record as YAML or JSON (docs/lineage.md); flags below override its fields.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,

    #[arg(long)]
    pub name: Option<String>,

    #[arg(long = "model-version", value_name = "VERSION")]
    pub version: Option<String>,

    /// The model folder: its digest is computed (OMS defaults, README.md left out, as for
    /// cards) and its manifest kept for `lineage diff`.
    #[arg(long, value_name = "DIR", conflicts_with = "digest")]
    pub model: Option<PathBuf>,

    /// The model digest, sha256:<hex>, when the folder is not at hand.
    #[arg(long)]
    pub digest: Option<String>,

    /// A parent as RELATION=REF: REF is sha256:<hex> or a recorded NAME@VERSION; RELATION one of
    /// finetune, adapter, merge, quantized, distilled, continued-pretraining, other. Repeatable.
    #[arg(long = "parent", value_name = "RELATION=REF")]
    pub parents: Vec<String>,

    /// A dataset as NAME=URI or NAME=sha256:<hex>. Repeatable.
    #[arg(long = "dataset", value_name = "NAME=REF")]
    pub datasets: Vec<String>,

    /// Training method (procedure.method).
    #[arg(long)]
    pub method: Option<String>,

    /// The training code's revision (procedure.code_revision).
    #[arg(long)]
    pub code_revision: Option<String>,

    /// Who or what trained the model (SLSA builder.id).
    #[arg(long)]
    pub trainer: Option<String>,

    /// A result as METRIC=NUMBER. Repeatable.
    #[arg(long = "metric", value_name = "METRIC=NUMBER")]
    pub metrics: Vec<String>,

    /// The model card; its SHA-256 is recorded.
    #[arg(long, value_name = "FILE")]
    pub card: Option<PathBuf>,

    /// Creation time, RFC 3339 [default: now].
    #[arg(long, value_name = "TIME")]
    pub created: Option<String>,

    /// Sign the record with this private key.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

    #[command(flatten)]
    pub passphrase: PassphraseArgs,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Print the stored record as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: RecordArgs) -> Result<Outcome> {
    let key = match &args.key {
        Some(path) => Some(PrivateKey::read(
            path,
            args.passphrase.read()?.as_deref().map(Vec::as_slice),
        )?),
        None => None,
    };
    let request = request(&args)?;
    let mut store = args.registry.open(true)?;
    let registry = store.location().to_path_buf();
    let recorded = with_progress(true, None, |context| {
        record_model(&mut *store, &registry, &request, key.as_ref(), context)
    })?;
    let entry = &recorded.entry;
    let id = entry.record.id();
    if args.json {
        print_json(&json!({
            "id": id,
            "digest": entry.record.digest,
            "signed": entry.bundle.is_some(),
            "added": recorded.added,
            "signature_added": recorded.signature_added,
            "registry": registry,
            "record": entry.record,
        }));
    } else if recorded.added {
        outln!(
            "recorded {id} ({}){} in {}",
            entry.record.digest,
            if entry.bundle.is_some() {
                ", signed"
            } else {
                ""
            },
            registry.display()
        );
    } else if recorded.signature_added {
        outln!("{id} was already recorded unsigned; its signature is added");
    } else if key.is_some() {
        outln!("{id} was already recorded exactly so and signed with this key; nothing changed");
    } else {
        outln!("{id} was already recorded exactly so; nothing changed");
    }
    Ok(Outcome::Ok)
}

/// The library's record request these options describe: `RELATION=REF`, `NAME=REF` and
/// `METRIC=NUMBER` parsed, everything else as given.
fn request(args: &RecordArgs) -> Result<RecordRequest> {
    let mut request = RecordRequest {
        base: match &args.file {
            Some(file) => Some(LineageRecord::read(file)?),
            None => None,
        },
        name: args.name.clone(),
        version: args.version.clone(),
        model: args.model.clone(),
        digest: match &args.digest {
            Some(text) => Some(
                text.parse()
                    .map_err(|e| Error::Usage(format!("--digest: {e}")))?,
            ),
            None => None,
        },
        method: args.method.clone(),
        code_revision: args.code_revision.clone(),
        trainer: args.trainer.clone(),
        card: args.card.clone(),
        created: args.created.clone(),
        ..RecordRequest::default()
    };
    for parent in &args.parents {
        let (relation, reference) = parent
            .split_once('=')
            .ok_or_else(|| Error::Usage(format!("--parent '{parent}': write RELATION=REF")))?;
        let relation = Relation::parse(relation).ok_or_else(|| {
            Error::Usage(format!(
                "--parent '{parent}': '{relation}' is not one of {}",
                Relation::ALL
                    .map(modelprov::lineage::Relation::as_str)
                    .join(", ")
            ))
        })?;
        if reference.parse::<RootDigest>().is_err() && split_id(reference).1.is_none() {
            return Err(Error::Usage(format!(
                "--parent '{parent}': REF is sha256:<hex> or NAME@VERSION"
            )));
        }
        request.parents.push((relation, reference.to_string()));
    }
    for dataset in &args.datasets {
        let (name, reference) = dataset.split_once('=').ok_or_else(|| {
            Error::Usage(format!(
                "--dataset '{dataset}': write NAME=URI or NAME=sha256:<hex>"
            ))
        })?;
        request
            .datasets
            .push((name.to_string(), reference.to_string()));
    }
    for metric in &args.metrics {
        let parsed = metric.split_once('=').and_then(|(name, value)| {
            Some((name, value.parse::<f64>().ok().filter(|v| v.is_finite())?))
        });
        let Some((name, value)) = parsed else {
            return Err(Error::Usage(format!(
                "--metric '{metric}': write METRIC=NUMBER"
            )));
        };
        request.metrics.push((name.to_string(), value));
    }
    Ok(request)
}
