//! `modelprov verify PATH`: does the model match its manifest, a digest, or the digest a trust
//! file holds for it?

use std::path::PathBuf;

use clap::{ArgGroup, Args};
use modelprov::attest::read_bundle;
use modelprov::card::{Card, verify_card_bundle};
use modelprov::keys::PublicKey;
use modelprov::lineage::Store as _;
use modelprov::manifest::{parse_manifest, read_manifest};
use modelprov::sbom::verify_sbom_bundle;
use modelprov::scan::FileScan;
use modelprov::signing::{TrustedSigner, verify_bundle, verify_file};
use modelprov::trust::TrustFile;
use modelprov::verify::{Expectation, Verification, verify_model};
use modelprov::walk::IgnoreSet;
use modelprov::x509::read_certificates;
use modelprov::{Error, Result, RootDigest};
use serde::Serialize;

use crate::args::{CacheArgs, OutputArgs, SerializationArgs};
use crate::card_files::{attachment_signature_path, card_signature_path};
use crate::commands::lineage::{RegistryArgs, find};
use crate::commands::scan::{PolicyArgs, report_scans};
use crate::exit::Outcome;
use crate::output::{print_json, print_verification, warn_all};
use crate::progress_bar::with_progress;

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("expected").required(true).args(["manifest", "digest", "id", "signature"])))]
pub struct VerifyArgs {
    /// The model folder, or a single model file.
    pub path: PathBuf,

    /// A manifest written by `modelprov hash --output`; every difference is named.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,

    /// The expected root digest, sha256:<hex> (serialization from the options below).
    #[arg(long, value_name = "DIGEST")]
    pub digest: Option<String>,

    /// A trust file mapping model ids to digests (docs/trust-file.md); needs --id.
    #[arg(long, value_name = "FILE", requires = "id")]
    pub trusted: Option<PathBuf>,

    /// The model's id in the trust file; without --trusted, NAME@VERSION in the lineage
    /// registry, whose recorded digest the model must have.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["manifest", "digest", "signature"])]
    pub id: Option<String>,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// An OMS signature file (Sigstore bundle) to verify; needs --key or --certificate-chain.
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,

    /// The signer's public key (SPKI PEM) or certificate.
    #[arg(
        long,
        value_name = "FILE",
        requires = "signature",
        conflicts_with = "certificate_chain"
    )]
    pub key: Option<PathBuf>,

    /// The signature is a raw detached signature of the file PATH (from `sign --raw`,
    /// `openssl dgst -sha256 -sign`, `openssl pkeyutl -sign -rawin` or Python cryptography).
    #[arg(long, requires_all = ["signature", "key"])]
    pub raw: bool,

    /// Trusted root certificates (PEM) for certificate signatures; repeatable.
    #[arg(long, value_name = "FILE", requires = "signature")]
    pub certificate_chain: Vec<PathBuf>,

    /// Also check this model card against its card signature (from `sign --card`): signed by
    /// the same signer, for this model, and unchanged since.
    #[arg(
        long,
        value_name = "FILE",
        requires = "signature",
        conflicts_with = "raw"
    )]
    pub card: Option<PathBuf>,

    /// The card signature [default: the signature path with .card.sig].
    #[arg(long, value_name = "FILE", requires = "card")]
    pub card_signature: Option<PathBuf>,

    /// Also check this AI-SBOM against its signature (from `sign --sbom`): same signer, this
    /// model, unchanged since.
    #[arg(
        long,
        value_name = "FILE",
        requires = "signature",
        conflicts_with = "raw"
    )]
    pub sbom: Option<PathBuf>,

    /// The SBOM signature [default: the signature path with .sbom.sig].
    #[arg(long, value_name = "FILE", requires = "sbom")]
    pub sbom_signature: Option<PathBuf>,

    /// After verifying, scan the model's files for code that would run when they are loaded
    /// (`modelprov scan`); any file the scan fails (unsafe, invalid, or a model file it could
    /// not read or decode) fails the verification.
    #[arg(long)]
    pub scan: bool,

    /// With --scan: classes the team trusts (--allow, --scan-policy).
    #[command(flatten)]
    pub scan_policy: PolicyArgs,

    #[command(flatten)]
    pub serialization: SerializationArgs,

    #[command(flatten)]
    pub cache: CacheArgs,

    #[command(flatten)]
    pub output_args: OutputArgs,
}

