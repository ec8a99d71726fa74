//! `modelprov sbom generate DIR`.

use std::path::PathBuf;

use crate::output::{is_stdout, write_output};
use clap::{Args, ValueEnum};
use modelprov::card::{Card, CardData, card_sha256};
use modelprov::lineage::{SqliteStore, Store};
use modelprov::sbom::{
    Ancestor, CardInput, CycloneDxVersion, DEPENDENCY_FILES, DatasetInput, OsvDatabase, Package,
    SbomInputs, ancestors_from_lineage, cyclonedx, datasets_from_record, read_dependency_file,
    spdx,
};
use modelprov::walk::refuse_output_inside;
use modelprov::{Error, Result};

use crate::commands::lineage::RegistryArgs;
use crate::exit::Outcome;
use crate::model_build::build_card_model_manifest;
use crate::output::warn_all;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    /// CycloneDX JSON (ML-BOM).
    Cyclonedx,
    /// SPDX 3.0.1 JSON-LD with the AI and Dataset profiles.
    Spdx,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SpecArg {
    #[value(name = "1.6")]
    V16,
    #[value(name = "1.7")]
    V17,
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// The model folder.
    pub model: PathBuf,

    #[arg(long, short = 'f', value_enum, default_value = "cyclonedx")]
    pub format: FormatArg,

    /// CycloneDX specification version (SPDX is 3.0.1).
    #[arg(long, value_enum, default_value = "1.6")]
    pub spec: SpecArg,

    /// The model card [default: the folder's README.md, when there is one].
    #[arg(long, value_name = "FILE")]
    pub card: Option<PathBuf>,

    /// The model's lineage record, NAME@VERSION [default: the record holding the folder's digest,
    /// if the registry has one].
    #[arg(long, value_name = "NAME@VERSION")]
    pub id: Option<String>,

    /// A dependency file (requirements.txt, pyproject.toml, uv.lock, poetry.lock, Pipfile.lock,
    /// Cargo.lock, package-lock.json); repeatable. Such files in the folder are read too.
    #[arg(long = "requirements", value_name = "FILE")]
    pub requirements: Vec<PathBuf>,

    /// An offline OSV database: a folder of OSV JSON records.
    #[arg(long, value_name = "DIR")]
    pub osv: Option<PathBuf>,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Where to write [default: stdout].
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[arg(long, short = 'q')]
    pub quiet: bool,
}

