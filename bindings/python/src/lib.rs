//! `import modelprov`: the modelprov library for Python. Every rule is the library's; this
//! module converts arguments and results, and releases the GIL while models are hashed,
//! scanned and verified.

// Doc comments here are the Python docstrings, with Python examples (`d["key"]`), not rustdoc.
#![allow(clippy::doc_link_with_quotes)]

use std::ffi::CString;
use std::path::{Path, PathBuf};

use modelprov::card::{Card as CardDocument, Severity, completeness, model_digest_finding};
use modelprov::fsutil::write_atomically;
use modelprov::hashing::HashAlgorithm;
use modelprov::keys::{KeyType, PrivateKey, write_key_pair};
use modelprov::lineage::{
    LineageRecord, RecordRequest, Recorded, Relation, SqliteStore, Store as _, find, record_model,
};
use modelprov::manifest::{
    BuildContext, BuildOutcome, Manifest as Built, read_manifest, write_manifest,
};
use modelprov::model::{
    HashConfig, ModelSigner, SignRequest, SignatureCheck, attachment_signature_path,
    card_model_manifest, check_signature_outputs, hash_model, sign_model, signed_expectation,
};
use modelprov::sbom::{
    CycloneDxVersion, DocumentFormat, SbomRequest, gather_inputs, sbom_document, source_date_epoch,
};
use modelprov::trust_policy::TrustPolicy;
use modelprov::trust_sources::TrustSources;
use modelprov::verify::{Expectation, Verification as Verdict, VerifyOptions, verify_model_with};
use modelprov::x509::read_certificates;
use modelprov::{Error, RootDigest, Warning};
use pyo3::exceptions::{PyException, PyUserWarning, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyString;

pyo3::create_exception!(
    modelprov,
    InputError,
    PyValueError,
    "Unusable input: a file that cannot be read or parsed, or options that do not fit together. The message names the file and the problem."
);
pyo3::create_exception!(
    modelprov,
    VerificationError,
    PyException,
    "Raised by Verification.raise_for_failure() when the model is not what it should be."
);

/// Library errors as Python sees them: all are unusable input (a failed verification is a
/// value, not an error).
/// The exception carries the error's stable `code` and the `path` it is about (or None).
fn input_error(error: Error) -> PyErr {
    let raised = InputError::new_err(error.to_string());
    Python::attach(|py| {
        let value = raised.value(py);
        // Setting an attribute on a fresh exception instance cannot fail.
        let _ = value.setattr("code", error.code());
        let _ = value.setattr("path", error.path().map(Path::to_path_buf));
    });
    raised
}

fn usage(message: impl Into<String>) -> PyErr {
    InputError::new_err(message.into())
}

/// Library warnings as Python warnings (`warnings.warn`), so that callers filter them as usual.
fn warn_all(py: Python<'_>, warnings: &[Warning]) -> PyResult<()> {
    let category = py.get_type::<PyUserWarning>();
    for warning in warnings {
        let message = CString::new(warning.to_string().replace('\0', " ")).expect("NULs replaced");
        PyErr::warn(py, category.as_any(), &message, 1)?;
    }
    Ok(())
}

/// A serializable library value as the Python object `json.loads` gives for it.
fn to_python<'py>(py: Python<'py>, value: &impl serde::Serialize) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value).map_err(|e| PyValueError::new_err(e.to_string()))?;
    py.import("json")?
        .call_method1("loads", (PyString::new(py, &text),))
}

fn algorithm(name: &str) -> PyResult<HashAlgorithm> {
    match name {
        "sha256" => Ok(HashAlgorithm::Sha256),
        "blake2b" | "blake2" => Ok(HashAlgorithm::Blake2b),
        "blake3" => Ok(HashAlgorithm::Blake3),
        other => Err(usage(format!(
            "algorithm '{other}' is not one of sha256, blake2b, blake3"
        ))),
    }
}

fn passphrase_bytes(passphrase: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<u8>>> {
    let Some(value) = passphrase else {
        return Ok(None);
    };
    if let Ok(text) = value.extract::<String>() {
        return Ok(Some(text.into_bytes()));
    }
    value
        .extract::<Vec<u8>>()
        .map(Some)
        .map_err(|_| usage("passphrase must be str or bytes"))
}

/// A model's manifest: its root digest and the digest of every file (or shard).
#[pyclass(module = "modelprov", frozen)]
struct Manifest {
    built: Built,
    files: usize,
    bytes: u64,
}

#[pymethods]
impl Manifest {
    /// The root digest, `sha256:<hex>`: the same digest `modelprov hash` prints.
    #[getter]
    fn digest(&self) -> String {
        self.built.root_digest().to_string()
    }

    /// `(name, "<algorithm>:<hex>")` for every resource, in manifest order.
    #[getter]
    fn resources(&self) -> Vec<(String, String)> {
        self.built
            .resources
            .iter()
            .map(|r| {
                (
                    r.name.to_string(),
                    format!(
                        "{}:{}",
                        self.built.serialization.algorithm,
                        hex::encode(&r.digest)
                    ),
                )
            })
            .collect()
    }

    /// The model's name (its folder or file name).
    #[getter]
    fn name(&self) -> String {
        self.built.name.clone()
    }

    /// How the model was hashed, as OMS records it.
    #[getter]
    fn serialization<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.built.serialization)
    }

    /// Files hashed.
    #[getter]
    fn files(&self) -> usize {
        self.files
    }

    /// Bytes hashed.
    #[getter]
    fn size(&self) -> u64 {
        self.bytes
    }

    /// Writes the manifest (what `modelprov hash --output` writes) to `path`, atomically.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        write_manifest(&path, &self.built).map_err(input_error)
    }

    /// The manifest as JSON text.
    fn to_json(&self) -> String {
        modelprov::manifest::manifest_json(&self.built)
    }

    fn __repr__(&self) -> String {
        format!(
            "<modelprov.Manifest {} {} ({} files)>",
            self.built.name,
            self.built.root_digest(),
            self.files
        )
    }
}

