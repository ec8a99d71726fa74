//! `modelprov serve`: the team registry's HTTP server (docs/registry.md).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use modelprov::{Error, Result};
use modelprov_registry::{ServeOptions, serve};

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
    pub admin_token_file: PathBuf,

    /// The most database connections in use at once.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub connections: usize,
}

pub fn run(args: ServeArgs) -> Result<Outcome> {
    if !(1..=1000).contains(&args.connections) {
        return Err(Error::Usage(format!(
            "--connections takes 1 to 1000, not {}",
            args.connections
        )));
    }
    let options = ServeOptions {
        database: args.database,
        listen: args.listen,
        admin_token_file: args.admin_token_file,
        connections: args.connections,
    };
    serve(&options, |address, created| {
        if created {
            outln!(
                "admin token written to {} (mode 0600)",
                options.admin_token_file.display()
            );
        }
        outln!("listening on http://{address}");
    })
    .map_err(|e| Error::Usage(e.to_string()))?;
    Ok(Outcome::Ok)
}
