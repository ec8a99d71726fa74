//! Offline validation of a CycloneDX (1.6, 1.7) or SPDX 3.0.1 JSON document: the official JSON
//! schema (bundled in `crates/modelprov/data/sbom/`, no network), then what a schema cannot say:
//! CycloneDX `bom-ref`s unique and every dependency, affects and dataset reference resolving; SPDX
//! element ids unique and every reference resolving.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, LazyLock, Mutex};

use jsonschema::{Draft, Retrieve, Uri, Validator};
use serde::Serialize;
use serde_json::Value;

const CDX_16: &str = include_str!("../../data/sbom/bom-1.6.schema.json");
const CDX_17: &str = include_str!("../../data/sbom/bom-1.7.schema.json");
const CDX_SPDX_IDS: &str = include_str!("../../data/sbom/spdx.schema.json");
const CDX_JSF: &str = include_str!("../../data/sbom/jsf-0.82.schema.json");
const CDX_CRYPTO: &str = include_str!("../../data/sbom/cryptography-defs.schema.json");
const SPDX_301: &str = include_str!("../../data/sbom/spdx-json-schema-3.0.1.json");

/// The `@context` that marks an SPDX 3.0.1 JSON-LD document.
pub const SPDX_CONTEXT: &str = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld";

/// An SBOM format and version modelprov validates, diffs and signs; shown as `CycloneDX 1.6`,
/// `CycloneDX 1.7` or `SPDX 3.0.1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SbomFormat {
    /// CycloneDX JSON with `specVersion` `1.6`.
    #[serde(rename = "CycloneDX 1.6")]
    CycloneDx16,
    /// CycloneDX JSON with `specVersion` `1.7`.
    #[serde(rename = "CycloneDX 1.7")]
    CycloneDx17,
    /// SPDX 3.0.1 JSON-LD, whose `@context` is [`SPDX_CONTEXT`].
    #[serde(rename = "SPDX 3.0.1")]
    Spdx301,
}

impl std::fmt::Display for SbomFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SbomFormat::CycloneDx16 => "CycloneDX 1.6",
            SbomFormat::CycloneDx17 => "CycloneDX 1.7",
            SbomFormat::Spdx301 => "SPDX 3.0.1",
        })
    }
}

/// One problem, at a JSON path (`$.components[3].hashes[0].content`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SbomProblem {
    /// Where the problem is, as a JSON path from the document root (`$` for the whole document).
    pub path: String,
    /// What is wrong; schema messages are cut at 300 characters (ending in `...`).
    pub message: String,
}

/// Which format a document is, from its own markers.
pub fn detect_format(document: &Value) -> Result<SbomFormat, String> {
    if document.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        return match document.get("specVersion").and_then(Value::as_str) {
            Some("1.6") => Ok(SbomFormat::CycloneDx16),
            Some("1.7") => Ok(SbomFormat::CycloneDx17),
            Some(other) => Err(format!(
                "CycloneDX {other} is not supported (1.6 and 1.7 are)"
            )),
            None => Err("a CycloneDX document without specVersion".into()),
        };
    }
    match document.get("@context").and_then(Value::as_str) {
        Some(SPDX_CONTEXT) => Ok(SbomFormat::Spdx301),
        Some(other) => Err(format!(
            "@context '{other}' is not SPDX 3.0.1 ({SPDX_CONTEXT})"
        )),
        None => Err("neither CycloneDX (bomFormat) nor SPDX 3 JSON-LD (@context)".into()),
    }
}

/// Serves the CycloneDX schemas' cross-references from the bundled copies; nothing is fetched.
struct Bundled;

impl Retrieve for Bundled {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let text = match uri.as_str().rsplit('/').next().unwrap_or_default() {
            "spdx.schema.json" => CDX_SPDX_IDS,
            "jsf-0.82.schema.json" => CDX_JSF,
            "cryptography-defs.schema.json" => CDX_CRYPTO,
            other => {
                return Err(
                    format!("schema '{other}' is not bundled (validation is offline)").into(),
                );
            }
        };
        Ok(serde_json::from_str(text)?)
    }
}

