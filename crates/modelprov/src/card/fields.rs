//! The typed card: Hugging Face's metadata fields and modelprov's provenance sections, read
//! leniently (a scalar where a list is expected and the reverse, numbers where text is expected)
//! and never dropping a key it does not know (`extra`). Validation works on the raw values and
//! reports what leniency forgave; these types are for building, rendering and showing cards.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Text that may have been written as a number or boolean (`version: 2`).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(s) => Ok(Text(s)),
            Value::Number(n) => Ok(Text(n.to_string())),
            Value::Bool(b) => Ok(Text(b.to_string())),
            // `license: [mit]`: one value in a list, which validation warns about.
            Value::Array(mut items) if items.len() == 1 && !items[0].is_array() => {
                Text::deserialize(items.remove(0)).map_err(serde::de::Error::custom)
            }
            other => Err(serde::de::Error::custom(format!(
                "expected text, found {}",
                kind(&other)
            ))),
        }
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(s.to_string())
    }
}

/// A list that may have been written as one value (`language: en`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct TextList(pub Vec<Text>);

impl TextList {
    /// Whether the list holds no values (an absent or `null` field reads as empty).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The values joined by `separator`, for one-line display.
    pub fn joined(&self, separator: &str) -> String {
        self.0
            .iter()
            .map(|t| t.0.as_str())
            .collect::<Vec<_>>()
            .join(separator)
    }
}

impl<'de> Deserialize<'de> for TextList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Null => Ok(TextList::default()),
            Value::Array(items) => items
                .into_iter()
                .map(|item| Text::deserialize(item).map_err(serde::de::Error::custom))
                .collect::<Result<_, _>>()
                .map(TextList),
            one => Text::deserialize(one)
                .map(|t| TextList(vec![t]))
                .map_err(serde::de::Error::custom),
        }
    }
}

impl<const N: usize> From<[&str; N]> for TextList {
    fn from(items: [&str; N]) -> Self {
        TextList(items.into_iter().map(Text::from).collect())
    }
}

/// The whole front matter.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CardData {
    /// The licence: a Hub licence id (`apache-2.0`, `other`) or an SPDX expression.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub license: Option<Text>,
    /// The custom licence's name, when `license` is `other`.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub license_name: Option<Text>,
    /// A link to the custom licence's text, when `license` is `other`.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub license_link: Option<Text>,
    /// ISO 639-1 or 639-3 codes of the model's languages (`en`, `fr`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub language: TextList,
    /// The Hub library that loads the model (`transformers`, `peft`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub library_name: Option<Text>,
    /// The model's Hub task (`text-generation`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub pipeline_tag: Option<Text>,
    /// Free-form Hub tags.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub tags: TextList,
    /// Ids of the datasets the model was trained on.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub datasets: TextList,
    /// Ids of the metrics the model is evaluated with (`accuracy`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub metrics: TextList,
    /// Hub ids (`owner/name`) of the model or models this one derives from.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub base_model: TextList,
    /// How the model derives from `base_model`: `adapter`, `merge`, `quantized` or `finetune`.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub base_model_relation: Option<Text>,
    /// The `model-index` key: evaluation results in the Hub's structured form.
    #[serde(
        rename = "model-index",
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub model_index: Option<Vec<ModelIndexEntry>>,
    /// A number (grams of CO2) or an object with `emissions`, `source`, `training_type`, ...
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub co2_eq_emissions: Option<Value>,
    /// Passed through as written.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub widget: Option<Value>,
    /// The Hub's `inference` setting, passed through as written.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub inference: Option<Value>,
    /// modelprov's provenance sections, under the `provenance` key.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub provenance: Option<Provenance>,
    /// Every other top-level key, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One `model-index` entry: a model's evaluation results in the Papers-with-Code shape.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ModelIndexEntry {
    /// The evaluated model's name.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<Text>,
    /// Its results, each a task, a dataset and the scores measured on it.
    #[serde(default, deserialize_with = "forgiving")]
    pub results: Vec<EvalResult>,
    /// Any other keys of the entry, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One result of a `model-index` entry: a task, the dataset it was measured on, and the scores.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EvalResult {
    /// The task, as the Hub writes it (`type`, optionally `name`).
    #[serde(default, deserialize_with = "forgiving")]
    pub task: Map<String, Value>,
    /// The dataset the scores were measured on (`type`, `name`, and the Hub's optional keys).
    #[serde(default, deserialize_with = "forgiving")]
    pub dataset: Map<String, Value>,
    /// The scores, each a mapping with the metric's `type` and a numeric `value`.
    #[serde(default, deserialize_with = "forgiving")]
    pub metrics: Vec<Map<String, Value>>,
    /// Any other keys of the result, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// modelprov's provenance sections, under the front matter's `provenance` key
