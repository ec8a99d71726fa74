//! BLAKE3 of one large file on all cores, reading with pread into small buffers: the file is
//! split along BLAKE3's own tree (left subtree = largest power-of-two number of chunks below the
//! length), leaves are hashed independently, and chaining values are merged up to the root.
//! This gives the speed of `update_rayon` over an mmap without mapping the file, so memory stays
//! flat and a file truncated underneath us is an error rather than a SIGBUS.

use blake3::Hasher;
use blake3::hazmat::{
    ChainingValue, HasherExt, Mode, left_subtree_len, merge_subtrees_non_root, merge_subtrees_root,
};

use super::stable_file::StableFile;
use crate::error::Result;

/// Largest subtree hashed by one task. Big enough to amortise task overhead, small enough to
/// give every core work on a file of a few tens of MiB.
const LEAF_LEN: u64 = 4 << 20;

/// Files at least this large take the tree path; smaller ones are hashed sequentially.
pub(crate) const PARALLEL_THRESHOLD: u64 = 2 * LEAF_LEN;

/// The BLAKE3 digest of the first `len` bytes of `file`; `len` must exceed one chunk.
pub(crate) fn hash_parallel(
    file: &StableFile<'_>,
    len: u64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<[u8; 32]> {
    debug_assert!(len > blake3::CHUNK_LEN as u64);
    let split = left_subtree_len(len);
    let (left, right) = rayon::join(
        || subtree(file, 0, split, progress),
        || subtree(file, split, len - split, progress),
    );
    Ok(*merge_subtrees_root(&left?, &right?, Mode::Hash).as_bytes())
}

fn subtree(
    file: &StableFile<'_>,
    offset: u64,
    len: u64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ChainingValue> {
    if len <= LEAF_LEN {
        let mut hasher = Hasher::new();
        hasher.set_input_offset(offset);
        file.read_range(offset..offset + len, |bytes| {
            hasher.update(bytes);
            progress(bytes.len() as u64);
        })?;
        return Ok(hasher.finalize_non_root());
    }
    let split = left_subtree_len(len);
    let (left, right) = rayon::join(
        || subtree(file, offset, split, progress),
        || subtree(file, offset + split, len - split, progress),
    );
    Ok(merge_subtrees_non_root(&left?, &right?, Mode::Hash))
}
