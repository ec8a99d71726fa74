//! Printing: warnings and summaries on stderr, results on stdout, JSON when asked.
//!
//! Everything goes through [`outln!`]/[`out!`] (stdout) and [`errln!`] (stderr) instead of
//! `println!`, which panics when a write fails. A failed stdout write is remembered and printing
//! stops; `main` then ends the command as [`stdout_failure`] says: quietly with the verdict's own
//! exit code after a closed pipe (as ripgrep does: the reader left), or with exit 2 when the
//! output was lost (a full disk), so a verdict's exit code never becomes a panic's 101.

use std::fmt;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Mutex;

use modelprov::Result;
use modelprov::manifest::{ManifestDiff, Method, Serialization};
use modelprov::verify::Verification;
use serde::Serialize;

/// The first error writing to stdout, after which nothing more is written.
static STDOUT_ERROR: Mutex<Option<io::Error>> = Mutex::new(None);

/// Writes to stdout unless an earlier write failed; a failure is kept for `main`.
pub fn write_stdout(args: fmt::Arguments<'_>) {
    with_stdout(|stdout| stdout.write_fmt(args));
}

/// Writes bytes (a signature, a document) to stdout as they are; see `write_stdout`.
pub fn write_stdout_bytes(bytes: &[u8]) {
    with_stdout(|stdout| stdout.write_all(bytes));
}

fn with_stdout(write: impl FnOnce(&mut io::StdoutLock<'static>) -> io::Result<()>) {
    let mut failure = STDOUT_ERROR
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if failure.is_some() {
        return;
    }
    let mut stdout = io::stdout().lock();
    if let Err(e) = write(&mut stdout).and_then(|()| stdout.flush()) {
        *failure = Some(e);
    }
}

/// Writes to stderr; a failure there (stderr closed or full) has nowhere to be reported.
pub fn write_stderr(args: fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// The error that stopped stdout, if any (taken: asked once, by `main`).
pub fn stdout_failure() -> Option<io::Error> {
    STDOUT_ERROR
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
}

/// `println!` to stdout that never panics.
macro_rules! outln {
    () => { $crate::output::write_stdout(format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` to stdout that never panics.
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write_stdout(format_args!($($arg)*)) };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::write_stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Writes a command's output document to FILE, or to stdout when there is no FILE or it is `-`
/// (every `-o` works this way).
pub fn write_output(path: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match path {
        Some(path) if !is_stdout(path) => modelprov::fsutil::write_atomically(path, bytes),
        _ => {
            write_stdout_bytes(bytes);
            Ok(())
        }
    }
}

/// True for the `-` that stands for stdout.
pub fn is_stdout(path: &Path) -> bool {
    path == Path::new("-")
}

pub fn warn_all(warnings: &[modelprov::Warning], quiet: bool) {
    if !quiet {
        for warning in warnings {
            errln!("warning: {warning}");
        }
    }
}

pub fn print_json(value: &impl Serialize) {
    outln!(
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

/// A file name from a manifest, bundle, archive or folder as it is safe to print: control
/// characters (newlines, terminal escape sequences), bidirectional overrides and backslashes
/// escaped, so that a hostile name cannot forge report lines or hide what it is.
pub fn shown(name: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        c == '\\'
            || c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !name.chars().any(unsafe_char) {
        return name.into();
    }
    let mut text = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        match c {
            '\\' => text.push_str("\\\\"),
            '\n' => text.push_str("\\n"),
            '\r' => text.push_str("\\r"),
            '\t' => text.push_str("\\t"),
            c if unsafe_char(c) => text.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => text.push(c),
        }
    }
    text.into()
}

/// A name with everything outside printable ASCII escaped, to tell apart names that print alike.
fn spelled_out(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c.to_string()
            } else {
                format!("\\u{{{:x}}}", c as u32)
            }
        })
        .collect()
}

/// The human report of a verification, one line per difference.
pub fn print_verification(model: &str, source: &str, verification: &Verification) {
    if verification.ok {
        outln!("OK: {model} matches {source} ({})", verification.actual);
        return;
    }
    outln!("FAILED: {model} does not match {source}");
    match &verification.diff {
        Some(diff) => print_diff(diff),
        None => outln!(
            "  the root digest differs; only a digest was given, so the changed files cannot be \
             named (verify against a manifest to see them)"
        ),
    }
    outln!("  expected  {}", verification.expected);
    outln!("  actual    {}", verification.actual);
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
        outln!("  modified  {}{details}", shown(&change.path));
    }
    for change in &diff.added {
        outln!("  added     {}{}", shown(&change.path), size(change.size));
    }
    for change in &diff.missing {
        outln!("  missing   {}{}", shown(&change.path), size(change.size));
    }
    for change in &diff.renamed {
        outln!(
            "  renamed   {} -> {}{}",
            shown(&change.from),
            shown(&change.to),
            size(change.size)
        );
    }
    for pair in &diff.lookalikes {
        outln!(
            "  note      {} and {} differ only by Unicode normalisation; they print alike",
            spelled_out(&pair.expected),
            spelled_out(&pair.actual)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_cannot_forge_report_lines() {
        assert_eq!(shown("weights.bin"), "weights.bin");
        assert_eq!(
            shown("a\n  modified  b\x1b[2K"),
            "a\\n  modified  b\\u{1b}[2K"
        );
        assert_eq!(shown("x\u{202e}nib.exe"), "x\\u{202e}nib.exe");
        assert_eq!(shown("back\\slash"), "back\\\\slash");
        assert_eq!(spelled_out("cafe\u{301}"), "cafe\\u{301}");
    }
}
