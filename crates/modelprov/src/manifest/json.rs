//! The manifest file (`modelprov.manifest/v1`, documented in docs/manifest.md): reading with
//! full validation, and writing atomically.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::name::ResourceName;
use super::serialization::{Method, Serialization};
use super::{Manifest, Resource};
use crate::digest::RootDigest;
use crate::error::{Error, Result};
use crate::fsutil::{limits, read_capped, write_atomically};
use crate::hashing::HashAlgorithm;
use crate::json_strict::reject_duplicate_keys;
use crate::walk::{IgnoreSet, SINGLE_FILE_NAME};

/// The value of the manifest's `format` field.
pub const FORMAT: &str = "modelprov.manifest/v1";

#[derive(Serialize)]
struct ManifestOut<'a> {
    format: &'static str,
    name: &'a str,
    digest: String,
    serialization: &'a Serialization,
    resources: Vec<ResourceOut>,
}

#[derive(Serialize)]
struct SerializationOut<'a> {
    method: &'static str,
    hash_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard_size: Option<u64>,
    allow_symlinks: bool,
    ignore_paths: &'a [String],
}

/// Written with OMS's field names, so the object can stand as `predicate.serialization`.
impl Serialize for Serialization {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        let serialization = self;
        SerializationOut {
            method: match serialization.method {
                Method::Files => "files",
                Method::Shards { .. } => "shards",
            },
            hash_type: serialization.algorithm.name(),
            shard_size: serialization.shard_size(),
            allow_symlinks: serialization.allow_symlinks,
            ignore_paths: &serialization.ignore_paths,
        }
        .serialize(serializer)
    }
}

/// A resource as documents write it: `{name, algorithm, digest}`, plus `size` in manifests.
#[derive(Serialize)]
pub(crate) struct ResourceOut {
    name: String,
    algorithm: String,
    digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
}

impl ResourceOut {
    /// The resources of `manifest` in its order; sizes only when `with_sizes` (OMS payloads
    /// carry none).
    pub(crate) fn list(manifest: &Manifest, with_sizes: bool) -> Vec<ResourceOut> {
        let algorithm = manifest.serialization.resource_algorithm();
        manifest
            .resources
            .iter()
            .map(|r| ResourceOut {
                name: r.name.to_string(),
                algorithm: algorithm.clone(),
                digest: hex::encode(&r.digest),
                size: r.size.filter(|_| with_sizes),
            })
            .collect()
    }
}

/// Writes `manifest` to `path` through a temporary file and a rename, so an existing manifest is
/// never left half-written.
pub fn write_manifest(path: &Path, manifest: &Manifest) -> Result<()> {
    let text = manifest_json(manifest);
    write_atomically(path, text.as_bytes())
}

/// The manifest file's text: pretty JSON with a final newline.
pub fn manifest_json(manifest: &Manifest) -> String {
    let out = ManifestOut {
        format: FORMAT,
        name: &manifest.name,
        digest: manifest.root_digest().to_string(),
        serialization: &manifest.serialization,
        resources: ResourceOut::list(manifest, true),
    };
    let mut text = serde_json::to_string_pretty(&out).expect("manifest serialises");
    text.push('\n');
    text
}

