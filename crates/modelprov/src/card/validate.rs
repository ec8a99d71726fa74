//! Offline checks of a card's metadata against what the Hugging Face Hub accepts and what a
//! provenance review needs. Each finding names the field path and its line in the file.

use std::str::FromStr;

use serde::Serialize;
use serde_json::{Map, Value};
use time::Date;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use super::fields::kind;
use super::file::{Card, CardFormat};
use super::known::{
    LicenseInfo, is_language_code, is_library_name, library_names, license_info, pipeline_tags,
};
use super::suggest::closest;
use super::yaml::child_path;
use crate::digest::RootDigest;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The card is invalid: `card validate` fails.
    Error,
    /// Worth fixing, but the card is valid; `card validate` fails only with `--strict`.
    Warning,
}

/// One problem with a card, from [`validate`] or [`model_digest_finding`], with the field and line
/// it concerns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Whether it is an error or a warning.
    pub severity: Severity,
    /// The field path (`model-index[0].results[0].metrics[1].value`); empty for the whole card.
    pub path: String,
    /// The 1-based line in the card file, when the field is in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// What is wrong, in words, with a suggestion when there is one.
    pub message: String,
}

/// Top-level keys the Hub documents for model cards (plus `provenance`, ours).
const HUB_KEYS: &[&str] = &[
    "license",
    "license_name",
    "license_link",
    "language",
    "library_name",
    "pipeline_tag",
    "tags",
    "datasets",
    "metrics",
    "base_model",
    "base_model_relation",
    "model-index",
    "co2_eq_emissions",
    "widget",
    "inference",
    "thumbnail",
    "new_version",
    "model_name",
    "provenance",
];

/// `base_model_relation` values the Hub accepts.
const RELATIONS: &[&str] = &["adapter", "merge", "quantized", "finetune"];

/// The provenance sections and the fields each holds (`None`: a leaf).
const PROVENANCE_FIELDS: &[(&str, &[&str])] = &[
    ("name", &[]),
    ("version", &[]),
    ("created", &[]),
    ("last_updated", &[]),
    ("creators", &[]),
    ("training", &["data", "procedure"]),
    ("evaluation", &["results", "limitations"]),
    ("intended_use", &["primary", "secondary", "out_of_scope"]),
    ("ethical_considerations", &["risks", "mitigations"]),
    ("maintenance", &["versioning", "update_frequency"]),
    (
        "model",
        &[
            "digest",
            "architecture",
            "model_type",
            "dtype",
            "parameters",
            "files",
        ],
    ),
];

const TRAINING_DATA_FIELDS: &[&str] = &["sources", "size", "preprocessing"];
const PROCEDURE_FIELDS: &[&str] = &["method", "duration", "compute", "hyperparameters"];

/// All findings for `card`, errors first, then in file order. `today` bounds dates.
pub fn validate(card: &Card, today: Date) -> Vec<Finding> {
    let mut checker = Checker {
        card,
        today,
        findings: Vec::new(),
    };
    checker.whole_card();
    checker.top_level_keys();
    let meta = &card.metadata;
    checker.license(meta);
    checker.languages(meta.get("language"));
    checker.known_value(
        "pipeline_tag",
        meta.get("pipeline_tag"),
        pipeline_tags(),
        Severity::Error,
    );
    if let Some(value) = meta.get("library_name") {
        checker.library(value);
    }
    for field in ["tags", "datasets", "metrics"] {
        if let Some(value) = meta.get(field) {
            checker.texts(field, value);
        }
    }
    checker.base_model(meta);
    if let Some(index) = meta.get("model-index") {
        checker.model_index(index);
    }
    if let Some(co2) = meta.get("co2_eq_emissions") {
        checker.co2(co2);
    }
    if let Some(provenance) = meta.get("provenance") {
        checker.provenance(provenance);
    }
    let mut findings = checker.findings;
    findings.sort_by_key(|f| (f.severity, f.line.unwrap_or(0)));
    findings
}

