//! What a file is, from its first bytes (never its name): a renamed pickle is still a pickle.
//! A file can parse as more than one format (a polyglot); [`pickle_may_start`] says when a file of
//! another format must also be read as a pickle, because `pickle.load` would start running it.

/// A file format, as a file's first bytes announce it; serialised in kebab-case (`safetensors`,
/// `npy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// A pickle stream (torch legacy, joblib, `.pkl`, `.bin`...).
    Pickle,
    /// A zip archive (torch checkpoints, `.npz`, `.keras`).
    Zip,
    /// A NumPy `.npy` array.
    Npy,
    /// zlib, gzip, bzip2, xz or lzma (joblib `compress=`, `.pkl.gz`): judged by its content.
    Compressed,
    /// safetensors: an 8-byte header length, a JSON header, raw tensor bytes; nothing runs on load.
    Safetensors,
    /// GGUF (llama.cpp): metadata and tensors; runtimes execute only its chat template, which is
    /// checked.
    Gguf,
    /// HDF5 (Keras `.h5`): its `model_config` is checked for `Lambda` layers and custom objects.
    Hdf5,
    /// An ONNX `ModelProto` (protobuf, recognised by its first fields).
    Onnx,
    /// JSON or plain text: configuration, tokenizers, cards; nothing runs when it is read.
    Text,
    /// Bytes that announce no format modelprov knows (judged unscannable).
    Unknown,
}

/// The format `head` (the first 64 bytes) announces. A safetensors length prefix is not checked
/// against the file here; [`detect_file`] does.
pub fn detect(head: &[u8]) -> Format {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Format::Zip;
    }
    if head.starts_with(b"\x93NUMPY") {
        return Format::Npy;
    }
    if head.starts_with(b"GGUF") {
        return Format::Gguf;
    }
    if head.starts_with(b"\x89HDF\r\n\x1a\n") {
        return Format::Hdf5;
    }
    if matches!(head, [0x80, 0..=5, ..]) {
        return Format::Pickle;
    }
    if super::compressed::codec(head).is_some() {
        return Format::Compressed;
    }
    if safetensors_header_length(head).is_some() {
        return Format::Safetensors;
    }
    text_or_unknown(head)
}

/// [`detect`], with a safetensors header length that must fit in a file of `size` bytes: text
/// whose ninth byte is `{` announces a header of terabytes and is text. (Binary bytes with a
/// length that does not fit stay a broken safetensors file.)
pub fn detect_file(head: &[u8], size: u64) -> Format {
    match detect(head) {
        Format::Safetensors
            if safetensors_header_length(head)
                .is_none_or(|length| length > size.saturating_sub(8))
                && text_or_unknown(head) == Format::Text =>
        {
            Format::Text
        }
        format => format,
    }
}

/// safetensors: an 8-byte little-endian header length, then the JSON header.
fn safetensors_header_length(head: &[u8]) -> Option<u64> {
    if head.len() < 9 || head[8] != b'{' {
        return None;
    }
    let length = u64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
    (length > 1).then_some(length)
}

fn text_or_unknown(head: &[u8]) -> Format {
    // Before text: a protobuf's first bytes are often valid UTF-8.
    if super::onnx::looks_like_model(head) {
        return Format::Onnx;
    }
    // Protocol 0 and 1 pickles have no magic and are mostly text: the scanner tries text as a
    // pickle before judging it text.
    if !head.is_empty() && std::str::from_utf8(head).is_ok_and(|t| !t.contains('\0')) {
        return Format::Text;
    }
    Format::Unknown
}

/// Whether `pickle.load` would start executing these bytes: the first byte is an opcode other
/// than STOP. Protocol 2+ pickles start with PROTO, but the unpickler takes any opcode first
/// (`V`, `S`, `N`, `(`, `c`, `}`...). LZMA-alone streams (`]\x00\x00`, properties byte 0x5d) are
/// compressed data, not an empty list followed by garbage.
pub fn pickle_may_start(head: &[u8]) -> bool {
    match head {
        [] | [b'.', ..] | [b']', 0, 0, ..] => false,
        [first, ..] => super::pickle::is_opcode(*first),
    }
}

/// 7z archives start with this signature.
pub const SEVEN_ZIP_MAGIC: &[u8] = b"7z\xbc\xaf\x27\x1c";

/// Whether `head` starts a compressed stream a loader decompresses before unpickling (joblib
/// reads zlib, gzip, bz2, xz and LZMA-alone; `.pkl.gz` users gzip): such a file is a model file
/// even while its format is not decoded, so "unknown format" must not pass it.
pub fn looks_compressed(head: &[u8]) -> bool {
    head.starts_with(b"\x1f\x8b")
        || head.starts_with(b"BZh")
        || head.starts_with(b"\xfd7zXZ\x00")
        || head.starts_with(b"]\x00\x00")
        || head.starts_with(SEVEN_ZIP_MAGIC)
        || head.starts_with(b"ZF0x")
        || matches!(head, [0x78, 0x01 | 0x5e | 0x9c | 0xda, ..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_with_a_brace_as_ninth_byte_is_not_safetensors() {
        let head = b"abcdefgh{\"a\": 1}";
        assert_eq!(detect(head), Format::Safetensors);
        assert_eq!(detect_file(head, head.len() as u64), Format::Text);
        let mut real = 7u64.to_le_bytes().to_vec();
        real.extend_from_slice(b"{}     ");
        assert_eq!(detect_file(&real, real.len() as u64), Format::Safetensors);
    }

    #[test]
    fn lzma_alone_is_not_a_pickle_but_other_first_opcodes_are() {
        assert!(!pickle_may_start(b"]\x00\x00\x80\x00\xff\xff"));
        for head in [
            &b"V"[..],
            b"S'",
            b"N.",
            b"(",
            b"cos\n",
            b"}",
            b"]q",
            b"I1\n",
        ] {
            assert!(pickle_may_start(head), "{head:?}");
        }
        assert!(!pickle_may_start(b"."));
        assert!(!pickle_may_start(b"#version"));
    }
}
