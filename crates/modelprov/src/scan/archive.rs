//! Zip archives (torch checkpoints, `.npz`): every member that is a pickle, by name or by
//! content, is scanned. Members are read raw, as `torch.load` reads them: a bad CRC or odd flag
//! bits (the encryption bit) do not stop the scan; they are reported. Every compression method
//! the loaders read is decoded, all of it under one budget per archive, and members sharing
//! bytes (the classic zip bomb) are a finding.

use std::io::{Read, Seek};
use std::path::Path;

use super::Policy;
use super::format::{Format, detect};
use super::inflate::{Budget, Inflated, Stop, read_bounded};
use super::numpy::scan_npy;
use super::pickle::{PickleReport, scan_pickles_with};

/// Pickle members are small (kilobytes to megabytes); more than this is not one.
const MAX_PICKLE_MEMBER: u64 = 1 << 30;
/// How much of a member that is not named `.pkl` is tried as a pickle.
const MAX_PROBE: u64 = 64 << 20;

pub struct MemberReport {
    pub name: String,
    pub report: PickleReport,
}

pub struct ArchiveReport {
    pub members: Vec<MemberReport>,
    /// Keras `config.json` members, parsed.
    pub keras_configs: Vec<(String, serde_json::Value)>,
    pub notes: Vec<String>,
    pub invalid: Option<String>,
}

pub fn scan_zip(path: &Path, policy: &Policy) -> ArchiveReport {
    match std::fs::File::open(path).and_then(|file| Ok((file.metadata()?.len(), file))) {
        Ok((size, file)) => scan_zip_reader(
            std::io::BufReader::new(file),
            &mut Budget::for_input(size),
            policy,
        ),
        Err(e) => ArchiveReport {
            members: Vec::new(),
            keras_configs: Vec::new(),
            notes: Vec::new(),
            invalid: Some(format!("cannot open: {e}")),
        },
    }
}

/// Scans a zip read from `reader`; everything inflated counts against `budget`.
pub fn scan_zip_reader<R: Read + Seek>(
    reader: R,
    budget: &mut Budget,
    policy: &Policy,
) -> ArchiveReport {
    let mut result = ArchiveReport {
        members: Vec::new(),
        keras_configs: Vec::new(),
        notes: Vec::new(),
        invalid: None,
    };
    let mut archive = match zip::ZipArchive::new(reader) {
        Ok(archive) => archive,
        Err(e) => {
            result.invalid = Some(format!("not a readable zip archive: {e}"));
            return result;
        }
    };
    if let Some(overlap) = overlapping_members(&mut archive) {
        result.invalid = Some(overlap);
    }
    for index in 0..archive.len() {
        let Ok(mut member) = archive.by_index_raw(index) else {
            result
                .notes
                .push(format!("member {index} cannot be located"));
            continue;
        };
        let name = member.name().to_string();
        let size = member.size();
        let method = member.compression();
        let crc = member.crc32();
        if member.encrypted() {
            result.notes.push(format!(
                "{name}: the encryption flag is set (loaders ignore it); scanned as stored"
            ));
        }
        let named_pickle = name.ends_with(".pkl") || name.ends_with(".pickle");
        let named_array = name.ends_with(".npy");
        if name == "config.json" {
            let text = read_member(member, method, size, MAX_PROBE, budget);
            if let Err(problem) = stopped(&name, &text, budget) {
                note_invalid(&mut result, problem);
                continue;
            }
            match serde_json::from_slice(&text.data) {
                Ok(config) => result.keras_configs.push((name, config)),
                Err(e) => result.notes.push(format!("{name}: not JSON: {e}")),
            }
            continue;
        }
        // Tensor storages are most of a checkpoint: look at their first bytes only, and read on
        // only when they start like a pickle or an array.
        if !named_pickle && !named_array {
            let head = read_member(member, method, size, 16, budget);
            if let Err(problem) = stopped(&name, &head, budget) {
                note_invalid(&mut result, problem);
                if head.stop == Some(Stop::Bomb) {
                    break;
                }
                continue;
            }
            if !might_be_pickle_or_array(&head.data) {
                continue;
            }
            match archive.by_index_raw(index) {
                Ok(again) => member = again,
                Err(_) => continue,
            }
        }
        let limit = if named_pickle || named_array {
            MAX_PICKLE_MEMBER
        } else {
            MAX_PROBE
        };
        let inflated = read_member(member, method, size, limit, budget);
        if let Err(problem) = stopped(&name, &inflated, budget) {
            // What came out before the break is what a loader acted on: scanned below.
            note_invalid(&mut result, problem);
        }
        let bomb = inflated.stop == Some(Stop::Bomb);
        let bytes = inflated.data;
        if (bytes.len() as u64) == size && crc32fast::hash(&bytes) != crc {
            result.notes.push(format!(
                "{name}: bad CRC (torch.load does not check it); scanned anyway"
            ));
        }
        scan_member(&mut result, name, &bytes, named_pickle, named_array, policy);
        if bomb {
            break;
        }
    }
    result
        .notes
        .extend(super::torchscript::notes(archive.file_names()));
    result
}

/// The first problem is the verdict's reason; later ones are notes.
fn note_invalid(result: &mut ArchiveReport, problem: String) {
    match result.invalid {
        Some(_) => result.notes.push(problem),
        None => result.invalid = Some(problem),
    }
}

