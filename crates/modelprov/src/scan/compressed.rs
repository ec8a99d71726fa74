//! Compressed wrappers as joblib (`compress=`, lz4 included) and pickle users (`gzip.open`, `bz2.open`,
//! `lzma.open`) write them: the content is decompressed under a budget (see `inflate`) and
//! scanned like any file, so a pickle, a joblib dump with arrays or a torch zip inside is judged
//! as itself. Recognised by content, as joblib's own `_detect_compressor` does.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::file_bytes::FileBytes;
use super::format::{Format, detect};
use super::inflate::{Budget, Inflated, Stop, read_bounded};
use super::pickle::scan_pickles_with;
use super::{FileScan, Policy, Verdict};

/// A wrapper inside a wrapper is read (`joblib.dump(..., compress=)` of a `.pkl.gz` stays
/// loadable through two `open`s); deeper nesting is no loader's format.
const MAX_DEPTH: usize = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    Zlib,
    Gzip,
    Bzip2,
    Xz,
    LzmaAlone,
    /// LZ4 frames (joblib `compress='lz4'`, when the `lz4` package is installed).
    Lz4,
    /// joblib < 0.10: `ZF`, the length in hex padded with spaces, then one zlib stream.
    JoblibZfile,
}

impl Codec {
    fn name(self) -> &'static str {
        match self {
            Codec::Zlib => "zlib",
            Codec::Gzip => "gzip",
            Codec::Bzip2 => "bzip2",
            Codec::Xz => "xz",
            Codec::LzmaAlone => "lzma (alone)",
            Codec::Lz4 => "lz4",
            Codec::JoblibZfile => "joblib zfile (zlib)",
        }
    }
}

/// joblib's old `ZF` header: the prefix and the hex length padded to `len(hex(2**64))`, which
/// is 19 bytes under Python 3 and 20 under Python 2 (`0x10000000000000000L`): at most this long.
const MAX_ZFILE_HEADER: usize = 2 + 20;

/// The codec whose header `head` starts with, checked as strictly as the decoders check it.
pub fn codec(head: &[u8]) -> Option<Codec> {
    if head.starts_with(b"\x1f\x8b\x08") {
        return Some(Codec::Gzip);
    }
    if head.len() >= 4 && head.starts_with(b"BZh") && (b'1'..=b'9').contains(&head[3]) {
        return Some(Codec::Bzip2);
    }
    if head.starts_with(b"\xfd7zXZ\x00") {
        return Some(Codec::Xz);
    }
    if head.starts_with(b"\x04\x22\x4d\x18") {
        return Some(Codec::Lz4);
    }
    if head.starts_with(b"ZF0x") {
        return Some(Codec::JoblibZfile);
    }
    if is_zlib_header(head) {
        return Some(Codec::Zlib);
    }
    if is_lzma_alone_header(head) {
        return Some(Codec::LzmaAlone);
    }
    None
}

/// RFC 1950: deflate, a window of at most 32 KiB, no preset dictionary, the check bits right.
/// Only `x` (32 KiB, what zlib and joblib write) and first bytes that are no pickle opcode are
/// taken: `(S` is both a valid zlib header and the start of a protocol 0 pickle.
fn is_zlib_header(head: &[u8]) -> bool {
    let [cmf, flg, ..] = *head else {
        return false;
    };
    cmf & 0x0f == 8
        && cmf >> 4 <= 7
        && flg & 0x20 == 0
        && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0
        && (cmf == b'x' || !super::pickle::is_opcode(cmf))
}

/// The `.lzma` header liblzma's auto decoder accepts (what `lzma.open` reads): properties a
/// valid lc/lp/pb triple, a dictionary size of 2^n or 2^n + 2^(n-1), and a known size below
/// 256 GiB or the unknown marker. Such a header always has NUL bytes, so it is never text; a
/// pickle cannot start with `]\x00` either.
fn is_lzma_alone_header(head: &[u8]) -> bool {
    if head.len() < 13 || head[0] > 224 {
        return false;
    }
    let dict = u32::from_le_bytes(head[1..5].try_into().expect("4 bytes"));
    let size = u64::from_le_bytes(head[5..13].try_into().expect("8 bytes"));
    let dict_ok = dict == u32::MAX || {
        let top = dict.max(1).ilog2();
        let power = 1u32 << top;
        dict == power || (top > 0 && dict == power | (power >> 1))
    };
    dict_ok && (size == u64::MAX || size < 1 << 38)
}