impl Manifest {
    fn from_outcome(outcome: BuildOutcome) -> Self {
        Manifest {
            files: outcome.stats.files,
            bytes: outcome.stats.bytes,
            built: outcome.manifest,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn hash_config(
    algorithm_name: &str,
    shard_size: Option<u64>,
    ignore: Option<Vec<PathBuf>>,
    allow_symlinks: bool,
    ignore_git_paths: bool,
    ignore_card: bool,
) -> PyResult<HashConfig> {
    let mut config = HashConfig::default()
        .algorithm(algorithm(algorithm_name)?)
        .shard_size(shard_size)
        .allow_symlinks(allow_symlinks)
        .ignore_git_paths(ignore_git_paths)
        .ignore_card(ignore_card);
    for path in ignore.unwrap_or_default() {
        config = config.ignore(path);
    }
    Ok(config)
}

/// Hashes the model folder (or file) at `path` into an OMS manifest.
///
/// The default is the model's identity: whole files, SHA-256, the git paths and README.md
/// left out. ``shard_size`` hashes files in shards of that many bytes; ``ignore`` leaves
/// paths (relative to the model) out.
///
/// >>> m = modelprov.hash("model/")
/// >>> m.digest
/// 'sha256:...'
#[pyfunction]
#[pyo3(signature = (path, *, algorithm="sha256", shard_size=None, ignore=None, allow_symlinks=false, ignore_git_paths=true, ignore_card=true))]
#[allow(clippy::too_many_arguments)]
fn hash(
    py: Python<'_>,
    path: PathBuf,
    algorithm: &str,
    shard_size: Option<u64>,
    ignore: Option<Vec<PathBuf>>,
    allow_symlinks: bool,
    ignore_git_paths: bool,
    ignore_card: bool,
) -> PyResult<Manifest> {
    let config = hash_config(
        algorithm,
        shard_size,
        ignore,
        allow_symlinks,
        ignore_git_paths,
        ignore_card,
    )?;
    let (outcome, warnings) = py
        .detach(|| {
            let (serialization, mut warnings) = config.resolve(&path, &[])?;
            let mut outcome = hash_model(&path, &serialization, &BuildContext::default(), "hash")?;
            warnings.append(&mut outcome.warnings);
            Ok((outcome, warnings))
        })
        .map_err(input_error)?;
    warn_all(py, &warnings)?;
    Ok(Manifest::from_outcome(outcome))
}

/// Writes a new key pair: the private key to `path` (PKCS#8 PEM, mode 0600, encrypted when a
/// ``passphrase`` is given) and the public key to ``public_key`` (default: `path` + ".pub").
/// Returns the public key's path. Existing files are replaced only with ``force=True``.
///
/// ``type``: "p256" (default), "p384", "p521", "ed25519", "rsa3072" or "rsa4096";
/// model_signing verifies EC keys only.
#[pyfunction]
#[pyo3(signature = (path, *, r#type="p256", public_key=None, passphrase=None, force=false))]
fn keygen(
    path: PathBuf,
    r#type: &str,
    public_key: Option<PathBuf>,
    passphrase: Option<&Bound<'_, PyAny>>,
    force: bool,
) -> PyResult<String> {
    let key_type = KeyType::from_name(r#type).ok_or_else(|| {
        let names: Vec<&str> = KeyType::NAMES.iter().map(|(name, _)| *name).collect();
        usage(format!(
            "key type '{}' is not one of {}",
            r#type,
            names.join(", ")
        ))
    })?;
    let passphrase = passphrase_bytes(passphrase)?;
    let written = write_key_pair(
        key_type,
        &path,
        public_key.as_deref(),
        passphrase.as_deref(),
        force,
    )
    .map_err(input_error)?;
    Ok(written.public_key.display().to_string())
}

/// Signs the model at `path` with the private key ``key``, writing an OMS signature (a
/// Sigstore bundle that model_signing verifies) to ``output``. Returns the model's digest.
///
/// ``certificate`` (and ``certificate_chain``) make a certificate signature. ``card`` and
/// ``sbom`` also sign a model card and an AI-SBOM as describing these bytes; one that
/// describes another model is refused. Signature files written inside the model are left out
/// of it.
#[pyfunction]
#[pyo3(signature = (path, *, key, output="model.sig".into(), certificate=None, certificate_chain=None, card=None, card_signature=None, sbom=None, sbom_signature=None, passphrase=None, algorithm="sha256", shard_size=None, ignore=None, allow_symlinks=false))]
#[allow(clippy::too_many_arguments)]
fn sign(
    py: Python<'_>,
    path: PathBuf,
    key: PathBuf,
    output: PathBuf,
    certificate: Option<PathBuf>,
    certificate_chain: Option<Vec<PathBuf>>,
    card: Option<PathBuf>,
    card_signature: Option<PathBuf>,
    sbom: Option<PathBuf>,
    sbom_signature: Option<PathBuf>,
    passphrase: Option<&Bound<'_, PyAny>>,
    algorithm: &str,
    shard_size: Option<u64>,
    ignore: Option<Vec<PathBuf>>,
    allow_symlinks: bool,
) -> PyResult<String> {
    let chain = certificate_chain.unwrap_or_default();
    if certificate.is_none() && !chain.is_empty() {
        return Err(usage(
            "certificate_chain goes with certificate (the leaf holding the key's public key)",
        ));
    }
    for (option, given, needs) in [
        (
            "card_signature",
            card_signature.is_some() && card.is_none(),
            "card",
        ),
        (
            "sbom_signature",
            sbom_signature.is_some() && sbom.is_none(),
            "sbom",
        ),
    ] {
        if given {
            return Err(usage(format!("{option} goes with {needs}")));
        }
    }
    let config = hash_config(algorithm, shard_size, ignore, allow_symlinks, true, true)?;
    let passphrase = passphrase_bytes(passphrase)?;
    let card_output = card_signature.unwrap_or_else(|| attachment_signature_path(&output, "card"));
    let sbom_output = sbom_signature.unwrap_or_else(|| attachment_signature_path(&output, "sbom"));
    let (digest, warnings) = py
        .detach(|| -> modelprov::Result<(RootDigest, Vec<Warning>)> {
            let private = PrivateKey::read(&key, passphrase.as_deref())?;
            let mut outputs = vec![output.as_path()];
            if card.is_some() {
                outputs.push(&card_output);
            }
            if sbom.is_some() {
                outputs.push(&sbom_output);
            }
            let mut inputs = vec![key.as_path()];
            inputs.extend(card.as_deref());
            inputs.extend(sbom.as_deref());
            inputs.extend(certificate.as_deref());
            inputs.extend(chain.iter().map(PathBuf::as_path));
            check_signature_outputs(&path, &outputs, &inputs)?;
            let (serialization, mut warnings) = config.resolve(&path, &outputs)?;
            let mut certificates = Vec::new();
            for file in certificate.iter().chain(&chain) {
                certificates.extend(read_certificates(file)?);
            }
            let signer = ModelSigner::new(private).with_certificates(certificates);
            let request = SignRequest {
                card: card.as_deref(),
                sbom: sbom.as_deref(),
                ..SignRequest::new(&path, &serialization, &signer)
            };
            let mut signed = sign_model(&request, &BuildContext::default())?;
            warnings.append(&mut signed.warnings);
            write_atomically(&output, &signed.signature.to_json())?;
            if let Some(bundle) = &signed.card_signature {
                write_atomically(&card_output, &bundle.to_json())?;
            }
            if let Some(bundle) = &signed.sbom_signature {
                write_atomically(&sbom_output, &bundle.to_json())?;
            }
            Ok((signed.digest(), warnings))
        })
        .map_err(input_error)?;
    warn_all(py, &warnings)?;
    Ok(digest.to_string())
}

/// The verdict of [`verify`]: ``ok``, and when it is false, what differs.
#[pyclass(module = "modelprov", frozen)]
struct Verification {
    verdict: Option<Verdict>,
    /// Why a signature did not verify (the model was not read).
    problem: Option<String>,
    signed_by: Option<String>,
    source: String,
}

#[pymethods]
impl Verification {
    /// True when the model is exactly the bytes it should be (and the signature verified).
    #[getter]
    fn ok(&self) -> bool {
        self.problem.is_none() && self.verdict.as_ref().is_some_and(|v| v.ok)
    }

    /// What the model was checked against ("signature model.sig (signed by ...)", ...).
    #[getter]
    fn source(&self) -> &str {
        &self.source
    }

    /// Why the signature did not verify; None when it did (or none was given).
    #[getter]
    fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    /// Who signed, when a signature verified.
    #[getter]
    fn signed_by(&self) -> Option<&str> {
        self.signed_by.as_deref()
    }

    /// The digest the model should have.
    #[getter]
    fn expected(&self) -> Option<String> {
        self.verdict.as_ref().map(|v| v.expected.to_string())
    }

    /// The digest the model has.
    #[getter]
    fn actual(&self) -> Option<String> {
        self.verdict.as_ref().map(|v| v.actual.to_string())
    }

    /// Files whose content changed.
    #[getter]
    fn modified(&self) -> Vec<String> {
        self.diff(|d| d.modified.iter().map(|m| m.path.clone()).collect())
    }

    /// Files found that should not be there.
    #[getter]
    fn added(&self) -> Vec<String> {
        self.diff(|d| d.added.iter().map(|f| f.path.clone()).collect())
    }

    /// Files that should be there and are not.
    #[getter]
    fn missing(&self) -> Vec<String> {
        self.diff(|d| d.missing.iter().map(|f| f.path.clone()).collect())
    }

    /// Files moved unchanged: `(from, to)`.
    #[getter]
    fn renamed(&self) -> Vec<(String, String)> {
        self.diff(|d| {
            d.renamed
                .iter()
                .map(|r| (r.from.clone(), r.to.clone()))
                .collect()
        })
    }

    /// Files in the folder this verification did not cover (the model card).
    #[getter]
    fn not_covered(&self) -> Vec<String> {
        self.verdict
            .as_ref()
            .map(|v| v.not_covered.clone())
            .unwrap_or_default()
    }

    /// The whole verdict as a dict (what `modelprov verify --json` prints).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(
            py,
            &serde_json::json!({
                "ok": self.ok(),
                "source": self.source,
                "problem": self.problem,
                "signed_by": self.signed_by,
                "verification": self.verdict,
            }),
        )
    }

