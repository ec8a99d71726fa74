//! The pickle machine's stack and memo, simulated just enough to know which callables a pickle
//! imports (`GLOBAL`, `STACK_GLOBAL`, `INST`) and invokes (`REDUCE`, `BUILD`, `NEWOBJ`,
//! `NEWOBJ_EX`, `INST`, `OBJ`), even when the names come through the memo or are built on the
//! stack. Nothing is constructed or called.

use std::collections::HashMap;

use super::opcodes::{Arg, DecodeError, Op};

/// A callable as `module.qualname`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Callable {
    pub module: String,
    pub name: String,
}

impl std::fmt::Display for Callable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.module, self.name)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Value {
    Mark,
    Text(String),
    Int(i64),
    /// An imported callable; `None` when its name could not be known statically.
    Global(Option<Callable>),
    /// Items and nesting depth (a leaf value is depth 0; see [`MAX_DEPTH`]).
    Tuple(Vec<Value>, usize),
    Dict(Vec<(Value, Value)>, usize),
    /// What calling something returned: an instance of the callable (when known), with the text
    /// arguments it was given (`numpy.dtype('f8')`).
    Object(Option<Callable>, Vec<String>),
    Other,
}

/// Raw data that a loader reads from the stream itself, between opcodes: joblib writes each NumPy
/// array's bytes right after its `NumpyArrayWrapper` (object arrays as a nested pickle).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inline {
    Bytes { length: usize, aligned: bool },
    Pickle,
}

const JOBLIB_WRAPPER: &str = "joblib.numpy_pickle.NumpyArrayWrapper";

/// What the pickle would do when loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Import {
        offset: usize,
        opcode: &'static str,
        callable: Callable,
    },
    Call {
        offset: usize,
        opcode: &'static str,
        callable: Callable,
        texts: Vec<String>,
    },
    /// An import or call whose target cannot be determined without running the pickle.
    Unresolved {
        offset: usize,
        opcode: &'static str,
        why: String,
    },
}

/// Tuples and dicts nest at most this deep: deeper would make dropping or walking a value
/// recurse as deep as the input says (a million `TUPLE1`s is a 1 MB pickle).
const MAX_DEPTH: usize = 256;

/// At most this many bytes of values are copied while simulating one pickle (`DUP`, the memo,
/// the texts a call records). Copies are what let a small pickle grow without bound: each
/// `DUP` + `TUPLE2` doubles a value, and 3 KB of them would ask for more memory than exists.
const MAX_COPIED_BYTES: usize = 1 << 30;

/// The pickle machine, one opcode at a time.
#[derive(Default)]
pub struct Machine {
    stack: Vec<Value>,
    memo: HashMap<i64, Value>,
    events: Vec<Event>,
    copied: usize,
}

/// The nesting depth of a value.
fn depth(value: &Value) -> usize {
    match value {
        Value::Tuple(_, depth) | Value::Dict(_, depth) => *depth,
        _ => 0,
    }
}

/// The bytes a copy of `value` costs, counting only up to `limit` (then `limit + 1`).
fn weight(value: &Value, limit: usize) -> usize {
    const NODE: usize = std::mem::size_of::<Value>();
    let own = NODE
        + match value {
            Value::Text(text) => text.len(),
            Value::Global(Some(callable)) | Value::Object(Some(callable), _) => {
                callable.module.len() + callable.name.len()
            }
            _ => 0,
        };
    let mut total = own;
    let add = |part: usize, total: &mut usize| {
        *total = total.saturating_add(part);
        *total > limit
    };
    match value {
        Value::Tuple(items, _) => {
            for item in items {
                if add(weight(item, limit), &mut total) {
                    return limit + 1;
                }
            }
        }
        Value::Dict(entries, _) => {
            for (key, item) in entries {
                if add(weight(key, limit), &mut total) || add(weight(item, limit), &mut total) {
                    return limit + 1;
                }
            }
        }
        Value::Object(_, texts) => {
            total = total.saturating_add(texts.iter().map(String::len).sum());
        }
        _ => {}
    }
    total.min(limit + 1)
}

