//! What a published statement is: a Sigstore bundle whose DSSE envelope signs an in-toto
//! Statement about one model digest. The server checks the signature against the namespace's
//! trust policy (for the model's name), then reads the Statement by its predicate type: an OMS
//! model signature, a card, a CycloneDX or SPDX SBOM, a scan report or a lineage record. Anything
//! else, unsigned or signed by someone the policy does not trust, is refused with the reason.

use std::path::Path;

use modelprov::attest::{Bundle, OMS_LEGACY_PREDICATE_TYPE, OMS_PREDICATE_TYPE, STATEMENT_TYPE};
use modelprov::card::{CARD_PREDICATE_TYPE, parse_card_statement};
use modelprov::digest::RootDigest;
use modelprov::lineage::{LineageRecord, SLSA_PROVENANCE_V1, parse_lineage_statement};
use modelprov::sbom::{CYCLONEDX_PREDICATE_TYPE, SPDX_PREDICATE_TYPE};
use modelprov::scan::SCAN_REPORT_PREDICATE_TYPE;
use modelprov::trust_policy::TrustPolicy;
use serde::Serialize;
use serde_json::{Value, json};

use crate::error::RegistryError;

/// The kinds of statement a registry holds about a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An OMS model signature (the files and their digests).
    Signature,
    /// A model card bound to the model.
    Card,
    /// A CycloneDX or SPDX SBOM describing the model.
    Sbom,
    /// A scan report of the model's files.
    Scan,
    /// A lineage record: what the model was derived from.
    Lineage,
}

impl Kind {
    /// The name the API and the database use.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Signature => "signature",
            Kind::Card => "card",
            Kind::Sbom => "sbom",
            Kind::Scan => "scan",
            Kind::Lineage => "lineage",
        }
    }
}

/// A statement whose signature the namespace's policy trusts.
#[derive(Clone, Debug)]
pub struct Verified {
    /// What it says.
    pub kind: Kind,
    /// The model digest it is about.
    pub digest: RootDigest,
    /// Its predicate type.
    pub predicate_type: String,
    /// Who signed it, as the verifier established.
    pub signer: String,
    /// The facts a reader wants without fetching the bundle (JSON).
    pub summary: Value,
    /// For a lineage record: the record and the exact Statement bytes.
    pub record: Option<(LineageRecord, Vec<u8>)>,
}