/// Judges one member's bytes: an array, a pickle by name, or a pickle by content.
fn scan_member(
    result: &mut ArchiveReport,
    name: String,
    bytes: &[u8],
    named_pickle: bool,
    named_array: bool,
    policy: &Policy,
) {
    let kind = detect(&bytes[..bytes.len().min(64)]);
    let kind = if kind == Format::Text && might_be_pickle_or_array(bytes) {
        Format::Pickle
    } else {
        kind
    };
    if named_array || kind == Format::Npy {
        match scan_npy(bytes, 0, policy) {
            Ok(Some(report)) => result.members.push(MemberReport { name, report }),
            Ok(None) => {}
            // numpy.load may still read what modelprov cannot: never a pass.
            Err(problem) => note_invalid(result, format!("{name}: {problem}")),
        }
        return;
    }
    if named_pickle {
        result.members.push(MemberReport {
            name,
            report: scan_pickles_with(bytes, 0, 0, policy),
        });
    } else if kind == Format::Pickle {
        // Tensor data can start like a pickle by chance; only a pickle that decodes counts.
        let report = scan_pickles_with(bytes, 0, 0, policy);
        if report.invalid.is_none() && report.pickles > 0 {
            result.members.push(MemberReport { name, report });
        }
    }
}

/// Why reading a member stopped early, as the verdict's reason.
fn stopped(name: &str, inflated: &Inflated, budget: &Budget) -> Result<(), String> {
    match &inflated.stop {
        None => Ok(()),
        Some(Stop::Bomb) => Err(format!("{name}: {}", budget.bomb_message())),
        Some(Stop::Corrupt(e)) => Err(format!(
            "{name}: cannot be decompressed after {} bytes: {e}",
            inflated.data.len()
        )),
    }
}

/// Two members whose bytes overlap: the classic way to make a small zip inflate to gigabytes
/// (and a way to show one content under two names). Sorted by position, so linear in members.
fn overlapping_members<R: Read + Seek>(archive: &mut zip::ZipArchive<R>) -> Option<String> {
    let mut spans = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        if let Ok(member) = archive.by_index_raw(index) {
            let end = member.data_start().saturating_add(member.compressed_size());
            spans.push((member.header_start(), end, member.name().to_string()));
        }
    }
    spans.sort();
    spans.windows(2).find_map(|pair| {
        (pair[0].1 > pair[1].0).then(|| {
            format!(
                "members {} and {} overlap (their bytes are shared): a zip bomb or a disguised member",
                pair[0].2, pair[1].2
            )
        })
    })
}

/// Up to `limit` bytes of a member's content, decompressed without checking its CRC, with
/// every method Python's `zipfile` reads (numpy.load, Keras) besides torch's stored/deflate.
fn read_member<R: Read>(
    member: zip::read::ZipFile<'_, R>,
    method: zip::CompressionMethod,
    size: u64,
    limit: u64,
    budget: &mut Budget,
) -> Inflated {
    use zip::CompressionMethod as M;
    match method {
        M::Stored => read_bounded(member, limit, budget),
        M::Deflated => read_bounded(flate2::read::DeflateDecoder::new(member), limit, budget),
        m if m == M::BZIP2 => read_bounded(bzip2::read::BzDecoder::new(member), limit, budget),
        m if m == M::LZMA => match zip_lzma(member, size) {
            Ok(reader) => read_bounded(reader, limit, budget),
            Err(e) => unreadable(format!("bad LZMA header: {e}")),
        },
        other => unreadable(format!(
            "compression {other}, which modelprov does not read; the member is not scanned"
        )),
    }
}

/// A zip LZMA member: a 2-byte version, a 2-byte properties size, the 5 properties bytes, then
/// raw LZMA, read up to the member's size as `zipfile` does.
fn zip_lzma<R: Read>(mut member: R, size: u64) -> std::io::Result<lzma_rust2::LzmaReader<R>> {
    let mut header = [0u8; 9];
    member.read_exact(&mut header)?;
    if u16::from_le_bytes([header[2], header[3]]) != 5 {
        return Err(std::io::Error::other("properties are not 5 bytes"));
    }
    let dict = u32::from_le_bytes(header[5..9].try_into().expect("4 bytes"));
    lzma_rust2::LzmaReader::new_with_props(member, size, header[4], dict.min(MAX_LZMA_DICT), None)
}

/// liblzma's presets use at most 64 MiB; no real member needs more than this.
const MAX_LZMA_DICT: u32 = 1 << 30;

fn unreadable(message: String) -> Inflated {
    Inflated {
        data: Vec::new(),
        stop: Some(Stop::Corrupt(message)),
    }
}

/// Adds a zip's report to `scan`; `outer` names the container member it came from, if any.
pub fn add_archive(scan: &mut super::FileScan, outer: Option<&str>, report: ArchiveReport) {
    let inside = |name: String| match outer {
        Some(outer) => format!("{outer}: {name}"),
        None => name,
    };
    scan.notes
        .extend(report.notes.into_iter().map(|note| match outer {
            Some(outer) => format!("{outer}: {note}"),
            None => note,
        }));
    if let Some(problem) = report.invalid {
        super::invalid(scan, inside(problem));
    }
    for member in report.members {
        super::add_pickle(scan, Some(inside(member.name)), member.report);
    }
    for (member, config) in report.keras_configs {
        super::add_keras(scan, Some(inside(member)), &config);
    }
}

/// Binary pickles and arrays by their magic; protocol 0 pickles look like text that starts with
/// an opcode, and only decoding tells.
fn might_be_pickle_or_array(head: &[u8]) -> bool {
    match detect(&head[..head.len().min(64)]) {
        Format::Pickle | Format::Npy => true,
        Format::Text => head.first().is_some_and(|&b| super::pickle::is_opcode(b)),
        _ => false,
    }
}