struct Checker<'a> {
    card: &'a Card,
    today: Date,
    findings: Vec<Finding>,
}

impl Checker<'_> {
    fn add(&mut self, severity: Severity, path: &str, message: String) {
        self.findings.push(Finding {
            severity,
            path: path.to_string(),
            line: self.card.line_of(path),
            message,
        });
    }

    fn error(&mut self, path: &str, message: String) {
        self.add(Severity::Error, path, message);
    }

    fn warn(&mut self, path: &str, message: String) {
        self.add(Severity::Warning, path, message);
    }

    fn whole_card(&mut self) {
        let text = self.card.text();
        if self.card.format == CardFormat::Readme && text.front_matter.is_none() {
            self.warn("", "no YAML front matter: the Hub sees no metadata (licence, tags, base model) for this card".into());
        }
        for path in &self.card.source.yaml11_booleans {
            let word = self
                .card
                .metadata_value(path)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            self.warn(path, format!("unquoted '{word}' is text in YAML 1.2 but a boolean to YAML 1.1 readers (PyYAML, huggingface_hub); write '{word}' in quotes"));
        }
        for duplicate in &self.card.source.duplicates {
            self.warn(
                &duplicate.path,
                format!(
                    "given twice (lines {} and {}); YAML readers keep only the later value",
                    duplicate.first_line, duplicate.line
                ),
            );
        }
    }

    fn top_level_keys(&mut self) {
        let keys: Vec<String> = self.card.metadata.keys().cloned().collect();
        for key in keys {
            if HUB_KEYS.contains(&key.as_str()) || key.starts_with("extra_gated_") {
                continue;
            }
            if let Some(known) = closest(&key, HUB_KEYS.iter().copied()) {
                self.warn(
                    &key,
                    format!("unknown key '{key}' (kept as is); did you mean '{known}'?"),
                );
            }
        }
    }

    /// A value that should be text. Numbers and booleans are accepted (YAML reads `2` and `true`
    /// unquoted) but not collections.
    fn text<'v>(&mut self, path: &str, value: &'v Value) -> Option<&'v str> {
        match value {
            Value::String(s) if s.trim().is_empty() => {
                self.warn(path, "is empty".into());
                None
            }
            Value::String(s) => Some(s),
            Value::Number(_) | Value::Bool(_) => None,
            Value::Null => {
                self.warn(path, "has no value".into());
                None
            }
            other => {
                self.error(path, format!("expected text, found {}", kind(other)));
                None
            }
        }
    }

    /// A single value where one is expected; a one-item list is forgiven with a warning.
    fn single<'v>(&mut self, path: &str, value: &'v Value) -> Option<(&'v Value, String)> {
        match value {
            Value::Array(items) if items.len() == 1 => {
                self.warn(path, "expected one value, found a one-item list".into());
                Some((&items[0], format!("{path}[0]")))
            }
            Value::Array(items) => {
                self.error(
                    path,
                    format!("expected one value, found a list of {}", items.len()),
                );
                None
            }
            other => Some((other, path.to_string())),
        }
    }

    /// A list of texts; one text alone is a list of one (the Hub accepts both).
    fn texts(&mut self, path: &str, value: &Value) -> Vec<(String, String)> {
        let items: Vec<(String, &Value)> = match value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{path}[{i}]"), v))
                .collect(),
            other => vec![(path.to_string(), other)],
        };
        let mut out = Vec::new();
        for (item_path, item) in items {
            if let Some(text) = self.text(&item_path, item) {
                out.push((item_path, text.to_string()));
            }
        }
        out
    }

    fn license(&mut self, meta: &Map<String, Value>) {
        let Some(value) = meta.get("license") else {
            return;
        };
        let Some((value, path)) = self.single("license", value) else {
            return;
        };
        let Some(id) = self.text(&path, value) else {
            return;
        };
        match license_info(id) {
            LicenseInfo::Hub(hub) => {
                if hub.alias {
                    self.warn(&path, format!("'{id}' is ambiguous in SPDX terms; modelprov reads it as {} (say so with an SPDX id if the licence is '-or-later')", hub.spdx.unwrap_or("?")));
                }
                if id == "other" {
                    for field in ["license_name", "license_link"] {
                        if !meta.contains_key(field) {
                            self.warn(&path, format!("'license: other' needs '{field}' so that readers can find the licence"));
                        }
                    }
                }
            }
            LicenseInfo::HubOtherCase(hub) => self.warn(
                &path,
                format!("'{id}' is the Hub licence id '{}' in other letter case; the Hub matches ids exactly", hub.id),
            ),
            LicenseInfo::Spdx(_) => self.warn(
                &path,
                format!("'{id}' is a valid SPDX expression but not a Hub licence id; the Hub shows it as unknown (use its id, or 'other' with license_name)"),
            ),
            LicenseInfo::Unknown => {
                let ids = super::known::hub_licenses().iter().map(|l| l.id);
                let hint = closest(id, ids).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
                self.error(&path, format!("'{id}' is neither a Hub licence id nor an SPDX expression{hint}"));
            }
        }
        if let Some(link) = meta.get("license_link").and_then(Value::as_str)
            && !(link.starts_with("https://")
                || link.starts_with("http://")
                || link.starts_with("LICENSE"))
        {
            self.warn(
                "license_link",
                format!("'{link}' is neither a URL nor a file in the repository (LICENSE...)"),
            );
        }
    }

    fn languages(&mut self, value: Option<&Value>) {
        let Some(value) = value else { return };
        if let Value::Array(items) = value {
            for (i, item) in items.iter().enumerate() {
                if let Value::Bool(b) = item {
                    let path = format!("language[{i}]");
                    self.error(&path, format!("is the boolean {b}: YAML 1.1 readers turn an unquoted no/yes/on/off into one; write 'no' in quotes for Norwegian"));
                }
            }
        }
        for (path, code) in self.texts("language", value) {
            if code == "multilingual" {
                continue;
            }
            if !is_language_code(&code) {
                let hint = isolang::Language::from_name_lowercase(&code.to_lowercase())
                    .map(|l| l.to_639_1().unwrap_or(l.to_639_3()))
                    .map(|c| format!("; did you mean '{c}'?"))
                    .unwrap_or_default();
                self.error(
                    &path,
                    format!("'{code}' is not an ISO 639-1 or 639-3 language code{hint}"),
                );
            } else if code
                .split(['-', '_'])
                .next()
                .is_some_and(|p| p != p.to_ascii_lowercase())
            {
                self.warn(
                    &path,
                    format!("'{code}': the Hub expects language codes in lower case"),
                );
            }
        }
    }

    fn known_value(
        &mut self,
        field: &str,
        value: Option<&Value>,
        known: &[&str],
        severity: Severity,
    ) {
        let Some(value) = value else { return };
        let Some((value, path)) = self.single(field, value) else {
            return;
        };
        let Some(text) = self.text(&path, value) else {
            return;
        };
        if !known.contains(&text) {
            let hint = closest(text, known.iter().copied())
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_default();
            self.add(
                severity,
                &path,
                format!("'{text}' is not a known {field}{hint}"),
            );
        }
    }

    fn library(&mut self, value: &Value) {
        let Some((value, path)) = self.single("library_name", value) else {
            return;
        };
        let Some(text) = self.text(&path, value) else {
            return;
        };
        if !is_library_name(text) {
            let hint = closest(text, library_names().iter().copied())
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_default();
            self.warn(
                &path,
                format!(
                    "'{text}' is not a library the Hub knows (it will show no code snippet){hint}"
                ),
            );
        }
    }

    fn base_model(&mut self, meta: &Map<String, Value>) {
        let models = match meta.get("base_model") {
            Some(value) => self.texts("base_model", value),
            None => Vec::new(),
        };
        for (path, id) in &models {
            if let Some(rest) = id.strip_prefix("https://huggingface.co/") {
                self.error(
                    path,
                    format!(
                        "base_model takes a Hub model id, not a URL: write '{}'",
                        rest.trim_end_matches('/')
                    ),
                );
            } else if !is_model_id(id) {
                self.error(path, format!("'{id}' is not a Hub model id ('name' or 'owner/name' of letters, digits, '-', '_' and '.')"));
            }
        }
        let Some(relation) = meta.get("base_model_relation") else {
            return;
        };
        let Some(relation) = self.text("base_model_relation", relation) else {
            return;
        };
        if !RELATIONS.contains(&relation) {
            let hint = closest(relation, RELATIONS.iter().copied())
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_default();
            self.error(
                "base_model_relation",
                format!("'{relation}' is not one of {}{hint}", RELATIONS.join(", ")),
            );
        } else if models.is_empty() {
            self.error(
                "base_model_relation",
                "is given without a base_model".into(),
            );
        } else if relation == "merge" && models.len() < 2 {
            self.warn(
                "base_model_relation",
                "a merge normally lists two or more base models".into(),
            );
        } else if relation != "merge" && models.len() > 1 {
            self.warn(
                "base_model_relation",
                format!(
                    "'{relation}' with {} base models; was it a merge?",
                    models.len()
                ),
            );
        }
    }

    fn model_index(&mut self, index: &Value) {
        let Value::Array(entries) = index else {
            self.error(
                "model-index",
                format!("expected a list of models, found {}", kind(index)),
            );
            return;
        };
        for (i, entry) in entries.iter().enumerate() {
            let path = format!("model-index[{i}]");
            let Some(entry) = self.object(&path, entry) else {
                continue;
            };
            match entry.get("name") {
                Some(name) => {
                    self.text(&child_path(&path, "name"), name);
                }
                None => self.error(&path, "has no 'name' (the model's name)".into()),
            }
            let results_path = child_path(&path, "results");
            let Some(results) = entry.get("results") else {
                self.error(&path, "has no 'results'".into());
                continue;
            };
            let Value::Array(results) = results else {
                self.error(
                    &results_path,
                    format!("expected a list, found {}", kind(results)),
                );
                continue;
            };
            for (j, result) in results.iter().enumerate() {
                self.eval_result(&format!("{results_path}[{j}]"), result);
            }
        }
    }

    fn eval_result(&mut self, path: &str, result: &Value) {
        let Some(result) = self.object(path, result) else {
            return;
        };
        for (section, required) in [("task", &["type"][..]), ("dataset", &["type", "name"][..])] {
            let section_path = child_path(path, section);
            let Some(value) = result.get(section) else {
                self.error(path, format!("has no '{section}'"));
                continue;
            };
            let Some(map) = self.object(&section_path, value) else {
                continue;
            };
            for field in required {
                match map.get(*field) {
                    Some(value) => {
                        self.text(&child_path(&section_path, field), value);
                    }
                    None => self.error(&section_path, format!("has no '{field}'")),
                }
            }
        }
        if let Some(task_type) = result
            .get("task")
            .and_then(|t| t.get("type"))
            .and_then(Value::as_str)
            && !pipeline_tags().contains(&task_type)
        {
            let hint = closest(task_type, pipeline_tags().iter().copied())
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_default();
            self.warn(
                &format!("{path}.task.type"),
                format!("'{task_type}' is not a Hub task{hint}"),
            );
        }
        let metrics_path = child_path(path, "metrics");
        let metrics = match result.get("metrics") {
            Some(Value::Array(metrics)) if !metrics.is_empty() => metrics,
            Some(Value::Array(_)) | None => {
                self.error(path, "has no metrics".into());
                return;
            }
            Some(other) => {
                self.error(
                    &metrics_path,
                    format!("expected a list, found {}", kind(other)),
                );
                return;
            }
        };
        for (k, metric) in metrics.iter().enumerate() {
            let path = format!("{metrics_path}[{k}]");
            let Some(metric) = self.object(&path, metric) else {
                continue;
            };
            match metric.get("type") {
                Some(value) => {
                    self.text(&child_path(&path, "type"), value);
                }
                None => self.error(
                    &path,
                    "has no 'type' (the metric's id, e.g. accuracy)".into(),
                ),
            }
            let value_path = child_path(&path, "value");
            match metric.get("value") {
                None => self.error(&path, "has no 'value'".into()),
                Some(value) => self.number(&value_path, value),
            }
        }
    }

    /// A metric value: a number. A number written as text is forgiven with a warning.
    fn number(&mut self, path: &str, value: &Value) {
        match value {
            Value::Number(_) => {}
            Value::String(s) if f64::from_str(s.trim().trim_end_matches('%')).is_ok() => {
                self.warn(
                    path,
                    format!("'{s}' is a number written as text; write it unquoted"),
                );
            }
            Value::String(s) => self.error(path, format!("'{s}' is not a number")),
            other => self.error(path, format!("expected a number, found {}", kind(other))),
        }
    }

    fn object<'v>(&mut self, path: &str, value: &'v Value) -> Option<&'v Map<String, Value>> {
        match value {
            Value::Object(map) => Some(map),
            other => {
                self.error(path, format!("expected a mapping, found {}", kind(other)));
                None
            }
        }
    }

    fn co2(&mut self, value: &Value) {
        match value {
            Value::Number(_) => {}
            Value::Object(map) => match map.get("emissions") {
                Some(emissions) => self.number("co2_eq_emissions.emissions", emissions),
                None => self.error(
                    "co2_eq_emissions",
                    "has no 'emissions' (grams of CO2)".into(),
                ),
            },
            other => self.error(
                "co2_eq_emissions",
                format!("expected a number or a mapping, found {}", kind(other)),
            ),
        }
    }

    fn provenance(&mut self, provenance: &Value) {
        let Some(map) = self.object("provenance", provenance) else {
            return;
        };
        let sections: Vec<&str> = PROVENANCE_FIELDS.iter().map(|(name, _)| *name).collect();
        for (key, value) in map {
            let path = child_path("provenance", key);
            let Some((_, children)) = PROVENANCE_FIELDS.iter().find(|(name, _)| name == key) else {
                self.unknown(&path, key, &sections);
                continue;
            };
            if children.is_empty() {
                match key.as_str() {
                    "creators" => {
                        self.texts(&path, value);
                    }
                    "created" | "last_updated" => self.date(&path, value),
                    "version" => self.version(&path, value),
                    _ => {
                        self.text(&path, value);
                    }
                }
                continue;
            }
            let Some(section) = self.object(&path, value) else {
                continue;
            };
            for (field, value) in section {
                let field_path = child_path(&path, field);
                if !children.contains(&field.as_str()) {
                    self.unknown(&field_path, field, children);
                    continue;
                }
                self.provenance_field(key, field, &field_path, value);
            }
        }
        if let (Some(created), Some(updated)) = (
            map.get("created")
                .and_then(Value::as_str)
                .and_then(parse_date),
            map.get("last_updated")
                .and_then(Value::as_str)
                .and_then(parse_date),
        ) && updated < created
        {
            self.error(
                "provenance.last_updated",
                format!("{updated} is before the creation date {created}"),
            );
        }
    }

    fn provenance_field(&mut self, section: &str, field: &str, path: &str, value: &Value) {
        match (section, field) {
            ("training", "data") => self.subsection(path, value, TRAINING_DATA_FIELDS),
            ("training", "procedure") => self.subsection(path, value, PROCEDURE_FIELDS),
            ("evaluation", "results") => self.benchmarks(path, value),
            ("model", "digest") => {
                if let Some(text) = self.text(path, value)
                    && RootDigest::from_str(text).is_err()
                {
                    self.error(
                        path,
                        format!("'{text}' is not a model digest (sha256: and 64 hex digits)"),
                    );
                }
            }
            ("model", "parameters") => {
                if !value.is_u64() {
                    self.error(
                        path,
                        format!(
                            "expected a whole number of parameters, found {}",
                            kind(value)
                        ),
                    );
                }
            }
            ("model", "files") => {
                self.object(path, value);
            }
            (
                _,
                "limitations" | "primary" | "secondary" | "out_of_scope" | "risks" | "mitigations",
            ) => {
                self.texts(path, value);
            }
            _ => {
                self.text(path, value);
            }
        }
    }

    fn subsection(&mut self, path: &str, value: &Value, fields: &[&str]) {
        let Some(map) = self.object(path, value) else {
            return;
        };
        for (field, value) in map {
            let field_path = child_path(path, field);
            match field.as_str() {
                "sources" | "preprocessing" => {
                    self.texts(&field_path, value);
                }
                "hyperparameters" => {
                    self.object(&field_path, value);
                }
                known if fields.contains(&known) => {
                    self.text(&field_path, value);
                }
                other => self.unknown(&field_path, other, fields),
            }
        }
    }

    fn benchmarks(&mut self, path: &str, value: &Value) {
        let Value::Array(items) = value else {
            self.error(
                path,
                format!(
                    "expected a list of {{benchmark, value}}, found {}",
                    kind(value)
                ),
            );
            return;
        };
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            let Some(map) = self.object(&item_path, item) else {
                continue;
            };
            match map.get("benchmark") {
                Some(name) => {
                    self.text(&child_path(&item_path, "benchmark"), name);
                }
                None => self.error(&item_path, "has no 'benchmark'".into()),
            }
            match map.get("value") {
                Some(value) => self.number(&child_path(&item_path, "value"), value),
                None => self.error(&item_path, "has no 'value'".into()),
            }
        }
    }

    fn unknown(&mut self, path: &str, key: &str, known: &[&str]) {
        let hint = closest(key, known.iter().copied())
            .map(|s| format!("; did you mean '{s}'?"))
            .unwrap_or_default();
        self.warn(path, format!("unknown field '{key}' (kept as is){hint}"));
    }

    fn date(&mut self, path: &str, value: &Value) {
        let Some(text) = self.text(path, value) else {
            if value.is_number() {
                self.error(path, "expected a date (YYYY-MM-DD), found a number".into());
            }
            return;
        };
        match parse_date(text) {
            None => self.error(
                path,
                format!("'{text}' is not a date (YYYY-MM-DD or RFC 3339)"),
            ),
            Some(date) if date > self.today => {
                self.warn(path, format!("{date} is in the future"));
            }
            Some(_) => {}
        }
    }

    fn version(&mut self, path: &str, value: &Value) {
        if let Value::Number(n) = value {
            if n.is_f64() {
                self.warn(
                    path,
                    format!(
                        "the version is the number {n}; quote it ('1.10' reads as 1.1 unquoted)"
                    ),
                );
            }
        } else {
            self.text(path, value);
        }
    }
}

