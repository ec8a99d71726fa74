//! The in-toto Statement that an OMS signature signs: one subject (the model's name and root
//! digest) and the `https://model_signing/signature/v1.0` predicate (the serialization and every
//! resource). Reading also accepts the reference tool's older `Digests/v0.1` predicate.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::digest::RootDigest;
use crate::error::Problem;
use crate::manifest::{
    Manifest, NameRules, ResourceEntry, ResourceOut, Serialization, resources_from_entries,
};

/// The `_type` of an in-toto Statement v1, which every Statement modelprov writes has.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The predicate type of OMS model signatures (v1.0): the serialization and every resource.
pub const OMS_PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";
/// The older model_signing predicate (`Digests/v0.1`: a subject per file, no root digest).
pub const OMS_LEGACY_PREDICATE_TYPE: &str = "https://model_signing/Digests/v0.1";
const LEGACY_STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v0.1";

/// An in-toto Statement v1 about one subject, with any predicate, serialised with in-toto's field
/// names in its order. Every Statement modelprov signs is one of these.
#[derive(Serialize)]
pub struct StatementOut<'a, P: Serialize> {
    #[serde(rename = "_type")]
    statement_type: &'static str,
    subject: [SubjectOut<'a>; 1],
    #[serde(rename = "predicateType")]
    predicate_type: &'a str,
    predicate: P,
}

impl<'a, P: Serialize> StatementOut<'a, P> {
    /// A Statement that `subject_name` (with SHA-256 `subject_hex`) is what `predicate` says.
    pub fn new(
        subject_name: &'a str,
        subject_hex: String,
        predicate_type: &'a str,
        predicate: P,
    ) -> Self {
        StatementOut {
            statement_type: STATEMENT_TYPE,
            subject: [SubjectOut {
                name: subject_name,
                digest: Sha256Out {
                    sha256: subject_hex,
                },
            }],
            predicate_type,
            predicate,
        }
    }

    /// 2-space indented JSON, no trailing newline (as the reference OMS tool writes).
    pub fn to_vec_pretty(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("statements serialise")
    }
}

#[derive(Serialize)]
struct SubjectOut<'a> {
    name: &'a str,
    digest: Sha256Out,
}

/// `{"sha256": "<hex>"}`, in-toto's digest set with one algorithm.
#[derive(Serialize)]
pub struct Sha256Out {
    /// The SHA-256, in hex.
    pub sha256: String,
}

#[derive(Serialize)]
struct PredicateOut<'a> {
    serialization: &'a Serialization,
    resources: Vec<ResourceOut>,
}

/// The Statement payload for `manifest` (2-space indented JSON, no trailing newline, like the
/// reference tool's).
pub fn oms_statement(manifest: &Manifest) -> Vec<u8> {
    StatementOut::new(
        &manifest.name,
        manifest.root_digest().hex(),
        OMS_PREDICATE_TYPE,
        PredicateOut {
            serialization: &manifest.serialization,
            resources: ResourceOut::list(manifest, false),
        },
    )
    .to_vec_pretty()
}

/// What a verified OMS payload says the model is.
#[derive(Clone, Debug)]
pub struct OmsStatement {
    /// The predicate type the payload states: [`OMS_PREDICATE_TYPE`] or
    /// [`OMS_LEGACY_PREDICATE_TYPE`].
    pub predicate_type: String,
    /// The model's root digest as the subject states it (checked against the listed resources);
    /// `None` for the legacy predicate, which has none.
    pub subject_digest: Option<RootDigest>,
    /// The resources as signed; `name` is the subject's name.
    pub manifest: Manifest,
}

/// Reads an OMS Statement payload. Key order and whitespace do not matter; unknown predicate
/// fields are ignored (OMS says verifiers must).
pub fn parse_oms_statement(payload: &[u8]) -> Result<OmsStatement, Problem> {
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| Problem::because("the signed payload is not JSON", e))?;
    // Two `digest` or `resources` keys would let two verifiers see two different models.
    crate::json_strict::reject_duplicate_keys(payload)
        .map_err(|problem| format!("the signed payload is ambiguous: {problem}"))?;
    let Value::Object(statement) = value else {
        return Err("the signed payload is not a JSON object".into());
    };
    match statement.get("_type").and_then(Value::as_str) {
        Some(STATEMENT_TYPE | LEGACY_STATEMENT_TYPE) => {}
        Some(other) => return Err(format!("unknown statement type '{other}'").into()),
        None => return Err("the statement has no '_type'".into()),
    }
    let subjects = statement
        .get("subject")
        .and_then(Value::as_array)
        .ok_or("the statement has no 'subject' list")?;
    let predicate_type = statement
        .get("predicateType")
        .and_then(Value::as_str)
        .ok_or("the statement has no 'predicateType'")?;
    match predicate_type {
        OMS_PREDICATE_TYPE => parse_v1(subjects, statement.get("predicate")),
        OMS_LEGACY_PREDICATE_TYPE => parse_legacy(subjects),
        other => {
            Err(format!("unknown predicate type '{other}' (expected {OMS_PREDICATE_TYPE})").into())
        }
    }
}

