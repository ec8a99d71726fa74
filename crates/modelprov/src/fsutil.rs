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
