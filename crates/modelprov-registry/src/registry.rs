//! The registry on its database: namespaces, tokens and the audit log. Every write checks who
//! may make it ([`crate::access`]), is one transaction under the registry's write lock, and
//! appends its audit entry in that same transaction: an accepted write and its entry are stored
//! together or not at all.

use std::sync::MutexGuard;

use modelprov::lineage::PostgresStore;
use modelprov::postgres_schema::PreparedTransaction;
use modelprov::trust_policy::TrustPolicy;
use postgres::Client;
use serde::Serialize;

use crate::access::{Action, Identity, authorize};
use crate::audit::{AuditEntry, canonical_bytes, now};
use crate::error::RegistryError;
use crate::names::check_namespace;
use crate::schema::{MIGRATIONS, WRITE_LOCK, quoted_identifier, server_grants};
use crate::token::{Role, TokenSecret};

/// The longest trust policy a namespace keeps.
pub const MAX_POLICY_BYTES: usize = 64 << 10;
/// The longest token label.
pub const MAX_LABEL_CHARS: usize = 200;
/// The most audit entries one read returns.
pub const MAX_AUDIT_PAGE: i64 = 1000;

/// A namespace and its settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Namespace {
    /// Its name ([`check_namespace`]).
    pub name: String,
    /// The trust policy (TOML, docs/trust-policy.md) every statement published here must be
    /// signed under, as given.
    pub policy: String,
    /// Whether its content is readable without a token.
    pub anonymous_read: bool,
    /// When it was created (RFC 3339).
    pub created_at: String,
}

/// A token as the registry shows it: never its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// Its id.
    pub id: i64,
    /// Its namespace; `None` for a server admin token.
    pub namespace: Option<String>,
    /// Its role there.
    pub role: Role,
    /// What it is for, as its creator said.
    pub label: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

/// A connection to the registry's database: the registry's tables and the lineage records
/// ([`PostgresStore`]) on one connection, so a write of both is one transaction.
pub struct Registry {
    pub(crate) store: PostgresStore,
}

impl Registry {
    /// Connects to the database at `url`, creating or migrating the registry's and the lineage
    /// tables.
    pub fn connect(url: &str) -> Result<Registry, RegistryError> {
        let store = PostgresStore::connect(url).map_err(library)?;
        let location = store.location().to_path_buf();
        modelprov::postgres_schema::migrate(
            &mut store.connection(),
            &location,
            "registry",
            MIGRATIONS,
        )
        .map_err(library)?;
        Ok(Registry { store })
    }

    /// Connects to a database [`Registry::connect`] has prepared (what a server's pool does for
    /// each connection after the first; checking the schema versions is cheap).
    pub fn open(url: &str) -> Result<Registry, RegistryError> {
        Registry::connect(url)
    }

    /// Grants the database role `role` what `modelprov serve` needs to run on this database,
    /// and nothing more ([`Registry::connect`] as the tables' owner first). A server running as
    /// such a role cannot change or remove what was published even by dropping the triggers
    /// that refuse it: it owns no table (docs/registry.md).
    ///
    /// # Errors
    /// [`RegistryError::Invalid`] for a name no role can have or a role that does not exist;
    /// the database's error when the grants fail.
    pub fn grant_server_role(&self, role: &str) -> Result<(), RegistryError> {
        let invalid_name =
            || RegistryError::Invalid(format!("{role:?} is not a database role name"));
        let quoted_role = quoted_identifier(role).ok_or_else(invalid_name)?;
        let mut client = self.client();
        let schema: Option<String> = client.query_one("SELECT current_schema()", &[])?.get(0);
        let schema = schema.ok_or_else(|| {
            RegistryError::Schema("the connection has no current schema (search_path)".into())
        })?;
        let schema = quoted_identifier(&schema)
            .ok_or_else(|| RegistryError::Schema(format!("{schema:?} is not a schema name")))?;
        let mut transaction = client.transaction()?;
        match transaction.batch_execute(&server_grants(&schema, &quoted_role)) {
            Err(e) if e.code() == Some(&postgres::error::SqlState::UNDEFINED_OBJECT) => {
                return Err(RegistryError::Invalid(format!(
                    "there is no database role {role:?}: create it first (CREATE ROLE ... LOGIN)"
                )));
            }
            other => other?,
        }
        transaction.commit()?;
        Ok(())
    }

