//! `modelprov sbom ...`: AI bills of materials (docs/sbom.md).

mod diff;
mod generate;
mod validate;

use clap::Subcommand;
use modelprov::Result;

use crate::exit::Outcome;

#[derive(Subcommand, Debug)]
pub enum SbomCommand {
    /// Write the AI-SBOM of a model folder: files, card, lineage, datasets, libraries and
    /// known vulnerabilities, bound to the model digest.
    Generate(Box<generate::GenerateArgs>),
    /// Check a CycloneDX 1.6/1.7 or SPDX 3.0.1 document offline: schema and references.
    Validate(validate::ValidateArgs),
    /// Components, hashes, licences and vulnerabilities added, removed or changed between two
    /// SBOMs (exit 1 when they differ).
    Diff(diff::DiffArgs),
}

pub fn run(command: SbomCommand) -> Result<Outcome> {
    match command {
        SbomCommand::Generate(args) => generate::run(*args),
        SbomCommand::Validate(args) => validate::run(args),
        SbomCommand::Diff(args) => diff::run(args),
    }
}
