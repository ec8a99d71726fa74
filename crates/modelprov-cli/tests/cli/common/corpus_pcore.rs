//! Corpus cases for format detection by content, broken streams and the pickle machine
//! (issue 12, items 1 and 3): polyglots, pickles that start with any opcode, payloads followed by
//! text or a second stream, frames as CPython reads them, `functools.partial`, and real-model
//! pickles that used to be false alarms. Written opcode by opcode, like corpus.rs.

use std::path::{Path, PathBuf};

use super::{Label, Pickle, os_system_p0, write};

/// A valid safetensors file that is also a pickle. Its 8-byte header length starts with LONG4
/// (0x8b): the integer's bytes swallow the start of the JSON header, a UNICODE opcode (`V`)
/// inside a metadata string reads to a newline between JSON tokens, the closing `}` is
/// EMPTY_DICT, and the tensor data is the payload.
fn safetensors_pickle() -> Vec<u8> {
    let payload = os_system_p0();
    let n = payload.len();
    let prefix = r#"{"__metadata__":{"p":""#;
    // LONG4's length: it ends just before the `V`, 3 bytes into the header... of the prefix.
    let long = prefix.len() + 3;
    let header_len = 0x8b + 256 * long;
    let tail =
        format!("\"}},\"t\":{{\"dtype\":\"U8\",\"shape\":[{n}],\"data_offsets\":[0,{n}]}}\n}}");
    let pad = header_len - prefix.len() - 1 - tail.len();
    let header = format!("{prefix}V{}{tail}", "x".repeat(pad));
    assert_eq!(header.len(), header_len);
    let mut file = (header_len as u64).to_le_bytes().to_vec();
    assert_eq!(file[..5], [0x8b, long as u8, 0, 0, 0]);
    file.extend_from_slice(header.as_bytes());
    file.extend_from_slice(&payload);
    file
}

/// A GGUF magic that is also a pickle: `G` is BINFLOAT, which swallows `GUF`, the version and
/// a byte; POP drops the float and the payload follows.
fn gguf_pickle() -> Vec<u8> {
    let mut file = b"GGUF\x03\x00\x00\x00x0".to_vec();
    file.extend_from_slice(&os_system_p0());
    file
}

/// A joblib dump with one float64 array of 3 as older writers made it: `module` is the
/// wrapper's module, `key` writes a text (SHORT_BINSTRING under Python 2), shapes as LONG1
/// when `long_shape`.
fn joblib_like(module: &str, key: fn(Pickle, &str) -> Pickle, long_shape: bool) -> Vec<u8> {
    let mut p = key(Pickle::proto(2).op(b"}").op(b"("), "weights")
        .global(module, "NumpyArrayWrapper")
        .op(b")\x81}(");
    p = key(p, "subclass").global("numpy", "ndarray");
    p = key(p, "shape");
    p = if long_shape {
        p.op(b"\x8a\x01\x03")
    } else {
        p.int(3)
    }
    .op(b"\x85");
    p = key(key(p, "order"), "C");
    p = key(p, "dtype").global("numpy", "dtype");
    p = key(p, "f8").op(b"K\x00K\x01\x87R").op(b"ub");
    // The array's 24 bytes, then the rest of the outer dict.
    p = p.op(&[0xff; 24]).op(b"u");
    p.stop()
}

fn short_binstring(p: Pickle, s: &str) -> Pickle {
    p.op(&[b'U', s.len() as u8]).op(s.as_bytes())
}

fn unicode(p: Pickle, s: &str) -> Pickle {
    p.text(s)
}

