//! Printing: warnings and summaries on stderr, results on stdout, JSON when asked.

use modelprov::manifest::{ManifestDiff, Method, Serialization};
use modelprov::verify::Verification;
use serde::Serialize;

pub fn warn_all(warnings: &[String], quiet: bool) {
    if !quiet {
        for warning in warnings {
            eprintln!("warning: {warning}");
        }
    }
}

pub fn print_json(value: &impl Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("output serialises")
    );
}

/// `1.50 GB` style sizes (decimal units, as disk and network speeds are quoted).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.2} {}", UNITS[unit])
    }
}

/// `1 file`, `2 files`.
pub fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

pub fn describe_serialization(serialization: &Serialization) -> String {
    match serialization.method {
        Method::Files => format!("{} over whole files", serialization.algorithm),
        Method::Shards { shard_size } => {
            format!("{} over {shard_size}-byte shards", serialization.algorithm)
        }
    }
}

/// The human report of a verification, one line per difference.
pub fn print_verification(model: &str, source: &str, verification: &Verification) {
    if verification.ok {
        println!("OK: {model} matches {source} ({})", verification.actual);
        return;
    }
    println!("FAILED: {model} does not match {source}");
    match &verification.diff {
        Some(diff) => print_diff(diff),
        None => println!(
            "  the root digest differs; only a digest was given, so the changed files cannot be \
             named (verify against a manifest to see them)"
        ),
    }
    println!("  expected  {}", verification.expected);
    println!("  actual    {}", verification.actual);
}

fn print_diff(diff: &ManifestDiff) {
    let size = |size: Option<u64>| size.map_or(String::new(), |s| format!(" ({})", human_bytes(s)));
    for change in &diff.modified {
        let mut details = Vec::new();
        if let (Some(want), Some(have)) = (change.expected_size, change.actual_size)
            && want != have
        {
            details.push(format!("size {want} -> {have} bytes"));
        }
        if !change.ranges.is_empty() {
            let ranges: Vec<String> = change.ranges.iter().map(ToString::to_string).collect();
            details.push(format!("bytes {}", ranges.join(", ")));
        }
        let details = if details.is_empty() {
            " (content differs)".to_string()
        } else {
            format!(" ({})", details.join("; "))
        };
        println!("  modified  {}{details}", change.path);
    }
    for change in &diff.added {
        println!("  added     {}{}", change.path, size(change.size));
    }
    for change in &diff.missing {
        println!("  missing   {}{}", change.path, size(change.size));
    }
    for change in &diff.renamed {
        println!(
            "  renamed   {} -> {}{}",
            change.from,
            change.to,
            size(change.size)
        );
    }
}