fn parse_v1(subjects: &[Value], predicate: Option<&Value>) -> Result<OmsStatement, Problem> {
    let [subject] = subjects else {
        return Err(format!("expected exactly one subject, found {}", subjects.len()).into());
    };
    let (name, digest) = subject_fields(subject)?;
    let digest: RootDigest = digest
        .parse()
        .map_err(|e| Problem::because("subject digest", e))?;
    let predicate = predicate
        .and_then(Value::as_object)
        .ok_or("the statement has no 'predicate' object")?;
    let serialization = predicate
        .get("serialization")
        .and_then(Value::as_object)
        .ok_or("the predicate has no 'serialization' object")?;
    let serialization = Serialization::from_json(serialization)
        .map_err(|e| Problem::because("serialization", e))?;
    let entries = predicate
        .get("resources")
        .and_then(Value::as_array)
        .ok_or("the predicate has no 'resources' list")?
        .iter()
        .map(resource_entry)
        .collect::<Result<Vec<_>, _>>()?;
    // The root covers the entries as listed, duplicates included (as the reference verifier
    // computes it), before duplicates are collapsed.
    let listed_digests: Vec<Vec<u8>> = entries
        .iter()
        .map(|e| hex::decode(&e.digest).unwrap_or_default())
        .collect();
    let resources = resources_from_entries(entries.into_iter(), &serialization, NameRules::Oms)?;
    let listed = RootDigest::over(listed_digests.iter().map(Vec::as_slice));
    let manifest = Manifest {
        name: name.to_string(),
        serialization,
        resources,
    };
    if listed != digest {
        return Err(format!(
            "the manifest is inconsistent: the subject digest is {digest} but the listed resources hash to {listed}"
        ).into());
    }
    Ok(OmsStatement {
        predicate_type: OMS_PREDICATE_TYPE.to_string(),
        subject_digest: Some(digest),
        manifest,
    })
}

/// `Digests/v0.1`: one subject per file, whole files, SHA-256, no root digest.
fn parse_legacy(subjects: &[Value]) -> Result<OmsStatement, Problem> {
    let serialization = Serialization::oms_default();
    let entries = subjects
        .iter()
        .map(|subject| {
            let (name, digest) = subject_fields(subject)?;
            Ok(ResourceEntry {
                name: name.to_string(),
                algorithm: serialization.resource_algorithm(),
                digest: digest.to_string(),
                size: None,
            })
        })
        .collect::<Result<Vec<_>, Problem>>()?;
    let resources = resources_from_entries(entries.into_iter(), &serialization, NameRules::Oms)?;
    Ok(OmsStatement {
        predicate_type: OMS_LEGACY_PREDICATE_TYPE.to_string(),
        subject_digest: None,
        manifest: Manifest {
            name: String::new(),
            serialization,
            resources,
        },
    })
}

fn subject_fields(subject: &Value) -> Result<(&str, &str), Problem> {
    let name = subject
        .get("name")
        .and_then(Value::as_str)
        .ok_or("a subject has no 'name'")?;
    let digest = subject
        .get("digest")
        .and_then(|d| d.get("sha256"))
        .and_then(Value::as_str)
        .ok_or_else(|| format!("subject '{name}' has no sha256 digest"))?;
    Ok((name, digest))
}

fn resource_entry(value: &Value) -> Result<ResourceEntry, Problem> {
    let object: &Map<String, Value> = value.as_object().ok_or("a resource is not an object")?;
    let field = |key: &str| {
        object
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("a resource has no string '{key}'"))
    };
    Ok(ResourceEntry {
        name: field("name")?,
        algorithm: field("algorithm")?,
        digest: field("digest")?,
        size: None,
    })
}
