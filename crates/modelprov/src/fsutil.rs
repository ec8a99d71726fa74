//! File-system helpers shared by every writer.

use std::fs::{self, Permissions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::error::{Error, Result};

/// Writes `bytes` to `path` via a temporary file in the same folder and a rename: readers see
/// the old file or the new one, never a torn one, and a failure leaves the old file in place.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically_with_mode(path, bytes, 0o644)
}

/// `write_atomically` with the given permission bits (0o600 for private keys: the temporary file
/// is created 0600, so the key is never readable by others, not even briefly).
pub fn write_atomically_with_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temporary = tempfile::Builder::new()
        .prefix(".modelprov-")
        .tempfile_in(folder)
        .map_err(|e| Error::io("create a temporary file in", folder, e))?;
    temporary
        .write_all(bytes)
        .and_then(|()| temporary.as_file().sync_all())
        .map_err(|e| Error::io("write", temporary.path().to_path_buf(), e))?;
    fs::set_permissions(temporary.path(), Permissions::from_mode(mode))
        .map_err(|e| Error::io("set permissions of", temporary.path().to_path_buf(), e))?;
    temporary
        .persist(path)
        .map_err(|e| Error::io("replace", path, e.error))?;
    Ok(())
}

/// Upper bounds for the small documents modelprov reads whole (keys, certificates, bundles,
/// manifests, trust files, records, cards, SBOMs, lock files). Each is far above any real file of
/// its kind and far below what would hurt memory, so `/dev/zero` or a model weight passed by
/// mistake is an error that names the file, not an out-of-memory abort.
pub mod limits {
    /// Keys, passphrases and certificate files (an RSA-16384 key in PEM is about 13 KiB).
    pub const KEY_BYTES: u64 = 1 << 20;
    /// Signature bundles: a certificate chain and a manifest of a large model.
    pub const BUNDLE_BYTES: u64 = 64 << 20;
    /// Manifests: about 150 bytes per resource, so millions of resources.
    pub const MANIFEST_BYTES: u64 = 512 << 20;
    /// Trust files, lineage record files, requirements and lock files, OSV records.
    pub const DOCUMENT_BYTES: u64 = 64 << 20;
    /// SBOMs: thousands of files and components.
    pub const SBOM_BYTES: u64 = 256 << 20;
    /// Model cards and card field files (a 100 KB model-index is a big card).
    pub const CARD_BYTES: u64 = 16 << 20;
    /// A model's config.json (real ones are a few KB).
    pub const CONFIG_BYTES: u64 = 4 << 20;
}

/// Reads the whole of a small file, refusing it once it passes `limit` bytes (read lazily, so
/// an endless file such as `/dev/zero` stops at the limit). `what` names the kind of file in the
/// error ("a public key", "a manifest").
pub fn read_capped(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    use std::io::Read as _;
    let file = fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", path, e))?;
    if bytes.len() as u64 > limit {
        return Err(Error::invalid(
            path,
            format!("larger than {} bytes; too large for {what}", limit),
        ));
    }
    Ok(bytes)
}

/// `read_capped` for text files: the bytes must be UTF-8.
pub fn read_capped_string(path: &Path, limit: u64, what: &str) -> Result<String> {
    String::from_utf8(read_capped(path, limit, what)?).map_err(|e| {
        Error::invalid(
            path,
            format!(
                "not UTF-8 text (byte {}), so not {what}",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// The deepest nesting serde_json reads: it refuses a 128th level before recursing into it.
pub const JSON_DEPTH: usize = 127;

/// Parses a JSON document. serde_json's recursion limit stays on (no `unbounded_depth`), so a
/// deeply nested document is an error, not a stack overflow; that error says so plainly.
pub fn parse_json(bytes: &[u8]) -> std::result::Result<serde_json::Value, String> {
    serde_json::from_slice(bytes).map_err(|e| json_problem(&e))
}

/// A serde_json error as a message, naming the nesting bound when that is what was hit.
pub fn json_problem(error: &serde_json::Error) -> String {
    if error.to_string().starts_with("recursion limit exceeded") {
        format!(
            "nested deeper than {JSON_DEPTH} levels (line {}, column {})",
            error.line(),
            error.column()
        )
    } else {
        error.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_file_is_refused_at_the_limit() {
        let error = read_capped(Path::new("/dev/zero"), 4096, "a public key").unwrap_err();
        assert_eq!(
            error.to_string(),
            "/dev/zero: larger than 4096 bytes; too large for a public key"
        );
    }

    #[test]
    fn a_file_at_the_limit_is_read_and_text_must_be_utf8() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("f");
        fs::write(&path, b"abcd").unwrap();
        assert_eq!(read_capped(&path, 4, "x").unwrap(), b"abcd");
        assert!(read_capped(&path, 3, "x").is_err());
        fs::write(&path, b"ab\xffcd").unwrap();
        let error = read_capped_string(&path, 10, "a trust file").unwrap_err();
        assert!(
            error
                .to_string()
                .ends_with("not UTF-8 text (byte 2), so not a trust file")
        );
    }

    #[test]
    fn deep_json_is_refused_by_its_nesting_bound() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            parse_json(deep.as_bytes()).unwrap_err(),
            "nested deeper than 127 levels (line 1, column 128)"
        );
        let limit = format!("{}{}", "[".repeat(JSON_DEPTH), "]".repeat(JSON_DEPTH));
        parse_json(limit.as_bytes()).unwrap();
    }
}