fn validator(schema: &str, draft: Draft) -> Arc<Validator> {
    let schema: Value = serde_json::from_str(schema).expect("bundled schemas are JSON");
    Arc::new(
        jsonschema::options()
            .with_draft(draft)
            .with_retriever(Bundled)
            .should_validate_formats(true)
            .build(&schema)
            .expect("bundled schemas compile"),
    )
}

static VALIDATORS: LazyLock<[Arc<Validator>; 3]> = LazyLock::new(|| {
    [
        validator(CDX_16, Draft::Draft7),
        validator(CDX_17, Draft::Draft7),
        validator(SPDX_301, Draft::Draft202012),
    ]
});

/// Every schema and reference problem of `document` in `format`; empty when valid.
pub fn validate_sbom(document: &Value, format: SbomFormat) -> Vec<SbomProblem> {
    let validator = match format {
        SbomFormat::CycloneDx16 => &VALIDATORS[0],
        SbomFormat::CycloneDx17 => &VALIDATORS[1],
        SbomFormat::Spdx301 => &VALIDATORS[2],
    };
    let mut problems: Vec<SbomProblem> = validator
        .iter_errors(document)
        .map(|error| SbomProblem {
            path: json_path(&error.instance_path().to_string()),
            message: truncate(&error.to_string(), 300),
        })
        .collect();
    // The SPDX schema is one large anyOf over every class, so its whole-document errors say
    // little; check each element against its own class for messages that name the field.
    if format == SbomFormat::Spdx301 && !problems.is_empty() {
        let per_element = spdx_element_problems(document);
        if !per_element.is_empty() {
            problems = per_element;
        }
    }
    match format {
        SbomFormat::CycloneDx16 | SbomFormat::CycloneDx17 => {
            problems.extend(cyclonedx_references(document));
        }
        SbomFormat::Spdx301 => problems.extend(spdx_references(document)),
    }
    problems
}

/// Validators for single SPDX classes (`{"$ref": "#/$defs/ai_AIPackage"}`), built when first
/// needed.
static SPDX_CLASSES: LazyLock<Mutex<BTreeMap<String, Option<Arc<Validator>>>>> =
    LazyLock::new(Default::default);

fn spdx_class_validator(class: &str) -> Option<Arc<Validator>> {
    let mut classes = SPDX_CLASSES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    classes
        .entry(class.to_string())
        .or_insert_with(|| {
            let schema: Value = serde_json::from_str(SPDX_301).expect("bundled schemas are JSON");
            let defs = schema.get("$defs")?;
            defs.get(class)?;
            let single = serde_json::json!({
                "$schema": schema["$schema"],
                "$defs": defs,
                "$ref": format!("#/$defs/{class}"),
                "unevaluatedProperties": false,
            });
            jsonschema::options()
                .with_draft(Draft::Draft202012)
                .should_validate_formats(true)
                .build(&single)
                .ok()
                .map(Arc::new)
        })
        .clone()
}

fn spdx_element_problems(document: &Value) -> Vec<SbomProblem> {
    let mut problems = Vec::new();
    for (i, element) in document["@graph"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let class = element
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(validator) = spdx_class_validator(class) else {
            problems.push(SbomProblem {
                path: format!("$.@graph[{i}].type"),
                message: format!("'{class}' is not an SPDX 3.0.1 class"),
            });
            continue;
        };
        let errors: Vec<_> = validator.iter_errors(element).collect();
        // "Unevaluated properties" follows from any other error; report it only alone.
        let real: Vec<_> = errors
            .iter()
            .filter(|e| !e.to_string().starts_with("Unevaluated properties"))
            .collect();
        let shown = if real.is_empty() {
            errors.iter().collect()
        } else {
            real
        };
        for error in shown {
            problems.push(SbomProblem {
                path: json_path(&format!("/@graph/{i}{}", error.instance_path())),
                message: format!("({class}) {}", truncate(&error.to_string(), 300)),
            });
        }
    }
    problems
}

/// `/components/3/name` as `$.components[3].name`.
fn json_path(pointer: &str) -> String {
    let mut path = String::from("$");
    for part in pointer.split('/').filter(|p| !p.is_empty()) {
        if part.chars().all(|c| c.is_ascii_digit()) {
            path.push_str(&format!("[{part}]"));
        } else {
            path.push('.');
            path.push_str(&part.replace("~1", "/").replace("~0", "~"));
        }
    }
    path
}

