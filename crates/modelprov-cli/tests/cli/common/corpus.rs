//! The scanner's labelled corpus, written opcode by opcode: nothing here was made by pickling
//! objects that run code.

use std::io::Write;
use std::path::{Path, PathBuf};

#[path = "corpus_allow.rs"]
mod corpus_allow;
#[path = "corpus_contain.rs"]
pub mod corpus_contain;
#[path = "corpus_formats.rs"]
mod corpus_formats;
#[path = "corpus_pcore.rs"]
mod corpus_pcore;

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
    npy_with_header(
        &format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (3,), }}"),
        data,
    )
}

/// A version 1.0 `.npy` file: the header dict as written, padded as NumPy pads it, then `data`.
pub fn npy_with_header(header: &str, data: &[u8]) -> Vec<u8> {
    let mut header = header.to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut file = b"\x93NUMPY\x01\x00".to_vec();
    file.extend_from_slice(&(header.len() as u16).to_le_bytes());
    file.extend_from_slice(header.as_bytes());
    file.extend_from_slice(data);
    file
}

/// A joblib dump of {"weights": array}: the NumpyArrayWrapper, then (after its BUILD) the array's
/// bytes in the stream, padded to 16 bytes as joblib >= 1.2 writes them; for an object dtype, a
/// nested pickle instead.
fn joblib(dtype: &str, payload: &[u8]) -> Vec<u8> {
    let mut file = Pickle::proto(4)
        .op(b"}")
        .put(0)
        .op(MARK)
        .text("weights")
        .global("joblib.numpy_pickle", "NumpyArrayWrapper")
        .op(EMPTY_TUPLE)
        .op(b"\x81")
        .op(b"}")
        .op(MARK)
        .text("subclass")
        .global("numpy", "ndarray")
        .text("shape")
        .int(3)
        .op(TUPLE1)
        .text("order")
        .text("C")
        .text("dtype")
        .global("numpy", "dtype")
        .text(dtype)
        .op(NEWFALSE)
        .op(b"\x88")
        .op(b"\x87")
        .op(REDUCE)
        .text("allow_mmap")
        .op(NEWFALSE)
        .text("numpy_array_alignment_bytes")
        .int(16)
        .op(SETITEMS)
        .op(BUILD)
        .0;
    file.extend_from_slice(payload);
    file.extend_from_slice(&Pickle::default().op(SETITEMS).stop());
    file
}

fn gguf(template: &str, tensors: u64) -> Vec<u8> {
    let mut file = b"GGUF".to_vec();
    file.extend_from_slice(&3u32.to_le_bytes());
    file.extend_from_slice(&tensors.to_le_bytes());
    file.extend_from_slice(&2u64.to_le_bytes());
    for (key, value) in [
        ("general.architecture", "llama"),
        ("tokenizer.chat_template", template),
    ] {
        file.extend_from_slice(&(key.len() as u64).to_le_bytes());
        file.extend_from_slice(key.as_bytes());
        file.extend_from_slice(&8u32.to_le_bytes());
        file.extend_from_slice(&(value.len() as u64).to_le_bytes());
        file.extend_from_slice(value.as_bytes());
    }
    file
}

fn keras_config(layer: &str) -> String {
    format!(
        "{{\"module\": \"keras\", \"class_name\": \"Sequential\", \"config\": {{\"name\": \"m\", \"layers\": [{{\"module\": \"keras.layers\", \"class_name\": \"{layer}\", \"config\": {{\"name\": \"l\", \"function\": {{\"class_name\": \"__lambda__\", \"config\": {{\"code\": \"4wEAAAAAAAAA\"}}}}}}}}]}}}}"
    )
}

