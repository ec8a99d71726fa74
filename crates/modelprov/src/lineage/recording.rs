//! Recording a model in a registry, as `modelprov lineage record` and `Registry.record` do:
//! the record built from a file and/or fields, parents resolved by digest or NAME@VERSION, the
//! model hashed to its identity, signed when a key is given, and stored with its manifest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{
    Dataset, Entry, LineageRecord, Parent, Procedure, Relation, Store, lineage_statement,
    sign_record, sort_versions, split_id,
};
use crate::card::{Card, card_sha256};
use crate::digest::RootDigest;
use crate::error::{Error, Result};
use crate::keys::PrivateKey;
use crate::manifest::{BuildContext, manifest_json};
use crate::model::card_model_manifest;
use crate::signing::sign_statement;

/// What to record. Fields given here override those of `base` (a record file).
#[derive(Clone, Debug, Default)]
pub struct RecordRequest {
    /// A record read from a file (`LineageRecord::read`), completed by the fields below.
    pub base: Option<LineageRecord>,
    /// The model's name (`--name`).
    pub name: Option<String>,
    /// The model's version (`--model-version`).
    pub version: Option<String>,
    /// The model folder: hashed to its identity (the digest `modelprov hash` prints), and its
    /// manifest kept in the registry so that `verify --id` names every difference.
    pub model: Option<PathBuf>,
    /// The model's digest, when the model itself is not at hand.
    pub digest: Option<RootDigest>,
    /// `(relation, reference)`: a reference is `sha256:<hex>` or a recorded NAME@VERSION.
    pub parents: Vec<(Relation, String)>,
    /// `(NAME[@VERSION], reference)`: a reference is `sha256:<hex>` or a URI.
    pub datasets: Vec<(String, String)>,
    /// The training method (`--method`), for the record's procedure.
    pub method: Option<String>,
    /// The training code's revision (a git commit, a container digest), for the record's procedure.
    pub code_revision: Option<String>,
    /// Who or what produced the model (a person, team, CI job URI): the SLSA `builder.id`.
    pub trainer: Option<String>,
    /// `(name, value)` metrics added to the record's; each must be a finite number.
    pub metrics: Vec<(String, f64)>,
    /// The model card, bound to the record by its SHA-256.
    pub card: Option<PathBuf>,
    /// RFC 3339; default: when the record was first made, or now.
    pub created: Option<String>,
}

/// What recording did.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The record as stored (with its Statement and signature).
    pub entry: Entry,
    /// The record is new.
    pub added: bool,
    /// An unsigned stored record got its signature now.
    pub signature_added: bool,
}

/// Records `request` in `store` (the registry at `registry`, named in errors), signed with
/// `key` when given. Recording the same model again changes nothing; a signature is added to a
/// record stored unsigned, and a record signed by another key is refused.
pub fn record_model(
    store: &mut dyn Store,
    registry: &Path,
    request: &RecordRequest,
    key: Option<&PrivateKey>,
    context: &BuildContext<'_>,
) -> Result<Recorded> {
    let mut manifest = None;
    let digest = match (&request.model, request.digest) {
        (Some(_), Some(_)) => {
            return Err(Error::Usage(
                "give the model or its digest, not both".into(),
            ));
        }
        (Some(dir), None) => {
            let built = card_model_manifest(dir, request.card.as_deref(), context)?;
            manifest = Some(manifest_json(&built.manifest));
            Some(built.manifest.root_digest())
        }
        (None, digest) => digest,
    };
    let base = match request.base.clone() {
        Some(record) => record,
        None => {
            let (Some(name), Some(version), Some(digest)) =
                (&request.name, &request.version, digest)
            else {
                return Err(Error::Usage(
                    "give --file, or --name, --model-version and --model (or --digest)".into(),
                ));
            };
            LineageRecord {
                name: name.clone(),
                version: version.clone(),
                digest,
                created: None,
                parents: Vec::new(),
                datasets: Vec::new(),
                procedure: Procedure::default(),
                trainer: None,
                modifications: None,
                metrics: BTreeMap::new(),
                card_digest: None,
            }
        }
    };
    let record = complete(base, request, digest, &*store, registry)?;
    let statement = lineage_statement(&record);
    let bundle = match key {
        Some(key) => Some(sign_statement(&statement, key, &[])?.to_json()),
        None => None,
    };
    let entry = Entry {
        record,
        statement,
        bundle,
        recorded_at: now(),
    };
    let outcome = store.insert(std::slice::from_ref(&entry))?;
    if let (Some(key), 1) = (key, outcome.signature_kept) {
        // Stored signed by some key: fine if it is this one, refused (nothing changed) if not.
        let stored = store.by_digest(&entry.record.digest)?.ok_or_else(|| {
            Error::invalid(
                registry,
                format!("{} is no longer recorded", entry.record.id()),
            )
        })?;
        sign_record(store, &stored, key, registry)?;
    }
    if let Some(manifest) = manifest {
        store.put_manifest(&entry.record.digest, &manifest)?;
    }
    Ok(Recorded {
        added: outcome.added == 1,
        signature_added: outcome.signed == 1,
        entry,
    })
}

