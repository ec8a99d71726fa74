//! YAML as cards use it: saphyr's YAML 1.2 event parser composed into JSON values (the data
//! model Hugging Face tools work with), remembering the line of every field so that findings can
//! point at it. YAML 1.2 keeps `no`, `on` and `y` as strings, so `language: [en, no]` stays
//! Norwegian.
//!
//! Composing ourselves (rather than loading saphyr's tree) gives three things the loader does not:
//! a line for every collection, duplicate keys reported instead of silently overwritten, and
//! bounds on nesting and on alias expansion (a "billion laughs" card, or one long string aliased
//! thousands of times, is refused, not expanded). The composer keeps its own stack rather than
//! recursing, and the nesting bound keeps every later walk over the value (validation, emitting,
//! `Drop`) shallow.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use saphyr::{Scalar, ScalarStyle, Tag};
use saphyr_parser::{Event, Parser, Span};
use serde_json::{Map, Number, Value};

/// More nodes than any real card has (a 100 KB model-index is about 10,000), few enough that
/// alias expansion cannot exhaust memory.
const MAX_NODES: usize = 2_000_000;

/// Bytes of scalar text (keys and values) the document may expand to: four times the largest card
/// file, so only alias expansion reaches it (one 4 MB string aliased 3,000 times would be 12 GB).
const MAX_BYTES: usize = 64 << 20;

/// Nested mappings and sequences allowed, as serde_json allows JSON (128): real cards nest about
/// six deep, and code that walks the value recursively stays far from the end of its stack.
pub const MAX_DEPTH: usize = 128;

/// A parsed YAML document and where its parts are.
#[derive(Clone, Debug, Default)]
pub struct YamlDocument {
    /// The document as JSON values; `null` for an empty document.
    pub value: Value,
    /// The 1-based line of every field path (`model-index[0].results[0].metrics[1].value`).
    pub lines: BTreeMap<String, usize>,
    /// The top-level keys in source order, when the document is a mapping.
    pub top_keys: Vec<TopKey>,
    /// Keys given twice in one mapping; like every YAML loader, the later value wins.
    pub duplicates: Vec<DuplicateKey>,
    /// Paths of unquoted `yes`/`no`/`on`/`off`: text here, but booleans to YAML 1.1 readers
    /// (PyYAML, and so `huggingface_hub`).
    pub yaml11_booleans: Vec<String>,
}

/// PyYAML's boolean words beyond `true`/`false`.
const YAML11_BOOLEANS: &[&str] = &[
    "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
];

/// A top-level key and where it starts in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopKey {
    /// The key as written.
    pub key: String,
    /// The 1-based line the key is on.
    pub line: usize,
    /// 0-based column: top-level keys of a block mapping start at column 0.
    pub column: usize,
}

/// A key given twice in one mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateKey {
    /// The field path of the key (`license`, `provenance.name`).
    pub path: String,
    /// The 1-based line of its first occurrence.
    pub first_line: usize,
    /// The 1-based line of the later occurrence, whose value wins.
    pub line: usize,
}

/// Why a text is not YAML, and where (1-based line and column, in the caller's coordinates).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    /// The 1-based line in the file.
    pub line: usize,
    /// The 1-based column.
    pub column: usize,
    /// What the parser objected to.
    pub message: String,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for YamlError {}

/// Parses one YAML document. `first_line` is the line of the file on which `text` starts, so
/// that lines in findings and errors are the file's lines.
pub fn parse_yaml(text: &str, first_line: usize) -> Result<YamlDocument, YamlError> {
    let mut composer = Composer {
        first_line,
        ..Composer::default()
    };
    let mut documents = 0;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| YamlError {
            line: e.marker().line() + first_line - 1,
            column: e.marker().col() + 1,
            // saphyr's scanner counts flow nesting in a byte and stops at 255 levels (it may
            // scan ahead of the composer's bound): the same refusal, said the same way.
            message: if e.info() == "recursion limit exceeded" {
                too_deep()
            } else {
                e.info().to_string()
            },
        })?;
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(composer.error(&span, "more than one YAML document".into()));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                composer.scalar(text, style, anchor, tag.as_ref(), &span)?;
            }
            Event::SequenceStart(anchor, _) => {
                composer.open(Value::Array(Vec::new()), anchor, &span)?;
            }
            Event::MappingStart(anchor, _) => {
                composer.open(Value::Object(Map::new()), anchor, &span)?;
            }
            Event::SequenceEnd | Event::MappingEnd => composer.close(&span)?,
            Event::Alias(anchor) => composer.alias(anchor, &span)?,
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
    }
    Ok(composer.document)
}