impl Machine {
    pub fn events(self) -> Vec<Event> {
        self.events
    }

    /// Charges `bytes` of copying to the budget; past it the pickle is too large to analyse.
    fn charge(&mut self, op: &Op, bytes: usize) -> Result<(), DecodeError> {
        self.copied = self.copied.saturating_add(bytes);
        if self.copied > MAX_COPIED_BYTES {
            return Err(DecodeError {
                offset: op.offset,
                message: format!(
                    "{} makes the pickle copy more than {} MiB of values (each DUP or memo GET \
                     copies one): a pickle built to exhaust memory, not a model",
                    op.name,
                    MAX_COPIED_BYTES >> 20
                ),
            });
        }
        Ok(())
    }

    /// A copy of `value`, charged to the budget.
    fn copy(&mut self, op: &Op, value: &Value) -> Result<Value, DecodeError> {
        self.charge(op, weight(value, MAX_COPIED_BYTES))?;
        Ok(value.clone())
    }

    /// A copy of the top of the stack (for the memo), charged to the budget.
    fn top_copy(&mut self, op: &Op) -> Result<Value, DecodeError> {
        let top = match self.stack.last() {
            Some(value) if *value != Value::Mark => value.clone(),
            _ => {
                return Err(DecodeError {
                    offset: op.offset,
                    message: format!("{} on an empty stack", op.name),
                });
            }
        };
        self.charge(op, weight(&top, MAX_COPIED_BYTES))?;
        Ok(top)
    }

