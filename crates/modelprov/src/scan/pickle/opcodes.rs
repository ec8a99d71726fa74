//! Pickle opcodes of protocols 0 to 5, decoded without executing anything: each opcode with its
//! byte offset and argument, as `pickletools.genops` lists them. Arguments that carry lengths are
//! bounded by the input, so a lying length is an error, never an allocation.

/// What an opcode carries.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    None,
    Int(i64),
    /// A (possibly huge) integer written as text or bytes; only its presence matters here.
    BigInt,
    Float(f64),
    /// Text from a string opcode (UTF-8; Latin-1 for protocol 0 `STRING` bytes).
    Text(String),
    /// Raw bytes (`BINBYTES`, `BINSTRING`): only their length is kept.
    Bytes(usize),
    /// `GLOBAL` and `INST`: module and name.
    Global(String, String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    pub offset: usize,
    pub code: u8,
    pub name: &'static str,
    pub arg: Arg,
}

/// Why bytes are not a pickle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset, in the data decoded, where decoding failed.
    pub offset: usize,
    /// What is wrong there (`the pickle ends without a STOP opcode`).
    pub message: String,
}

/// Argument shapes.
#[derive(Clone, Copy)]
enum Shape {
    None,
    U8,
    U16,
    I32,
    U32,
    U64,
    F64,
    /// Text up to a newline.
    Line,
    /// Two lines: module and name.
    TwoLines,
    /// Length-prefixed data (1, 4 or 8 bytes of length), as text or bytes.
    Text(u8),
    Data(u8),
    /// LONG1 / LONG4: length-prefixed little-endian integer.
    Long(u8),
}

fn table(code: u8) -> Option<(&'static str, Shape)> {
    use Shape::{Data, F64, I32, Line, Long, None, Text, TwoLines, U8, U16, U32, U64};
    Some(match code {
        b'(' => ("MARK", None),
        b'.' => ("STOP", None),
        b'0' => ("POP", None),
        b'1' => ("POP_MARK", None),
        b'2' => ("DUP", None),
        b'F' => ("FLOAT", Line),
        b'I' => ("INT", Line),
        b'J' => ("BININT", I32),
        b'K' => ("BININT1", U8),
        b'L' => ("LONG", Line),
        b'M' => ("BININT2", U16),
        b'N' => ("NONE", None),
        b'P' => ("PERSID", Line),
        b'Q' => ("BINPERSID", None),
        b'R' => ("REDUCE", None),
        b'S' => ("STRING", Line),
        b'T' => ("BINSTRING", Data(4)),
        b'U' => ("SHORT_BINSTRING", Data(1)),
        b'V' => ("UNICODE", Line),
        b'X' => ("BINUNICODE", Text(4)),
        b'a' => ("APPEND", None),
        b'b' => ("BUILD", None),
        b'c' => ("GLOBAL", TwoLines),
        b'd' => ("DICT", None),
        b'}' => ("EMPTY_DICT", None),
        b'e' => ("APPENDS", None),
        b'g' => ("GET", Line),
        b'h' => ("BINGET", U8),
        b'i' => ("INST", TwoLines),
        b'j' => ("LONG_BINGET", U32),
        b'l' => ("LIST", None),
        b']' => ("EMPTY_LIST", None),
        b'o' => ("OBJ", None),
        b'p' => ("PUT", Line),
        b'q' => ("BINPUT", U8),
        b'r' => ("LONG_BINPUT", U32),
        b's' => ("SETITEM", None),
        b't' => ("TUPLE", None),
        b')' => ("EMPTY_TUPLE", None),
        b'u' => ("SETITEMS", None),
        b'G' => ("BINFLOAT", F64),
        0x80 => ("PROTO", U8),
        0x81 => ("NEWOBJ", None),
        0x82 => ("EXT1", U8),
        0x83 => ("EXT2", U16),
        0x84 => ("EXT4", I32),
        0x85 => ("TUPLE1", None),
        0x86 => ("TUPLE2", None),
        0x87 => ("TUPLE3", None),
        0x88 => ("NEWTRUE", None),
        0x89 => ("NEWFALSE", None),
        0x8a => ("LONG1", Long(1)),
        0x8b => ("LONG4", Long(4)),
        b'B' => ("BINBYTES", Data(4)),
        b'C' => ("SHORT_BINBYTES", Data(1)),
        0x8c => ("SHORT_BINUNICODE", Text(1)),
        0x8d => ("BINUNICODE8", Text(8)),
        0x8e => ("BINBYTES8", Data(8)),
        0x8f => ("EMPTY_SET", None),
        0x90 => ("ADDITEMS", None),
        0x91 => ("FROZENSET", None),
        0x92 => ("NEWOBJ_EX", None),
        0x93 => ("STACK_GLOBAL", None),
        0x94 => ("MEMOIZE", None),
        0x95 => ("FRAME", U64),
        0x96 => ("BYTEARRAY8", Data(8)),
        0x97 => ("NEXT_BUFFER", None),
        0x98 => ("READONLY_BUFFER", None),
        _ => return Option::None,
    })
}

