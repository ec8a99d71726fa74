//! `modelprov completions SHELL`: the shell's completion script, generated from the same clap
//! definition that parses the arguments, so it never drifts from the real options.

use std::io::Write;
use std::path::Path;

use clap::{Args, CommandFactory};
use clap_complete::Shell;
use modelprov::{Error, Result};

use crate::exit::Outcome;

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: CompletionsArgs) -> Result<Outcome> {
    let mut command = crate::Cli::command();
    // Rendered into memory first: clap_complete panics on a failed write, and a closed stdout
    // must be an error that names it, not a panic.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "modelprov", &mut script);
    write_stdout(&script)?;
    Ok(Outcome::Ok)
}

/// Writes generated text to stdout; a closed or full stdout is an input error, not a panic.
pub(crate) fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::io("write", Path::new("standard output"), e))
}
