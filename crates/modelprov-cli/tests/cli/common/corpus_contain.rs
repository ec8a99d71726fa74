//! Containers as the loaders read them: compressed wrappers (joblib `compress=`, `.pkl.gz`),
//! zip members in every method Python's `zipfile` reads, and zip bombs. Payloads are the
//! hand-written pickles of corpus.rs; only the wrapping is new.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Label, Sample, npy, npy_with_header, os_system_p0, torch_state_dict, write};

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(3));
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(3));
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn bz2(data: &[u8]) -> Vec<u8> {
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(9));
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn lz4(data: &[u8]) -> Vec<u8> {
    let mut encoder = lz4_flex::frame::FrameEncoder::new(Vec::new());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// joblib < 0.10's zlib format: `ZF`, the length as Python's `hex()` padded to 19, the stream.
fn joblib_zfile(data: &[u8]) -> Vec<u8> {
    let mut file = format!("ZF{:<19}", format!("{:#x}", data.len())).into_bytes();
    file.extend_from_slice(&zlib(data));
    file
}

/// An object-dtype `.npy` whose data is `payload` (what `np.save` writes for object arrays).
fn object_npy(payload: &[u8]) -> Vec<u8> {
    npy_with_header(
        "{\"descr\": \"|O\", \"fortran_order\": False, \"shape\": (1,), }",
        payload,
    )
}

/// One zip member, already compressed with `method` (zip method numbers: 8 deflate, 12 bzip2).
pub struct RawMember<'a> {
    pub name: &'a str,
    pub method: u16,
    pub compressed: Vec<u8>,
    pub content: &'a [u8],
}

