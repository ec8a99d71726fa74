//! `modelprov sbom diff A B`.

use std::path::PathBuf;

use clap::Args;
use modelprov::sbom::{detect_format, diff_sboms, read_sbom};
use modelprov::{Error, Result};

use crate::exit::Outcome;
use crate::output::print_json;

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The earlier SBOM (CycloneDX or SPDX).
    pub from: PathBuf,
    /// The later SBOM.
    pub to: PathBuf,

    #[arg(long)]
    pub json: bool,
}

/// Exit 0 when the two describe the same components and vulnerabilities, 1 when they differ (as
/// diff(1) does).
pub fn run(args: DiffArgs) -> Result<Outcome> {
    let a = read_sbom(&args.from)?;
    let b = read_sbom(&args.to)?;
    for (document, path) in [(&a, &args.from), (&b, &args.to)] {
        detect_format(document).map_err(|problem| Error::invalid(path, problem))?;
    }
    let diff = diff_sboms(&a, &b).map_err(Error::Usage)?;
    if args.json {
        print_json(&diff);
    } else if diff.is_empty() {
        outln!("no differences in components, hashes, licences or vulnerabilities");
    } else {
        let describe = |c: &modelprov::sbom::ComponentFacts| {
            format!(
                "{} {}{}",
                c.kind,
                c.name,
                c.version
                    .as_ref()
                    .map(|v| format!("@{v}"))
                    .unwrap_or_default()
            )
        };
        for c in &diff.added {
            outln!("added     {}", describe(c));
        }
        for c in &diff.removed {
            outln!("removed   {}", describe(c));
        }
        for change in &diff.changed {
            let mut what = Vec::new();
            if change.from.version != change.to.version {
                what.push(format!(
                    "version {} -> {}",
                    change.from.version.as_deref().unwrap_or("-"),
                    change.to.version.as_deref().unwrap_or("-")
                ));
            }
            if change.from.hashes != change.to.hashes {
                what.push("hashes differ".to_string());
            }
            if change.from.licenses != change.to.licenses {
                what.push(format!(
                    "licence {:?} -> {:?}",
                    change.from.licenses, change.to.licenses
                ));
            }
            if change.from.name != change.to.name {
                what.push(format!("name {} -> {}", change.from.name, change.to.name));
            }
            outln!(
                "changed   {} {}: {}",
                change.to.kind,
                change.key,
                what.join("; ")
            );
        }
        for v in &diff.vulnerabilities_added {
            outln!("vulnerability added    {v}");
        }
        for v in &diff.vulnerabilities_removed {
            outln!("vulnerability removed  {v}");
        }
    }
    Ok(if diff.is_empty() {
        Outcome::Ok
    } else {
        Outcome::VerificationFailed
    })
}
