//! The Python literal subset NumPy's `.npy` headers use, parsed as `ast.literal_eval` parses it:
//! dicts, tuples, lists, strings in either quote style (with escapes and `u`/`b`/`r` prefixes),
//! integers (with Python 2's `L` suffix, which NumPy filters out), `True`, `False`, `None`;
//! whitespace and trailing commas anywhere Python allows them. Nesting is bounded, so hostile
//! headers cannot exhaust the stack. Anything else is an error: NumPy would refuse it too, or it
//! is no header NumPy writes.

/// CPython's parser refuses more than 200 nested brackets.
const MAX_DEPTH: usize = 200;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Literal {
    Str(String),
    Int(i128),
    Bool(bool),
    None,
    Tuple(Vec<Literal>),
    List(Vec<Literal>),
    Dict(Vec<(Literal, Literal)>),
}

/// Parses `text` as one literal, surrounded by whitespace only.
pub fn parse(text: &str) -> Result<Literal, String> {
    let mut parser = Parser {
        chars: text.chars().collect(),
        at: 0,
    };
    let value = parser.value(0)?;
    parser.skip_space();
    if parser.at != parser.chars.len() {
        return Err(format!("unexpected text at character {}", parser.at));
    }
    Ok(value)
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while self
            .peek()
            .is_some_and(|c| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c'))
        {
            self.at += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Literal, String> {
        if depth > MAX_DEPTH {
            return Err("literal nested too deep".into());
        }
        self.skip_space();
        match self.peek() {
            Some('{') => self.dict(depth),
            Some('(') => self.sequence(depth, ')').map(|(items, single)| {
                // `(x)` is x; `(x,)` and `()` are tuples.
                if items.len() == 1 && !single {
                    items.into_iter().next().expect("one item")
                } else {
                    Literal::Tuple(items)
                }
            }),
            Some('[') => self
                .sequence(depth, ']')
                .map(|(items, _)| Literal::List(items)),
            Some('\'' | '"') => self.string(false),
            Some(c) if c == '-' || c == '+' || c.is_ascii_digit() => self.int(),
            Some(c) if c.is_ascii_alphabetic() || c == '_' => self.word(),
            Some(c) => Err(format!("unexpected {c:?} at character {}", self.at)),
            None => Err("unexpected end of the header".into()),
        }
    }

    /// Items up to `close`, and whether a trailing comma made a one-item tuple.
    fn sequence(&mut self, depth: usize, close: char) -> Result<(Vec<Literal>, bool), String> {
        self.at += 1;
        let mut items = Vec::new();
        let mut comma = false;
        loop {
            self.skip_space();
            if self.peek() == Some(close) {
                self.at += 1;
                return Ok((items, comma));
            }
            if !items.is_empty() && !comma {
                return Err(format!(
                    "expected ',' or {close:?} at character {}",
                    self.at
                ));
            }
            items.push(self.value(depth + 1)?);
            self.skip_space();
            comma = self.peek() == Some(',');
            if comma {
                self.at += 1;
            }
        }
    }

    fn dict(&mut self, depth: usize) -> Result<Literal, String> {
        self.at += 1;
        let mut entries = Vec::new();
        loop {
            self.skip_space();
            if self.peek() == Some('}') {
                self.at += 1;
                return Ok(Literal::Dict(entries));
            }
            let key = self.value(depth + 1)?;
            self.skip_space();
            if self.peek() != Some(':') {
                return Err(format!("expected ':' at character {}", self.at));
            }
            self.at += 1;
            let value = self.value(depth + 1)?;
            entries.push((key, value));
            self.skip_space();
            match self.peek() {
                Some(',') => self.at += 1,
                Some('}') => {}
                _ => return Err(format!("expected ',' or '}}' at character {}", self.at)),
            }
        }
    }

    /// A quoted string; `raw` keeps backslashes as they are.
    fn string(&mut self, raw: bool) -> Result<Literal, String> {
        let quote = self.peek().expect("called on a quote");
        self.at += 1;
        let mut text = String::new();
        loop {
            let c = self.peek().ok_or("unterminated string")?;
            self.at += 1;
            match c {
                _ if c == quote => return Ok(Literal::Str(text)),
                '\n' => return Err("newline inside a string".into()),
                '\\' if !raw => {
                    let escaped = self.peek().ok_or("unterminated string")?;
                    self.at += 1;
                    let plain = match escaped {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '0' => '\0',
                        '\\' | '\'' | '"' => escaped,
                        // Other escapes (\x.., \u....) never occur in dtype strings; keeping
                        // them verbatim still lets the type code be recognised.
                        other => {
                            text.push('\\');
                            other
                        }
                    };
                    text.push(plain);
                }
                _ => text.push(c),
            }
        }
    }

    fn int(&mut self) -> Result<Literal, String> {
        let start = self.at;
        if matches!(self.peek(), Some('-' | '+')) {
            self.at += 1;
            self.skip_space();
        }
        let digits_start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '_') {
            self.at += 1;
        }
        let digits: String = self.chars[digits_start..self.at]
            .iter()
            .filter(|&&c| c != '_')
            .collect();
        // Python 2 wrote longs as `3L`; NumPy strips the suffix before evaluating.
        if matches!(self.peek(), Some('L' | 'l')) {
            self.at += 1;
        }
        let value: i128 = digits
            .parse()
            .map_err(|_| format!("bad integer at character {start}"))?;
        Ok(Literal::Int(if self.chars[start] == '-' {
            -value
        } else {
            value
        }))
    }

    /// `True`, `False`, `None`, or a string prefix (`u'..'`, `b".."`, `r'..'`).
    fn word(&mut self) -> Result<Literal, String> {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.at += 1;
        }
        let word: String = self.chars[start..self.at].iter().collect();
        match word.as_str() {
            "True" => Ok(Literal::Bool(true)),
            "False" => Ok(Literal::Bool(false)),
            "None" => Ok(Literal::None),
            prefix if matches!(self.peek(), Some('\'' | '"')) => {
                let lower = prefix.to_ascii_lowercase();
                if !matches!(lower.as_str(), "u" | "b" | "r" | "br" | "rb") {
                    return Err(format!("unknown string prefix {prefix:?}"));
                }
                self.string(lower.contains('r'))
            }
            other => Err(format!("{other:?} is not a literal")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Literal::*;

    fn s(text: &str) -> Literal {
        Str(text.into())
    }

    #[test]
    fn numpy_headers_in_both_quote_styles_and_python_2() {
        let single = parse("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }   \n");
        let double = parse("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (3,)}");
        let py2 = parse("{'descr': u'<f4', 'fortran_order': False, 'shape': (3L, 4L)}");
        let expected = |shape: Vec<Literal>| {
            Dict(vec![
                (s("descr"), s("<f4")),
                (s("fortran_order"), Bool(false)),
                (s("shape"), Tuple(shape)),
            ])
        };
        assert_eq!(single, Ok(expected(vec![Int(3)])));
        assert_eq!(double, Ok(expected(vec![Int(3)])));
        assert_eq!(py2, Ok(expected(vec![Int(3), Int(4)])));
    }

    #[test]
    fn structured_dtypes_nest_lists_and_tuples() {
        let descr = parse("[('a', '<i4'), ('b', [('c', '|O')], (2,)), (('t', 'n'), 'O')]");
        assert_eq!(
            descr,
            Ok(List(vec![
                Tuple(vec![s("a"), s("<i4")]),
                Tuple(vec![
                    s("b"),
                    List(vec![Tuple(vec![s("c"), s("|O")])]),
                    Tuple(vec![Int(2)])
                ]),
                Tuple(vec![Tuple(vec![s("t"), s("n")]), s("O")]),
            ]))
        );
        assert_eq!(parse("(1)"), Ok(Int(1)));
        assert_eq!(parse("()"), Ok(Tuple(vec![])));
    }

    #[test]
    fn what_python_refuses_is_an_error_and_depth_is_bounded() {
        for bad in [
            "{'a': 1",
            "{'a' 1}",
            "(1 2)",
            "'open",
            "os.system",
            "{'a': 1}}",
            "f'x'",
            "[1,,]",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = "(".repeat(100_000);
        assert!(parse(&deep).is_err());
    }
}
