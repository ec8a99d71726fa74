//! Resource names: `path` for whole files (`.` for a single-file model) and `path:start:end`
//! for shards, ordered as OMS orders them: by path components, then numerically by offsets.

use std::cmp::Ordering;
use std::fmt;

use serde::Serialize;

use crate::walk::{SINGLE_FILE_NAME, normalize_relative};

/// A half-open byte range `[start, end)` of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ByteRange {
    /// Offset of the first byte in the range.
    pub start: u64,
    /// Offset one past the last byte in the range.
    pub end: u64,
}

impl ByteRange {
    /// Number of bytes in the range.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// True when the range holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

impl fmt::Display for ByteRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// The name of a resource: a file's path, or a path and byte range for a shard (written
/// `path:start:end`). Orders as OMS does: by path components, then by offsets.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResourceName {
    /// POSIX path relative to the model root, or `.`.
    pub path: String,
    /// The shard's byte range; `None` for a whole file.
    pub range: Option<ByteRange>,
}

impl ResourceName {
    /// The name of the whole file at `path` (not checked).
    pub fn file(path: impl Into<String>) -> Self {
        ResourceName {
            path: path.into(),
            range: None,
        }
    }

    /// The name of the shard `[start, end)` of the file at `path` (not checked).
    pub fn shard(path: impl Into<String>, start: u64, end: u64) -> Self {
        ResourceName {
            path: path.into(),
            range: Some(ByteRange { start, end }),
        }
    }

    /// Parses a name as written in a manifest. Shard names are split at their last two colons,
    /// so a file name may itself contain `:`.
    pub fn parse(text: &str, sharded: bool) -> Result<Self, String> {
        Self::parse_with(text, sharded, canonical_path)
    }

    /// Parses a name as OMS reads it: `./a` and `a//b/./c` are normalised (as Python's
    /// `PurePosixPath` does) rather than refused; `..` and absolute names are still refused.
    pub fn parse_normalizing(text: &str, sharded: bool) -> Result<Self, String> {
        Self::parse_with(text, sharded, |path| {
            if path == SINGLE_FILE_NAME {
                Ok(path.to_string())
            } else {
                normalize_relative(path)
            }
        })
    }

    fn parse_with(
        text: &str,
        sharded: bool,
        check_path: impl Fn(&str) -> Result<String, String>,
    ) -> Result<Self, String> {
        if !sharded {
            return Ok(ResourceName::file(check_path(text)?));
        }
        let mut parts = text.rsplitn(3, ':');
        let (Some(end), Some(start), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!(
                "'{text}' is not a shard name of the form path:start:end"
            ));
        };
        let offset = |field: &str| {
            field
                .parse::<u64>()
                .map_err(|_| format!("'{text}': shard offset '{field}' is not a whole number"))
        };
        let (start, end) = (offset(start)?, offset(end)?);
        if start >= end {
            return Err(format!("'{text}': shard range is empty or reversed"));
        }
        Ok(ResourceName::shard(check_path(path)?, start, end))
    }
}

/// Checks that a path is written the one way this tool writes it: relative, `/`-separated,
/// no `.`, `..` or empty components (or exactly `.` for a single-file model).
fn canonical_path(path: &str) -> Result<String, String> {
    if path == SINGLE_FILE_NAME {
        return Ok(path.to_string());
    }
    if path.contains('\0') {
        return Err(format!("'{}' contains a NUL byte", path.escape_debug()));
    }
    let normalized = normalize_relative(path)?;
    if normalized != path {
        return Err(format!(
            "'{path}' is not in canonical form (expected '{normalized}')"
        ));
    }
    Ok(normalized)
}

impl fmt::Display for ResourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.range {
            None => f.write_str(&self.path),
            Some(range) => write!(f, "{}:{}:{}", self.path, range.start, range.end),
        }
    }
}

/// Orders POSIX paths component by component, as if `/` sorted before every other character.
pub fn compare_paths(a: &str, b: &str) -> Ordering {
    a.split('/').cmp(b.split('/'))
}

impl Ord for ResourceName {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_paths(&self.path, &other.path).then_with(|| self.range.cmp(&other.range))
    }
}

impl PartialOrd for ResourceName {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_components_then_numeric_offsets() {
        let mut names: Vec<ResourceName> = [
            "a.txt",
            "a b.txt",
            "a/b.txt",
            "a-b.txt",
            "a/a/z.txt",
            "B.txt",
        ]
        .into_iter()
        .map(ResourceName::file)
        .collect();
        names.sort();
        let sorted: Vec<String> = names.iter().map(ToString::to_string).collect();
        assert_eq!(
            sorted,
            [
                "B.txt",
                "a/a/z.txt",
                "a/b.txt",
                "a b.txt",
                "a-b.txt",
                "a.txt"
            ]
        );

        let mut shards = [
            ResourceName::shard("c.json", 100, 106),
            ResourceName::shard("c.json", 50, 100),
            ResourceName::shard("c.json", 0, 50),
        ];
        shards.sort();
        let sorted: Vec<String> = shards.iter().map(ToString::to_string).collect();
        assert_eq!(sorted, ["c.json:0:50", "c.json:50:100", "c.json:100:106"]);
    }

    #[test]
    fn parses_shard_names_with_colons_in_the_path() {
        let name = ResourceName::parse("dir/a:b.txt:0:7", true).unwrap();
        assert_eq!(name.path, "dir/a:b.txt");
        assert_eq!(name.range, Some(ByteRange { start: 0, end: 7 }));
        assert_eq!(name.to_string(), "dir/a:b.txt:0:7");
    }

    #[test]
    fn refuses_unsafe_or_uncanonical_names() {
        for bad in [
            "../etc/passwd",
            "/etc/passwd",
            "a/../../b",
            "./config.json",
            "a//b",
            "",
        ] {
            assert!(ResourceName::parse(bad, false).is_err(), "{bad} accepted");
        }
        for bad in [
            "a.bin",
            "a.bin:5",
            "a.bin:x:7",
            "a.bin:7:7",
            "a.bin:9:7",
            "../a:0:1",
        ] {
            assert!(ResourceName::parse(bad, true).is_err(), "{bad} accepted");
        }
        assert_eq!(ResourceName::parse(".", false).unwrap().path, ".");
    }
}
