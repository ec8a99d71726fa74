//! How much of what a provenance review asks for a card answers: the recommended fields, which
//! are present and which are missing.

use serde::Serialize;
use serde_json::{Map, Value};

/// Recommended fields: (what a reader calls it, the paths that answer it; any one is enough).
const RECOMMENDED: &[(&str, &[&str])] = &[
    ("licence", &["license"]),
    ("language", &["language"]),
    ("pipeline tag", &["pipeline_tag"]),
    ("library", &["library_name"]),
    ("model name", &["provenance.name", "model-index"]),
    ("version", &["provenance.version"]),
    ("creation date", &["provenance.created"]),
    ("creators", &["provenance.creators"]),
    ("training data", &["provenance.training.data", "datasets"]),
    ("training procedure", &["provenance.training.procedure"]),
    (
        "evaluation results",
        &["provenance.evaluation.results", "model-index"],
    ),
    ("limitations", &["provenance.evaluation.limitations"]),
    ("intended use", &["provenance.intended_use"]),
    (
        "ethical considerations",
        &["provenance.ethical_considerations"],
    ),
    ("maintenance", &["provenance.maintenance"]),
    ("model digest", &["provenance.model.digest"]),
];

/// A card's completeness score: how many recommended items it answers, and which are missing.
#[derive(Clone, Debug, Serialize)]
pub struct Completeness {
    /// Number of recommended items the card answers.
    pub present: usize,
    /// Number of recommended items (16).
    pub total: usize,
    /// Rounded percentage of `present` out of `total`.
    pub percent: usize,
    /// The missing items, with the field that would answer each.
    pub missing: Vec<MissingItem>,
}

/// A recommended item the card does not answer.
#[derive(Clone, Debug, Serialize)]
pub struct MissingItem {
    /// What a reader calls the item (`training data`, `model digest`).
    pub item: &'static str,
    /// The field path that would answer it (`provenance.training.data`).
    pub field: &'static str,
}

/// Scores a card's metadata (its front matter as JSON) against the recommended items; an item
/// counts when one of its fields holds something other than null, blank text or an empty
/// collection.
pub fn completeness(metadata: &Map<String, Value>) -> Completeness {
    let missing: Vec<MissingItem> = RECOMMENDED
        .iter()
        .filter(|(_, paths)| !paths.iter().any(|path| has_value(metadata, path)))
        .map(|(item, paths)| MissingItem {
            item,
            field: paths[0],
        })
        .collect();
    let total = RECOMMENDED.len();
    let present = total - missing.len();
    Completeness {
        present,
        total,
        percent: (present * 100 + total / 2) / total,
        missing,
    }
}

/// Whether a dotted path leads to something other than null, empty text or an empty collection.
fn has_value(metadata: &Map<String, Value>, path: &str) -> bool {
    let mut parts = path.split('.');
    let Some(first) = parts.next() else {
        return false;
    };
    let mut value = metadata.get(first);
    for part in parts {
        value = value.and_then(|v| v.get(part));
    }
    match value {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Array(items)) => !items.is_empty(),
        Some(Value::Object(map)) => !map.is_empty(),
        Some(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_present_and_names_missing() {
        let meta = json!({"license": "mit", "language": [], "provenance": {"name": "m", "training": {"data": {"sources": ["a"]}}}});
        let score = completeness(meta.as_object().unwrap());
        assert_eq!((score.present, score.total), (3, 16));
        assert_eq!(score.percent, 19);
        assert!(score.missing.iter().any(|m| m.item == "language"));
        assert!(!score.missing.iter().any(|m| m.item == "training data"));
    }
}
