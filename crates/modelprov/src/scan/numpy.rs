//! NumPy `.npy` arrays: the header (a Python dict literal, parsed as NumPy parses it) says the
//! dtype; an object dtype, or an object field anywhere in a structured dtype, means the data is
//! a pickle, scanned like any other.

use super::Policy;
use super::pickle::{PickleReport, scan_pickles_with};
use super::pyliteral::{Literal, parse};

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
    let bytes = &data[start..end];
    // NumPy decodes versions 1 and 2 as latin-1 (every byte a character), version 3 as UTF-8.
    let text = if data[6] == 3 {
        std::str::from_utf8(bytes)
            .map_err(|_| "the .npy header is not UTF-8")?
            .to_string()
    } else {
        bytes.iter().map(|&b| char::from(b)).collect()
    };
    Ok((text, end))
}

/// The object-array pickle's report when the array holds objects (an object dtype, or a
/// structured dtype with an object field anywhere: NumPy then writes the data with
/// `pickle.dump`); `None` for plain dtypes.
pub fn scan_npy(data: &[u8], base: usize, policy: &Policy) -> Result<Option<PickleReport>, String> {
    let (text, data_start) = header(data)?;
    let header =
        parse(&text).map_err(|e| format!("the .npy header is not a Python literal: {e}"))?;
    let Literal::Dict(entries) = header else {
        return Err("the .npy header is not a dict".into());
    };
    // Like NumPy: exactly these keys (the last of a repeated key wins, as in Python).
    let key = |name: &str| {
        entries
            .iter()
            .rev()
            .find(|(k, _)| *k == Literal::Str(name.into()))
            .map(|(_, v)| v)
    };
    let keys_ok = entries.iter().all(|(k, _)| {
        matches!(k, Literal::Str(k) if ["descr", "fortran_order", "shape"].contains(&k.as_str()))
    });
    let (Some(descr), Some(_), Some(_), true) =
        (key("descr"), key("fortran_order"), key("shape"), keys_ok)
    else {
        return Err("the .npy header does not have exactly descr, fortran_order and shape".into());
    };
    if has_object(descr, 0)? {
        return Ok(Some(scan_pickles_with(data, data_start, base, policy)));
    }
    Ok(None)
}

/// Whether a `descr` (as `numpy.lib.format.descr_to_dtype` reads it) has an object field.
fn has_object(descr: &Literal, depth: usize) -> Result<bool, String> {
    if depth > 64 {
        return Err("the .npy dtype is nested too deep".into());
    }
    match descr {
        // A type string ('|O', 'O8', 'object', or comma-separated fields such as 'i4,O').
        Literal::Str(code) => Ok(code.contains('O') || code.contains("object")),
        // (base descr, shape)
        Literal::Tuple(items) => match items.first() {
            Some(inner) => has_object(inner, depth + 1),
            None => Err("empty dtype tuple in the .npy header".into()),
        },
        // Fields: (name, descr) or (name, descr, shape); the name may be (title, name).
        Literal::List(fields) => {
            for field in fields {
                let Literal::Tuple(parts) = field else {
                    return Err("a .npy dtype field is not a tuple".into());
                };
                match parts.get(1) {
                    Some(inner) if has_object(inner, depth + 1)? => return Ok(true),
                    Some(_) => {}
                    None => return Err("a .npy dtype field has no type".into()),
                }
            }
            Ok(false)
        }
        _ => Err("the .npy descr is not a dtype".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(header: &str, data: &[u8]) -> Vec<u8> {
        let mut file = b"\x93NUMPY\x01\x00".to_vec();
        file.extend_from_slice(&u16::try_from(header.len()).unwrap().to_le_bytes());
        file.extend_from_slice(header.as_bytes());
        file.extend_from_slice(data);
        file
    }

    const SYSTEM: &[u8] = b"cos\nsystem\n(S'true'\ntR.";

    #[test]
    fn object_fields_anywhere_in_the_dtype_make_the_data_a_pickle() {
        for descr in [
            "'|O'",
            "\"|O\"",
            "[('a', '<i4'), ('b', 'O')]",
            "[('a', [('inner', '|O')], (2,))]",
            "[(('title', 'n'), 'O')]",
            "('O', (2,))",
            "'i4,O'",
        ] {
            let header = format!("{{'descr': {descr}, 'fortran_order': False, 'shape': (1,), }}\n");
            let report = scan_npy(&npy(&header, SYSTEM), 0, &Policy::default()).unwrap();
            let report = report.unwrap_or_else(|| panic!("{descr}: not read as a pickle"));
            assert!(
                report
                    .findings
                    .iter()
                    .any(|f| f.callable.as_deref() == Some("os.system")),
                "{descr}: {report:?}"
            );
        }
    }

    #[test]
    fn plain_dtypes_in_either_quote_style_are_data() {
        for header in [
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
            "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (3,)}",
            "{'descr': [('x', '<f8'), ('O_named', '<i4')], 'fortran_order': False, 'shape': (1, 2)}",
        ] {
            assert_eq!(
                scan_npy(&npy(header, &[0; 12]), 0, &Policy::default()),
                Ok(None),
                "{header}"
            );
        }
    }

    #[test]
    fn headers_numpy_refuses_are_errors() {
        for header in [
            "{'descr': '<f4', 'shape': (3,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1}",
            "{'descr': __import__('os'), 'fortran_order': False, 'shape': (3,)}",
            "['descr']",
        ] {
            assert!(
                scan_npy(&npy(header, &[]), 0, &Policy::default()).is_err(),
                "{header}"
            );
        }
    }
}
