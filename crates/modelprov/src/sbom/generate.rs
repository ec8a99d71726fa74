//! Gathering what an AI-SBOM of a model says, as `modelprov sbom generate` and
//! `modelprov.sbom()` do: the model's identity and files, its card, its lineage record and
//! ancestors (from the registry), datasets (record and card), libraries (dependency files in
//! the folder and given ones) and known vulnerabilities (an offline OSV database).

use std::path::PathBuf;

use super::{
    Ancestor, CardInput, CycloneDxVersion, DEPENDENCY_FILES, DatasetInput, OsvDatabase, Package,
    SbomInputs, ancestors_from_lineage, cyclonedx, datasets_from_record, read_dependency_file,
    spdx,
};
use crate::card::{Card, CardData, card_sha256};
use crate::error::{Error, Result};
use crate::lineage::{Relation, SqliteStore, Store, find};
use crate::manifest::BuildContext;
use crate::model::card_model_manifest;
use crate::warning::Warning;

/// Which document to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentFormat {
    /// A CycloneDX ML-BOM of this specification version.
    CycloneDx(CycloneDxVersion),
    /// An SPDX 3.0.1 JSON-LD document with the AI and Dataset profiles.
    Spdx,
}

/// What to describe.
#[derive(Clone, Debug)]
pub struct SbomRequest {
    /// The model folder.
    pub model: PathBuf,
    /// The model card [default: the folder's README.md, when there is one].
    pub card: Option<PathBuf>,
    /// The lineage registry; read when it exists (or when `id` is given).
    pub registry: Option<PathBuf>,
    /// The model's lineage record, NAME@VERSION [default: the record holding the digest].
    pub id: Option<String>,
    /// Dependency files beyond those in the folder.
    pub requirements: Vec<PathBuf>,
    /// An OSV database folder to match the libraries against.
    pub osv: Option<PathBuf>,
    /// The document's timestamp (RFC 3339) [default: none for CycloneDX, now for SPDX, which
    /// requires one]; [`source_date_epoch`] gives the reproducible-builds one.
    pub timestamp: Option<String>,
}

impl SbomRequest {
    /// Describes `model` with the defaults: its README.md, no registry, no extra files.
    pub fn new(model: impl Into<PathBuf>) -> Self {
        SbomRequest {
            model: model.into(),
            card: None,
            registry: None,
            id: None,
            requirements: Vec::new(),
            osv: None,
            timestamp: None,
        }
    }
}

/// Everything the document will say, and warnings from hashing the model.
pub fn gather_inputs(
    request: &SbomRequest,
    context: &BuildContext<'_>,
) -> Result<(SbomInputs, Vec<Warning>)> {
    if !request.model.is_dir() {
        return Err(Error::Usage(format!(
            "{} is not a model folder",
            request.model.display()
        )));
    }
    let mut warnings = Vec::new();
    let card_path = request
        .card
        .clone()
        .or_else(|| Some(request.model.join(crate::walk::MODEL_CARD)).filter(|p| p.is_file()));
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
    let mut built = card_model_manifest(&request.model, card_path.as_deref(), context)?;
    warnings.append(&mut built.warnings);
    let digest = built.manifest.root_digest();

    // Lineage: the record for this digest (or --id), its ancestors and datasets.
    let mut ancestors = Vec::new();
    let mut datasets = Vec::new();
    let mut record_version = None;
    let registry = request
        .registry
        .as_deref()
        .filter(|path| request.id.is_some() || path.exists());
    if let Some(registry) = registry {
        let store = SqliteStore::open_read_only(registry)?;
        let entry = match &request.id {
            Some(id) => {
                let entry = find(&store, id, store.path())?;
                if entry.record.digest != digest {
                    return Err(Error::Usage(format!(
                        "{id} is recorded with digest {}, but {} is {digest}",
                        entry.record.digest,
                        request.model.display()
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
                "adapter" => Some(Relation::Adapter),
                "merge" => Some(Relation::Merge),
                "quantized" => Some(Relation::Quantized),
                "finetune" => Some(Relation::Finetune),
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
        .map(|name| request.model.join(name))
        .filter(|path| path.is_file())
        .collect();
    files.extend(request.requirements.iter().cloned());
    let mut packages: Vec<Package> = Vec::new();
    for file in &files {
        packages.extend(read_dependency_file(file)?);
    }
    packages.sort();
    packages
        .dedup_by(|a, b| a.ecosystem == b.ecosystem && a.name == b.name && a.version == b.version);
    let vulnerabilities = match &request.osv {
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
        timestamp: request.timestamp.clone(),
    };
    Ok((inputs, warnings))
}

/// The SBOM document of `inputs` in `format`.
pub fn sbom_document(inputs: &SbomInputs, format: DocumentFormat) -> serde_json::Value {
    match format {
        DocumentFormat::Spdx => {
            let created = inputs.timestamp.clone().unwrap_or_else(crate::lineage::now);
            spdx(inputs, &created)
        }
        DocumentFormat::CycloneDx(version) => cyclonedx(inputs, version),
    }
}

/// The time `SOURCE_DATE_EPOCH` sets (reproducible builds), RFC 3339; `None` when unset.
pub fn source_date_epoch() -> Result<Option<String>> {
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
