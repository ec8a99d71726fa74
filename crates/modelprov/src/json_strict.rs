//! JSON read strictly: an object that names a key twice is refused. serde_json keeps the last
//! value of a repeated key, another reader may keep the first, and a security document that two
//! readers understand differently (a trust file, a signature's payload, a manifest) is an attack,
//! not a document.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// Checks that no object anywhere in `bytes` repeats a key. Depth is bounded by serde_json's
/// recursion limit (128), so hostile nesting is an error, not a stack overflow.
pub fn reject_duplicate_keys(bytes: &[u8]) -> Result<(), String> {
    serde_json::from_slice::<UniqueKeys>(bytes)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Deserializes any JSON value, failing on the first repeated key.
struct UniqueKeys;

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueKeysVisitor)
    }
}

struct UniqueKeysVisitor;

impl<'de> Visitor<'de> for UniqueKeysVisitor {
    type Value = UniqueKeys;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_i64<E>(self, _: i64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_u64<E>(self, _: u64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_f64<E>(self, _: f64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_str<E>(self, _: &str) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_unit<E>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueKeys, A::Error> {
        while seq.next_element::<UniqueKeys>()?.is_some() {}
        Ok(UniqueKeys)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format_args!(
                    "the key \"{key}\" appears twice in one object"
                )));
            }
            map.next_value::<UniqueKeys>()?;
        }
        Ok(UniqueKeys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_refused_at_any_depth() {
        assert!(reject_duplicate_keys(br#"{"a": 1, "b": [{"c": 2}]}"#).is_ok());
        let top = reject_duplicate_keys(br#"{"a": 1, "a": 2}"#).unwrap_err();
        assert!(top.contains("\"a\" appears twice"), "{top}");
        let nested = reject_duplicate_keys(br#"{"x": [{"d": 1, "d": 1}]}"#).unwrap_err();
        assert!(nested.contains("\"d\" appears twice"), "{nested}");
    }

    #[test]
    fn hostile_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert!(reject_duplicate_keys(deep.as_bytes()).is_err());
    }
}
