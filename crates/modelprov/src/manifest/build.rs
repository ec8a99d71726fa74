//! Building a manifest from the files on disk: list, plan one task per resource, take what the
//! optional cache already knows, hash the rest in parallel over all cores (largest first, so
//! one big file does not start last), then sort.

use std::ops::Range;
use std::path::Path;
use std::time::SystemTime;

use rayon::prelude::*;
use serde::Serialize;

use super::name::ResourceName;
use super::serialization::Serialization;
use super::{Manifest, Resource};
use crate::cache::{CacheEntry, DigestCache};
use crate::error::{Error, Result};
use crate::hashing::hash_file_range;
use crate::progress::ProgressSink;
use crate::walk::{IgnoreSet, WalkOptions, list_model};
use crate::warning::Warning;

/// What a manifest build may use besides the model: a progress display and a digest cache.
/// The default has neither.
#[derive(Default)]
pub struct BuildContext<'a> {
    /// Told the bytes to hash up front, then each chunk as it is hashed or found in the cache;
    /// `None` reports nothing.
    pub progress: Option<&'a dyn ProgressSink>,
    /// Opt-in incremental re-hashing: digests of unchanged files are taken from here.
    pub cache: Option<&'a DigestCache>,
}

/// What a build did: how much it listed, covered and actually read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BuildStats {
    /// Files listed in the model, after the ignore rules.
    pub files: usize,
    /// Resources in the manifest: one per file, or one per shard.
    pub resources: usize,
    /// Bytes the manifest covers.
    pub bytes: u64,
    /// Bytes actually read (the rest came from the cache).
    pub bytes_hashed: u64,
    /// Resources whose digest was taken from the cache instead of being read.
    pub cache_hits: usize,
}

/// The result of [`build_manifest`]: the manifest, what it took, and what the user should know.
#[derive(Debug)]
pub struct BuildOutcome {
    /// The model's manifest, resources in canonical order.
    pub manifest: Manifest,
    /// Counts and byte totals of the build.
    pub stats: BuildStats,
    /// Problems that did not stop the build (a skipped folder symlink, a link out of the model,
    /// lookalike names, a digest cache that could not be used), one message each.
    pub warnings: Vec<Warning>,
}

struct Task {
    file: usize,
    name: ResourceName,
    range: Range<u64>,
}

/// Lists the model at `model` (a folder or a single file) under `serialization`'s rules and
/// hashes every resource in parallel, taking unchanged files' digests from the context's cache.
/// Fails on a serialization OMS cannot express, a file the walk rules refuse, or a file that
/// changes while it is hashed.
pub fn build_manifest(
    model: &Path,
    serialization: &Serialization,
    context: &BuildContext<'_>,
) -> Result<BuildOutcome> {
    serialization.check().map_err(Error::Usage)?;
    let ignore = IgnoreSet::from_recorded(&serialization.ignore_paths).map_err(Error::Usage)?;
    let started = SystemTime::now();
    let listing = list_model(
        model,
        WalkOptions {
            ignore: &ignore,
            allow_symlinks: serialization.allow_symlinks,
        },
    )?;
    let mut warnings = listing.warnings;
    let files = listing.files;
    serialization
        .check_shard_count(&files)
        .map_err(|problem| Error::walk(model, problem))?;

    let tasks: Vec<Task> = files
        .iter()
        .enumerate()
        .flat_map(|(index, file)| {
            serialization
                .resource_names(file)
                .into_iter()
                .map(move |name| Task {
                    file: index,
                    range: name.range.map_or(0..file.stamp.size, |r| r.start..r.end),
                    name,
                })
        })
        .collect();
    let total_bytes: u64 = tasks.iter().map(|t| t.range.end - t.range.start).sum();
    let progress = context.progress;
    let advance = move |bytes: u64| {
        if let Some(progress) = progress {
            progress.advance(bytes);
        }
    };
    if let Some(progress) = progress {
        progress.start(total_bytes);
    }

    let algorithm_name = serialization.resource_algorithm();
    let mut digests: Vec<Option<Vec<u8>>> = vec![None; tasks.len()];
    let mut stats = BuildStats {
        files: files.len(),
        resources: tasks.len(),
        bytes: total_bytes,
        ..BuildStats::default()
    };
    if let Some(cache) = context.cache {
        for (task, slot) in tasks.iter().zip(digests.iter_mut()) {
            match cache.lookup(&files[task.file].stamp, &algorithm_name, &task.range) {
                Ok(Some(digest)) => {
                    *slot = Some(digest);
                    stats.cache_hits += 1;
                    advance(task.range.end - task.range.start);
                }
                Ok(None) => {}
                Err(problem) => {
                    warnings.push(Warning::CacheNotUsed { problem });
                    break;
                }
            }
        }
    }

    let mut pending: Vec<usize> = (0..tasks.len()).filter(|&i| digests[i].is_none()).collect();
    pending.sort_by_key(|&i| std::cmp::Reverse(tasks[i].range.end - tasks[i].range.start));
    let computed: Vec<(usize, Vec<u8>)> = pending
        .par_iter()
        .map(|&i| {
            let task = &tasks[i];
            hash_file_range(
                &files[task.file],
                task.range.clone(),
                serialization.algorithm,
                &advance,
            )
            .map(|digest| (i, digest))
        })
        .collect::<Result<_>>()?;
    stats.bytes_hashed = computed
        .iter()
        .map(|(i, _)| tasks[*i].range.end - tasks[*i].range.start)
        .sum();

    if let Some(cache) = context.cache {
        let entries = computed.iter().map(|(i, digest)| CacheEntry {
            stamp: &files[tasks[*i].file].stamp,
            algorithm: &algorithm_name,
            range: tasks[*i].range.clone(),
            digest,
        });
        if let Err(problem) = cache.store(entries, started) {
            warnings.push(Warning::CacheNotUpdated { problem });
        }
    }
    for (i, digest) in computed {
        digests[i] = Some(digest);
    }

    let mut resources: Vec<Resource> = tasks
        .into_iter()
        .zip(digests)
        .map(|(task, digest)| Resource {
            size: Some(task.range.end - task.range.start),
            name: task.name,
            digest: digest.expect("every task was looked up or hashed"),
        })
        .collect();
    resources.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(BuildOutcome {
        manifest: Manifest {
            name: listing.model_name,
            serialization: serialization.clone(),
            resources,
        },
        stats,
        warnings,
    })
}
