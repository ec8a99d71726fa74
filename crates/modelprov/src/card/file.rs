//! A card as read from disk: its metadata (the front matter as JSON values, in source order), its
//! Markdown body, and the original text, so that writing it back changes only what was edited.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::document::{CardText, FrontMatter};
use super::emit::{emit_entry, emit_mapping};
use super::yaml::{YamlDocument, parse_yaml};
use crate::error::{Error, Result};

/// How a card file is laid out, which decides how it is split and written back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardFormat {
    /// README.md: YAML front matter and a Markdown body.
    Readme,
    /// A YAML file holding the metadata mapping only.
    Yaml,
    /// A JSON file holding the metadata object only.
    Json,
}

impl CardFormat {
    /// By extension: `.yaml`/`.yml` and `.json` are metadata files, anything else is a README.
    pub fn of_path(path: &Path) -> CardFormat {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("yaml" | "yml") => CardFormat::Yaml,
            Some("json") => CardFormat::Json,
            _ => CardFormat::Readme,
        }
    }
}

/// A model card read from disk or built in memory: its metadata and body, editable, plus what was
/// read, so that [`Card::to_text`] rewrites only the edited fields.
#[derive(Clone, Debug)]
pub struct Card {
    /// The card file's path: where it was read from, or the path given to [`Card::new`].
    pub path: PathBuf,
    /// The file's layout, from its extension when read.
    pub format: CardFormat,
    /// The front matter (or the whole YAML/JSON file), edited freely.
    pub metadata: Map<String, Value>,
    /// The Markdown body (README cards only), edited freely.
    pub body: String,
    /// Where each field was in the file, and duplicate keys.
    pub source: YamlDocument,
    text: CardText,
    original_metadata: Map<String, Value>,
}

impl Card {
    /// Reads a card file. Unparseable YAML is an error naming the line and column; a file without
    /// front matter is a card with empty metadata.
    pub fn read(path: &Path) -> Result<Card> {
        Card::from_bytes(path, &Card::read_bytes(path)?)
    }

