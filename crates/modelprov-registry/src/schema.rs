//! The registry's tables. What must never happen is refused by the database itself, whatever
//! code connects: an audit entry is never updated, deleted or truncated, its sequence has no
//! gaps, a token's secret hash and role never change, and a revoked token stays revoked; a
//! version's digest, a yank and a published statement are never changed or removed.
//! (A superuser or the tables' owner can still drop a trigger; run the server as a role that
//! does not own them for that guarantee too: docs/registry.md.)

/// Schema migrations of the registry component; entry N brings it from version N to N+1.
pub(crate) const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE registry_namespaces (
    name           TEXT PRIMARY KEY
                   CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$' AND position('..' IN name) = 0),
    policy         TEXT NOT NULL,
    anonymous_read BOOLEAN NOT NULL,
    created_at     TEXT NOT NULL
);

CREATE TABLE registry_tokens (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash       BYTEA NOT NULL UNIQUE CHECK (octet_length(hash) = 32),
    namespace  TEXT REFERENCES registry_namespaces (name),
    role       TEXT NOT NULL CHECK (role IN ('reader', 'publisher', 'admin')),
    label      TEXT NOT NULL CHECK (length(label) <= 200),
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    CHECK (namespace IS NOT NULL OR role = 'admin')
);

CREATE FUNCTION registry_tokens_only_revoke() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'tokens are revoked, never deleted' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.id <> OLD.id OR NEW.hash <> OLD.hash OR NEW.namespace IS DISTINCT FROM OLD.namespace
       OR NEW.role <> OLD.role OR NEW.label <> OLD.label OR NEW.created_at <> OLD.created_at
       OR OLD.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION 'a token can only be revoked, once' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER registry_tokens_only_revoke BEFORE UPDATE OR DELETE ON registry_tokens
    FOR EACH ROW EXECUTE FUNCTION registry_tokens_only_revoke();

CREATE TABLE registry_audit (
    seq       BIGINT PRIMARY KEY CHECK (seq > 0),
    at        TEXT NOT NULL,
    token_id  BIGINT REFERENCES registry_tokens (id),
    namespace TEXT,
    action    TEXT NOT NULL,
    body      BYTEA NOT NULL,
    entry     BYTEA NOT NULL
);

CREATE FUNCTION registry_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER registry_audit_no_change BEFORE UPDATE OR DELETE ON registry_audit
    FOR EACH ROW EXECUTE FUNCTION registry_audit_append_only();
CREATE TRIGGER registry_audit_no_truncate BEFORE TRUNCATE ON registry_audit
    FOR EACH STATEMENT EXECUTE FUNCTION registry_audit_append_only();

CREATE FUNCTION registry_audit_next_in_sequence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq <> COALESCE((SELECT max(seq) FROM registry_audit), 0) + 1 THEN
        RAISE EXCEPTION 'audit entry % is not the next in sequence', NEW.seq
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER registry_audit_gapless BEFORE INSERT ON registry_audit
    FOR EACH ROW EXECUTE FUNCTION registry_audit_next_in_sequence();
",
    r"
CREATE FUNCTION registry_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are never changed or removed: % is refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TABLE registry_versions (
    name         TEXT NOT NULL,
    version      TEXT NOT NULL,
    namespace    TEXT NOT NULL REFERENCES registry_namespaces (name),
    digest       BYTEA NOT NULL CHECK (octet_length(digest) = 32),
    published_at TEXT NOT NULL,
    PRIMARY KEY (name, version),
    CHECK (left(name, length(namespace) + 1) = namespace || '/')
);
CREATE INDEX registry_versions_by_digest ON registry_versions (digest);

CREATE TABLE registry_yanks (
    name      TEXT NOT NULL,
    version   TEXT NOT NULL,
    reason    TEXT NOT NULL,
    at        TEXT NOT NULL,
    token_id  BIGINT REFERENCES registry_tokens (id),
    PRIMARY KEY (name, version),
    FOREIGN KEY (name, version) REFERENCES registry_versions (name, version)
);

