//! Writing a new key pair to disk: never over an existing file unless asked, never the same
//! file twice, and never half a pair.

use std::path::{Path, PathBuf};

use super::{KeyType, PrivateKey};
use crate::error::{Error, Result};
use crate::fsutil;

/// A key pair that [`write_key_pair`] wrote.
pub struct KeyPairFiles {
    /// The new private key.
    pub key: PrivateKey,
    /// Where the private key was written (PKCS#8 PEM, mode 0600).
    pub private_key: PathBuf,
    /// Where the public key was written (SPKI PEM).
    pub public_key: PathBuf,
}

/// The public key's default file: the private key's name with `.pub` appended.
pub fn default_public_key_path(private_key: &Path) -> PathBuf {
    let mut name = private_key.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Generates a `key_type` key and writes it to `private_key` (encrypted when a passphrase is
/// given) and its public key to `public_key` (default: [`default_public_key_path`]). Existing
/// files are replaced only with `force`; both files are written in full before either is
/// renamed into place, so a failure never leaves a lost or mismatched pair.
pub fn write_key_pair(
    key_type: KeyType,
    private_key: &Path,
    public_key: Option<&Path>,
    passphrase: Option<&[u8]>,
    force: bool,
) -> Result<KeyPairFiles> {
    let public_path = public_key
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_public_key_path(private_key));
    if fsutil::resolve_lenient(private_key)? == fsutil::resolve_lenient(&public_path)?
        || fsutil::same_file(private_key, &public_path)
    {
        return Err(Error::Usage(format!(
            "the private and public key are both {}; they must be two files",
            public_path.display()
        )));
    }
    for path in [private_key, public_path.as_path()] {
        if std::fs::symlink_metadata(path).is_ok() && !force {
            return Err(Error::Usage(format!(
                "{} exists; pass --force to replace it",
                path.display()
            )));
        }
    }
    let key = PrivateKey::generate(key_type)?;
    let private_pem = key.to_pkcs8_pem(passphrase)?;
    let mut private_file = fsutil::stage(private_key, 0o600)?;
    private_file.write_all(private_pem.as_bytes())?;
    let mut public_file = fsutil::stage(&public_path, 0o644)?;
    public_file.write_all(key.public_key().to_pem().as_bytes())?;
    private_file.commit()?;
    public_file.commit()?;
    Ok(KeyPairFiles {
        key,
        private_key: private_key.to_path_buf(),
        public_key: public_path,
    })
}
