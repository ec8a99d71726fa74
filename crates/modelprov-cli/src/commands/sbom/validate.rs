//! `modelprov sbom validate FILE`.

use std::path::PathBuf;

use clap::Args;
use modelprov::sbom::{detect_format, read_sbom, validate_sbom};
use modelprov::{Error, Result};
use serde_json::json;

use crate::exit::Outcome;
use crate::output::print_json;

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// A CycloneDX 1.6/1.7 JSON or SPDX 3.0.1 JSON-LD document.
    pub file: PathBuf,

    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ValidateArgs) -> Result<Outcome> {
    let document = read_sbom(&args.file)?;
    let format = detect_format(&document).map_err(|problem| Error::invalid(&args.file, problem))?;
    let problems = validate_sbom(&document, format);
    let name = args.file.display().to_string();
    if args.json {
        print_json(
            &json!({"file": name, "format": format, "ok": problems.is_empty(), "problems": problems}),
        );
    } else if problems.is_empty() {
        outln!("OK: {name} is valid {format} (schema and references)");
    } else {
        for problem in &problems {
            outln!("{name}: {}: {}", problem.path, problem.message);
        }
        outln!(
            "FAILED: {name} is not valid {format} ({} problem(s))",
            problems.len()
        );
    }
    Ok(if problems.is_empty() {
        Outcome::Ok
    } else {
        Outcome::VerificationFailed
    })
}