/// Decompresses every stream of `codec` in `input` (the Python readers go on to the next
/// stream after one ends, so a payload may sit in the second).
fn decompress<R: BufRead>(codec: Codec, mut input: R, budget: &mut Budget) -> Inflated {
    match codec {
        Codec::Gzip => read_bounded(
            flate2::bufread::MultiGzDecoder::new(input),
            u64::MAX,
            budget,
        ),
        Codec::Bzip2 => read_bounded(bzip2::bufread::MultiBzDecoder::new(input), u64::MAX, budget),
        Codec::Xz => read_bounded(lzma_rust2::XzReader::new(input, true), u64::MAX, budget),
        Codec::Lz4 => read_bounded(lz4_flex::frame::FrameDecoder::new(input), u64::MAX, budget),
        Codec::LzmaAlone => {
            match lzma_rust2::LzmaReader::new_mem_limit(input, MAX_LZMA_MEMORY_KIB, None) {
                Ok(reader) => read_bounded(reader, u64::MAX, budget),
                Err(e) => corrupt(format!("bad .lzma header: {e}")),
            }
        }
        Codec::JoblibZfile => {
            if let Err(e) = skip_zfile_header(&mut input) {
                return corrupt(format!("bad ZF header: {e}"));
            }
            read_bounded(flate2::bufread::ZlibDecoder::new(input), u64::MAX, budget)
        }
        Codec::Zlib => read_bounded(
            ZlibStreams {
                decoder: Some(flate2::bufread::ZlibDecoder::new(input)),
            },
            u64::MAX,
            budget,
        ),
    }
}

/// Steps over `ZF`, `0x`, the hex digits (and Python 2's `L`) and the padding spaces: the zlib
/// stream starts after them, 21 or 22 bytes in depending on the Python that wrote the file.
fn skip_zfile_header<R: BufRead>(input: &mut R) -> std::io::Result<()> {
    let mut prefix = [0u8; 4];
    input.read_exact(&mut prefix)?;
    if &prefix != b"ZF0x" {
        return Err(std::io::Error::other("no ZF0x prefix"));
    }
    let mut taken = prefix.len();
    let mut in_padding = false;
    loop {
        let Some(&byte) = input.fill_buf()?.first() else {
            return Err(std::io::Error::other("ends inside the header"));
        };
        match byte {
            b' ' => in_padding = true,
            b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' | b'L' if !in_padding => {}
            _ => return Ok(()),
        }
        input.consume(1);
        taken += 1;
        if taken > MAX_ZFILE_HEADER {
            return Err(std::io::Error::other("longer than joblib ever wrote it"));
        }
    }
}

fn corrupt(message: String) -> Inflated {
    Inflated {
        data: Vec::new(),
        stop: Some(Stop::Corrupt(message)),
    }
}

/// liblzma's presets use at most 64 MiB of dictionary; a header claiming gigabytes must not
/// make the decoder reserve them.
const MAX_LZMA_MEMORY_KIB: u32 = 1 << 20;

/// zlib streams one after another, as joblib's `BinaryZlibFile` reads them.
struct ZlibStreams<R: BufRead> {
    decoder: Option<flate2::bufread::ZlibDecoder<R>>,
}

impl<R: BufRead> Read for ZlibStreams<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let Some(decoder) = self.decoder.as_mut() else {
                return Ok(0);
            };
            let n = decoder.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // This stream ended; bufread decoders consume exactly their stream.
            let mut input = self.decoder.take().expect("checked").into_inner();
            if !input.fill_buf()?.is_empty() {
                self.decoder = Some(flate2::bufread::ZlibDecoder::new(input));
            }
        }
    }
}

/// The arm of `scan_file` for a compressed file.
pub fn scan_compressed(scan: &mut FileScan, path: &Path, head: &[u8], policy: &Policy) {
    let Some(codec) = codec(head) else {
        return;
    };
    let compressed = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut budget = Budget::for_input(compressed);
    let inflated = match std::fs::File::open(path) {
        Ok(file) => decompress(codec, BufReader::new(file), &mut budget),
        Err(e) => return super::unscannable(scan, e),
    };
    if inflated.data.is_empty()
        && matches!(inflated.stop, Some(Stop::Corrupt(_)))
        && matches!(codec, Codec::Zlib | Codec::LzmaAlone)
        && let Ok(raw) = FileBytes::open(path)
        && judged_raw(scan, &raw, policy)
    {
        return;
    }
    report(scan, None, codec, inflated, &mut budget, 0, policy);
}

/// Only the header matched (text such as `x^2` starts like a zlib header, a pickle may start
/// like an `.lzma` one) and nothing decompressed: a pickle or text is judged as that.
fn judged_raw(scan: &mut FileScan, raw: &[u8], policy: &Policy) -> bool {
    if super::format::pickle_may_start(raw) {
        let report = scan_pickles_with(raw, 0, 0, policy);
        if report.acted() {
            scan.format = Format::Pickle;
            super::add_pickle(scan, None, report);
            return true;
        }
    }
    if std::str::from_utf8(raw).is_ok_and(|t| !t.contains('\0')) {
        scan.format = Format::Text;
        return true;
    }
    false
}