    /// Raises VerificationError unless ``ok``.
    fn raise_for_failure(&self) -> PyResult<()> {
        if self.ok() {
            return Ok(());
        }
        Err(VerificationError::new_err(self.summary()))
    }

    fn __bool__(&self) -> bool {
        self.ok()
    }

    fn __repr__(&self) -> String {
        format!("<modelprov.Verification {}>", self.summary())
    }
}

impl Verification {
    fn diff<T: Default>(&self, pick: impl Fn(&modelprov::manifest::ManifestDiff) -> T) -> T {
        self.verdict
            .as_ref()
            .and_then(|v| v.diff.as_ref())
            .map(pick)
            .unwrap_or_default()
    }

    fn summary(&self) -> String {
        if let Some(problem) = &self.problem {
            return format!("FAILED: {problem}");
        }
        let Some(verdict) = &self.verdict else {
            return "FAILED".into();
        };
        if verdict.ok {
            return format!("OK: {} ({})", verdict.actual, self.source);
        }
        let mut parts = Vec::new();
        for (label, names) in [
            ("modified", self.modified()),
            ("added", self.added()),
            ("missing", self.missing()),
        ] {
            if !names.is_empty() {
                parts.push(format!("{label}: {}", names.join(", ")));
            }
        }
        for (from, to) in self.renamed() {
            parts.push(format!("renamed: {from} -> {to}"));
        }
        if parts.is_empty() {
            parts.push(format!("{} is not {}", verdict.actual, verdict.expected));
        }
        format!("FAILED against {}: {}", self.source, parts.join("; "))
    }
}

