//! The options that say whom a signature must come from, shared by every command that checks
//! one: a key, certificate roots, a keyless identity, or a trust policy file.

use std::path::PathBuf;

use clap::Args;
use modelprov::keys::PublicKey;
use modelprov::trust_policy::TrustPolicy;
use modelprov::{Error, Result};

/// Keyless (Sigstore) signer options.
#[derive(Args, Debug, Default, Clone)]
pub struct KeylessArgs {
    /// Keyless signatures: the signer's identity (the certificate's SAN: an email address or a
    /// workflow URI), exactly. Needs --issuer.
    #[arg(long, value_name = "SAN", conflicts_with = "identity_regex")]
    pub identity: Option<String>,

    /// Keyless signatures: a regular expression the whole identity must match. Needs --issuer.
    #[arg(long, value_name = "REGEX")]
    pub identity_regex: Option<String>,

    /// Keyless signatures: the OIDC issuer that vouched for the identity, exactly
    /// (e.g. https://token.actions.githubusercontent.com).
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,

    /// Check certificates, log entries and timestamps against the embedded Sigstore staging
    /// root instead of production.
    #[arg(long, conflicts_with = "trusted_root")]
    pub staging: bool,

    /// Check them against this trusted_root.json (a private Sigstore instance).
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
}

impl KeylessArgs {
    /// Whether any keyless identity option was given.
    pub fn identity_given(&self) -> bool {
        self.identity.is_some() || self.identity_regex.is_some() || self.issuer.is_some()
    }
}

/// The policy a `--policy FILE`, or else these `--key` files, describe; empty when neither is
/// given.
pub fn policy_or_keys(policy: Option<&PathBuf>, keys: &[PathBuf]) -> Result<TrustPolicy> {
    match (policy, keys) {
        (Some(_), [_, ..]) => Err(Error::Usage(
            "give trusted signers either as --key options or in a --policy file, not both".into(),
        )),
        (Some(path), []) => TrustPolicy::read(path),
        (None, keys) => {
            let mut read = Vec::new();
            for path in keys {
                read.push(PublicKey::read(path)?);
            }
            Ok(TrustPolicy::of_keys(read))
        }
    }
}