#[derive(Deserialize)]
struct ManifestIn {
    format: String,
    #[serde(default)]
    name: String,
    digest: String,
    serialization: Map<String, Value>,
    resources: Vec<ResourceIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceIn {
    name: String,
    algorithm: String,
    digest: String,
    #[serde(default)]
    size: Option<u64>,
}

/// Reads and validates a manifest file. Every problem is reported with the file's path and,
/// for resources, the resource's position and name.
pub fn read_manifest(path: &Path) -> Result<Manifest> {
    let bytes = read_capped(path, limits::MANIFEST_BYTES, "a manifest")?;
    parse_manifest_bytes(&bytes, path)
}

/// Parses and validates manifest JSON held in memory; `source` names it in errors.
pub fn parse_manifest(text: &str, source: &Path) -> Result<Manifest> {
    parse_manifest_bytes(text.as_bytes(), source)
}

fn parse_manifest_bytes(bytes: &[u8], source: &Path) -> Result<Manifest> {
    let raw: ManifestIn = serde_json::from_slice(bytes)
        .map_err(|e| Error::invalid_because(source, "not a valid manifest", e))?;
    reject_duplicate_keys(bytes).map_err(|problem| Error::invalid(source, problem))?;
    validate(raw).map_err(|problem| Error::invalid(source, problem))
}

fn validate(raw: ManifestIn) -> std::result::Result<Manifest, String> {
    if raw.format != FORMAT {
        return Err(format!(
            "unknown manifest format '{}' (this tool reads '{FORMAT}')",
            raw.format
        ));
    }
    let recorded: RootDigest = raw
        .digest
        .parse()
        .map_err(|problem| format!("field 'digest': {problem}"))?;
    let serialization = parse_serialization(&raw.serialization, &[])
        .map_err(|problem| format!("field 'serialization': {problem}"))?;
    let entries = raw.resources.into_iter().map(|r| ResourceEntry {
        name: r.name,
        algorithm: r.algorithm,
        digest: r.digest,
        size: r.size,
    });
    let resources = resources_from_entries(entries, &serialization, NameRules::Strict)?;
    let manifest = Manifest {
        name: raw.name,
        serialization,
        resources,
    };
    let computed = manifest.root_digest();
    if computed != recorded {
        return Err(format!(
            "manifest is inconsistent: it records digest {recorded} but its resources hash to {computed}"
        ));
    }
    Ok(manifest)
}

/// One resource as a document lists it, before validation.
pub(crate) struct ResourceEntry {
    pub name: String,
    pub algorithm: String,
    pub digest: String,
    pub size: Option<u64>,
}

/// How resource names are read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameRules {
    /// Our manifests: names must be canonical and unique.
    Strict,
    /// OMS payloads: names are normalised and exact duplicates collapsed, as the reference
    /// verifier does (a name listed twice with different digests is still refused).
    Oms,
}

/// Validates listed resources against `serialization`, keeping their order (the root digest is
/// computed over it).
pub(crate) fn resources_from_entries(
    entries: impl Iterator<Item = ResourceEntry>,
    serialization: &Serialization,
    rules: NameRules,
) -> std::result::Result<Vec<Resource>, String> {
    let expected_algorithm = serialization.resource_algorithm();
    let shard_size = serialization.shard_size();
    let mut resources: Vec<Resource> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (index, entry) in entries.enumerate() {
        let at = |problem: String| format!("resource {index} ('{}'): {problem}", entry.name);
        let name = match rules {
            NameRules::Strict => ResourceName::parse(&entry.name, shard_size.is_some()),
            NameRules::Oms => ResourceName::parse_normalizing(&entry.name, shard_size.is_some()),
        }
        .map_err(&at)?;
        if entry.algorithm != expected_algorithm {
            return Err(at(algorithm_problem(&entry.algorithm, &expected_algorithm)));
        }
        let digest = hex::decode(&entry.digest)
            .map_err(|_| at(format!("digest '{}' is not hexadecimal", entry.digest)))?;
        if digest.len() != serialization.algorithm.digest_len() {
            return Err(at(format!(
                "digest has {} bytes, {} digests have {}",
                digest.len(),
                serialization.algorithm,
                serialization.algorithm.digest_len()
            )));
        }
        if let (Some(range), Some(size)) = (name.range, entry.size)
            && range.len() != size
        {
            return Err(at(format!(
                "size {size} does not match the shard's range {range}"
            )));
        }
        if let Some(&first) = seen.get(&name) {
            let same = resources
                .get(first)
                .is_some_and(|r: &Resource| r.digest == digest);
            if rules == NameRules::Strict || !same {
                return Err(at("appears more than once".to_string()));
            }
            continue;
        }
        seen.insert(name.clone(), resources.len());
        let size = entry.size.or(name.range.map(|r| r.len()));
        resources.push(Resource { name, digest, size });
    }
    if resources.len() > 1 && resources.iter().any(|r| r.name.path == SINGLE_FILE_NAME) {
        return Err(format!(
            "resource '{SINGLE_FILE_NAME}' names a single-file model but there are other resources"
        ));
    }
    if let Some(shard_size) = shard_size {
        check_shards_tile_files(&resources, shard_size)?;
    }
    Ok(resources)
}

fn algorithm_problem(found: &str, expected: &str) -> String {
    let base = found.split("-sharded-").next().unwrap_or(found);
    if HashAlgorithm::from_name(base).is_none() {
        format!(
            "unknown algorithm '{found}' (known: {})",
            HashAlgorithm::ALL
                .map(crate::hashing::HashAlgorithm::name)
                .join(", ")
        )
    } else {
        format!("algorithm '{found}' does not match the serialization, which gives '{expected}'")
    }
}

