//! Static scanning of model files for code that runs when they are loaded: pickle-based formats
//! (raw pickles, legacy and zip torch checkpoints, NumPy object arrays) are disassembled and judged
//! by an allowlist; safe formats get their headers checked. Nothing is ever loaded or executed.
//! docs/scanning.md.

mod archive;
mod compressed;
mod format;
mod gguf;
mod inflate;
mod keras;
mod numpy;
pub mod pickle;
mod pyliteral;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use format::{Format, detect};
use pickle::{Finding, PickleReport, Risk, scan_pickles};

/// Text files are tried as protocol 0 pickles up to this size.
const MAX_TEXT_PICKLE: u64 = 64 << 20;

/// Raw pickle files are read whole; bigger than this is not a pickle anyone loads.
const MAX_PICKLE_FILE: u64 = 4 << 30;

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

pub fn scan_file(path: &Path) -> FileScan {
    let mut scan = FileScan {
        path: path.to_path_buf(),
        format: Format::Unknown,
        verdict: Verdict::Safe,
        findings: Vec::new(),
        notes: Vec::new(),
    };
    let head = match read_head(path) {
        Ok(head) => head,
        Err(e) => {
            scan.verdict = Verdict::Unscannable;
            scan.notes.push(format!("cannot read: {e}"));
            return scan;
        }
    };
    scan.format = detect(&head);
    match scan.format {
        Format::Pickle => match read_all(path, MAX_PICKLE_FILE) {
            Ok(data) => add_pickle(&mut scan, None, scan_pickles(&data, 0, 0)),
            Err(e) => unscannable(&mut scan, e),
        },
        Format::Npy => match read_all(path, MAX_PICKLE_FILE) {
            Ok(data) => match numpy::scan_npy(&data, 0) {
                Ok(Some(report)) => add_pickle(&mut scan, None, report),
                Ok(None) => {}
                Err(problem) => invalid(&mut scan, problem),
            },
            Err(e) => unscannable(&mut scan, e),
        },
        Format::Zip => archive::add_archive(&mut scan, None, archive::scan_zip(path)),
        Format::Compressed => compressed::scan_compressed(&mut scan, path, &head),
        Format::Safetensors => {
            if let Err(error) = crate::card::read_safetensors_summary(path) {
                invalid(&mut scan, error.to_string());
            }
        }
        // Text that decodes completely as a pickle is one (a protocol 0 payload named .txt); any
        // other text is just text.
        Format::Text => {
            if head.first().is_some_and(|&b| pickle::is_opcode(b))
                && let Ok(data) = read_all(path, MAX_TEXT_PICKLE)
            {
                let report = scan_pickles(&data, 0, 0);
                if report.invalid.is_none() && report.pickles > 0 {
                    scan.format = Format::Pickle;
                    add_pickle(&mut scan, None, report);
                }
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
        Format::Unknown => {
            scan.verdict = Verdict::Unscannable;
            scan.notes.push("not a model format modelprov knows".into());
        }
    }
    scan.findings.sort_by(|a, b| {
        b.finding
            .risk
            .cmp(&a.finding.risk)
            .then(a.finding.offset.cmp(&b.finding.offset))
    });
    scan
}

fn add_pickle(scan: &mut FileScan, member: Option<String>, report: PickleReport) {
    if let Some(problem) = &report.invalid {
        let place = member
            .as_ref()
            .map(|m| format!("{m}: "))
            .unwrap_or_default();
        invalid(scan, format!("{place}{problem}"));
    }
    if report.findings.iter().any(|f| f.risk != Risk::Safe) && scan.verdict < Verdict::Unsafe {
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
    scan.verdict = Verdict::Unscannable;
    scan.notes.push(format!("cannot read: {error}"));
}

fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(path)?.take(64).read_to_end(&mut head)?;
    Ok(head)
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

fn read_all(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let size = std::fs::metadata(path)?.len();
    if size > limit {
        return Err(std::io::Error::other(format!(
            "{size} bytes is too large to read whole"
        )));
    }
    std::fs::read(path)
}
