//! Signing a record after it was stored: the signature is over the exact stored Statement, so
//! the record (and its identity) does not change. A record holds one signature; one that is
//! already there is never replaced.

use std::path::Path;

use super::chain::signature_problem;
use super::store::{Entry, Store};
use crate::error::{Error, Result};
use crate::keys::PrivateKey;
use crate::signing::sign_statement;
use crate::trust_policy::TrustPolicy;

/// What [`sign_record`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignOutcome {
    /// The record was unsigned; it now carries the signature.
    Signed,
    /// The record already carries a signature by this key; nothing changed.
    AlreadySigned,
}

/// Signs the stored record `entry` with `key`. Refused, with nothing changed, when the record is
/// already signed otherwise (another key, or a signature that does not verify): replacing it
/// would silently change who vouches for the record. `registry` names the store in errors.
pub fn sign_record(
    store: &mut dyn Store,
    entry: &Entry,
    key: &PrivateKey,
    registry: &Path,
) -> Result<SignOutcome> {
    if let Some(bundle) = &entry.bundle {
        return judge_existing(entry, bundle, key, registry);
    }
    let bundle = sign_statement(&entry.statement, key, &[])?.to_json();
    if store.add_signature(&entry.record.digest, &entry.statement, &bundle)? {
        return Ok(SignOutcome::Signed);
    }
    // Another process signed it in the meantime: judge the signature it stored.
    let stored = store.by_digest(&entry.record.digest)?.ok_or_else(|| {
        Error::invalid(
            registry,
            format!("{} is no longer recorded", entry.record.id()),
        )
    })?;
    match &stored.bundle {
        Some(bundle) => judge_existing(&stored, bundle, key, registry),
        None => Err(Error::invalid(
            registry,
            format!("{} could not be signed", entry.record.id()),
        )),
    }
}

fn judge_existing(
    entry: &Entry,
    bundle: &[u8],
    key: &PrivateKey,
    registry: &Path,
) -> Result<SignOutcome> {
    let trusted = TrustPolicy::of_keys(vec![key.public_key()]);
    match signature_problem(bundle, &entry.statement, &trusted, &entry.record.name) {
        None => Ok(SignOutcome::AlreadySigned),
        Some(_) => Err(Error::invalid(
            registry,
            format!(
                "refused, nothing changed: {} is already signed, not by this key; a record keeps the one signature it has",
                entry.record.id()
            ),
        )),
    }
}
