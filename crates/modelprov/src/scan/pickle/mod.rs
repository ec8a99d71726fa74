//! Pickle streams, judged without running them: every opcode decoded, the stack and memo
//! simulated, each imported or invoked callable checked against the allowlist. A file may hold
//! several pickles one after another (legacy `torch.save` files hold five, then raw storage
//! bytes); all are scanned.

mod opcodes;
pub(crate) mod policy;
mod simulate;

use serde::Serialize;

use super::Policy;

pub use opcodes::{DecodeError, is_opcode};
pub use policy::{Risk, danger, risk};
pub use simulate::{Callable, Event};

/// One thing a pickle would do on load that is not known to be safe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub risk: Risk,
    /// Byte offset of the opcode in the file (or archive member).
    pub offset: usize,
    pub opcode: &'static str,
    /// `module.name`, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callable: Option<String>,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PickleReport {
    pub pickles: usize,
    pub findings: Vec<Finding>,
    /// Why the bytes are not a loadable pickle stream, if they are not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid: Option<String>,
    /// Bytes after the last pickle (a legacy torch file's storages, joblib's array data).
    pub trailing_bytes: usize,
}

/// `torch.save`'s legacy (pre-zip) format starts with this magic number, pickled.
const LEGACY_TORCH_MAGIC: &[u8] = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.";
/// Legacy torch files hold the magic, protocol, sys info, the object and the storage keys.
const LEGACY_TORCH_PICKLES: usize = 5;

/// Scans the pickles in `data` starting at `start`; offsets in findings are `base` plus the
/// offset in `data`.
pub fn scan_pickles(data: &[u8], start: usize, base: usize) -> PickleReport {
    scan_pickles_with(data, start, base, &Policy::default())
}

/// [`scan_pickles`] judging callables by a team's `policy`.
pub fn scan_pickles_with(data: &[u8], start: usize, base: usize, policy: &Policy) -> PickleReport {
    let mut report = PickleReport::default();
    let legacy_torch = data[start..].starts_with(LEGACY_TORCH_MAGIC);
    let mut at = start;
    while at < data.len() {
        if legacy_torch && report.pickles == LEGACY_TORCH_PICKLES {
            break;
        }
        match scan_one(data, at, base, &mut report.findings, 0, policy) {
            Ok(end) => {
                report.pickles += 1;
                at = end;
            }
            // After a complete pickle, bytes that do not even start like one are data; a pickle
            // that starts (PROTO) and breaks is a malformed pickle.
            Err(_) if report.pickles > 0 && !starts_like_pickle(&data[at..]) => break,
            Err(error) => {
                report.invalid = Some(format!(
                    "pickle {} at offset {}: {}",
                    report.pickles + 1,
                    base + error.offset,
                    error.message
                ));
                return report;
            }
        }
    }
    report.trailing_bytes = data.len() - at;
    report
}

/// Nested pickles (joblib object arrays inside joblib object arrays) deeper than this are refused.
const MAX_NESTING: usize = 8;

/// Decodes and simulates one pickle at `at`, stepping over the raw data a loader reads between
/// opcodes; judges what it would do. Returns the offset after its STOP.
fn scan_one(
    data: &[u8],
    start: usize,
    base: usize,
    findings: &mut Vec<Finding>,
    depth: usize,
    policy: &Policy,
) -> Result<usize, DecodeError> {
    let mut machine = simulate::Machine::default();
    let mut at = start;
    loop {
        let (op, next) = opcodes::decode_one(data, at)?;
        at = next;
        match machine.step(&op)? {
            None => {}
            Some(simulate::Inline::Bytes { length, aligned }) => {
                if aligned {
                    let padding = usize::from(*data.get(at).ok_or_else(|| DecodeError {
                        offset: at,
                        message: "joblib array padding beyond the file".into(),
                    })?);
                    at += 1 + padding;
                }
                at = at
                    .checked_add(length)
                    .filter(|&end| end <= data.len())
                    .ok_or_else(|| DecodeError {
                        offset: op.offset,
                        message: format!("a joblib array of {length} bytes runs past the file"),
                    })?;
            }
            Some(simulate::Inline::Pickle) if depth < MAX_NESTING => {
                at = scan_one(data, at, base, findings, depth + 1, policy)?;
            }
            Some(simulate::Inline::Pickle) => {
                return Err(DecodeError {
                    offset: op.offset,
                    message: "joblib object arrays nested too deep".into(),
                });
            }
        }
        if op.code == b'.' {
            judge(&machine.events(), base, findings, policy);
            return Ok(at);
        }
    }
}

