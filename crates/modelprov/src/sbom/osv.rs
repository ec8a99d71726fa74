//! Known vulnerabilities from an offline OSV database: a folder of OSV JSON records (the format of
//! OSV's per-ecosystem exports), matched to packages by ecosystem, name and version, with
//! versions ordered as their ecosystem orders them (PEP 440 for PyPI, SemVer for npm and crates).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use serde::Serialize;
use serde_json::Value;

use super::deps::{Ecosystem, Package};
use crate::error::{Error, Problem, Result};
use crate::fsutil::{limits, parse_json, read_capped};

/// An offline OSV database: the advisories of a folder of OSV JSON records ([`OsvDatabase::load`]),
/// by ecosystem and package.
#[derive(Clone, Debug, Default)]
pub struct OsvDatabase {
    /// (ecosystem, normalised name) -> advisories affecting some version of it.
    by_package: BTreeMap<(Ecosystem, String), Vec<Advisory>>,
    /// How many OSV records were read, those about ecosystems modelprov does not match included.
    pub records: usize,
}

/// What an OSV record says about one affected package, as an SBOM reports it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Advisory {
    /// The record's OSV id (`GHSA-...`, `PYSEC-...`).
    pub id: String,
    /// The record's one-line `summary`, when given.
    pub summary: Option<String>,
    /// The record's `details`: its longer description, when given.
    pub details: Option<String>,
    /// Other ids of the same vulnerability (CVE ids among them), from the record's `aliases`.
    pub aliases: Vec<String>,
    /// The first fixed version, when the record names one.
    pub fixed: Option<String>,
    /// The URLs of the record's `references`.
    pub references: Vec<String>,
    /// CVSS vectors or other severity strings, as given.
    pub severity: Vec<(String, String)>,
    #[serde(skip)]
    ranges: Vec<Vec<(EventKind, String)>>,
    #[serde(skip)]
    versions: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EventKind {
    Introduced,
    Fixed,
    LastAffected,
    Limit,
}

/// A package and an advisory that affects its version.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Match {
    /// The package, as a dependency file pins it.
    pub package: Package,
    /// The advisory that affects its pinned version.
    pub advisory: Advisory,
}

impl OsvDatabase {
    /// Reads every `*.json` below `dir`. A record that is not valid OSV is an error naming it.
    pub fn load(dir: &Path) -> Result<OsvDatabase> {
        let mut database = OsvDatabase::default();
        if !dir.is_dir() {
            return Err(Error::invalid(dir, "not a folder of OSV JSON records"));
        }
        // Links are followed (a database may be a tree of links into a store); a `.json` entry
        // that is then not a regular file (a device, a FIFO) is an error, not a skipped record.
        for entry in walkdir::WalkDir::new(dir)
            .follow_links(true)
            .sort_by_file_name()
        {
            let entry = entry.map_err(|e| Problem::worded(e.to_string(), e).at(dir))?;
            let path = entry.path();
            if entry.file_type().is_dir()
                || path.extension().and_then(|e| e.to_str()) != Some("json")
            {
                continue;
            }
            if !entry.file_type().is_file() {
                return Err(Error::invalid(
                    path,
                    "not a regular file, so not an OSV record",
                ));
            }
            let bytes = read_capped(path, limits::DOCUMENT_BYTES, "an OSV record")?;
            let record = parse_json(&bytes)
                .map_err(|problem| Error::invalid(path, format!("not JSON: {problem}")))?;
            database
                .add(&record)
                .map_err(|problem| Error::invalid(path, format!("not an OSV record: {problem}")))?;
        }
        Ok(database)
    }

    fn add(&mut self, record: &Value) -> std::result::Result<(), String> {
        let id = record.get("id").and_then(Value::as_str).ok_or("no id")?;
        let texts = |key: &str| -> Vec<String> {
            record
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        };
        self.records += 1;
        for affected in record
            .get("affected")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let package = affected
                .get("package")
                .ok_or("an affected entry without a package")?;
            let (Some(ecosystem), Some(name)) = (
                package.get("ecosystem").and_then(Value::as_str),
                package.get("name").and_then(Value::as_str),
            ) else {
                return Err("a package without ecosystem or name".into());
            };
            // Ecosystems modelprov reads no files for ("Go", "Maven:...") are kept out.
            let Some(ecosystem) =
                Ecosystem::from_osv(ecosystem.split(':').next().unwrap_or(ecosystem))
            else {
                continue;
            };
            let mut ranges = Vec::new();
            let mut fixed = None;
            for range in affected
                .get("ranges")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if range.get("type").and_then(Value::as_str) == Some("GIT") {
                    continue;
                }
                let mut events = Vec::new();
                for event in range
                    .get("events")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let Some((kind, version)) = event.as_object().and_then(|e| e.iter().next())
                    else {
                        return Err("an empty range event".into());
                    };
                    let kind = match kind.as_str() {
                        "introduced" => EventKind::Introduced,
                        "fixed" => EventKind::Fixed,
                        "last_affected" => EventKind::LastAffected,
                        "limit" => EventKind::Limit,
                        other => return Err(format!("unknown range event '{other}'")),
                    };
                    let version = version
                        .as_str()
                        .ok_or("a range event version that is not text")?
                        .to_string();
                    if kind == EventKind::Fixed && fixed.is_none() {
                        fixed = Some(version.clone());
                    }
                    events.push((kind, version));
                }
                ranges.push(events);
            }
            let advisory = Advisory {
                id: id.to_string(),
                summary: record
                    .get("summary")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                details: record
                    .get("details")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                aliases: texts("aliases"),
                fixed,
                references: record
                    .get("references")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r.get("url").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect(),
                severity: record
                    .get("severity")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|s| {
                        Some((
                            s.get("type")?.as_str()?.to_string(),
                            s.get("score")?.as_str()?.to_string(),
                        ))
                    })
                    .collect(),
                ranges,
                versions: affected
                    .get("versions")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
            };
            self.by_package
                .entry((ecosystem, ecosystem.normalize(name)))
                .or_default()
                .push(advisory);
        }
        Ok(())
    }

    /// Advisories affecting each package's pinned version (packages without a version match
    /// nothing: an unpinned dependency cannot be judged).
    pub fn matches(&self, packages: &[Package]) -> Vec<Match> {
        let mut found = Vec::new();
        for package in packages {
            let Some(version) = &package.version else {
                continue;
            };
            let key = (
                package.ecosystem,
                package.ecosystem.normalize(&package.name),
            );
            for advisory in self.by_package.get(&key).into_iter().flatten() {
                if advisory.affects(package.ecosystem, version) {
                    found.push(Match {
                        package: package.clone(),
                        advisory: advisory.clone(),
                    });
                }
            }
        }
        found
    }
}

