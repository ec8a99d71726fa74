//! The scanner's labelled corpus, written opcode by opcode (nothing here was made by pickling
//! objects that run code): benign checkpoints of each format are safe, every malicious technique
//! (including the published scanner bypasses) is flagged, malformed files are invalid.

use std::io::Write;
use std::path::{Path, PathBuf};

use modelprov::scan::{Format, Verdict, scan_file};

/// A pickle written by hand.
#[derive(Default)]
pub struct Pickle(Vec<u8>);

impl Pickle {
    pub fn proto(v: u8) -> Pickle {
        Pickle(vec![0x80, v])
    }
    pub fn op(mut self, bytes: &[u8]) -> Pickle {
        self.0.extend_from_slice(bytes);
        self
    }
    pub fn global(self, module: &str, name: &str) -> Pickle {
        self.op(format!("c{module}\n{name}\n").as_bytes())
    }
    pub fn text(mut self, s: &str) -> Pickle {
        self.0.push(0x8c);
        self.0.push(s.len() as u8);
        self.0.extend_from_slice(s.as_bytes());
        self
    }
    pub fn put(self, i: u8) -> Pickle {
        self.op(&[b'q', i])
    }
    pub fn get(self, i: u8) -> Pickle {
        self.op(&[b'h', i])
    }
    pub fn int(self, i: u8) -> Pickle {
        self.op(&[b'K', i])
    }
    pub fn stop(self) -> Vec<u8> {
        self.op(b".").0
    }
}

const MARK: &[u8] = b"(";
const TUPLE: &[u8] = b"t";
const TUPLE1: &[u8] = b"\x85";
const EMPTY_TUPLE: &[u8] = b")";
const REDUCE: &[u8] = b"R";
const SETITEMS: &[u8] = b"u";
const BUILD: &[u8] = b"b";
const NEWFALSE: &[u8] = b"\x89";
const BINPERSID: &[u8] = b"Q";

/// An ordinary torch state dict: {"weight": _rebuild_tensor_v2(storage, 0, (4,), (1,), False, OrderedDict())}.
pub fn torch_state_dict() -> Vec<u8> {
    Pickle::proto(2)
        .global("collections", "OrderedDict")
        .op(EMPTY_TUPLE)
        .op(REDUCE)
        .put(0)
        .op(MARK)
        .text("weight")
        .global("torch._utils", "_rebuild_tensor_v2")
        .op(MARK)
        .op(MARK)
        .text("storage")
        .global("torch", "FloatStorage")
        .text("0")
        .text("cpu")
        .int(4)
        .op(TUPLE)
        .op(BINPERSID)
        .int(0)
        .int(4)
        .op(TUPLE1)
        .int(1)
        .op(TUPLE1)
        .op(NEWFALSE)
        .global("collections", "OrderedDict")
        .op(EMPTY_TUPLE)
        .op(REDUCE)
        .op(TUPLE)
        .op(REDUCE)
        .op(SETITEMS)
        .stop()
}

/// numpy.core.multiarray._reconstruct(ndarray, (0,), b'b') with a float32 dtype in its state.
fn numpy_array(dtype: &str) -> Vec<u8> {
    Pickle::proto(2)
        .global("numpy.core.multiarray", "_reconstruct")
        .global("numpy", "ndarray")
        .int(0)
        .op(TUPLE1)
        .op(b"C\x01b")
        .op(b"\x87")
        .op(REDUCE)
        .op(MARK)
        .int(1)
        .int(3)
        .op(TUPLE1)
        .global("numpy", "dtype")
        .text(dtype)
        .op(NEWFALSE)
        .op(b"\x88")
        .op(b"\x87")
        .op(REDUCE)
        .op(NEWFALSE)
        .op(b"C\x0c\x00\x00\x80?\x00\x00\x00@\x00\x00@@")
        .op(TUPLE)
        .op(BUILD)
        .stop()
}

