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
    /// How dangerous it is (`Allowed` when a team's policy trusts the callable).
    pub risk: Risk,
    /// Byte offset of the opcode in the file (or archive member).
    pub offset: usize,
    /// The opcode, named as in pickletools (`REDUCE`, `STACK_GLOBAL`), or the kind of a finding
    /// that is not about an opcode (`symlink`, `keras-layer`, `chat-template`).
    pub opcode: &'static str,
    /// `module.name`, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callable: Option<String>,
    /// What it does, for people (`calls os.system (REDUCE)`).
    pub message: String,
}

/// What scanning the pickles of one file (or member) found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PickleReport {
    /// Complete pickles (each up to its STOP).
    pub pickles: usize,
    /// Imports and calls that are not known to be safe, policy-allowed ones included.
    pub findings: Vec<Finding>,
    /// Why the bytes are not a loadable pickle stream, if they are not. A stream that breaks is
    /// still judged on the imports and calls before the break: a loader ran those.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid: Option<String>,
    /// Imports and calls seen, safe or not, in complete and broken streams alike.
    pub imports: usize,
    /// Calls seen, safe or not (a call of a name Python could not import is not counted).
    pub calls: usize,
    /// NumPy object arrays built; their elements are pickled in the same stream, and judged there.
    pub object_arrays: usize,
    /// Bytes after the last pickle (a legacy torch file's storages), and where they start.
    pub trailing_bytes: usize,
    /// Where those trailing bytes start, as an offset in the file (or member).
    pub trailing_offset: usize,
}

impl PickleReport {
    /// Whether a loader given these bytes as a pickle would do something: a complete pickle,
    /// or a broken one that called something or imported a known-dangerous name first. Text
    /// that starts with an opcode (`cat\ndog\n` reads as `GLOBAL at.dog`) and breaks without
    /// calling anything is text.
    pub fn acted(&self) -> bool {
        self.pickles > 0
            || self.calls > 0
            || self.findings.iter().any(|f| f.risk == Risk::Dangerous)
    }
}

/// `torch.save`'s legacy (pre-zip) format starts with this magic number, pickled.
const LEGACY_TORCH_MAGIC: &[u8] = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.";
/// Legacy torch files hold the magic, protocol, sys info, the object and the storage keys.
const LEGACY_TORCH_PICKLES: usize = 5;

/// Scans the pickles in `data` starting at `start`; offsets in findings are `base` plus the
/// offset in `data`. After the first pickle, whatever a second `pickle.load` on the same file
/// would start running is scanned too (multi-stream payloads); bytes that break at once are data.
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
        let mut attempt = PickleReport::default();
        match scan_one(data, at, base, &mut attempt, 0, policy) {
            Ok(end) => {
                report.pickles += 1;
                report.absorb(attempt);
                at = end;
            }
            Err(error) => {
                // A later stream that neither claims to be a pickle (PROTO) nor did anything
                // before breaking is trailing data.
                let claims = starts_like_pickle(&data[at..]);
                let later = report.pickles > 0;
                if later && !claims && !attempt.acted() {
                    break;
                }
                report.absorb(attempt);
                report.invalid = Some(format!(
                    "pickle {} at offset {}: {}",
                    report.pickles + 1,
                    base + error.offset,
                    error.message
                ));
                return report;
            }
        }
        if !super::format::pickle_may_start(&data[at..]) {
            break;
        }
    }
    report.trailing_bytes = data.len() - at;
    report.trailing_offset = base + at;
    report
}

impl PickleReport {
    fn absorb(&mut self, other: PickleReport) {
        self.findings.extend(other.findings);
        self.imports += other.imports;
        self.calls += other.calls;
        self.object_arrays += other.object_arrays;
    }
}

/// Nested pickles (joblib object arrays inside joblib object arrays) deeper than this are refused:
/// a fixed small bound on the only recursion left.
const MAX_NESTING: usize = 8;

