//! What a model folder says about itself, for drafting a card: the architecture, model type and
//! dtype from `config.json`, the parameter count from safetensors headers, the file formats and
//! sizes and the digest from the manifest, and the library the files belong to.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::fields::{FileSummary, FormatSummary, ModelFacts, Text};
use super::safetensors_header::{SafetensorsSummary, read_safetensors_summary};
use crate::error::{Error, Result};
use crate::manifest::Manifest;

/// Largest config.json read (real ones are a few KB).
const MAX_CONFIG_BYTES: u64 = 4 << 20;

#[derive(Clone, Debug, Default)]
pub struct ModelSurvey {
    pub facts: ModelFacts,
    /// The Hub library the files are for, when they say so.
    pub library_name: Option<String>,
    /// The task the architecture's name implies (`...ForCausalLM` is text generation).
    pub pipeline_tag: Option<String>,
    /// Files that could not be read for facts (a broken safetensors header, say).
    pub warnings: Vec<String>,
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
            Err(error) => survey.warnings.push(error.to_string()),
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
    let size = std::fs::metadata(path)
        .map_err(|e| Error::io("read", path, e))?
        .len();
    if size > MAX_CONFIG_BYTES {
        return Err(Error::invalid(
            path,
            format!("{size} bytes is too large for a config.json"),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::invalid(path, "config.json is not a JSON object")),
        Err(e) => Err(Error::invalid(
            path,
            format!("config.json is not valid JSON: {e}"),
        )),
    }
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
