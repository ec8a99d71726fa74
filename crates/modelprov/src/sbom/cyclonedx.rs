//! CycloneDX 1.6 / 1.7 ML-BOM (JSON). The model is `metadata.component` (type
//! machine-learning-model) with its root digest, its files as sub-components with their SHA-256,
//! its card as `modelCard`, its ancestors as `pedigree`; datasets are `data` components, libraries
//! purl-identified `library` components, known vulnerabilities `vulnerabilities`. The serial number
//! is derived from the content, so the same inputs give the same bytes.

use serde_json::{Map, Value, json};

use super::inputs::{LicenseChoice, SbomInputs};

/// The CycloneDX specification version of a generated ML-BOM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CycloneDxVersion {
    /// CycloneDX 1.6, `sbom generate`'s default.
    V1_6,
    /// CycloneDX 1.7 (`--spec 1.7`).
    V1_7,
}

impl CycloneDxVersion {
    /// The version as `specVersion` and the `$schema` URL write it (`1.6`, `1.7`).
    pub fn as_str(self) -> &'static str {
        match self {
            CycloneDxVersion::V1_6 => "1.6",
            CycloneDxVersion::V1_7 => "1.7",
        }
    }
}

pub fn model_ref(inputs: &SbomInputs) -> String {
    format!("model:{}", inputs.digest)
}

pub fn dataset_ref(name: &str) -> String {
    format!("data:{name}")
}

/// The CycloneDX ML-BOM of `inputs` in `version`, with a serial number (`urn:uuid:...`) derived
/// from its content.
pub fn cyclonedx(inputs: &SbomInputs, version: CycloneDxVersion) -> Value {
    let mut metadata = Map::new();
    if let Some(timestamp) = &inputs.timestamp {
        metadata.insert("timestamp".into(), json!(timestamp));
    }
    metadata.insert(
        "tools".into(),
        json!({"components": [{"type": "application", "name": "modelprov", "version": env!("CARGO_PKG_VERSION")}]}),
    );
    metadata.insert("component".into(), model_component(inputs));

    let mut components: Vec<Value> = inputs.datasets.iter().map(dataset_component).collect();
    components.extend(inputs.packages.iter().map(|p| {
        let mut component = json!({"bom-ref": p.purl(), "type": "library", "name": p.name});
        if let Some(version) = &p.version {
            component["version"] = json!(version);
        }
        component["purl"] = json!(p.purl());
        component["properties"] = json!([{"name": "modelprov:found-in", "value": p.source}]);
        component
    }));

    let mut depends_on: Vec<String> = inputs
        .packages
        .iter()
        .map(super::deps::Package::purl)
        .collect();
    depends_on.extend(inputs.datasets.iter().map(|d| dataset_ref(&d.name)));
    depends_on.sort();
    depends_on.dedup();
    let mut dependencies = vec![json!({"ref": model_ref(inputs), "dependsOn": depends_on})];
    dependencies.extend(inputs.packages.iter().map(|p| json!({"ref": p.purl()})));

    let mut document = Map::new();
    document.insert(
        "$schema".into(),
        json!(format!(
            "http://cyclonedx.org/schema/bom-{}.schema.json",
            version.as_str()
        )),
    );
    document.insert("bomFormat".into(), json!("CycloneDX"));
    document.insert("specVersion".into(), json!(version.as_str()));
    document.insert("serialNumber".into(), json!(""));
    document.insert("version".into(), json!(1));
    document.insert("metadata".into(), Value::Object(metadata));
    document.insert("components".into(), Value::Array(components));
    document.insert("dependencies".into(), Value::Array(dependencies));
    if !inputs.vulnerabilities.is_empty() {
        document.insert(
            "vulnerabilities".into(),
            Value::Array(vulnerabilities(inputs)),
        );
    }
    let serial = super::serial_number(&Value::Object(document.clone()));
    document.insert("serialNumber".into(), json!(format!("urn:uuid:{serial}")));
    Value::Object(document)
}

