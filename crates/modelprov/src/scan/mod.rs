//! Static scanning of model files for code that runs when they are loaded: pickle-based formats
//! (raw pickles, legacy and zip torch checkpoints, NumPy object arrays) are disassembled and judged
//! by an allowlist; safe formats get their headers checked. Nothing is ever loaded or executed.
//! docs/scanning.md.

mod archive;
mod file_bytes;
mod format;
mod gguf;
mod keras;
mod numpy;
pub mod pickle;

use std::path::{Path, PathBuf};

use serde::Serialize;

use file_bytes::FileBytes;
pub use format::{Format, detect, detect_file};
use pickle::{Finding, PickleReport, Risk, scan_pickles};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Safe,
    /// Neither known safe nor decodable by modelprov: reported, not judged.
    Unscannable,
    /// Runs code on load that is not known to be safe.
    Unsafe,
    /// Claims a format it does not follow: loaders may do anything with it.
    Invalid,
}

#[derive(Clone, Debug, Serialize)]
pub struct FileScan {
    pub path: PathBuf,
    pub format: Format,
    pub verdict: Verdict,
    /// Findings, most dangerous first; `member` names the archive member they are in.
    pub findings: Vec<MemberFinding>,
    pub notes: Vec<String>,
    /// Whether the scan fails (exit 1): unsafe, invalid, or unscannable although a loader
    /// would read it (it could not be read, or its format could not be decoded). Only a file
    /// that is no model format at all (an image, a tokenizer's protobuf) is unscannable and
    /// passes.
    pub fails: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct MemberFinding {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    #[serde(flatten)]
    pub finding: Finding,
}

/// Scans a file, or every regular file below a folder (symlinks not followed, `.git` skipped),
/// in parallel; results in path order.
pub fn scan_path(path: &Path) -> crate::Result<Vec<FileScan>> {
    use rayon::prelude::*;
    let metadata = std::fs::metadata(path).map_err(|e| crate::Error::io("scan", path, e))?;
    let files: Vec<PathBuf> = if metadata.is_file() {
        vec![path.to_path_buf()]
    } else if !metadata.is_dir() {
        // A device or FIFO is no model file; "0 files, ok" would be a pass on nothing.
        return Err(crate::Error::invalid(
            path,
            "is not a file or folder (a device, FIFO or socket); nothing to scan",
        ));
    } else {
        let mut files = Vec::new();
        for entry in walkdir::WalkDir::new(path)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.file_name() != ".git")
        {
            let entry = entry.map_err(|e| crate::Error::invalid(path, e.to_string()))?;
            if entry.file_type().is_file() {
                files.push(entry.into_path());
            }
        }
        files
    };
    let mut scans: Vec<FileScan> = files.par_iter().map(|file| scan_file(file)).collect();
    scans.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(scans)
}

/// Judges a file by its content, as every format its bytes parse as (the worst verdict wins).
pub fn scan_file(path: &Path) -> FileScan {
    let mut scan = FileScan {
        path: path.to_path_buf(),
        format: Format::Unknown,
        verdict: Verdict::Safe,
        findings: Vec::new(),
        notes: Vec::new(),
        fails: false,
    };
    let (head, size) = match read_head(path) {
        Ok(read) => read,
        Err(e) => {
            unscannable(&mut scan, e);
            scan.fails = true;
            return scan;
        }
    };
    scan.format = detect_file(&head, size);
    match scan.format {
        Format::Pickle => match FileBytes::open(path) {
            Ok(data) => add_pickle(&mut scan, None, scan_pickles(&data, 0, 0)),
            Err(e) => unscannable(&mut scan, e),
        },
        Format::Npy => match FileBytes::open(path) {
            Ok(data) => match numpy::scan_npy(&data, 0) {
                Ok(Some(report)) => add_pickle(&mut scan, None, report),
                Ok(None) => {}
                Err(problem) => invalid(&mut scan, problem),
            },
            Err(e) => unscannable(&mut scan, e),
        },
        Format::Zip => {
            let report = archive::scan_zip(path);
            scan.notes.extend(report.notes);
            if let Some(problem) = report.invalid {
                invalid(&mut scan, problem);
            }
            for member in report.members {
                add_pickle(&mut scan, Some(member.name), member.report);
            }
            for (member, config) in report.keras_configs {
                add_keras(&mut scan, Some(member), &config);
            }
        }
        Format::Safetensors => {
            if let Err(error) = crate::card::read_safetensors_summary(path) {
                invalid(&mut scan, error.to_string());
            }
        }
        Format::Gguf => match gguf::read_gguf(path) {
            Ok(header) => {
                scan.notes.push(format!(
                    "GGUF v{}: {} tensors, {} metadata entries",
                    header.version, header.tensors, header.metadata
                ));
                if let Some(escape) = header
                    .chat_template
                    .as_deref()
                    .and_then(gguf::template_escape)
                {
                    flag(
                        &mut scan,
                        None,
                        Risk::Dangerous,
                        "chat-template",
                        format!(
                            "the chat template reaches Python internals ('{escape}'): rendering it can run code"
                        ),
                    );
                }
            }
            Err(problem) => invalid(&mut scan, format!("not a valid GGUF file: {problem}")),
        },
        Format::Hdf5 => match read_head_n(path, H5_CONFIG_WINDOW) {
            Ok(data) => {
                if let Some(config) = keras::h5_model_config(&data) {
                    add_keras(&mut scan, None, &config);
                }
            }
            Err(e) => unscannable(&mut scan, e),
        },
        // Decided below: text and unknown bytes may still be pickles.
        Format::Text | Format::Unknown => {}
    }
    // `pickle.load` runs whatever starts with an opcode, whatever else the bytes are: a
    // safetensors or GGUF header that is also a pickle, a pickle that starts with `V` or `(`,
    // a protocol 0 payload in a text file.
    if scan.format != Format::Pickle && format::pickle_may_start(&head) {
        also_pickle(&mut scan, path);
    }
    let mut no_model_format = false;
    if scan.format == Format::Unknown {
        no_model_format = scan.verdict == Verdict::Safe;
        scan.verdict = scan.verdict.max(Verdict::Unscannable);
        scan.notes.push("not a model format modelprov knows".into());
    }
    scan.fails = match scan.verdict {
        Verdict::Safe => false,
        Verdict::Unscannable => !no_model_format,
        Verdict::Unsafe | Verdict::Invalid => true,
    };
    scan.findings.sort_by(|a, b| {
        b.finding
            .risk
            .cmp(&a.finding.risk)
            .then(a.finding.offset.cmp(&b.finding.offset))
    });
    scan
}

