//! API tokens: 256 random bits shown once, as `mprv_` and 43 base64url characters; the registry
//! keeps only their SHA-256 (a full-entropy secret needs no slow hash), so a copy of the
//! database lets nobody in.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::error::RegistryError;

/// What every token starts with, so that secret scanners and people recognise one.
pub const TOKEN_PREFIX: &str = "mprv_";
const SECRET_BYTES: usize = 32;
/// `mprv_` and the base64url text of 32 bytes.
const TOKEN_LEN: usize = TOKEN_PREFIX.len() + 43;

/// A token's secret text, wiped from memory when dropped; `Debug` does not show it.
pub struct TokenSecret(Zeroizing<String>);

impl TokenSecret {
    /// A new random token.
    pub fn generate() -> Result<TokenSecret, RegistryError> {
        let mut bytes = Zeroizing::new([0u8; SECRET_BYTES]);
        getrandom::fill(bytes.as_mut()).map_err(|e| {
            RegistryError::Invalid(format!("the system's random number generator failed: {e}"))
        })?;
        let mut text = Zeroizing::new(String::with_capacity(TOKEN_LEN));
        text.push_str(TOKEN_PREFIX);
        URL_SAFE_NO_PAD.encode_string(bytes.as_ref(), &mut text);
        Ok(TokenSecret(text))
    }

    /// A token as a client presents it (surrounding whitespace, as a file's newline, ignored).
    ///
    /// # Errors
    /// [`RegistryError::Unauthenticated`] when it is not the shape of a token; the message never
    /// repeats the text.
    pub fn parse(text: &str) -> Result<TokenSecret, RegistryError> {
        let text = text.trim();
        let well_formed = text.len() == TOKEN_LEN
            && text.starts_with(TOKEN_PREFIX)
            && URL_SAFE_NO_PAD
                .decode(&text[TOKEN_PREFIX.len()..])
                .is_ok_and(|bytes| bytes.len() == SECRET_BYTES);
        if !well_formed {
            return Err(RegistryError::Unauthenticated(
                "the token is malformed (a modelprov token is mprv_ and 43 base64url characters)"
                    .into(),
            ));
        }
        Ok(TokenSecret(Zeroizing::new(text.to_string())))
    }

    /// The secret text, to show once or write to a file.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the registry stores: the SHA-256 of the text.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }
}

impl std::fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSecret(..)")
    }
}

/// What a token may do in its namespace; each role may do what the ones before it may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read the namespace's models, records and statements.
    Reader,
    /// Also publish signed statements.
    Publisher,
    /// Also yank versions and manage the namespace's tokens.
    Admin,
}

impl Role {
    /// Every role, least first.
    pub const ALL: [Role; 3] = [Role::Reader, Role::Publisher, Role::Admin];

    /// `reader`, `publisher` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Publisher => "publisher",
            Role::Admin => "admin",
        }
    }

    /// A role by its name.
    pub fn parse(text: &str) -> Result<Role, RegistryError> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| {
                RegistryError::Invalid(format!(
                    "'{}' is not a role (reader, publisher or admin)",
                    text.chars().take(40).collect::<String>().escape_debug()
                ))
            })
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Writes a token's secret to `file` (mode 0600, with a newline), never over an existing file:
/// how the server keeps its admin token and a client keeps a token it created. `pending` is
/// the staged file from [`stage_secret_file`], made before the token so that a path that cannot
/// be written fails before anything is created.
///
/// # Errors
/// The library's error naming the file (it exists already, or cannot be written).
pub fn write_secret_file(
    mut pending: modelprov::fsutil::PendingFile,
    secret: &str,
) -> modelprov::Result<()> {
    pending.write_all(format!("{secret}\n").as_bytes())?;
    pending.commit_new()
}

/// Stages `file` for [`write_secret_file`]: refused when it exists already.
///
/// # Errors
/// The library's error naming the file.
pub fn stage_secret_file(
    file: &std::path::Path,
) -> modelprov::Result<modelprov::fsutil::PendingFile> {
    if std::fs::symlink_metadata(file).is_ok() {
        return Err(modelprov::Error::Usage(format!(
            "{} exists already; a token file is never overwritten (choose another path)",
            file.display()
        )));
    }
    modelprov::fsutil::stage(file, 0o600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_well_formed_and_never_shown_by_debug() {
        let a = TokenSecret::generate().unwrap();
        let b = TokenSecret::generate().unwrap();
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.expose().len(), TOKEN_LEN);
        let reread = TokenSecret::parse(&format!("{}\n", a.expose())).unwrap();
        assert_eq!(reread.hash(), a.hash());
        assert!(!format!("{a:?}").contains(&a.expose()[TOKEN_PREFIX.len()..]));
    }

    #[test]
    fn anything_else_is_not_a_token() {
        let good = TokenSecret::generate().unwrap();
        let long = "x".repeat(10_000);
        let truncated = &good.expose()[..TOKEN_LEN - 1];
        let other_prefix = good.expose().replacen("mprv_", "ghp__", 1);
        for bad in [
            "",
            "mprv_",
            truncated,
            &other_prefix,
            &long,
            "mprv_\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
            "mprv_ééééééééééééééééééééé",
        ] {
            let error = TokenSecret::parse(bad).unwrap_err();
            assert_eq!(error.code(), "unauthenticated", "{bad:?}");
            assert!(error.to_string().len() < 200);
        }
    }

    #[test]
    fn roles_read_back_by_name_and_nothing_else_is_one() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        for bad in ["", "Admin", "owner", "admin "] {
            assert_eq!(Role::parse(bad).unwrap_err().code(), "invalid");
        }
        assert!(Role::Reader < Role::Publisher && Role::Publisher < Role::Admin);
    }
}