/// The signers a verify call trusts, from its keyword arguments (the rules are the library's).
fn trust_policy(sources: &TrustSources<'_>) -> modelprov::Result<TrustPolicy> {
    sources.policy()?.ok_or_else(|| {
        Error::Usage(
            "a signature needs a trusted signer: key (a public key), certificate_chain (trusted \
             roots), identity with issuer (keyless), or policy"
                .into(),
        )
    })
}

/// Verifies the model at `path` against one expectation: a ``signature`` (with ``key``,
/// ``certificate_chain``, ``identity``/``identity_regex`` and ``issuer``, or a ``policy``), a
/// ``manifest`` from `Manifest.save`, or a ``digest``.
///
/// Keyless signatures are verified offline against the embedded public-good Sigstore root
/// (``staging=True`` for staging, ``trusted_root`` for a private instance).
///
/// A model that differs, or a signature that does not verify, is not an exception: the
/// result's ``ok`` is False and says why. Unusable input raises InputError.
///
/// >>> v = modelprov.verify("model/", signature="model.sig", key="signer.key.pub")
/// >>> v.ok, v.modified
/// (True, [])
#[pyfunction]
#[pyo3(signature = (path, *, signature=None, key=None, certificate_chain=None, identity=None, identity_regex=None, issuer=None, staging=false, trusted_root=None, policy=None, model_name=None, manifest=None, digest=None, ignore=None, ignore_unsigned_files=false, card=None, card_signature=None, sbom=None, sbom_signature=None, algorithm="sha256", shard_size=None))]
#[allow(clippy::too_many_arguments)]
fn verify(
    py: Python<'_>,
    path: PathBuf,
    signature: Option<PathBuf>,
    key: Option<PathBuf>,
    certificate_chain: Option<Vec<PathBuf>>,
    identity: Option<String>,
    identity_regex: Option<String>,
    issuer: Option<String>,
    staging: bool,
    trusted_root: Option<PathBuf>,
    policy: Option<PathBuf>,
    model_name: Option<String>,
    manifest: Option<PathBuf>,
    digest: Option<String>,
    ignore: Option<Vec<PathBuf>>,
    ignore_unsigned_files: bool,
    card: Option<PathBuf>,
    card_signature: Option<PathBuf>,
    sbom: Option<PathBuf>,
    sbom_signature: Option<PathBuf>,
    algorithm: &str,
    shard_size: Option<u64>,
) -> PyResult<Verification> {
    let expectations = [signature.is_some(), manifest.is_some(), digest.is_some()];
    if expectations.iter().filter(|given| **given).count() != 1 {
        return Err(usage(
            "give exactly one of signature, manifest or digest to verify against",
        ));
    }
    let chain = certificate_chain.unwrap_or_default();
    // Every option takes effect or is refused: a check asked for and silently skipped would
    // make `ok` a lie.
    let signature_only = [
        ("key", key.is_some()),
        ("certificate_chain", !chain.is_empty()),
        ("identity", identity.is_some()),
        ("identity_regex", identity_regex.is_some()),
        ("issuer", issuer.is_some()),
        ("staging", staging),
        ("trusted_root", trusted_root.is_some()),
        ("policy", policy.is_some()),
        ("model_name", model_name.is_some()),
        ("card", card.is_some()),
        ("sbom", sbom.is_some()),
    ];
    if signature.is_none()
        && let Some((option, _)) = signature_only.iter().find(|(_, given)| *given)
    {
        return Err(usage(format!(
            "{option} goes with signature; it checks nothing against a manifest or digest"
        )));
    }
    for (option, given, needs) in [
        (
            "card_signature",
            card_signature.is_some() && card.is_none(),
            "card",
        ),
        (
            "sbom_signature",
            sbom_signature.is_some() && sbom.is_none(),
            "sbom",
        ),
        (
            "model_name",
            model_name.is_some() && policy.is_none(),
            "policy",
        ),
    ] {
        if given {
            return Err(usage(format!("{option} goes with {needs}")));
        }
    }
    if staging && trusted_root.is_some() {
        return Err(usage(
            "staging and trusted_root both name the Sigstore instance; give one",
        ));
    }
    if (staging || trusted_root.is_some()) && (policy.is_some() || !chain.is_empty()) {
        return Err(usage(
            "staging and trusted_root go with identity or key; a policy names each signer's instance itself",
        ));
    }
    if manifest.is_some() && ignore.as_ref().is_some_and(|paths| !paths.is_empty()) {
        return Err(usage(
            "ignore goes with signature or digest; a manifest records its own ignore paths",
        ));
    }
    if digest.is_none() && (algorithm != "sha256" || shard_size.is_some()) {
        return Err(usage(
            "algorithm and shard_size go with digest; a signature or manifest records its own",
        ));
    }
    if ignore_unsigned_files && digest.is_some() {
        return Err(usage(
            "ignore_unsigned_files goes with signature or manifest: only they list the signed files",
        ));
    }
    let ignore = ignore.unwrap_or_default();
    let config = hash_config(
        algorithm,
        shard_size,
        Some(ignore.clone()),
        false,
        true,
        true,
    )?;
    let outcome = py.detach(|| -> modelprov::Result<Verification> {
        let options = VerifyOptions {
            ignore_unsigned_files,
        };
        let (expectation, source, signed_by, mut warnings) = if let Some(signature) = &signature {
            let policy = trust_policy(&TrustSources {
                key: key.as_deref(),
                certificate_chain: &chain,
                identity: identity.as_deref(),
                identity_regex: identity_regex.as_deref(),
                issuer: issuer.as_deref(),
                staging,
                trusted_root: trusted_root.as_deref(),
                policy: policy.as_deref(),
            })?;
            let check = SignatureCheck {
                model_name: model_name.clone(),
                ignore: ignore.clone(),
                card: card.clone().map(|card| {
                    let sig = card_signature
                        .clone()
                        .unwrap_or_else(|| attachment_signature_path(signature, "card"));
                    (card, sig)
                }),
                sbom: sbom.clone().map(|sbom| {
                    let sig = sbom_signature
                        .clone()
                        .unwrap_or_else(|| attachment_signature_path(signature, "sbom"));
                    (sbom, sig)
                }),
            };
            match signed_expectation(&path, signature, &policy, &check) {
                Ok(signed) => {
                    let signed_by = signed.evidence.signed_by.to_string();
                    (
                        signed.expectation,
                        format!("signature {} (signed by {signed_by})", signature.display()),
                        Some(signed_by),
                        signed.warnings,
                    )
                }
                Err(Error::NotAuthentic { path, problem, .. }) => {
                    return Ok(Verification {
                        verdict: None,
                        problem: Some(format!("{}: {problem}", path.display())),
                        signed_by: None,
                        source: format!("signature {}", signature.display()),
                    });
                }
                Err(other) => return Err(other),
            }
        } else if let Some(manifest) = &manifest {
            (
                Expectation::Manifest(read_manifest(manifest)?),
                manifest.display().to_string(),
                None,
                Vec::new(),
            )
        } else {
            let text = digest.as_deref().unwrap_or_default();
            let digest: RootDigest = text
                .parse()
                .map_err(|problem| Error::Usage(format!("digest: {problem}")))?;
            let (serialization, warnings) = config.resolve(&path, &[])?;
            (
                Expectation::Digest {
                    digest,
                    serialization,
                },
                format!("digest {digest}"),
                None,
                warnings,
            )
        };
        let mut verdict =
            verify_model_with(&path, &expectation, &BuildContext::default(), options)?;
        warnings.append(&mut verdict.warnings);
        verdict.warnings = warnings;
        Ok(Verification {
            verdict: Some(verdict),
            problem: None,
            signed_by,
            source,
        })
    });
    let verification = outcome.map_err(input_error)?;
    if let Some(verdict) = &verification.verdict {
        warn_all(py, &verdict.warnings)?;
    }
    Ok(verification)
}

