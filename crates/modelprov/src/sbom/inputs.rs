//! Everything an AI-SBOM is made from, gathered once and written as CycloneDX or SPDX: the model
//! (manifest and digest), its card, its lineage, its datasets, its libraries and their known
//! vulnerabilities.

use serde_json::{Map, Value};

use super::deps::Package;
use super::osv::Match;
use crate::card::{CardData, LicenseInfo, license_info};
use crate::digest::RootDigest;
use crate::lineage::{LineageRecord, Relation};
use crate::manifest::Manifest;

/// Everything one AI-SBOM of a model says, gathered once (`gather_inputs`) and written as CycloneDX
/// or SPDX.
pub struct SbomInputs {
    /// The model's name (the card's provenance name, else the folder's).
    pub name: String,
    /// The model's version: the card's `provenance.version`, else its lineage record's.
    pub version: Option<String>,
    /// The manifest (whole files, SHA-256) whose root is `digest`.
    pub manifest: Manifest,
    /// The model digest (`sha256:<hex>`, the OMS root digest of the folder without its top-level
    /// `README.md`) that every piece is bound to.
    pub digest: RootDigest,
    /// The model card (`--card`, else the folder's `README.md`), when there is one.
    pub card: Option<CardInput>,
    /// Ancestors from the lineage registry, nearest first.
    pub ancestors: Vec<Ancestor>,
    /// Datasets from the lineage record (with digests) and the card.
    pub datasets: Vec<DatasetInput>,
    /// Libraries from the dependency files, sorted and deduplicated.
    pub packages: Vec<Package>,
    /// Known vulnerabilities of pinned packages, from the OSV database (empty without one).
    pub vulnerabilities: Vec<Match>,
    /// RFC 3339 creation time (from SOURCE_DATE_EPOCH when set); CycloneDX omits it when `None`.
    pub timestamp: Option<String>,
}

/// The model card an SBOM describes.
pub struct CardInput {
    /// The card's front matter (or a whole YAML/JSON card), as JSON.
    pub metadata: Map<String, Value>,
    /// The fields modelprov reads from that front matter (licence, base model, datasets,
    /// `model-index`, provenance).
    pub data: CardData,
    /// Hex SHA-256 of the card file.
    pub sha256: String,
    /// The card's file name (`README.md`), without its folder.
    pub file_name: String,
}

/// A model this one derives from: from the lineage registry, else the card's `base_model`.
#[derive(Clone, Debug)]
pub struct Ancestor {
    /// `None` for a Hub base model known only by id (no digest).
    pub digest: Option<RootDigest>,
    /// Its name: the lineage registry's (`(not recorded)` when it has none), or the Hub id the
    /// card's `base_model` gives.
    pub name: String,
    /// Its version in the lineage registry, when recorded.
    pub version: Option<String>,
    /// How the model (or the ancestor below it) derives from this one.
    pub relation: Option<Relation>,
    /// The child this is a parent of (`None`: the model itself).
    pub child: Option<RootDigest>,
    /// Its Hugging Face Hub id, when the card's `base_model` names it.
    pub hub_id: Option<String>,
}

/// A dataset the model's lineage record or card names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DatasetInput {
    /// Its name or Hub id, as the record or card gives it; one entry per name.
    pub name: String,
    /// Its version, when the lineage record states one.
    pub version: Option<String>,
    /// `sha256:<hex>` of the dataset's content, when the lineage record has it.
    pub digest: Option<RootDigest>,
    /// Where to fetch it: the record's URI, or the Hub page of a card's `org/name` dataset id.
    pub uri: Option<String>,
    /// Its size as the producer states it (`10M examples`, `5 TB`).
    pub size: Option<String>,
}

/// A licence as SBOMs state it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LicenseChoice {
    /// One SPDX licence id.
    Id(String),
    /// An SPDX expression.
    Expression(String),
    /// A licence with no SPDX id (a Hub-only licence, `other`), by name and optional URL.
    Named {
        /// The licence as the card names it: a Hub id (`llama3`), the card's `license_name` for
        /// `other`, or an unrecognised id as written.
        name: String,
        /// Where its text is: the card's `license_link`, else the Hub's link for a Hub licence.
        url: Option<String>,
    },
}

impl SbomInputs {
    /// The card's licence in SPDX terms. Hub ids with an exact SPDX equivalent become that id;
    /// ambiguous ones (`gpl-3.0`: -only or -or-later?) and Hub-only ones stay named.
    pub fn license(&self) -> Option<LicenseChoice> {
        let card = self.card.as_ref()?;
        let license = card.data.license.as_ref()?.0.clone();
        let link = card.data.license_link.as_ref().map(|l| l.0.clone());
        Some(match license_info(&license) {
            LicenseInfo::Hub(hub) | LicenseInfo::HubOtherCase(hub) => match hub.spdx {
                Some(spdx) if !hub.alias => LicenseChoice::Id(spdx.to_string()),
                _ if hub.id == "other" => LicenseChoice::Named {
                    name: card
                        .data
                        .license_name
                        .as_ref()
                        .map(|n| n.0.clone())
                        .unwrap_or_else(|| "other".into()),
                    url: link,
                },
                _ => LicenseChoice::Named {
                    name: hub.id.to_string(),
                    url: link.or(hub.link.map(str::to_string)),
                },
            },
            LicenseInfo::Spdx(expression) => {
                if expression.contains(' ') {
                    LicenseChoice::Expression(expression)
                } else {
                    LicenseChoice::Id(expression)
                }
            }
            LicenseInfo::Unknown => LicenseChoice::Named {
                name: license,
                url: link,
            },
        })
    }

    /// Short text for a model-card field list.
    pub fn card_list(&self, path: &[&str]) -> Vec<String> {
        let Some(card) = &self.card else {
            return Vec::new();
        };
        let mut value = card.metadata.get(path[0]);
        for key in &path[1..] {
            value = value.and_then(|v| v.get(key));
        }
        match value {
            Some(Value::Array(items)) => items.iter().filter_map(text_of).collect(),
            Some(other) => text_of(other).into_iter().collect(),
            None => Vec::new(),
        }
    }
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Lineage ancestors as SBOM inputs: every node of the record's ancestry except the model.
pub fn ancestors_from_lineage(
    graph: &crate::lineage::Subgraph,
    model: &RootDigest,
) -> Vec<Ancestor> {
    let mut ancestors: Vec<Ancestor> = graph
        .edges
        .iter()
        .map(|edge| {
            let node = graph.nodes.iter().find(|n| n.digest == edge.parent);
            Ancestor {
                digest: Some(edge.parent),
                name: node
                    .and_then(|n| n.name.clone())
                    .unwrap_or_else(|| "(not recorded)".into()),
                version: node.and_then(|n| n.version.clone()),
                relation: Some(edge.relation),
                child: (edge.child != *model).then_some(edge.child),
                hub_id: None,
            }
        })
        .collect();
    // One entry per ancestor (a shared ancestor of a merge is listed once, by its first edge).
    ancestors.sort_by_key(|a| (a.child.is_some(), a.digest));
    ancestors.dedup_by_key(|a| a.digest);
    ancestors
}

/// The datasets a lineage record lists.
pub fn datasets_from_record(record: &LineageRecord) -> Vec<DatasetInput> {
    record
        .datasets
        .iter()
        .map(|d| DatasetInput {
            name: d.name.clone(),
            version: d.version.clone(),
            digest: d.digest,
            uri: d.uri.clone(),
            size: d.size.clone(),
        })
        .collect()
}
