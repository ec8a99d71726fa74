//! One call each for what a program does with a model: hash it ([`hash_model`]), sign it with
//! its card and SBOM ([`sign_model`]), and verify it against a signature ([`signed_expectation`]
//! then [`crate::verify::verify_model_with`]). The CLI and the Python package are thin layers
//! over these functions; every rule they apply (what an empty model is, which card or SBOM may
//! be signed with a model, which paths a signature's verification leaves out) lives here.
//!
//! The crate documentation shows the three calls together.

use std::path::{Path, PathBuf};

#[cfg(feature = "sbom")]
use serde_json::Value;

use crate::attest::{Bundle, parse_oms_statement, read_bundle};
#[cfg(feature = "card")]
use crate::card::{Card, check_card_location, sign_card, verify_card_bundle};
use crate::digest::RootDigest;
use crate::error::{Error, Result};
use crate::evidence::Evidence;
use crate::hashing::HashAlgorithm;
use crate::keys::PrivateKey;
#[cfg(any(feature = "card", feature = "sbom"))]
use crate::manifest::Manifest;
use crate::manifest::{BuildContext, BuildOutcome, Method, Serialization, build_manifest};
#[cfg(feature = "sbom")]
use crate::sbom::{described_digest, read_sbom, sbom_statement, verify_sbom_bundle};
use crate::signing::sign_manifest;
use crate::trust_policy::TrustPolicy;
use crate::verify::Expectation;
#[cfg(feature = "sbom")]
use crate::walk::path_inside_model;
use crate::walk::{DefaultIgnores, IgnoreSet};
use crate::warning::Warning;

/// How a model is turned into a manifest, as a user states it: the builder behind `--algorithm`,
/// `--shard-size`, `--ignore`, `--no-ignore-git-paths`, `--no-ignore-readme` and
/// `--allow-symlinks`. The default is the model's identity (whole files, SHA-256, git paths and
/// README.md left out), the digest `modelprov hash` prints.
#[derive(Clone, Debug)]
pub struct HashConfig {
    algorithm: HashAlgorithm,
    shard_size: Option<u64>,
    ignore: Vec<PathBuf>,
    ignore_git_paths: bool,
    ignore_card: bool,
    allow_symlinks: bool,
}

impl Default for HashConfig {
    fn default() -> Self {
        HashConfig {
            algorithm: HashAlgorithm::Sha256,
            shard_size: None,
            ignore: Vec::new(),
            ignore_git_paths: true,
            ignore_card: true,
            allow_symlinks: false,
        }
    }
}

