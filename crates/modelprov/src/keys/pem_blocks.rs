//! Splitting a PEM file into its blocks: key files may carry more than one (OpenSSL writes
//! `EC PARAMETERS` before `EC PRIVATE KEY`; certificate files hold chains). Each block is then
//! decoded by the `pem` crate, which reads what OpenSSL reads: base64 lines of any length
//! (76-column MIME wrapping, one long line), CRLF line ends and indentation. RFC 7468's strict
//! 64-column grammar is what we write, not what we demand.

/// One decoded PEM block: its label and DER bytes.
pub(crate) struct PemBlock {
    pub label: String,
    pub der: Vec<u8>,
}

/// What `openssl pkcs8 -topk8` needs to turn a legacy encrypted key into one modelprov reads.
const TOPK8: &str = "openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD.pem -out NEW.pem";

/// Decodes every `-----BEGIN ...-----` / `-----END ...-----` block in `text`, in order.
pub(crate) fn pem_blocks(text: &str) -> Result<Vec<PemBlock>, String> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start..];
        let label_end = after[11..]
            .find("-----")
            .ok_or("a PEM header is not terminated")?;
        let label = &after[11..11 + label_end];
        let footer = format!("-----END {label}-----");
        let end = after
            .find(&footer)
            .ok_or_else(|| format!("PEM block '{label}' has no END line"))?;
        let block = &after[..end + footer.len()];
        let parsed = pem::parse(block).map_err(|e| match e {
            pem::PemError::InvalidData(e) => {
                format!("PEM block '{label}' is malformed: its base64 does not decode ({e})")
            }
            // The "header" is base64 text before a blank line, which may be key material: never
            // quoted in a message.
            pem::PemError::InvalidHeader(_) => format!(
                "PEM block '{label}' is malformed: a blank line splits its base64, or a header line has no ':'"
            ),
            e => format!("PEM block '{label}' is malformed: {e}"),
        })?;
        if let Some(proc_type) = parsed.headers().get("Proc-Type") {
            if proc_type.contains("ENCRYPTED") {
                let cipher = parsed
                    .headers()
                    .get("DEK-Info")
                    .and_then(|info| info.split(',').next())
                    .map(|cipher| format!(", DEK-Info: {cipher}"))
                    .unwrap_or_default();
                return Err(format!(
                    "PEM block '{label}' uses OpenSSL's legacy PEM encryption (Proc-Type: \
                     4,ENCRYPTED{cipher}), which modelprov does not read; convert it to \
                     encrypted PKCS#8 with `{TOPK8}`"
                ));
            }
            return Err(format!(
                "PEM block '{label}' has RFC 1421 headers (Proc-Type: {proc_type}), which no \
                 key or certificate format modelprov reads uses"
            ));
        }
        blocks.push(PemBlock {
            label: parsed.tag().to_string(),
            der: parsed.into_contents(),
        });
        rest = &after[end + footer.len()..];
    }
    if blocks.is_empty() {
        return Err("no PEM block found (expected -----BEGIN ...-----)".to_string());
    }
    Ok(blocks)
}

/// The DER of every `CERTIFICATE` block, in order.
#[cfg(feature = "x509")]
pub(crate) fn pem_certificates(text: &str) -> Result<Vec<Vec<u8>>, String> {
    let certificates: Vec<Vec<u8>> = pem_blocks(text)?
        .into_iter()
        .filter(|block| block.label == "CERTIFICATE")
        .map(|block| block.der)
        .collect();
    if certificates.is_empty() {
        return Err(
            "no certificate in this file (expected -----BEGIN CERTIFICATE-----)".to_string(),
        );
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A P-256 SPKI in base64, unwrapped.
    const SPKI: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE/ikcGi5zhh4V1oYTpAtuXigIo7M8P9WXqxR23gpcKB/5mMje3GwBNBmMPja3O3odmLnY9TO7QVOt4Pd13uD8/Q==";

    fn wrapped(width: usize, line_end: &str) -> String {
        let lines: Vec<&str> = SPKI
            .as_bytes()
            .chunks(width)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----{line_end}{}{line_end}-----END PUBLIC KEY-----{line_end}",
            lines.join(line_end)
        )
    }

    #[test]
    fn any_line_length_decodes_as_openssl_reads_it() {
        let strict = pem_blocks(&wrapped(64, "\n")).unwrap();
        for (width, line_end) in [(76, "\n"), (76, "\r\n"), (10, "\n"), (1000, "\n")] {
            let blocks = pem_blocks(&wrapped(width, line_end)).unwrap();
            assert_eq!(blocks[0].der, strict[0].der, "{width}");
        }
    }

    #[test]
    fn a_blank_line_inside_the_base64_is_malformed_and_the_text_is_not_quoted() {
        let text = wrapped(20, "\n").replacen('\n', "\n\n", 2);
        let problem = pem_blocks(&text).err().unwrap();
        assert!(problem.contains("blank line"), "{problem}");
        assert!(!problem.contains(&SPKI[20..40]), "{problem}");
    }

    #[test]
    fn legacy_encryption_is_named_with_the_conversion() {
        let text = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,1C6AF8BA05ECDB5AFB65780FCEEAC5BD\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        let problem = pem_blocks(text).err().unwrap();
        assert!(
            problem
                .contains("legacy PEM encryption (Proc-Type: 4,ENCRYPTED, DEK-Info: AES-256-CBC)")
                && problem.contains("openssl pkcs8 -topk8"),
            "{problem}"
        );
    }
}
