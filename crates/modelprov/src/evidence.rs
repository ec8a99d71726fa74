//! What a verified signature proves: who signed, when, and where it was logged. Every signature
//! kind (key, certificate, keyless Sigstore) reports the same shape, so callers print and bank
//! one thing whichever features the crate is built with.

use std::path::Path;

use serde::Serialize;

/// What a bundle signs: a file's bytes, or a SHA-256 digest standing in for them (an in-toto
/// subject, or `sha256:<hex>` given for a file).
#[derive(Clone, Copy, Debug)]
pub enum Signed<'a> {
    /// The bytes of the file at this path, streamed from disk.
    File(&'a Path),
    /// A SHA-256 digest (the raw 32 bytes) standing in for the signed bytes.
    Sha256([u8; 32]),
}

/// Who signed, as the verified certificate or key says.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct SignedBy {
    /// `keyless`, `key` or `certificate`.
    pub kind: &'static str,
    /// The certificate's SAN: an email address or a workflow URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The OIDC issuer that vouched for the identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The source repository URI, a CI claim (Fulcio extension) when the certificate was issued
    /// to a workflow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The Git ref the workflow ran at (`refs/heads/main`), a CI claim; serialised as `ref`.
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    /// The commit the workflow ran at, a CI claim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The workflow that ran (its build config URI), a CI claim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// A certificate's subject, for X.509 signatures outside Sigstore.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// A managed key: its hint (hex SHA-256 of the SPKI PEM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl std::fmt::Display for SignedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.identity, &self.subject, &self.key) {
            (Some(identity), _, _) => {
                write!(f, "{identity}")?;
                if let Some(issuer) = &self.issuer {
                    write!(f, " (issuer {issuer})")?;
                }
                if let Some(repository) = &self.repository {
                    write!(f, ", workflow of {repository}")?;
                    if let Some(git_ref) = &self.git_ref {
                        write!(f, " at {git_ref}")?;
                    }
                }
                Ok(())
            }
            (None, Some(subject), _) => write!(f, "certificate {subject}"),
            (None, None, Some(key)) => write!(f, "key {key}"),
            (None, None, None) => f.write_str(self.kind),
        }
    }
}

/// A time the signature is proven to have existed at, and what proves it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SignedAt {
    /// RFC 3339, UTC.
    pub time: String,
    /// `rekor integrated time` or `RFC 3161 timestamp`.
    pub source: &'static str,
}

/// The log entry the bundle carries.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct LoggedIn {
    /// The log's URL when the trusted root names it, else its log id (hex).
    pub log: String,
    /// The entry's index in that log.
    pub index: u64,
    /// `hashedrekord 0.0.1`, `dsse 0.0.1`, ...
    pub kind: String,
}

/// A bundle that verified, and the evidence for it.
#[derive(Clone, Debug, Serialize)]
pub struct Evidence {
    /// Who signed.
    pub signed_by: SignedBy,
    /// The trusted root the chain, log and timestamps were checked against, for Sigstore
    /// bundles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Each time the signature is proven to have existed at; empty for a signature with no log
    /// entry or timestamp.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signed_at: Vec<SignedAt>,
    /// The transparency-log entries the bundle carries.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub logged_in: Vec<LoggedIn>,
}

impl Evidence {
    /// A signer with nothing logged or timestamped: a key or certificate signature.
    pub fn of(signed_by: SignedBy) -> Evidence {
        Evidence {
            signed_by,
            instance: None,
            signed_at: Vec::new(),
            logged_in: Vec::new(),
        }
    }
}
