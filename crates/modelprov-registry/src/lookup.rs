//! Reads: what the registry knows about a model digest, a model's versions, a stored statement,
//! and the lineage records and graphs a client's `lineage` commands walk. Each answer holds only
//! what the caller may read: the namespaces whose tokens it holds, those open to anonymous
//! reads, or everything for the server's admin. Nothing tells a caller whether something it
//! may not read exists.

use std::collections::BTreeSet;

use modelprov::digest::RootDigest;
use modelprov::lineage::{Entry, Store, Subgraph, checked_record};
use serde::Serialize;
use serde_json::{Value, json};

use crate::access::Identity;
use crate::error::RegistryError;
use crate::names::check_model_name;
use crate::registry::Registry;

/// The most entries one page of lineage records holds.
pub const MAX_RECORD_PAGE: i64 = 1000;

/// The namespaces a caller may read.
pub(crate) struct Scope {
    all: bool,
    namespaces: BTreeSet<String>,
}

impl Scope {
    /// What `who` may read, given the namespaces open to anonymous reads.
    fn of(who: Option<&Identity>, anonymous: Vec<String>) -> Scope {
        let mut namespaces: BTreeSet<String> = anonymous.into_iter().collect();
        namespaces.extend(who.and_then(|w| w.namespace.clone()));
        Scope {
            all: who.is_some_and(Identity::is_server_admin),
            namespaces,
        }
    }

    /// Whether the model `name` (`namespace/...`) is readable.
    pub(crate) fn sees(&self, name: &str) -> bool {
        self.all
            || name
                .split_once('/')
                .is_some_and(|(namespace, _)| self.namespaces.contains(namespace))
    }
}

/// A published version of a model, as a reader sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VersionInfo {
    /// `namespace/name`.
    pub name: String,
    /// The version.
    pub version: String,
    /// The model digest.
    pub digest: String,
    /// When it was published (RFC 3339).
    pub published_at: String,
    /// Its yank, when it was yanked: the reason and when.
    pub yanked: Option<Value>,
}

impl Registry {
    pub(crate) fn scope(&self, who: Option<&Identity>) -> Result<Scope, RegistryError> {
        if who.is_some_and(Identity::is_server_admin) {
            return Ok(Scope::of(who, Vec::new()));
        }
        let rows = self.store.query_prepared(
            "SELECT name FROM registry_namespaces WHERE anonymous_read",
            &[],
        )?;
        let anonymous = rows
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<Vec<String>, _>>()?;
        Ok(Scope::of(who, anonymous))
    }

    /// What the registry holds about the model `digest`: its names and versions (with yanks),
    /// every statement about it (kind, signer, summary; each was verified against its
    /// namespace's policy when published) and its lineage record.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] when nothing the caller may read is about `digest`.
    pub fn about(
        &self,
        who: Option<&Identity>,
        digest: &RootDigest,
    ) -> Result<Value, RegistryError> {
        // One query for the readable namespaces, the versions, the statements and the lineage
        // record: this is the endpoint a deployment pipeline asks before every rollout.
        let key = digest.0.as_slice();
        let shown = digest.to_string();
        let row = self.store.query_prepared(
            "SELECT ARRAY(SELECT name FROM registry_namespaces WHERE anonymous_read), \
             (SELECT coalesce(json_agg(json_build_object('name', v.name, 'version', v.version, 'digest', $2::text, \
                'published_at', v.published_at, 'yanked', CASE WHEN y.reason IS NULL THEN NULL \
                ELSE json_build_object('reason', y.reason, 'at', y.at) END) ORDER BY v.published_at, v.name, v.version), '[]'::json) \
              FROM registry_versions v LEFT JOIN registry_yanks y ON y.name = v.name AND y.version = v.version \
              WHERE v.digest = $1)::text, \
             (SELECT coalesce(json_agg(json_build_object('id', id, 'name', name, 'version', version, 'kind', kind, \
                'predicate_type', predicate_type, 'signer', signer, 'trusted', true, 'summary', summary::json, \
                'published_at', published_at) ORDER BY id), '[]'::json) \
              FROM registry_statements WHERE digest = $1)::text, \
             r.name, r.version, r.statement, r.bundle IS NOT NULL \
             FROM (SELECT 1) AS one LEFT JOIN lineage_records r ON r.digest = $1",
            &[&key, &shown],
        )?;
        let row = row
            .first()
            .ok_or_else(|| RegistryError::Internal("a query answered no row".into()))?;
        let scope = Scope::of(who, row.try_get(0)?);
        let listed = |column: usize| -> Result<Vec<Value>, RegistryError> {
            let text: String = row.try_get(column)?;
            let items: Vec<Value> = serde_json::from_str(&text)
                .map_err(|e| RegistryError::Internal(format!("the database's JSON: {e}")))?;
            Ok(items
                .into_iter()
                .filter(|item| item["name"].as_str().is_some_and(|name| scope.sees(name)))
                .collect())
        };
        let versions = listed(1)?;
        let statements = listed(2)?;
        let record: Option<(String, String, Vec<u8>, bool)> = match row.try_get(3)? {
            Some(name) => Some((name, row.try_get(4)?, row.try_get(5)?, row.try_get(6)?)),
            None => None,
        };
        let lineage = match record {
            Some((name, version, statement, signed)) if scope.sees(&name) => {
                let record = checked_record(self.location(), key, &name, &version, &statement)
                    .map_err(library)?;
                Some(json!({
                    "id": record.id(),
                    "signed": signed,
                    "parents": record.parents.iter().map(|p| json!({
                        "digest": p.digest.to_string(),
                        "name": p.name,
                        "relation": p.relation.as_str(),
                    })).collect::<Vec<_>>(),
                }))
            }
            _ => None,
        };
        if versions.is_empty() && statements.is_empty() && lineage.is_none() {
            return Err(RegistryError::NotFound(format!(
                "nothing this registry holds about {digest} is visible to you"
            )));
        }
        Ok(json!({
            "digest": digest.to_string(),
            "versions": versions,
            "statements": statements,
            "lineage": lineage,
        }))
    }