impl HashConfig {
    /// The hash algorithm for the resources.
    pub fn algorithm(mut self, algorithm: HashAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Hash files in shards of `size` bytes (`None`: whole files).
    pub fn shard_size(mut self, size: Option<u64>) -> Self {
        self.shard_size = size;
        self
    }

    /// Leave `path` (relative to the model, or absolute inside it) out.
    pub fn ignore(mut self, path: impl Into<PathBuf>) -> Self {
        self.ignore.push(path.into());
        self
    }

    /// Whether the top-level .git, .gitattributes, .github and .gitignore are left out.
    pub fn ignore_git_paths(mut self, ignore: bool) -> Self {
        self.ignore_git_paths = ignore;
        self
    }

    /// Whether the top-level README.md (the model card) is left out, as a model's identity
    /// leaves it; `false` gives model_signing's plain digest of the whole folder.
    pub fn ignore_card(mut self, ignore: bool) -> Self {
        self.ignore_card = ignore;
        self
    }

    /// Follow symlinks to files (hashed under the link's name) instead of refusing them.
    pub fn allow_symlinks(mut self, allow: bool) -> Self {
        self.allow_symlinks = allow;
        self
    }

    /// The paths given to [`HashConfig::ignore`].
    pub fn ignored(&self) -> &[PathBuf] {
        &self.ignore
    }

    /// Whether this is the model's identity, untouched.
    pub fn is_default(&self) -> bool {
        self.ignore.is_empty() && self.only_ignores()
    }

    /// Whether ignore paths are the only change from the default (what a signature's
    /// verification takes: the rest is recorded in the signature).
    pub fn only_ignores(&self) -> bool {
        self.algorithm == HashAlgorithm::Sha256
            && self.shard_size.is_none()
            && self.ignore_git_paths
            && self.ignore_card
            && !self.allow_symlinks
    }

    /// Whether the model card is left out.
    pub fn leaves_out_card(&self) -> bool {
        self.ignore_card
    }

    /// The serialization this configuration describes for `model`; `own_outputs` are files the
    /// caller writes, left out when they lie inside the model. Returns warnings alongside (an
    /// ignore path that matches nothing).
    pub fn resolve(
        &self,
        model: &Path,
        own_outputs: &[&Path],
    ) -> Result<(Serialization, Vec<Warning>)> {
        let mut ignore = IgnoreSet::defaults(DefaultIgnores {
            git_paths: self.ignore_git_paths,
            model_card: self.ignore_card,
        });
        let mut warnings = Vec::new();
        for path in &self.ignore {
            ignore.add_user_path(model, path)?;
            let inside = if path.is_absolute() {
                path.clone()
            } else {
                model.join(path)
            };
            if !inside.exists() {
                warnings.push(Warning::IgnorePathMatchesNothing {
                    path: path.clone(),
                    model: model.to_path_buf(),
                });
            }
        }
        if model.is_dir() {
            for output in own_outputs {
                ignore.add_if_inside(model, output)?;
            }
        }
        let serialization = Serialization {
            method: match self.shard_size {
                None => Method::Files,
                Some(shard_size) => Method::Shards { shard_size },
            },
            algorithm: self.algorithm,
            allow_symlinks: self.allow_symlinks,
            ignore_paths: ignore.paths().to_vec(),
        };
        serialization.check().map_err(Error::Usage)?;
        Ok((serialization, warnings))
    }
}

/// Builds the manifest that gives the model at `path` an identity. A model with no files
/// (after the ignore rules) is refused: `action` ("hash", "sign") names what it cannot be given.
pub fn hash_model(
    path: &Path,
    serialization: &Serialization,
    context: &BuildContext<'_>,
    action: &str,
) -> Result<BuildOutcome> {
    let built = build_manifest(path, serialization, context)?;
    if built.stats.files == 0 {
        return Err(Error::Walk {
            path: path.to_path_buf(),
            problem: format!(
                "holds no files to {action} (after the ignore rules); refusing to give an empty model an identity"
            ),
        });
    }
    Ok(built)
}

/// The manifest that gives the model its identity as cards, lineage records and SBOMs record
/// it: the default serialization (whole files, SHA-256, git paths and README.md left out), the
/// digest `modelprov hash` prints. `card`, the card used with it, must be the folder's README.md
/// or lie outside the model. Warnings are in the outcome.
#[cfg(feature = "card")]
pub fn card_model_manifest(
    model: &Path,
    card: Option<&Path>,
    context: &BuildContext<'_>,
) -> Result<BuildOutcome> {
    if let Some(card) = card {
        check_card_location(model, card)?;
    }
    let (serialization, mut warnings) = HashConfig::default().resolve(model, &[])?;
    let mut built = hash_model(model, &serialization, context, "describe in a card")?;
    warnings.append(&mut built.warnings);
    built.warnings = warnings;
    Ok(built)
}

/// Who signs: a private key, and for certificate signatures the leaf certificate holding its
/// public key followed by the chain to carry (DER).
pub struct ModelSigner {
    /// The signing key.
    pub key: PrivateKey,
    /// The leaf certificate first, then intermediates (optionally the root); empty for a key
    /// signature.
    pub certificates: Vec<Vec<u8>>,
}

impl ModelSigner {
    /// A key signature (no certificate).
    pub fn new(key: PrivateKey) -> Self {
        ModelSigner {
            key,
            certificates: Vec::new(),
        }
    }

    /// A certificate signature: `certificates` holds the leaf first.
    pub fn with_certificates(mut self, certificates: Vec<Vec<u8>>) -> Self {
        self.certificates = certificates;
        self
    }
}

/// Refuses signature outputs that would damage what is there: a file of the model (a signature
/// inside the model is left out of it, but never written over a model file) or one of the
/// run's `inputs` (key, certificates, card, SBOM). Call before hashing.
pub fn check_signature_outputs(model: &Path, outputs: &[&Path], inputs: &[&Path]) -> Result<()> {
    for output in outputs {
        crate::signing::check_signature_output(model, output)?;
        crate::fsutil::refuse_replacing_input(output, inputs)?;
    }
    Ok(())
}

/// What [`sign_model`] signs.
pub struct SignRequest<'a> {
    /// The model folder or file.
    pub model: &'a Path,
    /// How it is hashed (from [`HashConfig::resolve`], with the signature outputs passed as the
    /// caller's own outputs so that they are left out).
    pub serialization: &'a Serialization,
    /// Who signs.
    pub signer: &'a ModelSigner,
    /// A model card to sign as describing the model: the folder's README.md or a file outside.
    pub card: Option<&'a Path>,
    /// An AI-SBOM (from `sbom generate`) to sign as describing the model; outside the model.
    pub sbom: Option<&'a Path>,
    /// Also scan the model's files and sign the report as describing the model.
    pub scan: bool,
}

