//! The audit log: every accepted write, in order, with who made it and the exact bytes accepted.
//! Entries are only ever appended (the database refuses anything else), their sequence numbers
//! have no gaps, and each has canonical bytes, the leaf a Merkle transparency log can be built
//! over: the JSON object below with its keys in lexicographic order, no whitespace, integers
//! and strings as RFC 8785 (JCS) writes them.
//!
//! ```text
//! {"action":"token.create","at":"2026-12-03T10:00:00.123456Z","body_sha256":"<hex>","namespace":"vision","seq":42,"token":1}
//! ```

use serde::Serialize;
use sha2::{Digest as _, Sha256};

/// One entry, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Its place in the log, from 1, without gaps.
    pub seq: i64,
    /// When it was accepted (RFC 3339, UTC, microseconds).
    pub at: String,
    /// The token that made the write; `None` for the server's first admin token, which no token
    /// made.
    pub token_id: Option<i64>,
    /// The namespace written to; `None` for server-wide writes.
    pub namespace: Option<String>,
    /// What was done: `namespace.create`, `token.create`, `token.revoke`, ...
    pub action: String,
    /// The exact bytes accepted (the request's document; never a token's secret).
    #[serde(skip)]
    pub body: Vec<u8>,
    /// The canonical bytes of the entry (see the module docs).
    #[serde(skip)]
    pub entry: Vec<u8>,
}

/// The canonical form's fields, declared in lexicographic order: serde writes struct fields in
/// declaration order, so this order is the byte order.
#[derive(Serialize)]
struct Canonical<'a> {
    action: &'a str,
    at: &'a str,
    body_sha256: String,
    namespace: Option<&'a str>,
    seq: i64,
    token: Option<i64>,
}

/// The canonical bytes of an entry with these fields.
pub fn canonical_bytes(
    seq: i64,
    at: &str,
    token_id: Option<i64>,
    namespace: Option<&str>,
    action: &str,
    body: &[u8],
) -> Vec<u8> {
    serde_json::to_vec(&Canonical {
        action,
        at,
        body_sha256: hex::encode(Sha256::digest(body)),
        namespace,
        seq,
        token: token_id,
    })
    .expect("the canonical form serialises")
}

impl AuditEntry {
    /// Whether the stored canonical bytes are what this entry's fields give (a check a log
    /// auditor repeats).
    pub fn is_consistent(&self) -> bool {
        self.entry
            == canonical_bytes(
                self.seq,
                &self.at,
                self.token_id,
                self.namespace.as_deref(),
                &self.action,
                &self.body,
            )
    }
}

/// Now, as the log writes times: RFC 3339, UTC, microseconds.
pub(crate) fn now() -> String {
    let now = time::OffsetDateTime::now_utc();
    let micros = now.microsecond();
    let whole = now.replace_nanosecond(0).expect("0 ns is valid");
    let text = whole
        .format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339 formats");
    // `...:SSZ` -> `...:SS.ffffffZ`
    format!("{}.{micros:06}Z", text.trim_end_matches('Z'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_bytes_are_fixed() {
        let bytes = canonical_bytes(
            42,
            "2026-12-03T10:00:00.123456Z",
            Some(1),
            Some("vision"),
            "token.create",
            b"{}",
        );
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"{"action":"token.create","at":"2026-12-03T10:00:00.123456Z","body_sha256":"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","namespace":"vision","seq":42,"token":1}"#
        );
        let bootstrap = canonical_bytes(1, "t", None, None, "token.create", b"");
        assert!(
            String::from_utf8(bootstrap)
                .unwrap()
                .contains(r#""namespace":null,"seq":1,"token":null}"#)
        );
    }

    #[test]
    fn times_have_microseconds_and_sort_as_text() {
        let a = now();
        let b = now();
        assert_eq!(a.len(), "2026-12-03T10:00:00.123456Z".len(), "{a}");
        assert!(a <= b);
        time::OffsetDateTime::parse(&a, &time::format_description::well_known::Rfc3339).unwrap();
    }
}