/// Pushes this area's samples through `add` (see corpus.rs).
pub fn add_samples(dir: &Path, add: &mut impl FnMut(PathBuf, Label, &'static str, &'static str)) {
    let payload = os_system_p0();
    let with = |head: &[u8], tail: &[u8]| [head, &payload, tail].concat();
    // Real-model pickles that must stay safe.
    let numpy2_protocol5: &[u8] = NUMPY2_PROTOCOL5;
    for (name, bytes, technique) in [
        (
            "benign-pcore-numpy2-protocol5.pkl",
            numpy2_protocol5.to_vec(),
            "NumPy 2 array, protocol 5 (numpy._core.numeric._frombuffer, in-band buffer)",
        ),
        (
            "benign-pcore-object-array.pkl",
            NUMPY2_OBJECT_ARRAY.to_vec(),
            "NumPy object array of int, str, None (elements inline)",
        ),
        (
            "benign-pcore-partial.pkl",
            b"\x80\x02cfunctools\npartial\nq\x00ccollections\nOrderedDict\nq\x01\x85q\x02Rq\x03(h\x01)}q\x04X\x01\x00\x00\x00aq\x05K\x01sNtq\x06b.".to_vec(),
            "functools.partial(collections.OrderedDict, a=1)",
        ),
        (
            "benign-pcore-joblib-py2.pkl",
            joblib_like("joblib.numpy_pickle", short_binstring, false),
            "joblib dump made under Python 2 (SHORT_BINSTRING state keys)",
        ),
        (
            "benign-pcore-sklearn-externals.joblib",
            joblib_like("sklearn.externals.joblib.numpy_pickle", unicode, true),
            "joblib array through sklearn.externals.joblib (LONG1 shape)",
        ),
        (
            "benign-pcore-brace-ninth.txt",
            b"abcdefgh{\"not\": \"safetensors\"}\n".to_vec(),
            "text whose ninth byte is '{'",
        ),
        (
            "benign-pcore-labels.txt",
            b"cat\ndog\nfish\n".to_vec(),
            "word list that reads as GLOBAL at.dog, then breaks",
        ),
    ] {
        add(write(dir, name, &bytes), Label::Benign, technique, "");
    }
    // Attacks.
    for (name, bytes, technique, expected) in [
        (
            "pytorch_model.bin",
            safetensors_pickle(),
            "valid safetensors that is also a pickle, named pytorch_model.bin",
            "Dangerous os.system",
        ),
        (
            "mal-pcore-unicode-first.bin",
            with(b"Vhello\n0", b""),
            "pickle starting with UNICODE (V)",
            "Dangerous os.system",
        ),
        (
            "mal-pcore-none-first.bin",
            b"N0\x8c\x02os\x8c\x06system\x93\x8c\x02id\x85R.".to_vec(),
            "binary pickle starting with NONE (N)",
            "Dangerous os.system",
        ),
        (
            "mal-pcore-string-first.bin",
            with(b"S'x'\n0", b""),
            "pickle starting with STRING (S)",
            "Dangerous os.system",
        ),
        (
            "mal-pcore-mark-first.bin",
            b"(S'id'\nios\nsystem\n.".to_vec(),
            "pickle starting with MARK, INST os.system",
            "Dangerous os.system",
        ),
        (
            "mal-pcore-dict-first.bin",
            with(b"}0", b""),
            "pickle starting with EMPTY_DICT (})",
            "Dangerous os.system",
        ),
        (
            "mal-pcore-list-first.bin",
            with(b"]0", b""),
            "pickle starting with EMPTY_LIST (])",
            "Dangerous os.system",
        ),
        (
            "mal-pcore-int-first.bin",
            with(b"I1\n0", b""),
            "pickle starting with INT (I)",
            "Dangerous os.system",
        ),
        (
            "mal-pcore-breaks-after-payload.txt",
            [
                &payload[..payload.len() - 1],
                b"and then the file goes on as text\n",
            ]
            .concat(),
            "protocol 0 payload that runs, then the stream breaks",
            "Dangerous os.system",
        ),
        (
            "mal-pcore-followed-by-text.txt",
            with(b"", b"\nThese are the release notes.\n"),
            "protocol 0 payload followed by text",
            "Dangerous os.system",
        ),
        (
            "mal-pcore-second-stream.pkl",
            with(b"\x80\x02N.", b""),
            "harmless pickle, then a second stream with the payload",
            "Dangerous os.system",
        ),
        (
            "mal-pcore-binbytes-past-frame.pkl",
            with(
                b"\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00B\x04\x00\x00\x00abcd0",
                b"",
            ),
            "BINBYTES running past its FRAME (CPython does not enforce frames)",
            "Dangerous os.system",
        ),
        (
            // picklescan issue 22: the names reach STACK_GLOBAL through memo slots that an
            // innocent pair (torch, LongStorage) was stored in too.
            "mal-pcore-memo-aliasing.pkl",
            b"Vos\np2\n0Vsystem\np3\n0Vtorch\np0\n0VLongStorage\np1\n0g2\ng3\n\x93(Vcat flag.txt\ntR."
                .to_vec(),
            "memo aliasing before STACK_GLOBAL (picklescan issue 22)",
            "Dangerous os.system",
        ),
        (
            "mal-pcore-partial-system.pkl",
            b"\x80\x02cfunctools\npartial\ncos\nsystem\nX\x02\x00\x00\x00id\x86R.".to_vec(),
            "functools.partial(os.system, 'id')",
            "Dangerous os.system",
        ),
        (
            "mal-pcore-partial-state.pkl",
            b"\x80\x02cfunctools\npartial\nccollections\nOrderedDict\n\x85R(cos\nsystem\n)}Ntb."
                .to_vec(),
            "functools.partial whose BUILD state swaps in os.system",
            "Dangerous os.system",
        ),
    ] {
        add(
            write(dir, name, &bytes),
            Label::Malicious,
            technique,
            expected,
        );
    }
    // A GGUF magic that is also a pickle: the GGUF counts are garbage (invalid), and the pickle's
    // call is reported beside it.
    add(
        write(dir, "mal-pcore-gguf-pickle.gguf", &gguf_pickle()),
        Label::Malformed,
        "GGUF magic that is also a pickle running os.system",
        "",
    );
}

/// `pickle.dumps(numpy.arange(3.0), protocol=5)`, NumPy 2.4.6.
const NUMPY2_PROTOCOL5: &[u8] = b"\x80\x05\x95\x8c\x00\x00\x00\x00\x00\x00\x00\x8c\x13numpy._core.numeric\x94\x8c\x0b_frombuffer\x94\x93\x94(\x96\x18\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xf0?\x00\x00\x00\x00\x00\x00\x00\x40\x94\x8c\x05numpy\x94\x8c\x05dtype\x94\x93\x94\x8c\x02f8\x94\x89\x88\x87\x94R\x94(K\x03\x8c\x01<\x94NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t\x94bK\x03\x85\x94\x8c\x01C\x94t\x94R\x94.";

/// `pickle.dumps(numpy.array([1, 'x', None], dtype=object), protocol=2)`, NumPy 2.4.6.
const NUMPY2_OBJECT_ARRAY: &[u8] = b"\x80\x02cnumpy._core.multiarray\n_reconstruct\nq\x00cnumpy\nndarray\nq\x01K\x00\x85q\x02c_codecs\nencode\nq\x03X\x01\x00\x00\x00bq\x04X\x06\x00\x00\x00latin1q\x05\x86q\x06Rq\x07\x87q\x08Rq\x09(K\x01K\x03\x85q\ncnumpy\ndtype\nq\x0bX\x02\x00\x00\x00O8q\x0c\x89\x88\x87q\x0dRq\x0e(K\x03X\x01\x00\x00\x00|q\x0fNNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tq\x10b\x89]q\x11(K\x01X\x01\x00\x00\x00xq\x12Netq\x13b.";
