//! A card bound to a model by signature: an in-toto Statement whose subject is the model digest
//! and whose predicate (our `model-card/v1` type, docs/model-cards.md) holds the card file's
//! SHA-256 and its metadata. Signed with the same key as the model's OMS signature, it lets a
//! verifier trust the card exactly as far as the weights.

use std::str::FromStr;

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::attest::{STATEMENT_TYPE, Sha256Out, StatementOut};
use crate::digest::RootDigest;
use crate::error::Problem;

/// Our predicate type. A name, not a URL anything is fetched from.
pub const CARD_PREDICATE_TYPE: &str = "https://modelprov.dev/model-card/v1";

#[derive(Serialize)]
struct PredicateOut<'a> {
    card: CardOut<'a>,
    metadata: &'a Map<String, Value>,
}

#[derive(Serialize)]
struct CardOut<'a> {
    name: &'a str,
    #[serde(rename = "mediaType")]
    media_type: &'static str,
    digest: Sha256Out,
}

/// What a verified card statement says.
#[derive(Clone, Debug, PartialEq)]
pub struct CardAttestation {
    /// The Statement subject's name for the model (empty when the subject has none).
    pub model_name: String,
    /// The model's OMS root digest the card was signed for.
    pub model_digest: RootDigest,
    /// The card's file name when signed.
    pub card_name: String,
    /// Hex SHA-256 of the card file's bytes.
    pub card_sha256: String,
    /// The card's front matter as signed, as JSON (empty when the predicate has none).
    pub metadata: Map<String, Value>,
}

impl CardAttestation {
    /// Whether `card_bytes` are the card that was signed.
    pub fn matches_card(&self, card_bytes: &[u8]) -> bool {
        card_sha256(card_bytes) == self.card_sha256
    }
}

/// Hex SHA-256 of a card file's bytes: how statements and lineage records name a card.
pub fn card_sha256(card_bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(card_bytes))
}

/// The Statement binding the card (`card_name`, its bytes and parsed metadata) to the model.
pub fn card_statement(
    model_name: &str,
    model_digest: &RootDigest,
    card_name: &str,
    card_bytes: &[u8],
    metadata: &Map<String, Value>,
) -> Vec<u8> {
    let media_type = if card_name.ends_with(".json") {
        "application/json"
    } else if card_name.ends_with(".yaml") || card_name.ends_with(".yml") {
        "application/yaml"
    } else {
        "text/markdown"
    };
    StatementOut::new(
        model_name,
        model_digest.hex(),
        CARD_PREDICATE_TYPE,
        PredicateOut {
            card: CardOut {
                name: card_name,
                media_type,
                digest: Sha256Out {
                    sha256: card_sha256(card_bytes),
                },
            },
            metadata,
        },
    )
    .to_vec_pretty()
}

/// Reads a card Statement payload.
pub fn parse_card_statement(payload: &[u8]) -> Result<CardAttestation, Problem> {
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| Problem::because("the signed payload is not JSON", e))?;
    if value.get("_type").and_then(Value::as_str) != Some(STATEMENT_TYPE) {
        return Err(format!("the payload is not an in-toto Statement ({STATEMENT_TYPE})").into());
    }
    match value.get("predicateType").and_then(Value::as_str) {
        Some(CARD_PREDICATE_TYPE) => {}
        Some(other) => {
            return Err(format!(
                "predicate type '{other}' is not a model card ({CARD_PREDICATE_TYPE})"
            )
            .into());
        }
        None => return Err("the statement has no predicateType".into()),
    }
    let subjects = value.get("subject").and_then(Value::as_array);
    let [subject] = subjects.map(Vec::as_slice).unwrap_or_default() else {
        return Err("a card statement has exactly one subject, the model".into());
    };
    let model_name = subject
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let model_hex = subject
        .pointer("/digest/sha256")
        .and_then(Value::as_str)
        .ok_or("the subject has no sha256 digest")?;
    let model_digest = RootDigest::from_str(&format!("sha256:{model_hex}"))
        .map_err(|e| Problem::because("the subject digest", e))?;
    let predicate = value
        .get("predicate")
        .ok_or("the statement has no predicate")?;
    let card_name = predicate
        .pointer("/card/name")
        .and_then(Value::as_str)
        .ok_or("the predicate names no card file")?;
    let card_sha256 = predicate
        .pointer("/card/digest/sha256")
        .and_then(Value::as_str)
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or("the predicate has no sha256 digest of the card")?;
    let metadata = match predicate.get("metadata") {
        Some(Value::Object(map)) => map.clone(),
        None => Map::new(),
        Some(_) => return Err("the predicate's metadata is not an object".into()),
    };
    Ok(CardAttestation {
        model_name: model_name.to_string(),
        model_digest,
        card_name: card_name.to_string(),
        card_sha256: card_sha256.to_ascii_lowercase(),
        metadata,
    })
}

/// Signs `card_bytes` (the card file `card_name`, whose metadata is `metadata`) as describing the
/// model `model_name` with `model_digest`, with the key (and certificates) that sign the model.
pub fn sign_card(
    model_name: &str,
    model_digest: &RootDigest,
    card_name: &str,
    card_bytes: &[u8],
    metadata: &Map<String, Value>,
    key: &crate::keys::PrivateKey,
    certificates: &[Vec<u8>],
) -> crate::Result<crate::attest::Bundle> {
    let payload = card_statement(model_name, model_digest, card_name, card_bytes, metadata);
    crate::signing::sign_statement(&payload, key, certificates)
}

/// Checks a card signature (read from `bundle_path`) against the trusted signer, that it was made
/// for the model with `model_digest`, and that `card_bytes` are the card it signed. Anything that
/// does not match is `NotAuthentic`.
pub fn verify_card_bundle(
    bundle: &crate::attest::Bundle,
    trusted: crate::signing::TrustedSigner<'_>,
    bundle_path: &std::path::Path,
    card_bytes: &[u8],
    model_digest: &RootDigest,
) -> crate::Result<CardAttestation> {
    use crate::error::Error;
    let envelope = crate::signing::verify_envelope(bundle, trusted, bundle_path)?;
    let attestation =
        parse_card_statement(&envelope.payload).map_err(|problem| problem.at(bundle_path))?;
    let not_authentic = |problem: String| Error::not_authentic(bundle_path, problem);
    if &attestation.model_digest != model_digest {
        return Err(not_authentic(format!(
            "the card was signed for the model {}, not this one ({model_digest})",
            attestation.model_digest
        )));
    }
    if !attestation.matches_card(card_bytes) {
        return Err(not_authentic(format!(
            "the card is not the one that was signed ({} changed since)",
            attestation.card_name
        )));
    }
    Ok(attestation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statement_round_trip() {
        let digest = RootDigest::over([[7u8; 32].as_slice()]);
        let meta = json!({"license": "mit"}).as_object().unwrap().clone();
        let payload = card_statement("m", &digest, "README.md", b"card bytes", &meta);
        let attestation = parse_card_statement(&payload).unwrap();
        assert_eq!(attestation.model_digest, digest);
        assert_eq!(attestation.card_name, "README.md");
        assert_eq!(attestation.metadata, meta);
        assert!(attestation.matches_card(b"card bytes"));
        assert!(!attestation.matches_card(b"card bytes!"));
    }

    #[test]
    fn oms_statements_are_not_cards() {
        let error = parse_card_statement(br#"{"_type": "https://in-toto.io/Statement/v1", "subject": [], "predicateType": "https://model_signing/signature/v1.0", "predicate": {}}"#).unwrap_err();
        assert!(error.message().contains("not a model card"), "{error}");
    }
}