pub fn run(args: GenerateArgs) -> Result<Outcome> {
    if !args.model.is_dir() {
        return Err(Error::Usage(format!(
            "{} is not a model folder",
            args.model.display()
        )));
    }
    if let Some(output) = args.output.as_deref().filter(|path| !is_stdout(path)) {
        refuse_output_inside(&args.model, output, "the SBOM")?;
    }
    let mut warnings = Vec::new();
    let card_path = args
        .card
        .clone()
        .or_else(|| Some(args.model.join("README.md")).filter(|p| p.is_file()));
    let card = match &card_path {
        Some(path) => {
            let bytes = Card::read_bytes(path)?;
            let card = Card::from_bytes(path, &bytes)?;
            Some(CardInput {
                data: CardData::from_metadata(&card.metadata),
                metadata: card.metadata,
                sha256: card_sha256(&bytes),
                file_name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            })
        }
        None => None,
    };
    let built =
        build_card_model_manifest(&args.model, card_path.as_deref(), args.quiet, &mut warnings)?;
    let digest = built.manifest.root_digest();

    // Lineage: the record for this digest (or --id), its ancestors and datasets.
    let mut ancestors = Vec::new();
    let mut datasets = Vec::new();
    let mut record_version = None;
    let registry = args.registry.path()?;
    if args.id.is_some() || registry.exists() {
        let store = SqliteStore::open_read_only(&registry)?;
        let entry = match &args.id {
            Some(id) => {
                let entry = crate::commands::lineage::find(&store, id, store.path())?;
                if entry.record.digest != digest {
                    return Err(Error::Usage(format!(
                        "{id} is recorded with digest {}, but {} is {digest}",
                        entry.record.digest,
                        args.model.display()
                    )));
                }
                Some(entry)
            }
            None => store.by_digest(&digest)?,
        };
        if let Some(entry) = entry {
            ancestors = ancestors_from_lineage(&store.ancestors(&digest)?, &digest);
            datasets = datasets_from_record(&entry.record);
            record_version = Some(entry.record.version.clone());
        }
    }
    // A lineage ancestor the card names as base_model is that Hub model.
    if let Some(card) = &card {
        for ancestor in &mut ancestors {
            if ancestor.child.is_none()
                && card.data.base_model.0.iter().any(|b| b.0 == ancestor.name)
            {
                ancestor.hub_id = Some(ancestor.name.clone());
            }
        }
    }
    if ancestors.is_empty()
        && let Some(card) = &card
    {
        let relation = card
            .data
            .base_model_relation
            .as_ref()
            .and_then(|r| match r.0.as_str() {
                "adapter" => Some(modelprov::lineage::Relation::Adapter),
                "merge" => Some(modelprov::lineage::Relation::Merge),
                "quantized" => Some(modelprov::lineage::Relation::Quantized),
                "finetune" => Some(modelprov::lineage::Relation::Finetune),
                _ => None,
            });
        ancestors = card
            .data
            .base_model
            .0
            .iter()
            .map(|base| Ancestor {
                digest: None,
                name: base.0.clone(),
                version: None,
                relation,
                child: None,
                hub_id: Some(base.0.clone()),
            })
            .collect();
    }
    if let Some(card) = &card {
        for id in &card.data.datasets.0 {
            datasets.push(DatasetInput {
                name: id.0.clone(),
                version: None,
                digest: None,
                uri: Some(format!("https://huggingface.co/datasets/{}", id.0))
                    .filter(|_| id.0.contains('/')),
                size: None,
            });
        }
        let training = card
            .data
            .provenance
            .as_ref()
            .and_then(|p| p.training.as_ref())
            .and_then(|t| t.data.as_ref());
        for source in training.map(|d| d.sources.0.clone()).unwrap_or_default() {
            datasets.push(DatasetInput {
                name: source.0,
                version: None,
                digest: None,
                uri: None,
                size: training.and_then(|d| d.size.as_ref()).map(|s| s.0.clone()),
            });
        }
    }
    datasets.sort_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then(b.digest.is_some().cmp(&a.digest.is_some()))
    });
    datasets.dedup_by(|a, b| a.name == b.name);

    // Libraries: dependency files in the folder and given ones.
    let mut files: Vec<PathBuf> = DEPENDENCY_FILES
        .iter()
        .map(|name| args.model.join(name))
        .filter(|path| path.is_file())
        .collect();
    files.extend(args.requirements.iter().cloned());
    let mut packages: Vec<Package> = Vec::new();
    for file in &files {
        packages.extend(read_dependency_file(file)?);
    }
    packages.sort();
    packages
        .dedup_by(|a, b| a.ecosystem == b.ecosystem && a.name == b.name && a.version == b.version);
    let vulnerabilities = match &args.osv {
        Some(dir) => OsvDatabase::load(dir)?.matches(&packages),
        None => Vec::new(),
    };

    let provenance_text = |key: &str| -> Option<String> {
        card.as_ref()?
            .metadata
            .get("provenance")?
            .get(key)?
            .as_str()
            .map(str::to_string)
    };
    let name = provenance_text("name").unwrap_or_else(|| built.manifest.name.clone());
    let inputs = SbomInputs {
        name,
        version: provenance_text("version").or(record_version),
        manifest: built.manifest,
        digest,
        card,
        ancestors,
        datasets,
        packages,
        vulnerabilities,
        timestamp: source_date_epoch()?,
    };
    let document = match args.format {
        FormatArg::Spdx => {
            let created = inputs
                .timestamp
                .clone()
                .unwrap_or_else(crate::commands::lineage::now);
            spdx(&inputs, &created)
        }
        FormatArg::Cyclonedx => cyclonedx(
            &inputs,
            match args.spec {
                SpecArg::V16 => CycloneDxVersion::V1_6,
                SpecArg::V17 => CycloneDxVersion::V1_7,
            },
        ),
    };
    let mut text = serde_json::to_string_pretty(&document).expect("documents serialise");
    text.push('\n');
    write_output(args.output.as_deref(), text.as_bytes())?;
    if !args.quiet {
        warn_all(&warnings, false);
        errln!(
            "{} files, {} libraries, {} datasets, {} ancestors, {} known vulnerabilities; model {}",
            inputs.manifest.file_count(),
            inputs.packages.len(),
            inputs.datasets.len(),
            inputs.ancestors.len(),
            inputs.vulnerabilities.len(),
            inputs.digest
        );
    }
    Ok(Outcome::Ok)
}

/// `SOURCE_DATE_EPOCH` as RFC 3339, for reproducible documents; `None` when unset.
fn source_date_epoch() -> Result<Option<String>> {
    let Ok(text) = std::env::var("SOURCE_DATE_EPOCH") else {
        return Ok(None);
    };
    let seconds: i64 = text.trim().parse().map_err(|_| {
        Error::Usage(format!(
            "SOURCE_DATE_EPOCH '{text}' is not a number of seconds"
        ))
    })?;
    let time = time::OffsetDateTime::from_unix_timestamp(seconds)
        .map_err(|e| Error::Usage(format!("SOURCE_DATE_EPOCH '{text}': {e}")))?;
    Ok(Some(
        time.format(&time::format_description::well_known::Rfc3339)
            .expect("RFC 3339 formats"),
    ))
}