fn model_component(inputs: &SbomInputs) -> Value {
    let mut model = Map::new();
    model.insert("bom-ref".into(), json!(model_ref(inputs)));
    model.insert("type".into(), json!("machine-learning-model"));
    model.insert("name".into(), json!(inputs.name));
    if let Some(version) = &inputs.version {
        model.insert("version".into(), json!(version));
    }
    if let Some(license) = inputs.license() {
        model.insert("licenses".into(), licenses(&license));
    }
    model.insert(
        "hashes".into(),
        json!([{"alg": "SHA-256", "content": inputs.digest.hex()}]),
    );
    let mut properties = vec![
        json!({"name": "modelprov:root-digest", "value": inputs.digest.to_string()}),
        json!({"name": "modelprov:digest-scope", "value": "OMS manifest root (whole files, SHA-256) of the model folder without README.md; hashes above is that root"}),
    ];
    if let Some(card) = &inputs.card {
        properties.push(json!({"name": "modelprov:card-sha256", "value": card.sha256}));
    }
    model.insert("properties".into(), Value::Array(properties));
    // Every file, with its own SHA-256 from the manifest (no second hashing pass).
    let files: Vec<Value> = inputs
        .manifest
        .resources
        .iter()
        .map(|r| {
            let mut file = json!({
                "bom-ref": format!("file:{}", r.name.path),
                "type": "file",
                "name": r.name.path,
                "hashes": [{"alg": "SHA-256", "content": hex::encode(&r.digest)}],
            });
            if let Some(size) = r.size {
                file["properties"] = json!([{"name": "modelprov:size", "value": size.to_string()}]);
            }
            file
        })
        .collect();
    model.insert("components".into(), Value::Array(files));
    if !inputs.ancestors.is_empty() {
        model.insert("pedigree".into(), pedigree(inputs));
    }
    if inputs.card.is_some() || !inputs.datasets.is_empty() {
        model.insert("modelCard".into(), model_card(inputs));
    }
    Value::Object(model)
}

fn licenses(license: &LicenseChoice) -> Value {
    match license {
        LicenseChoice::Id(id) if super::is_cyclonedx_license_id(id) => {
            json!([{"license": {"id": id}}])
        }
        LicenseChoice::Id(id) | LicenseChoice::Expression(id) => json!([{"expression": id}]),
        LicenseChoice::Named { name, url } => {
            let mut license = json!({"name": name});
            if let Some(url) = url.as_ref().filter(|u| u.starts_with("http")) {
                license["url"] = json!(url);
            }
            json!([{"license": license}])
        }
    }
}

fn pedigree(inputs: &SbomInputs) -> Value {
    let ancestors: Vec<Value> = inputs
        .ancestors
        .iter()
        .map(|a| {
            let mut ancestor = Map::new();
            let reference = match &a.digest {
                Some(digest) => format!("model:{digest}"),
                None => format!("model:hf:{}", a.name),
            };
            ancestor.insert("bom-ref".into(), json!(reference));
            ancestor.insert("type".into(), json!("machine-learning-model"));
            ancestor.insert("name".into(), json!(a.name));
            if let Some(version) = &a.version {
                ancestor.insert("version".into(), json!(version));
            }
            if let Some(digest) = &a.digest {
                ancestor.insert("hashes".into(), json!([{"alg": "SHA-256", "content": digest.hex()}]));
            }
            if let Some(hub_id) = a.hub_id.as_ref().or(a.digest.is_none().then_some(&a.name)) {
                ancestor.insert("purl".into(), json!(format!("pkg:huggingface/{hub_id}")));
                ancestor.insert("externalReferences".into(), json!([{"type": "distribution", "url": format!("https://huggingface.co/{hub_id}")}]));
            }
            let mut properties = Vec::new();
            if let Some(relation) = a.relation {
                properties.push(json!({"name": "modelprov:relation", "value": relation.as_str()}));
            }
            if let Some(child) = &a.child {
                properties.push(json!({"name": "modelprov:parent-of", "value": child.to_string()}));
            }
            if !properties.is_empty() {
                ancestor.insert("properties".into(), Value::Array(properties));
            }
            Value::Object(ancestor)
        })
        .collect();
    json!({"ancestors": ancestors, "notes": "Ancestors with digests come from the signed lineage registry; modelprov:relation says how the model (or the ancestor named by modelprov:parent-of) derives from each."})
}

