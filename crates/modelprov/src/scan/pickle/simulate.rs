//! The pickle machine's stack and memo, simulated just enough to know which callables a pickle
//! imports (`GLOBAL`, `STACK_GLOBAL`, `INST`) and invokes (`REDUCE`, `BUILD`, `NEWOBJ`,
//! `NEWOBJ_EX`, `INST`, `OBJ`), even when the names come through the memo or are built on the
//! stack. Nothing is constructed or called.
//!
//! Bounded by construction: values are shared (`Rc`), as the real unpickler shares objects, so
//! `DUP`, the memo and `GET` cost one pointer however large the value; nothing walks a value
//! recursively (containers are dropped with a work list, calls look at most two levels into their
//! arguments and keep a few short texts). Memory and time are linear in the number of opcodes.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::opcodes::{Arg, DecodeError, Op};

/// A callable as `module.qualname`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Callable {
    /// The module the pickle names (`collections`, `torch._utils`).
    pub module: String,
    /// The qualified name inside `module` (`OrderedDict`, `_rebuild_tensor_v2`).
    pub name: String,
}

impl std::fmt::Display for Callable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.module, self.name)
    }
}

#[derive(Clone)]
enum Value {
    Mark,
    Text(Rc<str>),
    Int(i64),
    /// An imported callable; `None` when its name could not be known statically.
    Global(Option<Rc<Callable>>),
    Tuple(Rc<Items>),
    /// Mutable and shared: `SETITEMS` on a memoised dict is seen through the memo too.
    Dict(Rc<RefCell<Entries>>),
    /// What calling something returned: an instance of the callable (when known), with the short
    /// texts it was given (`numpy.dtype('f8')`).
    Object(Option<Rc<Callable>>, Rc<[String]>),
    Other,
}

struct Items(Vec<Value>);
struct Entries(Vec<(Value, Value)>);

/// Drops nested containers with a work list: a million nested tuples would otherwise drop
/// through a million nested calls.
fn drop_iteratively(mut pending: Vec<Value>) {
    while let Some(value) = pending.pop() {
        match value {
            Value::Tuple(items) => {
                if let Ok(mut items) = Rc::try_unwrap(items) {
                    pending.append(&mut items.0);
                }
            }
            Value::Dict(entries) => {
                if let Ok(entries) = Rc::try_unwrap(entries) {
                    let mut entries = entries.into_inner();
                    for (key, value) in entries.0.drain(..) {
                        pending.push(key);
                        pending.push(value);
                    }
                }
            }
            _ => {}
        }
    }
}

impl Drop for Items {
    fn drop(&mut self) {
        drop_iteratively(std::mem::take(&mut self.0));
    }
}

impl Drop for Entries {
    fn drop(&mut self) {
        drop_iteratively(
            std::mem::take(&mut self.0)
                .into_iter()
                .flat_map(|(k, v)| [k, v])
                .collect(),
        );
    }
}

/// Raw data that a loader reads from the stream itself, between opcodes: joblib writes each NumPy
/// array's bytes right after its `NumpyArrayWrapper` (object arrays as a nested pickle).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inline {
    Bytes { length: usize, aligned: bool },
    Pickle,
}

/// joblib < 0.10's wrappers of arrays saved beside the dump: the loader opens the side file named
/// in the state, joined to the dump's folder, with `numpy.load(..., allow_pickle=True)`.
const JOBLIB_SIDE_FILE_WRAPPERS: &[&str] = &[
    "joblib.numpy_pickle.NDArrayWrapper",
    "joblib.numpy_pickle.ZNDArrayWrapper",
    "joblib.numpy_pickle_compat.NDArrayWrapper",
    "joblib.numpy_pickle_compat.ZNDArrayWrapper",
    "sklearn.externals.joblib.numpy_pickle.NDArrayWrapper",
    "sklearn.externals.joblib.numpy_pickle.ZNDArrayWrapper",
];

/// Whether a side file's name leaves the dump's folder (`os.path.join` keeps an absolute
/// second part; `..` climbs out): that file is loaded, pickles and all, but never scanned.
fn leaves_folder(name: &str) -> bool {
    let drive = name.as_bytes().get(1) == Some(&b':');
    name.starts_with(['/', '\\']) || drive || name.split(['/', '\\']).any(|part| part == "..")
}

/// joblib's array wrapper, under its own name and under the copy scikit-learn vendored
/// (`sklearn.externals.joblib`, before scikit-learn 0.23).
const JOBLIB_WRAPPERS: &[&str] = &[
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
];

/// `functools.partial` is judged by the callable it wraps, not by its module.
pub fn is_partial(callable: &Callable) -> bool {
    matches!(callable.module.as_str(), "functools" | "_functools") && callable.name == "partial"
}