/// Reads a file that is not announced as a pickle as one too; it counts when a loader would
/// have done something with it (see [`PickleReport::acted`]).
fn also_pickle(scan: &mut FileScan, path: &Path) {
    let data = match FileBytes::open(path) {
        Ok(data) => data,
        Err(e) => return unscannable(scan, e),
    };
    let report = scan_pickles(&data, 0, 0);
    if !report.acted() {
        if report.imports > 0 {
            scan.notes.push(format!(
                "starts like a pickle that imports a name and breaks ({}): not loadable as one",
                report.invalid.as_deref().unwrap_or("no STOP")
            ));
        }
        return;
    }
    match scan.format {
        Format::Text | Format::Unknown => scan.format = Format::Pickle,
        other => scan.notes.push(format!(
            "a {other:?} file that is also a pickle: judged as both (pickle.load and torch.load \
             would run the pickle)"
        )),
    }
    add_pickle(scan, None, report);
}

fn add_pickle(scan: &mut FileScan, member: Option<String>, report: PickleReport) {
    let place = member
        .as_ref()
        .map(|m| format!("{m}: "))
        .unwrap_or_default();
    let harmful = report.findings.iter().any(|f| f.risk != Risk::Safe);
    if let Some(problem) = &report.invalid {
        // A stream that breaks after doing something harmful is unsafe: the loader did it.
        if harmful {
            scan.notes.push(format!("{place}{problem}"));
        } else {
            invalid(scan, format!("{place}{problem}"));
        }
    } else if report.trailing_bytes > 0 {
        scan.notes.push(format!(
            "{place}{} bytes follow the last pickle's STOP, from offset {} (not unpickled: \
             a legacy torch file's storages, or data a loader ignores)",
            report.trailing_bytes, report.trailing_offset
        ));
    }
    if report.object_arrays > 0 {
        scan.notes.push(format!(
            "{place}{} NumPy object array(s): their elements are pickled in the same stream and \
             judged with it",
            report.object_arrays
        ));
    }
    if harmful && scan.verdict < Verdict::Unsafe {
        scan.verdict = Verdict::Unsafe;
    }
    scan.findings
        .extend(report.findings.into_iter().map(|finding| MemberFinding {
            member: member.clone(),
            finding,
        }));
}

fn add_keras(scan: &mut FileScan, member: Option<String>, config: &serde_json::Value) {
    for (dangerous, message) in keras::config_findings(config) {
        let risk = if dangerous {
            Risk::Dangerous
        } else {
            Risk::Unknown
        };
        flag(scan, member.clone(), risk, "keras-layer", message);
    }
}

/// A finding outside a pickle (a Keras layer, a chat template).
fn flag(
    scan: &mut FileScan,
    member: Option<String>,
    risk: Risk,
    kind: &'static str,
    message: String,
) {
    scan.findings.push(MemberFinding {
        member,
        finding: Finding {
            risk,
            offset: 0,
            opcode: kind,
            callable: None,
            message,
        },
    });
    if scan.verdict < Verdict::Unsafe {
        scan.verdict = Verdict::Unsafe;
    }
}

fn invalid(scan: &mut FileScan, problem: String) {
    scan.verdict = Verdict::Invalid;
    scan.notes.push(problem);
}

fn unscannable(scan: &mut FileScan, error: std::io::Error) {
    scan.verdict = scan.verdict.max(Verdict::Unscannable);
    scan.notes.push(format!("cannot read: {error}"));
}

/// The first 64 bytes and the size.
fn read_head(path: &Path) -> std::io::Result<(Vec<u8>, u64)> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let mut head = Vec::new();
    file.take(64).read_to_end(&mut head)?;
    Ok((head, size))
}

/// Keras writes the model config among the first attributes of the root group.
const H5_CONFIG_WINDOW: u64 = 64 << 20;

fn read_head_n(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut data = Vec::new();
    std::fs::File::open(path)?
        .take(limit)
        .read_to_end(&mut data)?;
    Ok(data)
}
