//! YAML as cards use it: saphyr's YAML 1.2 event parser composed into JSON values (the data
//! model Hugging Face tools work with), remembering the line of every field so that findings can
//! point at it. YAML 1.2 keeps `no`, `on` and `y` as strings, so `language: [en, no]` stays
//! Norwegian.
//!
//! Composing ourselves (rather than loading saphyr's tree) gives three things the loader does not:
//! a line for every collection, duplicate keys reported instead of silently overwritten, and a
//! bound on alias expansion (a "billion laughs" card is refused, not expanded).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use saphyr::{Scalar, ScalarStyle, Tag};
use saphyr_parser::{Event, Parser, Span};
use serde_json::{Map, Number, Value};

/// More nodes than any real card has (a 100 KB model-index is about 10,000), few enough that
/// alias expansion cannot exhaust memory.
const MAX_NODES: usize = 2_000_000;

/// A parsed YAML document and where its parts are.
#[derive(Clone, Debug, Default)]
pub struct YamlDocument {
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopKey {
    pub key: String,
    pub line: usize,
    /// 0-based column: top-level keys of a block mapping start at column 0.
    pub column: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateKey {
    pub path: String,
    pub first_line: usize,
    pub line: usize,
}

/// Why a text is not YAML, and where (1-based line and column, in the caller's coordinates).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
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
            message: e.info().to_string(),
        })?;
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(composer.error(&span, "more than one YAML document".into()));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                composer.scalar(text, style, anchor, tag.as_ref(), &span)?
            }
            Event::SequenceStart(anchor, _) => {
                composer.open(Value::Array(Vec::new()), anchor, &span)?
            }
            Event::MappingStart(anchor, _) => {
                composer.open(Value::Object(Map::new()), anchor, &span)?
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
    anchors: HashMap<usize, (Value, usize)>,
    nodes: usize,
}

struct Frame {
    /// An empty array or object being filled.
    value: Value,
    path: String,
    anchor: usize,
    nodes_before: usize,
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

    fn count(&mut self, nodes: usize, span: &Span) -> Result<(), YamlError> {
        self.nodes += nodes;
        if self.nodes > MAX_NODES {
            return Err(self.error(
                span,
                format!("the document expands to more than {MAX_NODES} values (alias expansion?)"),
            ));
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
        self.count(1, span)?;
        let value = match Scalar::parse_from_cow_and_metadata(text.clone(), style, tag) {
            Some(scalar) => scalar_value(scalar, &text),
            None => {
                return Err(self.error(span, format!("'{text}' does not fit its tag")));
            }
        };
        if anchor != 0 {
            self.anchors.insert(anchor, (value.clone(), 1));
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
                self.attach(value, path, line)
            }
        }
    }

    fn open(&mut self, value: Value, anchor: usize, span: &Span) -> Result<(), YamlError> {
        self.count(1, span)?;
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
            key: None,
        });
        Ok(())
    }

    fn close(&mut self, span: &Span) -> Result<(), YamlError> {
        let frame = self.stack.pop().expect("the parser balances collections");
        if frame.anchor != 0 {
            let nodes = self.nodes - frame.nodes_before + 1;
            self.anchors
                .insert(frame.anchor, (frame.value.clone(), nodes));
        }
        let line = self
            .document
            .lines
            .get(&frame.path)
            .copied()
            .unwrap_or_else(|| self.line(span));
        self.attach(frame.value, frame.path, line)
    }

    fn alias(&mut self, anchor: usize, span: &Span) -> Result<(), YamlError> {
        let Some((value, nodes)) = self.anchors.get(&anchor).cloned() else {
            return Err(self.error(span, "alias to an unknown anchor".into()));
        };
        self.count(nodes, span)?;
        match self.place(span) {
            Placement::Key => Err(self.error(span, "an alias cannot be a mapping key".into())),
            Placement::Value(path, line) => self.attach(value, path, line),
        }
    }

    /// Puts a finished node into its parent (or makes it the document).
    fn attach(&mut self, value: Value, path: String, line: usize) -> Result<(), YamlError> {
        self.document.lines.entry(path.clone()).or_insert(line);
        let Some(frame) = self.stack.last_mut() else {
            self.document.value = value;
            return Ok(());
        };
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
}