/// One file's scan result.
#[pyclass(module = "modelprov", frozen)]
struct FileScan {
    scan: modelprov::scan::FileScan,
}

#[pymethods]
impl FileScan {
    /// The file scanned.
    #[getter]
    fn path(&self) -> String {
        self.scan.path.display().to_string()
    }

    /// "safe", "unsafe", "invalid" or "unscannable".
    #[getter]
    fn verdict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.scan.verdict)
    }

    /// The format recognised ("pickle", "pytorch-zip", "safetensors", ...).
    #[getter]
    fn format<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.scan.format)
    }

    /// Findings, most dangerous first: dicts with the callable, why it is dangerous, and the
    /// archive member it is in.
    #[getter]
    fn findings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.scan.findings)
    }

    /// Notes on how the file was read.
    #[getter]
    fn notes(&self) -> Vec<String> {
        self.scan.notes.clone()
    }

    /// Whether this file fails the scan (unsafe, invalid, or a model file that could not be
    /// read or decoded).
    #[getter]
    fn fails(&self) -> bool {
        self.scan.fails
    }

    fn __repr__(&self) -> String {
        format!(
            "<modelprov.FileScan {} {:?}>",
            self.scan.path.display(),
            self.scan.verdict
        )
    }
}

/// The result of [`scan`].
#[pyclass(module = "modelprov", frozen)]
struct ScanReport {
    files: Vec<Py<FileScan>>,
    safe: bool,
}