/// Decodes and simulates one pickle at `at`, stepping over the raw data a loader reads between
/// opcodes; judges what it would do, also when it breaks. Returns the offset after its STOP.
fn scan_one(
    data: &[u8],
    start: usize,
    base: usize,
    report: &mut PickleReport,
    depth: usize,
    policy: &Policy,
) -> Result<usize, DecodeError> {
    let mut machine = simulate::Machine::default();
    let result = run(data, start, base, report, depth, &mut machine, policy);
    judge(&machine.take_events(), base, report, policy);
    result
}

fn run(
    data: &[u8],
    start: usize,
    base: usize,
    report: &mut PickleReport,
    depth: usize,
    machine: &mut simulate::Machine,
    policy: &Policy,
) -> Result<usize, DecodeError> {
    let mut at = start;
    loop {
        let (op, next) = opcodes::decode_one(data, at)?;
        at = next;
        if op.code == 0x95 {
            frame_fits(data, &op, at)?;
        }
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
                at = scan_one(data, at, base, report, depth + 1, policy)?;
            }
            Some(simulate::Inline::Pickle) => {
                return Err(DecodeError {
                    offset: op.offset,
                    message: "joblib object arrays nested too deep".into(),
                });
            }
        }
        if op.code == b'.' {
            return Ok(at);
        }
    }
}

/// CPython's C unpickler (what `pickle.load` and `torch.load` use) reads a FRAME's bytes ahead
/// and rewinds: a frame that runs past the end of the file stops the load there, but frame
/// boundaries are otherwise not enforced (an opcode may run past its frame). Read the same way.
fn frame_fits(data: &[u8], op: &opcodes::Op, after: usize) -> Result<(), DecodeError> {
    let opcodes::Arg::Int(length) = op.arg else {
        unreachable!("FRAME carries a length")
    };
    let fits = usize::try_from(length)
        .ok()
        .and_then(|length| after.checked_add(length))
        .is_some_and(|end| end <= data.len());
    if fits {
        Ok(())
    } else {
        Err(DecodeError {
            offset: op.offset,
            message: format!("a FRAME of {length} bytes runs past the end of the data"),
        })
    }
}

