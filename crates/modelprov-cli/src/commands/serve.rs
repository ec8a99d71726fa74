//! `modelprov serve`: the team registry's HTTP server (docs/registry.md).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use modelprov::{Error, Result};
use modelprov_registry::{
    REGISTRY_SCHEMA_VERSION, ServeOptions, TlsFiles, prepare_database, serve,
};

use crate::exit::Outcome;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The registry's database: postgres://USER@HOST:PORT/DBNAME (created tables are migrated
    /// at start).
    #[arg(long, value_name = "URL", env = "MODELPROV_DATABASE")]
    pub database: String,

    /// The address to listen on (port 0: any free port, printed at start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8470")]
    pub listen: SocketAddr,

    /// The server admin token's file: read when it exists; otherwise a new admin token is
    /// created and written there (mode 0600), never over an existing file.
    #[arg(long, value_name = "FILE")]
    pub admin_token_file: Option<PathBuf>,

    /// Migrate the registry's tables (connected as their owner) and exit, without serving: how
    /// a server that runs as a role owning nothing gets its tables (docs/registry.md).
    #[arg(long, conflicts_with_all = ["admin_token_file", "listen", "connections", "tls_certificate", "tls_key", "header_timeout"])]
    pub migrate_only: bool,

    /// With --migrate-only: grant this database role what `modelprov serve` needs, and
    /// nothing more (it can add rows, never change or remove them, nor drop the triggers).
    #[arg(long, value_name = "ROLE")]
    pub grant_to: Option<String>,

    /// The most database connections in use at once.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub connections: usize,

    /// Serve HTTPS with this certificate chain (PEM, the server's certificate first).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_certificate: Option<PathBuf>,

    /// The TLS certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_certificate")]
    pub tls_key: Option<PathBuf>,

    /// Seconds a client may take to send a request's headers before its connection is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub header_timeout: u64,
}

pub fn run(args: ServeArgs) -> Result<Outcome> {
    // (Checked here, not by clap: a flag's default counts as present to its `requires`.)
    if args.migrate_only {
        return migrate_only(&args.database, args.grant_to.as_deref());
    }
    if args.grant_to.is_some() {
        return Err(Error::Usage(
            "--grant-to goes with --migrate-only (the tables' owner grants; the server serves)"
                .into(),
        ));
    }
    let Some(admin_token_file) = args.admin_token_file else {
        return Err(Error::Usage(
            "--admin-token-file FILE is required to serve".into(),
        ));
    };
    if !(1..=1000).contains(&args.connections) {
        return Err(Error::Usage(format!(
            "--connections takes 1 to 1000, not {}",
            args.connections
        )));
    }
    if !(1..=600).contains(&args.header_timeout) {
        return Err(Error::Usage(format!(
            "--header-timeout takes 1 to 600 seconds, not {}",
            args.header_timeout
        )));
    }
    let tls = args
        .tls_certificate
        .zip(args.tls_key)
        .map(|(certificate, key)| TlsFiles { certificate, key });
    let scheme = if tls.is_some() { "https" } else { "http" };
    let options = ServeOptions {
        database: args.database,
        listen: args.listen,
        admin_token_file,
        connections: args.connections,
        tls,
        header_timeout: Duration::from_secs(args.header_timeout),
    };
    serve(&options, |address, created| {
        if created {
            outln!(
                "admin token written to {} (mode 0600)",
                options.admin_token_file.display()
            );
        }
        outln!("listening on {scheme}://{address}");
    })
    .map_err(|e| Error::Usage(e.to_string()))?;
    Ok(Outcome::Ok)
}

fn migrate_only(database: &str, grant_to: Option<&str>) -> Result<Outcome> {
    let location = prepare_database(database, grant_to).map_err(|e| Error::Usage(e.to_string()))?;
    outln!(
        "registry schema at version {REGISTRY_SCHEMA_VERSION} in {}",
        location.display()
    );
    if let Some(role) = grant_to {
        outln!(
            "granted {role} what `modelprov serve` needs: reading, adding rows, revoking tokens"
        );
    }
    Ok(Outcome::Ok)
}