#[derive(Default)]
struct Composer {
    first_line: usize,
    document: YamlDocument,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    nodes: usize,
    bytes: usize,
}

/// What an anchor names, and what each alias to it adds.
struct Anchored {
    value: Value,
    nodes: usize,
    bytes: usize,
    /// Nesting levels inside the value (0 for a scalar, 1 for `[a]`).
    depth: usize,
}

struct Frame {
    /// An empty array or object being filled.
    value: Value,
    path: String,
    anchor: usize,
    nodes_before: usize,
    bytes_before: usize,
    /// The deepest nesting among the children attached so far.
    depth_below: usize,
    /// In a mapping: the key read, waiting for its value (with its line).
    key: Option<(String, usize)>,
}

impl Composer {
    fn line(&self, span: &Span) -> usize {
        span.start.line() + self.first_line - 1
    }

    fn error(&self, span: &Span, message: String) -> YamlError {
        YamlError {
            line: self.line(span),
            column: span.start.col() + 1,
            message,
        }
    }

    /// Counts what a node adds, refusing the document before anything is copied once it passes a
    /// bound.
    fn count(&mut self, nodes: usize, bytes: usize, span: &Span) -> Result<(), YamlError> {
        self.nodes += nodes;
        self.bytes = self.bytes.saturating_add(bytes);
        if self.nodes > MAX_NODES {
            return Err(self.error(
                span,
                format!("the document expands to more than {MAX_NODES} values (alias expansion?)"),
            ));
        }
        if self.bytes > MAX_BYTES {
            return Err(self.error(
                span,
                format!(
                    "the document expands to more than {MAX_BYTES} bytes of text (alias expansion?)"
                ),
            ));
        }
        Ok(())
    }

    /// Refuses a node that would put `depth` levels below the collections now open.
    fn check_depth(&self, depth: usize, span: &Span) -> Result<(), YamlError> {
        if self.stack.len() + depth > MAX_DEPTH {
            return Err(self.error(span, too_deep()));
        }
        Ok(())
    }

    /// The path and line a new node gets, and whether it is a mapping key.
    fn place(&self, span: &Span) -> Placement {
        match self.stack.last() {
            None => Placement::Value(String::new(), self.line(span)),
            Some(frame) => match (&frame.value, &frame.key) {
                (Value::Array(items), _) => {
                    Placement::Value(format!("{}[{}]", frame.path, items.len()), self.line(span))
                }
                (_, Some((key, line))) => Placement::Value(child_path(&frame.path, key), *line),
                (_, None) => Placement::Key,
            },
        }
    }

    fn scalar(
        &mut self,
        text: Cow<'_, str>,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Cow<'_, Tag>>,
        span: &Span,
    ) -> Result<(), YamlError> {
        self.count(1, text.len(), span)?;
        let value = match Scalar::parse_from_cow_and_metadata(text.clone(), style, tag) {
            Some(scalar) => scalar_value(scalar, &text),
            None => {
                return Err(self.error(span, format!("'{text}' does not fit its tag")));
            }
        };
        if anchor != 0 {
            self.anchors.insert(
                anchor,
                Anchored {
                    value: value.clone(),
                    nodes: 1,
                    bytes: text.len(),
                    depth: 0,
                },
            );
        }
        match self.place(span) {
            Placement::Key => {
                let key = match value {
                    Value::String(s) => s,
                    _ => text.into_owned(),
                };
                let line = self.line(span);
                if self.stack.len() == 1 {
                    self.document.top_keys.push(TopKey {
                        key: key.clone(),
                        line,
                        column: span.start.col(),
                    });
                }
                self.stack
                    .last_mut()
                    .expect("a key is inside a mapping")
                    .key = Some((key, line));
                Ok(())
            }
            Placement::Value(path, line) => {
                if style == ScalarStyle::Plain
                    && tag.is_none()
                    && YAML11_BOOLEANS.contains(&text.as_ref())
                {
                    self.document.yaml11_booleans.push(path.clone());
                }
                self.attach(value, path, line, 0)
            }
        }
    }

