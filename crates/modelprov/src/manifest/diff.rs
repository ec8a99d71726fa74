//! What differs between the manifest a model should have and the one it has: files modified
//! (with the byte ranges that differ when sharded), added, missing, or renamed (a missing and an
//! added file with identical content).

use std::collections::BTreeMap;

use serde::Serialize;

use super::name::{ByteRange, compare_paths};
use super::{Manifest, Resource};

/// How the files of an actual manifest differ from the expected one, each list sorted by path.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ManifestDiff {
    /// Files on both sides whose content differs.
    pub modified: Vec<Modified>,
    /// Files found that the expected manifest does not list (renames excluded).
    pub added: Vec<FileChange>,
    /// Files the expected manifest lists that were not found (renames excluded).
    pub missing: Vec<FileChange>,
    /// Expected files whose exact content was found under another name.
    pub renamed: Vec<Renamed>,
    /// Expected and actual names that differ only by Unicode normalisation (`café` written as
    /// NFC and as NFD): they print the same, so a report must point them out.
    pub lookalikes: Vec<Lookalike>,
}

/// Two names, one expected and one found, equal once both are in Unicode NFC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lookalike {
    /// The name in the expected manifest (missing, or renamed from).
    pub expected: String,
    /// The name found in the model (added, or renamed to).
    pub actual: String,
}

/// A file present on both sides with different content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Modified {
    /// POSIX path relative to the model root.
    pub path: String,
    /// Size in bytes the expected manifest gives the file; `None` when it records none.
    pub expected_size: Option<u64>,
    /// Size in bytes of the file as found; `None` when unknown.
    pub actual_size: Option<u64>,
    /// The byte ranges whose shards differ (merged where adjacent); empty for whole-file
    /// manifests, which cannot say where in the file the change is.
    pub ranges: Vec<ByteRange>,
}

/// A file on one side only: added to the model or missing from it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileChange {
    /// POSIX path relative to the model root.
    pub path: String,
    /// Size in bytes, when its manifest records it.
    pub size: Option<u64>,
}

/// An expected file found, with identical content, under another name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Renamed {
    /// The expected path, relative to the model root.
    pub from: String,
    /// The path it was found at.
    pub to: String,
    /// Size in bytes, when the expected manifest records it.
    pub size: Option<u64>,
}

impl ManifestDiff {
    /// True when no file was modified, added, missing or renamed.
    pub fn is_empty(&self) -> bool {
        self.modified.is_empty()
            && self.added.is_empty()
            && self.missing.is_empty()
            && self.renamed.is_empty()
    }
}

/// One file as its resources describe it: the digest of each part (one part per shard, or a
/// single whole-file part keyed `None`).
#[derive(PartialEq, Eq)]
struct FileParts<'a> {
    parts: BTreeMap<Option<ByteRange>, &'a [u8]>,
    size: Option<u64>,
}

fn files_of(manifest: &Manifest) -> BTreeMap<&str, FileParts<'_>> {
    let mut files: BTreeMap<&str, FileParts<'_>> = BTreeMap::new();
    for Resource { name, digest, size } in &manifest.resources {
        let entry = files.entry(name.path.as_str()).or_insert(FileParts {
            parts: BTreeMap::new(),
            size: Some(0),
        });
        entry.parts.insert(name.range, digest);
        entry.size = match (name.range, entry.size, size) {
            (Some(range), Some(known), _) => Some(known.max(range.end)),
            (None, _, size) => *size,
            (Some(_), None, _) => None,
        };
    }
    files
}

