//! Streaming hashing: the parallel BLAKE3 tree equals plain BLAKE3, SHA-256 and BLAKE2b equal
//! one-shot digests over range boundaries, and a file that changes is refused.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use blake2::{Blake2b512, Digest as _};
use modelprov::Error;
use modelprov::hashing::{HashAlgorithm, hash_file_range};
use modelprov::walk::{IgnoreSet, ModelFile, WalkOptions, list_model};
use sha2::Sha256;

fn pattern(len: usize) -> Vec<u8> {
    (0..len as u64)
        .map(|i| ((i * 2_654_435_761) >> 13) as u8)
        .collect()
}

fn listed(path: &Path) -> ModelFile {
    let ignore = IgnoreSet::default();
    let listing = list_model(
        path,
        WalkOptions {
            ignore: &ignore,
            allow_symlinks: false,
        },
    )
    .unwrap();
    listing.files.into_iter().next().unwrap()
}

#[test]
fn parallel_blake3_equals_sequential_blake3_at_tree_boundaries() {
    let folder = tempfile::tempdir().unwrap();
    const MIB: usize = 1 << 20;
    for len in [
        8 * MIB,
        8 * MIB + 1,
        12 * MIB + 1023,
        16 * MIB,
        16 * MIB + 1025,
        21 * MIB + 7,
    ] {
        let data = pattern(len);
        let path = folder.path().join(format!("f{len}"));
        fs::write(&path, &data).unwrap();
        let digest = hash_file_range(
            &listed(&path),
            0..len as u64,
            HashAlgorithm::Blake3,
            &|_| {},
        )
        .unwrap();
        assert_eq!(
            digest,
            blake3::hash(&data).as_bytes().to_vec(),
            "length {len}"
        );
    }
}

#[test]
fn ranges_hash_exactly_their_bytes_and_report_progress() {
    let folder = tempfile::tempdir().unwrap();
    let data = pattern(3 * (1 << 20) + 123);
    let path = folder.path().join("w.bin");
    fs::write(&path, &data).unwrap();
    let file = listed(&path);
    for (start, end) in [
        (0, data.len()),
        (1_000_000, 2_000_000),
        (3_000_000, data.len()),
        (5, 5),
    ] {
        let seen = std::sync::atomic::AtomicU64::new(0);
        let progress = |n: u64| {
            seen.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        };
        let range = start as u64..end as u64;
        let sha = hash_file_range(&file, range.clone(), HashAlgorithm::Sha256, &progress).unwrap();
        assert_eq!(sha, Sha256::digest(&data[start..end]).to_vec());
        let b2 = hash_file_range(&file, range, HashAlgorithm::Blake2b, &|_| {}).unwrap();
        assert_eq!(b2, Blake2b512::digest(&data[start..end]).to_vec());
        assert_eq!(seen.into_inner(), (end - start) as u64);
    }
}

#[test]
fn a_file_changed_after_listing_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("w.bin");
    fs::write(&path, b"original").unwrap();
    let file = listed(&path);
    fs::write(&path, b"replaced!").unwrap();
    let error = hash_file_range(&file, 0..8, HashAlgorithm::Sha256, &|_| {}).unwrap_err();
    assert!(matches!(error, Error::Unstable { .. }), "{error}");
    assert!(error.to_string().contains("w.bin"), "{error}");
}

#[test]
fn a_file_that_shrinks_or_grows_while_hashed_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("w.bin");
    let len = 4 << 20;
    fs::write(&path, pattern(len)).unwrap();
    let file = listed(&path);

    // Truncate it from inside the progress callback, i.e. after the first read.
    let shrink = |_| {
        let _ = OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(10));
    };
    let error = hash_file_range(&file, 0..len as u64, HashAlgorithm::Sha256, &shrink).unwrap_err();
    assert!(error.to_string().contains("shrank"), "{error}");

    fs::write(&path, pattern(len)).unwrap();
    let file = listed(&path);
    let grow = |_| {
        let _ = OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(b"more"));
    };
    let error = hash_file_range(&file, 0..len as u64, HashAlgorithm::Sha256, &grow).unwrap_err();
    assert!(matches!(error, Error::Unstable { .. }), "{error}");
    assert!(error.to_string().contains("size went from"), "{error}");
}
