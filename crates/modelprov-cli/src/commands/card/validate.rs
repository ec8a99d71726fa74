//! `modelprov card validate CARD [--model DIR] [--strict]`.

use std::path::PathBuf;

use clap::Args;
use modelprov::card::{
    Card, Completeness, Finding, Severity, completeness, model_digest_finding, validate,
};
use modelprov::{Result, RootDigest};
use serde::Serialize;

use crate::exit::Outcome;
use crate::model_build::build_card_model_manifest;
use crate::output::{plural, print_json, warn_all};

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// The card: README.md (front matter + Markdown), or a .yaml/.json metadata file.
    pub card: PathBuf,

    /// Also check that the card's `provenance.model.digest` is this model folder's digest.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,

    /// Treat warnings as errors.
    #[arg(long)]
    pub strict: bool,

    /// Print one JSON object on stdout instead of text.
    #[arg(long)]
    pub json: bool,

    /// Print only the findings.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    card: String,
    ok: bool,
    errors: usize,
    warnings: usize,
    findings: &'a [Finding],
    completeness: &'a Completeness,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<ModelCheck>,
}

#[derive(Serialize)]
struct ModelCheck {
    path: String,
    digest: RootDigest,
    matches: bool,
}

pub fn run(args: ValidateArgs) -> Result<Outcome> {
    let card = Card::read(&args.card)?;
    let mut findings = validate(&card, time::OffsetDateTime::now_utc().date());
    let mut build_warnings = Vec::new();
    let model = match &args.model {
        Some(dir) => {
            let built =
                build_card_model_manifest(dir, Some(&args.card), true, &mut build_warnings)?;
            let digest = built.manifest.root_digest();
            let mismatch = model_digest_finding(&card, dir, &digest);
            let matches = mismatch.is_none();
            findings.splice(0..0, mismatch);
            Some(ModelCheck {
                path: dir.display().to_string(),
                digest,
                matches,
            })
        }
        None => None,
    };
    let score = completeness(&card.metadata);
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    let ok = errors == 0 && (!args.strict || warnings == 0);
    let name = args.card.display().to_string();
    if args.json {
        print_json(&Report {
            card: name,
            ok,
            errors,
            warnings,
            findings: &findings,
            completeness: &score,
            model,
        });
    } else {
        warn_all(&build_warnings, args.quiet);
        for finding in &findings {
            let place = match finding.line {
                Some(line) => format!("{name}:{line}"),
                None => name.clone(),
            };
            let severity = match finding.severity {
                Severity::Error => "error",
                Severity::Warning if args.strict => "error (--strict)",
                Severity::Warning => "warning",
            };
            let field = if finding.path.is_empty() {
                String::new()
            } else {
                format!("{}: ", finding.path)
            };
            outln!("{place}: {severity}: {field}{}", finding.message);
        }
        if !args.quiet {
            if let Some(model) = &model
                && model.matches
            {
                outln!("model: {} is {} as the card says", model.path, model.digest);
            }
            let missing: Vec<String> = score
                .missing
                .iter()
                .map(|m| format!("{} ({})", m.item, m.field))
                .collect();
            outln!(
                "completeness: {}/{} ({}%){}",
                score.present,
                score.total,
                score.percent,
                if missing.is_empty() {
                    String::new()
                } else {
                    format!("; missing: {}", missing.join(", "))
                }
            );
            outln!(
                "{}: {}, {}{}",
                name,
                plural(errors, "error"),
                plural(warnings, "warning"),
                if ok { "" } else { " - not valid" }
            );
        }
    }
    Ok(if ok {
        Outcome::Ok
    } else {
        Outcome::VerificationFailed
    })
}
