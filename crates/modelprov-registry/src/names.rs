//! Namespace names: what may appear in a URL path segment, a log line and a SQL parameter
//! without quoting or surprise.

use crate::error::RegistryError;

/// The longest namespace name.
pub const MAX_NAMESPACE_LEN: usize = 64;

/// Checks a namespace name: 1 to 64 characters of lowercase ASCII letters, digits, `-`, `_` and
/// `.`, starting with a letter or digit, with no `..`. So `..`, `/`, NUL, spaces, quotes, SQL
/// metacharacters and look-alike Unicode are all refused, and the name is its own URL segment.
pub fn check_namespace(name: &str) -> Result<(), RegistryError> {
    let shown = || -> String {
        let mut shown: String = name
            .chars()
            .take(40)
            .collect::<String>()
            .escape_debug()
            .to_string();
        if name.chars().count() > 40 {
            shown.push_str("...");
        }
        shown
    };
    if name.is_empty() || name.len() > MAX_NAMESPACE_LEN {
        return Err(RegistryError::Invalid(format!(
            "namespace '{}': a name is 1 to {MAX_NAMESPACE_LEN} characters",
            shown()
        )));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c);
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !starts_well || !name.chars().all(allowed) || name.contains("..") {
        return Err(RegistryError::Invalid(format!(
            "namespace '{}': use lowercase letters, digits, '-', '_' and '.', starting with a letter or digit, without '..'",
            shown()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_refused_and_plain_ones_kept() {
        for good in ["vision", "team-a", "org.ml_2", "a", &"x".repeat(64)] {
            assert!(check_namespace(good).is_ok(), "{good}");
        }
        let long = "x".repeat(10_000);
        for bad in [
            "",
            "..",
            "a..b",
            "a/b",
            "/",
            "a\0b",
            "A",
            "Vision",
            " a",
            "a b",
            "'; DROP TABLE x; --",
            "-a",
            ".a",
            "_a",
            "ａ",
            "é",
            "a%2fb",
            &long,
            &"x".repeat(65),
        ] {
            let error = check_namespace(bad).unwrap_err();
            assert_eq!(error.code(), "invalid", "{bad:?}");
            // The message never echoes 10 kB back, nor a raw NUL.
            let text = error.to_string();
            assert!(text.len() < 300 && !text.contains('\0'), "{text}");
        }
    }
}