/// A dotted module path and qualified name made of identifiers.
fn importable(callable: &Callable) -> bool {
    let identifiers = |dotted: &str| {
        dotted.split('.').all(|part| {
            part.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
    };
    identifiers(&callable.module) && identifiers(&callable.name)
}

fn starts_like_pickle(rest: &[u8]) -> bool {
    matches!(rest, [0x80, version, ..] if *version <= 5)
}

fn judge(events: &[Event], base: usize, report: &mut PickleReport, policy: &Policy) {
    let mut reported_imports = std::collections::BTreeSet::new();
    let findings = &mut report.findings;
    for event in events {
        match event {
            Event::Import {
                offset,
                opcode,
                callable,
            } => {
                report.imports += 1;
                // A partial is judged where it is built, by what it wraps.
                if simulate::is_partial(callable) {
                    continue;
                }
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
                via,
            } => {
                // Only a name Python could import counts as something a loader did: text read
                // as INST of `ncluding the rights` stops at the import, having run nothing.
                if importable(callable) {
                    report.calls += 1;
                }
                // A partial built over a function stores it, as an attribute would: it is judged
                // as a name the pickle refers to. Calling the partial during the load is a call of
                // another call's result, reported on its own.
                let level = if via.is_some() {
                    policy.risk(callable)
                } else {
                    policy.risk_call(callable)
                };
                if policy::object_dtype(callable, texts) {
                    // Its elements follow in the same stream (or a joblib nested pickle) and
                    // are judged like everything else there.
                    report.object_arrays += 1;
                } else if level != Risk::Safe {
                    let message = match via {
                        Some(partial) => format!("{partial} over {callable} ({opcode})"),
                        None => format!("calls {callable} ({opcode})"),
                    };
                    let message = if level == Risk::Allowed {
                        format!("{message}, allowed by policy")
                    } else {
                        message
                    };
                    findings.push(Finding {
                        risk: level,
                        offset: base + offset,
                        opcode,
                        callable: Some(callable.to_string()),
                        message,
                    });
                }
            }
            Event::Unresolved {
                offset,
                opcode,
                why,
            } => {
                report.calls += 1;
                findings.push(Finding {
                    risk: Risk::Dangerous,
                    offset: base + offset,
                    opcode,
                    callable: None,
                    message: format!("{opcode} {why}"),
                });
            }
        }
    }
}

#[cfg(test)]
mod bounds {
    use super::*;
    use std::time::{Duration, Instant};

    /// Protocol 2 header, `body`, STOP.
    fn pickle(body: &[u8]) -> Vec<u8> {
        let mut data = b"\x80\x02".to_vec();
        data.extend_from_slice(body);
        data.push(b'.');
        data
    }

    /// Scans `data`, which must take well under a second (these used to abort or run for hours).
    fn quick(data: &[u8]) -> PickleReport {
        let started = Instant::now();
        let report = scan_pickles(data, 0, 0);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
        report
    }

    #[test]
    fn doubling_a_value_with_dup_and_tuple2_shares_it() {
        // 83 bytes: a string, then DUP + TUPLE2 forty times, 2^40 nodes if copied.
        let mut body = b"X\x04\x00\x00\x00text".to_vec();
        for _ in 0..40 {
            body.extend_from_slice(b"2\x86");
        }
        let report = quick(&pickle(&body));
        assert_eq!((report.pickles, report.invalid), (1, None));
        // And a million doublings are still linear.
        let mut body = b"X\x04\x00\x00\x00text".to_vec();
        for _ in 0..1_000_000 {
            body.extend_from_slice(b"2\x86");
        }
        assert_eq!(quick(&pickle(&body)).pickles, 1);
    }

    #[test]
    fn fetching_a_large_value_through_the_memo_again_and_again_shares_it() {
        // A 1 MiB string memoised, then fetched again and again.
        let mut body = b"X\x00\x00\x10\x00".to_vec();
        body.extend(std::iter::repeat_n(b'a', 1 << 20));
        body.extend_from_slice(b"q\x00");
        for _ in 0..50_000 {
            body.extend_from_slice(b"h\x00\x85q\x00");
        }
        assert_eq!(quick(&pickle(&body)).pickles, 1);
    }

    #[test]
    fn a_call_on_a_huge_shared_tuple_again_and_again_costs_a_constant() {
        // A tuple of 100k texts memoised, then called with 30k times.
        let mut body = b"(".to_vec();
        for _ in 0..100_000 {
            body.extend_from_slice(b"X\x02\x00\x00\x00f8");
        }
        body.extend_from_slice(b"tq\x00");
        for _ in 0..30_000 {
            body.extend_from_slice(b"cnumpy\ndtype\nh\x00R0");
        }
        body.extend_from_slice(b"N");
        let report = quick(&pickle(&body));
        assert_eq!(report.pickles, 1);
        assert_eq!(report.calls, 30_000);
    }

    #[test]
    fn a_million_nested_tuples_and_200k_nested_dicts_are_read_without_recursing() {
        let mut body = b")".to_vec();
        body.extend(std::iter::repeat_n(0x85u8, 1_000_000)); // TUPLE1
        let report = quick(&pickle(&body));
        assert_eq!((report.pickles, report.invalid), (1, None));
        // {0: {0: {0: ...}}}: EMPTY_DICT, then key and value 200k deep, closed by SETITEMs.
        let mut body = Vec::new();
        for _ in 0..200_000 {
            body.extend_from_slice(b"}K\x00");
        }
        body.push(b'}');
        body.extend(std::iter::repeat_n(b's', 200_000));
        let report = quick(&pickle(&body));
        assert_eq!((report.pickles, report.invalid), (1, None));
    }

    #[test]
    fn a_broken_stream_keeps_what_it_did_before_the_break() {
        // os.system('id') runs, then the stream breaks: the call is reported.
        let data = b"cos\nsystem\n(S'id'\ntR\xff";
        let report = scan_pickles(data, 0, 0);
        assert!(report.invalid.is_some());
        assert!(report.acted());
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.risk == Risk::Dangerous && f.message.contains("os.system"))
        );
    }

    #[test]
    fn text_that_reads_as_a_call_of_an_unimportable_name_did_nothing() {
        let text = b"(c) 2020 Someone\nAll rights\nincluding these\nand those\nmore text\n";
        let report = scan_pickles(text, 0, 0);
        assert!(report.invalid.is_some());
        assert!(!report.acted(), "{:?}", report.findings);
        // A real call in a broken stream still counts.
        let report = scan_pickles(b"(S'x'\nicollections\nOrderedDict\n\xff", 0, 0);
        assert!(report.acted());
    }

    #[test]
    fn text_after_stop_is_trailing_data_and_a_second_stream_is_scanned() {
        let mut data = b"\x80\x02N.".to_vec();
        data.extend_from_slice(b"hello, world\n");
        let report = scan_pickles(&data, 0, 0);
        assert_eq!((report.pickles, report.trailing_bytes), (1, 13));
        assert_eq!(report.trailing_offset, 4);
        // A protocol 0 payload after a harmless first pickle: a second pickle.load runs it.
        let mut data = b"\x80\x02N.".to_vec();
        data.extend_from_slice(b"cos\nsystem\n(S'id'\ntR.");
        let report = scan_pickles(&data, 0, 0);
        assert_eq!(report.pickles, 2);
        assert!(report.findings.iter().any(|f| f.risk == Risk::Dangerous));
    }

    #[test]
    fn a_binbytes_may_run_past_its_frame_as_cpython_reads_it_but_not_past_the_file() {
        // FRAME of 3 bytes, then a BINBYTES of 4 that runs past it, then os.system.
        let mut data =
            b"\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00B\x04\x00\x00\x00abcd0".to_vec();
        data.extend_from_slice(b"cos\nsystem\n(S'id'\ntR.");
        let report = scan_pickles(&data, 0, 0);
        assert_eq!((report.pickles, report.invalid.clone()), (1, None));
        assert!(report.findings.iter().any(|f| f.risk == Risk::Dangerous));
        // A frame longer than the file stops the load at the FRAME: nothing after it ran.
        let data = b"\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00cos\nsystem\n(S'id'\ntR.";
        let report = scan_pickles(data, 0, 0);
        assert!(report.invalid.unwrap().contains("FRAME"));
        assert!(report.findings.is_empty());
    }

    #[test]
    fn partial_is_judged_by_what_it_wraps() {
        // functools.partial(collections.OrderedDict) with its state: fine.
        let safe = b"\x80\x02cfunctools\npartial\nccollections\nOrderedDict\n\x85R\
                     (ccollections\nOrderedDict\n)}Ntb.";
        let report = scan_pickles(safe, 0, 0);
        assert_eq!(report.invalid, None);
        assert!(report.findings.is_empty(), "{:?}", report.findings);
        // functools.partial(os.system, 'id'): flagged for os.system.
        let bad = b"\x80\x02cfunctools\npartial\ncos\nsystem\nX\x02\x00\x00\x00id\x86R.";
        let report = scan_pickles(bad, 0, 0);
        assert!(
            report.findings.iter().any(|f| f.risk == Risk::Dangerous
                && f.message.contains("functools.partial over os.system"))
        );
        // A partial's state replacing the wrapped function is judged too.
        let swapped = b"\x80\x02cfunctools\npartial\nccollections\nOrderedDict\n\x85R\
                        (cos\nsystem\n)}Ntb.";
        let report = scan_pickles(swapped, 0, 0);
        assert!(report.findings.iter().any(|f| f.risk == Risk::Dangerous));
        // Over something not known statically: dangerous.
        let unknown = b"\x80\x02cfunctools\npartial\n)\x85R.";
        let report = scan_pickles(unknown, 0, 0);
        assert!(report.findings.iter().any(|f| f.risk == Risk::Dangerous));
    }
}
