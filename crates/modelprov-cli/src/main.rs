//! `modelprov`: the command-line face of the modelprov library. Argument parsing, output and
//! exit codes live here; everything else is a library call.
//!
//! Exit codes: 0 ok, 1 verification failed (the model is not what it claims), 2 usage or input
//! error. Never 0 on doubt.

mod args;
mod card_files;
mod commands;
mod exit;
mod model_build;
mod output;
mod progress_bar;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use exit::Outcome;

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
    Verify(commands::verify::VerifyArgs),
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
    /// Print the shell completion script for bash, zsh, fish, elvish or PowerShell.
    Completions(commands::completions::CompletionsArgs),
    /// Print the man page, or write one page per command into a folder.
    Man(commands::man::ManArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(threads) = cli.threads {
        if threads == 0 {
            return exit::usage_error("--threads must be at least 1");
        }
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
        {
            return exit::usage_error(&format!("cannot start {threads} threads: {e}"));
        }
    }
    let outcome = match cli.command {
        Command::Hash(args) => commands::hash::run(args),
        Command::Verify(args) => commands::verify::run(args),
        Command::Sign(args) => commands::sign::run(args),
        Command::Keygen(args) => commands::keygen::run(args),
        Command::Card(command) => commands::card::run(command),
        Command::Lineage(command) => commands::lineage::run(command),
        Command::Sbom(command) => commands::sbom::run(command),
        Command::Scan(args) => commands::scan::run(args),
        Command::Completions(args) => commands::completions::run(args),
        Command::Man(args) => commands::man::run(args),
    };
    match outcome {
        Ok(outcome) => outcome.exit_code(),
        Err(error @ modelprov::Error::NotAuthentic { .. }) => {
            println!("FAILED: {error}");
            Outcome::VerificationFailed.exit_code()
        }
        Err(error) => {
            eprintln!("error: {error}");
            Outcome::InputError.exit_code()
        }
    }
}
