//! Static scanning of model files for code that runs when they are loaded: pickle-based formats
//! (raw pickles, legacy and zip torch checkpoints, NumPy object arrays) are disassembled and judged
//! by an allowlist; safe formats get their headers checked. Nothing is ever loaded or executed.
//! docs/scanning.md.

mod archive;
mod compressed;
mod file_bytes;
mod files;
mod format;
mod gguf;
mod inflate;
mod keras;
mod numpy;
mod onnx;
pub mod pickle;
mod policy;
mod pyliteral;
mod report;
pub mod sarif;
mod torchscript;

use std::path::{Path, PathBuf};

use serde::Serialize;

use file_bytes::FileBytes;
pub use format::{Format, detect, detect_file};
use pickle::{Finding, PickleReport, Risk, scan_pickles_with};
pub use policy::{Policy, RefusedName};
pub use report::{SCAN_REPORT_PREDICATE_TYPE, report_json, scan_statement};

/// How a scanned file is judged, from best to worst: a file parsing as several formats gets the
/// worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing in it runs code on load, or only callables the allowlist (or a team's policy)
    /// trusts.
    Safe,
    /// Neither known safe nor decodable by modelprov: reported, not judged.
    Unscannable,
    /// Runs code on load that is not known to be safe.
    Unsafe,
    /// Claims a format it does not follow: loaders may do anything with it.
    Invalid,
}

/// What scanning one file found.
#[derive(Clone, Debug, Serialize)]
pub struct FileScan {
    /// The file, as reached from the scanned path (a symlink's own path, not its target).
    pub path: PathBuf,
    /// The format recognised from its content, never its name (text that acts as a pickle is
    /// `Pickle`).
    pub format: Format,
    /// The worst verdict of every format the file parses as.
    pub verdict: Verdict,
    /// Findings, most dangerous first; `member` names the archive member they are in.
    pub findings: Vec<MemberFinding>,
    /// Facts that are not findings: why the file is invalid or unscannable, trailing data, object
    /// arrays, decompression, symlinks read through.
    pub notes: Vec<String>,
    /// Whether the scan fails (exit 1): unsafe, invalid, or unscannable although a loader
    /// would read it (it could not be read, or its format could not be decoded). Only a file
    /// that is no model format at all (an image, a tokenizer's protobuf) is unscannable and
    /// passes.
    pub fails: bool,
}

/// A finding, with the archive member it is in.
#[derive(Clone, Debug, Serialize)]
pub struct MemberFinding {
    /// The zip member's name as the archive records it (`archive/data.pkl`); `None` for the file
    /// itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// The finding; its offset is in the member's decompressed bytes when `member` is set.
    #[serde(flatten)]
    pub finding: Finding,
}

/// Scans a file, or every file below a folder (`.git` skipped; symlinked files followed when
/// they stay inside the model, refused otherwise: `files`), in parallel; results in path order.
/// A file that cannot be opened is an error, not a pass.
pub fn scan_path(path: &Path) -> crate::Result<Vec<FileScan>> {
    scan_path_with(path, &Policy::default())
}

/// [`scan_path`] judging callables by a team's `policy`.
pub fn scan_path_with(path: &Path, policy: &Policy) -> crate::Result<Vec<FileScan>> {
    use rayon::prelude::*;
    let entries = files::list(path)?;
    let mut scans: Vec<FileScan> = entries
        .into_par_iter()
        .map(|entry| match entry {
            // Read through the link's own path: an ONNX model's external data is found from
            // the folder it was opened in, as runtimes find it.
            files::Entry::Scan { shown, real } => {
                std::fs::File::open(&shown).map_err(|e| crate::Error::io("scan", &shown, e))?;
                let mut scan = scan_file_with(&shown, policy);
                if shown != real {
                    scan.notes
                        .push(format!("read through a symlink: {}", real.display()));
                }
                Ok(scan)
            }
            files::Entry::Refused { shown, problem } => {
                let mut scan = FileScan {
                    path: shown,
                    format: Format::Unknown,
                    verdict: Verdict::Safe,
                    findings: Vec::new(),
                    notes: Vec::new(),
                    fails: true,
                };
                flag(&mut scan, None, Risk::Unknown, "symlink", problem);
                Ok(scan)
            }
        })
        .collect::<crate::Result<_>>()?;
    scans.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(scans)
}

/// Judges a file by its content, as every format its bytes parse as (the worst verdict wins).
pub fn scan_file(path: &Path) -> FileScan {
    scan_file_with(path, &Policy::default())
}

