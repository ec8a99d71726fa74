//! Whom a keyless signature must come from: the signing certificate's identity (its SAN: an
//! email, or a CI workflow URI) and the OIDC issuer that vouched for it. Both are required, as
//! cosign and sigstore-python require them: a Fulcio certificate proves only that *someone* held
//! an identity at some issuer.

use serde::Serialize;

use std::sync::Arc;

use super::trust_root::TrustRoot;

/// How a keyless signing certificate's identity (its SAN) must match to be trusted.
#[derive(Clone, Debug)]
pub enum IdentityMatch {
    /// The SAN equals this string.
    Exact(String),
    /// The whole SAN matches this regular expression (anchored at both ends).
    Regex(regex::Regex),
}

impl IdentityMatch {
    /// `pattern` anchored so that it must match the whole identity, as cosign's
    /// `--certificate-identity-regexp` users expect of `^...$`; an unanchored pattern such as
    /// `me@example.com` would otherwise also accept `evil-me@example.com.attacker`.
    pub fn regex(pattern: &str) -> Result<IdentityMatch, String> {
        regex::Regex::new(&format!("^(?:{pattern})$"))
            .map(IdentityMatch::Regex)
            .map_err(|e| format!("--identity-regex: not a valid regular expression: {e}"))
    }

    /// Whether the certificate identity `identity` is accepted.
    pub fn matches(&self, identity: &str) -> bool {
        match self {
            IdentityMatch::Exact(expected) => expected == identity,
            IdentityMatch::Regex(pattern) => pattern.is_match(identity),
        }
    }
}

impl std::fmt::Display for IdentityMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdentityMatch::Exact(identity) => f.write_str(identity),
            IdentityMatch::Regex(pattern) => {
                let text = pattern.as_str();
                let inner = text
                    .strip_prefix("^(?:")
                    .and_then(|t| t.strip_suffix(")$"))
                    .unwrap_or(text);
                write!(f, "/{inner}/")
            }
        }
    }
}

impl Serialize for IdentityMatch {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A keyless signer the verifier trusts: this identity, at this issuer, certified by this
/// Sigstore instance.
#[derive(Clone, Debug)]
pub struct KeylessIdentity {
    /// The SAN the signing certificate must carry: exactly, or matching a pattern.
    pub identity: IdentityMatch,
    /// The OIDC issuer URL the certificate's issuer extension must equal.
    pub issuer: String,
    /// The Sigstore instance whose trusted root the certificate, log entries and timestamps must
    /// verify against.
    pub root: Arc<TrustRoot>,
}

impl KeylessIdentity {
    /// The keyless signer named by an exact identity or an identity pattern, and an issuer;
    /// `None` when none of them is given. An identity without its issuer, or an issuer without
    /// an identity, is refused: either alone would trust anybody. `root` defaults to the
    /// public-good production instance.
    pub fn from_options(
        exact: Option<&str>,
        pattern: Option<&str>,
        issuer: Option<&str>,
        root: Option<Arc<TrustRoot>>,
    ) -> crate::Result<Option<Self>> {
        let identity = match (exact, pattern) {
            (Some(exact), _) => Some(IdentityMatch::Exact(exact.to_string())),
            (None, Some(pattern)) => {
                Some(IdentityMatch::regex(pattern).map_err(crate::Error::Usage)?)
            }
            (None, None) => None,
        };
        match (identity, issuer) {
            (None, None) => Ok(None),
            (Some(identity), Some(issuer)) => Ok(Some(KeylessIdentity {
                identity,
                issuer: issuer.to_string(),
                root: root.unwrap_or_else(TrustRoot::production),
            })),
            (Some(_), None) => Err(crate::Error::Usage(
                "--identity needs --issuer: an identity means nothing without the issuer that vouched for it".into(),
            )),
            (None, Some(_)) => Err(crate::Error::Usage(
                "--issuer needs --identity or --identity-regex: any identity at an issuer is anybody".into(),
            )),
        }
    }
}

impl std::fmt::Display for KeylessIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at {} ({})",
            self.identity,
            self.issuer,
            self.root.instance()
        )
    }
}
