//! The reference tool's signatures verify (signature, Statement, then the model bytes), its
//! crafted acceptance cases are accepted or refused as it does, and our own signatures
//! round-trip for every key type.

use std::path::Path;

use crate::common::vectors;
use modelprov::Error;
use modelprov::attest::read_bundle;
use modelprov::keys::{KeyType, PrivateKey, PublicKey};
use modelprov::manifest::{BuildContext, Serialization, build_manifest};
use modelprov::signing::{TrustedSigner, sign_manifest, verify_bundle};
use modelprov::verify::{Expectation, verify_model};
#[cfg(feature = "x509")]
use modelprov::x509::read_certificates;

/// Verifies `signature` with `key`, then the model at `model` against what it signs (leaving
/// out `extra_ignore`, as the vectors README says for signatures made before a file existed).
fn verify(
    signature: &str,
    key: &str,
    model: &str,
    extra_ignore: Option<&str>,
) -> Result<bool, Error> {
    let root = vectors();
    let bundle = read_bundle(&root.join(signature))?;
    let key = PublicKey::read(&root.join(key))?;
    let verified = verify_bundle(&bundle, TrustedSigner::Key(&key), &root.join(signature))?;
    let mut manifest = verified.statement.manifest;
    if let Some(path) = extra_ignore {
        manifest.serialization.ignore_paths.push(path.to_string());
    }
    let outcome = verify_model(
        &root.join(model),
        &Expectation::Manifest(manifest),
        &BuildContext::default(),
    )?;
    Ok(outcome.ok)
}

#[test]
fn every_reference_signature_verifies_with_its_key() {
    let cases = [
        ("sigs/p256_files.sig", "keys/p256_public.pem", "model", None),
        ("sigs/p384_files.sig", "keys/p384_public.pem", "model", None),
        ("sigs/p521_files.sig", "keys/p521_public.pem", "model", None),
        (
            "sigs/p256sec1_files.sig",
            "keys/p256sec1_public.pem",
            "model",
            None,
        ),
        (
            "sigs/p256_files_ignore_tokenizer.sig",
            "keys/p256_public.pem",
            "model",
            None,
        ),
        (
            "sigs/p256_files_no_ignore_git.sig",
            "keys/p256_public.pem",
            "model",
            None,
        ),
        (
            "sigs/p256_single_file_config.sig",
            "keys/p256_public.pem",
            "model/config.json",
            None,
        ),
        (
            "sigs/ordering_p256_files.sig",
            "keys/p256_public.pem",
            "ordering",
            None,
        ),
        ("small/model.sig", "keys/p256_public.pem", "small", None),
        (
            "sigs/small_p256_shards_50.sig",
            "keys/p256_public.pem",
            "small",
            Some("model.sig"),
        ),
        (
            "sigs/p256_shards_1000000.sig",
            "keys/p256_public.pem",
            "model",
            None,
        ),
        (
            "sigs/p384_shards_1000000.sig",
            "keys/p384_public.pem",
            "model",
            None,
        ),
        (
            "sigs/p256_shards_default.sig",
            "keys/p256_public.pem",
            "model",
            None,
        ),
        (
            "sigs/p256_files_blake2.sig",
            "keys/p256_public.pem",
            "model",
            None,
        ),
        (
            "sigs/p256_shards_blake2_1000000.sig",
            "keys/p256_public.pem",
            "model",
            None,
        ),
        (
            "sigs/p256_files_blake3.sig",
            "keys/p256_public.pem",
            "model",
            None,
        ),
        // Certificate bundles are verified against a chain; their leaf key is all we check here.
    ];
    for (signature, key, model, ignore) in cases {
        assert!(
            verify(signature, key, model, ignore).unwrap_or_else(|e| panic!("{signature}: {e}")),
            "{signature}"
        );
    }
}

