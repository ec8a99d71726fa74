//! Trusted digests: one JSON file where a team keeps the digest of every model it trusts, so
//! verification needs only a model id. Format (docs/trust-file.md):
//!
//! ```json
//! { "org/model@1.0": "sha256:<hex>",
//!   "org/big@2": { "digest": "sha256:<hex>",
//!                  "serialization": { "method": "shards", "shard_size": 1000000000 } } }
//! ```
//! A bare digest means the model's identity ([`Serialization::model_default`]: whole files,
//! SHA-256, the git paths and the model card left out).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::digest::RootDigest;
use crate::error::{Error, Result};
use crate::fsutil::{limits, read_capped};
use crate::json_strict::reject_duplicate_keys;
use crate::manifest::{Serialization, parse_serialization};
use crate::verify::Expectation;

/// A trust file read into memory: the expected digest (and serialization) of each model id.
#[derive(Clone, Debug)]
pub struct TrustFile {
    entries: BTreeMap<String, Expectation>,
}

impl TrustFile {
    /// Reads and checks a trust file (at most [`limits::DOCUMENT_BYTES`]). A repeated id, an
    /// unknown field or a malformed digest makes the whole file invalid.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = read_capped(path, limits::DOCUMENT_BYTES, "a trust file")?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::invalid_because(path, "not valid JSON", e))?;
        // A repeated id would otherwise silently trust the last digest listed for it.
        reject_duplicate_keys(&bytes).map_err(|problem| Error::invalid(path, problem))?;
        let Value::Object(map) = value else {
            return Err(Error::invalid(
                path,
                "a trust file is a JSON object mapping model ids to digests",
            ));
        };
        let defaults = Serialization::model_default();
        let mut entries = BTreeMap::new();
        for (id, entry) in map {
            let expectation = parse_entry(&entry, &defaults)
                .map_err(|problem| Error::invalid(path, format!("entry '{id}': {problem}")))?;
            entries.insert(id, expectation);
        }
        Ok(TrustFile { entries })
    }

    /// The expectation for `id`, or an error listing the ids the file does hold.
    pub fn get(&self, id: &str, path: &Path) -> Result<&Expectation> {
        self.entries.get(id).ok_or_else(|| {
            let known: Vec<&str> = self.entries.keys().map(String::as_str).collect();
            Error::invalid(
                path,
                format!(
                    "no trusted digest for '{id}' (the file holds: {})",
                    known.join(", ")
                ),
            )
        })
    }
}

/// The fields of a manifest's `serialization` (docs/manifest.md).
const SERIALIZATION_FIELDS: &[&str] = &[
    "method",
    "hash_type",
    "shard_size",
    "allow_symlinks",
    "ignore_paths",
];

/// A misspelt field (`shard-size`, `digests`) would otherwise be dropped and the entry read with
/// defaults the team never meant.
fn refuse_unknown<'a>(
    keys: impl Iterator<Item = &'a String>,
    known: &[&str],
    prefix: &str,
) -> std::result::Result<(), String> {
    for key in keys {
        if !known.contains(&key.as_str()) {
            return Err(format!(
                "unknown field '{prefix}{key}' (known: {})",
                known.join(", ")
            ));
        }
    }
    Ok(())
}

fn parse_entry(
    entry: &Value,
    defaults: &Serialization,
) -> std::result::Result<Expectation, String> {
    let digest_of = |text: &str| text.parse::<RootDigest>();
    match entry {
        Value::String(text) => Ok(Expectation::Digest {
            digest: digest_of(text)?,
            serialization: defaults.clone(),
        }),
        Value::Object(object) => {
            refuse_unknown(object.keys(), &["digest", "serialization"], "")?;
            let Some(Value::String(text)) = object.get("digest") else {
                return Err("needs a string field 'digest'".to_string());
            };
            let serialization = match object.get("serialization") {
                None => defaults.clone(),
                Some(Value::Object(fields)) => {
                    refuse_unknown(fields.keys(), SERIALIZATION_FIELDS, "serialization.")?;
                    parse_serialization(fields, &defaults.ignore_paths)
                        .map_err(|problem| format!("serialization: {problem}"))?
                }
                Some(other) => {
                    return Err(format!("'serialization' must be an object, found {other}"));
                }
            };
            Ok(Expectation::Digest {
                digest: digest_of(text)?,
                serialization,
            })
        }
        other => Err(format!(
            "must be a digest string or an object, found {other}"
        )),
    }
}
