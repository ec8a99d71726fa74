//! `modelprov lineage record`: one record, from a YAML/JSON file and/or flags.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use modelprov::card::{Card, card_sha256};
use modelprov::keys::PrivateKey;
use modelprov::lineage::{
    Dataset, Entry, LineageRecord, Parent, Procedure, Relation, Store, lineage_statement,
    sign_record, split_id,
};
use modelprov::manifest::manifest_json;
use modelprov::signing::sign_statement;
use modelprov::{Error, Result, RootDigest};
use serde_json::json;

use super::RegistryArgs;
use crate::args::PassphraseArgs;
use crate::exit::Outcome;
use crate::model_build::build_card_model_manifest;
use crate::output::print_json;

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
    let mut store = args.registry.open(true)?;
    let registry = store.path().to_path_buf();
    let mut manifest = None;
    let mut record = match &args.file {
        Some(file) => Some(LineageRecord::read(file)?),
        None => None,
    };
    let digest: Option<RootDigest> = match (&args.model, &args.digest) {
        (Some(dir), _) => {
            let mut warnings = Vec::new();
            let built = build_card_model_manifest(dir, args.card.as_deref(), true, &mut warnings)?;
            let digest = built.manifest.root_digest();
            manifest = Some(manifest_json(&built.manifest));
            Some(digest)
        }
        (None, Some(text)) => Some(
            text.parse()
                .map_err(|e| Error::Usage(format!("--digest: {e}")))?,
        ),
        (None, None) => None,
    };
    let base = match record.take() {
        Some(record) => record,
        None => {
            let (Some(name), Some(version), Some(digest)) = (&args.name, &args.version, digest)
            else {
                return Err(Error::Usage(
                    "give --file, or --name, --model-version and --model (or --digest)".into(),
                ));
            };
            LineageRecord {
                name: name.clone(),
                version: version.clone(),
                digest,
                created: None,
                parents: Vec::new(),
                datasets: Vec::new(),
                procedure: Procedure::default(),
                trainer: None,
                modifications: None,
                metrics: BTreeMap::new(),
                card_digest: None,
            }
        }
    };
    let record = apply_flags(base, &args, digest, &store, &registry)?;
    let statement = lineage_statement(&record);
    let bundle = match &key {
        Some(key) => Some(sign_statement(&statement, key, &[])?.to_json()),
        None => None,
    };
    let entry = Entry {
        record,
        statement,
        bundle,
        recorded_at: now(),
    };
    let outcome = store.insert(std::slice::from_ref(&entry))?;
    if let (Some(key), 1) = (&key, outcome.signature_kept) {
        // Stored signed by some key: fine if it is this one, refused (nothing changed) if not.
        let stored = store.by_digest(&entry.record.digest)?.ok_or_else(|| {
            Error::invalid(
                &registry,
                format!("{} is no longer recorded", entry.record.id()),
            )
        })?;
        sign_record(&mut store, &stored, key, &registry)?;
    }
    if let Some(manifest) = manifest {
        store.put_manifest(&entry.record.digest, &manifest)?;
    }
    let id = entry.record.id();
    let signed_now = outcome.signed == 1;
    if args.json {
        print_json(&json!({
            "id": id,
            "digest": entry.record.digest,
            "signed": entry.bundle.is_some(),
            "added": outcome.added == 1,
            "signature_added": signed_now,
            "registry": registry,
            "record": entry.record,
        }));
    } else if outcome.added == 1 {
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
    } else if signed_now {
        outln!("{id} was already recorded unsigned; its signature is added");
    } else if key.is_some() {
        outln!("{id} was already recorded exactly so and signed with this key; nothing changed");
    } else {
        outln!("{id} was already recorded exactly so; nothing changed");
    }
    Ok(Outcome::Ok)
}

fn apply_flags(
    mut record: LineageRecord,
    args: &RecordArgs,
    digest: Option<RootDigest>,
    store: &dyn Store,
    registry: &std::path::Path,
) -> Result<LineageRecord> {
    if let Some(name) = &args.name {
        record.name = name.clone();
    }
    if let Some(version) = &args.version {
        record.version = version.clone();
    }
    if let Some(digest) = digest {
        record.digest = digest;
    }
    for parent in &args.parents {
        let (relation, reference) = parent
            .split_once('=')
            .ok_or_else(|| Error::Usage(format!("--parent '{parent}': write RELATION=REF")))?;
        let relation = Relation::parse(relation).ok_or_else(|| {
            Error::Usage(format!(
                "--parent '{parent}': '{relation}' is not one of {}",
                Relation::ALL.map(|r| r.as_str()).join(", ")
            ))
        })?;
        let (digest, name) = match reference.parse::<RootDigest>() {
            Ok(digest) => (digest, store.by_digest(&digest)?.map(|e| e.record.id())),
            Err(_) => match split_id(reference) {
                (_, None) => {
                    return Err(Error::Usage(format!(
                        "--parent '{parent}': REF is sha256:<hex> or NAME@VERSION"
                    )));
                }
                (name, Some(version)) => {
                    let entry = store.by_id(name, version)?.ok_or_else(|| {
                        Error::invalid(registry, format!("parent '{reference}' is not recorded; record it first or give its digest"))
                    })?;
                    (entry.record.digest, Some(entry.record.id()))
                }
            },
        };
        record.parents.push(Parent {
            digest,
            name,
            relation,
        });
    }
    for dataset in &args.datasets {
        let (name, reference) = dataset.split_once('=').ok_or_else(|| {
            Error::Usage(format!(
                "--dataset '{dataset}': write NAME=URI or NAME=sha256:<hex>"
            ))
        })?;
        let (name, version) = split_id(name);
        let digest = reference.parse::<RootDigest>().ok();
        record.datasets.push(Dataset {
            name: name.to_string(),
            version: version.map(str::to_string),
            uri: digest.is_none().then(|| reference.to_string()),
            digest,
            size: None,
        });
    }
    if let Some(method) = &args.method {
        record.procedure.method = Some(method.clone());
    }
    if let Some(revision) = &args.code_revision {
        record.procedure.code_revision = Some(revision.clone());
    }
    if let Some(trainer) = &args.trainer {
        record.trainer = Some(trainer.clone());
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
        record.metrics.insert(name.to_string(), value);
    }
    if let Some(card) = &args.card {
        let bytes = Card::read_bytes(card)?;
        record.card_digest = Some(format!("sha256:{}", card_sha256(&bytes)));
    }
    if let Some(created) = &args.created {
        record.created = Some(created.clone());
    }
    if record.created.is_none() {
        // Recording a model again (to sign it, say) keeps the time it was first recorded with,
        // so that the same command gives the same record.
        let stored = store
            .by_digest(&record.digest)?
            .filter(|e| e.record.name == record.name && e.record.version == record.version);
        record.created = Some(match stored.and_then(|e| e.record.created) {
            Some(created) => created,
            None => now(),
        });
    }
    record.check().map_err(Error::Usage)?;
    Ok(record)
}

/// The current time, RFC 3339 in UTC to the second.
pub fn now() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("0 ns is valid");
    now.format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339 formats")
}
