//! Writing JSON values as block-style YAML that reads back the same under YAML 1.2 (saphyr,
//! libyaml) *and* YAML 1.1 (PyYAML, which `huggingface_hub` uses). The YAML crates' emitters
//! leave `no`, `on`, `2024-03-15` and `1_000` unquoted, which PyYAML turns into a boolean, a
//! date and an integer, and write `1e-5`, which PyYAML reads as a string. Here a string is plain
//! only when it is plainly text; everything else is double-quoted with JSON escapes (a subset of
//! YAML's), and floats always carry a dot and a signed exponent.

use serde_json::{Map, Number, Value};

const MAX_IMPLICIT_KEY: usize = 1000;

/// The entries of `map` as a block mapping at column 0, each line ending in `eol`.
pub fn emit_mapping(map: &Map<String, Value>, eol: &str) -> String {
    let mut out = String::new();
    for (key, value) in map {
        emit_entry(&mut out, key, value, 0, eol);
    }
    out
}

/// One `key: value` entry (with nested lines) at `indent` spaces.
pub fn emit_entry(out: &mut String, key: &str, value: &Value, indent: usize, eol: &str) {
    push_indent(out, indent);
    let key_text = scalar_text(key);
    // YAML limits implicit keys to 1024 characters; longer ones need the explicit `? key` form.
    let explicit = key_text.len() > MAX_IMPLICIT_KEY;
    if explicit {
        out.push_str("? ");
        out.push_str(&key_text);
        out.push_str(eol);
        push_indent(out, indent);
    } else {
        out.push_str(&key_text);
    }
    out.push(':');
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push_str(eol);
            for (k, v) in map {
                emit_entry(out, k, v, indent + 2, eol);
            }
        }
        // Sequences in a mapping sit at the key's column, as PyYAML and huggingface_hub write them.
        Value::Array(items) if !items.is_empty() => {
            out.push_str(eol);
            emit_items(out, items, if explicit { indent + 2 } else { indent }, eol);
        }
        _ => {
            out.push(' ');
            out.push_str(&inline(value));
            out.push_str(eol);
        }
    }
}

fn emit_items(out: &mut String, items: &[Value], indent: usize, eol: &str) {
    for item in items {
        push_indent(out, indent);
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => {
                // The first entry shares the dash's line; the rest line up under it.
                let mut nested = String::new();
                for (k, v) in map {
                    emit_entry(&mut nested, k, v, indent + 2, eol);
                }
                out.push_str(&nested[indent + 2..]);
            }
            Value::Array(inner) if !inner.is_empty() => {
                let mut nested = String::new();
                emit_items(&mut nested, inner, indent + 2, eol);
                out.push_str(&nested[indent + 2..]);
            }
            _ => {
                out.push_str(&inline(item));
                out.push_str(eol);
            }
        }
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A scalar or empty collection on one line.
fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_text(n),
        Value::String(s) => scalar_text(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// Floats as both YAML versions read them: `1.0e-05`, not `1e-5`.
fn number_text(n: &Number) -> String {
    let text = n.to_string();
    if !n.is_f64() {
        return text;
    }
    let Some((mantissa, exponent)) = text.split_once(['e', 'E']) else {
        return text;
    };
    let mantissa = if mantissa.contains('.') {
        mantissa.to_string()
    } else {
        format!("{mantissa}.0")
    };
    let (sign, digits) = match exponent.strip_prefix('-') {
        Some(digits) => ('-', digits),
        None => ('+', exponent.trim_start_matches('+')),
    };
    format!("{mantissa}e{sign}{digits:0>2}")
}

/// A string plain when no YAML version could read it as anything else, double-quoted otherwise.
pub fn scalar_text(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("strings serialise")
    }
}

/// Words that YAML 1.1 or 1.2 resolve to booleans or null.
const RESERVED: &[&str] = &[
    "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~",
];

fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    // Numbers, dates, times and sexagesimals all start with a digit, a sign or a dot.
    if !(first.is_alphabetic() || first == '_' || first == '/' || first == '(') {
        return false;
    }
    if RESERVED.contains(&s.to_ascii_lowercase().as_str()) {
        return false;
    }
    if s.ends_with([' ', ':']) || s.contains(": ") || s.contains(" #") {
        return false;
    }
    s.chars().all(|c| {
        c.is_alphanumeric()
            || matches!(
                c,
                ' ' | '_' | '-' | '.' | '/' | '+' | '(' | ')' | ',' | '@' | '=' | ':' | '\''
            )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::yaml::parse_yaml;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn ambiguous_strings_are_quoted() {
        let map = json!({"language": ["en", "no", "On", "y"], "created": "2024-03-15",
            "version": "1.10", "count": "1_000", "name": "SafeChat-v2", "empty": "",
            "lr": 1e-5, "big": 1e20, "ratio": 0.92, "n": 3, "url": "https://x.org/a#b"});
        let text = emit_mapping(map.as_object().unwrap(), "\n");
        assert!(
            text.contains("- \"no\"\n") && text.contains("- \"y\"\n"),
            "{text}"
        );
        assert!(text.contains("created: \"2024-03-15\"\n"), "{text}");
        assert!(text.contains("name: SafeChat-v2\n"), "{text}");
        assert!(
            text.contains("lr: 0.00001\n") && text.contains("big: 1.0e+20\n"),
            "{text}"
        );
        assert_eq!(parse_yaml(&text, 1).unwrap().value, map);
    }

    #[test]
    fn nested_collections_and_crlf() {
        let map = json!({"model-index": [{"name": "m", "results": [{"metrics": [{"type": "acc", "value": 0.5}]}]}],
            "matrix": [[1, 2], [], [{"a": {}}]], "provenance": {"training": {"data": {"sources": ["a", "b"]}}}});
        let text = emit_mapping(map.as_object().unwrap(), "\r\n");
        assert!(
            text.split_inclusive('\n')
                .all(|line| line.ends_with("\r\n")),
            "{text}"
        );
        assert_eq!(parse_yaml(&text, 1).unwrap().value, map);
    }

    #[test]
    fn keys_too_long_for_implicit_form_are_explicit() {
        let long = "k".repeat(1500);
        let map = json!({long.clone(): [1, {"a": "b"}], "short": {long: "x"}});
        let text = emit_mapping(map.as_object().unwrap(), "\n");
        assert!(text.starts_with("? kkk"), "{text}");
        assert_eq!(parse_yaml(&text, 1).unwrap().value, map);
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            (-1e30f64..1e30).prop_map(|f| json!(f)),
            "\\PC{0,12}".prop_map(Value::String),
            prop::sample::select(vec![
                "no", "on", "1:20", "- x", "#c", "a: b", "[x]", "'q'", "\"", "\n", " x", "0x1F",
                ".inf", "=", "<<", "@at", "`b`"
            ])
            .prop_map(|s| Value::String(s.to_string())),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec(("[a-z_-]{1,6}|\\PC{1,5}", inner), 0..4)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn emitted_yaml_reads_back_identically(entries in prop::collection::vec(("\\PC{1,8}", json_value()), 0..5)) {
            let map: Map<String, Value> = entries.into_iter().collect();
            let text = emit_mapping(&map, "\n");
            let parsed = parse_yaml(&text, 1).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            let expected = if map.is_empty() { Value::Null } else { Value::Object(map) };
            prop_assert_eq!(parsed.value, expected, "{}", text);
        }
    }
}