/// [`scan_file`] judging callables by a team's `policy`.
pub fn scan_file_with(path: &Path, policy: &Policy) -> FileScan {
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
            Ok(data) => add_pickle(&mut scan, None, scan_pickles_with(&data, 0, 0, policy)),
            Err(e) => unscannable(&mut scan, e),
        },
        Format::Npy => match FileBytes::open(path) {
            Ok(data) => match numpy::scan_npy(&data, 0, policy) {
                Ok(Some(report)) => add_pickle(&mut scan, None, report),
                Ok(None) => {}
                Err(problem) => invalid(&mut scan, problem),
            },
            Err(e) => unscannable(&mut scan, e),
        },
        Format::Zip => archive::add_archive(&mut scan, None, archive::scan_zip(path, policy)),
        Format::Compressed => compressed::scan_compressed(&mut scan, path, &head, policy),
        Format::Safetensors => {
            if let Err(error) = crate::safetensors_header::read_safetensors_summary(path) {
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
        Format::Onnx => onnx::scan_onnx(&mut scan, path),
        // Decided below: text and unknown bytes may still be pickles.
        Format::Text | Format::Unknown => {}
    }
    // `pickle.load` runs whatever starts with an opcode, whatever else the bytes are: a
    // safetensors or GGUF header that is also a pickle, a pickle that starts with `V` or `(`,
    // a protocol 0 payload in a text file. Not a zip: `PK` starts with PERSID, which stock
    // unpicklers refuse, and the loaders that accept it (torch.load) open zips as zips.
    if !matches!(scan.format, Format::Pickle | Format::Zip) && format::pickle_may_start(&head) {
        also_pickle(&mut scan, path, policy);
    }
    let mut no_model_format = false;
    if scan.format == Format::Unknown {
        let compressed = format::looks_compressed(&head);
        no_model_format = scan.verdict == Verdict::Safe && !compressed;
        scan.verdict = scan.verdict.max(Verdict::Unscannable);
        scan.notes.push(if head.starts_with(format::SEVEN_ZIP_MAGIC) {
            // The "nullifAI" models: a checkpoint packed with 7z, loaded once unpacked.
            "a 7z archive, which modelprov does not read: what it holds is not judged, so it is \
             not passed"
                .into()
        } else if compressed {
            "a compressed stream modelprov does not decompress: loaders (joblib) do".into()
        } else {
            "not a model format modelprov knows".into()
        });
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
fn also_pickle(scan: &mut FileScan, path: &Path, policy: &Policy) {
    let data = match FileBytes::open(path) {
        Ok(data) => data,
        Err(e) => return unscannable(scan, e),
    };
    let report = scan_pickles_with(&data, 0, 0, policy);
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
    // What a team's policy allowed is reported but does not make the file unsafe.
    let harmful = report.findings.iter().any(|f| f.risk > Risk::Allowed);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_bytes(name: &str, bytes: &[u8]) -> FileScan {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        scan_file(&path)
    }

    #[test]
    fn a_7z_archive_is_not_passed() {
        // The "nullifAI" models: a torch checkpoint packed with 7z instead of zip.
        let mut bytes = format::SEVEN_ZIP_MAGIC.to_vec();
        bytes.extend_from_slice(b"\x00\x04 packed checkpoint bytes");
        let scan = scan_bytes("pytorch_model.bin", &bytes);
        assert_eq!(scan.verdict, Verdict::Unscannable);
        assert!(scan.fails, "{:?}", scan.notes);
        assert!(
            scan.notes.iter().any(|n| n.contains("7z")),
            "{:?}",
            scan.notes
        );
    }

    #[test]
    fn a_file_that_cannot_be_read_fails_and_bytes_no_loader_takes_pass() {
        let missing = scan_file(Path::new("/nonexistent/pytorch_model.bin"));
        assert_eq!(missing.verdict, Verdict::Unscannable);
        assert!(missing.fails);
        // A PNG starts with NEWFALSE and PERSID, then breaks: nothing a loader would run.
        let png = scan_bytes("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR");
        assert_eq!(png.verdict, Verdict::Unscannable);
        assert!(!png.fails);
        // LZMA-alone data is not a pickle; compressed, it still does not pass undecoded.
        let lzma = scan_bytes("model.pkl.lzma", b"]\x00\x00\x80\x00\xff\xff\xff\xff");
        assert_ne!(lzma.format, Format::Pickle);
        assert!(lzma.fails);
    }

    #[test]
    fn a_pickle_padded_past_4_gib_is_scanned() {
        use std::io::{Seek, Write};
        // BINBYTES8 of 4 GiB + 16 bytes (a sparse hole), then os.system: nothing is read whole.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("padded.pkl");
        let pad: u64 = (4 << 30) + 16;
        let mut file = std::fs::File::create(&path).unwrap();
        file.write_all(b"\x80\x04\x8e").unwrap();
        file.write_all(&pad.to_le_bytes()).unwrap();
        file.seek(std::io::SeekFrom::Current(i64::try_from(pad).unwrap()))
            .unwrap();
        file.write_all(b"0cos\nsystem\n(S'id'\ntR.").unwrap();
        drop(file);
        let scan = scan_file(&path);
        assert_eq!(scan.verdict, Verdict::Unsafe, "{:?}", scan.notes);
        assert!(scan.fails);
    }

    #[test]
    fn a_broken_text_pickle_is_unsafe_when_it_called_something_and_text_otherwise() {
        let broken = scan_bytes("notes.txt", b"cos\nsystem\n(S'id'\ntR and more text\n");
        assert_eq!(
            (broken.format, broken.verdict),
            (Format::Pickle, Verdict::Unsafe)
        );
        let words = scan_bytes("labels.txt", b"cat\ndog\nfish\n");
        assert_eq!((words.format, words.verdict), (Format::Text, Verdict::Safe));
        // A pickle starting with PROTO that breaks without doing anything harmful is invalid.
        let truncated = scan_bytes("model.pkl", b"\x80\x04\x8c\x02os");
        assert_eq!(truncated.verdict, Verdict::Invalid);
    }
}
