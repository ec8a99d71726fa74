//! `modelprov completions SHELL`: the shell's completion script, generated from the same clap
//! definition that parses the arguments, so it never drifts from the real options.

use clap::{Args, CommandFactory};
use clap_complete::Shell;
use modelprov::Result;

use crate::exit::Outcome;

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: CompletionsArgs) -> Result<Outcome> {
    let mut command = crate::Cli::command();
    // Rendered into memory first: clap_complete panics on a failed write; the output module
    // deals with a closed or full stdout.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "modelprov", &mut script);
    crate::output::write_stdout_bytes(&script);
    Ok(Outcome::Ok)
}
