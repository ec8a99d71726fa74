//! Property: any single change to a model (a byte flipped, a file truncated, appended to,
//! renamed, added or removed) is reported as exactly that change, in file and shard mode.

use std::fs;
use std::path::Path;

use modelprov::manifest::{
    BuildContext, ByteRange, FileChange, ManifestDiff, Method, Modified, Renamed, Serialization,
    build_manifest,
};
use modelprov::verify::{Expectation, verify_model};
use proptest::prelude::*;

const SHARD: u64 = 16;

#[derive(Clone, Debug)]
enum Mutation {
    Flip { file: usize, at: usize },
    Truncate { file: usize, by: usize },
    Append { file: usize, bytes: Vec<u8> },
    Rename { file: usize },
    Add { bytes: Vec<u8> },
    Remove { file: usize },
}

fn model_files() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 2..70), 1..5)
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<usize>()).prop_map(|(file, at)| Mutation::Flip { file, at }),
        (any::<usize>(), any::<usize>()).prop_map(|(file, by)| Mutation::Truncate { file, by }),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..40))
            .prop_map(|(file, bytes)| Mutation::Append { file, bytes }),
        any::<usize>().prop_map(|file| Mutation::Rename { file }),
        prop::collection::vec(any::<u8>(), 1..40).prop_map(|bytes| Mutation::Add { bytes }),
        any::<usize>().prop_map(|file| Mutation::Remove { file }),
    ]
}

fn name(index: usize) -> String {
    // Nested names exercise component ordering.
    if index.is_multiple_of(2) {
        format!("f{index}.bin")
    } else {
        format!("sub/f{index}.bin")
    }
}

/// The shards (merged) that a change from `before` to `after` touches.
fn shard_ranges(before: &[u8], after: &[u8], first_changed: usize) -> Vec<ByteRange> {
    let start = first_changed as u64 / SHARD * SHARD;
    let end = before.len().max(after.len()) as u64;
    let end_of_changed = if before.len() == after.len() {
        (start + SHARD).min(end)
    } else {
        end
    };
    vec![ByteRange {
        start,
        end: end_of_changed,
    }]
}

/// Applies `mutation` to the model in `root`, returning the diff a correct verifier reports.
fn apply(root: &Path, files: &[Vec<u8>], mutation: &Mutation, sharded: bool) -> ManifestDiff {
    let pick = |i: usize| i % files.len();
    let mut diff = ManifestDiff::default();
    let modified = |path: String, before: &[u8], after: &[u8], first: usize| Modified {
        path,
        expected_size: Some(before.len() as u64),
        actual_size: Some(after.len() as u64),
        ranges: if sharded {
            shard_ranges(before, after, first)
        } else {
            Vec::new()
        },
    };
    match mutation {
        Mutation::Flip { file, at } => {
            let index = pick(*file);
            let mut after = files[index].clone();
            let at = at % after.len();
            after[at] ^= 0x01;
            fs::write(root.join(name(index)), &after).unwrap();
            diff.modified
                .push(modified(name(index), &files[index], &after, at));
        }
        Mutation::Truncate { file, by } => {
            let index = pick(*file);
            let before = &files[index];
            let keep = 1 + by % (before.len() - 1); // at least one byte stays
            let after = &before[..keep];
            fs::write(root.join(name(index)), after).unwrap();
            diff.modified
                .push(modified(name(index), before, after, keep));
        }
        Mutation::Append { file, bytes } => {
            let index = pick(*file);
            let mut after = files[index].clone();
            after.extend_from_slice(bytes);
            fs::write(root.join(name(index)), &after).unwrap();
            diff.modified.push(modified(
                name(index),
                &files[index],
                &after,
                files[index].len(),
            ));
        }
        Mutation::Rename { file } => {
            let index = pick(*file);
            fs::rename(root.join(name(index)), root.join("renamed.bin")).unwrap();
            diff.renamed.push(Renamed {
                from: name(index),
                to: "renamed.bin".into(),
                size: Some(files[index].len() as u64),
            });
        }
        Mutation::Add { bytes } => {
            fs::write(root.join("added.bin"), bytes).unwrap();
            diff.added.push(FileChange {
                path: "added.bin".into(),
                size: Some(bytes.len() as u64),
            });
        }
        Mutation::Remove { file } => {
            let index = pick(*file);
            fs::remove_file(root.join(name(index))).unwrap();
            diff.missing.push(FileChange {
                path: name(index),
                size: Some(files[index].len() as u64),
            });
        }
    }
    diff
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn a_single_change_is_reported_as_exactly_that(
        files in model_files(),
        mutation in mutation(),
        sharded in any::<bool>(),
    ) {
        let folder = tempfile::tempdir().unwrap();
        let root = folder.path().join("model");
        fs::create_dir_all(root.join("sub")).unwrap();
        for (index, bytes) in files.iter().enumerate() {
            fs::write(root.join(name(index)), bytes).unwrap();
        }
        let serialization = Serialization {
            method: if sharded { Method::Shards { shard_size: SHARD } } else { Method::Files },
            ..Serialization::oms_default()
        };
        let manifest = build_manifest(&root, &serialization, &BuildContext::default()).unwrap().manifest;
        let untouched = verify_model(&root, &Expectation::Manifest(manifest.clone()), &BuildContext::default()).unwrap();
        prop_assert!(untouched.ok);

        let expected = apply(&root, &files, &mutation, sharded);
        let verification = verify_model(&root, &Expectation::Manifest(manifest), &BuildContext::default()).unwrap();
        prop_assert!(!verification.ok);
        if !matches!(mutation, Mutation::Rename { .. }) {
            // The OMS root digest covers digests, not names: a rename that keeps the order of
            // resources keeps the digest, so only the manifest comparison can catch it.
            prop_assert_ne!(verification.actual, verification.expected);
        }
        prop_assert_eq!(verification.diff.unwrap(), expected);
    }
}