#[test]
fn crafted_payloads_are_judged_as_the_reference_tool_judges_them() {
    let key = "keys/p256_public.pem";
    for accepted in [
        "crafted/C2_resources_reversed_consistent_root.sig",
        "crafted/C3_compact_sorted_payload.sig",
        "crafted/C4_shards_int_shard_size.sig",
        "crafted/C5_blake2_hash_type_renamed.sig",
        "crafted/C6_extra_predicate_field.sig",
        "crafted/C8_duplicate_resource.sig",
        "crafted/C9_unnormalized_names.sig",
        "crafted/C10_compat_v0.1_predicate.sig",
    ] {
        assert!(
            verify(accepted, key, "model", None).unwrap_or_else(|e| panic!("{accepted}: {e}")),
            "{accepted}"
        );
    }
    let error = verify("crafted/C1_wrong_root_digest.sig", key, "model", None).unwrap_err();
    assert!(error.to_string().contains("inconsistent"), "{error}");
    let error = verify("crafted/C7_two_subjects.sig", key, "model", None).unwrap_err();
    assert!(error.to_string().contains("exactly one subject"), "{error}");
}

#[test]
fn a_wrong_key_or_an_altered_byte_is_not_authentic() {
    let error = verify("sigs/p256_files.sig", "keys/p384_public.pem", "model", None).unwrap_err();
    assert!(matches!(error, Error::NotAuthentic { .. }), "{error}");
    assert!(error.to_string().contains("another key"), "{error}");

    let root = vectors();
    let key = PublicKey::read(&root.join("keys/p256_public.pem")).unwrap();
    let mut bundle = read_bundle(&root.join("sigs/p256_files.sig")).unwrap();
    let envelope = bundle.dsse_envelope.as_mut().unwrap();
    let mut signature = base64_decode(&envelope.signatures[0].sig);
    let last = signature.len() - 1;
    signature[last] ^= 1;
    envelope.signatures[0].sig = base64_encode(&signature);
    let error = verify_bundle(&bundle, TrustedSigner::Key(&key), Path::new("x.sig")).unwrap_err();
    assert!(matches!(error, Error::NotAuthentic { .. }), "{error}");

    let mut bundle = read_bundle(&root.join("sigs/p256_files.sig")).unwrap();
    let envelope = bundle.dsse_envelope.as_mut().unwrap();
    let payload = String::from_utf8(base64_decode(&envelope.payload))
        .unwrap()
        .replacen("8892", "8893", 1);
    envelope.payload = base64_encode(payload.as_bytes());
    assert!(matches!(
        verify_bundle(&bundle, TrustedSigner::Key(&key), Path::new("x.sig")),
        Err(Error::NotAuthentic { .. })
    ));

    let mut bundle = read_bundle(&root.join("sigs/p256_files.sig")).unwrap();
    bundle.media_type = "application/vnd.dev.sigstore.bundle+json;version=0.9".into();
    assert!(matches!(
        verify_bundle(&bundle, TrustedSigner::Key(&key), Path::new("x.sig")),
        Err(Error::InvalidInput { .. })
    ));
    let mut bundle = read_bundle(&root.join("sigs/p256_files.sig")).unwrap();
    bundle.dsse_envelope.as_mut().unwrap().payload_type = "application/json".into();
    assert!(matches!(
        verify_bundle(&bundle, TrustedSigner::Key(&key), Path::new("x.sig")),
        Err(Error::InvalidInput { .. })
    ));
}

