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

/// A lineage record: which model (name, version, digest) was derived from which parents and
/// datasets, how, and by whom (docs/lineage.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineageRecord {
    /// The model's name, a label; may not contain `@`.
    pub name: String,
    /// The model's version, a label; may not contain `@`. Semantic versions sort as such.
    pub version: String,
    /// The model's manifest root digest (OMS).
    pub digest: RootDigest,
    /// RFC 3339; `lineage record` fills in the current time when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The models this one was derived from, each by digest and relation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<Parent>,
    /// The datasets the model was trained or tuned on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<Dataset>,
    /// How the model was produced: method, hyperparameters, duration, compute and code revision.
    #[serde(default, skip_serializing_if = "Procedure::is_empty")]
    pub procedure: Procedure,
    /// Who or what produced the model (a person, team, CI job URI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trainer: Option<String>,
    /// What was changed relative to the parents, in free text ("safety tuning").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modifications: Option<String>,
    /// Validation or evaluation results: metric name to number.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, f64>,
    /// SHA-256 of the model card file, when one describes the model (`sha256:` and lowercase
    /// hex once read, as the Statement holds it).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "canonical_card_digest"
    )]
    pub card_digest: Option<String>,
}

/// A card digest as the record's Statement writes it, `sha256:` and lowercase hex, so that a
/// record read from a file is the record its Statement reads back (`SHA256:AB..` or bare hex
/// would otherwise be signed as `sha256:ab..`). Anything else is kept for `check` to name.
fn canonical_card_digest<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<String>, D::Error> {
    let card: Option<String> = Option::deserialize(deserializer)?;
    Ok(card.map(|card| canonical_sha256(&card)))
}

/// `sha256:` and 64 lowercase hex digits for a SHA-256 digest written with or without the
/// prefix, in either case; anything else unchanged.
pub(crate) fn canonical_sha256(digest: &str) -> String {
    let digest_text = digest.strip_prefix("SHA256:").unwrap_or(digest);
    digest_text
        .parse::<RootDigest>()
        .map_or_else(|_| digest.to_string(), |parsed| parsed.to_string())
}

/// A model this one was derived from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parent {
    /// The parent's manifest root digest: the reference that counts.
    pub digest: RootDigest,
    /// `name@version` of the parent, as a label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// How the model derives from this parent.
    pub relation: Relation,
}

/// How a model derives from a parent; recorded as the parent dependency's `relation` annotation,
/// since SLSA has no field for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relation {
    /// Fine-tuned from the parent.
    Finetune,
    /// An adapter trained on the parent.
    Adapter,
    /// A merge of the parent with other models (each one a parent).
    Merge,
    /// A quantized copy of the parent.
    Quantized,
    /// Distilled from the parent.
    Distilled,
    /// The parent, pretrained further.
    ContinuedPretraining,
    /// Any other derivation.
    Other,
}

impl Relation {
    /// Every relation, in declaration order.
    pub const ALL: [Relation; 7] = [
        Relation::Finetune,
        Relation::Adapter,
        Relation::Merge,
        Relation::Quantized,
        Relation::Distilled,
        Relation::ContinuedPretraining,
        Relation::Other,
    ];

    /// The name records and the command line use (`finetune`, `continued-pretraining`, ...).
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

    /// The relation named `text` (as [`Relation::as_str`] spells it); `None` for any other text.
    pub fn parse(text: &str) -> Option<Relation> {
        Relation::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl std::fmt::Display for Relation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A dataset the model was trained on, identified by a digest or a URI (at least one).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    /// The dataset's name, a label ("common-crawl").
    pub name: String,
    /// The dataset's version, as its publisher names it ("2024-01").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `sha256:<hex>` of the dataset's content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<RootDigest>,
    /// Where the dataset is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// As the producer states it ("10M examples", "5 TB").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
}

/// How a model was produced; every field optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    /// The training method, in free text ("SFT + RLHF").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The hyperparameters by name, with any JSON values (`learning_rate`, `epochs`, ...).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub hyperparameters: Map<String, Value>,
    /// How long the training ran, as stated ("2 weeks").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// The hardware it ran on, as stated ("8x A100").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute: Option<String>,
    /// The training code's revision (a git commit, a container digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_revision: Option<String>,
}

impl Procedure {
    /// Whether no field is set (the Statement then leaves the procedure out).
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
            .map_err(|e| Error::invalid_because(path, "not YAML or JSON", e))?;
        let record: LineageRecord = serde_json::from_value(document.value)
            .map_err(|e| Error::invalid_because(path, "not a lineage record", e))?;
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
        if let Some(card) = &self.card_digest
            && card.parse::<RootDigest>().is_err()
        {
            return Err(format!("card_digest '{card}' is not a SHA-256 digest"));
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
