//! Publishing: a model version (`namespace/name@version` → digest, immutable once set) with the
//! signed statements about it, every one verified against the namespace's trust policy before
//! anything is written; and yanking a version, with a reason that is kept.

use std::collections::BTreeMap;

use modelprov::digest::RootDigest;
use modelprov::lineage::{Entry, insert_within};
use modelprov::postgres_schema::PreparedTransaction;
use modelprov::trust_policy::TrustPolicy;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::access::{Action, Identity, authorize};
use crate::audit::now;
use crate::error::RegistryError;
use crate::names::{check_model_name, check_version};
use crate::registry::{Registry, append};
use crate::statements::{Verified, verify_statement};

/// The most statements one publication carries.
pub const MAX_STATEMENTS: usize = 16;
/// The most publications one request carries.
pub const MAX_PUBLICATIONS: usize = 1000;
/// The longest yank reason.
pub const MAX_REASON_CHARS: usize = 1000;

/// A model version to publish with the statements about it (Sigstore bundles, JSON text).
#[derive(Clone, Debug)]
pub struct Publication {
    /// `namespace/name`.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The signed statements: an OMS signature, a card, SBOMs, scan reports, a lineage record.
    pub bundles: Vec<String>,
}

/// What publishing one version did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Published {
    /// `namespace/name`.
    pub name: String,
    /// The version.
    pub version: String,
    /// The model digest every statement is about.
    pub digest: String,
    /// Whether the version was new.
    pub new_version: bool,
    /// Statements stored by this request.
    pub added: usize,
    /// Statements that were stored already (the same bundle).
    pub unchanged: usize,
    /// Each statement's kind, in the order given.
    pub kinds: Vec<&'static str>,
}

/// A version's yank.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Yank {
    /// `namespace/name`.
    pub name: String,
    /// The version.
    pub version: String,
    /// Why, as its author said.
    pub reason: String,
    /// When (RFC 3339).
    pub at: String,
}

/// Publications whose every statement is verified ([`Registry::check_publications`]): what is
/// left is to store them ([`Registry::store_together`]), the only part done under the write lock.
#[derive(Debug)]
pub struct CheckedPublications {
    who: Option<Identity>,
    items: Vec<Checked>,
}

#[derive(Debug)]
struct Checked {
    publication: Publication,
    namespace: String,
    digest: RootDigest,
    verified: Vec<Verified>,
}

/// What [`Registry::store_together`] answers each request: what it stored, or why it was refused.
pub type StoreOutcome = Result<Vec<Published>, RegistryError>;

impl Registry {
    /// Publishes every publication in one transaction: all are stored or none. Each statement is
    /// verified against its namespace's policy first (refused with the reason when it is not
    /// trusted), all of a version's statements must be about one digest, and a version already
    /// published keeps its digest (a different one is a conflict). Publishing what is stored
    /// changes nothing and is not an error.
    pub fn publish(
        &self,
        who: Option<&Identity>,
        publications: &[Publication],
    ) -> Result<Vec<Published>, RegistryError> {
        let checked = self.check_publications(who, publications.to_vec())?;
        self.store_together(vec![checked])?
            .pop()
            .expect("one answer for one request")
    }

    /// The first half of [`Registry::publish`]: checks that `who` may publish each publication
    /// and verifies every statement, without taking the write lock (this is where the time
    /// goes, so concurrent requests do it in parallel).
    pub fn check_publications(
        &self,
        who: Option<&Identity>,
        publications: Vec<Publication>,
    ) -> Result<CheckedPublications, RegistryError> {
        if publications.is_empty() || publications.len() > MAX_PUBLICATIONS {
            return Err(RegistryError::Invalid(format!(
                "a request publishes 1 to {MAX_PUBLICATIONS} versions"
            )));
        }
        let mut policies: BTreeMap<String, TrustPolicy> = BTreeMap::new();
        let mut items = Vec::with_capacity(publications.len());
        for publication in publications {
            let namespace = check_model_name(&publication.name)?.to_string();
            check_version(&publication.version)?;
            if !policies.contains_key(&namespace) {
                let settings = self.find_namespace(&namespace)?;
                authorize(who, Action::Publish, &namespace, settings.anonymous_read)?;
                let policy = TrustPolicy::parse(
                    &settings.policy,
                    std::path::Path::new("namespace policy"),
                    None,
                )
                .map_err(|e| RegistryError::Internal(format!("a stored policy: {e}")))?;
                policies.insert(namespace.clone(), policy);
            }
            let policy = &policies[&namespace];
            items.push(check(publication, namespace, policy)?);
        }
        Ok(CheckedPublications {
            who: who.cloned(),
            items,
        })
    }