/// (docs/model-cards.md). The licence and base model are Hugging Face's `license` and
/// `base_model`, not repeated here.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Provenance {
    /// The model's name (`SafeChat-v2`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<Text>,
    /// The model's version, as text (`2.0.0`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub version: Option<Text>,
    /// When the model was created: `YYYY-MM-DD` or an RFC 3339 date-time.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub created: Option<Text>,
    /// When the model was last updated: `YYYY-MM-DD` or an RFC 3339 date-time, not before
    /// `created`.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_updated: Option<Text>,
    /// The people or teams who made the model.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub creators: TextList,
    /// What the model was trained on and how.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub training: Option<Training>,
    /// Benchmark scores and known limitations.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub evaluation: Option<Evaluation>,
    /// What the model is for, and what it is not for.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub intended_use: Option<IntendedUse>,
    /// Known risks and their mitigations.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub ethical_considerations: Option<EthicalConsiderations>,
    /// How the model is versioned and how often it is updated.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub maintenance: Option<Maintenance>,
    /// What `card init` measured on the model folder, including its digest.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub model: Option<ModelFacts>,
    /// Unknown keys under `provenance`, kept as written (validation warns about them).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `provenance.training` section: what the model was trained on and how.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Training {
    /// The training data: its sources, size and preprocessing.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub data: Option<TrainingData>,
    /// The training procedure: method, duration, compute and hyperparameters.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub procedure: Option<TrainingProcedure>,
    /// Any other keys of the section, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `provenance.training.data` section.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TrainingData {
    /// Where the training data came from (dataset names or descriptions).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub sources: TextList,
    /// How much data, as written (`10M examples`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub size: Option<Text>,
    /// What was done to the data before training (`PII redaction`, `deduplication`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub preprocessing: TextList,
    /// Any other keys of the section, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `provenance.training.procedure` section.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TrainingProcedure {
    /// How the model was trained (`SFT + RLHF`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub method: Option<Text>,
    /// How long training took, as written (`2 weeks`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration: Option<Text>,
    /// The compute used, as written (`8x A100 GPUs`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub compute: Option<Text>,
    /// Hyperparameter names and their values as written (`learning_rate: 2.0e-05`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Map::is_empty"
    )]
    pub hyperparameters: Map<String, Value>,
    /// Any other keys of the section, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `provenance.evaluation` section.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Evaluation {
    /// Benchmark scores.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub results: Vec<BenchmarkResult>,
    /// Known limitations (`Performs poorly on non-English text`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub limitations: TextList,
    /// Any other keys of the section, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One benchmark score (`MMLU: 0.92`); `model-index` holds the Hub's structured form.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BenchmarkResult {
    /// The benchmark (`MMLU`, `HumanEval`).
    pub benchmark: Text,
    /// The metric the score is in (`pass@1`), when given.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub metric: Option<Text>,
    /// The score; validation requires a number.
    pub value: Value,
    /// Any other keys of the result, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `provenance.intended_use` section.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct IntendedUse {
    /// The uses the model is meant for (`customer support chatbot`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub primary: TextList,
    /// Further uses it suits (`documentation generation`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub secondary: TextList,
    /// Uses it is not meant for (`medical diagnosis`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub out_of_scope: TextList,
    /// Any other keys of the section, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `provenance.ethical_considerations` section.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EthicalConsiderations {
    /// Known risks of using the model (`bias against minorities`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub risks: TextList,
    /// What is done about them (`regular bias audits`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub mitigations: TextList,
    /// Any other keys of the section, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `provenance.maintenance` section.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Maintenance {
    /// The versioning scheme (`semver`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub versioning: Option<Text>,
    /// How often the model is updated (`monthly`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub update_frequency: Option<Text>,
    /// Any other keys of the section, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What `card init` measured on the model folder.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ModelFacts {
    /// `sha256:<root>`: the OMS root digest (files, SHA-256) of the folder without the card.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub digest: Option<Text>,
    /// The first of `config.json`'s `architectures` (`LlamaForCausalLM`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub architecture: Option<Text>,
    /// `config.json`'s `model_type` (`llama`).
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub model_type: Option<Text>,
    /// The weights' dtype: `config.json`'s `torch_dtype` or `dtype`, else the safetensors dtype
    /// holding most parameters.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub dtype: Option<Text>,
    /// Number of parameters, summed over the safetensors headers; only set when every header
    /// could be read.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub parameters: Option<u64>,
    /// How many files the model has, their total size and their formats, from the manifest.
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub files: Option<FileSummary>,
    /// Any other keys under `provenance.model`, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The model's files, from the manifest: how many, their total size, and per format.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FileSummary {
    /// Number of files.
    pub count: u64,
    /// Their total size, in bytes.
    pub bytes: u64,
    /// Per format (file extension, or the file name when it has none): count and bytes.
    #[serde(default)]
    pub formats: std::collections::BTreeMap<String, FormatSummary>,
}

/// The files of one format: how many and their total size.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormatSummary {
    /// Number of files of this format.
    pub count: u64,
    /// Their total size, in bytes.
    pub bytes: u64,
}

impl CardData {
    /// The typed view of a front matter. A field whose value has the wrong shape is left empty
    /// here (validation reports it) rather than failing the whole card.
    pub fn from_metadata(metadata: &Map<String, Value>) -> CardData {
        CardData::deserialize(Value::Object(metadata.clone())).unwrap_or_default()
    }

    /// These fields as front matter (a JSON mapping): empty fields are left out, `extra` keys kept.
    pub fn to_metadata(&self) -> Map<String, Value> {
        match serde_json::to_value(self).expect("card data serialises") {
            Value::Object(map) => map,
            _ => unreachable!("a struct serialises to an object"),
        }
    }
}

/// A field of the wrong shape reads as empty instead of failing its whole section.
fn forgiving<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned + Default>(
    deserializer: D,
) -> Result<T, D::Error> {
    let value = Value::deserialize(deserializer)?;
    Ok(T::deserialize(value).unwrap_or_default())
}

/// A value's kind in words, for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}