impl Advisory {
    fn affects(&self, ecosystem: Ecosystem, version: &str) -> bool {
        if self.versions.iter().any(|v| v == version) {
            return true;
        }
        self.ranges
            .iter()
            .any(|events| in_range(ecosystem, version, events))
    }
}

/// OSV's range evaluation: events in version order; introduced turns "affected" on, fixed and
/// limit turn it off at that version, last_affected turns it off after it.
fn in_range(ecosystem: Ecosystem, version: &str, events: &[(EventKind, String)]) -> bool {
    let mut sorted: Vec<&(EventKind, String)> = events.iter().collect();
    sorted.sort_by(|a, b| compare(ecosystem, &a.1, &b.1).unwrap_or(Ordering::Equal));
    let mut affected = false;
    for (kind, at) in sorted {
        let Some(order) = compare(ecosystem, version, at) else {
            return false;
        };
        match kind {
            EventKind::Introduced if order != Ordering::Less => affected = true,
            EventKind::Fixed | EventKind::Limit if order != Ordering::Less => affected = false,
            EventKind::LastAffected if order == Ordering::Greater => affected = false,
            _ => {}
        }
    }
    affected
}

/// Orders two versions of `ecosystem`; "0" is below everything. `None` when either does not parse.
fn compare(ecosystem: Ecosystem, a: &str, b: &str) -> Option<Ordering> {
    match (a, b) {
        ("0", "0") => return Some(Ordering::Equal),
        ("0", _) => return Some(Ordering::Less),
        (_, "0") => return Some(Ordering::Greater),
        _ => {}
    }
    match ecosystem {
        Ecosystem::PyPI => Some(
            pep440_rs::Version::from_str(a)
                .ok()?
                .cmp(&pep440_rs::Version::from_str(b).ok()?),
        ),
        Ecosystem::Npm | Ecosystem::CratesIo => Some(
            semver::Version::parse(a)
                .ok()?
                .cmp(&semver::Version::parse(b).ok()?),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn package(ecosystem: Ecosystem, name: &str, version: &str) -> Package {
        Package {
            ecosystem,
            name: ecosystem.normalize(name),
            version: Some(version.into()),
            source: "test".into(),
        }
    }

    #[test]
    fn ranges_follow_ecosystem_order() {
        let mut database = OsvDatabase::default();
        database.add(&json!({"id": "PYSEC-1", "summary": "deserialisation", "affected": [{"package": {"ecosystem": "PyPI", "name": "Transformers"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "4.36.0"}]}]}]})).unwrap();
        database.add(&json!({"id": "GHSA-x", "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.2.0"}, {"last_affected": "1.10.0"}]}], "versions": ["0.9.0"]}]})).unwrap();
        let hits = |p: Package| database.matches(&[p]).len();
        assert_eq!(hits(package(Ecosystem::PyPI, "transformers", "4.30.0")), 1);
        assert_eq!(hits(package(Ecosystem::PyPI, "transformers", "4.36.0")), 0);
        // PEP 440: 4.4 < 4.30 < 4.36rc1 < 4.36
        assert_eq!(
            hits(package(Ecosystem::PyPI, "transformers", "4.36.0rc1")),
            1
        );
        assert_eq!(hits(package(Ecosystem::Npm, "left-pad", "1.10.0")), 1);
        assert_eq!(hits(package(Ecosystem::Npm, "left-pad", "1.9.0")), 1);
        assert_eq!(hits(package(Ecosystem::Npm, "left-pad", "1.11.0")), 0);
        assert_eq!(hits(package(Ecosystem::Npm, "left-pad", "0.9.0")), 1);
        assert_eq!(hits(package(Ecosystem::Npm, "left-pad", "1.0.0")), 0);
        assert_eq!(
            database.matches(&[package(Ecosystem::PyPI, "transformers", "4.30.0")])[0]
                .advisory
                .fixed
                .as_deref(),
            Some("4.36.0")
        );
    }
}