#[derive(Serialize)]
struct VerifyReport<'a> {
    model: &'a str,
    source: &'a str,
    #[serde(skip_serializing_if = "<[Attachment]>::is_empty")]
    attachments: &'a [Attachment],
    #[serde(flatten)]
    verification: &'a Verification,
    /// With --scan: every file's verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    scan: Option<&'a [FileScan]>,
}

pub fn run(args: VerifyArgs) -> Result<Outcome> {
    refuse_options_without_effect(&args)?;
    if args.raw {
        return verify_raw(&args);
    }
    if args.digest.is_none() && !args.serialization.is_default() {
        return Err(Error::Usage(
            "hashing options (--algorithm, --shard-size, --ignore, ...) go with --digest only; \
             a manifest or trust entry records its own"
                .into(),
        ));
    }
    // Read before verifying: a bad policy file is an error whatever the model is.
    let policy = args.scan_policy.policy()?;
    let mut attachments = Vec::new();
    let (expectation, source, mut warnings) = expectation(&args, &mut attachments)?;
    let cache = args.cache.open(&mut warnings);
    let mut verification = with_progress(args.output_args.quiet, cache.as_ref(), |context| {
        verify_model(&args.path, &expectation, context)
    })?;
    warnings.append(&mut verification.warnings);
    verification.warnings = warnings;

    // A model that is not the expected bytes is not scanned: the answer is already no.
    let scans = if args.scan && verification.ok {
        Some(modelprov::scan::scan_path_with(&args.path, &policy)?)
    } else {
        None
    };
    let scan_failed = scans
        .as_ref()
        .is_some_and(|scans| scans.iter().any(|s| s.fails));
    let model = args.path.display().to_string();
    if args.output_args.json {
        print_json(&VerifyReport {
            model: &model,
            source: &source,
            attachments: &attachments,
            verification: &verification,
            scan: scans.as_deref(),
        });
    } else {
        warn_all(&verification.warnings, args.output_args.quiet);
        print_verification(&model, &source, &verification);
        if !args.output_args.quiet {
            for name in &verification.not_covered {
                errln!("note: {}", not_covered_note(name, &args));
            }
        }
        if verification.ok {
            for attachment in &attachments {
                outln!(
                    "OK: {} {} is signed with the model ({})",
                    attachment.kind,
                    attachment.file,
                    attachment.signature
                );
            }
        }
        if let Some(scans) = &scans {
            report_scans(scans, false, true, &args.path);
        }
    }
    Ok(if verification.ok && !scan_failed {
        Outcome::Ok
    } else {
        Outcome::VerificationFailed
    })
}

/// Every option either takes effect or is refused: a check the user asked for and that was
/// silently skipped would make exit 0 a lie (`--manifest m.json --card README.md` must not pass
/// without checking the card).
fn refuse_options_without_effect(args: &VerifyArgs) -> Result<()> {
    let signature_only: [(&str, bool); 6] = [
        ("--key", args.key.is_some()),
        ("--certificate-chain", !args.certificate_chain.is_empty()),
        ("--card", args.card.is_some()),
        ("--card-signature", args.card_signature.is_some()),
        ("--sbom", args.sbom.is_some()),
        ("--sbom-signature", args.sbom_signature.is_some()),
    ];
    if args.signature.is_none()
        && let Some((option, _)) = signature_only.iter().find(|(_, given)| *given)
    {
        return Err(Error::Usage(format!(
            "{option} goes with --signature; it checks nothing against a manifest, digest or trusted id"
        )));
    }
    if !args.scan && args.scan_policy.requested() {
        return Err(Error::Usage(
            "--allow and --scan-policy go with --scan; without it nothing is scanned".into(),
        ));
    }
    if args.raw && (args.cache.requested() || args.scan) {
        return Err(Error::Usage(
            "--raw checks one file's detached signature; --cache and --scan do not apply".into(),
        ));
    }
    Ok(())
}

