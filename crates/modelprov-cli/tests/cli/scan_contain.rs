//! Containers as the loaders read them, on real files: joblib's own compressed dumps, Python's
//! gzip/bz2/lzma writers and `zipfile` in every method, and zip bombs that must end quickly.

use std::time::{Duration, Instant};

use crate::common::corpus::corpus_contain::{RawMember, deflate, raw_zip};
use modelprov::scan::{FileScan, Format, Verdict, scan_file};

fn has_system(scan: &FileScan) -> bool {
    scan.findings
        .iter()
        .any(|f| f.finding.callable.as_deref() == Some("os.system"))
}

/// Real joblib dumps in every compression joblib writes, and Python's own wrappers: benign ones
/// are safe (never "unscannable"), the same wrappers around a payload are unsafe.
#[test]
#[cfg_attr(
    not(feature = "interop"),
    ignore = "runs a reference tool: cargo test --features interop (scripts/test does)"
)]
fn real_compressed_dumps_and_wrappers() {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import sys, io, bz2, gzip, lzma, zipfile, joblib, numpy as np
d = sys.argv[1]
model = {'w': np.arange(1000, dtype='float32'), 'b': np.ones((30, 4)), 'names': ['a', 'b']}
for kind in ['zlib', 'gzip', 'bz2', 'xz', 'lzma']:
    joblib.dump(model, f'{d}/benign-{kind}.joblib', compress=(kind, 3))
joblib.dump(model, f'{d}/benign-default.joblib', compress=True)
np.savez_compressed(f'{d}/benign-savez.npz', w=np.arange(10.0))
for method, tag in [(zipfile.ZIP_LZMA, 'lzma'), (zipfile.ZIP_BZIP2, 'bzip2')]:
    buf = io.BytesIO(); np.save(buf, np.arange(10.0))
    with zipfile.ZipFile(f'{d}/benign-{tag}.npz', 'w', method) as z:
        z.writestr('w.npy', buf.getvalue())
    np.load(f'{d}/benign-{tag}.npz')['w']
    # A hand-written payload (never pickled from an object) as an object array's data.
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += b' ' * (63 - (10 + len(header)) % 64) + b'\n'
    npy = b'\x93NUMPY\x01\x00' + len(header).to_bytes(2, 'little') + header + b"cos\nsystem\n(S'true'\ntR."
    with zipfile.ZipFile(f'{d}/mal-{tag}.npz', 'w', method) as z:
        z.writestr('w.npy', npy)
payload = b"cos\nsystem\n(S'true'\ntR."
open(f'{d}/mal.pkl.xz', 'wb').write(lzma.compress(payload))
open(f'{d}/mal.pkl.lzma', 'wb').write(lzma.compress(payload, format=lzma.FORMAT_ALONE))
open(f'{d}/mal-two-streams.pkl.xz', 'wb').write(lzma.compress(b'N.') + lzma.compress(payload))
open(f'{d}/mal.pkl.gz', 'wb').write(gzip.compress(payload)[:-8])
for kind in ['zlib', 'xz', 'lzma']:
    joblib.dump({'w': np.array([1, 'x', None], dtype=object)}, f'{d}/objects-{kind}.joblib', compress=(kind, 3))
"#;
    crate::common::interop::python_ok(script, &[dir.path().to_str().unwrap()]);
    for name in [
        "benign-zlib.joblib",
        "benign-gzip.joblib",
        "benign-bz2.joblib",
        "benign-xz.joblib",
        "benign-lzma.joblib",
        "benign-default.joblib",
        "benign-savez.npz",
        "benign-lzma.npz",
        "benign-bzip2.npz",
    ] {
        let scan = scan_file(&dir.path().join(name));
        assert_eq!(
            scan.verdict,
            Verdict::Safe,
            "{name}: {:?} {:?}",
            scan.notes,
            scan.findings
        );
    }
    assert_eq!(
        scan_file(&dir.path().join("benign-lzma.joblib")).format,
        Format::Compressed
    );
    for name in [
        "mal-lzma.npz",
        "mal-bzip2.npz",
        "mal.pkl.xz",
        "mal.pkl.lzma",
        "mal-two-streams.pkl.xz",
    ] {
        let scan = scan_file(&dir.path().join(name));
        assert_eq!(scan.verdict, Verdict::Unsafe, "{name}: {:?}", scan.notes);
        assert!(has_system(&scan), "{name}: {:?}", scan.findings);
    }
    // A gzip cut before its trailer: Python has run the payload before it sees the damage.
    let cut = scan_file(&dir.path().join("mal.pkl.gz"));
    assert_eq!(cut.verdict, Verdict::Invalid, "{:?}", cut.notes);
    assert!(has_system(&cut), "{:?}", cut.findings);
    // Object arrays are judged by their elements, pickled in the decompressed stream: plain
    // values are safe, and the decompressed stream was read (not passed unscanned).
    for kind in ["zlib", "xz", "lzma"] {
        let scan = scan_file(&dir.path().join(format!("objects-{kind}.joblib")));
        assert_eq!(scan.verdict, Verdict::Safe, "{kind}: {:?}", scan.notes);
        assert!(
            scan.notes.iter().any(|n| n.contains("object array")),
            "{kind}: {:?}",
            scan.notes
        );
    }
}

/// 200 entries sharing one 256 MiB deflate stream took 38 s: now the overlap is a finding and
/// the shared budget stops the inflation after a few hundred MiB.
#[test]
fn a_zip_bomb_of_shared_entries_ends_quickly_as_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let zeros = vec![0u8; 256 << 20];
    let names: Vec<String> = (1..200).map(|i| format!("m{i}.pkl")).collect();
    let aliases: Vec<&str> = names.iter().map(String::as_str).collect();
    let bomb = raw_zip(
        &[RawMember {
            name: "m0.pkl",
            method: 8,
            compressed: deflate(&zeros),
            content: &zeros,
        }],
        &aliases,
    );
    let path = dir.path().join("bomb.zip");
    std::fs::write(&path, bomb).unwrap();
    let started = Instant::now();
    let scan = scan_file(&path);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(scan.verdict, Verdict::Invalid);
    let notes = scan.notes.join("\n");
    assert!(notes.contains("overlap"), "{notes}");
    assert!(notes.contains("decompression bomb"), "{notes}");
}

/// The command: a compressed payload is UNSAFE with exit 1 (it was "unscannable", exit 0), and
/// the format shown is what the file is.
#[test]
fn scan_exits_1_on_a_compressed_payload() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"cos\nsystem\n(S'true'\ntR.").unwrap();
    let path = dir.path().join("model.pkl.gz");
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    let out = crate::common::run(&["scan", crate::common::path_str(&path)], 1);
    assert!(
        out.contains("UNSAFE") && out.contains("(Compressed)"),
        "{out}"
    );
    assert!(out.contains("os.system"), "{out}");
    assert!(out.contains("gzip-compressed"), "{out}");
}
