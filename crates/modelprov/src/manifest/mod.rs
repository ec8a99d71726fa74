//! A model's manifest: every resource (file or shard) with its digest, the serialization that
//! produced them, and the root digest that identifies the model.

mod build;
mod diff;
mod json;
mod name;
mod serialization;

pub use build::{BuildContext, BuildOutcome, BuildStats, build_manifest};
pub use diff::{FileChange, ManifestDiff, Modified, Renamed, diff_manifests};
pub use json::{FORMAT, manifest_json, parse_manifest, read_manifest, write_manifest};
pub(crate) use json::{
    NameRules, ResourceEntry, ResourceOut, parse_serialization, resources_from_entries,
};
pub use name::{ByteRange, ResourceName, compare_paths};
pub use serialization::{DEFAULT_SHARD_SIZE, MAX_SHARDS, Method, Serialization};

use crate::digest::RootDigest;

/// One entry of a manifest: a whole file or one shard of a file, with the digest of its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// Which file (and, for a shard, which byte range of it) the digest covers.
    pub name: ResourceName,
    /// The raw digest (not hex) of exactly those bytes, in the serialization's algorithm.
    pub digest: Vec<u8>,
    /// Bytes covered: the file's size, or the shard's length. Unknown for whole-file resources
    /// read from a manifest that does not record it (an OMS payload).
    pub size: Option<u64>,
}

/// Every resource of a model with its digest and the serialization that produced them; its
/// [`Manifest::root_digest`] is the model's identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// Informational: the model folder's (or single file's) name.
    pub name: String,
    /// How the model was cut into resources and hashed (OMS `predicate.serialization`).
    pub serialization: Serialization,
    /// In manifest order; manifests this tool builds are sorted by `ResourceName`'s order.
    pub resources: Vec<Resource>,
}

impl Manifest {
    /// SHA-256 over the raw resource digests in manifest order: the model's identity.
    pub fn root_digest(&self) -> RootDigest {
        RootDigest::over(self.resources.iter().map(|r| r.digest.as_slice()))
    }

    /// Total bytes the resources cover, when every size is known.
    pub fn total_size(&self) -> Option<u64> {
        self.resources.iter().map(|r| r.size).sum()
    }

    /// Number of distinct files named by the resources.
    pub fn file_count(&self) -> usize {
        let mut paths: Vec<&str> = self
            .resources
            .iter()
            .map(|r| r.name.path.as_str())
            .collect();
        paths.sort_unstable();
        paths.dedup();
        paths.len()
    }
}
