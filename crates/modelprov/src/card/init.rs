//! What a model folder says about itself, for drafting a card: the architecture, model type and
//! dtype from `config.json`, the parameter count from safetensors headers, the file formats and
//! sizes and the digest from the manifest, and the library the files belong to.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::fields::{FileSummary, FormatSummary, ModelFacts, Text, kind};
use super::file::Card;
use super::validate::parse_date;
use crate::digest::RootDigest;
use crate::error::{Error, Result};
use crate::fsutil::{limits, parse_json, read_capped};
use crate::manifest::Manifest;
use crate::safetensors_header::{SafetensorsSummary, read_safetensors_summary};
use crate::warning::Warning;

/// What [`survey_model`] found in a model folder, for drafting a card.
#[derive(Clone, Debug, Default)]
pub struct ModelSurvey {
    /// The measured facts for `provenance.model`: digest, files, and what `config.json` and the
    /// safetensors headers say.
    pub facts: ModelFacts,
    /// The Hub library the files are for, when they say so.
    pub library_name: Option<String>,
    /// The task the architecture's name implies (`...ForCausalLM` is text generation).
    pub pipeline_tag: Option<String>,
    /// Files that could not be read for facts (a broken safetensors header, say).
    pub warnings: Vec<Warning>,
}

/// Surveys `dir` (a model folder) whose files `manifest` lists.
pub fn survey_model(dir: &Path, manifest: &Manifest) -> Result<ModelSurvey> {
    let mut survey = ModelSurvey::default();
    let mut facts = ModelFacts {
        digest: Some(Text(manifest.root_digest().to_string())),
        files: Some(file_summary(manifest)),
        ..ModelFacts::default()
    };
    let names: Vec<&str> = manifest
        .resources
        .iter()
        .map(|r| r.name.path.as_str())
        .collect();
    if names.contains(&"config.json") {
        let config = read_config(&dir.join("config.json"))?;
        let architecture = config
            .get("architectures")
            .and_then(|a| a.get(0))
            .and_then(Value::as_str);
        facts.architecture = architecture.map(Text::from);
        facts.model_type = config
            .get("model_type")
            .and_then(Value::as_str)
            .map(Text::from);
        facts.dtype = ["torch_dtype", "dtype"]
            .iter()
            .find_map(|key| config.get(*key).and_then(Value::as_str))
            .map(Text::from);
        if config.get("transformers_version").is_some() {
            survey.library_name = Some("transformers".into());
        }
        if config.get("_diffusers_version").is_some() {
            survey.library_name = Some("diffusers".into());
        }
        survey.pipeline_tag = architecture
            .and_then(task_of_architecture)
            .map(String::from);
    }
    if names.contains(&"adapter_config.json") {
        survey.library_name = Some("peft".into());
    }
    if names.contains(&"sentence_bert_config.json") || names.contains(&"modules.json") {
        survey.library_name = Some("sentence-transformers".into());
    }
    let mut weights = SafetensorsSummary::default();
    let mut any = false;
    for name in names.iter().filter(|n| n.ends_with(".safetensors")) {
        match read_safetensors_summary(&dir.join(name)) {
            Ok(summary) => {
                weights.add(&summary);
                any = true;
            }
            Err(error) => survey.warnings.push(Warning::UnreadableWeights {
                problem: error.to_string(),
            }),
        }
    }
    if any && survey.warnings.is_empty() {
        facts.parameters = Some(weights.parameters);
        if facts.dtype.is_none() {
            facts.dtype = weights.main_dtype().map(Text::from);
        }
    }
    survey.facts = facts;
    Ok(survey)
}

fn read_config(path: &Path) -> Result<serde_json::Map<String, Value>> {
    let bytes = read_capped(path, limits::CONFIG_BYTES, "a config.json")?;
    match parse_json(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::invalid(path, "config.json is not a JSON object")),
        Err(e) => Err(Error::invalid_because(
            path,
            "config.json is not valid JSON",
            e,
        )),
    }
}

/// The card's date fields.
pub const DATE_FIELDS: &[&str] = &["provenance.created", "provenance.last_updated"];