/// A call records at most this many texts from its arguments, each at most [`MAX_TEXT`] bytes:
/// enough for a dtype's name, and a constant cost per call however large the arguments.
const MAX_TEXTS: usize = 8;
const MAX_TEXT: usize = 64;
/// Items of one argument tuple looked at for texts.
const MAX_ITEMS_LOOKED_AT: usize = 16;

/// What the pickle would do when loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A callable imported by `GLOBAL`, `STACK_GLOBAL` or `INST`.
    Import {
        /// Byte offset of the opcode in the data decoded.
        offset: usize,
        /// The opcode, named as in pickletools (`STACK_GLOBAL`).
        opcode: &'static str,
        /// The callable imported.
        callable: Callable,
    },
    /// An imported callable invoked (`REDUCE`, `NEWOBJ`, `NEWOBJ_EX`, `INST`, `OBJ`, or `BUILD` on
    /// the callable itself), or the function a `functools.partial` wraps.
    Call {
        /// Byte offset of the opcode in the data decoded.
        offset: usize,
        /// The opcode, named as in pickletools (`REDUCE`).
        opcode: &'static str,
        /// The callable invoked, or the function a partial wraps.
        callable: Callable,
        /// Short texts among its arguments (at most 8, each at most 64 bytes), such as a dtype's
        /// name.
        texts: Vec<String>,
        /// `functools.partial` when `callable` is what a partial wraps.
        via: Option<Callable>,
    },
    /// An import or call whose target cannot be determined without running the pickle.
    Unresolved {
        /// Byte offset of the opcode in the data decoded.
        offset: usize,
        /// The opcode, named as in pickletools (`STACK_GLOBAL`, `REDUCE`).
        opcode: &'static str,
        /// Why it cannot be judged, worded to follow the opcode name: `calls the result of
        /// another call`.
        why: String,
    },
}

/// The pickle machine, one opcode at a time.
#[derive(Default)]
pub struct Machine {
    stack: Vec<Value>,
    memo: HashMap<i64, Value>,
    events: Vec<Event>,
}