    /// A card file's bytes, refusing files too large to be a card. Read once, they can be both
    /// parsed and hashed (`sign --card`), so what is checked is what is signed.
    pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
        crate::fsutil::read_capped(path, crate::fsutil::limits::CARD_BYTES, "a model card")
    }

    /// Parses a card file's bytes (format from `path`'s extension).
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Card> {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| Error::invalid_because(path, "not UTF-8 text", e))?;
        Card::parse(path, CardFormat::of_path(path), text)
    }

    /// Parses card text; `path` is only used in messages.
    pub fn parse(path: &Path, format: CardFormat, text: &str) -> Result<Card> {
        let card_text = match format {
            CardFormat::Readme => CardText::split(text).map_err(|e| {
                Error::invalid(
                    path,
                    format!(
                        "the front matter opened by '---' on line {} is never closed by another '---' line",
                        e.open_line
                    ),
                )
            })?,
            // A metadata file is all front matter, without delimiters.
            CardFormat::Yaml | CardFormat::Json => CardText {
                prefix: String::new(),
                front_matter: Some(FrontMatter {
                    open: String::new(),
                    yaml: text.to_string(),
                    close: String::new(),
                    first_line: 1,
                }),
                body: String::new(),
            },
        };
        let source = match &card_text.front_matter {
            Some(front) => parse_yaml(&front.yaml, front.first_line)
                .map_err(|e| Error::invalid_because(path, "the card's YAML cannot be read", e))?,
            None => YamlDocument::default(),
        };
        let metadata = match &source.value {
            Value::Object(map) => map.clone(),
            Value::Null => Map::new(),
            other => {
                return Err(Error::invalid(
                    path,
                    format!(
                        "the card's metadata must be a mapping of fields, not {}",
                        super::fields::kind(other)
                    ),
                ));
            }
        };
        Ok(Card {
            path: path.to_path_buf(),
            format,
            body: card_text.body.clone(),
            original_metadata: metadata.clone(),
            metadata,
            source,
            text: card_text,
        })
    }

    /// A new README card.
    pub fn new(path: &Path, metadata: Map<String, Value>, body: String) -> Card {
        Card {
            path: path.to_path_buf(),
            format: CardFormat::Readme,
            metadata,
            body,
            source: YamlDocument::default(),
            text: CardText {
                prefix: String::new(),
                front_matter: None,
                body: String::new(),
            },
            original_metadata: Map::new(),
        }
    }

    /// The file's parts as read (prefix, front matter, body).
    pub fn text(&self) -> &CardText {
        &self.text
    }

    /// Whether the metadata or body differ from what was read.
    pub fn is_edited(&self) -> bool {
        self.metadata != self.original_metadata || self.body != self.text.body
    }

    /// The card as text in its own format. Unedited: the bytes read. Edited: the original text
    /// with only the changed top-level fields rewritten (new ones appended), in the card's line
    /// endings.
    pub fn to_text(&self) -> String {
        if !self.is_edited() {
            return self.text.join();
        }
        let eol = self.text.line_ending();
        let yaml = match &self.text.front_matter {
            Some(front) if self.metadata == self.original_metadata => front.yaml.clone(),
            Some(front) => self.patched_yaml(&front.yaml, eol),
            None => emit_mapping(&self.metadata, eol),
        };
        let mut out = self.text.prefix.clone();
        match self.format {
            CardFormat::Readme => {
                if self.metadata.is_empty() && self.text.front_matter.is_none() {
                    // Nothing to put in a header that was not there.
                } else {
                    let (open, close) = match &self.text.front_matter {
                        Some(front) if !front.open.is_empty() => {
                            (front.open.clone(), front.close.clone())
                        }
                        _ => (format!("---{eol}"), format!("---{eol}")),
                    };
                    out.push_str(&open);
                    out.push_str(&yaml);
                    out.push_str(&close);
                }
                out.push_str(&self.body);
            }
            CardFormat::Yaml => out.push_str(&yaml),
            CardFormat::Json => {
                out.push_str(
                    &serde_json::to_string_pretty(&self.metadata).expect("JSON serialises"),
                );
                out.push('\n');
            }
        }
        out
    }

    /// Rewrites only the changed top-level entries of `yaml`. Falls back to writing the whole
    /// mapping when the original is not a plain block mapping (flow style, duplicate keys) or the
    /// patched text would not read back as the edited metadata.
    fn patched_yaml(&self, yaml: &str, eol: &str) -> String {
        let whole = || emit_mapping(&self.metadata, eol);
        let keys = &self.source.top_keys;
        let first_line = self.text.front_matter.as_ref().map_or(1, |f| f.first_line);
        let block_mapping = keys.iter().all(|k| k.column == 0)
            && keys.windows(2).all(|w| w[0].line < w[1].line)
            && self
                .source
                .duplicates
                .iter()
                .all(|d| d.path.contains(['.', '[']));
        if !block_mapping {
            return whole();
        }
        let lines = yaml_lines(yaml);
        let line_index = |file_line: usize| file_line.checked_sub(first_line);
        let starts: Option<Vec<usize>> = keys.iter().map(|k| line_index(k.line)).collect();
        let Some(starts) = starts.filter(|s| s.iter().all(|&i| i < lines.len())) else {
            return whole();
        };
        let mut out: String = lines[..starts.first().copied().unwrap_or(lines.len())].concat();
        for (i, key) in keys.iter().enumerate() {
            let start = starts[i];
            let end = starts.get(i + 1).copied().unwrap_or(lines.len());
            match self.metadata.get(&key.key) {
                None => {}
                Some(value) if self.original_metadata.get(&key.key) == Some(value) => {
                    out.push_str(&lines[start..end].concat());
                }
                Some(value) => emit_entry(&mut out, &key.key, value, 0, eol),
            }
        }
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(eol);
        }
        for (key, value) in &self.metadata {
            if !self.original_metadata.contains_key(key) {
                emit_entry(&mut out, key, value, 0, eol);
            }
        }
        match parse_yaml(&out, 1) {
            Ok(doc) if doc.value == Value::Object(self.metadata.clone()) => out,
            Ok(doc) if doc.value.is_null() && self.metadata.is_empty() => out,
            _ => whole(),
        }
    }

    /// Writes the card atomically (temporary file, then rename).
    pub fn write(&self, path: &Path) -> Result<()> {
        crate::fsutil::write_atomically(path, self.to_text().as_bytes())
    }

    /// The 1-based line of a field, or of its nearest enclosing field that has one.
    pub fn line_of(&self, path: &str) -> Option<usize> {
        let mut path = path;
        loop {
            if let Some(line) = self.source.lines.get(path) {
                return Some(*line);
            }
            let cut = path.rfind(['.', '['])?;
            path = &path[..cut];
        }
    }

    /// The model digest the card records (`provenance.model.digest`), if any.
    pub fn recorded_digest(&self) -> Option<&str> {
        self.metadata_value("provenance.model.digest")
            .and_then(Value::as_str)
    }

    /// The value at a field path (`model-index[0].name`), as written.
    pub fn metadata_value(&self, path: &str) -> Option<&Value> {
        let mut value: Option<&Value> = None;
        for part in path.split('.') {
            let (key, indices) = match part.find('[') {
                Some(at) => (&part[..at], &part[at..]),
                None => (part, ""),
            };
            value = match value {
                None => self.metadata.get(key),
                Some(v) => v.get(key),
            };
            for index in indices.split(['[', ']']).filter(|s| !s.is_empty()) {
                value = value.and_then(|v| v.get(index.parse::<usize>().ok()?));
            }
        }
        value
    }

    /// Removes a (possibly nested) field, and the mappings it leaves empty, returning its value.
    pub fn remove(&mut self, dotted: &str) -> Option<Value> {
        fn remove_in(map: &mut Map<String, Value>, parts: &[&str]) -> Option<Value> {
            match parts {
                [] => None,
                [last] => map.remove(*last),
                [first, rest @ ..] => {
                    let child = map.get_mut(*first)?.as_object_mut()?;
                    let removed = remove_in(child, rest)?;
                    if child.is_empty() {
                        map.remove(*first);
                    }
                    Some(removed)
                }
            }
        }
        let parts: Vec<&str> = dotted.split('.').collect();
        remove_in(&mut self.metadata, &parts)
    }

    /// Sets a (possibly nested) field, creating the mappings on the way: `provenance.model.digest`.
    pub fn set(&mut self, dotted: &str, value: Value) {
        let mut map = &mut self.metadata;
        let mut parts = dotted.split('.').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                map.insert(part.to_string(), value);
                return;
            }
            let entry = map
                .entry(part.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            map = entry.as_object_mut().expect("made an object above");
        }
    }
}