#[pymethods]
impl ScanReport {
    /// True when no file fails: nothing found that would run code on load.
    #[getter]
    fn safe(&self) -> bool {
        self.safe
    }

    /// Every file's result.
    #[getter]
    fn files(&self, py: Python<'_>) -> Vec<Py<FileScan>> {
        self.files.iter().map(|f| f.clone_ref(py)).collect()
    }

    fn __bool__(&self) -> bool {
        self.safe
    }

    fn __repr__(&self) -> String {
        format!(
            "<modelprov.ScanReport safe={} files={}>",
            if self.safe { "True" } else { "False" },
            self.files.len()
        )
    }
}

/// Scans the model folder (or file) at `path` for code that would run when its files are
/// loaded (pickle payloads, Keras lambdas, ...), without loading them. ``allow`` lists
/// callables ("module.name") the team trusts.
///
/// >>> r = modelprov.scan("model/")
/// >>> r.safe
/// True
#[pyfunction]
#[pyo3(signature = (path, *, allow=None))]
fn scan(py: Python<'_>, path: PathBuf, allow: Option<Vec<String>>) -> PyResult<ScanReport> {
    let mut policy = modelprov::scan::Policy::default();
    for name in allow.unwrap_or_default() {
        policy
            .allow(&name)
            .map_err(|refused| usage(refused.to_string()))?;
    }
    let scans = py
        .detach(|| modelprov::scan::scan_path_with(&path, &policy))
        .map_err(input_error)?;
    let safe = !scans.iter().any(|s| s.fails);
    let files = scans
        .into_iter()
        .map(|scan| Py::new(py, FileScan { scan }))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(ScanReport { files, safe })
}

/// A Hugging Face model card (README.md with YAML front matter, or .yaml/.json metadata).
#[pyclass(module = "modelprov", frozen)]
struct Card {
    path: PathBuf,
    card: CardDocument,
}

