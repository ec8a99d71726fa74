//! Streaming digests of files and byte ranges of files, in bounded memory.

mod algorithm;
mod blake3_tree;
mod stable_file;
mod stream;

pub use algorithm::HashAlgorithm;

use std::ops::Range;

use crate::error::Result;
use crate::walk::ModelFile;
use stable_file::StableFile;
use stream::StreamHasher;

/// Hashes `range` of a listed file with `algorithm`, calling `progress` with each number of
/// bytes read. Fails if the file is not the one listed, or changes before hashing ends.
pub fn hash_file_range(
    file: &ModelFile,
    range: Range<u64>,
    algorithm: HashAlgorithm,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<u8>> {
    let stable = StableFile::open(file)?;
    let reaches_end = range.end == file.stamp.size;
    let whole_large_blake3 = algorithm == HashAlgorithm::Blake3
        && range.start == 0
        && range.end >= blake3_tree::PARALLEL_THRESHOLD;
    let digest = if whole_large_blake3 {
        blake3_tree::hash_parallel(&stable, range.end, progress)?.to_vec()
    } else {
        let mut hasher = StreamHasher::new(algorithm);
        stable.read_range(range, |bytes| {
            hasher.update(bytes);
            progress(bytes.len() as u64);
        })?;
        hasher.finalize()
    };
    if reaches_end {
        stable.confirm_ends_at_size()?;
    }
    stable.confirm_unchanged("while it was being hashed")?;
    Ok(digest)
}

/// Feeds the whole of a listed file to `sink`, failing if it is not the file listed or changes
/// while it is read.
pub fn stream_file(file: &ModelFile, sink: &mut dyn FnMut(&[u8])) -> Result<()> {
    let stable = StableFile::open(file)?;
    stable.read_range(0..file.stamp.size, |bytes| sink(bytes))?;
    stable.confirm_ends_at_size()?;
    stable.confirm_unchanged("while it was being read")
}