    /// Whether the connection has failed for good (the server went away): a pool drops it.
    pub fn is_closed(&self) -> bool {
        self.client().is_closed()
    }

    /// The server and database, without credentials.
    pub fn location(&self) -> &std::path::Path {
        self.store.location()
    }

    pub(crate) fn client(&self) -> MutexGuard<'_, Client> {
        self.store.connection()
    }

    /// Whether the database answers (for a readiness check).
    pub fn ping(&self) -> Result<(), RegistryError> {
        self.client().batch_execute("SELECT 1")?;
        Ok(())
    }

    /// A new server admin token, which may do everything: what `modelprov serve` makes when it
    /// starts without one. Audited with no token as its author.
    pub fn create_admin_token(&self, label: &str) -> Result<TokenSecret, RegistryError> {
        check_label(label)?;
        let secret = TokenSecret::generate()?;
        self.write(|transaction| {
            let at = now();
            let id: i64 = transaction
                .query_one(
                    "INSERT INTO registry_tokens (hash, namespace, role, label, created_at) VALUES ($1, NULL, 'admin', $2, $3) RETURNING id",
                    &[&secret.hash().as_slice(), &label, &at],
                )?
                .try_get(0)?;
            let body = serde_json::json!({"id": id, "role": "admin", "label": label});
            append(transaction, None, None, "token.create", &body.to_string())
        })?;
        Ok(secret)
    }

    /// Who `token` is; `None` for no token.
    ///
    /// # Errors
    /// [`RegistryError::Unauthenticated`] for a malformed, unknown or revoked token.
    pub fn authenticate(&self, token: Option<&str>) -> Result<Option<Identity>, RegistryError> {
        let Some(text) = token else {
            return Ok(None);
        };
        let secret = TokenSecret::parse(text)?;
        let row = self
            .store
            .query_prepared(
                "SELECT id, namespace, role, revoked_at IS NOT NULL FROM registry_tokens WHERE hash = $1",
                &[&secret.hash().as_slice()],
            )?
            .pop();
        let Some(row) = row else {
            return Err(RegistryError::Unauthenticated(
                "the token is not known to this registry".into(),
            ));
        };
        let id: i64 = row.try_get(0)?;
        if row.try_get::<_, bool>(3)? {
            return Err(RegistryError::Unauthenticated(format!(
                "token {id} was revoked"
            )));
        }
        Ok(Some(Identity {
            token_id: id,
            namespace: row.try_get(1)?,
            role: Role::parse(row.try_get(2)?)?,
        }))
    }

    /// Creates namespace `name` with its trust policy (TOML text; it may not name files).
    pub fn create_namespace(
        &self,
        who: Option<&Identity>,
        name: &str,
        policy: &str,
        anonymous_read: bool,
    ) -> Result<Namespace, RegistryError> {
        authorize(who, Action::CreateNamespace, name, false)?;
        check_namespace(name)?;
        check_policy(policy)?;
        let created_at = now();
        self.write(|transaction| {
            let inserted = transaction.execute(
                "INSERT INTO registry_namespaces (name, policy, anonymous_read, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
                &[&name, &policy, &anonymous_read, &created_at],
            )?;
            if inserted == 0 {
                return Err(RegistryError::Conflict(format!(
                    "namespace '{name}' exists already"
                )));
            }
            let body = serde_json::json!({"name": name, "policy": policy, "anonymous_read": anonymous_read});
            append(transaction, who, Some(name), "namespace.create", &body.to_string())
        })?;
        Ok(Namespace {
            name: name.to_string(),
            policy: policy.to_string(),
            anonymous_read,
            created_at,
        })
    }

    /// The namespace `name`, if `who` may read it.
    pub fn namespace(
        &self,
        who: Option<&Identity>,
        name: &str,
    ) -> Result<Namespace, RegistryError> {
        let namespace = self.find_namespace(name)?;
        authorize(who, Action::Read, name, namespace.anonymous_read)?;
        Ok(namespace)
    }

    /// The namespace `name`, whoever asks (callers authorise).
    pub(crate) fn find_namespace(&self, name: &str) -> Result<Namespace, RegistryError> {
        check_namespace(name)?;
        let row = self.client().query_opt(
            "SELECT policy, anonymous_read, created_at FROM registry_namespaces WHERE name = $1",
            &[&name],
        )?;
        let Some(row) = row else {
            return Err(RegistryError::NotFound(format!("no namespace '{name}'")));
        };
        Ok(Namespace {
            name: name.to_string(),
            policy: row.try_get(0)?,
            anonymous_read: row.try_get(1)?,
            created_at: row.try_get(2)?,
        })
    }

    /// A new token with `role` in `namespace`; its secret is returned once and stored only as a
    /// hash.
    pub fn create_token(
        &self,
        who: Option<&Identity>,
        namespace: &str,
        role: Role,
        label: &str,
    ) -> Result<(TokenInfo, TokenSecret), RegistryError> {
        let settings = self.find_namespace(namespace)?;
        authorize(
            who,
            Action::ManageTokens,
            namespace,
            settings.anonymous_read,
        )?;
        check_label(label)?;
        let secret = TokenSecret::generate()?;
        let created_at = now();
        let id = self.write(|transaction| {
            let id: i64 = transaction
                .query_one(
                    "INSERT INTO registry_tokens (hash, namespace, role, label, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    &[&secret.hash().as_slice(), &namespace, &role.as_str(), &label, &created_at],
                )?
                .try_get(0)?;
            let body = serde_json::json!({"id": id, "namespace": namespace, "role": role, "label": label});
            append(transaction, who, Some(namespace), "token.create", &body.to_string())?;
            Ok(id)
        })?;
        let info = TokenInfo {
            id,
            namespace: Some(namespace.to_string()),
            role,
            label: label.to_string(),
            created_at,
            revoked_at: None,
        };
        Ok((info, secret))
    }

    /// Revokes token `id`: it authenticates no request after this returns. Revoking a revoked
    /// token changes nothing and is not an error.
    pub fn revoke_token(
        &self,
        who: Option<&Identity>,
        id: i64,
    ) -> Result<TokenInfo, RegistryError> {
        let token = self.token(id)?;
        match &token.namespace {
            Some(namespace) => authorize(who, Action::ManageTokens, namespace, false)?,
            // Only a server admin revokes a server admin token.
            None => authorize(who, Action::CreateNamespace, "(server)", false)?,
        }
        if token.revoked_at.is_some() {
            return Ok(token);
        }
        let revoked_at = now();
        self.write(|transaction| {
            transaction.execute(
                "UPDATE registry_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                &[&revoked_at, &id],
            )?;
            let body = serde_json::json!({"id": id});
            append(
                transaction,
                who,
                token.namespace.as_deref(),
                "token.revoke",
                &body.to_string(),
            )
        })?;
        Ok(TokenInfo {
            revoked_at: Some(revoked_at),
            ..token
        })
    }

    fn token(&self, id: i64) -> Result<TokenInfo, RegistryError> {
        let row = self.client().query_opt(
            "SELECT namespace, role, label, created_at, revoked_at FROM registry_tokens WHERE id = $1",
            &[&id],
        )?;
        let Some(row) = row else {
            return Err(RegistryError::NotFound(format!("no token {id}")));
        };
        Ok(TokenInfo {
            id,
            namespace: row.try_get(0)?,
            role: Role::parse(row.try_get(1)?)?,
            label: row.try_get(2)?,
            created_at: row.try_get(3)?,
            revoked_at: row.try_get(4)?,
        })
    }

    /// Audit entries after `after` (at most `limit`, up to [`MAX_AUDIT_PAGE`]), oldest first: the
    /// whole log for a server admin, a namespace's entries for its admins.
    pub fn audit(
        &self,
        who: Option<&Identity>,
        namespace: Option<&str>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, RegistryError> {
        match namespace {
            Some(name) => {
                let settings = self.find_namespace(name)?;
                authorize(who, Action::ManageTokens, name, settings.anonymous_read)?;
            }
            None => authorize(who, Action::CreateNamespace, "(server)", false)?,
        }
        let limit = limit.clamp(0, MAX_AUDIT_PAGE);
        let rows = self.client().query(
            "SELECT seq, at, token_id, namespace, action, body, entry FROM registry_audit \
             WHERE seq > $1 AND ($2::text IS NULL OR namespace = $2) ORDER BY seq LIMIT $3",
            &[&after, &namespace, &limit],
        )?;
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    seq: row.try_get(0)?,
                    at: row.try_get(1)?,
                    token_id: row.try_get(2)?,
                    namespace: row.try_get(3)?,
                    action: row.try_get(4)?,
                    body: row.try_get(5)?,
                    entry: row.try_get(6)?,
                })
            })
            .collect()
    }

    /// Runs `work` in one transaction under the write lock, committing when it succeeds.
    pub(crate) fn write<T>(
        &self,
        work: impl FnOnce(&mut PreparedTransaction<'_, '_>) -> Result<T, RegistryError>,
    ) -> Result<T, RegistryError> {
        let mut client = self.client();
        let mut transaction =
            modelprov::postgres_schema::locked_transaction(&mut client, WRITE_LOCK)?;
        let value = work(&mut PreparedTransaction::new(
            &mut transaction,
            self.store.statements(),
        ))?;
        transaction.commit()?;
        Ok(value)
    }
}

