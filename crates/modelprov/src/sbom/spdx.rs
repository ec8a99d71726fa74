//! SPDX 3.0.1 JSON-LD with the AI and Dataset profiles. The model is an `ai_AIPackage` whose
//! `verifiedUsing` is the root digest and which `contains` every file (`software_File` with its
//! SHA-256); datasets are `dataset_DatasetPackage`s it was `trainedOn`; ancestors are
//! `ai_AIPackage`s that are `ancestorOf` it (with digests); libraries are `software_Package`s it
//! `dependsOn`; known vulnerabilities are `security_Vulnerability`s associated with a library.
//! Element ids live under a namespace derived from the content, so the same inputs give the same
//! ids; `created` is SOURCE_DATE_EPOCH when set (SPDX requires a creation time).

use serde_json::{Map, Value, json};

use super::inputs::{LicenseChoice, SbomInputs};
use super::validate::SPDX_CONTEXT;

/// The SPDX 3.0.1 JSON-LD document of `inputs`, with `created` (RFC 3339) as its creation time.
pub fn spdx(inputs: &SbomInputs, created: &str) -> Value {
    let mut writer = Writer::new(inputs);
    writer.document(inputs, created)
}

struct Writer {
    namespace: String,
    graph: Vec<Value>,
    relationships: usize,
}

impl Writer {
    fn new(inputs: &SbomInputs) -> Writer {
        let serial = super::serial_number(&super::inputs_fingerprint(inputs));
        Writer {
            namespace: format!("https://spdx.modelprov.dev/{serial}/"),
            graph: Vec::new(),
            relationships: 0,
        }
    }

    fn id(&self, local: &str) -> String {
        let safe: String = local
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '/') {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        format!("{}{safe}", self.namespace)
    }

    fn add(&mut self, element: Value) -> String {
        let id = element["spdxId"]
            .as_str()
            .expect("elements have ids")
            .to_string();
        self.graph.push(element);
        id
    }

    fn relate(&mut self, from: &str, kind: &str, to: Vec<String>, comment: Option<String>) {
        if to.is_empty() {
            return;
        }
        self.relationships += 1;
        let mut relationship = json!({
            "type": "Relationship",
            "spdxId": self.id(&format!("relationship/{}", self.relationships)),
            "creationInfo": "_:creationinfo",
            "from": from,
            "relationshipType": kind,
            "to": to,
        });
        if let Some(comment) = comment {
            relationship["comment"] = json!(comment);
        }
        self.graph.push(relationship);
    }