#[test]
fn keys_load_in_every_form_and_hints_match_the_reference() {
    let root = vectors();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("expected.json")).unwrap())
            .unwrap();
    for (file, facts) in expected["public_keys"].as_object().unwrap() {
        let key = PublicKey::read(&root.join(file)).unwrap();
        assert_eq!(
            key.hint(),
            facts["hint_sha256_of_spki_pem"].as_str().unwrap(),
            "{file}"
        );
        assert_eq!(
            key.to_pem(),
            std::fs::read_to_string(root.join(file)).unwrap(),
            "{file}"
        );
    }
    for (private, public) in [
        ("keys/p256_private_pkcs8.pem", "keys/p256_public.pem"),
        ("keys/p384_private_pkcs8.pem", "keys/p384_public.pem"),
        ("keys/p521_private_pkcs8.pem", "keys/p521_public.pem"),
        ("keys/p256sec1_private.pem", "keys/p256sec1_public.pem"),
        ("pki/leaf_key.pem", "pki/leaf_public.pem"),
    ] {
        let key = PrivateKey::read(&root.join(private), None).unwrap();
        assert_eq!(
            key.public_key(),
            PublicKey::read(&root.join(public)).unwrap(),
            "{private}"
        );
    }
    let encrypted = root.join("keys/p256_private_encrypted.pem");
    let error = PrivateKey::read(&encrypted, None)
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("encrypted") && error.contains("p256_private_encrypted.pem"),
        "{error}"
    );
    assert!(
        PrivateKey::read(&encrypted, Some(b"wrong"))
            .err()
            .unwrap()
            .to_string()
            .contains("wrong passphrase")
    );
    let key = PrivateKey::read(&encrypted, Some(b"secret")).unwrap();
    assert_eq!(
        key.public_key(),
        PublicKey::read(&root.join("keys/p256_public.pem")).unwrap()
    );
    let error = PrivateKey::read(&root.join("keys/k256_private.pem"), None)
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("unsupported") && error.contains("1.3.132.0.10"),
        "{error}"
    );
    assert_eq!(
        PrivateKey::read(&root.join("keys/ed25519_private.pem"), None)
            .unwrap()
            .key_type(),
        KeyType::Ed25519
    );
    assert_eq!(
        PrivateKey::read(&root.join("keys/rsa2048_private.pem"), None)
            .unwrap()
            .key_type(),
        KeyType::Rsa(2048)
    );
    // A certificate stands for its subject's key; a build without certificates says so.
    let from_certificate = PublicKey::read(&root.join("pki/leaf_cert.pem"));
    if cfg!(feature = "x509") {
        assert_eq!(
            from_certificate.unwrap(),
            PublicKey::read(&root.join("pki/leaf_public.pem")).unwrap()
        );
    } else {
        let error = from_certificate.unwrap_err().to_string();
        assert!(
            error.contains("leaf_cert.pem") && error.contains("`x509` feature"),
            "{error}"
        );
    }
}

#[test]
fn our_signatures_round_trip_for_every_key_type() {
    let model = vectors().join("model");
    let manifest = build_manifest(
        &model,
        &Serialization::oms_default(),
        &BuildContext::default(),
    )
    .unwrap()
    .manifest;
    for key_type in [
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::EcdsaP521,
        KeyType::Ed25519,
        KeyType::Rsa(2048),
    ] {
        let key = PrivateKey::generate(key_type).unwrap();
        // Through PEM, encrypted, as a user would store it.
        let pem = key.to_pkcs8_pem(Some(b"pass")).unwrap();
        let key = PrivateKey::from_pem(&pem, Some(b"pass"), Path::new("k.pem")).unwrap();
        let public = PublicKey::from_pem(&key.public_key().to_pem(), Path::new("k.pub")).unwrap();
        let bundle = sign_manifest(&manifest, &key, &[]).unwrap();
        let json = bundle.to_json();
        let reread: modelprov::attest::Bundle = serde_json::from_slice(&json).unwrap();
        let verified =
            verify_bundle(&reread, TrustedSigner::Key(&public), Path::new("m.sig")).unwrap();
        let signed: Vec<_> = verified
            .statement
            .manifest
            .resources
            .iter()
            .map(|r| (&r.name, &r.digest))
            .collect();
        let hashed: Vec<_> = manifest
            .resources
            .iter()
            .map(|r| (&r.name, &r.digest))
            .collect();
        assert_eq!(signed, hashed, "{key_type}");
        assert_eq!(
            verified.statement.subject_digest,
            Some(manifest.root_digest())
        );
        let other = PrivateKey::generate(KeyType::EcdsaP256)
            .unwrap()
            .public_key();
        assert!(verify_bundle(&reread, TrustedSigner::Key(&other), Path::new("m.sig")).is_err());
    }
}