/// Compares `expected` with `actual`; both must use the same serialization.
pub fn diff_manifests(expected: &Manifest, actual: &Manifest) -> ManifestDiff {
    let expected_files = files_of(expected);
    let actual_files = files_of(actual);
    let mut diff = ManifestDiff::default();
    let mut missing = Vec::new();
    for (&path, want) in &expected_files {
        match actual_files.get(path) {
            None => missing.push((path, want)),
            Some(have) if have.parts == want.parts => {}
            Some(have) => diff.modified.push(Modified {
                path: path.to_string(),
                expected_size: want.size,
                actual_size: have.size,
                ranges: differing_ranges(want, have),
            }),
        }
    }
    let mut added: Vec<(&str, &FileParts<'_>)> = actual_files
        .iter()
        .filter(|(path, _)| !expected_files.contains_key(*path))
        .map(|(&path, parts)| (path, parts))
        .collect();

    // A missing file whose exact content reappears under a new name was renamed.
    for (from, want) in missing {
        match added.iter().position(|(_, have)| have.parts == want.parts) {
            Some(at) => {
                let (to, _) = added.remove(at);
                diff.renamed.push(Renamed {
                    from: from.to_string(),
                    to: to.to_string(),
                    size: want.size,
                });
            }
            None => diff.missing.push(FileChange {
                path: from.to_string(),
                size: want.size,
            }),
        }
    }
    diff.added = added
        .into_iter()
        .map(|(path, have)| FileChange {
            path: path.to_string(),
            size: have.size,
        })
        .collect();
    let by_path = |a: &str, b: &str| compare_paths(a, b);
    diff.modified.sort_by(|a, b| by_path(&a.path, &b.path));
    diff.added.sort_by(|a, b| by_path(&a.path, &b.path));
    diff.missing.sort_by(|a, b| by_path(&a.path, &b.path));
    diff.renamed.sort_by(|a, b| by_path(&a.from, &b.from));
    diff.lookalikes = lookalikes(&diff);
    diff
}

/// Pairs of an expected name (missing or renamed from) and an actual one (added or renamed to)
/// that are the same text in NFC.
fn lookalikes(diff: &ManifestDiff) -> Vec<Lookalike> {
    use unicode_normalization::UnicodeNormalization as _;
    let expected = diff
        .missing
        .iter()
        .map(|c| &c.path)
        .chain(diff.renamed.iter().map(|r| &r.from));
    let actual: Vec<(&String, String)> = diff
        .added
        .iter()
        .map(|c| &c.path)
        .chain(diff.renamed.iter().map(|r| &r.to))
        .map(|name| (name, name.nfc().collect()))
        .collect();
    let mut found = Vec::new();
    for name in expected {
        let normal: String = name.nfc().collect();
        for (other, other_normal) in &actual {
            if *other_normal == normal && *other != name {
                found.push(Lookalike {
                    expected: name.clone(),
                    actual: (*other).clone(),
                });
            }
        }
    }
    found
}

/// The shard ranges present on either side whose digests are not equal, merged where they
/// touch.
fn differing_ranges(want: &FileParts<'_>, have: &FileParts<'_>) -> Vec<ByteRange> {
    let mut keys: Vec<ByteRange> = want
        .parts
        .keys()
        .chain(have.parts.keys())
        .flatten()
        .copied()
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let mut merged: Vec<ByteRange> = Vec::new();
    for range in keys {
        if want.parts.get(&Some(range)) == have.parts.get(&Some(range)) {
            continue;
        }
        match merged.last_mut() {
            Some(last) if last.end >= range.start => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Method, ResourceName, Serialization};

    fn manifest(method: Method, resources: &[(ResourceName, u8)]) -> Manifest {
        Manifest {
            name: "m".into(),
            serialization: Serialization {
                method,
                ..Serialization::oms_default()
            },
            resources: resources
                .iter()
                .map(|(name, byte)| Resource {
                    size: name.range.map(|r| r.len()).or(Some(u64::from(*byte))),
                    name: name.clone(),
                    digest: vec![*byte; 32],
                })
                .collect(),
        }
    }

    #[test]
    fn reports_modified_added_missing_and_renamed() {
        let f = ResourceName::file;
        let expected = manifest(
            Method::Files,
            &[(f("a"), 1), (f("b"), 2), (f("c"), 3), (f("d"), 4)],
        );
        let actual = manifest(
            Method::Files,
            &[(f("a"), 1), (f("b"), 9), (f("c2"), 3), (f("e"), 5)],
        );
        let diff = diff_manifests(&expected, &actual);
        assert_eq!(diff.modified.len(), 1);
        assert_eq!(diff.modified[0].path, "b");
        assert!(diff.modified[0].ranges.is_empty());
        assert_eq!(
            diff.renamed,
            [Renamed {
                from: "c".into(),
                to: "c2".into(),
                size: Some(3)
            }]
        );
        assert_eq!(
            diff.missing,
            [FileChange {
                path: "d".into(),
                size: Some(4)
            }]
        );
        assert_eq!(
            diff.added,
            [FileChange {
                path: "e".into(),
                size: Some(5)
            }]
        );
        assert!(diff_manifests(&expected, &expected).is_empty());
    }

    #[test]
    fn names_that_differ_only_by_normalisation_are_pointed_out() {
        let f = ResourceName::file;
        let (nfc, nfd) = ("caf\u{e9}.bin", "cafe\u{301}.bin");
        let expected = manifest(Method::Files, &[(f(nfc), 1), (f("x"), 2)]);
        let actual = manifest(Method::Files, &[(f(nfd), 1), (f("y"), 3)]);
        let diff = diff_manifests(&expected, &actual);
        assert_eq!(diff.renamed.len(), 1);
        assert_eq!(
            diff.lookalikes,
            [Lookalike {
                expected: nfc.into(),
                actual: nfd.into()
            }]
        );
    }

    #[test]
    fn sharded_changes_name_merged_byte_ranges() {
        let s = ResourceName::shard;
        let method = Method::Shards { shard_size: 10 };
        let expected = manifest(
            method,
            &[(s("w", 0, 10), 1), (s("w", 10, 20), 2), (s("w", 20, 25), 3)],
        );
        let actual = manifest(
            method,
            &[
                (s("w", 0, 10), 1),
                (s("w", 10, 20), 7),
                (s("w", 20, 30), 8),
                (s("w", 30, 31), 9),
            ],
        );
        let diff = diff_manifests(&expected, &actual);
        assert_eq!(diff.modified.len(), 1);
        let modified = &diff.modified[0];
        assert_eq!(
            (modified.expected_size, modified.actual_size),
            (Some(25), Some(31))
        );
        assert_eq!(modified.ranges, [ByteRange { start: 10, end: 31 }]);
    }
}