    fn document(&mut self, inputs: &SbomInputs, created: &str) -> Value {
        let tool = self.id("agent/modelprov");
        let mut elements = Vec::new();
        let model = self.model(inputs);
        elements.push(model.clone());

        let files: Vec<String> = inputs
            .manifest
            .resources
            .iter()
            .map(|r| {
                self.add(json!({
                    "type": "software_File",
                    "spdxId": self.id(&format!("file/{}", r.name.path)),
                    "creationInfo": "_:creationinfo",
                    "name": r.name.path,
                    "verifiedUsing": [{"type": "Hash", "algorithm": "sha256", "hashValue": hex::encode(&r.digest)}],
                }))
            })
            .collect();
        self.relate(&model, "contains", files.clone(), None);
        elements.extend(files);

        let datasets: Vec<String> = inputs
            .datasets
            .iter()
            .map(|d| {
                let mut dataset = json!({
                    "type": "dataset_DatasetPackage",
                    "spdxId": self.id(&format!("dataset/{}", d.name)),
                    "creationInfo": "_:creationinfo",
                    "name": d.name,
                    "software_primaryPurpose": "data",
                    "dataset_datasetType": ["noAssertion"],
                });
                if let Some(version) = &d.version {
                    dataset["software_packageVersion"] = json!(version);
                }
                if let Some(uri) = &d.uri {
                    dataset["software_downloadLocation"] = json!(uri);
                }
                if let Some(digest) = &d.digest {
                    dataset["verifiedUsing"] =
                        json!([{"type": "Hash", "algorithm": "sha256", "hashValue": digest.hex()}]);
                }
                if let Some(size) = &d.size {
                    dataset["comment"] = json!(format!("size: {size}"));
                }
                self.add(dataset)
            })
            .collect();
        self.relate(&model, "trainedOn", datasets.clone(), None);
        elements.extend(datasets);

        for ancestor in &inputs.ancestors {
            let local = match &ancestor.digest {
                Some(digest) => format!("model/{}", digest.hex()),
                None => format!("model/hf/{}", ancestor.name),
            };
            let mut package = json!({
                "type": "ai_AIPackage",
                "spdxId": self.id(&local),
                "creationInfo": "_:creationinfo",
                "name": ancestor.name,
                "software_primaryPurpose": "model",
            });
            if let Some(version) = &ancestor.version {
                package["software_packageVersion"] = json!(version);
            }
            if let Some(digest) = &ancestor.digest {
                package["verifiedUsing"] =
                    json!([{"type": "Hash", "algorithm": "sha256", "hashValue": digest.hex()}]);
            }
            if let Some(hub_id) = ancestor
                .hub_id
                .as_ref()
                .or(ancestor.digest.is_none().then_some(&ancestor.name))
            {
                package["software_packageUrl"] = json!(format!("pkg:huggingface/{hub_id}"));
                package["software_downloadLocation"] =
                    json!(format!("https://huggingface.co/{hub_id}"));
            }
            let id = self.add(package);
            let child = match &ancestor.child {
                Some(child) => self.id(&format!("model/{}", child.hex())),
                None => model.clone(),
            };
            let comment = ancestor
                .relation
                .map(|r| format!("modelprov relation: {r}"));
            self.relate(&id, "ancestorOf", vec![child], comment);
            elements.push(id);
        }

        let mut packages = Vec::new();
        for package in &inputs.packages {
            let mut element = json!({
                "type": "software_Package",
                "spdxId": self.id(&format!("package/{}", package.purl())),
                "creationInfo": "_:creationinfo",
                "name": package.name,
                "software_packageUrl": package.purl(),
                "software_primaryPurpose": "library",
                "comment": format!("found in {}", package.source),
            });
            if let Some(version) = &package.version {
                element["software_packageVersion"] = json!(version);
            }
            packages.push(self.add(element));
        }
        self.relate(&model, "dependsOn", packages.clone(), None);
        elements.extend(packages);

        let mut security = false;
        for found in &inputs.vulnerabilities {
            security = true;
            let advisory = &found.advisory;
            let mut identifiers = vec![
                json!({"type": "ExternalIdentifier", "externalIdentifierType": "securityOther", "identifier": advisory.id}),
            ];
            identifiers.extend(advisory.aliases.iter().filter(|a| a.starts_with("CVE-")).map(|cve| {
                json!({"type": "ExternalIdentifier", "externalIdentifierType": "cve", "identifier": cve})
            }));
            let mut vulnerability = json!({
                "type": "security_Vulnerability",
                "spdxId": self.id(&format!("vulnerability/{}/{}", advisory.id, found.package.purl())),
                "creationInfo": "_:creationinfo",
                "name": advisory.id,
                "externalIdentifier": identifiers,
            });
            if let Some(summary) = &advisory.summary {
                vulnerability["summary"] = json!(summary);
            }
            if let Some(details) = &advisory.details {
                vulnerability["description"] = json!(details);
            }
            let id = self.add(vulnerability);
            let package = self.id(&format!("package/{}", found.package.purl()));
            let fix = advisory.fixed.as_ref().map(|f| format!("fixed in {f}"));
            self.relate(
                &package,
                "hasAssociatedVulnerability",
                vec![id.clone()],
                fix,
            );
            elements.push(id);
        }

        if let Some(license) = inputs.license() {
            let id = self.license(&license);
            self.relate(&model, "hasDeclaredLicense", vec![id.clone()], None);
            elements.push(id);
        }

        let sbom = self.id("sbom");
        let document = self.id("document");
        let relationship_ids: Vec<String> = self
            .graph
            .iter()
            .filter(|e| e["type"] == "Relationship")
            .filter_map(|e| e["spdxId"].as_str().map(str::to_string))
            .collect();
        elements.extend(relationship_ids);
        let mut profiles = vec!["core", "software", "simpleLicensing", "ai", "dataset"];
        if security {
            profiles.push("security");
        }
        let mut graph = vec![
            json!({
                "type": "CreationInfo",
                "@id": "_:creationinfo",
                "specVersion": "3.0.1",
                "created": created,
                "createdBy": [tool],
                "createdUsing": [self.id("tool/modelprov")],
            }),
            json!({"type": "SoftwareAgent", "spdxId": tool, "creationInfo": "_:creationinfo", "name": "modelprov"}),
            json!({"type": "Tool", "spdxId": self.id("tool/modelprov"), "creationInfo": "_:creationinfo", "name": format!("modelprov {}", env!("CARGO_PKG_VERSION"))}),
            json!({
                "type": "SpdxDocument",
                "spdxId": document,
                "creationInfo": "_:creationinfo",
                "name": format!("AI-BOM of {}", inputs.name),
                "profileConformance": profiles,
                "rootElement": [sbom],
                "element": std::iter::once(sbom.clone()).chain(elements.iter().cloned()).collect::<Vec<_>>(),
            }),
            json!({
                "type": "software_Sbom",
                "spdxId": sbom,
                "creationInfo": "_:creationinfo",
                "software_sbomType": ["analyzed"],
                "rootElement": [model],
                "element": elements,
            }),
        ];
        graph.append(&mut self.graph);
        json!({"@context": SPDX_CONTEXT, "@graph": graph})
    }

