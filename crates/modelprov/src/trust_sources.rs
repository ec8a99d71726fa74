//! The signers one verification trusts, as a caller names them: a public key, certificate
//! roots, a keyless identity, or a trust policy file; one kind at a time. The CLI's `verify`
//! options and the Python package's `verify` keywords both come here, so the rule is one.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::keys::PublicKey;
use crate::trust_policy::{Signer, TrustPolicy};

/// Where the trusted signers of one verification come from. At most one kind may be given:
/// `key`, `certificate_chain`, the keyless `identity`/`identity_regex` with `issuer`, or
/// `policy`. `staging` and `trusted_root` choose the Sigstore instance for a keyless identity
/// or a key whose signatures are logged.
#[derive(Clone, Copy, Debug, Default)]
pub struct TrustSources<'a> {
    /// A PEM public key file.
    pub key: Option<&'a Path>,
    /// PEM files of trusted certificate roots.
    pub certificate_chain: &'a [PathBuf],
    /// The exact keyless identity (certificate SAN).
    pub identity: Option<&'a str>,
    /// A regular expression the keyless identity must match whole.
    pub identity_regex: Option<&'a str>,
    /// The OIDC issuer that vouched for the keyless identity.
    pub issuer: Option<&'a str>,
    /// The Sigstore public-good staging instance instead of production.
    pub staging: bool,
    /// A private Sigstore instance's trusted_root.json.
    pub trusted_root: Option<&'a Path>,
    /// A trust policy file (docs/trust-policy.md).
    pub policy: Option<&'a Path>,
}

impl TrustSources<'_> {
    /// Whether any signer is named at all.
    pub fn any(&self) -> bool {
        self.kinds_given() > 0
    }

    fn kinds_given(&self) -> usize {
        let keyless =
            self.identity.is_some() || self.identity_regex.is_some() || self.issuer.is_some();
        [
            self.key.is_some(),
            !self.certificate_chain.is_empty(),
            keyless,
            self.policy.is_some(),
        ]
        .into_iter()
        .filter(|given| *given)
        .count()
    }

    /// Refuses more than one kind of signer, before any file is read.
    ///
    /// # Errors
    /// [`Error::Usage`] when two kinds are given.
    pub fn check(&self) -> Result<()> {
        if self.kinds_given() > 1 {
            return Err(Error::Usage(
                "give one kind of trusted signer: a public key, certificate roots, a keyless \
                 identity with its issuer, or a trust policy"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The trust policy these sources make: the policy file, or a policy of the one signer
    /// named. `None` when no signer is named (the caller says what it needs).
    ///
    /// # Errors
    /// [`Error::Usage`] for two kinds of signer or an incomplete identity; a file that cannot
    /// be read or parsed is an [`Error::Io`] or [`Error::InvalidInput`] naming it.
    pub fn policy(&self) -> Result<Option<TrustPolicy>> {
        self.check()?;
        if let Some(path) = self.policy {
            return TrustPolicy::read(path).map(Some);
        }
        let Some(signer) = self.signer()? else {
            return Ok(None);
        };
        Ok(Some(TrustPolicy::single(signer)))
    }
}

impl TrustSources<'_> {
    /// The one signer named by a key, certificate roots or a keyless identity.
    #[cfg(feature = "x509")]
    fn signer(&self) -> Result<Option<Signer>> {
        use crate::sigstore::{KeylessIdentity, TrustRoot};
        let root = match (self.trusted_root, self.staging) {
            (Some(path), _) => Some(TrustRoot::read(path)?),
            (None, true) => Some(TrustRoot::staging()),
            (None, false) => None,
        };
        let keyless = KeylessIdentity::from_options(
            self.identity,
            self.identity_regex,
            self.issuer,
            root.clone(),
        )?;
        Ok(if let Some(keyless) = keyless {
            Some(Signer::Keyless(keyless))
        } else if let Some(key) = self.key {
            let key = PublicKey::read(key)?;
            Some(match root {
                Some(root) => Signer::LoggedKey(key, root),
                None => Signer::Key(key),
            })
        } else if !self.certificate_chain.is_empty() {
            let mut roots = Vec::new();
            for file in self.certificate_chain {
                roots.extend(crate::x509::read_certificates(file)?);
            }
            Some(Signer::CertificateRoots(roots))
        } else {
            None
        })
    }

    /// Without the `x509` feature only a key can be trusted.
    #[cfg(not(feature = "x509"))]
    fn signer(&self) -> Result<Option<Signer>> {
        let keyless =
            self.identity.is_some() || self.identity_regex.is_some() || self.issuer.is_some();
        if keyless
            || !self.certificate_chain.is_empty()
            || self.staging
            || self.trusted_root.is_some()
        {
            return Err(Error::feature_missing(
                "x509",
                "trusting certificate roots, a keyless identity or a Sigstore instance",
            ));
        }
        self.key
            .map(|key| PublicKey::read(key).map(Signer::Key))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_kinds_of_signer_are_refused_before_any_file_is_read() {
        let roots = [PathBuf::from("/nonexistent/root.pem")];
        let sources = TrustSources {
            key: Some(Path::new("/nonexistent/key.pub")),
            certificate_chain: &roots,
            ..TrustSources::default()
        };
        let error = sources.policy().unwrap_err();
        assert!(matches!(error, Error::Usage(_)), "{error}");
        assert!(
            error.to_string().contains("one kind of trusted signer"),
            "{error}"
        );
    }

    #[test]
    fn no_signer_is_none_and_an_issuer_alone_is_refused() {
        assert!(TrustSources::default().policy().unwrap().is_none());
        let issuer_only = TrustSources {
            issuer: Some("https://accounts.example.com"),
            ..TrustSources::default()
        };
        assert!(matches!(issuer_only.policy(), Err(Error::Usage(_))));
    }
}
