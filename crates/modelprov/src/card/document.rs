//! A card file split into its parts without changing a byte: anything before the front matter
//! (a BOM, blank lines), the front matter's delimiter lines and YAML text, and the Markdown body.
//! Joining the parts gives the file back exactly, which is what makes an unedited round trip
//! byte-identical.

/// The parts of a README-style card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardText {
    /// What precedes the opening `---`: a UTF-8 BOM and/or blank lines. Empty in clean cards.
    pub prefix: String,
    /// The YAML front matter, or `None` when the first non-blank line is not `---`.
    pub front_matter: Option<FrontMatter>,
    /// The Markdown after the closing `---` (the whole file when there is no front matter).
    pub body: String,
}

/// A card's front matter, split so that joining the parts gives its bytes back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrontMatter {
    /// The opening delimiter line with its line ending (`---\n` or `---\r\n`).
    pub open: String,
    /// The YAML between the delimiters, with its final line ending.
    pub yaml: String,
    /// The closing delimiter line with its line ending, if any.
    pub close: String,
    /// The file's 1-based line on which `yaml` starts.
    pub first_line: usize,
}

/// The front matter opens on a `---` line but never closes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnclosedFrontMatter {
    /// The 1-based line of the opening `---`.
    pub open_line: usize,
}

const BOM: char = '\u{feff}';

impl CardText {
    /// Splits a card. A file whose first non-blank line is not `---` has no front matter; one that
    /// opens it and never closes it is an error rather than a card with an empty header.
    pub fn split(text: &str) -> Result<Self, UnclosedFrontMatter> {
        let after_bom = text.strip_prefix(BOM).unwrap_or(text);
        let mut offset = text.len() - after_bom.len();
        let mut line_number = 1;
        for line in lines_with_endings(after_bom) {
            if line.trim().is_empty() {
                offset += line.len();
                line_number += 1;
                continue;
            }
            if line.trim_end() != "---" {
                break;
            }
            let prefix = text[..offset].to_string();
            let open = line.to_string();
            let yaml_start = offset + line.len();
            let mut cursor = yaml_start;
            for inner in lines_with_endings(&text[yaml_start..]) {
                if inner.trim_end() == "---" {
                    let end = cursor + inner.len();
                    return Ok(CardText {
                        prefix,
                        front_matter: Some(FrontMatter {
                            open,
                            yaml: text[yaml_start..cursor].to_string(),
                            close: inner.to_string(),
                            first_line: line_number + 1,
                        }),
                        body: text[end..].to_string(),
                    });
                }
                cursor += inner.len();
            }
            return Err(UnclosedFrontMatter {
                open_line: line_number,
            });
        }
        Ok(CardText {
            prefix: String::new(),
            front_matter: None,
            body: text.to_string(),
        })
    }

    /// The file again.
    pub fn join(&self) -> String {
        let mut out = self.prefix.clone();
        if let Some(front) = &self.front_matter {
            out.push_str(&front.open);
            out.push_str(&front.yaml);
            out.push_str(&front.close);
        }
        out.push_str(&self.body);
        out
    }

    /// The line ending the card uses (CRLF cards stay CRLF when edited).
    pub fn line_ending(&self) -> &'static str {
        let sample = match &self.front_matter {
            Some(front) => front.open.as_str(),
            None => self.body.as_str(),
        };
        if sample.contains("\r\n") {
            "\r\n"
        } else {
            "\n"
        }
    }
}

/// Lines with their `\n` (or `\r\n`) kept; the last may have none.
pub fn lines_with_endings(text: &str) -> impl Iterator<Item = &str> {
    text.split_inclusive('\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> CardText {
        let card = CardText::split(text).unwrap();
        assert_eq!(card.join(), text);
        card
    }

    #[test]
    fn clean_card() {
        let card = round_trip("---\nlicense: mit\n---\n# Model\n");
        let front = card.front_matter.unwrap();
        assert_eq!(front.yaml, "license: mit\n");
        assert_eq!(front.first_line, 2);
        assert_eq!(card.body, "# Model\n");
    }

    #[test]
    fn bom_blank_lines_and_crlf() {
        let card = round_trip("\u{feff}\r\n\r\n---\r\nlicense: mit\r\n---\r\nbody\r\n");
        assert!(card.prefix.starts_with(BOM));
        assert_eq!(card.line_ending(), "\r\n");
        assert_eq!(card.front_matter.unwrap().first_line, 4);
    }

    #[test]
    fn no_front_matter_and_empty_front_matter() {
        let card = round_trip("# Just Markdown\n---\nnot: yaml\n");
        assert!(card.front_matter.is_none());
        let card = round_trip("---\n---\n");
        assert_eq!(card.front_matter.unwrap().yaml, "");
        let card = round_trip("---\nlicense: mit\n---");
        assert_eq!(card.body, "");
    }

    #[test]
    fn unclosed_front_matter_is_an_error() {
        assert_eq!(
            CardText::split("\n---\nlicense: mit\n# Model\n"),
            Err(UnclosedFrontMatter { open_line: 2 })
        );
    }
}
