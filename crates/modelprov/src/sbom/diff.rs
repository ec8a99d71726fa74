//! `sbom diff`: what changed between two SBOMs (CycloneDX or SPDX, even one of each): components
//! added, removed or changed (version, hashes, licences), and vulnerabilities added or removed.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::validate::{SbomFormat, detect_format};

/// What an SBOM says about one component, in comparable form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ComponentFacts {
    /// `model`, `dataset`, `library`, `file`, or another CycloneDX component type as written.
    pub kind: String,
    /// As the document names the component (a package's name, a file's path).
    pub name: String,
    /// Its stated version, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Its hashes as `<algorithm>:<hex>` (`sha256:<hex>`).
    pub hashes: BTreeSet<String>,
    /// Its licences: SPDX ids, SPDX expressions or licence names.
    pub licenses: BTreeSet<String>,
}

/// What changed from one SBOM to another ([`diff_sboms`]), every list in key order.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SbomDiff {
    /// Components only the second document has.
    pub added: Vec<ComponentFacts>,
    /// Components only the first document has.
    pub removed: Vec<ComponentFacts>,
    /// Components both documents have, with different facts.
    pub changed: Vec<ComponentChange>,
    /// Vulnerabilities only the second document reports, each as `ID on KEY` (KEY as in
    /// [`ComponentChange::key`]).
    pub vulnerabilities_added: Vec<String>,
    /// Vulnerabilities only the first document reports, each as `ID on KEY`.
    pub vulnerabilities_removed: Vec<String>,
}

/// A component both SBOMs describe, with different facts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComponentChange {
    /// What identifies it across documents: `model` for the described model, `model:sha256:<hex>`
    /// for another model (an ancestor), else the purl without its version, else `KIND:NAME`;
    /// `@VERSION` is appended when several components share one key.
    pub key: String,
    /// Its facts in the first document.
    pub from: ComponentFacts,
    /// Its facts in the second document.
    pub to: ComponentFacts,
}

impl SbomDiff {
    /// Whether the two documents say the same (`sbom diff` exits 0).
    pub fn is_empty(&self) -> bool {
        *self == SbomDiff::default()
    }
}

/// Compares what `a` and `b` say, whatever their formats (CycloneDX 1.6/1.7 or SPDX 3.0.1, even one
/// of each); the error says why a document is not a supported SBOM.
pub fn diff_sboms(a: &Value, b: &Value) -> Result<SbomDiff, String> {
    let (components_a, vulnerabilities_a) = facts(a)?;
    let (components_b, vulnerabilities_b) = facts(b)?;
    let mut diff = SbomDiff::default();
    for (key, facts) in &components_a {
        match components_b.get(key) {
            None => diff.removed.push(facts.clone()),
            Some(other) if other != facts => diff.changed.push(ComponentChange {
                key: key.clone(),
                from: facts.clone(),
                to: other.clone(),
            }),
            Some(_) => {}
        }
    }
    diff.added = components_b
        .iter()
        .filter(|(key, _)| !components_a.contains_key(*key))
        .map(|(_, facts)| facts.clone())
        .collect();
    diff.vulnerabilities_added = vulnerabilities_b
        .difference(&vulnerabilities_a)
        .cloned()
        .collect();
    diff.vulnerabilities_removed = vulnerabilities_a
        .difference(&vulnerabilities_b)
        .cloned()
        .collect();
    Ok(diff)
}

type Facts = (BTreeMap<String, ComponentFacts>, BTreeSet<String>);

/// Components keyed by what identifies them across versions: an ancestor model by its digest,
/// anything else by its package URL without the version, else kind and name. Vulnerabilities as
/// "ID on KEY".
fn facts(document: &Value) -> Result<Facts, String> {
    match detect_format(document)? {
        SbomFormat::CycloneDx16 | SbomFormat::CycloneDx17 => Ok(cyclonedx_facts(document)),
        SbomFormat::Spdx301 => Ok(spdx_facts(document)),
    }
}

/// An ancestor's purl is made up from the card's `base_model` (and missing when the card names
/// none), while its digest is what the lineage registry signed: two SBOMs name the same ancestor
/// when they give the same digest.
fn key_of(kind: &str, name: &str, purl: Option<&str>, hashes: &BTreeSet<String>) -> String {
    if kind == "model"
        && let Some(digest) = hashes.iter().find(|h| h.starts_with("sha256:"))
    {
        return format!("model:{digest}");
    }
    match purl {
        Some(purl) => purl.split('@').next().unwrap_or(purl).to_string(),
        None => format!("{kind}:{name}"),
    }
}

/// Final keys: a key shared by several components (two versions of one package, from a lock file
/// and config.json) gets each one's version appended, whatever order they came in.
fn keyed(
    entries: Vec<(String, String, ComponentFacts)>,
) -> (BTreeMap<String, ComponentFacts>, BTreeMap<String, String>) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, key, _) in &entries {
        *counts.entry(key.as_str()).or_default() += 1;
    }
    let shared: BTreeSet<String> = counts
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, _)| k.to_string())
        .collect();
    let mut components = BTreeMap::new();
    let mut by_id = BTreeMap::new();
    for (id, key, facts) in entries {
        let key = if shared.contains(&key) {
            format!("{key}@{}", facts.version.as_deref().unwrap_or("-"))
        } else {
            key
        };
        by_id.insert(id, key.clone());
        components.insert(key, facts);
    }
    (components, by_id)
}