/// A zip written field by field, so that any method can be used and entries can share bytes:
/// every name in `aliases` is one more central entry pointing at the first member's bytes.
pub fn raw_zip(members: &[RawMember<'_>], aliases: &[&str]) -> Vec<u8> {
    let mut file = Vec::new();
    let mut central = Vec::new();
    let mut entries = 0u16;
    let mut first_offset = None;
    let push_central = |central: &mut Vec<u8>, m: &RawMember<'_>, name: &str, offset: u32| {
        central.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00");
        central.extend_from_slice(&m.method.to_le_bytes());
        central.extend_from_slice(&[0; 4]);
        central.extend_from_slice(&crc32fast::hash(m.content).to_le_bytes());
        central.extend_from_slice(&(m.compressed.len() as u32).to_le_bytes());
        central.extend_from_slice(&(m.content.len() as u32).to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    };
    for m in members {
        let offset = file.len() as u32;
        first_offset.get_or_insert(offset);
        file.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00");
        file.extend_from_slice(&m.method.to_le_bytes());
        file.extend_from_slice(&[0; 4]);
        file.extend_from_slice(&crc32fast::hash(m.content).to_le_bytes());
        file.extend_from_slice(&(m.compressed.len() as u32).to_le_bytes());
        file.extend_from_slice(&(m.content.len() as u32).to_le_bytes());
        file.extend_from_slice(&(m.name.len() as u16).to_le_bytes());
        file.extend_from_slice(&[0; 2]);
        file.extend_from_slice(m.name.as_bytes());
        file.extend_from_slice(&m.compressed);
        push_central(&mut central, m, m.name, offset);
        entries += 1;
    }
    for alias in aliases {
        push_central(&mut central, &members[0], alias, first_offset.unwrap());
        entries += 1;
    }
    let central_start = file.len() as u32;
    file.extend_from_slice(&central);
    file.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00");
    file.extend_from_slice(&entries.to_le_bytes());
    file.extend_from_slice(&entries.to_le_bytes());
    file.extend_from_slice(&(central.len() as u32).to_le_bytes());
    file.extend_from_slice(&central_start.to_le_bytes());
    file.extend_from_slice(&[0; 2]);
    file
}

fn torch_zip(data_pkl: &[u8]) -> Vec<u8> {
    raw_zip(
        &[
            RawMember {
                name: "archive/data.pkl",
                method: 0,
                compressed: data_pkl.to_vec(),
                content: data_pkl,
            },
            RawMember {
                name: "archive/version",
                method: 0,
                compressed: b"3\n".to_vec(),
                content: b"3\n",
            },
        ],
        &[],
    )
}

/// Appends the container cases to `samples`.
pub fn contain_samples(dir: &Path, samples: &mut Vec<Sample>) {
    let mut add = |path: PathBuf, label: Label, technique: &'static str, expected: &'static str| {
        samples.push(Sample {
            path,
            label,
            technique,
            expected,
        });
    };
    let payload = os_system_p0();
    let benign = torch_state_dict();
    const SYSTEM: &str = "Dangerous os.system";

    add(
        write(dir, "benign-zlib.joblib", &zlib(&benign)),
        Label::Benign,
        "zlib-compressed pickle (joblib compress=3)",
        "",
    );
    add(
        write(dir, "benign.pkl.bz2", &bz2(&benign)),
        Label::Benign,
        "bz2-compressed pickle",
        "",
    );
    add(
        write(dir, "benign-torch.pt.gz", &gzip(&torch_zip(&benign))),
        Label::Benign,
        "gzip-compressed torch zip checkpoint",
        "",
    );
    add(
        write(
            dir,
            "benign-x-text.txt",
            b"x^2 + y^2 = z^2, in a plain note\n",
        ),
        Label::Benign,
        "text starting like a zlib header",
        "",
    );
    let floats = npy("<f4", &[0; 12]);
    add(
        write(
            dir,
            "benign-bzip2.npz",
            &raw_zip(
                &[RawMember {
                    name: "a.npy",
                    method: 12,
                    compressed: bz2(&floats),
                    content: &floats,
                }],
                &[],
            ),
        ),
        Label::Benign,
        ".npz with a bzip2 member",
        "",
    );

    add(
        write(dir, "mal-zlib.joblib", &zlib(&payload)),
        Label::Malicious,
        "zlib-compressed pickle (joblib compress=)",
        SYSTEM,
    );
    add(
        write(dir, "mal.pkl.gz", &gzip(&payload)),
        Label::Malicious,
        "gzip-compressed pickle (.pkl.gz)",
        SYSTEM,
    );
    add(
        write(dir, "mal.pkl.bz2", &bz2(&payload)),
        Label::Malicious,
        "bz2-compressed pickle",
        SYSTEM,
    );
    add(
        write(dir, "mal-zfile.pkl", &joblib_zfile(&payload)),
        Label::Malicious,
        "joblib < 0.10 ZF zlib file",
        SYSTEM,
    );
    let mut two_streams = zlib(&benign);
    two_streams.extend_from_slice(&zlib(&payload));
    add(
        write(dir, "mal-second-stream.joblib", &two_streams),
        Label::Malicious,
        "payload in a second zlib stream (joblib reads on)",
        SYSTEM,
    );
    add(
        write(dir, "mal-lz4.joblib", &lz4(&payload)),
        Label::Malicious,
        "lz4-compressed pickle (joblib compress='lz4')",
        SYSTEM,
    );
    let mut two_members = gzip(&benign);
    two_members.extend_from_slice(&gzip(&payload));
    add(
        write(dir, "mal-second-member.pkl.gz", &two_members),
        Label::Malicious,
        "payload in a second gzip member",
        SYSTEM,
    );
    add(
        write(dir, "mal-torch.pt.gz", &gzip(&torch_zip(&payload))),
        Label::Malicious,
        "gzip-compressed torch zip",
        SYSTEM,
    );
    add(
        write(dir, "mal-double.pkl.gz.bz2", &bz2(&gzip(&payload))),
        Label::Malicious,
        "gzip inside bz2",
        SYSTEM,
    );
    let objects = object_npy(&payload);
    add(
        write(
            dir,
            "mal-bzip2.npz",
            &raw_zip(
                &[RawMember {
                    name: "a.npy",
                    method: 12,
                    compressed: bz2(&objects),
                    content: &objects,
                }],
                &[],
            ),
        ),
        Label::Malicious,
        ".npz object array in a bzip2 member",
        SYSTEM,
    );
    add(
        write(
            dir,
            "mal-deflate-name.pt",
            &raw_zip(
                &[RawMember {
                    name: "archive/data.pkl",
                    method: 8,
                    compressed: deflate(&payload),
                    content: &payload,
                }],
                &[],
            ),
        ),
        Label::Malicious,
        "torch zip with a deflated data.pkl",
        SYSTEM,
    );

    // Bombs and tricks that are malformed whatever they hold.
    let zeros = vec![0u8; 300 << 20];
    add(
        write(dir, "bad-bomb.pkl.bz2", &bz2(&zeros)),
        Label::Malformed,
        "bz2 bomb (300 MiB of zeros in a few hundred bytes)",
        "",
    );
    let shared = b"\x80\x04K\x01.".to_vec();
    add(
        write(
            dir,
            "bad-overlap.zip",
            &raw_zip(
                &[RawMember {
                    name: "a.pkl",
                    method: 0,
                    compressed: shared.clone(),
                    content: &shared,
                }],
                &["b.pkl"],
            ),
        ),
        Label::Malformed,
        "zip entries sharing one member's bytes (zip bomb construction)",
        "",
    );
    add(
        write(
            dir,
            "bad-method.npz",
            &raw_zip(
                &[RawMember {
                    name: "a.npy",
                    method: 98,
                    compressed: objects.clone(),
                    content: &objects,
                }],
                &[],
            ),
        ),
        Label::Malformed,
        ".npz member in a compression modelprov cannot read (PPMd)",
        "",
    );
    let mut cut = zlib(&zeros[..1 << 20]);
    cut.truncate(64);
    add(
        write(dir, "bad-cut.joblib", &cut),
        Label::Malformed,
        "zlib stream cut short",
        "",
    );
}
