//! `modelprov lineage ...`: signed, digest-bound provenance records in a registry
//! (docs/lineage.md).

mod diff;
mod exchange;
mod query;
mod record;
mod show;
mod sign;
mod verify;

pub use modelprov::lineage::{find, now};

use std::path::PathBuf;

use clap::{Args, Subcommand};
use modelprov::lineage::{REGISTRY_ENV, SqliteStore, Store, default_registry_path};
use modelprov::{Error, Result};
use modelprov_registry::client::{RemoteStore, is_server_url};

use crate::exit::Outcome;

#[derive(Subcommand, Debug)]
pub enum LineageCommand {
    /// Record how a model was made: its digest, parents, datasets, procedure and trainer; signed
    /// with --key.
    Record(Box<record::RecordArgs>),
    /// Show one record (the newest version when no @VERSION is given).
    Show(show::ShowArgs),
    /// List a model's versions, oldest first (semantic version order, else by time).
    Versions(show::VersionsArgs),
    /// All ancestors of a model, to the roots.
    Trace(query::TraceArgs),
    /// All models derived from a model.
    Descendants(query::TraceArgs),
    /// What changed between two versions: files, metrics, procedure, datasets, card.
    Diff(diff::DiffArgs),
    /// Draw the lineage of a model (or the whole registry) as DOT, Mermaid or JSON.
    Graph(query::GraphArgs),
    /// Sign a record stored unsigned (the signature is over the stored Statement, so the record
    /// does not change); a record already signed by another key is refused.
    Sign(sign::SignArgs),
    /// Check a model's chain of records to its roots: signatures, missing links, the bytes on disk.
    Verify(verify::LineageVerifyArgs),
    /// Write records (with their signatures) as JSON Lines.
    Export(exchange::ExportArgs),
    /// Read records from JSON Lines written by export, or from a model card's base_model.
    Import(exchange::ImportArgs),
}

pub fn run(command: LineageCommand) -> Result<Outcome> {
    match command {
        LineageCommand::Record(args) => record::run(*args),
        LineageCommand::Show(args) => show::run(args),
        LineageCommand::Versions(args) => show::run_versions(args),
        LineageCommand::Trace(args) => query::run_trace(args, true),
        LineageCommand::Descendants(args) => query::run_trace(args, false),
        LineageCommand::Diff(args) => diff::run(args),
        LineageCommand::Graph(args) => query::run_graph(args),
        LineageCommand::Sign(args) => sign::run(args),
        LineageCommand::Verify(args) => verify::run(args),
        LineageCommand::Export(args) => exchange::run_export(args),
        LineageCommand::Import(args) => exchange::run_import(args),
    }
}

/// Which registry: `--registry`, else `$MODELPROV_REGISTRY`, else the per-user one; a file, or
/// a registry server (`http://HOST[:PORT]`) with a token from `--token-file` or
/// `$MODELPROV_TOKEN`.
#[derive(Args, Debug, Default, Clone)]
pub struct RegistryArgs {
    /// The registry: a file, or a registry server's http://HOST[:PORT] [default:
    /// $MODELPROV_REGISTRY, else the per-user data folder].
    #[arg(long, value_name = "FILE|URL", env = REGISTRY_ENV)]
    pub registry: Option<PathBuf>,

    /// The file holding the registry server token [default: the token in $MODELPROV_TOKEN].
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

impl RegistryArgs {
    /// The registry server's URL, when `--registry` names one.
    fn server(&self) -> Option<&str> {
        self.registry
            .as_deref()
            .and_then(|path| path.to_str())
            .filter(|text| is_server_url(text))
    }

    /// The registry file, or the server's URL: what messages name.
    pub fn path(&self) -> Result<PathBuf> {
        if self.token_file.is_some() && self.server().is_none() {
            return Err(Error::Usage(
                "--token-file is for a registry server (--registry http://...); a registry file needs no token".into(),
            ));
        }
        self.registry
            .clone()
            .or_else(default_registry_path)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "no per-user data folder is known; pass --registry or set {REGISTRY_ENV}"
                ))
            })
    }

    /// Opens the registry for writing; `create` for commands that may start a file.
    pub fn open(&self, create: bool) -> Result<Box<dyn Store>> {
        if let Some(url) = self.server() {
            return self.remote(url);
        }
        Ok(Box::new(SqliteStore::open(&self.path()?, create)?))
    }

    /// Opens an existing registry for a reading command: nothing is created or changed, and no
    /// writer is waited for.
    pub fn open_read_only(&self) -> Result<Box<dyn Store>> {
        if let Some(url) = self.server() {
            return self.remote(url);
        }
        Ok(Box::new(SqliteStore::open_read_only(&self.path()?)?))
    }

    fn remote(&self, url: &str) -> Result<Box<dyn Store>> {
        let client = crate::commands::registry::client(url, self.token_file.as_deref())?;
        Ok(Box::new(RemoteStore::new(client)))
    }
}
