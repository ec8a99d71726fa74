//! `modelprov card show CARD`: what a card says, in a few lines.

use std::path::PathBuf;

use clap::Args;
use modelprov::Result;
use modelprov::card::{Card, CardData, completeness};
use serde_json::json;

use crate::exit::Outcome;
use crate::output::print_json;

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The card: README.md, or a .yaml/.json metadata file.
    pub card: PathBuf,

    /// Print the card's metadata and completeness as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ShowArgs) -> Result<Outcome> {
    let card = Card::read(&args.card)?;
    let data = CardData::from_metadata(&card.metadata);
    let score = completeness(&card.metadata);
    if args.json {
        print_json(&json!({
            "card": args.card,
            "metadata": card.metadata,
            "completeness": score,
        }));
        return Ok(Outcome::Ok);
    }
    let provenance = data.provenance.clone().unwrap_or_default();
    let facts = provenance.model.clone().unwrap_or_default();
    let text = |t: &Option<modelprov::card::Text>| t.as_ref().map(|t| t.0.clone());
    let rows: Vec<(&str, Option<String>)> = vec![
        ("name", text(&provenance.name)),
        ("version", text(&provenance.version)),
        ("created", text(&provenance.created)),
        ("last updated", text(&provenance.last_updated)),
        (
            "creators",
            Some(provenance.creators.joined(", ")).filter(|s| !s.is_empty()),
        ),
        ("licence", text(&data.license)),
        (
            "base model",
            Some(data.base_model.joined(", "))
                .filter(|s| !s.is_empty())
                .map(|b| match &data.base_model_relation {
                    Some(r) => format!("{b} ({r})"),
                    None => b,
                }),
        ),
        (
            "language",
            Some(data.language.joined(", ")).filter(|s| !s.is_empty()),
        ),
        ("library", text(&data.library_name)),
        ("task", text(&data.pipeline_tag)),
        ("parameters", facts.parameters.map(|p| p.to_string())),
        ("digest", text(&facts.digest)),
    ];
    outln!("{}", args.card.display());
    for (label, value) in rows {
        if let Some(value) = value {
            outln!("  {label:<13} {value}");
        }
    }
    outln!(
        "  {:<13} {}/{} ({}%)",
        "completeness",
        score.present,
        score.total,
        score.percent
    );
    Ok(Outcome::Ok)
}