#[cfg(feature = "x509")]
#[test]
fn certificate_signatures_verify_to_the_root_at_the_leafs_not_before() {
    let root = vectors();
    let bundle = read_bundle(&root.join("sigs/cert_chain_files.sig")).unwrap();
    let roots = read_certificates(&root.join("pki/root_cert.pem")).unwrap();
    let verified =
        verify_bundle(&bundle, TrustedSigner::Roots(&roots), Path::new("c.sig")).unwrap();
    assert!(
        verified
            .evidence
            .signed_by
            .subject
            .unwrap()
            .contains("OMS Test Signer")
    );
    let outcome = verify_model(
        &root.join("model"),
        &Expectation::Manifest(verified.statement.manifest),
        &BuildContext::default(),
    )
    .unwrap();
    assert!(outcome.ok);

    // The intermediate alone is not a trust anchor (as with the reference tool).
    let intermediate = read_certificates(&root.join("pki/int_cert.pem")).unwrap();
    let error = verify_bundle(
        &bundle,
        TrustedSigner::Roots(&intermediate),
        Path::new("c.sig"),
    )
    .unwrap_err();
    assert!(
        matches!(error, Error::NotAuthentic { .. }) && error.to_string().contains("root"),
        "{error}"
    );
    // A key cannot stand in for the chain, and a chain cannot verify a key-signed bundle.
    let key = PublicKey::read(&root.join("pki/leaf_public.pem")).unwrap();
    let error = verify_bundle(&bundle, TrustedSigner::Key(&key), Path::new("c.sig")).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("the roots its certificate chains to"),
        "{error}"
    );
    let keyed = read_bundle(&root.join("sigs/p256_files.sig")).unwrap();
    let error =
        verify_bundle(&keyed, TrustedSigner::Roots(&roots), Path::new("k.sig")).unwrap_err();
    assert!(
        error.to_string().contains("the signer's public key"),
        "{error}"
    );

    // Our certificate signatures carry the chain and verify the same way.
    let manifest = model_manifest();
    let signer = PrivateKey::read(&root.join("pki/leaf_key.pem"), None).unwrap();
    let mut chain = read_certificates(&root.join("pki/leaf_cert.pem")).unwrap();
    chain.extend(intermediate.clone());
    let ours = sign_manifest(&manifest, &signer, &chain).unwrap();
    verify_bundle(&ours, TrustedSigner::Roots(&roots), Path::new("o.sig")).unwrap();
    let stranger = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    assert!(sign_manifest(&manifest, &stranger, &chain).is_err());
}

/// The OMS manifest of the vectors' model, hashed as model_signing hashes it by default.
fn model_manifest() -> modelprov::manifest::Manifest {
    build_manifest(
        &vectors().join("model"),
        &Serialization::oms_default(),
        &BuildContext::default(),
    )
    .unwrap()
    .manifest
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One change to a bundle's JSON.
type Edit = fn(&mut serde_json::Value);

#[test]
fn older_and_looser_bundle_forms_are_accepted_as_the_reference_tool_accepts_them() {
    let root = vectors();
    let key = PublicKey::read(&root.join("keys/p256_public.pem")).unwrap();
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("sigs/p256_files.sig")).unwrap())
            .unwrap();
    let variants: [(&str, Edit); 5] = [
        ("no key hint (model_signing < 1.1)", |b| {
            b["verificationMaterial"]["publicKey"]
                .as_object_mut()
                .unwrap()
                .remove("hint");
        }),
        ("legacy rawBytes and keyDetails", |b| {
            b["verificationMaterial"]["publicKey"]["rawBytes"] = "LS0tLS1CRUdJTg==".into();
            b["verificationMaterial"]["publicKey"]["keyDetails"] = "PKIX_ECDSA_P256_SHA_256".into();
        }),
        ("no tlogEntries", |b| {
            b["verificationMaterial"]
                .as_object_mut()
                .unwrap()
                .remove("tlogEntries");
        }),
        ("no keyid", |b| {
            b["dsseEnvelope"]["signatures"][0]
                .as_object_mut()
                .unwrap()
                .remove("keyid");
        }),
        ("pretty-printed", |_| {}),
    ];
    for (label, change) in variants {
        let mut bundle = original.clone();
        change(&mut bundle);
        let text = serde_json::to_string_pretty(&bundle).unwrap();
        let bundle: modelprov::attest::Bundle =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{label}: {e}"));
        let verified = verify_bundle(&bundle, TrustedSigner::Key(&key), Path::new("s.sig"))
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(
            verified.warnings.is_empty(),
            !label.starts_with("no key hint"),
            "{label}"
        );
    }
}

/// An RSA-256 key pair (openssl refuses to make one, but such files exist).
const RSA256_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIHDAgEAMA0GCSqGSIb3DQEBAQUABIGuMIGrAgEAAiEA1Irt2FEfQqWVjOr7gDNC
uMqhQG7iW4x/ujGrl+phX5ECAwEAAQIgRvB/5j1dQ69ktP4RJ370e4ECloOdOsqd
7SzYOg56DikCEQDZ0w9X7b1GJwqqzR9Y6ezDAhEA+crln7Ny81xo5kg2V5qNGwIQ
H5hPp29ifuR21aN/IoR7xQIRAJRM9qkrA/siCRF3G/REyLMCEQCHEr2DZ4rEpJb+
WQBqY73+
-----END PRIVATE KEY-----
";
const RSA256_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MDwwDQYJKoZIhvcNAQEBBQADKwAwKAIhANSK7dhRH0KllYzq+4AzQrjKoUBu4luM
f7oxq5fqYV+RAgMBAAE=
-----END PUBLIC KEY-----
";