impl<'a> SignRequest<'a> {
    /// Signs `model` alone, hashed by `serialization`.
    pub fn new(model: &'a Path, serialization: &'a Serialization, signer: &'a ModelSigner) -> Self {
        SignRequest {
            model,
            serialization,
            signer,
            card: None,
            sbom: None,
            scan: false,
        }
    }
}

/// A signed model: its manifest, the OMS signature, and the card and SBOM signatures asked for.
pub struct SignedModel {
    /// The manifest that was signed; its root digest is the model's identity.
    pub built: BuildOutcome,
    /// The OMS signature (a Sigstore bundle).
    pub signature: Bundle,
    /// The card signature, when a card was given.
    pub card_signature: Option<Bundle>,
    /// The SBOM signature, when an SBOM was given.
    pub sbom_signature: Option<Bundle>,
    /// The scan report's signature, when a scan was asked for, and whether the scan passed.
    pub scan_signature: Option<(Bundle, bool)>,
    /// What the caller should tell the user (key types model_signing cannot verify, ...).
    pub warnings: Vec<Warning>,
}

impl SignedModel {
    /// The signed model's root digest.
    pub fn digest(&self) -> RootDigest {
        self.built.manifest.root_digest()
    }
}

/// Hashes and signs the model, and its card and SBOM when given. A card or SBOM that lies
/// inside the model's content, or that describes other bytes than these, is refused: a
/// signature would vouch for a description of another model. `context` carries the hashing
/// cache and progress sink.
pub fn sign_model(request: &SignRequest<'_>, context: &BuildContext<'_>) -> Result<SignedModel> {
    let SignRequest {
        model,
        serialization,
        signer,
        ..
    } = request;
    let mut warnings = Vec::new();
    #[cfg(not(feature = "card"))]
    if request.card.is_some() {
        return Err(Error::feature_missing("card", "signing a model card"));
    }
    #[cfg(not(feature = "sbom"))]
    if request.sbom.is_some() {
        return Err(Error::feature_missing("sbom", "signing an SBOM"));
    }
    #[cfg(not(feature = "scan"))]
    if request.scan {
        return Err(Error::feature_missing("scan", "signing a scan report"));
    }
    #[cfg(feature = "card")]
    let card = match request.card {
        Some(path) => {
            if !serialization.leaves_out_card() {
                return Err(Error::Usage(
                    "--card binds the card to the model's identity, which leaves README.md out; \
                     drop --no-ignore-readme"
                        .into(),
                ));
            }
            check_card_location(model, path)?;
            let bytes = Card::read_bytes(path)?;
            let card = Card::from_bytes(path, &bytes)?;
            Some((path, card, bytes))
        }
        None => None,
    };
    #[cfg(feature = "sbom")]
    let sbom = match request.sbom {
        Some(path) => {
            if let Some(name) = path_inside_model(model, path)? {
                return Err(Error::Usage(format!(
                    "{} lies inside the model as '{name}', so it would be part of the content it \
                     describes; keep the SBOM outside the model folder",
                    path.display()
                )));
            }
            Some((path, read_sbom(path)?))
        }
        None => None,
    };
    if !signer.key.key_type().oms_compatible() {
        warnings.push(Warning::KeyNotAcceptedByModelSigning {
            key_type: signer.key.key_type(),
        });
    }
    if serialization.method != Method::Files || serialization.algorithm != HashAlgorithm::Sha256 {
        warnings.push(Warning::NotVerifiableByModelSigningCli);
    }
    let mut built = hash_model(model, serialization, context, "sign")?;
    warnings.append(&mut built.warnings);
    let signature = sign_manifest(&built.manifest, &signer.key, &signer.certificates)?;
    #[cfg(feature = "card")]
    let card_signature = match &card {
        Some((path, card, bytes)) => Some(sign_model_card(
            path,
            card,
            bytes,
            &built.manifest,
            signer,
            &mut warnings,
        )?),
        None => None,
    };
    #[cfg(not(feature = "card"))]
    let card_signature = None;
    #[cfg(feature = "sbom")]
    let sbom_signature = match &sbom {
        Some((path, document)) => Some(sign_model_sbom(path, document, &built.manifest, signer)?),
        None => None,
    };
    #[cfg(not(feature = "sbom"))]
    let sbom_signature = None;
    #[cfg(feature = "scan")]
    let scan_signature = if request.scan {
        Some(sign_scan_report(model, &built.manifest, signer)?)
    } else {
        None
    };
    #[cfg(not(feature = "scan"))]
    let scan_signature = None;
    Ok(SignedModel {
        built,
        signature,
        card_signature,
        sbom_signature,
        scan_signature,
        warnings,
    })
}