fn os_system_p0() -> Vec<u8> {
    b"cos\nsystem\n(S'touch /tmp/pwned'\ntR.".to_vec()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn zip_with(dir: &Path, name: &str, members: &[(&str, &[u8])]) -> PathBuf {
    let path = dir.join(name);
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (member, bytes) in members {
        writer.start_file(*member, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap();
    path
}

/// Flips bits in every local and central header of `member` (`flag` in the general-purpose flags,
/// or the CRC when `crc` is set).
fn damage_zip(path: &Path, member: &str, flag: u16, crc: bool) {
    let mut bytes = std::fs::read(path).unwrap();
    let needle = member.as_bytes();
    let positions: Vec<usize> = (0..bytes.len() - needle.len())
        .filter(|&i| &bytes[i..i + needle.len()] == needle)
        .collect();
    for at in positions {
        // Local header: name at +30; central header: name at +46.
        for (signature, name_offset, flags_offset, crc_offset) in [
            (b"PK\x03\x04", 30usize, 6usize, 14usize),
            (b"PK\x01\x02", 46, 8, 16),
        ] {
            if at >= name_offset && &bytes[at - name_offset..at - name_offset + 4] == signature {
                let header = at - name_offset;
                let flags = u16::from_le_bytes([
                    bytes[header + flags_offset],
                    bytes[header + flags_offset + 1],
                ]) | flag;
                bytes[header + flags_offset..header + flags_offset + 2]
                    .copy_from_slice(&flags.to_le_bytes());
                if crc {
                    bytes[header + crc_offset] ^= 0xff;
                }
            }
        }
    }
    std::fs::write(path, bytes).unwrap();
}

fn legacy_torch(object: &[u8]) -> Vec<u8> {
    let mut file = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.".to_vec();
    file.extend_from_slice(b"\x80\x02M\xe9\x03.");
    file.extend_from_slice(
        &Pickle::proto(2)
            .op(b"}")
            .put(0)
            .op(MARK)
            .text("little_endian")
            .op(b"\x88")
            .op(SETITEMS)
            .stop(),
    );
    file.extend_from_slice(object);
    file.extend_from_slice(
        &Pickle::proto(2)
            .op(b"]")
            .put(0)
            .op(MARK)
            .text("0")
            .op(b"e")
            .stop(),
    );
    file.extend_from_slice(b"\x00\x00\x00\x00\x00\x00\x00\x00\x80\x02\xff\xff raw storage bytes");
    file
}

fn npy(descr: &str, data: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (3,), }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut file = b"\x93NUMPY\x01\x00".to_vec();
    file.extend_from_slice(&(header.len() as u16).to_le_bytes());
    file.extend_from_slice(header.as_bytes());
    file.extend_from_slice(data);
    file
}

fn verdict(path: &Path) -> (Verdict, Vec<String>) {
    let scan = scan_file(path);
    let found = scan
        .findings
        .iter()
        .map(|f| {
            format!(
                "{:?} {}",
                f.finding.risk,
                f.finding
                    .callable
                    .clone()
                    .unwrap_or_else(|| f.finding.message.clone())
            )
        })
        .collect();
    (scan.verdict, found)
}

#[test]
fn benign_checkpoints_are_safe() {
    let dir = tempfile::tempdir().unwrap();
    let plain = Pickle::proto(4)
        .op(b"}")
        .put(0)
        .op(MARK)
        .text("lr")
        .op(b"G?\x1a6\xe2\xeb\x1cC-")
        .text("epochs")
        .int(3)
        .op(SETITEMS)
        .stop();
    let mut storage = vec![0x80, 0x02];
    storage.extend_from_slice(&[0x3f; 62]);
    let cases = [
        write(dir.path(), "state_dict.pkl", &torch_state_dict()),
        write(dir.path(), "array.pkl", &numpy_array("f4")),
        write(dir.path(), "hparams.pkl", &plain),
        write(dir.path(), "legacy.pt", &legacy_torch(&torch_state_dict())),
        zip_with(
            dir.path(),
            "model.pt",
            &[
                ("archive/data.pkl", &torch_state_dict()),
                ("archive/data/0", &storage),
                ("archive/version", b"3\n"),
            ],
        ),
        write(dir.path(), "array.npy", &npy("<f4", &[0; 12])),
        zip_with(
            dir.path(),
            "arrays.npz",
            &[("a.npy", &npy("<f4", &[0; 12]))],
        ),
        write(dir.path(), "config.json", b"{\"architectures\": [\"X\"]}"),
    ];
    for path in cases {
        let (verdict, found) = verdict(&path);
        assert_eq!(verdict, Verdict::Safe, "{}: {found:?}", path.display());
    }
    let model =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tiny-model/model.safetensors");
    assert_eq!(scan_file(&model).verdict, Verdict::Safe);
}

#[test]
fn every_malicious_technique_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let memo_obfuscated = Pickle::proto(4)
        .text("os")
        .put(1)
        .text("system")
        .put(2)
        .op(b"0")
        .op(b"0")
        .get(1)
        .get(2)
        .op(b"\x93")
        .text("id")
        .op(TUPLE1)
        .op(REDUCE)
        .stop();
    let computed_name = Pickle::proto(4)
        .global("builtins", "str")
        .text("o")
        .op(TUPLE1)
        .op(REDUCE)
        .text("system")
        .op(b"\x93")
        .text("id")
        .op(TUPLE1)
        .op(REDUCE)
        .stop();
    let inst = b"(S'id'\nisubprocess\ncheck_output\n.".to_vec();
    let obj = Pickle::proto(2)
        .op(MARK)
        .global("builtins", "eval")
        .text("1+1")
        .op(b"o")
        .stop();
    let newobj = Pickle::proto(2)
        .global("subprocess", "Popen")
        .text("id")
        .op(TUPLE1)
        .op(b"\x81")
        .stop();
    let getattr_gadget = Pickle::proto(2)
        .global("builtins", "getattr")
        .global("collections", "OrderedDict")
        .text("__init__")
        .op(b"\x86")
        .op(REDUCE)
        .op(EMPTY_TUPLE)
        .op(REDUCE)
        .stop();
    // CVE-2025-1716: a dangerous callable outside any blocklist (pip's entry point; here pydoc's pager).
    let unknown_module = Pickle::proto(2)
        .global("pydoc", "pipepager")
        .text("x")
        .text("id")
        .op(b"\x86")
        .op(REDUCE)
        .stop();
    let submodule = Pickle::proto(2)
        .global("asyncio.unix_events", "_UnixSubprocessTransport")
        .op(EMPTY_TUPLE)
        .op(REDUCE)
        .stop();
    let nested = Pickle::proto(2)
        .global("torch.storage", "_load_from_bytes")
        .op(b"C\x02ab")
        .op(TUPLE1)
        .op(REDUCE)
        .stop();
    let extension = Pickle::proto(2)
        .op(b"\x82\x01")
        .op(EMPTY_TUPLE)
        .op(REDUCE)
        .stop();
    let object_array = npy("|O", &os_system_p0());
    let cases: Vec<(PathBuf, &str)> = vec![
        (
            write(dir.path(), "p0.pkl", &os_system_p0()),
            "Dangerous os.system",
        ),
        (
            write(dir.path(), "memo.pkl", &memo_obfuscated),
            "Dangerous os.system",
        ),
        (
            write(dir.path(), "computed.pkl", &computed_name),
            "STACK_GLOBAL imports a name that is computed",
        ),
        (
            write(dir.path(), "inst.pkl", &inst),
            "Dangerous subprocess.check_output",
        ),
        (
            write(dir.path(), "obj.pkl", &obj),
            "Dangerous builtins.eval",
        ),
        (
            write(dir.path(), "newobj.pkl", &newobj),
            "Dangerous subprocess.Popen",
        ),
        (
            write(dir.path(), "getattr.pkl", &getattr_gadget),
            "Dangerous builtins.getattr",
        ),
        (
            write(dir.path(), "unknown.pkl", &unknown_module),
            "Unknown pydoc.pipepager",
        ),
        (
            write(dir.path(), "submodule.pkl", &submodule),
            "Dangerous asyncio.unix_events._UnixSubprocessTransport",
        ),
        (
            write(dir.path(), "nested.pkl", &nested),
            "Dangerous torch.storage._load_from_bytes",
        ),
        (
            write(dir.path(), "extension.pkl", &extension),
            "EXT1 imports through the copyreg extension registry",
        ),
        // A payload in a later pickle of a legacy torch file.
        (
            write(dir.path(), "legacy.pt", &legacy_torch(&os_system_p0())),
            "Dangerous os.system",
        ),
        // An unexpected extension: content decides.
        (
            write(dir.path(), "weights.safetensors", &os_system_p0()),
            "Dangerous os.system",
        ),
        (
            write(dir.path(), "notes.txt", &os_system_p0()),
            "Dangerous os.system",
        ),
        (
            write(dir.path(), "object.npy", &object_array),
            "Dangerous os.system",
        ),
        (
            zip_with(
                dir.path(),
                "hidden.pt",
                &[
                    ("archive/data.pkl", &torch_state_dict()),
                    ("archive/config.p", &os_system_p0()),
                ],
            ),
            "Dangerous os.system",
        ),
        (
            zip_with(dir.path(), "objects.npz", &[("a.npy", &object_array)]),
            "Dangerous os.system",
        ),
    ];
    // Zip damage that loaders tolerate: a bad CRC, the encryption flag.
    let crc = zip_with(
        dir.path(),
        "bad-crc.pt",
        &[("archive/data.pkl", &os_system_p0())],
    );
    damage_zip(&crc, "archive/data.pkl", 0, true);
    let flagged = zip_with(
        dir.path(),
        "flag-bits.pt",
        &[("archive/data.pkl", &os_system_p0())],
    );
    damage_zip(&flagged, "archive/data.pkl", 1, false);
    let mut all = cases;
    all.push((crc.clone(), "Dangerous os.system"));
    all.push((flagged.clone(), "Dangerous os.system"));
    for (path, expected) in &all {
        let (verdict, found) = verdict(path);
        assert_eq!(verdict, Verdict::Unsafe, "{}: {found:?}", path.display());
        assert!(
            found.iter().any(|f| f.contains(expected)),
            "{}: {expected} not in {found:?}",
            path.display()
        );
    }
    assert!(scan_file(&crc).notes.iter().any(|n| n.contains("bad CRC")));
    assert!(
        scan_file(&flagged)
            .notes
            .iter()
            .any(|n| n.contains("encryption flag"))
    );
    assert_eq!(
        scan_file(&dir.path().join("weights.safetensors")).format,
        Format::Pickle
    );
}

#[test]
fn malformed_pickles_are_invalid_never_clean() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("truncated.pkl", b"\x80\x04\x8c\x02os\x94\x8c".to_vec()),
        ("no-stop.pkl", b"\x80\x04N".to_vec()),
        ("underflow.pkl", b"\x80\x04R.".to_vec()),
        ("bad-memo.pkl", b"\x80\x04h\x07.".to_vec()),
        (
            "lying-length.pkl",
            b"\x80\x04X\xff\xff\xff\x7fabc.".to_vec(),
        ),
    ] {
        let path = write(dir.path(), name, &bytes);
        let scan = scan_file(&path);
        assert_eq!(scan.verdict, Verdict::Invalid, "{name}: {:?}", scan.notes);
    }
    let broken_safetensors = write(
        dir.path(),
        "broken.safetensors",
        b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\": 1}      ",
    );
    assert_eq!(scan_file(&broken_safetensors).verdict, Verdict::Invalid);
}