/// Each file's shards must cover it from byte 0 without gaps or overlaps, every shard but the
/// last exactly `shard_size` long.
fn check_shards_tile_files(
    resources: &[Resource],
    shard_size: u64,
) -> std::result::Result<(), String> {
    let mut ranges: Vec<(&str, u64, u64)> = resources
        .iter()
        .filter_map(|r| {
            r.name
                .range
                .map(|range| (r.name.path.as_str(), range.start, range.end))
        })
        .collect();
    ranges.sort_unstable();
    let mut previous: Option<(&str, u64, u64)> = None;
    for &(path, start, end) in &ranges {
        let expected_start = match previous {
            Some((prev_path, prev_start, prev_end)) if prev_path == path => {
                if prev_end - prev_start != shard_size {
                    return Err(format!(
                        "shard '{path}:{prev_start}:{prev_end}' is not the last of its file but is not {shard_size} bytes long"
                    ));
                }
                prev_end
            }
            _ => 0,
        };
        if start != expected_start || end - start > shard_size {
            return Err(format!(
                "shard '{path}:{start}:{end}' does not fit shard size {shard_size} (expected a shard starting at {expected_start})"
            ));
        }
        previous = Some((path, start, end));
    }
    Ok(())
}

impl Serialization {
    /// Reads a `serialization` object as OMS writes it in `predicate.serialization` (and as
    /// manifests record it); a missing `ignore_paths` means nothing was ignored.
    pub fn from_json(object: &Map<String, Value>) -> std::result::Result<Self, String> {
        parse_serialization(object, &[])
    }
}

/// Reads a `serialization` object. Missing fields take OMS's defaults (files, sha256, no
/// symlinks); a missing `ignore_paths` becomes `default_ignores`.
pub(crate) fn parse_serialization(
    object: &Map<String, Value>,
    default_ignores: &[String],
) -> std::result::Result<Serialization, String> {
    let text = |key: &str| -> std::result::Result<Option<&str>, String> {
        match object.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(format!("'{key}' must be a string, found {other}")),
        }
    };
    let algorithm = match text("hash_type")? {
        None => HashAlgorithm::Sha256,
        Some(name) => HashAlgorithm::from_name(name).ok_or_else(|| {
            format!(
                "unknown hash_type '{name}' (known: {})",
                HashAlgorithm::ALL
                    .map(crate::hashing::HashAlgorithm::name)
                    .join(", ")
            )
        })?,
    };
    let method = match text("method")? {
        None | Some("files") => Method::Files,
        Some("shards") => Method::Shards {
            shard_size: parse_shard_size(object.get("shard_size"))?,
        },
        Some(other) => return Err(format!("unknown method '{other}' (known: files, shards)")),
    };
    let allow_symlinks = match object.get("allow_symlinks") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(format!(
                "'allow_symlinks' must be true or false, found {other}"
            ));
        }
    };
    let ignore_paths = match object.get("ignore_paths") {
        None => default_ignores.to_vec(),
        Some(Value::Array(items)) => {
            let mut paths = Vec::with_capacity(items.len());
            for item in items {
                let Value::String(path) = item else {
                    return Err(format!("'ignore_paths' must hold strings, found {item}"));
                };
                paths.push(path.clone());
            }
            IgnoreSet::from_recorded(&paths)
                .map_err(|problem| format!("'ignore_paths': {problem}"))?
                .paths()
                .to_vec()
        }
        Some(other) => return Err(format!("'ignore_paths' must be a list, found {other}")),
    };
    let serialization = Serialization {
        method,
        algorithm,
        allow_symlinks,
        ignore_paths,
    };
    serialization.check()?;
    Ok(serialization)
}

/// OMS writes `shard_size` as a float (`1000000.0`); accept any whole, positive number.
fn parse_shard_size(value: Option<&Value>) -> std::result::Result<u64, String> {
    let Some(Value::Number(number)) = value else {
        return Err("method 'shards' needs a numeric 'shard_size'".to_string());
    };
    let size = number.as_u64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f < 2f64.powi(63))
            // Integral and in range, so the cast is exact.
            .map(|f| {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let size = f as u64;
                size
            })
    });
    match size {
        Some(size) if size > 0 => Ok(size),
        _ => Err(format!(
            "'shard_size' must be a positive whole number, found {number}"
        )),
    }
}