/// Signs the card as describing `manifest`'s model. A card that records another model digest
/// is refused; one that records none is bound anyway, with a warning.
#[cfg(feature = "card")]
fn sign_model_card(
    path: &Path,
    card: &Card,
    bytes: &[u8],
    manifest: &Manifest,
    signer: &ModelSigner,
    warnings: &mut Vec<Warning>,
) -> Result<Bundle> {
    let digest = manifest.root_digest();
    match card.recorded_digest() {
        Some(recorded) if recorded != digest.to_string() => {
            return Err(Error::Usage(format!(
                "{} describes the model {recorded}, but this model is {digest}; refresh it with `modelprov card init` before signing",
                path.display()
            )));
        }
        Some(_) => {}
        None => warnings.push(Warning::CardRecordsNoDigest {
            card: path.to_path_buf(),
            digest,
        }),
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| crate::walk::MODEL_CARD.into());
    sign_card(
        &manifest.name,
        &digest,
        &name,
        bytes,
        &card.metadata,
        &signer.key,
        &signer.certificates,
    )
}

/// Signs the SBOM as describing `manifest`'s model; an SBOM about other bytes is refused.
#[cfg(feature = "sbom")]
fn sign_model_sbom(
    path: &Path,
    document: &Value,
    manifest: &Manifest,
    signer: &ModelSigner,
) -> Result<Bundle> {
    let digest = manifest.root_digest();
    match described_digest(document) {
        Some(described) if described == digest => {}
        Some(described) => {
            return Err(Error::Usage(format!(
                "{} describes the model {described}, but this model is {digest}; generate it again before signing",
                path.display()
            )));
        }
        None => {
            return Err(Error::invalid(
                path,
                "not an SBOM of a model (no model digest found in it)",
            ));
        }
    }
    let payload = sbom_statement(&manifest.name, &digest, document)
        .map_err(|problem| Error::invalid(path, problem))?;
    crate::signing::sign_statement(&payload, &signer.key, &signer.certificates)
}

/// Scans the model's files and signs the report (paths relative to the model) as describing
/// `manifest`'s model; also says whether the scan passed.
#[cfg(feature = "scan")]
fn sign_scan_report(
    model: &Path,
    manifest: &crate::manifest::Manifest,
    signer: &ModelSigner,
) -> Result<(Bundle, bool)> {
    let mut scans = crate::scan::scan_path(model)?;
    for scan in &mut scans {
        if let Ok(relative) = scan.path.strip_prefix(model) {
            scan.path = if relative.as_os_str().is_empty() {
                PathBuf::from(model.file_name().unwrap_or_default())
            } else {
                relative.to_path_buf()
            };
        }
    }
    let passed = !scans.iter().any(|s| s.fails);
    let payload = crate::scan::scan_statement(&manifest.name, &manifest.root_digest(), &scans);
    let bundle = crate::signing::sign_statement(&payload, &signer.key, &signer.certificates)?;
    Ok((bundle, passed))
}

/// Where a card or SBOM signature goes by default beside the model signature `signature`:
/// `model.sig` -> `model.KIND.sig`; other names get `.KIND.sig` appended. `kind` is "card" or
/// "sbom"; `sign` writes there and `verify` looks there.
pub fn attachment_signature_path(signature: &Path, kind: &str) -> PathBuf {
    let text = signature.as_os_str().to_string_lossy();
    match text.strip_suffix(".sig") {
        Some(stem) => PathBuf::from(format!("{stem}.{kind}.sig")),
        None => PathBuf::from(format!("{text}.{kind}.sig")),
    }
}

