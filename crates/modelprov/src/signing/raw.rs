//! Raw detached signatures of a single file (keys/detached.rs has the schemes): the form most
//! teams start with, and what `openssl dgst` and Python `cryptography` produce and check.

use std::path::Path;

use crate::error::{Error, Result};
use crate::hashing::stream_file;
use crate::keys::{PrivateKey, PublicKey};
use crate::walk::{IgnoreSet, ModelFile, SINGLE_FILE_NAME, WalkOptions, list_model};

/// The signature of the file at `path`.
pub fn sign_file(path: &Path, key: &PrivateKey) -> Result<Vec<u8>> {
    let file = single_file(path)?;
    key.sign_detached(&|sink| stream_file(&file, sink))
}

/// Whether `signature` is `key`'s signature of the file at `path`. A key with a
/// `KeyType::weakness` is `NotAuthentic` whatever the signature: a valid one proves nothing.
pub fn verify_file(path: &Path, key: &PublicKey, signature: &[u8]) -> Result<bool> {
    let file = single_file(path)?;
    if let Some(weakness) = key.key_type().weakness() {
        return Err(Error::not_authentic(
            path,
            format!(
                "the key is {}: {weakness}, so no signature by it is accepted",
                key.key_type()
            ),
        ));
    }
    key.verify_detached(&|sink| stream_file(&file, sink), signature)
}

fn single_file(path: &Path) -> Result<ModelFile> {
    if path.is_dir() {
        return Err(Error::Usage(format!(
            "{} is a folder; raw signatures cover one file (sign a folder without --raw)",
            path.display()
        )));
    }
    let ignore = IgnoreSet::default();
    let listing = list_model(
        path,
        WalkOptions {
            ignore: &ignore,
            allow_symlinks: true,
        },
    )?;
    match listing.files.into_iter().next() {
        Some(file) if file.name == SINGLE_FILE_NAME => Ok(file),
        _ => Err(Error::Usage(format!(
            "{} is a folder; raw signatures cover one file (sign a folder without --raw)",
            path.display()
        ))),
    }
}
