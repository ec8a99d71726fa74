//! NumPy `.npy` arrays: the header says the dtype; an object dtype (`|O`) means the data is a
//! pickle, scanned like any other.

use super::Policy;
use super::pickle::{PickleReport, scan_pickles_with};

/// The header dict and where the data starts, or why the bytes are not an `.npy`.
fn header(data: &[u8]) -> Result<(String, usize), String> {
    if !data.starts_with(b"\x93NUMPY") || data.len() < 10 {
        return Err("not an .npy file".into());
    }
    let (length, start): (usize, usize) = match data[6] {
        1 => (usize::from(u16::from_le_bytes([data[8], data[9]])), 10),
        2 | 3 if data.len() >= 12 => (
            u32::from_le_bytes(data[8..12].try_into().expect("4 bytes")) as usize,
            12,
        ),
        version => return Err(format!("unknown .npy version {version}")),
    };
    let end = start
        .checked_add(length)
        .filter(|&e| e <= data.len())
        .ok_or("the .npy header is longer than the file")?;
    let text = std::str::from_utf8(&data[start..end]).map_err(|_| "the .npy header is not text")?;
    Ok((text.to_string(), end))
}

/// The object-array pickle's report when the array holds objects; `None` for plain dtypes.
pub fn scan_npy(data: &[u8], base: usize, policy: &Policy) -> Result<Option<PickleReport>, String> {
    let (text, data_start) = header(data)?;
    let descr = text
        .split("'descr':")
        .nth(1)
        .ok_or("the .npy header has no descr")?
        .trim_start()
        .trim_start_matches(['\'', '"']);
    if descr.starts_with("|O") || descr.starts_with("O") {
        return Ok(Some(scan_pickles_with(data, data_start, base, policy)));
    }
    Ok(None)
}
