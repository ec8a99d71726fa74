//! Verifying a Sigstore bundle with `sigstore-verify`, offline: the signing certificate's chain
//! to the instance's Fulcio CAs at the verified signing time, its SCT, the Rekor v1 entry
//! (signed entry timestamp, inclusion proof and checkpoint) or Rekor v2 entry and RFC 3161
//! timestamps, the log entry's body against the signature, certificate and artifact, and the
//! signature itself. What this module adds: the identity policy (including regular
//! expressions), typed outcomes, and a report of who signed, when, and where it was logged.

use std::path::Path;

use sigstore_types::{Bundle as SigstoreBundle, Sha256Hash};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, VerificationResult};

use super::identity::{IdentityMatch, KeylessIdentity};
use super::trust_root::TrustRoot;
use crate::error::{Error, Result};
use crate::evidence::{Evidence, LoggedIn, Signed, SignedAt, SignedBy};
use crate::keys::PublicKey;

/// Whom the bundle must be signed by.
#[derive(Clone, Copy, Debug)]
pub enum BundleSigner<'a> {
    /// A keyless signature by this identity, at its issuer, under its trusted root.
    Keyless(&'a KeylessIdentity),
    /// A managed key; the bundle's log entries are checked against this root.
    Key(&'a PublicKey, &'a TrustRoot),
}

/// Parses a bundle as Sigstore clients write it (v0.1, v0.2 and v0.3, both media-type
/// spellings). `path` names the file in errors.
pub fn parse_sigstore_bundle(text: &str, path: &Path) -> Result<SigstoreBundle> {
    SigstoreBundle::from_json(text)
        .map_err(|e| Error::invalid_because(path, "not a valid Sigstore bundle", e))
}

/// Verifies `bundle` (read from `path`) over `signed`, by `signer`. `NotAuthentic` when any check
/// fails (with the reason); `InvalidInput` when the bundle cannot be used at all.
pub fn verify_sigstore_bundle(
    bundle: &SigstoreBundle,
    path: &Path,
    signed: Signed<'_>,
    signer: BundleSigner<'_>,
) -> Result<Evidence> {
    let (root, result) = match signer {
        BundleSigner::Keyless(keyless) => {
            let policy = match &keyless.identity {
                IdentityMatch::Exact(identity) => {
                    VerificationPolicy::new(identity.as_str(), keyless.issuer.as_str())
                }
                // The library matches exact values; a pattern is checked below, on the identity
                // of a certificate that verified.
                IdentityMatch::Regex(_) => {
                    VerificationPolicy::any_identity().require_issuer(keyless.issuer.as_str())
                }
            };
            let result = run(keyless.root.as_ref(), bundle, path, signed, &policy)?;
            let identity = result.identity().map(|san| san.as_str().to_string());
            if !result.certificate_verified()
                || !identity
                    .as_deref()
                    .is_some_and(|id| keyless.identity.matches(id))
            {
                return Err(not_authentic(
                    path,
                    format!(
                        "signed by {}, not by an identity matching {}",
                        identity
                            .as_deref()
                            .unwrap_or("(a certificate without an identity)"),
                        keyless.identity
                    ),
                ));
            }
            (keyless.root.as_ref(), result)
        }
        BundleSigner::Key(key, root) => {
            let der = sigstore_types::DerPublicKey::new(key.to_spki_der());
            let result = run(
                root,
                bundle,
                path,
                signed,
                &PublicKeyVerificationPolicy::new(der),
            )?;
            (root, result)
        }
    };
    Ok(evidence(bundle, root, &result, signer, key_hint(signer)))
}

fn key_hint(signer: BundleSigner<'_>) -> Option<String> {
    match signer {
        BundleSigner::Key(key, _) => Some(key.hint()),
        BundleSigner::Keyless(_) => None,
    }
}

fn run(
    root: &TrustRoot,
    bundle: &SigstoreBundle,
    path: &Path,
    signed: Signed<'_>,
    policy: &(impl sigstore_verify::Policy + ?Sized),
) -> Result<VerificationResult> {
    let verifier = root.verifier();
    let outcome = match signed {
        Signed::Sha256(digest) => verifier.verify(Sha256Hash::new(digest), bundle, policy),
        Signed::File(file) => {
            let reader = std::fs::File::open(file)
                .map_err(|e| Error::io("open the signed file", file, e))?;
            verifier.verify_reader(
                std::io::BufReader::with_capacity(1 << 20, reader),
                bundle,
                policy,
            )
        }
    };
    outcome.map_err(|e| classify(e, path, root))
}