fn dataset_component(dataset: &super::inputs::DatasetInput) -> Value {
    let mut component =
        json!({"bom-ref": dataset_ref(&dataset.name), "type": "data", "name": dataset.name});
    if let Some(version) = &dataset.version {
        component["version"] = json!(version);
    }
    if let Some(digest) = &dataset.digest {
        component["hashes"] = json!([{"alg": "SHA-256", "content": digest.hex()}]);
    }
    if let Some(uri) = &dataset.uri {
        component["externalReferences"] = json!([{"type": "distribution", "url": uri}]);
    }
    let mut data = json!({"type": "dataset", "name": dataset.name});
    if let Some(size) = &dataset.size {
        data["description"] = json!(format!("size: {size}"));
    }
    component["data"] = json!([data]);
    component
}

fn model_card(inputs: &SbomInputs) -> Value {
    let mut card = Map::new();
    let mut parameters = Map::new();
    if let Some(task) = inputs.card_list(&["pipeline_tag"]).first() {
        parameters.insert("task".into(), json!(task));
    }
    if let Some(family) = inputs
        .card_list(&["provenance", "model", "model_type"])
        .first()
    {
        parameters.insert("architectureFamily".into(), json!(family));
    }
    if let Some(architecture) = inputs
        .card_list(&["provenance", "model", "architecture"])
        .first()
    {
        parameters.insert("modelArchitecture".into(), json!(architecture));
    }
    if !inputs.datasets.is_empty() {
        parameters.insert(
            "datasets".into(),
            Value::Array(
                inputs
                    .datasets
                    .iter()
                    .map(|d| json!({"ref": dataset_ref(&d.name)}))
                    .collect(),
            ),
        );
    }
    if !parameters.is_empty() {
        card.insert("modelParameters".into(), Value::Object(parameters));
    }
    let metrics = performance_metrics(inputs);
    if !metrics.is_empty() {
        card.insert(
            "quantitativeAnalysis".into(),
            json!({"performanceMetrics": metrics}),
        );
    }
    let mut considerations = Map::new();
    let mut use_cases = inputs.card_list(&["provenance", "intended_use", "primary"]);
    use_cases.extend(inputs.card_list(&["provenance", "intended_use", "secondary"]));
    let limitations = inputs.card_list(&["provenance", "evaluation", "limitations"]);
    let risks = inputs.card_list(&["provenance", "ethical_considerations", "risks"]);
    let mitigations = inputs
        .card_list(&["provenance", "ethical_considerations", "mitigations"])
        .join("; ");
    if !use_cases.is_empty() {
        considerations.insert("useCases".into(), json!(use_cases));
    }
    if !limitations.is_empty() {
        considerations.insert("technicalLimitations".into(), json!(limitations));
    }
    if !risks.is_empty() {
        let ethical: Vec<Value> = risks
            .iter()
            .map(|risk| {
                let mut item = json!({"name": risk});
                if !mitigations.is_empty() {
                    item["mitigationStrategy"] = json!(mitigations);
                }
                item
            })
            .collect();
        considerations.insert("ethicalConsiderations".into(), Value::Array(ethical));
    }
    if !considerations.is_empty() {
        card.insert("considerations".into(), Value::Object(considerations));
    }
    let mut properties = Vec::new();
    for (label, path) in [
        (
            "out-of-scope use",
            &["provenance", "intended_use", "out_of_scope"][..],
        ),
        (
            "training method",
            &["provenance", "training", "procedure", "method"][..],
        ),
        (
            "training compute",
            &["provenance", "training", "procedure", "compute"][..],
        ),
        (
            "training duration",
            &["provenance", "training", "procedure", "duration"][..],
        ),
        (
            "training data size",
            &["provenance", "training", "data", "size"][..],
        ),
        (
            "preprocessing",
            &["provenance", "training", "data", "preprocessing"][..],
        ),
        ("creators", &["provenance", "creators"][..]),
        ("created", &["provenance", "created"][..]),
        ("co2 eq emissions (g)", &["co2_eq_emissions"][..]),
        ("base_model_relation", &["base_model_relation"][..]),
    ] {
        for value in inputs.card_list(path) {
            properties.push(json!({"name": format!("modelprov:{label}"), "value": value}));
        }
    }
    if let Some(emissions) = inputs.card_list(&["co2_eq_emissions", "emissions"]).first() {
        properties.push(json!({"name": "modelprov:co2 eq emissions (g)", "value": emissions}));
    }
    if !properties.is_empty() {
        card.insert("properties".into(), Value::Array(properties));
    }
    Value::Object(card)
}