    /// The second half of [`Registry::publish`], for one request or several (a server's group
    /// commit): one transaction under the write lock, each request in a savepoint of its own,
    /// so a request refused (a version published with another digest) is answered why and the
    /// others are stored. The outer error is the transaction's (the database failed, or the
    /// commit), or the refusal of a request stored alone: then none is stored.
    pub fn store_together(
        &self,
        requests: Vec<CheckedPublications>,
    ) -> Result<Vec<StoreOutcome>, RegistryError> {
        let location = self.location().to_path_buf();
        self.write(|transaction| {
            let store_request = |transaction: &mut PreparedTransaction<'_, '_>,
                                 request: &CheckedPublications| {
                request
                    .items
                    .iter()
                    .map(|item| store(transaction, request.who.as_ref(), &location, item))
                    .collect::<StoreOutcome>()
            };
            if let [request] = requests.as_slice() {
                // Alone in its transaction: no savepoint needed; its refusal is the outer error
                // and rolls the transaction back.
                return store_request(transaction, request).map(|stored| vec![Ok(stored)]);
            }
            let mut answers = Vec::with_capacity(requests.len());
            for request in &requests {
                answers.push(transaction.savepoint(|t| store_request(t, request))?);
            }
            Ok(answers)
        })
    }

    /// Yanks `name@version` with `reason`: it stays published (its digest and statements are
    /// still answered, marked yanked) and the yank is never undone. Yanking a yanked version
    /// returns the first yank.
    pub fn yank(
        &self,
        who: Option<&Identity>,
        name: &str,
        version: &str,
        reason: &str,
    ) -> Result<Yank, RegistryError> {
        let namespace = check_model_name(name)?;
        check_version(version)?;
        let settings = self.find_namespace(namespace)?;
        authorize(who, Action::Yank, namespace, settings.anonymous_read)?;
        if reason.trim().is_empty()
            || reason.chars().count() > MAX_REASON_CHARS
            || reason.chars().any(char::is_control)
        {
            return Err(RegistryError::Invalid(format!(
                "a yank needs a reason: 1 to {MAX_REASON_CHARS} characters, without control characters"
            )));
        }
        self.write(|transaction| {
            let published = transaction.query_opt(
                "SELECT 1 FROM registry_versions WHERE name = $1 AND version = $2",
                &[&name, &version],
            )?;
            if published.is_none() {
                return Err(RegistryError::NotFound(format!(
                    "{name}@{version} is not published"
                )));
            }
            if let Some(row) = transaction.query_opt(
                "SELECT reason, at FROM registry_yanks WHERE name = $1 AND version = $2",
                &[&name, &version],
            )? {
                return Ok(Yank {
                    name: name.to_string(),
                    version: version.to_string(),
                    reason: row.try_get(0)?,
                    at: row.try_get(1)?,
                });
            }
            let at = now();
            transaction.execute(
                "INSERT INTO registry_yanks (name, version, reason, at, token_id) VALUES ($1, $2, $3, $4, $5)",
                &[&name, &version, &reason, &at, &who.map(|w| w.token_id)],
            )?;
            let body = json!({"name": name, "version": version, "reason": reason});
            append(transaction, who, Some(namespace), "version.yank", &body.to_string())?;
            Ok(Yank {
                name: name.to_string(),
                version: version.to_string(),
                reason: reason.to_string(),
                at,
            })
        })
    }
}