#[test]
fn rsa_keys_below_2048_bits_neither_sign_nor_verify() {
    let error = PrivateKey::from_pem(RSA256_PRIVATE, None, Path::new("k.pem"))
        .err()
        .unwrap();
    assert!(
        error.to_string().contains("RSA-256 keys are too small"),
        "{error}"
    );
    assert!(PrivateKey::generate(KeyType::Rsa(1024)).is_err());
    let public = PublicKey::from_pem(RSA256_PUBLIC, Path::new("k.pub")).unwrap();
    assert_eq!(public.key_type(), KeyType::Rsa(256));
    assert!(public.key_type().weakness().unwrap().contains("2048"));
    assert!(KeyType::Rsa(2048).weakness().is_none());
    // Whatever the bytes, nothing verifies with it, and a bundle says why.
    assert!(!public.verify(b"message", &[0u8; 32]));
    let bundle = read_bundle(&vectors().join("sigs/p256_files.sig")).unwrap();
    let mut json: serde_json::Value = serde_json::from_slice(&bundle.to_json()).unwrap();
    json["verificationMaterial"]["publicKey"]["hint"] = public.hint().into();
    let bundle: modelprov::attest::Bundle = serde_json::from_value(json).unwrap();
    let error =
        verify_bundle(&bundle, TrustedSigner::Key(&public), Path::new("w.sig")).unwrap_err();
    assert!(
        matches!(error, Error::NotAuthentic { .. })
            && error.to_string().contains("signed with an RSA-256 key"),
        "{error}"
    );
}

#[cfg(feature = "x509")]
#[test]
fn certificates_must_be_valid_at_the_signing_time() {
    use modelprov::x509::check_valid_at;
    use std::time::{Duration, UNIX_EPOCH};
    let pki = vectors().join("pki");
    let mut chain = read_certificates(&pki.join("leaf_cert.pem")).unwrap();
    chain.extend(read_certificates(&pki.join("int_cert.pem")).unwrap());
    // The vectors' certificates run from 2026-11-27 to 2036-11-24.
    let at = |unix_seconds: u64| UNIX_EPOCH + Duration::from_secs(unix_seconds);
    check_valid_at(&chain, at(1_830_000_000)).unwrap();
    let early = check_valid_at(&chain, at(1_700_000_000))
        .unwrap_err()
        .to_string();
    assert!(
        early.contains("the signing certificate (O=Example,CN=OMS Test Signer)")
            && early.contains("not valid yet"),
        "{early}"
    );
    let late = check_valid_at(&chain, at(2_200_000_000))
        .unwrap_err()
        .to_string();
    assert!(late.contains("expired"), "{late}");
}

/// The OMS v1.0 JSON schemas (tests/fixtures/oms-schemas, SOURCE.md there), resolved offline.
struct OmsSchemas;

impl jsonschema::Retrieve for OmsSchemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
        let file = match uri.as_str() {
            "https://model_signing/envelope/v1.0/schema" => "envelope",
            "https://model_signing/predicate/v1.0/schema" => "predicate",
            "https://model_signing/statement/v1.0/schema" => "statement",
            other => return Err(format!("no bundled schema for {other}").into()),
        };
        Ok(oms_schema(file))
    }
}