/// Whether `code` can start a pickle (anything but STOP; real pickles start with PROTO or MARK).
pub fn is_opcode(code: u8) -> bool {
    table(code).is_some()
}

/// Decodes one pickle starting at `start`, up to and including its STOP. Returns the opcodes and
/// the offset just after STOP.
#[cfg(test)]
pub fn decode(data: &[u8], start: usize) -> Result<(Vec<Op>, usize), DecodeError> {
    let mut ops = Vec::new();
    let mut at = start;
    loop {
        let (op, next) = decode_one(data, at)?;
        at = next;
        let stop = op.code == b'.';
        ops.push(op);
        if stop {
            return Ok((ops, at));
        }
    }
}

/// Decodes the opcode at `at`; returns it and the offset after its argument.
pub fn decode_one(data: &[u8], at: usize) -> Result<(Op, usize), DecodeError> {
    let mut at = at;
    {
        let offset = at;
        let Some(&code) = data.get(at) else {
            return Err(DecodeError {
                offset,
                message: "the pickle ends without a STOP opcode".into(),
            });
        };
        let Some((name, shape)) = table(code) else {
            return Err(DecodeError {
                offset,
                message: format!("0x{code:02x} is not a pickle opcode"),
            });
        };
        at += 1;
        let mut take = |n: usize| -> Result<&[u8], DecodeError> {
            let end = at
                .checked_add(n)
                .filter(|&e| e <= data.len())
                .ok_or_else(|| DecodeError {
                    offset,
                    message: format!("{name} needs {n} more bytes than the file has"),
                })?;
            let slice = &data[at..end];
            at = end;
            Ok(slice)
        };
        let arg = match shape {
            Shape::None => Arg::None,
            Shape::U8 => Arg::Int(i64::from(take(1)?[0])),
            Shape::U16 => Arg::Int(i64::from(u16::from_le_bytes(
                take(2)?.try_into().expect("2 bytes"),
            ))),
            Shape::I32 => Arg::Int(i64::from(i32::from_le_bytes(
                take(4)?.try_into().expect("4 bytes"),
            ))),
            Shape::U32 => Arg::Int(i64::from(u32::from_le_bytes(
                take(4)?.try_into().expect("4 bytes"),
            ))),
            Shape::U64 => Arg::Int(
                i64::try_from(u64::from_le_bytes(take(8)?.try_into().expect("8 bytes")))
                    .unwrap_or(i64::MAX),
            ),
            Shape::F64 => Arg::Float(f64::from_be_bytes(take(8)?.try_into().expect("8 bytes"))),
            Shape::Line => {
                let line = read_line(data, &mut at, offset, name)?;
                match code {
                    b'I' | b'L' | b'g' | b'p' => match line.trim_end_matches('L').parse::<i64>() {
                        Ok(value) => Arg::Int(value),
                        Err(_) if code == b'L' || code == b'I' => {
                            if line
                                .trim_end_matches('L')
                                .trim_start_matches('-')
                                .chars()
                                .all(|c| c.is_ascii_digit())
                                && !line.is_empty()
                            {
                                Arg::BigInt
                            } else if code == b'I' && (line == "00" || line == "01") {
                                Arg::Int(i64::from(line == "01"))
                            } else {
                                return Err(DecodeError {
                                    offset,
                                    message: format!("{name} argument '{line}' is not an integer"),
                                });
                            }
                        }
                        Err(_) => {
                            return Err(DecodeError {
                                offset,
                                message: format!("{name} argument '{line}' is not a memo index"),
                            });
                        }
                    },
                    b'F' => Arg::Float(line.parse().map_err(|_| DecodeError {
                        offset,
                        message: format!("FLOAT argument '{line}' is not a number"),
                    })?),
                    b'S' => Arg::Text(unquote(&line).ok_or_else(|| DecodeError {
                        offset,
                        message: "STRING argument is not a quoted string".into(),
                    })?),
                    _ => Arg::Text(line),
                }
            }
            Shape::TwoLines => {
                let start = at;
                let module = read_line_within(data, &mut at, offset, name, MAX_NAME_LINE)?;
                let qualname = read_line_within(data, &mut at, offset, name, MAX_NAME_LINE)?;
                // CPython decodes both names as strict UTF-8 before importing anything: bytes
                // that are not (tensor data read as a GLOBAL by chance) stop the load here.
                if std::str::from_utf8(&data[start..at]).is_err() {
                    return Err(DecodeError {
                        offset,
                        message: format!("{name} names are not UTF-8"),
                    });
                }
                Arg::Global(module, qualname)
            }
            Shape::Text(width) | Shape::Data(width) | Shape::Long(width) => {
                let length = match width {
                    1 => u64::from(take(1)?[0]),
                    4 => u64::from(u32::from_le_bytes(take(4)?.try_into().expect("4 bytes"))),
                    _ => u64::from_le_bytes(take(8)?.try_into().expect("8 bytes")),
                };
                let length = usize::try_from(length).map_err(|_| DecodeError {
                    offset,
                    message: format!("{name} length {length} is too large"),
                })?;
                let bytes = take(length)?;
                match shape {
                    Shape::Text(_) => Arg::Text(String::from_utf8_lossy(bytes).into_owned()),
                    Shape::Long(_) => long(bytes),
                    // Python 2 `str` (joblib dumps made under Python 2 key their state with it):
                    // loaded as text (`encoding='latin1'`), so kept as text, byte for char.
                    _ if matches!(code, b'T' | b'U') => {
                        Arg::Text(bytes.iter().map(|&b| b as char).collect())
                    }
                    _ => Arg::Bytes(bytes.len()),
                }
            }
        };
        Ok((
            Op {
                offset,
                code,
                name,
                arg,
            },
            at,
        ))
    }
}