    fn open(&mut self, value: Value, anchor: usize, span: &Span) -> Result<(), YamlError> {
        self.check_depth(1, span)?;
        self.count(1, 0, span)?;
        let path = match self.place(span) {
            Placement::Key => {
                return Err(self.error(span, "a mapping key must be a plain value".into()));
            }
            Placement::Value(path, line) => {
                self.document.lines.entry(path.clone()).or_insert(line);
                path
            }
        };
        self.stack.push(Frame {
            value,
            path,
            anchor,
            nodes_before: self.nodes,
            bytes_before: self.bytes,
            depth_below: 0,
            key: None,
        });
        Ok(())
    }

    fn close(&mut self, span: &Span) -> Result<(), YamlError> {
        let frame = self.stack.pop().expect("the parser balances collections");
        let depth = frame.depth_below + 1;
        if frame.anchor != 0 {
            self.anchors.insert(
                frame.anchor,
                Anchored {
                    value: frame.value.clone(),
                    nodes: self.nodes - frame.nodes_before + 1,
                    bytes: self.bytes - frame.bytes_before,
                    depth,
                },
            );
        }
        let line = self
            .document
            .lines
            .get(&frame.path)
            .copied()
            .unwrap_or_else(|| self.line(span));
        self.attach(frame.value, frame.path, line, depth)
    }

    fn alias(&mut self, anchor: usize, span: &Span) -> Result<(), YamlError> {
        let Some(anchored) = self.anchors.get(&anchor) else {
            return Err(self.error(span, "alias to an unknown anchor".into()));
        };
        let (nodes, bytes, depth) = (anchored.nodes, anchored.bytes, anchored.depth);
        // Checked before the copy: an expansion past a bound is never made.
        self.check_depth(depth, span)?;
        self.count(nodes, bytes, span)?;
        let value = self.anchors[&anchor].value.clone();
        match self.place(span) {
            Placement::Key => Err(self.error(span, "an alias cannot be a mapping key".into())),
            Placement::Value(path, line) => self.attach(value, path, line, depth),
        }
    }

    /// Puts a finished node (`depth` levels deep) into its parent (or makes it the document).
    fn attach(
        &mut self,
        value: Value,
        path: String,
        line: usize,
        depth: usize,
    ) -> Result<(), YamlError> {
        self.document.lines.entry(path.clone()).or_insert(line);
        let Some(frame) = self.stack.last_mut() else {
            self.document.value = value;
            return Ok(());
        };
        frame.depth_below = frame.depth_below.max(depth);
        match &mut frame.value {
            Value::Array(items) => items.push(value),
            Value::Object(map) => {
                let (key, key_line) = frame.key.take().expect("a value follows its key");
                if map.insert(key, value).is_some() {
                    let first_line = self.document.lines.get(&path).copied().unwrap_or(key_line);
                    self.document.duplicates.push(DuplicateKey {
                        path: path.clone(),
                        first_line,
                        line: key_line,
                    });
                    self.document.lines.insert(path, key_line);
                }
            }
            _ => unreachable!("frames hold arrays or objects"),
        }
        Ok(())
    }
}

fn too_deep() -> String {
    format!("mappings and lists nested deeper than {MAX_DEPTH} levels")
}

enum Placement {
    Key,
    Value(String, usize),
}

/// `parent.key`, or `key` at the top.
pub fn child_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

