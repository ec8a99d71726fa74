//! The HTTP API, `/v1/...` (openapi.json in this crate, served at `/v1/openapi.json`). Handlers
//! only translate: the token from `Authorization: Bearer`, the JSON body, and the registry's
//! answer or error (JSON `{"error": {"code", "message"}}` with the status
//! [`RegistryError::http_status`] gives). Bodies are limited to [`MAX_BODY_BYTES`].

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;

use modelprov::digest::RootDigest;
use modelprov::lineage::Entry;

use crate::error::RegistryError;
use crate::pool::Pool;
use crate::publish::Publication;
use crate::registry::Registry;
use crate::token::Role;

/// The largest request body but a publication's: a namespace's trust policy and its JSON
/// around it.
pub const MAX_BODY_BYTES: usize = 256 << 10;
/// The largest publication (or manifest) body: signed statements of a model of many files, a
/// large SBOM.
pub const MAX_PUBLISH_BYTES: usize = 32 << 20;

/// The OpenAPI document of this API, as kept in the repository.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// The API's routes over a connection pool.
pub fn router(pool: Arc<Pool>) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/ready", get(ready))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/namespaces", post(create_namespace))
        .route("/v1/namespaces/{namespace}", get(namespace))
        .route("/v1/namespaces/{namespace}/tokens", post(create_token))
        .route("/v1/tokens/{id}", delete(revoke_token))
        .route("/v1/audit", get(audit))
        .route(
            "/v1/publish",
            post(publish).layer(DefaultBodyLimit::max(MAX_PUBLISH_BYTES)),
        )
        .route("/v1/yank", post(yank))
        .route("/v1/models", get(models))
        .route("/v1/digests/{digest}", get(digest))
        .route("/v1/statements/{id}", get(statement))
        .route("/v1/lineage/records", get(lineage_records))
        .route("/v1/lineage/graph", get(lineage_graph))
        .route(
            "/v1/lineage/manifests/{digest}",
            get(manifest)
                .put(put_manifest)
                .layer(DefaultBodyLimit::max(MAX_PUBLISH_BYTES)),
        )
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(pool)
}

/// An error answer.
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl ApiError {
    /// A request that took longer than the server allows.
    pub fn timeout() -> ApiError {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "the request took too long (a slow client, or a body sent too slowly)",
        )
    }
}

impl From<RegistryError> for ApiError {
    fn from(error: RegistryError) -> Self {
        let status =
            StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError::new(status, error.code(), error.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            _ => "invalid",
        };
        ApiError::new(status, code, rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid", rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid", rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

type Answer<T> = Result<T, ApiError>;

/// The bearer token of a request; `None` when there is no `Authorization` header.
fn bearer(headers: &HeaderMap) -> Answer<Option<String>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|text| text.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "the Authorization header must be 'Bearer <token>'",
            )
        })?;
    Ok(Some(token.to_string()))
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the database answers.
async fn ready(State(pool): State<Arc<Pool>>) -> Answer<Json<serde_json::Value>> {
    pool.run(Registry::ping).await?;
    Ok(Json(json!({"status": "ready"})))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint (the API is described at /v1/openapi.json)",
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewNamespace {
    name: String,
    policy: String,
    #[serde(default)]
    anonymous_read: bool,
}

async fn create_namespace(
    State(pool): State<Arc<Pool>>,
    headers: HeaderMap,
    body: Result<Json<NewNamespace>, JsonRejection>,
) -> Answer<(StatusCode, Json<serde_json::Value>)> {
    let token = bearer(&headers)?;
    let Json(body) = body?;
    let namespace = pool
        .run_as(token, move |registry, who| {
            registry.create_namespace(who, &body.name, &body.policy, body.anonymous_read)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json!(namespace))))
}

