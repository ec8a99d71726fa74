//! File-system helpers shared by every writer.

use std::fs::{self, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `bytes` to `path` via a temporary file in the same folder and a rename: readers see
/// the old file or the new one, never a torn one, and a failure leaves the old file in place.
/// What is already at `path` decides how (see [`write_atomically_with_mode`]).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically_with_mode(path, bytes, 0o644)
}

/// `write_atomically` with the given permission bits (0o600 for private keys: the temporary file
/// is created 0600, so the key is never readable by others, not even briefly).
///
/// A regular file (or nothing) at `path` is replaced by a rename. A symlink is followed: its
/// target is replaced, the link stays (a dangling link is refused). A character device or FIFO
/// (`/dev/null`, `/dev/stdout`, a pipe) is opened and written in place, never renamed over, which
/// as root would replace the device with a file. Folders, block devices and sockets are refused.
pub fn write_atomically_with_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    match prepare_output(path)? {
        Target::InPlace => write_in_place(path, bytes),
        Target::Replace(target) => {
            let mut pending = stage_resolved(&target, mode)?;
            pending.write_all(bytes)?;
            pending.commit()
        }
    }
}

/// How an output path is written.
enum Target {
    /// Through a temporary file renamed over this path (a regular file, or nothing yet).
    Replace(PathBuf),
    /// Opened and written as it is (a character device or FIFO).
    InPlace,
}

fn prepare_output(path: &Path) -> Result<Target> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Target::Replace(path.to_path_buf()));
        }
        Err(e) => return Err(Error::io("inspect", path, e)),
    };
    let (path, meta) = if meta.file_type().is_symlink() {
        let target = fs::canonicalize(path).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                Error::invalid(
                    path,
                    "is a symlink to nothing; refusing to write through a dangling link",
                )
            } else {
                Error::io("follow symlink", path, e)
            }
        })?;
        let meta = fs::metadata(&target).map_err(|e| Error::io("inspect", &target, e))?;
        (target, meta)
    } else {
        (path.to_path_buf(), meta)
    };
    let kind = meta.file_type();
    if kind.is_file() {
        Ok(Target::Replace(path))
    } else if kind.is_char_device() || kind.is_fifo() {
        Ok(Target::InPlace)
    } else {
        let what = if kind.is_dir() {
            "a folder"
        } else if kind.is_block_device() {
            "a block device"
        } else {
            "a socket or other special file"
        };
        Err(Error::invalid(
            &path,
            format!("is {what}; refusing to write output there"),
        ))
    }
}

fn write_in_place(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| Error::io("open for writing", path, e))?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .map_err(|e| Error::io("write", path, e))
}

/// An output file being written: a temporary file beside its destination, renamed over it only
/// by [`PendingFile::commit`]. Dropped uncommitted, it is removed and the destination is
/// untouched. Several of them committed one after another write a set of files (a key pair)
/// that is never left half-made by a failure before the first rename.
pub struct PendingFile {
    temporary: tempfile::NamedTempFile,
    destination: PathBuf,
}

/// Starts writing a regular file at `destination` (created `mode`), following a symlink there to
/// its target; see [`PendingFile`]. Devices and FIFOs are refused: a file that must be replaced
/// whole (a key) cannot go there.
pub fn stage(destination: &Path, mode: u32) -> Result<PendingFile> {
    match prepare_output(destination)? {
        Target::Replace(target) => stage_resolved(&target, mode),
        Target::InPlace => Err(Error::invalid(
            destination,
            "is a device or FIFO; this file must be written as a regular file",
        )),
    }
}

fn stage_resolved(destination: &Path, mode: u32) -> Result<PendingFile> {
    let folder = match destination.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let temporary = tempfile::Builder::new()
        .prefix(".modelprov-")
        .permissions(Permissions::from_mode(mode))
        .tempfile_in(folder)
        .map_err(|e| Error::io("create a temporary file in", folder, e))?;
    Ok(PendingFile {
        temporary,
        destination: destination.to_path_buf(),
    })
}

impl PendingFile {
    /// Appends `bytes` to the temporary file; the destination is untouched until
    /// [`PendingFile::commit`].
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        self.temporary
            .write_all(bytes)
            .map_err(|e| Error::io("write", self.temporary.path().to_path_buf(), e))
    }

    /// Flushes the file to disk and renames it over the destination.
    pub fn commit(self) -> Result<()> {
        self.sync()?;
        self.temporary
            .persist(&self.destination)
            .map_err(|e| Error::io("replace", &self.destination, e.error))?;
        Ok(())
    }
}

impl PendingFile {
    fn sync(&self) -> Result<()> {
        self.temporary
            .as_file()
            .sync_all()
            .map_err(|e| Error::io("write", self.temporary.path().to_path_buf(), e))
    }

    /// Flushes the file to disk and moves it to the destination, which must not exist: a file
    /// that appeared there meanwhile is kept, and this is an error.
    pub fn commit_new(self) -> Result<()> {
        self.sync()?;
        self.temporary
            .persist_noclobber(&self.destination)
            .map_err(|e| Error::io("create", &self.destination, e.error))?;
        Ok(())
    }
}

/// `path` made absolute with symlinks and `..` resolved, for a path whose last component may not
/// exist yet (an output file).
pub fn resolve_lenient(path: &Path) -> Result<PathBuf> {
    if let Ok(found) = path.canonicalize() {
        return Ok(found);
    }
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io("read the current directory for", path, e))?
            .join(path)
    };
    match (absolute.parent(), absolute.file_name()) {
        (Some(parent), Some(name)) => match parent.canonicalize() {
            Ok(parent) => Ok(parent.join(name)),
            Err(_) => Ok(absolute),
        },
        _ => Ok(absolute),
    }
}

/// True when both paths exist and are the same file (device and inode), however they are
/// spelled or linked.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Refuses an output path that is one of the command's own inputs: writing the output would
/// destroy what it was made from (a signature over the file it signs, a key over its pair).
pub fn refuse_replacing_input(output: &Path, inputs: &[&Path]) -> Result<()> {
    match inputs.iter().find(|input| same_file(output, input)) {
        Some(input) => Err(Error::Usage(format!(
            "{} is the input {}; writing the output there would destroy it",
            output.display(),
            input.display()
        ))),
        None => Ok(()),
    }
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
            format!("larger than {}; too large for {what}", readable_size(limit)),
        ));
    }
    Ok(bytes)
}

/// A size limit as people write it: `64 MiB`, `512 KiB`, or bytes.
fn readable_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
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
            "/dev/zero: larger than 4 KiB; too large for a public key"
        );
        assert_eq!(readable_size(64 << 20), "64 MiB");
        assert_eq!(readable_size(1000), "1000 bytes");
        assert_eq!(readable_size((1 << 20) + 1024), "1025 KiB");
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
