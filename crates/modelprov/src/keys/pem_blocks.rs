//! Splitting a PEM file into its blocks: key files may carry more than one (OpenSSL writes
//! `EC PARAMETERS` before `EC PRIVATE KEY`; certificate files hold chains). Each block is then
//! decoded by `pem-rfc7468`.

use pkcs8::der::pem;

/// One decoded PEM block: its label and DER bytes.
pub(crate) struct PemBlock {
    pub label: String,
    pub der: Vec<u8>,
}

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
        let (decoded_label, der) = pem::decode_vec(block.as_bytes())
            .map_err(|e| format!("PEM block '{label}' is malformed: {e}"))?;
        blocks.push(PemBlock {
            label: decoded_label.to_string(),
            der,
        });
        rest = &after[end + footer.len()..];
    }
    if blocks.is_empty() {
        return Err("no PEM block found (expected -----BEGIN ...-----)".to_string());
    }
    Ok(blocks)
}

/// The DER of every `CERTIFICATE` block, in order.
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