#[pymethods]
impl Card {
    /// Reads and parses the card at `path`.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Card> {
        let card = CardDocument::read(&path).map_err(input_error)?;
        Ok(Card { path, card })
    }

    /// The card's metadata (the YAML front matter) as a dict.
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.card.metadata)
    }

    /// The model digest the card records, if any.
    #[getter]
    fn model_digest(&self) -> Option<String> {
        self.card.recorded_digest().map(str::to_string)
    }

    /// The card's findings (dicts with severity, path, message, line), as `modelprov card
    /// validate` reports them; with ``model``, also whether the card records that model's
    /// digest.
    #[pyo3(signature = (*, model=None))]
    fn validate<'py>(
        &self,
        py: Python<'py>,
        model: Option<PathBuf>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let today = time::OffsetDateTime::now_utc().date();
        let mut findings = modelprov::card::validate(&self.card, today);
        if let Some(model) = model {
            let built = py
                .detach(|| card_model_manifest(&model, Some(&self.path), &BuildContext::default()))
                .map_err(input_error)?;
            let mismatch = model_digest_finding(&self.card, &model, &built.manifest.root_digest());
            findings.splice(0..0, mismatch);
        }
        to_python(py, &findings)
    }

    /// Whether the card has no error-level findings.
    fn is_valid(&self) -> bool {
        let today = time::OffsetDateTime::now_utc().date();
        !modelprov::card::validate(&self.card, today)
            .iter()
            .any(|f| f.severity == Severity::Error)
    }

    /// How complete the card is: a score and the items missing.
    fn completeness<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &completeness(&self.card.metadata))
    }

    fn __repr__(&self) -> String {
        format!("<modelprov.Card {}>", self.path.display())
    }
}

/// A lineage registry (SQLite): signed, digest-bound provenance records of models and the
/// models they were derived from. Created when first written to.
///
/// >>> reg = modelprov.Registry("registry.sqlite")
/// >>> reg.record(name="base", version="1.0.0", model="base/", key="signer.key")["version"]
/// '1.0.0'
#[pyclass(module = "modelprov", frozen)]
struct Registry {
    path: PathBuf,
}

#[pymethods]
impl Registry {
    #[new]
    fn new(path: PathBuf) -> Self {
        Registry { path }
    }

    /// The registry file.
    #[getter]
    fn path(&self) -> String {
        self.path.display().to_string()
    }

    /// Records a model (hashed from ``model``, or given by ``digest``) as ``name``@``version``,
    /// with its ``parents`` as ``(relation, "NAME@VERSION" or "sha256:<hex>")`` pairs, and
    /// signs the record with ``key`` when given. Returns the record as stored. Recording the
    /// same model again changes nothing (a signature is added to an unsigned record).
    #[pyo3(signature = (*, name=None, version=None, model=None, digest=None, parents=None, datasets=None, method=None, code_revision=None, trainer=None, metrics=None, card=None, created=None, key=None, passphrase=None, file=None))]
    #[allow(clippy::too_many_arguments)]
    fn record<'py>(
        &self,
        py: Python<'py>,
        name: Option<String>,
        version: Option<String>,
        model: Option<PathBuf>,
        digest: Option<String>,
        parents: Option<Vec<(String, String)>>,
        datasets: Option<Vec<(String, String)>>,
        method: Option<String>,
        code_revision: Option<String>,
        trainer: Option<String>,
        metrics: Option<std::collections::BTreeMap<String, f64>>,
        card: Option<PathBuf>,
        created: Option<String>,
        key: Option<PathBuf>,
        passphrase: Option<&Bound<'py, PyAny>>,
        file: Option<PathBuf>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut relations = Vec::new();
        for (relation, reference) in parents.unwrap_or_default() {
            let parsed = Relation::parse(&relation).ok_or_else(|| {
                usage(format!(
                    "parent relation '{relation}' is not one of {}",
                    Relation::ALL.map(Relation::as_str).join(", ")
                ))
            })?;
            relations.push((parsed, reference));
        }
        let digest = match digest {
            Some(text) => Some(
                text.parse::<RootDigest>()
                    .map_err(|problem| usage(format!("digest: {problem}")))?,
            ),
            None => None,
        };
        let passphrase = passphrase_bytes(passphrase)?;
        let path = &self.path;
        let recorded = py
            .detach(|| -> modelprov::Result<Recorded> {
                let key = match &key {
                    Some(key) => Some(PrivateKey::read(key, passphrase.as_deref())?),
                    None => None,
                };
                let request = RecordRequest {
                    base: match &file {
                        Some(file) => Some(LineageRecord::read(file)?),
                        None => None,
                    },
                    name,
                    version,
                    model,
                    digest,
                    parents: relations,
                    datasets: datasets.unwrap_or_default(),
                    method,
                    code_revision,
                    trainer,
                    metrics: metrics.unwrap_or_default().into_iter().collect(),
                    card,
                    created,
                };
                let mut store = SqliteStore::open(path, true)?;
                record_model(
                    &mut store,
                    path,
                    &request,
                    key.as_ref(),
                    &BuildContext::default(),
                )
            })
            .map_err(input_error)?;
        to_python(py, &recorded.entry.record)
    }

    /// The record ``id`` names (NAME@VERSION, or NAME for its latest version).
    fn get<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        let entry = py
            .detach(|| {
                let store = SqliteStore::open_read_only(&self.path)?;
                find(&store, id, &self.path)
            })
            .map_err(input_error)?;
        to_python(py, &entry.record)
    }

    /// The records from ``id`` to its roots, nearest first: the model, its parents, theirs.
    /// A parent known only by its digest is ``{"digest": ..., "recorded": False}``.
    fn trace<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        self.walk(py, id, true)
    }

    /// The records derived from ``id``, nearest first, ``id`` itself first.
    fn descendants<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        self.walk(py, id, false)
    }

    fn __repr__(&self) -> String {
        format!("<modelprov.Registry {}>", self.path.display())
    }
}