fn oms_schema(name: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/oms-schemas/{name}.schema.json"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn schema_problems(schema: &str, document: &serde_json::Value) -> Vec<String> {
    let validator = jsonschema::options()
        .with_retriever(OmsSchemas)
        .build(&oms_schema(schema))
        .unwrap();
    validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn bundles_modelprov_writes_validate_against_the_oms_v1_schemas() {
    let root = vectors();
    let manifest = model_manifest();
    let key = PrivateKey::read(&root.join("keys/p256_private_pkcs8.pem"), None).unwrap();
    #[cfg_attr(not(feature = "x509"), allow(unused_mut))]
    let mut bundles = vec![("key", sign_manifest(&manifest, &key, &[]).unwrap())];
    #[cfg(feature = "x509")]
    {
        let leaf_key = PrivateKey::read(&root.join("pki/leaf_key.pem"), None).unwrap();
        let chain: Vec<Vec<u8>> = ["leaf_cert.pem", "int_cert.pem"]
            .iter()
            .flat_map(|name| read_certificates(&root.join("pki").join(name)).unwrap())
            .collect();
        let bundle = sign_manifest(&manifest, &leaf_key, &chain).unwrap();
        bundles.push(("certificate", bundle));
    }
    for (what, bundle) in bundles {
        let value: serde_json::Value = serde_json::from_slice(&bundle.to_json()).unwrap();
        let problems = schema_problems("bundle", &value);
        assert!(problems.is_empty(), "{what} bundle: {problems:?}");
        let payload = base64_decode(bundle.dsse_envelope.as_ref().unwrap().payload.as_str());
        let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        let problems = schema_problems("statement", &statement);
        assert!(problems.is_empty(), "{what} statement: {problems:?}");
    }
    // The schemas are not vacuous: a bundle without its envelope, or a statement whose
    // predicate lost its serialization, fails them.
    let mut value: serde_json::Value =
        serde_json::from_slice(&sign_manifest(&manifest, &key, &[]).unwrap().to_json()).unwrap();
    value.as_object_mut().unwrap().remove("dsseEnvelope");
    assert!(!schema_problems("bundle", &value).is_empty());
    let payload = modelprov::attest::oms_statement(&manifest);
    let mut statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    statement["predicate"]
        .as_object_mut()
        .unwrap()
        .remove("serialization");
    assert!(!schema_problems("statement", &statement).is_empty());
}

/// Log entries and timestamps are evidence a verifier must check; a build without the Sigstore
/// verifier (`x509` off) refuses them, and with it, entries that do not check out fail. Neither
/// accepts the bundle on its signature alone.
#[test]
fn a_key_signature_with_log_entries_is_never_accepted_on_its_signature_alone() {
    use base64::Engine as _;
    use modelprov::evidence::Signed;
    use modelprov::signing::{sign_file, verify_artifact_bundle};
    use sha2::Digest as _;

    let root = vectors();
    let key = PrivateKey::read(&root.join("keys/p256_private_pkcs8.pem"), None).unwrap();
    let public = key.public_key();
    let refused = |error: Error| {
        let text = error.to_string();
        if cfg!(feature = "x509") {
            assert!(!matches!(error, Error::Usage(_)), "{text}");
        } else {
            assert!(
                text.contains("`x509` feature") && text.contains("l.sig"),
                "{text}"
            );
        }
    };

    // A model signature.
    let manifest = model_manifest();
    let mut bundle = sign_manifest(&manifest, &key, &[]).unwrap();
    verify_bundle(&bundle, TrustedSigner::Key(&public), Path::new("l.sig")).unwrap();
    bundle.verification_material.tlog_entries = vec![serde_json::json!({"logIndex": "1"})];
    refused(verify_bundle(&bundle, TrustedSigner::Key(&public), Path::new("l.sig")).unwrap_err());

    // A signature of one file (cosign's message signature).
    let file = root.join("model/config.json");
    let signature = sign_file(&file, &key).unwrap();
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let digest = sha2::Sha256::digest(std::fs::read(&file).unwrap());
    let artifact = |material: serde_json::Value| {
        serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": material,
            "messageSignature": {
                "messageDigest": {"algorithm": "SHA2_256", "digest": b64(&digest)},
                "signature": b64(&signature),
            },
        })
        .to_string()
    };
    let hint = serde_json::json!({"hint": public.hint()});
    let plain = artifact(serde_json::json!({"publicKey": hint}));
    let verify = |text: &str| {
        verify_artifact_bundle(
            text,
            Path::new("l.sig"),
            Signed::File(&file),
            TrustedSigner::Key(&public),
        )
    };
    verify(&plain).unwrap();
    let timestamped = artifact(serde_json::json!({
        "publicKey": hint,
        "timestampVerificationData": {"rfc3161Timestamps": [{"signedTimestamp": "MA=="}]},
    }));
    refused(verify(&timestamped).unwrap_err());
}