/// An HDF5 signature followed by a root attribute holding the Keras config (synthetic: only the
/// bytes scanners read are real).
fn h5(config: &str) -> Vec<u8> {
    let mut file = b"\x89HDF\r\n\x1a\n\x00\x00\x00\x00".to_vec();
    file.extend_from_slice(&[0; 64]);
    file.extend_from_slice(b"model_config\x00");
    file.extend_from_slice(config.as_bytes());
    file.extend_from_slice(&[0; 64]);
    file
}

fn safetensors(header: &str, data: usize) -> Vec<u8> {
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(header.as_bytes());
    file.extend(std::iter::repeat_n(0u8, data));
    file
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    Benign,
    Malicious,
    Malformed,
}

pub struct Sample {
    pub path: PathBuf,
    pub label: Label,
    pub technique: &'static str,
    /// For malicious samples: text one of modelprov's findings must contain.
    pub expected: &'static str,
}

/// Writes the whole corpus into `dir`.
pub fn corpus(dir: &Path) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut add = |path: PathBuf, label: Label, technique: &'static str, expected: &'static str| {
        samples.push(Sample {
            path,
            label,
            technique,
            expected,
        });
    };
    // Benign checkpoints of each format.
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
    add(
        write(dir, "benign-state-dict.pkl", &torch_state_dict()),
        Label::Benign,
        "torch state dict (protocol 2)",
        "",
    );
    add(
        write(dir, "benign-numpy-array.pkl", &numpy_array("f4")),
        Label::Benign,
        "NumPy float32 array pickle",
        "",
    );
    add(
        write(dir, "benign-hparams.pkl", &plain),
        Label::Benign,
        "plain data (protocol 4)",
        "",
    );
    add(
        write(
            dir,
            "benign-requirements.txt",
            b"certifi==2024.2.2\nIn a comment line (text that starts like opcodes)\n",
        ),
        Label::Benign,
        "text starting with pickle opcode characters",
        "",
    );
    add(
        write(dir, "benign-legacy.pt", &legacy_torch(&torch_state_dict())),
        Label::Benign,
        "legacy torch.save (5 pickles + storage)",
        "",
    );
    add(
        zip_with(
            dir,
            "benign-zip.pt",
            &[
                ("archive/data.pkl", &torch_state_dict()),
                ("archive/data/0", &storage),
                ("archive/version", b"3\n"),
            ],
        ),
        Label::Benign,
        "torch zip checkpoint (storage starting like a pickle)",
        "",
    );
    add(
        write(dir, "benign-array.npy", &npy("<f4", &[0; 12])),
        Label::Benign,
        "NumPy .npy float32",
        "",
    );
    add(
        zip_with(
            dir,
            "benign-arrays.npz",
            &[("a.npy", &npy("<f4", &[0; 12]))],
        ),
        Label::Benign,
        "NumPy .npz float32",
        "",
    );
    add(
        write(
            dir,
            "benign.safetensors",
            &std::fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../examples/tiny-model/model.safetensors"),
            )
            .unwrap(),
        ),
        Label::Benign,
        "safetensors",
        "",
    );
    let mut floats = vec![7u8];
    floats.extend_from_slice(&[0xff; 7]);
    floats.extend_from_slice(&[0; 24]);
    add(
        write(dir, "benign.joblib", &joblib("f8", &floats)),
        Label::Benign,
        "joblib dump with a float64 array in the stream",
        "",
    );
    let chatml = "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}";
    add(
        write(dir, "benign.gguf", &gguf(chatml, 0)),
        Label::Benign,
        "GGUF with an ordinary chat template",
        "",
    );
    add(
        zip_with(
            dir,
            "benign.keras",
            &[
                ("config.json", keras_config("Dense").as_bytes()),
                ("model.weights.h5", b"\x89HDF\r\n\x1a\n"),
            ],
        ),
        Label::Benign,
        "Keras v3 archive, Dense layer",
        "",
    );
    add(
        write(dir, "benign-keras.h5", &h5(&keras_config("Dense"))),
        Label::Benign,
        "Keras HDF5 (synthetic), Dense layer",
        "",
    );

    // Malicious, one technique each.
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
    let unknown_module = Pickle::proto(2)
        .global("pydoc", "pipepager")
        .text("x")
        .text("id")
        .op(b"\x86")
        .op(REDUCE)
        .stop();
    let pip = Pickle::proto(2)
        .global("pip", "main")
        .text("install")
        .text("evil")
        .op(b"\x86")
        .op(TUPLE1)
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
    add(
        write(dir, "mal-os-system.pkl", &os_system_p0()),
        Label::Malicious,
        "GLOBAL os.system + REDUCE (protocol 0)",
        "Dangerous os.system",
    );
    add(
        write(dir, "mal-memo.pkl", &memo_obfuscated),
        Label::Malicious,
        "STACK_GLOBAL operands through the memo",
        "Dangerous os.system",
    );
    add(
        write(dir, "mal-computed.pkl", &computed_name),
        Label::Malicious,
        "STACK_GLOBAL of a computed name",
        "STACK_GLOBAL imports a name that is computed",
    );
    add(
        write(dir, "mal-inst.pkl", &inst),
        Label::Malicious,
        "INST subprocess.check_output",
        "Dangerous subprocess.check_output",
    );
    add(
        write(dir, "mal-obj.pkl", &obj),
        Label::Malicious,
        "OBJ builtins.eval",
        "Dangerous builtins.eval",
    );
    add(
        write(dir, "mal-newobj.pkl", &newobj),
        Label::Malicious,
        "NEWOBJ subprocess.Popen",
        "Dangerous subprocess.Popen",
    );
    add(
        write(dir, "mal-getattr.pkl", &getattr_gadget),
        Label::Malicious,
        "getattr gadget, calling a call's result",
        "Dangerous builtins.getattr",
    );
    add(
        write(dir, "mal-unknown-module.pkl", &unknown_module),
        Label::Malicious,
        "pydoc.pipepager runs a shell command (CVE-2025-1716 class)",
        "Dangerous pydoc.pipepager",
    );
    add(
        write(dir, "mal-pip.pkl", &pip),
        Label::Malicious,
        "pip.main (CVE-2025-1716)",
        "Dangerous pip.main",
    );
    add(
        write(dir, "mal-submodule.pkl", &submodule),
        Label::Malicious,
        "dangerous submodule (asyncio.unix_events; CVE-2025-10157 class)",
        "Dangerous asyncio.unix_events",
    );
    add(
        write(dir, "mal-nested.pkl", &nested),
        Label::Malicious,
        "nested pickle via torch.storage._load_from_bytes",
        "Dangerous torch.storage._load_from_bytes",
    );
    add(
        write(dir, "mal-extension.pkl", &extension),
        Label::Malicious,
        "EXT1 copyreg extension",
        "EXT1 imports through the copyreg extension registry",
    );
    add(
        write(dir, "mal-legacy.pt", &legacy_torch(&os_system_p0())),
        Label::Malicious,
        "payload in a later pickle of a legacy torch file",
        "Dangerous os.system",
    );
    add(
        write(dir, "mal-renamed.safetensors", &os_system_p0()),
        Label::Malicious,
        "pickle with a safetensors extension (CVE-2025-10155 class)",
        "Dangerous os.system",
    );
    add(
        write(dir, "mal-renamed.txt", &os_system_p0()),
        Label::Malicious,
        "pickle with a .txt extension",
        "Dangerous os.system",
    );
    add(
        write(dir, "mal-object.npy", &object_array),
        Label::Malicious,
        "NumPy object array with a payload",
        "Dangerous os.system",
    );
    add(
        zip_with(
            dir,
            "mal-hidden-member.pt",
            &[
                ("archive/data.pkl", &torch_state_dict()),
                ("archive/config.p", &os_system_p0()),
            ],
        ),
        Label::Malicious,
        "zip member pickle without .pkl name (CVE-2025-1889)",
        "Dangerous os.system",
    );
    add(
        zip_with(dir, "mal-objects.npz", &[("a.npy", &object_array)]),
        Label::Malicious,
        "NumPy .npz with an object array",
        "Dangerous os.system",
    );
    let crc = zip_with(
        dir,
        "mal-bad-crc.pt",
        &[("archive/data.pkl", &os_system_p0())],
    );
    damage_zip(&crc, "archive/data.pkl", 0, true);
    add(
        crc,
        Label::Malicious,
        "torch zip with a bad CRC (CVE-2025-10156)",
        "Dangerous os.system",
    );
    let flagged = zip_with(
        dir,
        "mal-flag-bits.pt",
        &[("archive/data.pkl", &os_system_p0())],
    );
    damage_zip(&flagged, "archive/data.pkl", 1, false);
    add(
        flagged,
        Label::Malicious,
        "torch zip with the encryption flag bit (CVE-2025-1944/1945 class)",
        "Dangerous os.system",
    );

    add(
        write(
            dir,
            "mal-object-array.joblib",
            &joblib("O", &os_system_p0()),
        ),
        Label::Malicious,
        "joblib object array: payload in the nested pickle",
        "Dangerous os.system",
    );
    let ssti = "{{ cycler.__init__.__globals__.os.popen('id').read() }}";
    add(
        write(dir, "mal-template.gguf", &gguf(ssti, 0)),
        Label::Malicious,
        "GGUF chat template reaching Python internals",
        "chat template reaches Python internals",
    );
    add(
        zip_with(
            dir,
            "mal-lambda.keras",
            &[("config.json", keras_config("Lambda").as_bytes())],
        ),
        Label::Malicious,
        "Keras v3 archive with a Lambda layer",
        "Lambda layer",
    );
    add(
        write(dir, "mal-lambda.h5", &h5(&keras_config("Lambda"))),
        Label::Malicious,
        "Keras HDF5 (synthetic) with a Lambda layer",
        "Lambda layer",
    );

    // Malformed.
    for (name, bytes, technique) in [
        (
            "bad-truncated.pkl",
            b"\x80\x04\x8c\x02os\x94\x8c".to_vec(),
            "truncated pickle",
        ),
        (
            "bad-no-stop.pkl",
            b"\x80\x04N".to_vec(),
            "pickle without STOP",
        ),
        (
            "bad-underflow.pkl",
            b"\x80\x04R.".to_vec(),
            "REDUCE on an empty stack",
        ),
        (
            "bad-memo.pkl",
            b"\x80\x04h\x07.".to_vec(),
            "memo entry never stored",
        ),
        (
            "bad-length.pkl",
            b"\x80\x04X\xff\xff\xff\x7fabc.".to_vec(),
            "length beyond the file",
        ),
        (
            "bad.safetensors",
            b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\": 1}      ".to_vec(),
            "safetensors with a broken header",
        ),
        (
            "bad-duplicate.safetensors",
            safetensors(
                r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
                4,
            ),
            "safetensors naming a tensor twice",
        ),
        (
            "bad-overlap.safetensors",
            safetensors(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                8,
            ),
            "safetensors with overlapping tensors",
        ),
        (
            "bad-short.safetensors",
            safetensors(
                r#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#,
                8,
            ),
            "safetensors offsets beyond the file",
        ),
        (
            "bad-counts.gguf",
            gguf("x", u64::MAX / 2),
            "GGUF with impossible counts",
        ),
    ] {
        add(write(dir, name, &bytes), Label::Malformed, technique, "");
    }
    corpus_allow::samples(dir, &mut add);
    corpus_pcore::add_samples(dir, &mut add);
    corpus_formats::add_samples(dir, &mut add);
    super::corpus_ghsa::add_samples(dir, &mut samples);
    corpus_contain::contain_samples(dir, &mut samples);
    samples
}