/// Metric values are strings in CycloneDX.
pub(super) fn performance_metrics(inputs: &SbomInputs) -> Vec<Value> {
    let mut metrics = Vec::new();
    let Some(card) = &inputs.card else {
        return metrics;
    };
    for entry in card.data.model_index.iter().flatten() {
        for result in &entry.results {
            let slice = result.dataset.get("name").and_then(Value::as_str);
            for metric in &result.metrics {
                let (Some(kind), Some(value)) = (
                    metric.get("type").and_then(Value::as_str),
                    metric.get("value"),
                ) else {
                    continue;
                };
                let mut item = json!({"type": kind, "value": value_text(value)});
                if let Some(slice) = slice {
                    item["slice"] = json!(slice);
                }
                metrics.push(item);
            }
        }
    }
    if let Some(evaluation) = card
        .data
        .provenance
        .as_ref()
        .and_then(|p| p.evaluation.as_ref())
    {
        for result in &evaluation.results {
            let kind = result
                .metric
                .as_ref()
                .map_or(result.benchmark.0.clone(), |m| m.0.clone());
            metrics.push(json!({"type": kind, "value": value_text(&result.value), "slice": result.benchmark.0}));
        }
    }
    metrics
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn vulnerabilities(inputs: &SbomInputs) -> Vec<Value> {
    inputs
        .vulnerabilities
        .iter()
        .map(|m| {
            let advisory = &m.advisory;
            let mut vulnerability = json!({
                "bom-ref": format!("vuln:{}:{}", advisory.id, m.package.purl()),
                "id": advisory.id,
                "source": {"name": "OSV", "url": format!("https://osv.dev/vulnerability/{}", advisory.id)},
            });
            if !advisory.aliases.is_empty() {
                vulnerability["references"] = Value::Array(
                    advisory.aliases.iter().map(|alias| json!({"id": alias, "source": {"name": if alias.starts_with("CVE-") { "NVD" } else { "OSV" }}})).collect(),
                );
            }
            if let Some(summary) = &advisory.summary {
                vulnerability["description"] = json!(summary);
            }
            if let Some(details) = &advisory.details {
                vulnerability["detail"] = json!(details);
            }
            if let Some(fixed) = &advisory.fixed {
                vulnerability["recommendation"] = json!(format!("Upgrade {} to {fixed} or later", m.package.name));
            }
            if !advisory.references.is_empty() {
                vulnerability["advisories"] = Value::Array(advisory.references.iter().map(|url| json!({"url": url})).collect());
            }
            vulnerability["affects"] = json!([{"ref": m.package.purl()}]);
            vulnerability
        })
        .collect()
}