/// Lines as YAML counts them: ended by `\n`, `\r\n` or a lone `\r`, each kept with its ending.
fn yaml_lines(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let ends = b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
        if ends {
            lines.push(&text[start..=i]);
            start = i + 1;
        }
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn readme(text: &str) -> Card {
        Card::parse(Path::new("README.md"), CardFormat::Readme, text).unwrap()
    }

    #[test]
    fn unedited_cards_write_back_byte_for_byte() {
        for text in [
            "---\nlicense: mit   # trailing comment\nlanguage:\n  - en\n---\n# Body\n\nText.\n",
            "\u{feff}\n---\r\nlicense: mit\r\n---\r\nbody\r\n",
            "no front matter\n",
            "---\n{license: mit, tags: [a]}\n---\n",
        ] {
            assert_eq!(readme(text).to_text(), text);
        }
    }

    #[test]
    fn edits_touch_only_the_edited_fields() {
        let text = "---\n# leading comment\nlicense: mit  # keep me\nlanguage: [en, 'no']\ntags:\n- a   # odd spacing kept\n- b\n---\nBody\n";
        let mut card = readme(text);
        card.set("tags", json!(["a", "b", "c"]));
        card.set("provenance.model.digest", json!("sha256:00"));
        let out = card.to_text();
        assert_eq!(
            out,
            "---\n# leading comment\nlicense: mit  # keep me\nlanguage: [en, 'no']\ntags:\n- a\n- b\n- c\nprovenance:\n  model:\n    digest: sha256:00\n---\nBody\n"
        );
        let again = readme(&out);
        assert_eq!(again.metadata, card.metadata);
    }

    #[test]
    fn removed_fields_disappear_and_crlf_is_kept() {
        let mut card = readme("---\r\nlicense: mit\r\ntags: [a]\r\n---\r\nBody\r\n");
        card.metadata.remove("tags");
        card.set("library_name", json!("transformers"));
        assert_eq!(
            card.to_text(),
            "---\r\nlicense: mit\r\nlibrary_name: transformers\r\n---\r\nBody\r\n"
        );
    }

    #[test]
    fn lone_carriage_returns_are_line_breaks() {
        assert_eq!(yaml_lines("a\rb\r\nc\nd"), ["a\r", "b\r\n", "c\n", "d"]);
        // Found by the card_parsing fuzz target: a YAML card with `\r` line breaks.
        let text = "#---\r\u{11}license: mit\r# Th---\nlicence: mi";
        let mut card = Card::parse(Path::new("card.yaml"), CardFormat::Yaml, text).unwrap();
        assert_eq!(card.to_text(), text);
        card.set("provenance.model.digest", json!("sha256:00"));
        let again = Card::parse(Path::new("card.yaml"), CardFormat::Yaml, &card.to_text()).unwrap();
        assert_eq!(again.metadata, card.metadata);
    }

    #[test]
    fn flow_front_matter_is_rewritten_whole_when_edited() {
        let mut card = readme("---\n{license: mit, tags: [a]}\n---\nBody\n");
        card.set("license", json!("apache-2.0"));
        assert_eq!(
            card.to_text(),
            "---\nlicense: apache-2.0\ntags:\n- a\n---\nBody\n"
        );
    }

    #[test]
    fn bad_yaml_names_the_file_line_and_column() {
        let error = Card::parse(
            Path::new("cards/README.md"),
            CardFormat::Readme,
            "---\nlicense: mit\ntags: [a, b\nlanguage: en\n---\n",
        )
        .unwrap_err()
        .to_string();
        assert!(error.starts_with("cards/README.md: "), "{error}");
        assert!(error.contains("line 4, column"), "{error}");
    }

    #[test]
    fn metadata_must_be_a_mapping() {
        let error = Card::parse(
            Path::new("c.md"),
            CardFormat::Readme,
            "---\n- a\n- b\n---\n",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("not a list"), "{error}");
    }

    mod edits {
        use super::*;
        use proptest::prelude::*;

        fn value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                "[a-z]{1,8}".prop_map(Value::String),
                prop::sample::select(vec!["no", "2024-03-15", "a: b", "x # y", "0755", ""])
                    .prop_map(|s| Value::String(s.into())),
                any::<i32>().prop_map(|i| json!(i)),
                Just(json!(0.92)),
            ];
            leaf.prop_recursive(2, 12, 3, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 1..3).prop_map(Value::Array),
                    prop::collection::vec(("[a-z]{1,5}", inner), 1..3)
                        .prop_map(|e| Value::Object(e.into_iter().collect())),
                ]
            })
        }

        proptest! {
            /// Changing one field rewrites that field only: every other field's lines come
            /// through untouched, and the result reads back as the edited metadata.
            #[test]
            fn one_edit_leaves_every_other_field_as_written(
                entries in prop::collection::vec(("[a-z_]{1,10}", value()), 2..6),
                pick in any::<prop::sample::Index>(),
                new_value in value(),
                comment in "[a-z ]{0,10}",
            ) {
                let original: Map<String, Value> = entries.into_iter().collect();
                let yaml = emit_mapping(&original, "\n");
                let text = format!("---\n# {comment}\n{yaml}---\nBody text.\n");
                let mut card = readme(&text);
                let keys: Vec<String> = original.keys().cloned().collect();
                let key = pick.get(&keys).clone();
                card.set(&key, new_value.clone());
                let out = card.to_text();
                let again = readme(&out);
                prop_assert_eq!(&again.metadata, &card.metadata);
                prop_assert!(out.starts_with(&format!("---\n# {comment}\n")), "{}", out);
                prop_assert!(out.ends_with("---\nBody text.\n"), "{}", out);
                for (other, value) in &original {
                    if *other != key {
                        let mut chunk = String::new();
                        emit_entry(&mut chunk, other, value, 0, "\n");
                        prop_assert!(out.contains(&chunk), "{} lost its lines:\n{}", other, out);
                    }
                }
            }
        }
    }
}
