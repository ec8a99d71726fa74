//! DSSE (Dead Simple Signing Envelope) v1: signatures cover the pre-authentication encoding of
//! the payload, never the JSON around it.

/// The payload type of in-toto Statements.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// `"DSSEv1" SP len(type) SP type SP len(payload) SP payload`, lengths in ASCII decimal bytes.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let header = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    );
    let mut encoded = Vec::with_capacity(header.len() + payload.len());
    encoded.extend_from_slice(header.as_bytes());
    encoded.extend_from_slice(payload);
    encoded
}

/// The encoding model_signing 0.2 signed by mistake: `"DSSEV1 {len(type)} {type} {len} {payload!r}"`
/// with the payload in Python's `repr` of bytes (`b'...'`, escapes included). model_signing 1.x
/// verifies 0.2 signatures against it for compatibility, and so does modelprov (with a
/// warning). `repr` is injective, so this is still one unambiguous message per payload.
pub fn pae_model_signing_v0_2(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    format!(
        "DSSEV1 {} {payload_type} {} {}",
        payload_type.len(),
        payload.len(),
        python_bytes_repr(payload)
    )
    .into_bytes()
}

/// CPython's `repr(bytes)`: single quotes unless the bytes hold `'` and no `"`.
fn python_bytes_repr(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::with_capacity(bytes.len() + 3);
    out.push('b');
    out.push(quote as char);
    for &byte in bytes {
        match byte {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if byte == quote => {
                out.push('\\');
                out.push(byte as char);
            }
            0x20..=0x7e => out.push(byte as char),
            _ => out.push_str(&format!("\\x{byte:02x}")),
        }
    }
    out.push(quote as char);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_signing_v0_2_encodes_the_payload_as_python_repr() {
        // The values CPython gives for repr(b"...").
        assert_eq!(python_bytes_repr(b"a'b"), "b\"a'b\"");
        assert_eq!(python_bytes_repr(b"a'\"b"), "b'a\\'\"b'");
        assert_eq!(
            python_bytes_repr(b"{\n  \"x\": 1\t}\\\x00\xe9"),
            "b'{\\n  \"x\": 1\\t}\\\\\\x00\\xe9'"
        );
        assert_eq!(
            pae_model_signing_v0_2("t", b"{}"),
            b"DSSEV1 1 t 2 b'{}'".to_vec()
        );
    }

    #[test]
    fn encodes_lengths_in_bytes() {
        assert_eq!(
            pae("a/b", "é".as_bytes()),
            b"DSSEv1 3 a/b 2 \xc3\xa9".to_vec()
        );
        assert_eq!(pae("t", b""), b"DSSEv1 1 t 0 ".to_vec());
    }
}
