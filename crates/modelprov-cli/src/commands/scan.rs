//! `modelprov scan PATH`: code that would run when model files are loaded, found statically.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use modelprov::scan::pickle::Risk;
use modelprov::scan::{FileScan, Policy, Verdict, scan_path_with};
use modelprov::{Error, Result};
use serde_json::json;

use crate::exit::Outcome;
use crate::output::{print_json, shown};

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// A model file or folder.
    pub path: PathBuf,

    /// Output on stdout: text, json (one JSON object) or sarif (a SARIF 2.1.0 log for
    /// code-scanning dashboards: one result per finding, with the file and byte offset).
    #[arg(long, value_enum, default_value_t = ScanFormat::Text, value_name = "FORMAT")]
    pub format: ScanFormat,

    /// Same as --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// Print only files that are not safe, and the summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// Classes a team trusts beyond the built-in allowlist: reported as "allowed", not unsafe.
#[derive(Args, Debug, Default)]
pub struct PolicyArgs {
    /// Trust the class MODULE.NAME (as a finding names it); repeatable. Names that can run code
    /// (os.system, builtins.eval, ...) are refused.
    #[arg(long = "allow", value_name = "MODULE.NAME")]
    pub allow: Vec<String>,

    /// Trust the classes a TOML policy file lists: `allow = ["mycompany.models.Net"]`.
    #[arg(long, value_name = "FILE")]
    pub scan_policy: Option<PathBuf>,
}

impl PolicyArgs {
    pub fn requested(&self) -> bool {
        !self.allow.is_empty() || self.scan_policy.is_some()
    }

    pub fn policy(&self) -> Result<Policy> {
        let mut policy = Policy::default();
        if let Some(file) = &self.scan_policy {
            policy.add_file(file)?;
        }
        for name in &self.allow {
            policy
                .allow(name)
                .map_err(|refused| Error::Usage(format!("--allow: {refused}")))?;
        }
        Ok(policy)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Text,
    Json,
    Sarif,
}

pub fn run(args: ScanArgs) -> Result<Outcome> {
    let policy = args.policy.policy()?;
    let scans = scan_path_with(&args.path, &policy)?;
    let format = if args.json {
        ScanFormat::Json
    } else {
        args.format
    };
    let failed = if format == ScanFormat::Sarif {
        print_json(&modelprov::scan::sarif::log(&scans));
        // The library says which verdicts fail (an unreadable model file does).
        scans.iter().any(|s| s.fails)
    } else {
        report_scans(&scans, format == ScanFormat::Json, args.quiet, &args.path)
    };
    Ok(if failed {
        Outcome::VerificationFailed
    } else {
        Outcome::Ok
    })
}

/// Prints the scans (text or JSON); true when any scan fails.
pub fn report_scans(
    scans: &[FileScan],
    as_json: bool,
    quiet: bool,
    path: &std::path::Path,
) -> bool {
    // The library says which verdicts fail (an unreadable model file does).
    let failed = scans.iter().any(|s| s.fails);
    if as_json {
        let mut report = modelprov::scan::report_json(scans);
        report["path"] = json!(path);
        print_json(&report);
        return failed;
    }
    for scan in scans {
        let has_allowed = scan
            .findings
            .iter()
            .any(|f| f.finding.risk == Risk::Allowed);
        if quiet && scan.verdict == Verdict::Safe && !has_allowed {
            continue;
        }
        let label = match scan.verdict {
            Verdict::Safe => "SAFE",
            Verdict::Unsafe => "UNSAFE",
            Verdict::Invalid => "INVALID",
            Verdict::Unscannable => "UNSCANNABLE",
        };
        // Paths, member names and the names a pickle imports are the file's words: escaped.
        outln!(
            "{label:<11} {} ({:?})",
            shown(&scan.path.to_string_lossy()),
            scan.format
        );
        for found in &scan.findings {
            let f = &found.finding;
            let member = found
                .member
                .as_ref()
                .map(|m| format!("{}: ", shown(m)))
                .unwrap_or_default();
            outln!(
                "  {:<9} {member}{} at offset {}: {}",
                format!("{:?}", f.risk).to_lowercase(),
                f.opcode,
                f.offset,
                shown(&f.message)
            );
        }
        for note in &scan.notes {
            outln!("  note      {}", shown(note));
        }
    }
    let report = modelprov::scan::report_json(scans);
    let summary = &report["summary"];
    let allowed = summary["allowed_by_policy"].as_u64().unwrap_or_default();
    outln!(
        "{} files: {} safe, {} unsafe, {} invalid, {} unscannable{}{}",
        scans.len(),
        summary["safe"],
        summary["unsafe"],
        summary["invalid"],
        summary["unscannable"],
        if allowed > 0 {
            format!(" ({allowed} findings allowed by policy)")
        } else {
            String::new()
        },
        if failed { " - NOT SAFE TO LOAD" } else { "" }
    );
    failed
}
