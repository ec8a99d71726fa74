//! Zip archives (torch checkpoints, `.npz`): every member that is a pickle, by name or by
//! content, is scanned. Members are read raw, as `torch.load` reads them: a bad CRC or odd flag
//! bits (the encryption bit) do not stop the scan; they are reported.

use std::io::Read;
use std::path::Path;

use super::Policy;
use super::format::{Format, detect};
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
    let mut result = ArchiveReport {
        members: Vec::new(),
        keras_configs: Vec::new(),
        notes: Vec::new(),
        invalid: None,
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) => {
            result.invalid = Some(format!("cannot open: {e}"));
            return result;
        }
    };
    let mut archive = match zip::ZipArchive::new(std::io::BufReader::new(file)) {
        Ok(archive) => archive,
        Err(e) => {
            result.invalid = Some(format!("not a readable zip archive: {e}"));
            return result;
        }
    };
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
            let mut text = Vec::new();
            match read_member(member, method, MAX_PROBE, &mut text)
                .map(|_| serde_json::from_slice(&text))
            {
                Ok(Ok(config)) => result.keras_configs.push((name, config)),
                Ok(Err(e)) => result.notes.push(format!("{name}: not JSON: {e}")),
                Err(e) => result.notes.push(format!("{name}: {e}")),
            }
            continue;
        }
        // Tensor storages are most of a checkpoint: look at their first bytes only, and read on
        // only when they start like a pickle or an array.
        if !named_pickle && !named_array {
            let mut head = Vec::new();
            if read_member(member, method, 16, &mut head).is_err()
                || !might_be_pickle_or_array(&head)
            {
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
        let mut bytes = Vec::new();
        if let Err(e) = read_member(member, method, limit, &mut bytes) {
            result.notes.push(format!("{name}: {e}"));
            continue;
        }
        if (bytes.len() as u64) == size && crc32fast::hash(&bytes) != crc {
            result.notes.push(format!(
                "{name}: bad CRC (torch.load does not check it); scanned anyway"
            ));
        }
        let kind = detect(&bytes[..bytes.len().min(64)]);
        let kind = if kind == Format::Text && might_be_pickle_or_array(&bytes) {
            Format::Pickle
        } else {
            kind
        };
        if named_array || kind == Format::Npy {
            match scan_npy(&bytes, 0, policy) {
                Ok(Some(report)) => result.members.push(MemberReport { name, report }),
                Ok(None) => {}
                Err(problem) => result.notes.push(format!("{name}: {problem}")),
            }
            continue;
        }
        if named_pickle {
            result.members.push(MemberReport {
                name,
                report: scan_pickles_with(&bytes, 0, 0, policy),
            });
        } else if kind == Format::Pickle {
            // Tensor data can start like a pickle by chance; only a pickle that decodes counts.
            let report = scan_pickles_with(&bytes, 0, 0, policy);
            if report.invalid.is_none() && report.pickles > 0 {
                result.members.push(MemberReport { name, report });
            }
        }
    }
    result
        .notes
        .extend(super::torchscript::notes(archive.file_names()));
    result
}

/// Up to `limit` bytes of a member's content, decompressed without checking its CRC.
fn read_member<R: Read>(
    member: zip::read::ZipFile<'_, R>,
    method: zip::CompressionMethod,
    limit: u64,
    out: &mut Vec<u8>,
) -> std::io::Result<()> {
    match method {
        zip::CompressionMethod::Stored => member.take(limit).read_to_end(out).map(|_| ()),
        zip::CompressionMethod::Deflated => flate2::read::DeflateDecoder::new(member)
            .take(limit)
            .read_to_end(out)
            .map(|_| ()),
        other => Err(std::io::Error::other(format!(
            "compression {other} is not read"
        ))),
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