fn truncate(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

/// Unique `bom-ref`s; `dependencies`, vulnerability `affects` and model-card dataset `ref`s that
/// name an existing `bom-ref`.
fn cyclonedx_references(document: &Value) -> Vec<SbomProblem> {
    let mut refs = BTreeSet::new();
    let mut problems = Vec::new();
    let mut pointers = Vec::new();
    collect_refs(document, "$", &mut refs, &mut problems, &mut pointers);
    let mut check = |path: String, reference: &str, what: &str| {
        if !refs.contains(reference) {
            problems.push(SbomProblem {
                path,
                message: format!("{what} '{reference}' names no bom-ref in this document"),
            });
        }
    };
    for (i, dependency) in document["dependencies"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some(reference) = dependency["ref"].as_str() {
            check(
                format!("$.dependencies[{i}].ref"),
                reference,
                "dependency ref",
            );
        }
        for (j, on) in dependency["dependsOn"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(on) = on.as_str() {
                check(
                    format!("$.dependencies[{i}].dependsOn[{j}]"),
                    on,
                    "dependsOn",
                );
            }
        }
    }
    for (i, vulnerability) in document["vulnerabilities"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        for (j, affect) in vulnerability["affects"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(reference) = affect["ref"].as_str() {
                check(
                    format!("$.vulnerabilities[{i}].affects[{j}].ref"),
                    reference,
                    "affected ref",
                );
            }
        }
    }
    for (path, reference) in pointers {
        check(path, &reference, "dataset ref");
    }
    problems
}

fn collect_refs(
    value: &Value,
    path: &str,
    refs: &mut BTreeSet<String>,
    problems: &mut Vec<SbomProblem>,
    dataset_refs: &mut Vec<(String, String)>,
) {
    match value {
        Value::Object(map) => {
            if let Some(reference) = map.get("bom-ref").and_then(Value::as_str)
                && !refs.insert(reference.to_string())
            {
                problems.push(SbomProblem {
                    path: format!("{path}.bom-ref"),
                    message: format!("bom-ref '{reference}' is used twice"),
                });
            }
            for (key, child) in map {
                if key == "dependencies" && path == "$" {
                    continue;
                }
                if key == "datasets" {
                    for (i, dataset) in child.as_array().into_iter().flatten().enumerate() {
                        if let Some(reference) = dataset.get("ref").and_then(Value::as_str) {
                            dataset_refs
                                .push((format!("{path}.datasets[{i}].ref"), reference.to_string()));
                        }
                    }
                }
                collect_refs(
                    child,
                    &format!("{path}.{key}"),
                    refs,
                    problems,
                    dataset_refs,
                );
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_refs(item, &format!("{path}[{i}]"), refs, problems, dataset_refs);
            }
        }
        _ => {}
    }
}

/// Unique `spdxId`s, and every element reference (relationships, document and SBOM elements,
/// `suppliedBy`, `createdBy`) naming an element or agent that exists.
fn spdx_references(document: &Value) -> Vec<SbomProblem> {
    let graph = document["@graph"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut ids = BTreeSet::new();
    let mut problems = Vec::new();
    for (i, element) in graph.iter().enumerate() {
        for key in ["spdxId", "@id"] {
            if let Some(id) = element.get(key).and_then(Value::as_str)
                && !ids.insert(id.to_string())
            {
                problems.push(SbomProblem {
                    path: format!("$.@graph[{i}].{key}"),
                    message: format!("'{id}' identifies two elements"),
                });
            }
        }
    }
    for (i, element) in graph.iter().enumerate() {
        for key in ["from", "suppliedBy", "creationInfo"] {
            if let Some(reference) = element.get(key).and_then(Value::as_str)
                && !ids.contains(reference)
            {
                problems.push(SbomProblem {
                    path: format!("$.@graph[{i}].{key}"),
                    message: format!("'{reference}' names no element in this document"),
                });
            }
        }
        for key in ["to", "element", "rootElement", "createdBy", "createdUsing"] {
            for (j, reference) in element
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(reference) = reference.as_str()
                    && !ids.contains(reference)
                {
                    problems.push(SbomProblem {
                        path: format!("$.@graph[{i}].{key}[{j}]"),
                        message: format!("'{reference}' names no element in this document"),
                    });
                }
            }
        }
    }
    problems
}
