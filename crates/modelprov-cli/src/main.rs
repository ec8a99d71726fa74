//! `modelprov`: the command-line face of the modelprov library. Argument parsing, output and
//! exit codes live here; everything else is a library call.
//!
//! Exit codes: 0 ok, 1 verification failed (the model is not what it claims), 2 usage or input
//! error. Never 0 on doubt.

#![forbid(unsafe_code)]
// Printing goes through output's macros (see there), never through println!, which panics.
#![deny(clippy::print_stdout, clippy::print_stderr)]

#[macro_use]
mod output;

mod args;
mod card_files;
mod commands;
mod exit;
mod model_build;
mod progress_bar;
mod trust_args;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

use exit::Outcome;

/// More worker threads than this is a mistake, not a tuning: each costs a stack, and thousands
/// take seconds to start.
const MAX_THREADS: usize = 1024;

#[derive(Parser)]
#[command(
    name = "modelprov",
    version,
    about = "Model provenance: hash, verify and trace machine-learning models by content digest"
)]
struct Cli {
    /// Worker threads for hashing (default: one per core).
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the manifest of a model file or folder and print its root digest.
    Hash(commands::hash::HashArgs),
    /// Check a model against a manifest, a digest, a trusted digest by id, or a signature.
    Verify(Box<commands::verify::VerifyArgs>),
    /// Sign a model: write an OpenSSF Model Signing (OMS) signature file.
    Sign(commands::sign::SignArgs),
    /// Generate a signing key pair.
    Keygen(commands::keygen::KeygenArgs),
    /// Model cards: validate, draft from a model folder, render, show.
    #[command(subcommand)]
    Card(commands::card::CardCommand),
    /// Lineage: signed, digest-bound records of how models derive from each other.
    #[command(subcommand)]
    Lineage(commands::lineage::LineageCommand),
    /// AI-SBOMs: CycloneDX and SPDX documents of a model; validation, diffs.
    #[command(subcommand)]
    Sbom(commands::sbom::SbomCommand),
    /// Find code that would run when model files are loaded (pickle payloads), without loading them.
    Scan(commands::scan::ScanArgs),
    /// Trust policies: whom a team trusts to sign which models (docs/trust-policy.md).
    #[command(subcommand)]
    Policy(commands::policy::PolicyCommand),
    /// Run the team registry's HTTP server on PostgreSQL (docs/registry.md).
    Serve(commands::serve::ServeArgs),
    /// Publish a model version to a registry server with its signed statements (signature,
    /// card, SBOMs, scan report), all or nothing.
    Publish(commands::registry::PublishArgs),
    /// Yank a published version on a registry server, with a reason (it is never deleted).
    Yank(commands::registry::YankArgs),
    /// Registry server namespaces (the server's admin).
    #[command(subcommand)]
    Namespace(commands::registry::NamespaceCommand),
    /// Registry server tokens.
    #[command(subcommand)]
    Token(commands::registry::TokenCommand),
    /// Print the shell completion script for bash, zsh, fish, elvish or PowerShell.
    Completions(commands::completions::CompletionsArgs),
    /// Print the man page, or write one page per command into a folder.
    Man(commands::man::ManArgs),
}

fn main() -> ExitCode {
    let json = json_requested(std::env::args_os());
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches).map(|cli| (cli, matches)));
    let outcome = match parsed {
        Ok((cli, matches)) => run(cli, &matches),
        Err(error) if json && error.use_stderr() => {
            let text = error.render().to_string();
            let text = text.strip_prefix("error: ").unwrap_or(&text).trim_end();
            Err(modelprov::Error::Usage(text.to_string()))
        }
        Err(error) => {
            // Help and version go to stdout; argument errors to stderr with exit 2.
            let _ = error.print();
            return if error.use_stderr() {
                Outcome::InputError.exit_code()
            } else {
                Outcome::Ok.exit_code()
            };
        }
    };
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => report_error(&error, json),
    };
    finish(outcome)
}