/// Notes the decompression, flags a bomb or damage, and scans what came out.
fn report(
    scan: &mut FileScan,
    member: Option<String>,
    codec: Codec,
    inflated: Inflated,
    budget: &mut Budget,
    depth: usize,
    policy: &Policy,
) {
    let place = member
        .as_ref()
        .map(|m| format!("{m}: "))
        .unwrap_or_default();
    let inner = detect(&inflated.data[..inflated.data.len().min(64)]);
    scan.notes.push(format!(
        "{place}{}-compressed: {} bytes decompressed, holding {inner:?}",
        codec.name(),
        inflated.data.len()
    ));
    match &inflated.stop {
        None => {}
        Some(Stop::Bomb) => super::invalid(scan, format!("{place}{}", budget.bomb_message())),
        Some(Stop::Corrupt(e)) => super::invalid(
            scan,
            format!(
                "{place}the {} stream is damaged after {} bytes ({e}); what came before is scanned",
                codec.name(),
                inflated.data.len()
            ),
        ),
    }
    scan_contents(scan, member, &inflated.data, budget, depth + 1, policy);
}

/// Scans bytes that came out of a container as `scan_file` scans a file of those bytes; the
/// budget is the outer file's, shared by everything inside it.
pub(super) fn scan_contents(
    scan: &mut FileScan,
    member: Option<String>,
    data: &[u8],
    budget: &mut Budget,
    depth: usize,
    policy: &Policy,
) {
    let head = &data[..data.len().min(64)];
    let place = member
        .as_ref()
        .map(|m| format!("{m}: "))
        .unwrap_or_default();
    let format = detect(head);
    match format {
        Format::Pickle => {
            super::add_pickle(scan, member.clone(), scan_pickles_with(data, 0, 0, policy));
        }
        Format::Npy => match super::numpy::scan_npy(data, 0, policy) {
            Ok(Some(report)) => super::add_pickle(scan, member.clone(), report),
            Ok(None) => {}
            Err(problem) => super::invalid(scan, format!("{place}{problem}")),
        },
        Format::Zip => {
            let report =
                super::archive::scan_zip_reader(std::io::Cursor::new(data), budget, policy);
            super::archive::add_archive(scan, member.as_deref(), report);
        }
        Format::Compressed if depth < MAX_DEPTH => {
            let codec = codec(head).expect("detected as compressed");
            let inflated = decompress(codec, data, budget);
            report(scan, member.clone(), codec, inflated, budget, depth, policy);
        }
        Format::Compressed => super::invalid(
            scan,
            format!("{place}containers nested more than {MAX_DEPTH} deep; not scanned"),
        ),
        // Read as a pickle below, like a file's text.
        Format::Text => {}
        // Raw bytes (joblib 0.9's `.npy.z` side files hold an array's data): nothing unpickles
        // them unless they start like a pickle, which is tried below.
        Format::Unknown => scan.notes.push(format!(
            "{place}the content is raw data, no model format: judged only as a pickle would read it"
        )),
        other => {
            if scan.verdict < Verdict::Unscannable {
                scan.verdict = Verdict::Unscannable;
            }
            scan.notes.push(format!(
                "{place}the content is {other:?}, which no loader reads from inside a container; not judged"
            ));
        }
    }
    // As for files: whatever starts with an opcode is what `pickle.load` on the decompressed
    // stream would run, whatever else it is.
    if !matches!(format, Format::Pickle | Format::Zip | Format::Compressed)
        && super::format::pickle_may_start(head)
    {
        let report = scan_pickles_with(data, 0, 0, policy);
        if report.acted() {
            super::add_pickle(scan, member, report);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_recognised_as_the_python_readers_recognise_them() {
        assert_eq!(codec(b"x\x9c\x01\x02"), Some(Codec::Zlib));
        assert_eq!(codec(b"x^\x03\x00"), Some(Codec::Zlib));
        assert_eq!(codec(b"\x1f\x8b\x08\x00"), Some(Codec::Gzip));
        assert_eq!(codec(b"BZh91AY&SY"), Some(Codec::Bzip2));
        assert_eq!(codec(b"\xfd7zXZ\x00\x00"), Some(Codec::Xz));
        assert_eq!(codec(b"\x04\x22\x4d\x18\x64"), Some(Codec::Lz4));
        assert_eq!(
            codec(b"ZF0x1a               x\x9c"),
            Some(Codec::JoblibZfile)
        );
        let alone = b"]\x00\x00\x80\x00\xff\xff\xff\xff\xff\xff\xff\xff\x00";
        assert_eq!(codec(alone), Some(Codec::LzmaAlone));
        // `(S'...` is a valid zlib header and a protocol 0 pickle: it stays a pickle.
        assert_eq!(codec(b"(S'touch'\ntR."), None);
        assert_eq!(codec(b"]q\x00(K\x01K\x02e."), None);
        // A dictionary size liblzma refuses is no .lzma file.
        assert_eq!(
            codec(b"]\x00\x00\x81\x00\xff\xff\xff\xff\xff\xff\xff\xff"),
            None
        );
    }
}