/// The error when `card` does not record `digest`, the digest of the model folder `model`.
pub fn model_digest_finding(
    card: &Card,
    model: &std::path::Path,
    digest: &RootDigest,
) -> Option<Finding> {
    let path = "provenance.model.digest";
    let message = match card.recorded_digest() {
        Some(recorded) if recorded == digest.to_string() => return None,
        Some(recorded) => format!(
            "the card describes {recorded}, but {} is {digest}: the card is not about these bytes",
            model.display()
        ),
        None => format!(
            "the card records no model digest to check {} ({digest}) against; run `modelprov card init`",
            model.display()
        ),
    };
    Some(Finding {
        severity: Severity::Error,
        path: path.into(),
        line: card.line_of(path),
        message,
    })
}

/// `YYYY-MM-DD`, or an RFC 3339 date-time (its date is used).
pub fn parse_date(text: &str) -> Option<Date> {
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .ok()
        .or_else(|| {
            time::OffsetDateTime::parse(text, &Rfc3339)
                .ok()
                .map(time::OffsetDateTime::date)
        })
}

/// A Hub repository id: `name` or `owner/name`.
fn is_model_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('/').collect();
    parts.len() <= 2
        && parts.iter().all(|part| {
            !part.is_empty()
                && !part.starts_with(['.', '-'])
                && !part.contains("..")
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
}
