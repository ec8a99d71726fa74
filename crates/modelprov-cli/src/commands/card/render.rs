//! `modelprov card render CARD --format readme|html|json`.

use std::path::PathBuf;

use crate::output::write_output;
use clap::{Args, ValueEnum};
use modelprov::Result;
use modelprov::card::{Card, render_html, render_readme};

use crate::exit::Outcome;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RenderFormat {
    /// README.md: YAML front matter and a Markdown body.
    Readme,
    /// A standalone HTML page (raw HTML in the card is shown as text, never run).
    Html,
    /// The metadata as JSON (what `huggingface_hub`'s `card.data.to_dict()` gives).
    Json,
}

#[derive(Args, Debug)]
pub struct RenderArgs {
    /// The card: README.md, or a .yaml/.json metadata file.
    pub card: PathBuf,

    #[arg(long, short = 'f', value_enum, default_value = "readme")]
    pub format: RenderFormat,

    /// Replace the card's own Markdown body by one generated from its fields (a card without a
    /// body always gets a generated one).
    #[arg(long)]
    pub regenerate_body: bool,

    /// Where to write [default: stdout].
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: RenderArgs) -> Result<Outcome> {
    let card = Card::read(&args.card)?;
    let text = match args.format {
        RenderFormat::Readme => render_readme(&card, args.regenerate_body),
        RenderFormat::Html => render_html(&card),
        RenderFormat::Json => {
            let mut json = serde_json::to_string_pretty(&card.metadata).expect("JSON serialises");
            json.push('\n');
            json
        }
    };
    write_output(args.output.as_deref(), text.as_bytes())?;
    Ok(Outcome::Ok)
}