    /// Every published version of the model `name` (`namespace/name`), oldest first.
    pub fn model_versions(
        &self,
        who: Option<&Identity>,
        name: &str,
    ) -> Result<Vec<VersionInfo>, RegistryError> {
        check_model_name(name)?;
        if !self.scope(who)?.sees(name) {
            return Err(RegistryError::NotFound(format!(
                "no model {name} is visible to you"
            )));
        }
        self.versions_where("v.name = $1", &[&name])
    }

    fn versions_where(
        &self,
        condition: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<VersionInfo>, RegistryError> {
        let rows = self.store.query_prepared(
            &format!(
                "SELECT v.name, v.version, v.digest, v.published_at, y.reason, y.at FROM registry_versions v \
                 LEFT JOIN registry_yanks y ON y.name = v.name AND y.version = v.version WHERE {condition} ORDER BY v.published_at, v.name, v.version"
            ),
            params,
        )?;
        rows.iter()
            .map(|row| {
                let digest: Vec<u8> = row.try_get(2)?;
                let reason: Option<String> = row.try_get(4)?;
                let at: Option<String> = row.try_get(5)?;
                Ok(VersionInfo {
                    name: row.try_get(0)?,
                    version: row.try_get(1)?,
                    digest: digest_text(&digest),
                    published_at: row.try_get(3)?,
                    yanked: reason.map(|reason| json!({"reason": reason, "at": at})),
                })
            })
            .collect()
    }

    /// The stored statement `id` (its bundle, exactly as published), if the caller may read it.
    pub fn statement(&self, who: Option<&Identity>, id: i64) -> Result<Value, RegistryError> {
        let row = self.client().query_opt(
            "SELECT name, version, kind, bundle FROM registry_statements WHERE id = $1",
            &[&id],
        )?;
        let not_found = || RegistryError::NotFound(format!("no statement {id} is visible to you"));
        let Some(row) = row else {
            return Err(not_found());
        };
        let name: String = row.try_get(0)?;
        if !self.scope(who)?.sees(&name) {
            return Err(not_found());
        }
        let bundle: Vec<u8> = row.try_get(3)?;
        Ok(json!({
            "id": id,
            "name": name,
            "version": row.try_get::<_, String>(1)?,
            "kind": row.try_get::<_, String>(2)?,
            "bundle": String::from_utf8_lossy(&bundle),
        }))
    }

    /// The lineage record of `digest`, if the caller may read it.
    pub fn lineage_by_digest(
        &self,
        who: Option<&Identity>,
        digest: &RootDigest,
    ) -> Result<Option<Entry>, RegistryError> {
        let entry = self.store.by_digest(digest).map_err(library)?;
        let scope = self.scope(who)?;
        Ok(entry.filter(|e| scope.sees(&e.record.name)))
    }

    /// The lineage record `name@version`, if the caller may read it.
    pub fn lineage_by_id(
        &self,
        who: Option<&Identity>,
        name: &str,
        version: &str,
    ) -> Result<Option<Entry>, RegistryError> {
        if !self.scope(who)?.sees(name) {
            return Ok(None);
        }
        self.store.by_id(name, version).map_err(library)
    }

    /// Every lineage record of `name` the caller may read.
    pub fn lineage_versions(
        &self,
        who: Option<&Identity>,
        name: &str,
    ) -> Result<Vec<Entry>, RegistryError> {
        if !self.scope(who)?.sees(name) {
            return Ok(Vec::new());
        }
        self.store.versions(name).map_err(library)
    }

    /// A page of the lineage records the caller may read: up to `limit` after record number
    /// `after`, with the number to continue after (`None` at the end).
    pub fn lineage_page(
        &self,
        who: Option<&Identity>,
        after: i64,
        limit: i64,
    ) -> Result<(Vec<Entry>, Option<i64>), RegistryError> {
        let limit = limit.clamp(1, MAX_RECORD_PAGE);
        let page = self.store.page(after, limit).map_err(library)?;
        let next = if i64::try_from(page.len()).unwrap_or(i64::MAX) < limit {
            None
        } else {
            page.last().map(|(id, _)| *id)
        };
        let scope = self.scope(who)?;
        let entries = page
            .into_iter()
            .map(|(_, e)| e)
            .filter(|e| scope.sees(&e.record.name))
            .collect();
        Ok((entries, next))
    }

    /// `digest` and its ancestors (or descendants), with the edges between them. Models the
    /// caller may not read keep their digest but lose their name and version.
    pub fn lineage_graph(
        &self,
        who: Option<&Identity>,
        digest: &RootDigest,
        ancestors: bool,
    ) -> Result<Subgraph, RegistryError> {
        let mut graph = if ancestors {
            self.store.ancestors(digest)
        } else {
            self.store.descendants(digest)
        }
        .map_err(library)?;
        let scope = self.scope(who)?;
        for node in &mut graph.nodes {
            if node.name.as_deref().is_some_and(|name| !scope.sees(name)) {
                node.name = None;
                node.version = None;
            }
        }
        Ok(graph)
    }

    /// The manifest kept with the lineage record of `digest`, if the caller may read the record.
    pub fn manifest(
        &self,
        who: Option<&Identity>,
        digest: &RootDigest,
    ) -> Result<Option<String>, RegistryError> {
        if self.lineage_by_digest(who, digest)?.is_none() {
            return Ok(None);
        }
        self.store.manifest(digest).map_err(library)
    }

    /// Keeps `manifest` (modelprov manifest JSON) with the lineage record of `digest`, for
    /// `lineage diff` and `verify --id`: a publisher of the record's namespace, and the
    /// manifest's root digest must be `digest`. The first one kept stays; keeping it is audited.
    pub fn put_manifest(
        &self,
        who: Option<&Identity>,
        digest: &RootDigest,
        manifest: &str,
    ) -> Result<(), RegistryError> {
        let Some(entry) = self.store.by_digest(digest).map_err(library)? else {
            return Err(RegistryError::NotFound(format!(
                "no lineage record holds {digest}: publish the record before its manifest"
            )));
        };
        let namespace = check_model_name(&entry.record.name)?;
        let settings = self.find_namespace(namespace)?;
        crate::access::authorize(
            who,
            crate::access::Action::Publish,
            namespace,
            settings.anonymous_read,
        )?;
        let parsed =
            modelprov::manifest::parse_manifest(manifest, std::path::Path::new("the manifest"))
                .map_err(|e| RegistryError::Invalid(e.to_string()))?;
        if parsed.root_digest() != *digest {
            return Err(RegistryError::NotTrusted(format!(
                "the manifest is of the model {}, not {digest}",
                parsed.root_digest()
            )));
        }
        // The first manifest kept stays (any other with the same root lists the same files).
        self.write(|transaction| {
            let kept = transaction.execute(
                "INSERT INTO lineage_manifests (digest, manifest) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING",
                &[&digest.0.as_slice(), &manifest],
            )?;
            if kept == 1 {
                let body = json!({"digest": digest.to_string(), "manifest": manifest});
                crate::registry::append(
                    transaction,
                    who,
                    Some(namespace),
                    "manifest.put",
                    &body.to_string(),
                )?;
            }
            Ok(())
        })
    }
}

fn digest_text(bytes: &[u8]) -> String {
    <[u8; 32]>::try_from(bytes).map_or_else(|_| "(damaged)".into(), |d| RootDigest(d).to_string())
}

/// A lineage store's error, as the registry answers it.
fn library(error: modelprov::Error) -> RegistryError {
    match error {
        modelprov::Error::InvalidInput { problem, .. } => {
            RegistryError::Internal(format!("a stored lineage record is damaged: {problem}"))
        }
        other => RegistryError::Unavailable {
            source: Box::new(other),
        },
    }
}