/// Verifies a publication's statements and that they agree on one digest.
fn check(
    publication: Publication,
    namespace: String,
    policy: &TrustPolicy,
) -> Result<Checked, RegistryError> {
    let id = format!("{}@{}", publication.name, publication.version);
    if publication.bundles.is_empty() || publication.bundles.len() > MAX_STATEMENTS {
        return Err(RegistryError::Invalid(format!(
            "{id}: publishing needs 1 to {MAX_STATEMENTS} signed statements (the registry stores nothing unsigned)"
        )));
    }
    let mut verified = Vec::with_capacity(publication.bundles.len());
    for (index, bundle) in publication.bundles.iter().enumerate() {
        verified.push(
            verify_statement(
                policy,
                bundle.as_bytes(),
                &publication.name,
                &publication.version,
                index + 1,
            )
            .map_err(|e| in_publication(&id, e))?,
        );
    }
    let digest = verified[0].digest;
    if let Some((index, other)) = verified
        .iter()
        .enumerate()
        .find(|(_, v)| v.digest != digest)
    {
        return Err(RegistryError::Invalid(format!(
            "{id}: statement {} is about {}, statement 1 about {digest}: a version's statements are about one model",
            index + 1,
            other.digest
        )));
    }
    if verified.iter().filter(|v| v.record.is_some()).count() > 1 {
        return Err(RegistryError::Invalid(format!(
            "{id}: a version has one lineage record"
        )));
    }
    Ok(Checked {
        publication,
        namespace,
        digest,
        verified,
    })
}

/// Stores one checked publication in the write's transaction.
fn store(
    transaction: &mut PreparedTransaction<'_, '_>,
    who: Option<&Identity>,
    location: &std::path::Path,
    item: &Checked,
) -> Result<Published, RegistryError> {
    let Publication {
        name,
        version,
        bundles,
    } = &item.publication;
    let digest = item.digest.0.as_slice();
    let at = now();
    let new_version = transaction.execute(
        "INSERT INTO registry_versions (name, version, namespace, digest, published_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name, version) DO NOTHING",
        &[name, version, &item.namespace, &digest, &at],
    )? == 1;
    if !new_version {
        let stored: Vec<u8> = transaction
            .query_one(
                "SELECT digest FROM registry_versions WHERE name = $1 AND version = $2",
                &[name, version],
            )?
            .try_get(0)?;
        if stored != digest {
            return Err(RegistryError::Conflict(format!(
                "{name}@{version} is published with digest {}; a version never changes (publish a new version)",
                RootDigest(stored.try_into().unwrap_or([0; 32]))
            )));
        }
    }
    let mut added = 0;
    for (verified, bundle) in item.verified.iter().zip(bundles) {
        if let Some((record, statement)) = &verified.record {
            let entry = Entry {
                record: record.clone(),
                statement: statement.clone(),
                bundle: Some(bundle.as_bytes().to_vec()),
                recorded_at: at.clone(),
            };
            insert_within(transaction, location, std::slice::from_ref(&entry)).map_err(
                |e| match e {
                    modelprov::Error::InvalidInput { problem, .. } => {
                        RegistryError::Conflict(format!("{name}@{version}: {problem}"))
                    }
                    other => RegistryError::Unavailable {
                        source: Box::new(other),
                    },
                },
            )?;
        }
        let bundle_sha256 = Sha256::digest(bundle.as_bytes()).to_vec();
        added += transaction.execute(
            "INSERT INTO registry_statements (name, version, digest, kind, predicate_type, signer, summary, bundle, bundle_sha256, published_at, token_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (name, version, bundle_sha256) DO NOTHING",
            &[
                name,
                version,
                &digest,
                &verified.kind.as_str(),
                &verified.predicate_type,
                &verified.signer,
                &verified.summary.to_string(),
                &bundle.as_bytes(),
                &bundle_sha256,
                &at,
                &who.map(|w| w.token_id),
            ],
        )?;
    }
    let added = usize::try_from(added).unwrap_or(usize::MAX);
    if new_version || added > 0 {
        // The exact bundles accepted, as given.
        let body = json!({
            "name": name,
            "version": version,
            "digest": item.digest.to_string(),
            "statements": bundles,
        });
        append(
            transaction,
            who,
            Some(&item.namespace),
            "publish",
            &body.to_string(),
        )?;
    }
    Ok(Published {
        name: name.clone(),
        version: version.clone(),
        digest: item.digest.to_string(),
        new_version,
        added,
        unchanged: bundles.len() - added,
        kinds: item.verified.iter().map(|v| v.kind.as_str()).collect(),
    })
}

/// An error about one publication of a request, naming it.
fn in_publication(id: &str, error: RegistryError) -> RegistryError {
    match error {
        RegistryError::Invalid(m) => RegistryError::Invalid(format!("{id}: {m}")),
        RegistryError::NotTrusted(m) => RegistryError::NotTrusted(format!("{id}: {m}")),
        other => other,
    }
}