/// One model on a lineage path: its record, or only its digest when nobody recorded it.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Traced {
    Recorded(Box<LineageRecord>),
    Unrecorded { digest: RootDigest, recorded: bool },
}

impl Registry {
    fn walk<'py>(&self, py: Python<'py>, id: &str, ancestors: bool) -> PyResult<Bound<'py, PyAny>> {
        let records = py
            .detach(|| -> modelprov::Result<Vec<Traced>> {
                let store = SqliteStore::open_read_only(&self.path)?;
                let entry = find(&store, id, &self.path)?;
                let graph = if ancestors {
                    store.ancestors(&entry.record.digest)?
                } else {
                    store.descendants(&entry.record.digest)?
                };
                let mut records = Vec::new();
                for digest in graph.nearest_first(&entry.record.digest, ancestors) {
                    records.push(match store.by_digest(&digest)? {
                        Some(entry) => Traced::Recorded(Box::new(entry.record)),
                        None => Traced::Unrecorded {
                            digest,
                            recorded: false,
                        },
                    });
                }
                Ok(records)
            })
            .map_err(input_error)?;
        to_python(py, &records)
    }
}

/// The AI-SBOM of the model folder at `path`, as a dict: a CycloneDX ML-BOM (``spec`` "1.6"
/// or "1.7") or, with ``format="spdx"``, an SPDX 3.0.1 document with the AI and Dataset
/// profiles. It holds the model's digest and files, its card (``card``, default the folder's
/// README.md), its lineage and datasets from ``registry`` (the record ``id`` or the one holding
/// the model's digest), the libraries of its dependency files (those in the folder and
/// ``requirements``), and known vulnerabilities from an offline OSV database (``osv``).
/// ``SOURCE_DATE_EPOCH`` sets the timestamp, as for the CLI.
///
/// >>> bom = modelprov.sbom("model/")
/// >>> bom["bomFormat"]
/// 'CycloneDX'
#[pyfunction]
#[pyo3(signature = (path, *, format="cyclonedx", spec="1.6", card=None, registry=None, id=None, requirements=None, osv=None))]
#[allow(clippy::too_many_arguments)]
fn sbom<'py>(
    py: Python<'py>,
    path: PathBuf,
    format: &str,
    spec: &str,
    card: Option<PathBuf>,
    registry: Option<PathBuf>,
    id: Option<String>,
    requirements: Option<Vec<PathBuf>>,
    osv: Option<PathBuf>,
) -> PyResult<Bound<'py, PyAny>> {
    let format = match (format, spec) {
        ("cyclonedx", "1.6") => DocumentFormat::CycloneDx(CycloneDxVersion::V1_6),
        ("cyclonedx", "1.7") => DocumentFormat::CycloneDx(CycloneDxVersion::V1_7),
        ("cyclonedx", other) => {
            return Err(usage(format!("spec '{other}' is not one of 1.6, 1.7")));
        }
        ("spdx", _) => DocumentFormat::Spdx,
        (other, _) => {
            return Err(usage(format!(
                "format '{other}' is not one of cyclonedx, spdx"
            )));
        }
    };
    if id.is_some() && registry.is_none() {
        return Err(usage("id names a record in a registry; give registry too"));
    }
    let (document, warnings) = py
        .detach(|| -> modelprov::Result<(serde_json::Value, Vec<Warning>)> {
            let request = SbomRequest {
                card,
                registry,
                id,
                requirements: requirements.unwrap_or_default(),
                osv,
                timestamp: source_date_epoch()?,
                ..SbomRequest::new(path)
            };
            let (inputs, warnings) = gather_inputs(&request, &BuildContext::default())?;
            Ok((sbom_document(&inputs, format), warnings))
        })
        .map_err(input_error)?;
    warn_all(py, &warnings)?;
    to_python(py, &document)
}

/// modelprov: where a machine-learning model came from, and whether it is exactly the bytes it
/// claims to be.
#[pymodule]
fn _modelprov(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("InputError", m.py().get_type::<InputError>())?;
    m.add("VerificationError", m.py().get_type::<VerificationError>())?;
    m.add_class::<Manifest>()?;
    m.add_class::<Verification>()?;
    m.add_class::<ScanReport>()?;
    m.add_class::<FileScan>()?;
    m.add_class::<Card>()?;
    m.add_class::<Registry>()?;
    m.add_function(wrap_pyfunction!(hash, m)?)?;
    m.add_function(wrap_pyfunction!(keygen, m)?)?;
    m.add_function(wrap_pyfunction!(sign, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(scan, m)?)?;
    m.add_function(wrap_pyfunction!(sbom, m)?)?;
    Ok(())
}