fn starts_like_pickle(rest: &[u8]) -> bool {
    matches!(rest, [0x80, version, ..] if *version <= 5)
}

fn judge(events: &[Event], base: usize, findings: &mut Vec<Finding>, policy: &Policy) {
    let mut reported_imports = std::collections::BTreeSet::new();
    for event in events {
        match event {
            Event::Import {
                offset,
                opcode,
                callable,
            } => {
                let level = policy.risk(callable);
                if level != Risk::Safe && reported_imports.insert(callable.clone()) {
                    findings.push(Finding {
                        risk: level,
                        offset: base + offset,
                        opcode,
                        callable: Some(callable.to_string()),
                        message: match level {
                            Risk::Dangerous => format!("imports {callable}, which can run code"),
                            Risk::Allowed => format!("imports {callable}, allowed by policy"),
                            _ => format!("imports {callable}, which is not known to be safe"),
                        },
                    });
                }
            }
            Event::Call {
                offset,
                opcode,
                callable,
                texts,
            } => {
                let level = policy.risk_call(callable);
                if policy::object_dtype(callable, texts) {
                    findings.push(Finding {
                        risk: Risk::Unknown,
                        offset: base + offset,
                        opcode,
                        callable: Some(callable.to_string()),
                        message:
                            "builds a NumPy object array: its elements are pickles that run on load"
                                .into(),
                    });
                } else if level != Risk::Safe {
                    findings.push(Finding {
                        risk: level,
                        offset: base + offset,
                        opcode,
                        callable: Some(callable.to_string()),
                        message: match level {
                            Risk::Allowed => {
                                format!("calls {callable} ({opcode}), allowed by policy")
                            }
                            _ => format!("calls {callable} ({opcode})"),
                        },
                    });
                }
            }
            Event::Unresolved {
                offset,
                opcode,
                why,
            } => findings.push(Finding {
                risk: Risk::Dangerous,
                offset: base + offset,
                opcode,
                callable: None,
                message: format!("{opcode} {why}"),
            }),
        }
    }
}

#[cfg(test)]
mod bounds {
    use super::*;

    /// Protocol 2 header, `body`, STOP.
    fn pickle(body: &[u8]) -> Vec<u8> {
        let mut data = b"\x80\x02".to_vec();
        data.extend_from_slice(body);
        data.push(b'.');
        data
    }

    #[test]
    fn doubling_a_value_with_dup_and_tuple2_is_refused_not_an_abort() {
        // A string, then DUP + TUPLE2 repeated: the value doubles each time (2^1000 nodes).
        let mut body = b"X\x04\x00\x00\x00text".to_vec();
        for _ in 0..1000 {
            body.extend_from_slice(b"2\x86");
        }
        let report = scan_pickles(&pickle(&body), 0, 0);
        let why = report.invalid.expect("refused as invalid");
        assert!(why.contains("MiB of values"), "{why}");
    }

    #[test]
    fn copies_through_the_memo_are_bounded_too() {
        // A 1 MiB string memoised, then fetched again and again.
        let mut body = b"X\x00\x00\x10\x00".to_vec();
        body.extend(std::iter::repeat_n(b'a', 1 << 20));
        body.extend_from_slice(b"q\x00");
        for _ in 0..2000 {
            body.extend_from_slice(b"h\x000");
        }
        let report = scan_pickles(&pickle(&body), 0, 0);
        assert!(report.invalid.expect("refused").contains("MiB of values"));
    }

    #[test]
    fn a_million_nested_tuples_are_refused_without_recursing() {
        let mut body = b")".to_vec();
        body.extend(std::iter::repeat_n(0x85u8, 1_000_000)); // TUPLE1
        let report = scan_pickles(&pickle(&body), 0, 0);
        assert!(
            report
                .invalid
                .expect("refused")
                .contains("nested deeper than 256")
        );
    }
}