/// What to tell a user about a file the verification did not cover (the model card).
fn not_covered_note(name: &str, args: &VerifyArgs) -> String {
    let what = match &args.signature {
        Some(_) => "this signature",
        None => "the model's digest",
    };
    let mut note = format!("{name}, the model card, is not covered by {what}");
    match (&args.signature, &args.card) {
        (Some(_), Some(card)) => note += &format!("; --card checked {}", card.display()),
        (Some(signature), None) => {
            let card_signature = card_signature_path(signature);
            if card_signature.is_file() {
                note += &format!(
                    "; {} beside it covers it: add --card {}",
                    card_signature.display(),
                    args.path.join(name).display()
                );
            } else {
                note += " (sign it with `modelprov sign --card` to bind it to the model)";
            }
        }
        (None, _) => {
            note += &format!(
                " (`modelprov card validate {} --model {}` checks it against these bytes)",
                args.path.join(name).display(),
                args.path.display()
            );
        }
    }
    note
}

/// A card or SBOM whose signature verified as made with the model's.
#[derive(Serialize)]
struct Attachment {
    kind: &'static str,
    file: String,
    signature: String,
}

/// What the model should be, a description of where that came from, and warnings; `card` is set
/// when a card was checked against its signature.
fn expectation(
    args: &VerifyArgs,
    attachments: &mut Vec<Attachment>,
) -> Result<(Expectation, String, Vec<String>)> {
    if let Some(path) = &args.manifest {
        let manifest = read_manifest(path)?;
        return Ok((
            Expectation::Manifest(manifest),
            path.display().to_string(),
            Vec::new(),
        ));
    }
    if let Some(signature) = &args.signature {
        let bundle = read_bundle(signature)?;
        let public;
        let mut roots = Vec::new();
        let (trusted, signer) = match (&args.key, args.certificate_chain.as_slice()) {
            (Some(key), _) => {
                public = PublicKey::read(key)?;
                (
                    TrustedSigner::Key(&public),
                    format!("key {}", key.display()),
                )
            }
            (None, []) => {
                return Err(Error::Usage(
                    "--signature needs --key (a public key) or --certificate-chain (trusted roots)"
                        .into(),
                ));
            }
            (None, files) => {
                for file in files {
                    roots.extend(read_certificates(file)?);
                }
                (TrustedSigner::Roots(&roots), String::new())
            }
        };
        let verified = verify_bundle(&bundle, trusted, signature)?;
        let signer = match &verified.signer {
            Some(subject) => format!("certificate {subject}"),
            None => signer,
        };
        if let Some(card_path) = &args.card {
            let card_signature = args
                .card_signature
                .clone()
                .unwrap_or_else(|| card_signature_path(signature));
            let card_bundle = read_bundle(&card_signature)?;
            let bytes = Card::read_bytes(card_path)?;
            verify_card_bundle(
                &card_bundle,
                trusted,
                &card_signature,
                &bytes,
                &verified.statement.manifest.root_digest(),
            )?;
            attachments.push(Attachment {
                kind: "card",
                file: card_path.display().to_string(),
                signature: card_signature.display().to_string(),
            });
        }
        if let Some(sbom_path) = &args.sbom {
            let sbom_signature = args
                .sbom_signature
                .clone()
                .unwrap_or_else(|| attachment_signature_path(signature, "sbom"));
            let sbom_bundle = read_bundle(&sbom_signature)?;
            let document = modelprov::sbom::read_sbom(sbom_path)?;
            verify_sbom_bundle(
                &sbom_bundle,
                trusted,
                &sbom_signature,
                &document,
                &verified.statement.manifest.root_digest(),
            )?;
            attachments.push(Attachment {
                kind: "SBOM",
                file: sbom_path.display().to_string(),
                signature: sbom_signature.display().to_string(),
            });
        }
        let mut manifest = verified.statement.manifest;
        // As the reference verifier does: the signature file never counts as part of the model.
        let mut ignore =
            IgnoreSet::from_recorded(&manifest.serialization.ignore_paths).map_err(Error::Usage)?;
        if args.path.is_dir() {
            ignore.add_if_inside(&args.path, signature)?;
        }
        manifest.serialization.ignore_paths = ignore.paths().to_vec();
        let source = format!("signature {} ({signer})", signature.display());
        return Ok((Expectation::Manifest(manifest), source, verified.warnings));
    }
    if let Some(text) = &args.digest {
        let digest: RootDigest = text
            .parse()
            .map_err(|problem| Error::Usage(format!("--digest: {problem}")))?;
        let (serialization, warnings) = args.serialization.resolve(&args.path, &[])?;
        return Ok((
            Expectation::Digest {
                digest,
                serialization,
            },
            format!("digest {digest}"),
            warnings,
        ));
    }
    let Some(id) = &args.id else {
        return Err(Error::Usage(
            "give one of --manifest, --digest, --signature, --id, or --trusted with --id".into(),
        ));
    };
    let Some(path) = &args.trusted else {
        return registry_expectation(args, id);
    };
    let trust = TrustFile::read(path)?;
    let expectation = trust.get(id, path)?.clone();
    let source = format!("trusted digest of '{id}' in {}", path.display());
    Ok((expectation, source, Vec::new()))
}

