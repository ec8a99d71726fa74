//! What a registry operation can answer instead of doing it, each with a stable code (the HTTP
//! API's error codes) and the status a server maps it to.

/// Why a registry operation was not done. Nothing is written when one is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// No token, or one that is unknown, malformed or revoked, where one is needed.
    #[error("{0}")]
    Unauthenticated(String),
    /// The token is valid, but its role does not allow this here.
    #[error("{0}")]
    Forbidden(String),
    /// No such namespace or token.
    #[error("{0}")]
    NotFound(String),
    /// It exists already, or is held by something else.
    #[error("{0}")]
    Conflict(String),
    /// A statement's signature does not verify under the namespace's trust policy, or it is
    /// not about what it was published as: refused, never stored.
    #[error("{0}")]
    NotTrusted(String),
    /// The request is malformed: a bad name, role or policy.
    #[error("{0}")]
    Invalid(String),
    /// The database cannot be reached or failed; the request may be retried.
    #[error("the registry database is unavailable: {source}")]
    Unavailable {
        /// The driver's error (`postgres::Error`, or the library's error that holds it).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// A database whose registry schema is newer than this build's, or otherwise not ours.
    #[error("{0}")]
    Schema(String),
    /// Every connection stayed busy, or the database did not answer, within the request
    /// timeout; the request may be retried.
    #[error("{0}")]
    Busy(String),
    /// A fault of the server itself (a bug); nothing was written.
    #[error("internal error: {0}")]
    Internal(String),
}

impl RegistryError {
    /// A stable name for the kind of error: `unauthenticated`, `forbidden`, `not_found`,
    /// `conflict`, `not_trusted`, `invalid`, `unavailable` (retry later), `schema` or `internal`.
    pub fn code(&self) -> &'static str {
        match self {
            RegistryError::Unauthenticated(_) => "unauthenticated",
            RegistryError::Forbidden(_) => "forbidden",
            RegistryError::NotFound(_) => "not_found",
            RegistryError::Conflict(_) => "conflict",
            RegistryError::NotTrusted(_) => "not_trusted",
            RegistryError::Invalid(_) => "invalid",
            RegistryError::Unavailable { .. } | RegistryError::Busy(_) => "unavailable",
            RegistryError::Schema(_) => "schema",
            RegistryError::Internal(_) => "internal",
        }
    }

    /// The same error, for another request it applies to too (a group's failed transaction):
    /// the kind and message are kept; a driver's error is kept as its message.
    pub fn duplicate(&self) -> RegistryError {
        match self {
            RegistryError::Unauthenticated(m) => RegistryError::Unauthenticated(m.clone()),
            RegistryError::Forbidden(m) => RegistryError::Forbidden(m.clone()),
            RegistryError::NotFound(m) => RegistryError::NotFound(m.clone()),
            RegistryError::Conflict(m) => RegistryError::Conflict(m.clone()),
            RegistryError::NotTrusted(m) => RegistryError::NotTrusted(m.clone()),
            RegistryError::Invalid(m) => RegistryError::Invalid(m.clone()),
            RegistryError::Unavailable { source } => RegistryError::Unavailable {
                source: source.to_string().into(),
            },
            RegistryError::Schema(m) => RegistryError::Schema(m.clone()),
            RegistryError::Busy(m) => RegistryError::Busy(m.clone()),
            RegistryError::Internal(m) => RegistryError::Internal(m.clone()),
        }
    }

    /// The HTTP status a server answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            RegistryError::Unauthenticated(_) => 401,
            RegistryError::Forbidden(_) => 403,
            RegistryError::NotFound(_) => 404,
            RegistryError::Conflict(_) => 409,
            RegistryError::Invalid(_) | RegistryError::NotTrusted(_) => 422,
            RegistryError::Unavailable { .. }
            | RegistryError::Schema(_)
            | RegistryError::Busy(_) => 503,
            RegistryError::Internal(_) => 500,
        }
    }
}

impl From<postgres::Error> for RegistryError {
    fn from(source: postgres::Error) -> Self {
        RegistryError::Unavailable {
            source: Box::new(modelprov::postgres_schema::PostgresError(source)),
        }
    }
}