/// `base` with the request's fields applied and its parents resolved.
fn complete(
    mut record: LineageRecord,
    request: &RecordRequest,
    digest: Option<RootDigest>,
    store: &dyn Store,
    registry: &Path,
) -> Result<LineageRecord> {
    if let Some(name) = &request.name {
        record.name.clone_from(name);
    }
    if let Some(version) = &request.version {
        record.version.clone_from(version);
    }
    if let Some(digest) = digest {
        record.digest = digest;
    }
    for (relation, reference) in &request.parents {
        let (digest, name) = match reference.parse::<RootDigest>() {
            Ok(digest) => (digest, store.by_digest(&digest)?.map(|e| e.record.id())),
            Err(_) => match split_id(reference) {
                (_, None) => {
                    return Err(Error::Usage(format!(
                        "parent '{reference}': a parent is sha256:<hex> or NAME@VERSION"
                    )));
                }
                (name, Some(version)) => {
                    let entry = store.by_id(name, version)?.ok_or_else(|| {
                        Error::invalid(
                            registry,
                            format!(
                                "parent '{reference}' is not recorded; record it first or give its digest"
                            ),
                        )
                    })?;
                    (entry.record.digest, Some(entry.record.id()))
                }
            },
        };
        record.parents.push(Parent {
            digest,
            name,
            relation: *relation,
        });
    }
    for (name, reference) in &request.datasets {
        let (name, version) = split_id(name);
        let digest = reference.parse::<RootDigest>().ok();
        record.datasets.push(Dataset {
            name: name.to_string(),
            version: version.map(str::to_string),
            uri: digest.is_none().then(|| reference.clone()),
            digest,
            size: None,
        });
    }
    if let Some(method) = &request.method {
        record.procedure.method = Some(method.clone());
    }
    if let Some(revision) = &request.code_revision {
        record.procedure.code_revision = Some(revision.clone());
    }
    if let Some(trainer) = &request.trainer {
        record.trainer = Some(trainer.clone());
    }
    for (name, value) in &request.metrics {
        if !value.is_finite() {
            return Err(Error::Usage(format!(
                "metric '{name}': {value} is not a finite number"
            )));
        }
        record.metrics.insert(name.clone(), *value);
    }
    if let Some(card) = &request.card {
        let bytes = Card::read_bytes(card)?;
        record.card_digest = Some(format!("sha256:{}", card_sha256(&bytes)));
    }
    if let Some(created) = &request.created {
        record.created = Some(created.clone());
    }
    if record.created.is_none() {
        // Recording a model again (to sign it, say) keeps the time it was first recorded with,
        // so that the same command gives the same record.
        let stored = store
            .by_digest(&record.digest)?
            .filter(|e| e.record.name == record.name && e.record.version == record.version);
        record.created = Some(match stored.and_then(|e| e.record.created) {
            Some(created) => created,
            None => now(),
        });
    }
    record.check().map_err(Error::Usage)?;
    Ok(record)
}

/// The record `id` names: NAME@VERSION, or NAME alone for its latest version.
pub fn find(store: &dyn Store, id: &str, registry: &Path) -> Result<Entry> {
    let (name, version) = split_id(id);
    let found = match version {
        Some(version) => store.by_id(name, version)?,
        None => {
            let mut versions = store.versions(name)?;
            sort_versions(&mut versions);
            versions.pop()
        }
    };
    found.ok_or_else(|| {
        Error::invalid(
            registry,
            format!("no model '{id}' is recorded in this registry"),
        )
    })
}

/// The current time, RFC 3339 in UTC to the second.
pub fn now() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("0 ns is valid");
    now.format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339 formats")
}
