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
    /// An imported callable; `None` when its name could not be known statically.
    Global(Option<Callable>),
    Tuple(Vec<Value>),
    /// What calling something returned.
    Object,
    Other,
}

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

/// Simulates `ops` (one pickle, ending in STOP). Stack underflow or a missing memo entry means
/// the bytes are not a pickle that loads.
pub fn simulate(ops: &[Op]) -> Result<Vec<Event>, DecodeError> {
    let mut machine = Machine::default();
    for op in ops {
        machine.step(op)?;
    }
    Ok(machine.events)
}

#[derive(Default)]
struct Machine {
    stack: Vec<Value>,
    memo: HashMap<i64, Value>,
    events: Vec<Event>,
}

impl Machine {
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

    fn call(&mut self, op: &Op, target: Value, args: Vec<Value>) {
        let mut texts = Vec::new();
        collect_texts(&args, &mut texts);
        match target {
            Value::Global(Some(callable)) => self.events.push(Event::Call {
                offset: op.offset,
                opcode: op.name,
                callable,
                texts,
            }),
            Value::Global(None) => self.events.push(Event::Unresolved {
                offset: op.offset,
                opcode: op.name,
                why: "calls a callable whose name is not known statically".into(),
            }),
            // Calling the result of another call (a gadget chain: getattr(...)(...)).
            Value::Object => self.events.push(Event::Unresolved {
                offset: op.offset,
                opcode: op.name,
                why: "calls the result of another call".into(),
            }),
            _ => self.events.push(Event::Unresolved {
                offset: op.offset,
                opcode: op.name,
                why: "calls something that is not an imported callable".into(),
            }),
        }
        self.stack.push(Value::Object);
    }

    fn step(&mut self, op: &Op) -> Result<(), DecodeError> {
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
                self.call(op, Value::Global(Some(callable)), args);
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
                self.call(op, class, items);
            }
            "REDUCE" => {
                let args = self.pop(op)?;
                let callable = self.pop(op)?;
                self.call(op, callable, vec![args]);
            }
            "NEWOBJ" => {
                let args = self.pop(op)?;
                let class = self.pop(op)?;
                self.call(op, class, vec![args]);
            }
            "NEWOBJ_EX" => {
                let kwargs = self.pop(op)?;
                let args = self.pop(op)?;
                let class = self.pop(op)?;
                self.call(op, class, vec![args, kwargs]);
            }
            "BUILD" => {
                let state = self.pop(op)?;
                let target = self.pop(op)?;
                // BUILD on an imported callable itself sets attributes on a class or module.
                if let Value::Global(_) = target {
                    self.call(op, target, vec![state]);
                } else {
                    self.stack.push(target);
                }
            }
            "APPEND" | "SETITEM" | "SETITEMS" | "APPENDS" | "ADDITEMS" => {
                match op.name {
                    "APPEND" => {
                        self.pop(op)?;
                    }
                    "SETITEM" => {
                        self.pop(op)?;
                        self.pop(op)?;
                    }
                    _ => {
                        self.pop_mark(op)?;
                    }
                }
                if self.stack.last().is_none_or(|v| *v == Value::Mark) {
                    return Err(DecodeError {
                        offset: op.offset,
                        message: format!("{} has no container to add to", op.name),
                    });
                }
            }
            "DICT" | "LIST" | "FROZENSET" => {
                self.pop_mark(op)?;
                self.stack.push(Value::Other);
            }
            "TUPLE" => {
                let items = self.pop_mark(op)?;
                self.stack.push(Value::Tuple(items));
            }
            "TUPLE1" | "TUPLE2" | "TUPLE3" => {
                let n = usize::from(op.name.as_bytes()[5] - b'0');
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.pop(op)?);
                }
                items.reverse();
                self.stack.push(Value::Tuple(items));
            }
            "EMPTY_TUPLE" => self.stack.push(Value::Tuple(Vec::new())),
            "PUT" | "BINPUT" | "LONG_BINPUT" => {
                let Arg::Int(index) = op.arg else {
                    unreachable!("PUT carries an index")
                };
                let top = self
                    .stack
                    .last()
                    .filter(|v| **v != Value::Mark)
                    .cloned()
                    .ok_or_else(|| DecodeError {
                        offset: op.offset,
                        message: format!("{} on an empty stack", op.name),
                    })?;
                self.memo.insert(index, top);
            }
            "MEMOIZE" => {
                let top = self
                    .stack
                    .last()
                    .filter(|v| **v != Value::Mark)
                    .cloned()
                    .ok_or_else(|| DecodeError {
                        offset: op.offset,
                        message: "MEMOIZE on an empty stack".into(),
                    })?;
                self.memo.insert(self.memo.len() as i64, top);
            }
            "GET" | "BINGET" | "LONG_BINGET" => {
                let Arg::Int(index) = op.arg else {
                    unreachable!("GET carries an index")
                };
                let value = self.memo.get(&index).cloned().ok_or_else(|| DecodeError {
                    offset: op.offset,
                    message: format!("{} of memo entry {index}, which was never stored", op.name),
                })?;
                self.stack.push(value);
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
        Ok(())
    }
}

fn collect_texts(values: &[Value], out: &mut Vec<String>) {
    for value in values {
        match value {
            Value::Text(text) => out.push(text.clone()),
            Value::Tuple(items) => collect_texts(items, out),
            _ => {}
        }
    }
}
