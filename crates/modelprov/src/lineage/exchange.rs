//! Records moving between registries as JSON Lines, one
//! `{"statement": <base64 Statement>, "bundle": <Sigstore bundle> | null}` per line.

use std::io::{BufRead, BufReader, Read as _};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::IMPORT_LINE_BYTES;
use super::slsa::parse_lineage_statement;
use super::store::Entry;
use crate::attest::Bundle;
use crate::error::Problem;
use crate::error::{Error, Result};
use crate::trust_policy::TrustPolicy;

/// The export line of `entry` (without its newline). `registry` names the store in errors.
pub fn export_line(entry: &Entry, registry: &Path) -> Result<String> {
    let bundle = match &entry.bundle {
        Some(bytes) => serde_json::from_slice::<Value>(bytes).map_err(|e| {
            Error::invalid(
                registry,
                format!(
                    "the stored signature of {} is damaged: {e}",
                    entry.record.id()
                ),
            )
        })?,
        None => Value::Null,
    };
    Ok(json!({"statement": STANDARD.encode(&entry.statement), "bundle": bundle}).to_string())
}

/// Reads an export file. Every line must be a valid record whose bundle (if any) signs exactly
/// its Statement and, with `keys`, is signed by one of them; a line longer than
/// [`IMPORT_LINE_BYTES`] is refused. One bad line refuses the whole file (errors name the line),
/// so an import is all or nothing. Entries get `recorded_at` as the time they enter a registry.
pub fn read_export(path: &Path, trusted: &TrustPolicy, recorded_at: &str) -> Result<Vec<Entry>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
    let mut reader = BufReader::new(file);
    let mut entries = Vec::new();
    let mut line = Vec::new();
    for number in 1.. {
        line.clear();
        // One byte past the limit tells a line at the limit from a longer one, without reading
        // an endless line into memory.
        let read = (&mut reader)
            .take(IMPORT_LINE_BYTES + 2)
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io("read", path, e))?;
        if read == 0 {
            break;
        }
        let bad =
            |problem: Problem| Error::invalid(path, problem.context(&format!("line {number}")));
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        if line.len() as u64 > IMPORT_LINE_BYTES {
            return Err(bad(format!(
                "longer than {IMPORT_LINE_BYTES} bytes; too long for a lineage record"
            )
            .into()));
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        entries.push(read_line(&line, trusted, path, recorded_at).map_err(bad)?);
    }
    Ok(entries)
}

fn read_line(
    line: &[u8],
    trusted: &TrustPolicy,
    path: &Path,
    recorded_at: &str,
) -> std::result::Result<Entry, Problem> {
    let value: Value = serde_json::from_slice(line).map_err(|e| Problem::because("not JSON", e))?;
    let statement = value["statement"]
        .as_str()
        .and_then(|s| STANDARD.decode(s).ok())
        .ok_or("no base64 'statement'")?;
    let record = parse_lineage_statement(&statement)?;
    let bundle = match &value["bundle"] {
        Value::Null => None,
        bundle => {
            let parsed: Bundle = serde_json::from_value(bundle.clone())
                .map_err(|e| Problem::because("bundle", e))?;
            let payload = parsed
                .dsse_envelope
                .as_ref()
                .and_then(|e| STANDARD.decode(&e.payload).ok());
            if payload.as_deref() != Some(statement.as_slice()) {
                return Err("the bundle signs other bytes than the statement".into());
            }
            if !trusted.is_empty() {
                trusted
                    .verify_envelope(&parsed, Some(&record.name), path)
                    .map_err(|e| match e {
                        Error::NotAuthentic { problem, .. }
                        | Error::InvalidInput { problem, .. } => {
                            format!("{}: {problem}", record.id())
                        }
                        other => format!("{}: {other}", record.id()),
                    })?;
            }
            Some(bundle.to_string().into_bytes())
        }
    };
    if bundle.is_none() && !trusted.is_empty() {
        return Err(format!("{} is not signed", record.id()).into());
    }
    Ok(Entry {
        record,
        statement,
        bundle,
        recorded_at: recorded_at.to_string(),
    })
}
