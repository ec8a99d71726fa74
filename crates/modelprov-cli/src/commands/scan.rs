//! `modelprov scan PATH`: code that would run when model files are loaded, found statically.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use modelprov::Result;
use modelprov::scan::{FileScan, Verdict, scan_path};
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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Text,
    Json,
    Sarif,
}

pub fn run(args: ScanArgs) -> Result<Outcome> {
    let scans = scan_path(&args.path)?;
    let format = if args.json {
        ScanFormat::Json
    } else {
        args.format
    };
    let failed = if format == ScanFormat::Sarif {
        print_json(&modelprov::scan::sarif::log(&scans));
        scans
            .iter()
            .any(|s| matches!(s.verdict, Verdict::Unsafe | Verdict::Invalid))
    } else {
        report_scans(&scans, format == ScanFormat::Json, args.quiet, &args.path)
    };
    Ok(if failed {
        Outcome::VerificationFailed
    } else {
        Outcome::Ok
    })
}

/// Prints the scans (text or JSON); true when anything is unsafe or invalid.
pub fn report_scans(
    scans: &[FileScan],
    as_json: bool,
    quiet: bool,
    path: &std::path::Path,
) -> bool {
    let count = |verdict: Verdict| scans.iter().filter(|s| s.verdict == verdict).count();
    let (safe, unsafe_, invalid, unscannable) = (
        count(Verdict::Safe),
        count(Verdict::Unsafe),
        count(Verdict::Invalid),
        count(Verdict::Unscannable),
    );
    let failed = unsafe_ + invalid > 0;
    if as_json {
        print_json(&json!({
            "path": path,
            "ok": !failed,
            "summary": {"files": scans.len(), "safe": safe, "unsafe": unsafe_, "invalid": invalid, "unscannable": unscannable},
            "files": scans,
        }));
        return failed;
    }
    for scan in scans {
        if quiet && scan.verdict == Verdict::Safe {
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
    outln!(
        "{} files: {safe} safe, {unsafe_} unsafe, {invalid} invalid, {unscannable} unscannable{}",
        scans.len(),
        if failed { " - NOT SAFE TO LOAD" } else { "" }
    );
    failed
}