/// What else a signature's verification takes.
#[derive(Clone, Debug, Default)]
pub struct SignatureCheck {
    /// The model's name, for a trust policy whose signers are scoped to model names.
    pub model_name: Option<String>,
    /// Paths to leave out besides those the signer recorded (model folders only).
    pub ignore: Vec<PathBuf>,
    /// A model card and its card signature, checked as signed with the model.
    pub card: Option<(PathBuf, PathBuf)>,
    /// An SBOM and its SBOM signature, checked as signed with the model.
    pub sbom: Option<(PathBuf, PathBuf)>,
}

/// A card or SBOM whose signature verified as made with the model's.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Attachment {
    /// "card" or "SBOM".
    pub kind: &'static str,
    /// The card or SBOM file.
    pub file: String,
    /// Its signature file.
    pub signature: String,
}

/// A model signature that verified: what the model must now be, who signed it, and the card
/// and SBOM that verified with it.
pub struct SignedExpectation {
    /// The signed manifest, with the verification's ignore paths applied.
    pub expectation: Expectation,
    /// Who signed, when, and where it was logged.
    pub evidence: Evidence,
    /// Cards and SBOMs checked as signed with the model.
    pub attachments: Vec<Attachment>,
    /// Warnings about the signature (older formats, ...).
    pub warnings: Vec<Warning>,
}

/// Verifies the OMS signature at `signature` by a signer `policy` trusts, and the card and
/// SBOM signatures `check` names; returns the manifest the model must match. The model's bytes
/// are not read here: pass the expectation to [`crate::verify::verify_model_with`].
///
/// As the reference verifier does, the signature file never counts as part of the model, and
/// ignore paths given now add to those the signer recorded (bundles before model_signing 1.1
/// record none).
pub fn signed_expectation(
    model: &Path,
    signature: &Path,
    policy: &TrustPolicy,
    check: &SignatureCheck,
) -> Result<SignedExpectation> {
    let bundle = read_bundle(signature)?;
    let (envelope, signer) =
        policy.verify_envelope(&bundle, check.model_name.as_deref(), signature)?;
    let statement = parse_oms_statement(&envelope.payload)
        .map_err(|problem| Error::invalid(signature, problem))?;
    #[cfg_attr(not(any(feature = "card", feature = "sbom")), allow(unused_mut))]
    let mut attachments = Vec::new();
    #[cfg(not(feature = "card"))]
    if check.card.is_some() {
        return Err(Error::feature_missing("card", "verifying a card signature"));
    }
    #[cfg(not(feature = "sbom"))]
    if check.sbom.is_some() {
        return Err(Error::feature_missing(
            "sbom",
            "verifying an SBOM signature",
        ));
    }
    #[cfg_attr(not(any(feature = "card", feature = "sbom")), allow(unused_variables))]
    let (trusted, digest) = (signer.signer.trusted(), statement.manifest.root_digest());
    #[cfg(feature = "card")]
    if let Some((card, card_signature)) = &check.card {
        let card_bundle = read_bundle(card_signature)?;
        let bytes = Card::read_bytes(card)?;
        verify_card_bundle(&card_bundle, trusted, card_signature, &bytes, &digest)?;
        attachments.push(Attachment {
            kind: "card",
            file: card.display().to_string(),
            signature: card_signature.display().to_string(),
        });
    }
    #[cfg(feature = "sbom")]
    if let Some((sbom, sbom_signature)) = &check.sbom {
        let sbom_bundle = read_bundle(sbom_signature)?;
        let document = read_sbom(sbom)?;
        verify_sbom_bundle(&sbom_bundle, trusted, sbom_signature, &document, &digest)?;
        attachments.push(Attachment {
            kind: "SBOM",
            file: sbom.display().to_string(),
            signature: sbom_signature.display().to_string(),
        });
    }
    let mut manifest = statement.manifest;
    let mut ignore =
        IgnoreSet::from_recorded(&manifest.serialization.ignore_paths).map_err(Error::Usage)?;
    if model.is_dir() {
        ignore.add_if_inside(model, signature)?;
        for path in &check.ignore {
            ignore.add_user_path(model, path)?;
        }
    } else if !check.ignore.is_empty() {
        return Err(Error::Usage(
            "--ignore leaves paths of a model folder out; this model is one file".into(),
        ));
    }
    manifest.serialization.ignore_paths = ignore.paths().to_vec();
    Ok(SignedExpectation {
        expectation: Expectation::Manifest(manifest),
        evidence: envelope.evidence,
        attachments,
        warnings: envelope.warnings,
    })
}
