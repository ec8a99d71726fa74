//! `modelprov card ...`: model cards (docs/model-cards.md).

mod init;
mod render;
mod show;
mod validate;

use clap::Subcommand;
use modelprov::Result;

use crate::exit::Outcome;

#[derive(Subcommand, Debug)]
pub enum CardCommand {
    /// Check a card offline: Hub metadata, provenance sections, completeness; with --model,
    /// that the card's digest is the model's.
    Validate(validate::ValidateArgs),
    /// Draft a card from a model folder (config.json, safetensors headers, files, digest) and
    /// provenance given as flags or a YAML/JSON file.
    Init(Box<init::InitArgs>),
    /// Write a card as README.md (front matter and Markdown), HTML or JSON.
    Render(render::RenderArgs),
    /// Print a card's summary.
    Show(show::ShowArgs),
}

pub fn run(command: CardCommand) -> Result<Outcome> {
    match command {
        CardCommand::Validate(args) => validate::run(args),
        CardCommand::Init(args) => init::run(*args),
        CardCommand::Render(args) => render::run(args),
        CardCommand::Show(args) => show::run(args),
    }
}
