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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_lengths_in_bytes() {
        assert_eq!(
            pae("a/b", "é".as_bytes()),
            b"DSSEv1 3 a/b 2 \xc3\xa9".to_vec()
        );
        assert_eq!(pae("t", b""), b"DSSEv1 1 t 0 ".to_vec());
    }
}