/// Checks `bundle` (JSON bytes) as a statement about the model `name@version`, signed by a
/// signer `policy` trusts for `name`.
///
/// # Errors
/// [`RegistryError::Invalid`] for a bundle that cannot be read or a statement of no kind the
/// registry holds; [`RegistryError::NotTrusted`] for a signature that does not verify under the
/// policy or a lineage record for another model.
pub fn verify_statement(
    policy: &TrustPolicy,
    bundle: &[u8],
    name: &str,
    version: &str,
    which: usize,
) -> Result<Verified, RegistryError> {
    let label = format!("statement {which}");
    let path = Path::new(&label);
    let invalid = |problem: String| RegistryError::Invalid(format!("{label}: {problem}"));
    if bundle.len() as u64 > modelprov::attest::MAX_BUNDLE_BYTES {
        return Err(invalid("the bundle is too large".into()));
    }
    let parsed: Bundle = serde_json::from_slice(bundle)
        .map_err(|e| invalid(format!("not a Sigstore bundle: {e}")))?;
    if parsed.dsse_envelope.is_none() {
        return Err(invalid(
            "the bundle signs no in-toto statement (a DSSE envelope): a registry holds statements about models, not signatures of single files".into(),
        ));
    }
    let (envelope, _) = policy
        .verify_envelope(&parsed, Some(name), path)
        .map_err(|e| match e {
            modelprov::Error::InvalidInput { problem, .. } => invalid(problem),
            modelprov::Error::NotAuthentic { problem, .. } => RegistryError::NotTrusted(format!(
                "{label} is not signed by a signer this namespace's policy trusts for {name}: {problem}"
            )),
            other => invalid(other.to_string()),
        })?;
    let signer = envelope.evidence.signed_by.to_string();
    let payload = envelope.payload;
    let statement: Value = serde_json::from_slice(&payload)
        .map_err(|e| invalid(format!("the signed statement is not JSON: {e}")))?;
    let predicate_type = statement
        .get("predicateType")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let problem = |e: modelprov::error::Problem| invalid(e.to_string());
    let (kind, digest, summary, record) = match predicate_type.as_str() {
        OMS_PREDICATE_TYPE | OMS_LEGACY_PREDICATE_TYPE => {
            let oms = modelprov::attest::parse_oms_statement(&payload).map_err(problem)?;
            let digest = oms
                .subject_digest
                .unwrap_or_else(|| oms.manifest.root_digest());
            let summary = json!({
                "model_name": oms.manifest.name,
                "files": oms.manifest.file_count(),
                "size": oms.manifest.total_size(),
            });
            (Kind::Signature, digest, summary, None)
        }
        CARD_PREDICATE_TYPE => {
            let card = parse_card_statement(&payload).map_err(problem)?;
            let summary = json!({
                "card_name": card.card_name,
                "card_sha256": card.card_sha256,
                "metadata": card.metadata,
            });
            (Kind::Card, card.model_digest, summary, None)
        }
        CYCLONEDX_PREDICATE_TYPE | SPDX_PREDICATE_TYPE | SCAN_REPORT_PREDICATE_TYPE => {
            let digest = subject_digest(&statement).map_err(invalid)?;
            let (kind, summary) = if predicate_type == SCAN_REPORT_PREDICATE_TYPE {
                (Kind::Scan, scan_summary(&statement["predicate"]))
            } else {
                let format = if predicate_type == CYCLONEDX_PREDICATE_TYPE {
                    "CycloneDX"
                } else {
                    "SPDX"
                };
                (Kind::Sbom, json!({"format": format}))
            };
            (kind, digest, summary, None)
        }
        SLSA_PROVENANCE_V1 => {
            let record = parse_lineage_statement(&payload).map_err(problem)?;
            if record.name != name || record.version != version {
                return Err(RegistryError::NotTrusted(format!(
                    "{label} is the lineage record of {}, not of {name}@{version}",
                    record.id()
                )));
            }
            let summary = json!({
                "parents": record.parents.iter().map(|p| json!({
                    "digest": p.digest.to_string(),
                    "name": p.name,
                    "relation": p.relation.as_str(),
                })).collect::<Vec<_>>(),
            });
            (
                Kind::Lineage,
                record.digest,
                summary,
                Some((record, payload)),
            )
        }
        "" => {
            return Err(invalid(
                "the signed payload is not an in-toto statement".into(),
            ));
        }
        other => {
            return Err(invalid(format!(
                "predicate type '{other}' is not one a registry holds (an OMS signature, a card, a CycloneDX or SPDX SBOM, a scan report or a lineage record)"
            )));
        }
    };
    Ok(Verified {
        kind,
        digest,
        predicate_type,
        signer,
        summary,
        record,
    })
}

/// The one subject's SHA-256 of an in-toto Statement v1.
fn subject_digest(statement: &Value) -> Result<RootDigest, String> {
    if statement.get("_type").and_then(Value::as_str) != Some(STATEMENT_TYPE) {
        return Err(format!(
            "the payload is not an in-toto Statement ({STATEMENT_TYPE})"
        ));
    }
    let subjects = statement.get("subject").and_then(Value::as_array);
    let [subject] = subjects.map(Vec::as_slice).unwrap_or_default() else {
        return Err("the statement must have exactly one subject, the model".into());
    };
    let hex = subject
        .pointer("/digest/sha256")
        .and_then(Value::as_str)
        .ok_or("the subject has no sha256 digest")?;
    format!("sha256:{hex}")
        .parse()
        .map_err(|e| format!("the subject digest: {e}"))
}

/// A scan report's verdict (`ok`: nothing fails) and its counts of each file verdict.
fn scan_summary(report: &Value) -> Value {
    json!({
        "ok": report.get("ok").cloned().unwrap_or(Value::Null),
        "counts": report.get("summary").cloned().unwrap_or(Value::Null),
    })
}
