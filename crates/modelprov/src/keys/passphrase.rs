//! Private-key passphrases from a file or an environment variable, never the command line (where
//! other users read it in the process list). One rule for both: an empty passphrase is refused,
//! since a key "encrypted" with it is readable by anyone who has the file.

use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::fsutil::{limits, read_capped};

/// Reads a passphrase file: its bytes up to one trailing newline (`\n` or `\r\n`, as editors and
/// `echo` leave one). Capped at [`limits::KEY_BYTES`], so `/dev/zero` is an error naming the file.
pub fn read_passphrase_file(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    let mut bytes = Zeroizing::new(read_capped(path, limits::KEY_BYTES, "a passphrase file")?);
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
    if bytes.is_empty() {
        return Err(Error::invalid(
            path,
            "the passphrase is empty (a trailing newline is not part of it); an empty passphrase \
             protects nothing, so it is refused: give a real one, or no passphrase option for an \
             unencrypted key",
        ));
    }
    Ok(bytes)
}

/// The passphrase in environment variable `variable`, which must be set and not empty.
pub fn passphrase_from_env(variable: &str) -> Result<Zeroizing<Vec<u8>>> {
    use std::os::unix::ffi::OsStringExt as _;
    let value = std::env::var_os(variable).ok_or_else(|| {
        Error::Usage(format!(
            "environment variable {variable} (--passphrase-env) is not set"
        ))
    })?;
    let bytes = Zeroizing::new(value.into_vec());
    if bytes.is_empty() {
        return Err(Error::Usage(format!(
            "environment variable {variable} (--passphrase-env) is empty; an empty passphrase \
             protects nothing, so it is refused: give a real one, or no passphrase option for an \
             unencrypted key"
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_trailing_newline_is_dropped_and_empty_is_refused() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("pass");
        for (content, expected) in [
            (&b"secret\n"[..], &b"secret"[..]),
            (b"secret\r\n", b"secret"),
            (b"secret\n\n", b"secret\n"),
            (b" x ", b" x "),
        ] {
            std::fs::write(&path, content).unwrap();
            assert_eq!(read_passphrase_file(&path).unwrap().as_slice(), expected);
        }
        for content in [&b""[..], b"\n", b"\r\n"] {
            std::fs::write(&path, content).unwrap();
            let error = read_passphrase_file(&path).unwrap_err().to_string();
            assert!(error.contains("pass: the passphrase is empty"), "{error}");
        }
    }
}