fn scalar_value(scalar: Scalar<'_>, text: &str) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(b),
        Scalar::Integer(i) => Value::Number(i.into()),
        // JSON has no infinity or NaN: keep what was written.
        Scalar::FloatingPoint(f) => Number::from_f64(f.into_inner())
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(text.to_string())),
        Scalar::String(s) => Value::String(s.into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_1_2_scalars_and_lines() {
        let doc = parse_yaml(
            "license: mit\nlanguage: [en, no]\nversion: '1.10'\nn: 0755\ncreated: 2024-03-15\nmodel-index:\n- name: x\n  results:\n  - metrics:\n    - value: 0.5\n",
            1,
        )
        .unwrap();
        assert_eq!(doc.value["language"], json!(["en", "no"]));
        assert_eq!(doc.value["version"], json!("1.10"));
        assert_eq!(doc.value["n"], json!(755));
        assert_eq!(doc.value["created"], json!("2024-03-15"));
        assert_eq!(doc.lines["language[1]"], 2);
        assert_eq!(doc.lines["model-index[0].results[0].metrics[0].value"], 10);
        assert_eq!(doc.lines["model-index[0].name"], 7);
        let keys: Vec<_> = doc
            .top_keys
            .iter()
            .map(|k| (k.key.as_str(), k.line))
            .collect();
        assert_eq!(
            keys,
            [
                ("license", 1),
                ("language", 2),
                ("version", 3),
                ("n", 4),
                ("created", 5),
                ("model-index", 6)
            ]
        );
    }

    #[test]
    fn errors_have_file_lines_and_columns() {
        let error = parse_yaml("a: 1\nb: [1, 2\nc: d\n", 5).unwrap_err();
        assert_eq!((error.line, error.column), (7, 2), "{error}");
    }

    #[test]
    fn duplicate_keys_are_reported_and_the_last_wins() {
        let doc = parse_yaml("license: mit\ntags: [a]\nlicense: apache-2.0\n", 2).unwrap();
        assert_eq!(doc.value["license"], json!("apache-2.0"));
        assert_eq!(
            doc.duplicates,
            [DuplicateKey {
                path: "license".into(),
                first_line: 2,
                line: 4
            }]
        );
    }

    #[test]
    fn aliases_expand_within_a_bound() {
        let doc = parse_yaml("a: &x {k: [1, 2]}\nb: *x\n", 1).unwrap();
        assert_eq!(doc.value["b"], json!({"k": [1, 2]}));
        let mut laughs = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (i, name) in ["b", "c", "d", "e", "f", "g", "h", "i"].iter().enumerate() {
            let previous = ["a", "b", "c", "d", "e", "f", "g", "h"][i];
            let refs = vec![format!("*{previous}"); 10].join(", ");
            laughs.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        let error = parse_yaml(&laughs, 1).unwrap_err();
        assert!(error.message.contains("expands to more than"), "{error}");
    }

    #[test]
    fn aliases_are_bounded_by_the_bytes_they_expand_to() {
        // 100 aliases of one 1 MiB string: few nodes, but 100 MiB of text.
        let big = "x".repeat(1 << 20);
        let refs = vec!["*a"; 100].join(", ");
        let error = parse_yaml(&format!("a: &a {big}\nb: [{refs}]\n"), 1).unwrap_err();
        assert!(
            error.message.contains("more than 67108864 bytes of text"),
            "{error}"
        );
        assert_eq!(error.line, 2);
        // Under the bound, the same card reads.
        let refs = vec!["*a"; 20].join(", ");
        let doc = parse_yaml(&format!("a: &a {big}\nb: [{refs}]\n"), 1).unwrap();
        assert_eq!(doc.value["b"].as_array().unwrap().len(), 20);
    }

    #[test]
    fn nesting_is_bounded_without_recursion() {
        for (open, close) in [("[", "]"), ("{a: ", "}")] {
            let deep = format!("{}1{}", open.repeat(100_000), close.repeat(100_000));
            let error = parse_yaml(&deep, 1).unwrap_err();
            assert_eq!(
                error.message, "mappings and lists nested deeper than 128 levels",
                "{error}"
            );
            let limit = format!("{}1{}", open.repeat(MAX_DEPTH), close.repeat(MAX_DEPTH));
            parse_yaml(&limit, 1).unwrap();
        }
        // Block sequences nest two bytes a level ("- - - 1"), and saphyr's scanner does not
        // bound them: only the composer does.
        let block = format!("tags:\n{}1\n", "- ".repeat(100_000));
        let error = parse_yaml(&block, 1).unwrap_err();
        assert!(error.message.contains("deeper than 128"), "{error}");
        assert_eq!((error.line, error.column), (2, 255));
        // An alias counts with the depth of what it names.
        let nested = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        let inner = format!("{}*a{}", "[".repeat(40), "]".repeat(40));
        let error = parse_yaml(&format!("a: &a {nested}\nb: {inner}\n"), 1).unwrap_err();
        assert!(error.message.contains("deeper than 128"), "{error}");
    }
}