CREATE TABLE registry_statements (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           TEXT NOT NULL,
    version        TEXT NOT NULL,
    digest         BYTEA NOT NULL CHECK (octet_length(digest) = 32),
    kind           TEXT NOT NULL CHECK (kind IN ('signature', 'card', 'sbom', 'scan', 'lineage')),
    predicate_type TEXT NOT NULL,
    signer         TEXT NOT NULL,
    summary        TEXT NOT NULL,
    bundle         BYTEA NOT NULL,
    bundle_sha256  BYTEA NOT NULL CHECK (octet_length(bundle_sha256) = 32),
    published_at   TEXT NOT NULL,
    token_id       BIGINT REFERENCES registry_tokens (id),
    UNIQUE (name, version, bundle_sha256),
    FOREIGN KEY (name, version) REFERENCES registry_versions (name, version)
);
CREATE INDEX registry_statements_by_digest ON registry_statements (digest);

CREATE TRIGGER registry_versions_immutable BEFORE UPDATE OR DELETE ON registry_versions
    FOR EACH ROW EXECUTE FUNCTION registry_immutable();
CREATE TRIGGER registry_versions_no_truncate BEFORE TRUNCATE ON registry_versions
    FOR EACH STATEMENT EXECUTE FUNCTION registry_immutable();
CREATE TRIGGER registry_yanks_immutable BEFORE UPDATE OR DELETE ON registry_yanks
    FOR EACH ROW EXECUTE FUNCTION registry_immutable();
CREATE TRIGGER registry_yanks_no_truncate BEFORE TRUNCATE ON registry_yanks
    FOR EACH STATEMENT EXECUTE FUNCTION registry_immutable();
CREATE TRIGGER registry_statements_immutable BEFORE UPDATE OR DELETE ON registry_statements
    FOR EACH ROW EXECUTE FUNCTION registry_immutable();
CREATE TRIGGER registry_statements_no_truncate BEFORE TRUNCATE ON registry_statements
    FOR EACH STATEMENT EXECUTE FUNCTION registry_immutable();
",
];

/// The registry schema version this build writes: older databases are migrated forward, newer
/// ones refused.
#[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)] // a handful of migrations
pub const REGISTRY_SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Advisory lock key of registry writes (`MPRV`, 3): one writer at a time, so the audit log's
/// sequence is assigned without gaps or races.
pub(crate) const WRITE_LOCK: i64 = 0x4d50_5256_0000_0003;

/// What the server's own database role needs, and nothing more: to read every table and add
/// rows, to revoke a token (its `revoked_at`, once, as a trigger checks) and to read the schema
/// version. It owns nothing, so it cannot drop or disable the triggers, and it has no UPDATE,
/// DELETE or TRUNCATE on what is published: those are refused by the permissions before any
/// trigger runs. `schema` and `role` are quoted identifiers. (The lineage tables are the
/// library's; the registry writes records and manifests there in its own transactions.)
pub(crate) fn server_grants(schema: &str, role: &str) -> String {
    format!(
        "GRANT USAGE ON SCHEMA {schema} TO {role};
GRANT SELECT ON {schema}.modelprov_schema TO {role};
GRANT SELECT, INSERT ON {schema}.registry_namespaces, {schema}.registry_audit,
    {schema}.registry_versions, {schema}.registry_yanks, {schema}.registry_statements,
    {schema}.lineage_records, {schema}.lineage_edges, {schema}.lineage_manifests TO {role};
GRANT SELECT, INSERT, UPDATE (revoked_at) ON {schema}.registry_tokens TO {role};"
    )
}

/// `name` as a PostgreSQL identifier in double quotes (embedded quotes doubled), or `None` for a
/// name PostgreSQL cannot have (empty, longer than 63 bytes, or holding NUL).
pub(crate) fn quoted_identifier(name: &str) -> Option<String> {
    if name.is_empty() || name.len() > 63 || name.contains('\0') {
        return None;
    }
    Some(format!("\"{}\"", name.replace('"', "\"\"")))
}
