//! Lineage: signed, digest-bound provenance records ("D was derived from P1..Pn with datasets
//! S1..Sm by procedure X, by trainer T") in a registry, with ancestry queries, graphs and chain
//! verification. docs/lineage.md has the record format and the SLSA mapping.

mod chain;
mod exchange;
mod graph;
#[cfg(feature = "postgres")]
mod postgres_store;
mod record;
mod recording;
mod sign;
mod slsa;
mod sqlite;
mod store;
mod stored;
mod versions;

use std::path::PathBuf;

pub use chain::{ChainLink, ChainReport, LinkProblem, verify_chain};
pub use exchange::{export_line, read_export};
pub use graph::{GraphFormat, render_graph};
#[cfg(feature = "postgres")]
pub use postgres_store::{POSTGRES_SCHEMA_VERSION, PostgresStore, insert_within};
pub use record::{Dataset, LineageRecord, Parent, Procedure, Relation, split_id};
pub use recording::{RecordRequest, Recorded, find, now, record_model};
pub use sign::{SignOutcome, sign_record};
pub use slsa::{
    LINEAGE_BUILD_TYPE, SLSA_PROVENANCE_V1, lineage_statement, parse_lineage_statement,
};
pub use sqlite::{SCHEMA_VERSION, SqliteStore};
pub use store::{Edge, Entry, InsertOutcome, Node, Store, Subgraph};
pub use stored::checked_record;
pub use versions::sort_versions;

/// The longest line `lineage import` reads: a record's Statement and its bundle (base64 twice)
/// are some kilobytes; 16 MiB leaves room for huge hyperparameter maps without reading an
/// endless line into memory.
pub const IMPORT_LINE_BYTES: u64 = 16 << 20;

/// The environment variable naming the registry file (the `--registry` option wins).
pub const REGISTRY_ENV: &str = "MODELPROV_REGISTRY";

/// The per-user registry: `$XDG_DATA_HOME/modelprov/registry.sqlite` (or the platform's data
/// folder).
pub fn default_registry_path() -> Option<PathBuf> {
    dirs::data_dir().map(|dir| dir.join("modelprov").join("registry.sqlite"))
}