    /// A tuple or dict of `children`, refused past [`MAX_DEPTH`].
    fn nested<'v>(
        op: &Op,
        children: impl Iterator<Item = &'v Value>,
    ) -> Result<usize, DecodeError> {
        let depth = 1 + children.map(depth).max().unwrap_or(0);
        if depth > MAX_DEPTH {
            return Err(DecodeError {
                offset: op.offset,
                message: format!("tuples and dicts nested deeper than {MAX_DEPTH} levels"),
            });
        }
        Ok(depth)
    }

    fn pop(&mut self, op: &Op) -> Result<Value, DecodeError> {
        match self.stack.pop() {
            Some(Value::Mark) | None => Err(DecodeError {
                offset: op.offset,
                message: format!("{} finds too few values on the stack", op.name),
            }),
            Some(value) => Ok(value),
        }
    }

    fn pop_mark(&mut self, op: &Op) -> Result<Vec<Value>, DecodeError> {
        let Some(at) = self.stack.iter().rposition(|v| *v == Value::Mark) else {
            return Err(DecodeError {
                offset: op.offset,
                message: format!("{} has no MARK to go back to", op.name),
            });
        };
        let items = self.stack.split_off(at + 1);
        self.stack.pop();
        Ok(items)
    }

    fn call(&mut self, op: &Op, target: Value, args: Vec<Value>) -> Result<(), DecodeError> {
        let mut texts = Vec::new();
        collect_texts(&args, &mut texts);
        // The texts are kept twice (the event and the result), the callable up to three times.
        let callable_bytes = match &target {
            Value::Global(Some(callable)) => callable.module.len() + callable.name.len(),
            _ => 0,
        };
        self.charge(
            op,
            2 * texts.iter().map(String::len).sum::<usize>() + 3 * callable_bytes,
        )?;
        let result = match target {
            Value::Global(Some(callable)) => {
                // copyreg rebuilds an instance of the class it is given.
                let class = match (callable.name.as_str(), args.first()) {
                    ("_reconstructor" | "__newobj__", Some(Value::Tuple(items, _))) => {
                        match items.first() {
                            Some(Value::Global(Some(class))) => Some(class.clone()),
                            _ => Some(callable.clone()),
                        }
                    }
                    _ => Some(callable.clone()),
                };
                self.events.push(Event::Call {
                    offset: op.offset,
                    opcode: op.name,
                    callable,
                    texts: texts.clone(),
                });
                class
            }
            Value::Global(None) => {
                self.events.push(Event::Unresolved {
                    offset: op.offset,
                    opcode: op.name,
                    why: "calls a callable whose name is not known statically".into(),
                });
                None
            }
            // Calling the result of another call (a gadget chain: getattr(...)(...)).
            Value::Object(..) => {
                self.events.push(Event::Unresolved {
                    offset: op.offset,
                    opcode: op.name,
                    why: "calls the result of another call".into(),
                });
                None
            }
            _ => {
                self.events.push(Event::Unresolved {
                    offset: op.offset,
                    opcode: op.name,
                    why: "calls something that is not an imported callable".into(),
                });
                None
            }
        };
        self.stack.push(Value::Object(result, texts));
        Ok(())
    }

    /// What follows a joblib array wrapper's BUILD: the array's bytes, or a nested pickle.
    fn joblib_array(&self, op: &Op, state: &Value) -> Result<Inline, DecodeError> {
        let invalid = |message: &str| DecodeError {
            offset: op.offset,
            message: format!("joblib array: {message}"),
        };
        let Value::Dict(entries, _) = state else {
            return Err(invalid("the wrapper's state is not a dict"));
        };
        let field = |name: &str| {
            entries
                .iter()
                .find(|(k, _)| *k == Value::Text(name.into()))
                .map(|(_, v)| v)
        };
        let Some(Value::Object(_, dtype)) = field("dtype") else {
            return Err(invalid("no dtype"));
        };
        let descr = dtype
            .first()
            .ok_or_else(|| invalid("a dtype without a name"))?;
        let descr = descr.trim_start_matches(['<', '>', '|', '=']);
        if descr.starts_with('O') {
            return Ok(Inline::Pickle);
        }
        let (kind, digits) = descr.split_at(
            descr
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(descr.len()),
        );
        let count: usize = digits.parse().unwrap_or(if kind == "?" { 1 } else { 0 });
        let itemsize = match kind {
            "f" | "i" | "u" | "c" | "b" | "?" | "S" | "a" | "V" | "m" | "M" => count,
            "U" => count * 4,
            _ => 0,
        };
        if itemsize == 0 {
            return Err(invalid(&format!(
                "dtype '{descr}' has no size modelprov knows"
            )));
        }
        let Some(Value::Tuple(shape, _)) = field("shape") else {
            return Err(invalid("no shape"));
        };
        let mut elements: usize = 1;
        for dimension in shape {
            let Value::Int(n) = dimension else {
                return Err(invalid("a shape that is not integers"));
            };
            elements = usize::try_from(*n)
                .ok()
                .and_then(|n| elements.checked_mul(n))
                .ok_or_else(|| invalid("a shape too large"))?;
        }
        let length = elements
            .checked_mul(itemsize)
            .ok_or_else(|| invalid("an array too large"))?;
        let aligned = matches!(field("numpy_array_alignment_bytes"), Some(Value::Int(_)));
        Ok(Inline::Bytes { length, aligned })
    }

    /// Applies one opcode; returns the raw data the loader reads next, if any.
    pub fn step(&mut self, op: &Op) -> Result<Option<Inline>, DecodeError> {
        match op.name {
            "PROTO" | "FRAME" => {}
            "STOP" => {
                self.pop(op)?;
            }
            "MARK" => self.stack.push(Value::Mark),
            "POP" => {
                if self.stack.pop().is_none() {
                    return Err(DecodeError {
                        offset: op.offset,
                        message: "POP on an empty stack".into(),
                    });
                }
            }
            "POP_MARK" => {
                self.pop_mark(op)?;
            }
            "DUP" => {
                let top = self.pop(op)?;
                let copy = self.copy(op, &top)?;
                self.stack.push(copy);
                self.stack.push(top);
            }
            "STRING" | "SHORT_BINSTRING" | "UNICODE" | "BINUNICODE" | "SHORT_BINUNICODE"
            | "BINUNICODE8" => {
                self.stack.push(match &op.arg {
                    Arg::Text(text) => Value::Text(text.clone()),
                    _ => Value::Other,
                });
            }
            "GLOBAL" => {
                let Arg::Global(module, name) = &op.arg else {
                    unreachable!("GLOBAL carries names")
                };
                let callable = Callable {
                    module: module.clone(),
                    name: name.clone(),
                };
                self.events.push(Event::Import {
                    offset: op.offset,
                    opcode: op.name,
                    callable: callable.clone(),
                });
                self.stack.push(Value::Global(Some(callable)));
            }
            "STACK_GLOBAL" => {
                let name = self.pop(op)?;
                let module = self.pop(op)?;
                match (module, name) {
                    (Value::Text(module), Value::Text(name)) => {
                        let callable = Callable { module, name };
                        self.events.push(Event::Import {
                            offset: op.offset,
                            opcode: op.name,
                            callable: callable.clone(),
                        });
                        self.stack.push(Value::Global(Some(callable)));
                    }
                    _ => {
                        self.events.push(Event::Unresolved {
                            offset: op.offset,
                            opcode: op.name,
                            why: "imports a name that is computed, not written in the pickle"
                                .into(),
                        });
                        self.stack.push(Value::Global(None));
                    }
                }
            }
            "INST" => {
                let Arg::Global(module, name) = &op.arg else {
                    unreachable!("INST carries names")
                };
                let args = self.pop_mark(op)?;
                let callable = Callable {
                    module: module.clone(),
                    name: name.clone(),
                };
                self.events.push(Event::Import {
                    offset: op.offset,
                    opcode: op.name,
                    callable: callable.clone(),
                });
                self.call(op, Value::Global(Some(callable)), args)?;
            }
            "OBJ" => {
                let mut items = self.pop_mark(op)?;
                if items.is_empty() {
                    return Err(DecodeError {
                        offset: op.offset,
                        message: "OBJ without a class".into(),
                    });
                }
                let class = items.remove(0);
                self.call(op, class, items)?;
            }
            "REDUCE" => {
                let args = self.pop(op)?;
                let callable = self.pop(op)?;
                self.call(op, callable, vec![args])?;
            }
            "NEWOBJ" => {
                let args = self.pop(op)?;
                let class = self.pop(op)?;
                self.call(op, class, vec![args])?;
            }
            "NEWOBJ_EX" => {
                let kwargs = self.pop(op)?;
                let args = self.pop(op)?;
                let class = self.pop(op)?;
                self.call(op, class, vec![args, kwargs])?;
            }
            "BUILD" => {
                let state = self.pop(op)?;
                let target = self.pop(op)?;
                // BUILD on an imported callable itself sets attributes on a class or module.
                if let Value::Global(_) = target {
                    self.call(op, target, vec![state])?;
                    return Ok(None);
                }
                let joblib = matches!(&target, Value::Object(Some(class), _) if class.to_string() == JOBLIB_WRAPPER);
                self.stack.push(target);
                if joblib {
                    return self.joblib_array(op, &state).map(Some);
                }
            }
            "APPEND" | "SETITEM" | "SETITEMS" | "APPENDS" | "ADDITEMS" => {
                let mut pairs = Vec::new();
                match op.name {
                    "APPEND" => {
                        self.pop(op)?;
                    }
                    "SETITEM" => {
                        let value = self.pop(op)?;
                        let key = self.pop(op)?;
                        pairs.push((key, value));
                    }
                    "SETITEMS" => {
                        let mut items = self.pop_mark(op)?.into_iter();
                        while let (Some(key), Some(value)) = (items.next(), items.next()) {
                            pairs.push((key, value));
                        }
                    }
                    _ => {
                        self.pop_mark(op)?;
                    }
                }
                if let Some(Value::Dict(_, depth_now)) = self.stack.last() {
                    let added =
                        Self::nested(op, pairs.iter().flat_map(|(k, v)| [k, v]))?.max(*depth_now);
                    if let Some(Value::Dict(entries, depth)) = self.stack.last_mut() {
                        entries.extend(pairs);
                        *depth = added;
                    }
                }
                if self.stack.last().is_none_or(|v| *v == Value::Mark) {
                    return Err(DecodeError {
                        offset: op.offset,
                        message: format!("{} has no container to add to", op.name),
                    });
                }
            }
            "DICT" => {
                let mut items = self.pop_mark(op)?.into_iter();
                let mut entries = Vec::new();
                while let (Some(key), Some(value)) = (items.next(), items.next()) {
                    entries.push((key, value));
                }
                let depth = Self::nested(op, entries.iter().flat_map(|(k, v)| [k, v]))?;
                self.stack.push(Value::Dict(entries, depth));
            }
            "EMPTY_DICT" => self.stack.push(Value::Dict(Vec::new(), 1)),
            "LIST" | "FROZENSET" => {
                self.pop_mark(op)?;
                self.stack.push(Value::Other);
            }
            "INT" | "BININT" | "BININT1" | "BININT2" | "LONG" => self.stack.push(match op.arg {
                Arg::Int(value) => Value::Int(value),
                _ => Value::Other,
            }),
            "TUPLE" => {
                let items = self.pop_mark(op)?;
                let depth = Self::nested(op, items.iter())?;
                self.stack.push(Value::Tuple(items, depth));
            }
            "TUPLE1" | "TUPLE2" | "TUPLE3" => {
                let n = usize::from(op.name.as_bytes()[5] - b'0');
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.pop(op)?);
                }
                items.reverse();
                let depth = Self::nested(op, items.iter())?;
                self.stack.push(Value::Tuple(items, depth));
            }
            "EMPTY_TUPLE" => self.stack.push(Value::Tuple(Vec::new(), 1)),
            "PUT" | "BINPUT" | "LONG_BINPUT" => {
                let Arg::Int(index) = op.arg else {
                    unreachable!("PUT carries an index")
                };
                let top = self.top_copy(op)?;
                self.memo.insert(index, top);
            }
            "MEMOIZE" => {
                let top = self.top_copy(op)?;
                self.memo.insert(self.memo.len() as i64, top);
            }
            "GET" | "BINGET" | "LONG_BINGET" => {
                let Arg::Int(index) = op.arg else {
                    unreachable!("GET carries an index")
                };
                let stored = self.memo.get(&index).cloned().ok_or_else(|| DecodeError {
                    offset: op.offset,
                    message: format!("{} of memo entry {index}, which was never stored", op.name),
                })?;
                // Charged after the clone: the memo entry itself was charged when it was stored,
                // so this clone is no larger than what the budget already allowed once.
                self.charge(op, weight(&stored, MAX_COPIED_BYTES))?;
                self.stack.push(stored);
            }
            "BINPERSID" | "READONLY_BUFFER" => {
                self.pop(op)?;
                self.stack.push(Value::Other);
            }
            "EXT1" | "EXT2" | "EXT4" => {
                self.events.push(Event::Unresolved {
                    offset: op.offset,
                    opcode: op.name,
                    why: "imports through the copyreg extension registry".into(),
                });
                self.stack.push(Value::Global(None));
            }
            // Constants, empty containers, PERSID, NEXT_BUFFER.
            _ => self.stack.push(Value::Other),
        }
        Ok(None)
    }
}

fn collect_texts(values: &[Value], out: &mut Vec<String>) {
    for value in values {
        match value {
            Value::Text(text) => out.push(text.clone()),
            Value::Tuple(items, _) => collect_texts(items, out),
            _ => {}
        }
    }
}