async fn namespace(
    State(pool): State<Arc<Pool>>,
    headers: HeaderMap,
    name: Result<Path<String>, PathRejection>,
) -> Answer<Json<serde_json::Value>> {
    let token = bearer(&headers)?;
    let Path(name) = name?;
    let namespace = pool
        .run_as(token, move |registry, who| registry.namespace(who, &name))
        .await?;
    Ok(Json(json!(namespace)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    role: String,
    #[serde(default)]
    label: String,
}

async fn create_token(
    State(pool): State<Arc<Pool>>,
    headers: HeaderMap,
    namespace: Result<Path<String>, PathRejection>,
    body: Result<Json<NewToken>, JsonRejection>,
) -> Answer<(StatusCode, Json<serde_json::Value>)> {
    let token = bearer(&headers)?;
    let Path(namespace) = namespace?;
    let Json(body) = body?;
    let role = Role::parse(&body.role)?;
    let (info, secret) = pool
        .run_as(token, move |registry, who| {
            registry.create_token(who, &namespace, role, &body.label)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": info, "secret": secret.expose()})),
    ))
}

async fn revoke_token(
    State(pool): State<Arc<Pool>>,
    headers: HeaderMap,
    id: Result<Path<i64>, PathRejection>,
) -> Answer<Json<serde_json::Value>> {
    let token = bearer(&headers)?;
    let Path(id) = id?;
    let info = pool
        .run_as(token, move |registry, who| registry.revoke_token(who, id))
        .await?;
    Ok(Json(json!(info)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    namespace: Option<String>,
    #[serde(default)]
    after: i64,
    limit: Option<i64>,
}

/// A page of the audit log; `next` is the `after` of the next page.
async fn audit(
    State(pool): State<Arc<Pool>>,
    headers: HeaderMap,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Answer<Json<serde_json::Value>> {
    let token = bearer(&headers)?;
    let Query(query) = query?;
    let limit = query.limit.unwrap_or(100);
    let entries = pool
        .run_as(token, move |registry, who| {
            registry.audit(who, query.namespace.as_deref(), query.after, limit)
        })
        .await?;
    let next = entries.last().map(|e| e.seq);
    let entries: Vec<_> = entries
        .iter()
        .map(|e| {
            json!({
                "seq": e.seq,
                "at": e.at,
                "token_id": e.token_id,
                "namespace": e.namespace,
                "action": e.action,
                "body": STANDARD.encode(&e.body),
                "entry": STANDARD.encode(&e.entry),
            })
        })
        .collect();
    Ok(Json(json!({"entries": entries, "next": next})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishBody {
    publications: Vec<PublicationBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicationBody {
    name: String,
    version: String,
    /// Sigstore bundles, each as its JSON text.
    statements: Vec<String>,
}

/// Publishes versions with their signed statements, all or nothing.
async fn publish(
    State(pool): State<Arc<Pool>>,
    headers: HeaderMap,
    body: Result<Json<PublishBody>, JsonRejection>,
) -> Answer<(StatusCode, Json<serde_json::Value>)> {
    let token = bearer(&headers)?;
    let Json(body) = body?;
    let publications: Vec<Publication> = body
        .publications
        .into_iter()
        .map(|p| Publication {
            name: p.name,
            version: p.version,
            bundles: p.statements,
        })
        .collect();
    let commits = Arc::clone(&pool);
    let published = pool
        .run_as(token, move |registry, who| {
            // Verified here, in parallel with other requests; stored with them.
            let checked = registry.check_publications(who, publications)?;
            commits.group_commit.store(registry, checked)
        })
        .await?;
    let status = if published.iter().any(|p| p.new_version || p.added > 0) {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!({"published": published}))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YankBody {
    name: String,
    version: String,
    reason: String,
}

async fn yank(
    State(pool): State<Arc<Pool>>,
    headers: HeaderMap,
    body: Result<Json<YankBody>, JsonRejection>,
) -> Answer<Json<serde_json::Value>> {
    let token = bearer(&headers)?;
    let Json(body) = body?;
    let yank = pool
        .run_as(token, move |registry, who| {
            registry.yank(who, &body.name, &body.version, &body.reason)
        })
        .await?;
    Ok(Json(json!(yank)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelQuery {
    name: String,
}

async fn models(
    State(pool): State<Arc<Pool>>,
    headers: HeaderMap,
    query: Result<Query<ModelQuery>, QueryRejection>,
) -> Answer<Json<serde_json::Value>> {
    let token = bearer(&headers)?;
    let Query(query) = query?;
    let versions = pool
        .run_as(token, move |registry, who| {
            registry.model_versions(who, &query.name)
        })
        .await?;
    Ok(Json(json!({"versions": versions})))
}

fn parse_digest(text: &str) -> Answer<RootDigest> {
    text.parse().map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            format!(
                "'{}' is not a model digest (sha256:<64 hex>): {e}",
                text.escape_debug()
            ),
        )
    })
}

/// What the registry knows about a model digest.
async fn digest(
    State(pool): State<Arc<Pool>>,
    headers: HeaderMap,
    digest: Result<Path<String>, PathRejection>,
) -> Answer<Json<serde_json::Value>> {
    let token = bearer(&headers)?;
    let Path(digest) = digest?;
    let digest = parse_digest(&digest)?;
    let about = pool
        .run_as(token, move |registry, who| registry.about(who, &digest))
        .await?;
    Ok(Json(about))
}

async fn statement(
    State(pool): State<Arc<Pool>>,
    headers: HeaderMap,
    id: Result<Path<i64>, PathRejection>,
) -> Answer<Json<serde_json::Value>> {
    let token = bearer(&headers)?;
    let Path(id) = id?;
    let statement = pool
        .run_as(token, move |registry, who| registry.statement(who, id))
        .await?;
    Ok(Json(statement))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordsQuery {
    digest: Option<String>,
    name: Option<String>,
    version: Option<String>,
    #[serde(default)]
    after: i64,
    limit: Option<i64>,
}

/// An entry as the API carries it: the exact Statement and bundle bytes, base64.
fn entry_json(entry: &Entry) -> serde_json::Value {
    json!({
        "statement": STANDARD.encode(&entry.statement),
        "bundle": entry.bundle.as_ref().map(|b| STANDARD.encode(b)),
        "recorded_at": entry.recorded_at,
    })
}

/// Lineage records: of a digest, of `name@version`, every version of `name`, or a page of all.
async fn lineage_records(
    State(pool): State<Arc<Pool>>,
    headers: HeaderMap,
    query: Result<Query<RecordsQuery>, QueryRejection>,
) -> Answer<Json<serde_json::Value>> {
    let token = bearer(&headers)?;
    let Query(query) = query?;
    let digest = query.digest.as_deref().map(parse_digest).transpose()?;
    let (entries, next) = pool
        .run_as(token, move |registry, who| {
            Ok(match (digest, query.name, query.version) {
                (Some(digest), None, None) => (
                    registry
                        .lineage_by_digest(who, &digest)?
                        .into_iter()
                        .collect(),
                    None,
                ),
                (None, Some(name), Some(version)) => (
                    registry
                        .lineage_by_id(who, &name, &version)?
                        .into_iter()
                        .collect(),
                    None,
                ),
                (None, Some(name), None) => (registry.lineage_versions(who, &name)?, None),
                (None, None, None) => {
                    registry.lineage_page(who, query.after, query.limit.unwrap_or(100))?
                }
                _ => {
                    return Err(RegistryError::Invalid(
                        "ask for a digest, a name (with or without a version), or neither".into(),
                    ));
                }
            })
        })
        .await?;
    let entries: Vec<_> = entries.iter().map(entry_json).collect();
    Ok(Json(json!({"entries": entries, "next": next})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GraphQuery {
    digest: String,
    direction: String,
}

/// A model's ancestors or descendants, with the edges between them.
async fn lineage_graph(
    State(pool): State<Arc<Pool>>,
    headers: HeaderMap,
    query: Result<Query<GraphQuery>, QueryRejection>,
) -> Answer<Json<serde_json::Value>> {
    let token = bearer(&headers)?;
    let Query(query) = query?;
    let digest = parse_digest(&query.digest)?;
    let ancestors = match query.direction.as_str() {
        "ancestors" => true,
        "descendants" => false,
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid",
                "direction is 'ancestors' or 'descendants'",
            ));
        }
    };
    let graph = pool
        .run_as(token, move |registry, who| {
            registry.lineage_graph(who, &digest, ancestors)
        })
        .await?;
    Ok(Json(json!(graph)))
}

async fn manifest(
    State(pool): State<Arc<Pool>>,
    headers: HeaderMap,
    digest: Result<Path<String>, PathRejection>,
) -> Answer<Json<serde_json::Value>> {
    let token = bearer(&headers)?;
    let Path(digest) = digest?;
    let digest = parse_digest(&digest)?;
    let manifest = pool
        .run_as(token, move |registry, who| registry.manifest(who, &digest))
        .await?;
    Ok(Json(json!({"manifest": manifest})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestBody {
    manifest: String,
}

async fn put_manifest(
    State(pool): State<Arc<Pool>>,
    headers: HeaderMap,
    digest: Result<Path<String>, PathRejection>,
    body: Result<Json<ManifestBody>, JsonRejection>,
) -> Answer<Json<serde_json::Value>> {
    let token = bearer(&headers)?;
    let Path(digest) = digest?;
    let digest = parse_digest(&digest)?;
    let Json(body) = body?;
    pool.run_as(token, move |registry, who| {
        registry.put_manifest(who, &digest, &body.manifest)
    })
    .await?;
    Ok(Json(json!({"kept": true})))
}
