//! `modelprov scan PATH`: code that would run when model files are loaded, found statically.

use std::path::PathBuf;

use clap::Args;
use modelprov::scan::{FileScan, Verdict, scan_file};
use modelprov::{Error, Result};
use rayon::prelude::*;
use serde_json::json;

use crate::exit::Outcome;
use crate::output::print_json;

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// A model file or folder.
    pub path: PathBuf,

    /// Print one JSON object on stdout instead of text.
    #[arg(long)]
    pub json: bool,

    /// Print only files that are not safe, and the summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

pub fn run(args: ScanArgs) -> Result<Outcome> {
    let files = files(&args.path)?;
    let mut scans: Vec<FileScan> = files.par_iter().map(|path| scan_file(path)).collect();
    scans.sort_by(|a, b| a.path.cmp(&b.path));
    let count = |verdict: Verdict| scans.iter().filter(|s| s.verdict == verdict).count();
    let (safe, unsafe_, invalid, unscannable) = (
        count(Verdict::Safe),
        count(Verdict::Unsafe),
        count(Verdict::Invalid),
        count(Verdict::Unscannable),
    );
    let failed = unsafe_ + invalid > 0;
    if args.json {
        print_json(&json!({
            "path": args.path,
            "ok": !failed,
            "summary": {"files": scans.len(), "safe": safe, "unsafe": unsafe_, "invalid": invalid, "unscannable": unscannable},
            "files": scans,
        }));
    } else {
        for scan in &scans {
            if args.quiet && scan.verdict == Verdict::Safe {
                continue;
            }
            let label = match scan.verdict {
                Verdict::Safe => "SAFE",
                Verdict::Unsafe => "UNSAFE",
                Verdict::Invalid => "INVALID",
                Verdict::Unscannable => "UNSCANNABLE",
            };
            println!("{label:<11} {} ({:?})", scan.path.display(), scan.format);
            for found in &scan.findings {
                let f = &found.finding;
                let member = found
                    .member
                    .as_ref()
                    .map(|m| format!("{m}: "))
                    .unwrap_or_default();
                println!(
                    "  {:<9} {member}{} at offset {}: {}",
                    format!("{:?}", f.risk).to_lowercase(),
                    f.opcode,
                    f.offset,
                    f.message
                );
            }
            for note in &scan.notes {
                println!("  note      {note}");
            }
        }
        println!(
            "{} files: {safe} safe, {unsafe_} unsafe, {invalid} invalid, {unscannable} unscannable{}",
            scans.len(),
            if failed { " - NOT SAFE TO LOAD" } else { "" }
        );
    }
    Ok(if failed {
        Outcome::VerificationFailed
    } else {
        Outcome::Ok
    })
}

/// The file itself, or every regular file below the folder (no symlinks followed, `.git` skipped).
fn files(path: &std::path::Path) -> Result<Vec<PathBuf>> {
    let metadata = std::fs::metadata(path).map_err(|e| Error::io("scan", path, e))?;
    if metadata.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(path)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git")
    {
        let entry = entry.map_err(|e| Error::invalid(path, e.to_string()))?;
        if entry.file_type().is_file() {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}