fn texts<'v>(
    values: Option<&'v Vec<Value>>,
    pointers: &[&str],
) -> impl Iterator<Item = String> + 'v {
    let pointers: Vec<String> = pointers
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    values.into_iter().flatten().filter_map(move |v| {
        pointers
            .iter()
            .find_map(|p| v.pointer(p).and_then(Value::as_str))
            .map(str::to_string)
    })
}

fn cyclonedx_facts(document: &Value) -> Facts {
    let model = document.pointer("/metadata/component");
    let mut entries = Vec::new();
    let mut stack: Vec<&Value> = model.into_iter().collect();
    stack.extend(document["components"].as_array().into_iter().flatten());
    while let Some(component) = stack.pop() {
        stack.extend(component["components"].as_array().into_iter().flatten());
        stack.extend(
            component
                .pointer("/pedigree/ancestors")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
        let kind = match component["type"].as_str().unwrap_or_default() {
            "machine-learning-model" => "model",
            "data" => "dataset",
            other => other,
        };
        let name = component["name"].as_str().unwrap_or_default().to_string();
        let hashes = component["hashes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| Some(format!("{}:{}", h["alg"].as_str()?, h["content"].as_str()?)))
            .map(|h| h.to_lowercase().replace("sha-256", "sha256"))
            .collect();
        // The document's subject is "model" whatever its name.
        let key = if model == Some(component) {
            "model".to_string()
        } else {
            key_of(kind, &name, component["purl"].as_str(), &hashes)
        };
        let facts = ComponentFacts {
            kind: kind.to_string(),
            version: component["version"].as_str().map(str::to_string),
            hashes,
            licenses: texts(
                component["licenses"].as_array(),
                &["/expression", "/license/id", "/license/name"],
            )
            .collect(),
            name,
        };
        let id = component["bom-ref"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        entries.push((id, key, facts));
    }
    let (components, by_ref) = keyed(entries);
    let mut vulnerabilities = BTreeSet::new();
    for vulnerability in document["vulnerabilities"].as_array().into_iter().flatten() {
        let id = vulnerability["id"].as_str().unwrap_or_default();
        for reference in texts(vulnerability["affects"].as_array(), &["/ref"]) {
            let on = by_ref.get(&reference).cloned().unwrap_or(reference);
            vulnerabilities.insert(format!("{id} on {on}"));
        }
    }
    (components, vulnerabilities)
}

fn spdx_facts(document: &Value) -> Facts {
    let graph = document["@graph"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let by_id: BTreeMap<&str, &Value> = graph
        .iter()
        .filter_map(|e| Some((e["spdxId"].as_str()?, e)))
        .collect();
    let root = graph
        .iter()
        .find(|e| e["type"] == "software_Sbom")
        .and_then(|s| s["rootElement"][0].as_str());
    let relationships: Vec<&Value> = graph
        .iter()
        .filter(|e| e["type"] == "Relationship")
        .collect();
    let mut entries = Vec::new();
    for element in graph {
        let kind = match element["type"].as_str().unwrap_or_default() {
            "ai_AIPackage" => "model",
            "dataset_DatasetPackage" => "dataset",
            "software_Package" => "library",
            "software_File" => "file",
            _ => continue,
        };
        let id = element["spdxId"].as_str().unwrap_or_default();
        let name = element["name"].as_str().unwrap_or_default().to_string();
        let licenses = relationships
            .iter()
            .filter(|r| r["from"] == id && r["relationshipType"] == "hasDeclaredLicense")
            .flat_map(|r| r["to"].as_array().into_iter().flatten())
            .filter_map(|to| {
                by_id.get(to.as_str()?)?["simplelicensing_licenseExpression"]
                    .as_str()
                    .map(str::to_string)
            })
            .collect();
        let hashes = element["verifiedUsing"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| {
                Some(format!(
                    "{}:{}",
                    h["algorithm"].as_str()?,
                    h["hashValue"].as_str()?
                ))
            })
            .collect();
        let key = if Some(id) == root {
            "model".to_string()
        } else {
            key_of(
                kind,
                &name,
                element["software_packageUrl"].as_str(),
                &hashes,
            )
        };
        let facts = ComponentFacts {
            kind: kind.to_string(),
            version: element["software_packageVersion"]
                .as_str()
                .map(str::to_string),
            hashes,
            licenses,
            name,
        };
        entries.push((id.to_string(), key, facts));
    }
    let (components, keys) = keyed(entries);
    let mut vulnerabilities = BTreeSet::new();
    for relationship in relationships
        .iter()
        .filter(|r| r["relationshipType"] == "hasAssociatedVulnerability")
    {
        let package = keys
            .get(relationship["from"].as_str().unwrap_or_default())
            .cloned()
            .unwrap_or_default();
        for to in relationship["to"].as_array().into_iter().flatten() {
            if let Some(name) = to
                .as_str()
                .and_then(|id| by_id.get(id))
                .and_then(|v| v["name"].as_str())
            {
                vulnerabilities.insert(format!("{name} on {package}"));
            }
        }
    }
    (components, vulnerabilities)
}
