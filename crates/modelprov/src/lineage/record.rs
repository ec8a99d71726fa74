//! A lineage record: "the model with digest D, named N@V, was derived from parents P1..Pn with
//! datasets S1..Sm by procedure X, by trainer T". Every reference to a model is a content digest;
//! names and versions are labels.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::card::parse_yaml;
use crate::digest::RootDigest;
use crate::error::{Error, Result};
use crate::fsutil::{limits, read_capped_string};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineageRecord {
    pub name: String,
    pub version: String,
    /// The model's manifest root digest (OMS).
    pub digest: RootDigest,
    /// RFC 3339; `lineage record` fills in the current time when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<Parent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<Dataset>,
    #[serde(default, skip_serializing_if = "Procedure::is_empty")]
    pub procedure: Procedure,
    /// Who or what produced the model (a person, team, CI job URI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trainer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modifications: Option<String>,
    /// Validation or evaluation results: metric name to number.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, f64>,
    /// SHA-256 of the model card file, when one describes the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_digest: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parent {
    pub digest: RootDigest,
    /// `name@version` of the parent, as a label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub relation: Relation,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relation {
    Finetune,
    Adapter,
    Merge,
    Quantized,
    Distilled,
    ContinuedPretraining,
    Other,
}

impl Relation {
    pub const ALL: [Relation; 7] = [
        Relation::Finetune,
        Relation::Adapter,
        Relation::Merge,
        Relation::Quantized,
        Relation::Distilled,
        Relation::ContinuedPretraining,
        Relation::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Finetune => "finetune",
            Relation::Adapter => "adapter",
            Relation::Merge => "merge",
            Relation::Quantized => "quantized",
            Relation::Distilled => "distilled",
            Relation::ContinuedPretraining => "continued-pretraining",
            Relation::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Relation> {
        Relation::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl std::fmt::Display for Relation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `sha256:<hex>` of the dataset's content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<RootDigest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// As the producer states it ("10M examples", "5 TB").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub hyperparameters: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute: Option<String>,
    /// The training code's revision (a git commit, a container digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_revision: Option<String>,
}

impl Procedure {
    pub fn is_empty(&self) -> bool {
        *self == Procedure::default()
    }
}

impl LineageRecord {
    /// `name@version`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// Reads a record from a YAML or JSON file, naming the file and field on error.
    pub fn read(path: &Path) -> Result<LineageRecord> {
        let text = read_capped_string(path, limits::DOCUMENT_BYTES, "a lineage record")?;
        let document = parse_yaml(&text, 1)
            .map_err(|e| Error::invalid(path, format!("not YAML or JSON: {e}")))?;
        let record: LineageRecord = serde_json::from_value(document.value)
            .map_err(|e| Error::invalid(path, format!("not a lineage record: {e}")))?;
        record
            .check()
            .map_err(|problem| Error::invalid(path, problem))?;
        Ok(record)
    }

    /// What every record must satisfy, whatever its source.
    pub fn check(&self) -> std::result::Result<(), String> {
        for (field, value) in [("name", &self.name), ("version", &self.version)] {
            if value.trim().is_empty() {
                return Err(format!("the record has an empty {field}"));
            }
            if value.contains('@') || value.chars().any(char::is_control) {
                return Err(format!(
                    "{field} '{value}' may not contain '@' or control characters"
                ));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for parent in &self.parents {
            if parent.digest == self.digest {
                return Err(format!("{} lists itself as its parent", self.id()));
            }
            if !seen.insert(parent.digest) {
                return Err(format!("parent {} is listed twice", parent.digest));
            }
        }
        if let Some(dataset) = self
            .datasets
            .iter()
            .find(|d| d.digest.is_none() && d.uri.is_none())
        {
            return Err(format!(
                "dataset '{}' needs a digest or a URI to be identified",
                dataset.name
            ));
        }
        if let Some(created) = &self.created {
            time::OffsetDateTime::parse(created, &time::format_description::well_known::Rfc3339)
                .map_err(|e| format!("created '{created}' is not an RFC 3339 time: {e}"))?;
        }
        if let Some(card) = &self.card_digest {
            let hex = card.strip_prefix("sha256:").unwrap_or(card);
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("card_digest '{card}' is not a SHA-256 digest"));
            }
        }
        if let Some((name, value)) = self.metrics.iter().find(|(_, v)| !v.is_finite()) {
            return Err(format!("metric '{name}' is {value}, not a finite number"));
        }
        Ok(())
    }
}

/// Splits `name@version`; `None` for a bare name.
pub fn split_id(id: &str) -> (&str, Option<&str>) {
    match id.rsplit_once('@') {
        Some((name, version)) if !name.is_empty() && !version.is_empty() => (name, Some(version)),
        _ => (id, None),
    }
}