/// Appends the audit entry of a write, in the write's transaction (under the write lock, so
/// the next sequence number is this one's).
pub(crate) fn append(
    transaction: &mut PreparedTransaction<'_, '_>,
    who: Option<&Identity>,
    namespace: Option<&str>,
    action: &str,
    body: &str,
) -> Result<(), RegistryError> {
    let seq: i64 = transaction
        .query_one("SELECT COALESCE(max(seq), 0) + 1 FROM registry_audit", &[])?
        .try_get(0)?;
    let at = now();
    let token_id = who.map(|w| w.token_id);
    let entry = canonical_bytes(seq, &at, token_id, namespace, action, body.as_bytes());
    transaction.execute(
        "INSERT INTO registry_audit (seq, at, token_id, namespace, action, body, entry) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[&seq, &at, &token_id, &namespace, &action, &body.as_bytes(), &entry],
    )?;
    Ok(())
}

fn check_label(label: &str) -> Result<(), RegistryError> {
    if label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
        return Err(RegistryError::Invalid(format!(
            "a token label is at most {MAX_LABEL_CHARS} characters, without control characters"
        )));
    }
    Ok(())
}

/// A namespace's policy must be one modelprov can verify with, and may not name files on the
/// server.
fn check_policy(policy: &str) -> Result<(), RegistryError> {
    if policy.len() > MAX_POLICY_BYTES {
        return Err(RegistryError::Invalid(format!(
            "the trust policy is larger than {} KiB",
            MAX_POLICY_BYTES >> 10
        )));
    }
    TrustPolicy::parse(policy, std::path::Path::new("policy"), None)
        .map(drop)
        .map_err(|e| RegistryError::Invalid(e.to_string()))
}

/// A library error from connecting or migrating.
fn library(error: modelprov::Error) -> RegistryError {
    match error {
        modelprov::Error::Usage(message) => RegistryError::Invalid(message),
        modelprov::Error::InvalidInput { .. } => RegistryError::Schema(error.to_string()),
        other => RegistryError::Unavailable {
            source: Box::new(other),
        },
    }
}