/// A LONG1/LONG4 value: two's complement, little-endian; small ones as numbers (Python 2 wrote
/// array shapes as longs).
fn long(bytes: &[u8]) -> Arg {
    if bytes.len() > 8 {
        return Arg::BigInt;
    }
    let fill = if bytes.last().is_some_and(|&b| b & 0x80 != 0) {
        0xff
    } else {
        0
    };
    let mut word = [fill; 8];
    word[..bytes.len()].copy_from_slice(bytes);
    Arg::Int(i64::from_le_bytes(word))
}

/// GLOBAL and INST names are looked for a newline this far: no importable module or attribute
/// has a longer name, and a polyglot read of tensor data must not scan gigabytes for one.
const MAX_NAME_LINE: usize = 64 << 10;

fn read_line(
    data: &[u8],
    at: &mut usize,
    offset: usize,
    name: &str,
) -> Result<String, DecodeError> {
    read_line_within(data, at, offset, name, usize::MAX)
}

fn read_line_within(
    data: &[u8],
    at: &mut usize,
    offset: usize,
    name: &str,
    limit: usize,
) -> Result<String, DecodeError> {
    let rest = &data[*at..];
    let window = &rest[..rest.len().min(limit)];
    let Some(end) = window.iter().position(|&b| b == b'\n') else {
        return Err(DecodeError {
            offset,
            message: if window.len() < rest.len() {
                format!("{name} name longer than {limit} bytes: nothing can be imported by it")
            } else {
                format!("{name} argument has no end of line")
            },
        });
    };
    *at += end + 1;
    // Protocol 0 text is Latin-1 or ASCII; keep every byte as a char.
    Ok(rest[..end]
        .iter()
        .map(|&b| b as char)
        .collect::<String>()
        .trim_end_matches('\r')
        .to_string())
}

/// `'text'` or `"text"` (protocol 0 STRING); escapes are kept as written (only module and
/// attribute names matter, and those have none).
fn unquote(line: &str) -> Option<String> {
    let bytes = line.as_bytes();
    if bytes.len() >= 2
        && (bytes[0] == b'\'' || bytes[0] == b'"')
        && bytes[bytes.len() - 1] == bytes[0]
    {
        Some(line[1..line.len() - 1].to_string())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_0_and_4() {
        let p0 = b"cos\nsystem\n(S'echo hi'\ntR.";
        let (ops, end) = decode(p0, 0).unwrap();
        assert_eq!(end, p0.len());
        assert_eq!(ops[0].arg, Arg::Global("os".into(), "system".into()));
        assert_eq!(ops[2].arg, Arg::Text("echo hi".into()));
        let p4 =
            b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93.";
        let (ops, _) = decode(p4, 0).unwrap();
        assert_eq!(
            ops.iter().map(|o| o.name).collect::<Vec<_>>(),
            [
                "PROTO",
                "FRAME",
                "SHORT_BINUNICODE",
                "MEMOIZE",
                "SHORT_BINUNICODE",
                "MEMOIZE",
                "STACK_GLOBAL",
                "STOP"
            ]
        );
    }

    #[test]
    fn global_names_that_are_not_utf8_stop_the_load_as_in_cpython() {
        let error = decode(b"c\xff\xfe\nsystem\n.", 0).unwrap_err();
        assert!(error.message.contains("not UTF-8"), "{}", error.message);
        let mut long = b"c".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_NAME_LINE + 1));
        long.extend_from_slice(b"\nsystem\n.");
        let error = decode(&long, 0).unwrap_err();
        assert!(
            error.message.contains("name longer than"),
            "{}",
            error.message
        );
    }

    #[test]
    fn lies_and_truncation_are_errors() {
        assert!(
            decode(b"\x80\x04X\xff\xff\xff\x7fabc.", 0)
                .unwrap_err()
                .message
                .contains("more bytes than the file has")
        );
        assert!(
            decode(b"\x80\x04N", 0)
                .unwrap_err()
                .message
                .contains("without a STOP")
        );
        assert_eq!(decode(b"\x80\x04\xff.", 0).unwrap_err().offset, 2);
    }
}
