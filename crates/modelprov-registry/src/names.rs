//! Namespace names: what may appear in a URL path segment, a log line and a SQL parameter
//! without quoting or surprise.

use crate::error::RegistryError;

/// The longest namespace name.
pub const MAX_NAMESPACE_LEN: usize = 64;

/// Checks a namespace name: 1 to 64 characters of lowercase ASCII letters, digits, `-`, `_` and
/// `.`, starting with a letter or digit, with no `..`. So `..`, `/`, NUL, spaces, quotes, SQL
/// metacharacters and look-alike Unicode are all refused, and the name is its own URL segment.
pub fn check_namespace(name: &str) -> Result<(), RegistryError> {
    let shown = || shown(name);
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

/// The longest model name, its namespace and `/` included.
pub const MAX_MODEL_NAME_LEN: usize = 200;
/// The longest version.
pub const MAX_VERSION_LEN: usize = 100;

/// Checks a model name as the registry holds it, `namespace/name`: the namespace a valid one,
/// then 1 or more segments of ASCII letters, digits, `-`, `_` and `.` separated by single `/`,
/// none of them `.` or `..`. Returns the namespace.
pub fn check_model_name(full: &str) -> Result<&str, RegistryError> {
    let Some((namespace, rest)) = full.split_once('/') else {
        return Err(RegistryError::Invalid(format!(
            "model '{}': a model is named 'namespace/name'",
            shown(full)
        )));
    };
    check_namespace(namespace)?;
    let segment_ok = |segment: &str| {
        !segment.is_empty()
            && segment != "."
            && segment != ".."
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    if full.len() > MAX_MODEL_NAME_LEN || !rest.split('/').all(segment_ok) {
        return Err(RegistryError::Invalid(format!(
            "model '{}': after the namespace, use ASCII letters, digits, '-', '_' and '.' in segments separated by '/' (no empty, '.' or '..' segment), at most {MAX_MODEL_NAME_LEN} characters in all",
            shown(full)
        )));
    }
    Ok(namespace)
}

/// Checks a version: 1 to 100 ASCII letters, digits, `-`, `_`, `.` and `+`, starting with a
/// letter or digit (so `1.2.0`, `v3`, `2024-06-01+q4` but never `..` alone or `@`).
pub fn check_version(version: &str) -> Result<(), RegistryError> {
    let starts_well = version
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-_.+".contains(c);
    if version.len() > MAX_VERSION_LEN || !starts_well || !version.chars().all(allowed) {
        return Err(RegistryError::Invalid(format!(
            "version '{}': use 1 to {MAX_VERSION_LEN} ASCII letters, digits, '-', '_', '.' and '+', starting with a letter or digit",
            shown(version)
        )));
    }
    Ok(())
}

/// At most 40 characters of `name`, escaped: safe to put in a message and a log line.
fn shown(name: &str) -> String {
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

    #[test]
    fn model_names_and_versions_are_plain() {
        assert_eq!(check_model_name("vision/resnet-50").unwrap(), "vision");
        assert_eq!(check_model_name("vision/base/v2.gguf").unwrap(), "vision");
        for bad in [
            "resnet",
            "vision/",
            "vision//x",
            "vision/../etc",
            "vision/./x",
            "Vision/x",
            "vision/x y",
            "vision/x\0",
            "vision/x'; DROP TABLE registry_versions; --",
            "vision/é",
            &format!("vision/{}", "a".repeat(10_000)),
        ] {
            assert!(check_model_name(bad).is_err(), "{bad:?} was accepted");
        }
        for good in ["1.2.0", "v3", "2024-06-01+q4", "1_0"] {
            check_version(good).unwrap();
        }
        for bad in [
            "",
            ".",
            "..",
            "-1",
            "1@2",
            "1/2",
            "1 2",
            "1\0",
            &"9".repeat(101),
        ] {
            assert!(check_version(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