/// The digest the lineage registry records for `id`: with the manifest kept at recording, every
/// difference is named; otherwise the digest is compared as `lineage record --model` computed it
/// (the model's identity: the default serialization).
fn registry_expectation(args: &VerifyArgs, id: &str) -> Result<(Expectation, String, Vec<String>)> {
    let store = args.registry.open_read_only()?;
    let entry = find(&store, id, store.path())?;
    let source = format!(
        "{} in the lineage registry {}",
        entry.record.id(),
        store.path().display()
    );
    if let Some(json) = store.manifest(&entry.record.digest)? {
        let manifest = parse_manifest(&json, store.path())?;
        return Ok((Expectation::Manifest(manifest), source, Vec::new()));
    }
    let (serialization, warnings) = SerializationArgs::default().resolve(&args.path, &[])?;
    Ok((
        Expectation::Digest {
            digest: entry.record.digest,
            serialization,
        },
        source,
        warnings,
    ))
}

/// Raw signatures are at most a few KiB (RSA-16384 gives 2 KiB); anything larger is not one.
const MAX_RAW_SIGNATURE_BYTES: u64 = 64 << 10;

/// `verify FILE --raw --signature SIG --key PUBLIC`.
fn verify_raw(args: &VerifyArgs) -> Result<Outcome> {
    let (Some(signature_path), Some(key_path)) = (&args.signature, &args.key) else {
        return Err(Error::Usage("--raw needs --signature and --key".into()));
    };
    if args.manifest.is_some()
        || args.digest.is_some()
        || args.trusted.is_some()
        || !args.serialization.is_default()
    {
        return Err(Error::Usage(
            "--raw checks a signature alone; it takes no manifest, digest or hashing options"
                .into(),
        ));
    }
    let size = std::fs::metadata(signature_path)
        .map_err(|e| Error::Io {
            action: "read signature",
            path: signature_path.clone(),
            source: e,
        })?
        .len();
    if size > MAX_RAW_SIGNATURE_BYTES {
        return Err(Error::InvalidInput {
            path: signature_path.clone(),
            problem: format!("{size} bytes is too large for a raw signature"),
        });
    }
    let signature = std::fs::read(signature_path).map_err(|e| Error::Io {
        action: "read signature",
        path: signature_path.clone(),
        source: e,
    })?;
    let key = PublicKey::read(key_path)?;
    let ok = verify_file(&args.path, &key, &signature)?;
    let file = args.path.display().to_string();
    if args.output_args.json {
        print_json(&serde_json::json!({
            "file": file,
            "signature": signature_path,
            "key": key_path,
            "key_type": key.key_type().to_string(),
            "ok": ok,
        }));
    } else if ok {
        outln!(
            "OK: {file} is signed by {} ({})",
            key_path.display(),
            key.key_type().detached_scheme()
        );
    } else {
        outln!(
            "FAILED: {} is not a signature of {file} by {} (the file or signature changed, or another key signed)",
            signature_path.display(),
            key_path.display()
        );
    }
    Ok(if ok {
        Outcome::Ok
    } else {
        Outcome::VerificationFailed
    })
}