impl Machine {
    /// The events so far (a stream that breaks is judged on what it did before the break).
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
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
        let Some(at) = self.stack.iter().rposition(|v| matches!(v, Value::Mark)) else {
            return Err(DecodeError {
                offset: op.offset,
                message: format!("{} has no MARK to go back to", op.name),
            });
        };
        let items = self.stack.split_off(at + 1);
        self.stack.pop();
        Ok(items)
    }

    fn import(&mut self, op: &Op, module: String, name: String) -> Rc<Callable> {
        let callable = Callable { module, name };
        self.events.push(Event::Import {
            offset: op.offset,
            opcode: op.name,
            callable: callable.clone(),
        });
        Rc::new(callable)
    }

    fn unresolved(&mut self, op: &Op, why: &str) {
        self.events.push(Event::Unresolved {
            offset: op.offset,
            opcode: op.name,
            why: why.into(),
        });
    }

    fn call(&mut self, op: &Op, target: Value, args: Vec<Value>) -> Result<(), DecodeError> {
        let texts: Rc<[String]> = short_texts(&args).into();
        let result = match target {
            Value::Global(Some(callable)) if is_partial(&callable) => {
                self.partial(op, &callable, args.first());
                Some(callable)
            }
            Value::Global(Some(callable)) => {
                // copyreg rebuilds an instance of the class it is given.
                let class = match (callable.name.as_str(), args.first()) {
                    ("_reconstructor" | "__newobj__", Some(Value::Tuple(items))) => {
                        match items.0.first() {
                            Some(Value::Global(Some(class))) => class.clone(),
                            _ => callable.clone(),
                        }
                    }
                    _ => callable.clone(),
                };
                self.events.push(Event::Call {
                    offset: op.offset,
                    opcode: op.name,
                    callable: (*callable).clone(),
                    texts: texts.to_vec(),
                    via: None,
                });
                Some(class)
            }
            Value::Global(None) => {
                self.unresolved(op, "calls a callable whose name is not known statically");
                None
            }
            // Calling the result of another call (a gadget chain: getattr(...)(...)).
            Value::Object(..) => {
                self.unresolved(op, "calls the result of another call");
                None
            }
            _ => {
                self.unresolved(op, "calls something that is not an imported callable");
                None
            }
        };
        self.stack.push(Value::Object(result, texts));
        Ok(())
    }

    /// `partial(func, ...)` built (REDUCE, NEWOBJ) or given its state (BUILD: `(func, args,
    /// kwds, dict)`): the event is a call of `func`, so its risk is `func`'s.
    fn partial(&mut self, op: &Op, partial: &Callable, args: Option<&Value>) {
        // REDUCE and NEWOBJ pass an argument tuple; INST and OBJ the arguments themselves.
        let wrapped = match args {
            Some(Value::Tuple(items)) => items.0.first().cloned(),
            Some(global @ Value::Global(_)) => Some(global.clone()),
            _ => None,
        };
        match wrapped {
            Some(Value::Global(Some(func))) => self.events.push(Event::Call {
                offset: op.offset,
                opcode: op.name,
                callable: (*func).clone(),
                texts: Vec::new(),
                via: Some(partial.clone()),
            }),
            _ => self.unresolved(
                op,
                &format!("builds {partial} over a callable that is not known statically"),
            ),
        }
    }

    /// An old joblib wrapper's side file: one outside the dump's folder, or one whose name is
    /// not written in the pickle, is loaded unscanned.
    fn side_file(&mut self, op: &Op, state: &Value) {
        let filename = match state {
            Value::Dict(entries) => entries.borrow().0.iter().find_map(|(k, v)| match (k, v) {
                (Value::Text(key), Value::Text(name)) if &**key == "filename" => {
                    Some(name.to_string())
                }
                _ => None,
            }),
            _ => None,
        };
        match filename {
            Some(name) if !leaves_folder(&name) => {}
            Some(name) => self.unresolved(
                op,
                &format!(
                    "makes joblib load the array file '{name}', outside the dump's folder, with \
                     allow_pickle=True (its pickles run; it is not scanned with this file)"
                ),
            ),
            None => self.unresolved(
                op,
                "makes joblib load an array file whose name is not written in the pickle",
            ),
        }
    }

    /// What follows a joblib array wrapper's BUILD: the array's bytes, or a nested pickle.
    fn joblib_array(op: &Op, state: &Value) -> Result<Inline, DecodeError> {
        let invalid = |message: &str| DecodeError {
            offset: op.offset,
            message: format!("joblib array: {message}"),
        };
        let Value::Dict(entries) = state else {
            return Err(invalid("the wrapper's state is not a dict"));
        };
        let entries = entries.borrow();
        let field = |name: &str| {
            entries
                .0
                .iter()
                .find(|(k, _)| matches!(k, Value::Text(key) if &**key == name))
                .map(|(_, v)| v.clone())
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
        let count: usize = digits.parse().unwrap_or(usize::from(kind == "?"));
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
        let Some(Value::Tuple(shape)) = field("shape") else {
            return Err(invalid("no shape"));
        };
        let mut elements: usize = 1;
        for dimension in &shape.0 {
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
                self.stack.push(top.clone());
                self.stack.push(top);
            }
            "STRING" | "SHORT_BINSTRING" | "BINSTRING" | "UNICODE" | "BINUNICODE"
            | "SHORT_BINUNICODE" | "BINUNICODE8" => {
                self.stack.push(match &op.arg {
                    Arg::Text(text) => Value::Text(text.as_str().into()),
                    _ => Value::Other,
                });
            }
            "GLOBAL" => {
                let Arg::Global(module, name) = &op.arg else {
                    unreachable!("GLOBAL carries names")
                };
                let callable = self.import(op, module.clone(), name.clone());
                self.stack.push(Value::Global(Some(callable)));
            }
            "STACK_GLOBAL" => {
                let name = self.pop(op)?;
                let module = self.pop(op)?;
                match (module, name) {
                    (Value::Text(module), Value::Text(name)) => {
                        let callable = self.import(op, module.to_string(), name.to_string());
                        self.stack.push(Value::Global(Some(callable)));
                    }
                    _ => {
                        self.unresolved(
                            op,
                            "imports a name that is computed, not written in the pickle",
                        );
                        self.stack.push(Value::Global(None));
                    }
                }
            }
            "INST" => {
                let Arg::Global(module, name) = &op.arg else {
                    unreachable!("INST carries names")
                };
                let args = self.pop_mark(op)?;
                let callable = self.import(op, module.clone(), name.clone());
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
            "REDUCE" | "NEWOBJ" => {
                let args = self.pop(op)?;
                let callable = self.pop(op)?;
                self.call(op, callable, vec![args])?;
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
                let class = match &target {
                    Value::Object(Some(class), _) => Some(class.clone()),
                    _ => None,
                };
                self.stack.push(target);
                if let Some(class) = class {
                    // A partial's state replaces the function it wraps.
                    if is_partial(&class) {
                        self.partial(op, &class, Some(&state));
                    }
                    let name = class.to_string();
                    if JOBLIB_WRAPPERS.contains(&name.as_str()) {
                        return Self::joblib_array(op, &state).map(Some);
                    }
                    if JOBLIB_SIDE_FILE_WRAPPERS.contains(&name.as_str()) {
                        self.side_file(op, &state);
                    }
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
                match self.stack.last() {
                    None | Some(Value::Mark) => {
                        return Err(DecodeError {
                            offset: op.offset,
                            message: format!("{} has no container to add to", op.name),
                        });
                    }
                    Some(Value::Dict(entries)) => entries.borrow_mut().0.extend(pairs),
                    Some(_) => {}
                }
            }
            "DICT" => {
                let mut items = self.pop_mark(op)?.into_iter();
                let mut entries = Vec::new();
                while let (Some(key), Some(value)) = (items.next(), items.next()) {
                    entries.push((key, value));
                }
                self.stack
                    .push(Value::Dict(Rc::new(RefCell::new(Entries(entries)))));
            }
            "EMPTY_DICT" => self
                .stack
                .push(Value::Dict(Rc::new(RefCell::new(Entries(Vec::new()))))),
            "LIST" | "FROZENSET" => {
                self.pop_mark(op)?;
                self.stack.push(Value::Other);
            }
            "INT" | "BININT" | "BININT1" | "BININT2" | "LONG" | "LONG1" | "LONG4" => {
                self.stack.push(match op.arg {
                    Arg::Int(value) => Value::Int(value),
                    _ => Value::Other,
                });
            }
            "TUPLE" => {
                let items = self.pop_mark(op)?;
                self.stack.push(Value::Tuple(Rc::new(Items(items))));
            }
            "TUPLE1" | "TUPLE2" | "TUPLE3" => {
                let n = usize::from(op.name.as_bytes()[5] - b'0');
                if self.stack.len() < n
                    || self.stack[self.stack.len() - n..]
                        .iter()
                        .any(|v| matches!(v, Value::Mark))
                {
                    return Err(DecodeError {
                        offset: op.offset,
                        message: format!("{} finds too few values on the stack", op.name),
                    });
                }
                let items = self.stack.split_off(self.stack.len() - n);
                self.stack.push(Value::Tuple(Rc::new(Items(items))));
            }
            "EMPTY_TUPLE" => self.stack.push(Value::Tuple(Rc::new(Items(Vec::new())))),
            "PUT" | "BINPUT" | "LONG_BINPUT" => {
                let Arg::Int(index) = op.arg else {
                    unreachable!("PUT carries an index")
                };
                let top = self.top(op)?;
                self.memo.insert(index, top);
            }
            "MEMOIZE" => {
                let top = self.top(op)?;
                self.memo
                    .insert(i64::try_from(self.memo.len()).unwrap_or(i64::MAX), top);
            }
            "GET" | "BINGET" | "LONG_BINGET" => {
                let Arg::Int(index) = op.arg else {
                    unreachable!("GET carries an index")
                };
                let stored = self.memo.get(&index).cloned().ok_or_else(|| DecodeError {
                    offset: op.offset,
                    message: format!("{} of memo entry {index}, which was never stored", op.name),
                })?;
                self.stack.push(stored);
            }
            "BINPERSID" | "READONLY_BUFFER" => {
                self.pop(op)?;
                self.stack.push(Value::Other);
            }
            "EXT1" | "EXT2" | "EXT4" => {
                self.unresolved(op, "imports through the copyreg extension registry");
                self.stack.push(Value::Global(None));
            }
            // Constants, empty containers, PERSID, NEXT_BUFFER.
            _ => self.stack.push(Value::Other),
        }
        Ok(None)
    }

    /// The top of the stack, shared (for the memo).
    fn top(&self, op: &Op) -> Result<Value, DecodeError> {
        match self.stack.last() {
            Some(Value::Mark) | None => Err(DecodeError {
                offset: op.offset,
                message: format!("{} on an empty stack", op.name),
            }),
            Some(value) => Ok(value.clone()),
        }
    }
}

/// The short texts among a call's arguments and the items of its argument tuples (a dtype's
/// name is `numpy.dtype(('f8', False, True))`'s first).
fn short_texts(args: &[Value]) -> Vec<String> {
    let mut texts = Vec::new();
    let mut keep = |value: &Value| {
        if let Value::Text(text) = value
            && text.len() <= MAX_TEXT
            && texts.len() < MAX_TEXTS
        {
            texts.push(text.to_string());
        }
    };
    for arg in args {
        match arg {
            Value::Tuple(items) => items.0.iter().take(MAX_ITEMS_LOOKED_AT).for_each(&mut keep),
            other => keep(other),
        }
    }
    texts
}
