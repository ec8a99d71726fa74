//! A team's trust policy: whom it trusts to sign which models, stated once and used by every
//! command that checks a signature (`verify`, `lineage verify`, `lineage import`). Format
//! (docs/trust-policy.md), TOML, with keys and certificates inline so that the file alone is the
//! policy:
//!
//! ```toml
//! version = 1
//!
//! [[signer]]
//! key = "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n"
//! models = ["acme/*"]
//!
//! [[signer]]
//! certificate_root = "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"
//!
//! [[signer]]
//! identity = "https://github.com/acme/train/.github/workflows/release.yml@refs/heads/main"
//! issuer = "https://token.actions.githubusercontent.com"
//! instance = "production"          # or "staging", or trusted_root = "root.json"
//! ```
//!
//! A signer without `models` is trusted for every model; with it, only for model names that
//! match one of the globs (`*` stays within one `/`-separated part, `**` crosses them).

use std::path::{Path, PathBuf};
#[cfg(feature = "x509")]
use std::sync::Arc;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::attest::Bundle;
use crate::error::{Error, Result};
use crate::evidence::{Evidence, Signed};
use crate::fsutil::{limits, read_capped_string};
use crate::keys::PublicKey;
use crate::signing::{TrustedSigner, VerifiedEnvelope, verify_artifact_bundle, verify_envelope};
#[cfg(feature = "x509")]
use crate::sigstore::{IdentityMatch, KeylessIdentity, TrustRoot};

/// The only format version so far; a file with another is refused rather than half-read.
pub const POLICY_VERSION: u32 = 1;

/// What a signer is. All but `Key` need the `x509` feature.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Signer {
    /// A key. Its signatures' log entries, if any, are checked against the public-good
    /// production root; without the `x509` feature such signatures are refused.
    Key(PublicKey),
    /// A key whose signatures' log entries are checked against this Sigstore trust root.
    #[cfg(feature = "x509")]
    LoggedKey(PublicKey, Arc<TrustRoot>),
    /// Certificates (DER) that chain to one of these roots.
    #[cfg(feature = "x509")]
    CertificateRoots(Vec<Vec<u8>>),
    /// A keyless (Sigstore) identity: a certificate identity vouched for by an OIDC issuer,
    /// checked against a Sigstore trust root.
    #[cfg(feature = "x509")]
    Keyless(KeylessIdentity),
}

impl Signer {
    /// This signer in the form the signature verifiers in [`crate::signing`] take.
    pub fn trusted(&self) -> TrustedSigner<'_> {
        match self {
            Signer::Key(key) => TrustedSigner::Key(key),
            #[cfg(feature = "x509")]
            Signer::LoggedKey(key, root) => TrustedSigner::LoggedKey(key, root),
            #[cfg(feature = "x509")]
            Signer::CertificateRoots(roots) => TrustedSigner::Roots(roots),
            #[cfg(feature = "x509")]
            Signer::Keyless(identity) => TrustedSigner::Keyless(identity),
        }
    }

    /// What kind of signer this is, for messages: `key`, `certificate root` or
    /// `keyless identity`.
    pub fn kind(&self) -> &'static str {
        match self {
            Signer::Key(_) => "key",
            #[cfg(feature = "x509")]
            Signer::LoggedKey(..) => "key",
            #[cfg(feature = "x509")]
            Signer::CertificateRoots(_) => "certificate root",
            #[cfg(feature = "x509")]
            Signer::Keyless(_) => "keyless identity",
        }
    }
}

impl std::fmt::Display for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Signer::Key(key) => write!(f, "{} key {}", key.key_type(), key.hint()),
            #[cfg(feature = "x509")]
            Signer::LoggedKey(key, _) => write!(f, "{} key {}", key.key_type(), key.hint()),
            #[cfg(feature = "x509")]
            Signer::CertificateRoots(roots) => {
                let subjects: Vec<String> = roots.iter().map(|der| subject_of(der)).collect();
                write!(f, "certificates issued under {}", subjects.join("; "))
            }
            #[cfg(feature = "x509")]
            Signer::Keyless(identity) => write!(f, "{identity}"),
        }
    }
}

/// One entry of a policy: a signer, and the models it is trusted for.
#[derive(Clone, Debug)]
pub struct PolicySigner {
    /// Who is trusted.
    pub signer: Signer,
    /// Globs over model names; empty means every model.
    pub models: Vec<String>,
    matcher: Option<GlobSet>,
    /// How the entry is written back (`policy new`, `policy show --json`).
    entry: Entry,
}

