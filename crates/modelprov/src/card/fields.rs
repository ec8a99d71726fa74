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
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

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
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub license: Option<Text>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub license_name: Option<Text>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub license_link: Option<Text>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub language: TextList,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub library_name: Option<Text>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub pipeline_tag: Option<Text>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub tags: TextList,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub datasets: TextList,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub metrics: TextList,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub base_model: TextList,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub base_model_relation: Option<Text>,
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
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub inference: Option<Value>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub provenance: Option<Provenance>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One `model-index` entry: a model's evaluation results in the Papers-with-Code shape.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ModelIndexEntry {
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<Text>,
    #[serde(default, deserialize_with = "forgiving")]
    pub results: Vec<EvalResult>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EvalResult {
    #[serde(default, deserialize_with = "forgiving")]
    pub task: Map<String, Value>,
    #[serde(default, deserialize_with = "forgiving")]
    pub dataset: Map<String, Value>,
    #[serde(default, deserialize_with = "forgiving")]
    pub metrics: Vec<Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// modelprov's provenance sections, under the front matter's `provenance` key
/// (docs/model-cards.md). The licence and base model are Hugging Face's `license` and
/// `base_model`, not repeated here.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Provenance {
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<Text>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub version: Option<Text>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub created: Option<Text>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_updated: Option<Text>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub creators: TextList,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub training: Option<Training>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub evaluation: Option<Evaluation>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub intended_use: Option<IntendedUse>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub ethical_considerations: Option<EthicalConsiderations>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub maintenance: Option<Maintenance>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub model: Option<ModelFacts>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Training {
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub data: Option<TrainingData>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub procedure: Option<TrainingProcedure>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TrainingData {
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub sources: TextList,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub size: Option<Text>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub preprocessing: TextList,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TrainingProcedure {
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub method: Option<Text>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration: Option<Text>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub compute: Option<Text>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Map::is_empty"
    )]
    pub hyperparameters: Map<String, Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Evaluation {
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub results: Vec<BenchmarkResult>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub limitations: TextList,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One benchmark score (`MMLU: 0.92`); `model-index` holds the Hub's structured form.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BenchmarkResult {
    pub benchmark: Text,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub metric: Option<Text>,
    pub value: Value,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct IntendedUse {
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub primary: TextList,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub secondary: TextList,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub out_of_scope: TextList,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EthicalConsiderations {
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub risks: TextList,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "TextList::is_empty"
    )]
    pub mitigations: TextList,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Maintenance {
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub versioning: Option<Text>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub update_frequency: Option<Text>,
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
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub architecture: Option<Text>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub model_type: Option<Text>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub dtype: Option<Text>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub parameters: Option<u64>,
    #[serde(
        default,
        deserialize_with = "forgiving",
        skip_serializing_if = "Option::is_none"
    )]
    pub files: Option<FileSummary>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FileSummary {
    pub count: u64,
    pub bytes: u64,
    /// Per format (file extension, or the file name when it has none): count and bytes.
    #[serde(default)]
    pub formats: std::collections::BTreeMap<String, FormatSummary>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormatSummary {
    pub count: u64,
    pub bytes: u64,
}

impl CardData {
    /// The typed view of a front matter. A field whose value has the wrong shape is left empty
    /// here (validation reports it) rather than failing the whole card.
    pub fn from_metadata(metadata: &Map<String, Value>) -> CardData {
        CardData::deserialize(Value::Object(metadata.clone())).unwrap_or_default()
    }

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
