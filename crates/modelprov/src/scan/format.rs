//! What a file is, from its first bytes (never its name): a renamed pickle is still a pickle.

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
    Safetensors,
    Gguf,
    Hdf5,
    /// JSON or plain text: configuration, tokenizers, cards; nothing runs when it is read.
    Text,
    Unknown,
}

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
    // safetensors: an 8-byte little-endian header length, then the JSON header.
    if head.len() >= 9
        && head[8] == b'{'
        && u64::from_le_bytes(head[..8].try_into().expect("8 bytes")) > 1
    {
        return Format::Safetensors;
    }
    // Protocol 0 and 1 pickles have no magic and are mostly text: text is tried as a pickle by
    // the scanner before being judged text.
    if !head.is_empty() && std::str::from_utf8(head).is_ok_and(|t| !t.contains('\0')) {
        return Format::Text;
    }
    if head
        .first()
        .is_some_and(|&b| b == b'(' || b == b'c' || b == b'}' || b == b']')
    {
        return Format::Pickle;
    }
    Format::Unknown
}