/// A date as `card init` takes it (`--created`, `provenance.created`): `YYYY-MM-DD` or RFC 3339,
/// and a day that exists (`2024-02-30` does not). The error says what was wrong.
pub fn check_date(text: &str) -> std::result::Result<time::Date, String> {
    parse_date(text).ok_or_else(|| {
        format!("'{text}' is not a date (YYYY-MM-DD or RFC 3339, a day that exists)")
    })
}

/// The first date field of `card` that holds no real date, as `field: problem`.
pub fn impossible_date(card: &Card) -> Option<String> {
    DATE_FIELDS.iter().find_map(|field| {
        let problem = match card.metadata_value(field)? {
            Value::String(text) => check_date(text).err()?,
            other => format!("expected a date (YYYY-MM-DD), found {}", kind(other)),
        };
        Some(format!("{field}: {problem}"))
    })
}

/// The fields that say which model a card is about and what was measured on it, with the
/// `card init` input that sets each anew.
pub const IDENTITY_FIELDS: &[(&str, &str)] = &[
    ("provenance.name", "--name"),
    ("provenance.version", "--model-version"),
    ("model-index", "a model-index in --from FILE"),
    (
        "provenance.evaluation.results",
        "provenance.evaluation.results in --from FILE",
    ),
];

/// A field `card init` dropped because the card it came from describes another model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignField {
    /// The field path (`provenance.name`).
    pub field: &'static str,
    /// The digest the card recorded (the other model's).
    pub recorded: String,
    /// How to set the field for this model.
    pub set_with: &'static str,
}

impl From<ForeignField> for Warning {
    fn from(field: ForeignField) -> Self {
        Warning::ForeignCardFieldDropped {
            field: field.field,
            recorded: field.recorded,
            set_with: field.set_with,
        }
    }
}

/// When `card` records a model digest other than `digest` (the folder was copied from another
/// model, or its files changed), removes the identity fields (`IDENTITY_FIELDS`) that describe
/// that other model, and says which. A card that records no digest, or this digest, is left alone.
pub fn drop_foreign_identity(card: &mut Card, digest: &RootDigest) -> Vec<ForeignField> {
    let Some(recorded) = card.recorded_digest().map(str::to_string) else {
        return Vec::new();
    };
    if recorded.parse::<RootDigest>().ok().as_ref() == Some(digest) {
        return Vec::new();
    }
    IDENTITY_FIELDS
        .iter()
        .filter(|(field, _)| card.remove(field).is_some())
        .map(|&(field, set_with)| ForeignField {
            field,
            recorded: recorded.clone(),
            set_with,
        })
        .collect()
}

/// Files per format: the extension (lower case), or the whole name for files without one.
fn file_summary(manifest: &Manifest) -> FileSummary {
    let mut formats: BTreeMap<String, FormatSummary> = BTreeMap::new();
    let mut sizes: BTreeMap<&str, u64> = BTreeMap::new();
    for resource in &manifest.resources {
        *sizes.entry(resource.name.path.as_str()).or_default() += resource.size.unwrap_or(0);
    }
    for (path, size) in &sizes {
        let file_name = path.rsplit('/').next().unwrap_or(path);
        let format = match file_name.rsplit_once('.') {
            Some((stem, extension)) if !stem.is_empty() => extension.to_ascii_lowercase(),
            _ => file_name.to_string(),
        };
        let entry = formats.entry(format).or_default();
        entry.count += 1;
        entry.bytes += size;
    }
    FileSummary {
        count: sizes.len() as u64,
        bytes: sizes.values().sum(),
        formats,
    }
}

/// The Hub task a transformers architecture name implies, where it is unambiguous.
fn task_of_architecture(architecture: &str) -> Option<&'static str> {
    const SUFFIXES: &[(&str, &str)] = &[
        ("ForCausalLM", "text-generation"),
        ("LMHeadModel", "text-generation"),
        ("ForSequenceClassification", "text-classification"),
        ("ForTokenClassification", "token-classification"),
        ("ForQuestionAnswering", "question-answering"),
        ("ForMaskedLM", "fill-mask"),
        ("ForImageClassification", "image-classification"),
        ("ForObjectDetection", "object-detection"),
        ("ForSpeechSeq2Seq", "automatic-speech-recognition"),
        ("ForCTC", "automatic-speech-recognition"),
    ];
    SUFFIXES
        .iter()
        .find(|(suffix, _)| architecture.ends_with(suffix))
        .map(|(_, task)| *task)
}