impl PolicySigner {
    /// An entry trusting `signer` for the models matching `models` (every model when empty);
    /// `entry` is how it is written back. Fails when a glob is not valid.
    pub fn new(
        signer: Signer,
        models: Vec<String>,
        entry: Entry,
    ) -> std::result::Result<Self, String> {
        let matcher = globs(&models)?;
        Ok(PolicySigner {
            signer,
            models,
            matcher,
            entry,
        })
    }

    /// Whether this signer is trusted for `model` (a model name, or `None` when the caller has
    /// none: then only unscoped signers apply).
    pub fn applies_to(&self, model: Option<&str>) -> bool {
        match (&self.matcher, model) {
            (None, _) => true,
            (Some(set), Some(name)) => set.is_match(name),
            (Some(_), None) => false,
        }
    }
}

/// A trust policy: the signers a team trusts.
#[derive(Clone, Debug, Default)]
pub struct TrustPolicy {
    signers: Vec<PolicySigner>,
}

/// One `[[signer]]` table as written.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// A trusted public key, as SPKI PEM text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// One or more root certificates, as PEM text; signatures whose certificate chains to one of
    /// them are trusted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_root: Option<String>,
    /// A keyless signer's certificate identity (SAN), matched exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// A regular expression the whole SAN of a keyless signer must match (instead of
    /// `identity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_regex: Option<String>,
    /// The OIDC issuer URL that must vouch for `identity` or `identity_regex`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// `production` (the default) or `staging`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// A private instance's trusted_root.json, relative to the policy file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_root: Option<PathBuf>,
    /// Globs over model names the signer is trusted for; empty means every model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    #[serde(default, rename = "signer")]
    signers: Vec<Entry>,
}

impl TrustPolicy {
    /// Reads a policy file. Every entry must be complete and usable: a policy that silently
    /// trusted less (or more) than it says is worse than none.
    pub fn read(path: &Path) -> Result<TrustPolicy> {
        let text = read_capped_string(path, limits::DOCUMENT_BYTES, "a trust policy")?;
        Self::parse(&text, path, Some(path.parent().unwrap_or(Path::new("."))))
    }

