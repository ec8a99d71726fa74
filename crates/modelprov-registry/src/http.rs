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

use crate::error::RegistryError;
use crate::pool::Pool;
use crate::registry::Registry;
use crate::token::Role;

/// The largest request body: a namespace's trust policy and its JSON around it.
pub const MAX_BODY_BYTES: usize = 256 << 10;

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
        .run(move |registry| {
            let who = registry.authenticate(token.as_deref())?;
            registry.create_namespace(who.as_ref(), &body.name, &body.policy, body.anonymous_read)
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
        .run(move |registry| {
            let who = registry.authenticate(token.as_deref())?;
            registry.namespace(who.as_ref(), &name)
        })
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
        .run(move |registry| {
            let who = registry.authenticate(token.as_deref())?;
            registry.create_token(who.as_ref(), &namespace, role, &body.label)
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
        .run(move |registry| {
            let who = registry.authenticate(token.as_deref())?;
            registry.revoke_token(who.as_ref(), id)
        })
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
        .run(move |registry| {
            let who = registry.authenticate(token.as_deref())?;
            registry.audit(who.as_ref(), query.namespace.as_deref(), query.after, limit)
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