    fn model(&mut self, inputs: &SbomInputs) -> String {
        let mut model = Map::new();
        model.insert("type".into(), json!("ai_AIPackage"));
        model.insert(
            "spdxId".into(),
            json!(self.id(&format!("model/{}", inputs.digest.hex()))),
        );
        model.insert("creationInfo".into(), json!("_:creationinfo"));
        model.insert("name".into(), json!(inputs.name));
        if let Some(version) = &inputs.version {
            model.insert("software_packageVersion".into(), json!(version));
        }
        model.insert("software_primaryPurpose".into(), json!("model"));
        model.insert("verifiedUsing".into(), json!([{"type": "Hash", "algorithm": "sha256", "hashValue": inputs.digest.hex(),
            "comment": "OMS manifest root digest (whole files, SHA-256) of the model folder without README.md"}]));
        let mut types = inputs.card_list(&["provenance", "model", "model_type"]);
        types.extend(inputs.card_list(&["provenance", "model", "architecture"]));
        if !types.is_empty() {
            model.insert("ai_typeOfModel".into(), json!(types));
        }
        if let Some(task) = inputs.card_list(&["pipeline_tag"]).first() {
            model.insert("ai_domain".into(), json!([task]));
        }
        let mut uses = inputs.card_list(&["provenance", "intended_use", "primary"]);
        uses.extend(inputs.card_list(&["provenance", "intended_use", "secondary"]));
        if !uses.is_empty() {
            model.insert(
                "ai_informationAboutApplication".into(),
                json!(uses.join("; ")),
            );
        }
        let training: Vec<String> = [
            (
                "method",
                &["provenance", "training", "procedure", "method"][..],
            ),
            (
                "duration",
                &["provenance", "training", "procedure", "duration"][..],
            ),
            (
                "compute",
                &["provenance", "training", "procedure", "compute"][..],
            ),
            ("data", &["provenance", "training", "data", "sources"][..]),
            ("data size", &["provenance", "training", "data", "size"][..]),
        ]
        .iter()
        .filter_map(|(label, path)| {
            let values = inputs.card_list(path);
            (!values.is_empty()).then(|| format!("{label}: {}", values.join(", ")))
        })
        .collect();
        if !training.is_empty() {
            model.insert(
                "ai_informationAboutTraining".into(),
                json!(training.join("; ")),
            );
        }
        let limitations = inputs.card_list(&["provenance", "evaluation", "limitations"]);
        if !limitations.is_empty() {
            model.insert("ai_limitation".into(), json!(limitations.join("; ")));
        }
        let preprocessing = inputs.card_list(&["provenance", "training", "data", "preprocessing"]);
        if !preprocessing.is_empty() {
            model.insert("ai_modelDataPreprocessing".into(), json!(preprocessing));
        }
        let metrics: Vec<Value> = super::cyclonedx::performance_metrics(inputs)
            .into_iter()
            .map(|m| json!({"type": "DictionaryEntry", "key": format!("{} ({})", m["type"].as_str().unwrap_or_default(), m["slice"].as_str().unwrap_or("-")), "value": m["value"]}))
            .collect();
        if !metrics.is_empty() {
            model.insert("ai_metric".into(), Value::Array(metrics));
        }
        let id = model["spdxId"].as_str().expect("set above").to_string();
        self.graph.push(Value::Object(model));
        id
    }

    fn license(&mut self, license: &LicenseChoice) -> String {
        let mut element = json!({"type": "simplelicensing_LicenseExpression", "spdxId": self.id("license"), "creationInfo": "_:creationinfo"});
        match license {
            LicenseChoice::Id(expression) | LicenseChoice::Expression(expression) => {
                element["simplelicensing_licenseExpression"] = json!(expression);
            }
            LicenseChoice::Named { name, url } => {
                let reference: String = name
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                            c
                        } else {
                            '-'
                        }
                    })
                    .collect();
                let reference = format!("LicenseRef-{reference}");
                element["simplelicensing_licenseExpression"] = json!(reference);
                if let Some(url) = url {
                    element["simplelicensing_customIdToUri"] =
                        json!([{"type": "DictionaryEntry", "key": reference, "value": url}]);
                }
            }
        }
        self.add(element)
    }
}