    /// Parses a policy's text; `path` names it in errors. A `trusted_root` file is read relative
    /// to `base`; with no base (a policy sent to a server) an entry naming a file is refused, so
    /// that a policy cannot make its reader open files of the reader's choosing.
    pub fn parse(text: &str, path: &Path, base: Option<&Path>) -> Result<TrustPolicy> {
        let file: File = toml::from_str(text)
            .map_err(|e| Error::invalid_because(path, "not a valid trust policy", e))?;
        if file.version != POLICY_VERSION {
            return Err(Error::invalid(
                path,
                format!(
                    "trust policy version {} is not supported (this modelprov reads version {POLICY_VERSION})",
                    file.version
                ),
            ));
        }
        if file.signers.is_empty() {
            return Err(Error::invalid(
                path,
                "the trust policy lists no [[signer]]: it would trust nobody",
            ));
        }
        let signers = file
            .signers
            .into_iter()
            .enumerate()
            .map(|(index, entry)| {
                let signer = match base {
                    Some(base) => Self::signer_from(entry, base),
                    None if entry.trusted_root.is_some() => Err(Error::Usage(
                        "trusted_root names a file, which a policy given as text cannot; use instance".into(),
                    )),
                    None => Self::signer_from(entry, Path::new(".")),
                };
                signer.map_err(|problem| {
                    Error::invalid(path, format!("signer {}: {problem}", index + 1))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(TrustPolicy { signers })
    }

    /// A policy of these signers.
    pub fn from_signers(signers: Vec<PolicySigner>) -> TrustPolicy {
        TrustPolicy { signers }
    }

    /// A policy trusting this one signer for every model (what `--key`, `--certificate-chain`
    /// or `--identity` with `--issuer` mean on a command line).
    pub fn single(signer: Signer) -> TrustPolicy {
        TrustPolicy::from_signers(vec![
            PolicySigner::new(signer, Vec::new(), Entry::default())
                .expect("an unscoped signer has no globs to refuse"),
        ])
    }

    /// A policy trusting these keys for every model (what `--key` options mean).
    pub fn of_keys(keys: Vec<PublicKey>) -> TrustPolicy {
        let signers = keys
            .into_iter()
            .map(|key| PolicySigner {
                entry: Entry {
                    key: Some(key.to_pem()),
                    ..Entry::default()
                },
                signer: Signer::Key(key),
                models: Vec::new(),
                matcher: None,
            })
            .collect();
        TrustPolicy { signers }
    }

    /// Builds one entry, reading `trusted_root` relative to `base`.
    pub fn signer_from(entry: Entry, base: &Path) -> Result<PolicySigner> {
        let usage = Error::Usage;
        let given = [
            entry.key.is_some(),
            entry.certificate_root.is_some(),
            entry.identity.is_some() || entry.identity_regex.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(usage(
                "give exactly one of key, certificate_root, or identity/identity_regex with issuer"
                    .into(),
            ));
        }
        let signer = if let Some(pem) = &entry.key {
            if entry.issuer.is_some() {
                return Err(usage("issuer goes with identity, not key".into()));
            }
            key_signer(PublicKey::from_pem(pem, Path::new("key"))?, &entry, base)?
        } else {
            certificate_or_keyless_signer(&entry, base)?
        };
        PolicySigner::new(signer, entry.models.clone(), entry).map_err(usage)
    }

    /// The entries, in the order they are tried.
    pub fn signers(&self) -> &[PolicySigner] {
        &self.signers
    }

    /// True when the policy has no signer, so it trusts nobody.
    pub fn is_empty(&self) -> bool {
        self.signers.is_empty()
    }

    /// The policy as TOML, in the documented format.
    pub fn to_toml(&self) -> String {
        let file = File {
            version: POLICY_VERSION,
            signers: self.signers.iter().map(|s| s.entry.clone()).collect(),
        };
        let body = toml::to_string(&file).expect("a trust policy serialises");
        format!("# modelprov trust policy (docs/trust-policy.md)\n{body}")
    }

    /// Verifies `bundle` (read from `path`) as signed by one of the signers trusted for `model`.
    /// The first that verifies wins; when none does, the error names each one's reason.
    pub fn verify_envelope(
        &self,
        bundle: &Bundle,
        model: Option<&str>,
        path: &Path,
    ) -> Result<(VerifiedEnvelope, &PolicySigner)> {
        self.first_verifying(model, path, |signer| {
            verify_envelope(bundle, signer.trusted(), path)
        })
    }

    /// Verifies the Sigstore bundle `text` (read from `path`) over one file (or its digest), as
    /// signed by one of the signers trusted for `model`.
    pub fn verify_artifact(
        &self,
        text: &str,
        path: &Path,
        signed: Signed<'_>,
        model: Option<&str>,
    ) -> Result<(Evidence, &PolicySigner)> {
        self.first_verifying(model, path, |signer| {
            verify_artifact_bundle(text, path, signed, signer.trusted())
        })
    }

    fn first_verifying<T>(
        &self,
        model: Option<&str>,
        path: &Path,
        verify: impl Fn(&Signer) -> Result<T>,
    ) -> Result<(T, &PolicySigner)> {
        let applicable: Vec<&PolicySigner> = self
            .signers
            .iter()
            .filter(|s| s.applies_to(model))
            .collect();
        if applicable.is_empty() {
            return Err(Error::not_authentic(
                path,
                match model {
                    Some(name) => format!("the trust policy trusts no signer for model '{name}'"),
                    None => "every signer in the trust policy is scoped to model names; say which model this is (--model-name)".into(),
                },
            ));
        }
        // A policy of one signer (a --key, --identity, ... option): its own error, unwrapped,
        // says exactly what failed.
        if let ([only], 1) = (applicable.as_slice(), self.signers.len()) {
            return verify(&only.signer).map(|verified| (verified, *only));
        }
        let mut reasons = Vec::new();
        for signer in applicable {
            match verify(&signer.signer) {
                Ok(verified) => return Ok((verified, signer)),
                // A file that cannot be read is not better with another signer.
                Err(error @ (Error::Io { .. } | Error::Usage(_))) => return Err(error),
                Err(Error::InvalidInput { problem, .. } | Error::NotAuthentic { problem, .. }) => {
                    reasons.push(format!("{}: {problem}", signer.signer));
                }
                Err(other) => reasons.push(format!("{}: {other}", signer.signer)),
            }
        }
        let scoped = self.signers.iter().filter(|s| !s.applies_to(model)).count();
        let unscoped_note = match (model, scoped) {
            (None, 1..) => format!(
                " ({scoped} signer(s) scoped to model names were not tried: give the model's name)"
            ),
            _ => String::new(),
        };
        Err(Error::not_authentic(
            path,
            format!(
                "not signed by any signer the trust policy trusts for {}: {}{unscoped_note}",
                model.map_or("this model".to_string(), |m| format!("'{m}'")),
                reasons.join("; ")
            ),
        ))
    }
}

/// A key entry's signer: with `instance` or `trusted_root`, its log entries are checked there.
#[cfg(feature = "x509")]
fn key_signer(key: PublicKey, entry: &Entry, base: &Path) -> Result<Signer> {
    Ok(match instance_root(entry, base)? {
        Some(root) => Signer::LoggedKey(key, root),
        None => Signer::Key(key),
    })
}

#[cfg(not(feature = "x509"))]
fn key_signer(key: PublicKey, entry: &Entry, _: &Path) -> Result<Signer> {
    if entry.instance.is_some() || entry.trusted_root.is_some() {
        return Err(Error::feature_missing(
            "x509",
            "a trust policy key with a Sigstore instance or trusted_root",
        ));
    }
    Ok(Signer::Key(key))
}

/// The Sigstore trust root an entry names, by `instance` or `trusted_root` (relative to `base`).
#[cfg(feature = "x509")]
fn instance_root(entry: &Entry, base: &Path) -> Result<Option<Arc<TrustRoot>>> {
    Ok(match (entry.instance.as_deref(), &entry.trusted_root) {
        (None, None) => None,
        (Some("production"), None) => Some(TrustRoot::production()),
        (Some("staging"), None) => Some(TrustRoot::staging()),
        (None, Some(file)) => Some(TrustRoot::read(&base.join(file))?),
        (Some(other), None) => {
            return Err(Error::Usage(format!(
                "instance '{other}' is not known (production or staging; a private instance is given with trusted_root)"
            )));
        }
        (Some(_), Some(_)) => {
            return Err(Error::Usage(
                "give instance or trusted_root, not both".into(),
            ));
        }
    })
}

/// A `certificate_root` or keyless `identity`/`identity_regex` entry's signer.
#[cfg(feature = "x509")]
fn certificate_or_keyless_signer(entry: &Entry, base: &Path) -> Result<Signer> {
    let usage = Error::Usage;
    if let Some(pem) = &entry.certificate_root {
        if entry.issuer.is_some() || entry.instance.is_some() || entry.trusted_root.is_some() {
            return Err(usage(
                "issuer, instance and trusted_root go with identity or key, not certificate_root"
                    .into(),
            ));
        }
        let roots = crate::keys::pem_certificates(pem).map_err(usage)?;
        if roots.is_empty() {
            return Err(usage("certificate_root holds no certificate".into()));
        }
        return Ok(Signer::CertificateRoots(roots));
    }
    let identity = match (&entry.identity, &entry.identity_regex) {
        (Some(exact), None) => IdentityMatch::Exact(exact.clone()),
        (None, Some(pattern)) => IdentityMatch::regex(pattern).map_err(usage)?,
        _ => return Err(usage("give identity or identity_regex, not both".into())),
    };
    let Some(issuer) = entry.issuer.clone() else {
        return Err(usage("a keyless identity needs its issuer".into()));
    };
    let root = instance_root(entry, base)?.unwrap_or_else(TrustRoot::production);
    Ok(Signer::Keyless(KeylessIdentity {
        identity,
        issuer,
        root,
    }))
}

#[cfg(not(feature = "x509"))]
fn certificate_or_keyless_signer(_: &Entry, _: &Path) -> Result<Signer> {
    Err(Error::feature_missing(
        "x509",
        "a trust policy entry with a certificate root or a keyless identity",
    ))
}

fn globs(patterns: &[String]) -> std::result::Result<Option<GlobSet>, String> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("models: '{pattern}' is not a valid glob: {e}"))?;
        set.add(glob);
    }
    set.build().map(Some).map_err(|e| format!("models: {e}"))
}

#[cfg(feature = "x509")]
fn subject_of(der: &[u8]) -> String {
    use x509_cert::der::Decode as _;
    x509_cert::Certificate::from_der(der)
        .map(|c| c.tbs_certificate().subject().to_string())
        .unwrap_or_else(|_| "(unreadable certificate)".into())
}
