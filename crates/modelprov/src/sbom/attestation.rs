//! An SBOM signed as describing a model: an in-toto Statement whose subject is the model digest
//! and whose predicate is the SBOM itself, with the predicate types in-toto registers for
//! CycloneDX (`https://cyclonedx.org/bom`) and SPDX (`https://spdx.dev/Document`).

use serde_json::{Value, json};

use super::validate::{SbomFormat, detect_format};
use crate::attest::{Bundle, STATEMENT_TYPE};
use crate::digest::RootDigest;
use crate::error::{Error, Result};
use crate::signing::{TrustedSigner, verify_envelope};

/// The in-toto predicate type of a signed CycloneDX SBOM (`https://cyclonedx.org/bom`).
pub const CYCLONEDX_PREDICATE_TYPE: &str = "https://cyclonedx.org/bom";
/// The in-toto predicate type of a signed SPDX SBOM (`https://spdx.dev/Document`).
pub const SPDX_PREDICATE_TYPE: &str = "https://spdx.dev/Document";

fn predicate_type(format: SbomFormat) -> &'static str {
    match format {
        SbomFormat::CycloneDx16 | SbomFormat::CycloneDx17 => CYCLONEDX_PREDICATE_TYPE,
        SbomFormat::Spdx301 => SPDX_PREDICATE_TYPE,
    }
}

/// The model digest an SBOM modelprov wrote describes: CycloneDX `metadata.component`'s SHA-256,
/// or the SPDX root element's `verifiedUsing` SHA-256.
pub fn described_digest(document: &Value) -> Option<RootDigest> {
    let hex = match detect_format(document).ok()? {
        SbomFormat::CycloneDx16 | SbomFormat::CycloneDx17 => document
            .pointer("/metadata/component/hashes")?
            .as_array()?
            .iter()
            .find(|h| h["alg"] == "SHA-256")?["content"]
            .as_str()?,
        SbomFormat::Spdx301 => {
            let graph = document["@graph"].as_array()?;
            let sbom = graph.iter().find(|e| e["type"] == "software_Sbom")?;
            let root = sbom["rootElement"][0].as_str()?;
            let model = graph.iter().find(|e| e["spdxId"] == root)?;
            model["verifiedUsing"]
                .as_array()?
                .iter()
                .find(|h| h["algorithm"] == "sha256")?["hashValue"]
                .as_str()?
        }
    };
    hex.parse().ok()
}

/// The Statement binding `document` to the model.
pub fn sbom_statement(
    model_name: &str,
    model_digest: &RootDigest,
    document: &Value,
) -> std::result::Result<Vec<u8>, String> {
    let format = detect_format(document)?;
    let statement = json!({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": model_name, "digest": {"sha256": model_digest.hex()}}],
        "predicateType": predicate_type(format),
        "predicate": document,
    });
    Ok(serde_json::to_vec(&statement).expect("statements serialise"))
}

/// Checks an SBOM signature: the signer, that it was made for `model_digest`, and that its
/// predicate is `document` (the SBOM file's JSON). Any mismatch is `NotAuthentic`.
pub fn verify_sbom_bundle(
    bundle: &Bundle,
    trusted: TrustedSigner<'_>,
    bundle_path: &std::path::Path,
    document: &Value,
    model_digest: &RootDigest,
) -> Result<()> {
    let envelope = verify_envelope(bundle, trusted, bundle_path)?;
    let invalid = |problem: String| Error::invalid(bundle_path, problem);
    let not_authentic = |problem: String| Error::not_authentic(bundle_path, problem);
    let statement: Value = serde_json::from_slice(&envelope.payload)
        .map_err(|e| Error::invalid_because(bundle_path, "the statement is not JSON", e))?;
    if statement["_type"] != STATEMENT_TYPE {
        return Err(invalid("not an in-toto Statement v1".into()));
    }
    let format = detect_format(document).map_err(invalid)?;
    if statement["predicateType"] != predicate_type(format) {
        return Err(not_authentic(format!(
            "the signature is for a {} document, not {format}",
            statement["predicateType"]
        )));
    }
    let subject = statement
        .pointer("/subject/0/digest/sha256")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if subject != model_digest.hex() {
        return Err(not_authentic(format!(
            "the SBOM was signed for the model sha256:{subject}, not this one ({model_digest})"
        )));
    }
    if statement["predicate"] != *document {
        return Err(not_authentic(
            "the SBOM is not the one that was signed (its content changed)".into(),
        ));
    }
    Ok(())
}
