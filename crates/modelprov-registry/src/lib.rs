//! modelprov's team registry, the part every front end (the HTTP server, administration
//! commands) shares: namespaces, each with the trust policy its writes are checked against;
//! API tokens, stored only as hashes, each with a role in one namespace (or the server's admin
//! token); the rule of who may do what ([`access`]); and an append-only audit log of every
//! accepted write, enforced by the database and giving each entry canonical bytes ([`audit`]).
//!
//! Everything lives in one PostgreSQL database beside the lineage tables of
//! [`modelprov::lineage::PostgresStore`]; the schema is versioned and migrated at connect.
//!
//! ```no_run
//! use modelprov_registry::{Registry, Role};
//! # fn main() -> Result<(), modelprov_registry::RegistryError> {
//! let registry = Registry::connect("postgres://postgres@127.0.0.1:5432/registry")?;
//! let admin = registry.create_admin_token("bootstrap")?;
//! let me = registry.authenticate(Some(admin.expose()))?;
//! let policy = "version = 1\n[[signer]]\nidentity = \"ml@example.com\"\nissuer = \"https://accounts.google.com\"\n";
//! registry.create_namespace(me.as_ref(), "vision", policy, false)?;
//! let (_token, secret) = registry.create_token(me.as_ref(), "vision", Role::Publisher, "ci")?;
//! # let _ = secret;
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod access;
pub mod audit;
pub mod client;
mod error;
mod group_commit;
pub mod http;
mod lookup;
pub mod names;
mod pool;
mod publish;
mod registry;
mod schema;
mod serve;
pub mod statements;
pub mod token;

pub use access::{Action, Identity};
pub use error::RegistryError;
pub use group_commit::{GroupCommit, MAX_GROUP};
pub use lookup::{MAX_RECORD_PAGE, VersionInfo};
pub use pool::REQUEST_TIMEOUT;
pub use publish::{
    CheckedPublications, MAX_PUBLICATIONS, MAX_STATEMENTS, Publication, Published, StoreOutcome,
    Yank,
};
pub use registry::{Namespace, Registry, TokenInfo};
pub use schema::REGISTRY_SCHEMA_VERSION;
pub use serve::{
    DEFAULT_HEADER_TIMEOUT, REQUEST_BUDGET, ServeOptions, TlsFiles, prepare_database, serve,
};
pub use token::{Role, TokenSecret};