/// A bundle that cannot be used is invalid input; one that does not prove what it claims is not
/// authentic. Either way the reason is kept, in the words of the check that failed.
fn classify(error: sigstore_verify::Error, path: &Path, root: &TrustRoot) -> Error {
    use sigstore_verify::Error as E;
    match &error {
        E::InvalidTrustRoot(_) => Error::invalid(path, format!("{error} ({})", root.instance())),
        E::InvalidBundle(_) | E::UnsupportedBundle(_) | E::UnsupportedArtifact(_) => {
            Error::invalid(path, error.to_string())
        }
        _ => not_authentic(
            path,
            format!(
                "{} (checked against the {} root)",
                readable_times(&error.to_string()),
                root.instance()
            ),
        ),
    }
}

/// webpki reports validity failures as `CertExpired { time: UnixTime(1778168051), not_after:
/// UnixTime(1778167690) }`; users read dates.
fn readable_times(message: &str) -> String {
    static PATTERN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"Cert(Expired|NotValidYet) \{ time: UnixTime\((\d+)\), (?:not_after|not_before): UnixTime\((\d+)\) \}",
        )
        .expect("a valid pattern")
    });
    let date = |seconds: &str| {
        seconds
            .parse::<i64>()
            .ok()
            .and_then(|s| jiff::Timestamp::from_second(s).ok())
            .map_or_else(|| seconds.to_string(), |t| t.to_string())
    };
    PATTERN
        .replace_all(message, |caps: &regex::Captures<'_>| {
            let (time, bound) = (date(&caps[2]), date(&caps[3]));
            match &caps[1] {
                "Expired" => format!(
                    "the certificate had expired at the verified signing time {time} (not after {bound})"
                ),
                _ => format!(
                    "the certificate was not yet valid at the verified signing time {time} (not before {bound})"
                ),
            }
        })
        .into_owned()
}

fn not_authentic(path: &Path, problem: String) -> Error {
    Error::not_authentic(path, problem)
}

fn evidence(
    bundle: &SigstoreBundle,
    root: &TrustRoot,
    result: &VerificationResult,
    signer: BundleSigner<'_>,
    key: Option<String>,
) -> Evidence {
    let signed_by = match signer {
        BundleSigner::Key(..) => SignedBy {
            kind: "key",
            key,
            ..SignedBy::default()
        },
        BundleSigner::Keyless(_) => {
            let claims = result.certificate().map(|c| &c.ci_claims);
            let claim = |get: fn(&sigstore_verify::crypto::FulcioCiClaims) -> &Option<String>| {
                claims.and_then(|c| get(c).clone())
            };
            SignedBy {
                kind: "keyless",
                identity: result.identity().map(|san| san.as_str().to_string()),
                issuer: result.issuer().map(str::to_string),
                repository: claim(|c| &c.source_repository_uri),
                git_ref: claim(|c| &c.source_repository_ref),
                commit: claim(|c| &c.source_repository_digest),
                workflow: claim(|c| &c.build_config_uri),
                ..SignedBy::default()
            }
        }
    };
    let integrated = result.integrated_time();
    let mut signed_at: Vec<SignedAt> = integrated
        .map(|time| SignedAt {
            time: time.to_string(),
            source: "rekor integrated time",
        })
        .into_iter()
        .collect();
    for time in result.verified_timestamps() {
        if Some(*time) != integrated {
            signed_at.push(SignedAt {
                time: time.to_string(),
                source: "RFC 3161 timestamp",
            });
        }
    }
    let logged_in = bundle
        .verification_material
        .tlog_entries
        .iter()
        .map(|entry| {
            let id = entry.log_id.key_id.as_bytes();
            LoggedIn {
                log: root
                    .log_url(id)
                    .map(str::to_string)
                    .unwrap_or_else(|| hex::encode(id)),
                index: u64::try_from(entry.log_index.as_i64()).unwrap_or(0),
                kind: format!(
                    "{} {}",
                    entry.kind_version.kind(),
                    entry.kind_version.version()
                ),
            }
        })
        .collect();
    Evidence {
        signed_by,
        instance: Some(root.instance().to_string()),
        signed_at,
        logged_in,
    }
}

/// The first subject's SHA-256 of an in-toto payload, which a DSSE bundle binds to.
pub(crate) fn first_subject_sha256(payload: &[u8]) -> Option<[u8; 32]> {
    let value: serde_json::Value = serde_json::from_slice(payload).ok()?;
    let hex_digest = value
        .get("subject")?
        .get(0)?
        .get("digest")?
        .get("sha256")?
        .as_str()?;
    hex::decode(hex_digest).ok()?.try_into().ok()
}