fn run(cli: Cli, matches: &clap::ArgMatches) -> modelprov::Result<Outcome> {
    if let Some(threads) = cli.threads {
        if !(1..=MAX_THREADS).contains(&threads) {
            return Err(modelprov::Error::Usage(format!(
                "--threads takes 1 to {MAX_THREADS}, not {threads}"
            )));
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .map_err(|e| modelprov::Error::Usage(format!("cannot start {threads} threads: {e}")))?;
    }
    match cli.command {
        Command::Hash(args) => commands::hash::run(args),
        Command::Verify(args) => commands::verify::run(*args),
        Command::Sign(args) => commands::sign::run(args),
        Command::Keygen(args) => commands::keygen::run(args),
        Command::Card(command) => commands::card::run(command),
        Command::Lineage(command) => commands::lineage::run(command),
        Command::Sbom(command) => commands::sbom::run(command),
        Command::Scan(args) => commands::scan::run(args),
        // `policy new` reads the order of its options (which signer a --models scopes).
        Command::Policy(command) => commands::policy::run(
            command,
            matches
                .subcommand_matches("policy")
                .and_then(|m| m.subcommand_matches("new")),
        ),
        Command::Serve(args) => commands::serve::run(args),
        Command::Publish(args) => commands::registry::run_publish(args),
        Command::Yank(args) => commands::registry::run_yank(args),
        Command::Namespace(command) => commands::registry::run_namespace(command),
        Command::Token(command) => commands::registry::run_token(command),
        Command::Completions(args) => commands::completions::run(args),
        Command::Man(args) => commands::man::run(args),
    }
}

/// Whether `--json` (or `scan`'s `--format json`) was given: every command that prints a result
/// takes it, and no option takes a value starting with `--`, so it is the flag wherever it stands
/// before a `--`. Other commands' `--format json` is a document format, not the result's.
fn json_requested(args: impl Iterator<Item = OsString>) -> bool {
    let args: Vec<OsString> = args.skip(1).take_while(|arg| arg != "--").collect();
    let mut rest = args.iter();
    let command = loop {
        match rest.next() {
            Some(arg) if arg == "--threads" => {
                rest.next();
            }
            Some(arg) if arg.to_string_lossy().starts_with('-') => {}
            other => break other,
        }
    };
    let scan_format_json = command.is_some_and(|c| c == "scan")
        && (args.iter().any(|arg| arg == "--format=json")
            || args
                .windows(2)
                .any(|pair| pair[0] == "--format" && pair[1] == "json"));
    scan_format_json || args.iter().any(|arg| arg == "--json")
}

/// Prints an error (as a JSON object on stdout too with `--json`) and returns its outcome: a
/// signature that does not verify is a failed verification (1), anything else an input error (2).
fn report_error(error: &modelprov::Error, json: bool) -> Outcome {
    let outcome = match error {
        modelprov::Error::NotAuthentic { .. } => Outcome::VerificationFailed,
        _ => Outcome::InputError,
    };
    if json {
        output::print_json(&serde_json::json!({
            "ok": false,
            "exit_code": outcome.code(),
            "error": { "kind": error.code(), "message": error.to_string() },
        }));
    }
    match outcome {
        Outcome::VerificationFailed if !json => outln!("FAILED: {error}"),
        _ => errln!("error: {error}"),
    }
    outcome
}

/// The exit code, once stdout has been dealt with: after a closed pipe the verdict stands (the
/// reader has gone; nothing to say); when output was lost otherwise, the user never saw the
/// result, so the command failed (2), whatever the verdict.
fn finish(outcome: Outcome) -> ExitCode {
    use std::io::Write as _;
    let flushed = std::io::stdout().flush();
    match output::stdout_failure().or(flushed.err()) {
        Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => outcome.exit_code(),
        Some(e) => {
            errln!("error: cannot write to stdout: {e}");
            Outcome::InputError.exit_code()
        }
        None => outcome.exit_code(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_the_flag_only_before_a_double_dash() {
        let args = |list: &[&str]| {
            list.iter()
                .map(OsString::from)
                .collect::<Vec<_>>()
                .into_iter()
        };
        assert!(json_requested(args(&["modelprov", "hash", "m", "--json"])));
        assert!(!json_requested(args(&["modelprov", "hash", "m"])));
        assert!(json_requested(args(&[
            "modelprov",
            "scan",
            "--format",
            "json",
            "m"
        ])));
        assert!(json_requested(args(&[
            "modelprov",
            "scan",
            "--format=json",
            "m"
        ])));
        assert!(!json_requested(args(&[
            "modelprov",
            "scan",
            "--format",
            "sarif"
        ])));
        assert!(!json_requested(args(&[
            "modelprov",
            "card",
            "render",
            "--format",
            "json"
        ])));
        assert!(!json_requested(args(&[
            "modelprov",
            "hash",
            "--",
            "--json"
        ])));
    }
}
