//! `modelprov verify PATH`: does the model match its manifest, a digest, or the digest a trust
//! file holds for it?

use std::path::PathBuf;

use clap::{ArgGroup, Args};
use modelprov::attest::MAX_BUNDLE_BYTES;
use modelprov::evidence::{Evidence, Signed};
use modelprov::fsutil::read_capped;
use modelprov::keys::PublicKey;
use modelprov::manifest::{parse_manifest, read_manifest};
use modelprov::model::{Attachment, SignatureCheck, signed_expectation};
use modelprov::scan::FileScan;
use modelprov::signing::{SignatureKind, signature_kind, verify_file};
use modelprov::trust::TrustFile;
use modelprov::trust_policy::TrustPolicy;
use modelprov::verify::{Expectation, Verification, VerifyOptions, verify_model_with};
use modelprov::{Error, Result, RootDigest};
use serde::Serialize;

use crate::args::{CacheArgs, OutputArgs, SerializationArgs};
use crate::card_files::{attachment_signature_path, card_signature_path};
use crate::commands::lineage::{RegistryArgs, find};
use crate::commands::scan::{PolicyArgs, report_scans};
use crate::exit::Outcome;
use crate::output::{print_json, print_verification, warn_all};
use crate::progress_bar::with_progress;
use crate::trust_args::KeylessArgs;
use modelprov::trust_sources::TrustSources;

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

    #[command(flatten)]
    pub keyless: KeylessArgs,

    /// A trust policy (docs/trust-policy.md): the signature must be by a signer it trusts for
    /// this model. `modelprov policy new` writes one.
    #[arg(long, value_name = "FILE", requires = "signature")]
    pub policy: Option<PathBuf>,

    /// The model's name, for a trust policy whose signers are scoped to model names.
    #[arg(long, value_name = "NAME", requires = "policy")]
    pub model_name: Option<String>,

    /// Files the signature (or manifest) does not list are left out instead of failing the
    /// verification as added (model_signing's --ignore_unsigned_files); missing and changed
    /// files still fail.
    #[arg(long, alias = "ignore_unsigned_files")]
    pub ignore_unsigned_files: bool,

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
    /// Who signed, when, and where it was logged (with --signature).
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<&'a Evidence>,
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
    let hashing_options_fit = args.digest.is_some()
        || args.serialization.is_default()
        || (args.signature.is_some() && args.serialization.only_ignores());
    if !hashing_options_fit {
        return Err(Error::Usage(
            "hashing options (--algorithm, --shard-size, --ignore, ...) go with --digest; a \
             signature takes --ignore only (combined with the paths it records), and a manifest \
             or trust entry records its own"
                .into(),
        ));
    }
    if let Some(signature) = &args.signature {
        let text = read_capped(signature, MAX_BUNDLE_BYTES, "a signature file")?;
        if signature_kind(&text) == Some(SignatureKind::Artifact) {
            return verify_artifact(&args, signature, &text);
        }
    }
    // Read before verifying: a bad policy file is an error whatever the model is.
    let policy = args.scan_policy.policy()?;
    let mut attachments = Vec::new();
    let (expectation, source, mut warnings, signed) = expectation(&args, &mut attachments)?;
    let cache = args.cache.open(&mut warnings);
    let options = VerifyOptions {
        ignore_unsigned_files: args.ignore_unsigned_files,
    };
    let mut verification = with_progress(args.output_args.quiet, cache.as_ref(), |context| {
        verify_model_with(&args.path, &expectation, context, options)
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
            signature: signed.as_ref(),
            verification: &verification,
            scan: scans.as_deref(),
        });
    } else {
        warn_all(&verification.warnings, args.output_args.quiet);
        print_verification(&model, &source, &verification);
        if let Some(evidence) = &signed {
            print_evidence(evidence);
        }
        if !verification.unsigned_ignored.is_empty() && !args.output_args.quiet {
            errln!(
                "note: {} file(s) the signature does not list were left out (--ignore-unsigned-files): {}",
                verification.unsigned_ignored.len(),
                verification.unsigned_ignored.join(", ")
            );
        }
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
    let signature_only: [(&str, bool); 11] = [
        ("--key", args.key.is_some()),
        ("--certificate-chain", !args.certificate_chain.is_empty()),
        ("--identity", args.keyless.identity.is_some()),
        ("--identity-regex", args.keyless.identity_regex.is_some()),
        ("--issuer", args.keyless.issuer.is_some()),
        ("--staging", args.keyless.staging),
        ("--trusted-root", args.keyless.trusted_root.is_some()),
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
    if args.ignore_unsigned_files && args.signature.is_none() && args.manifest.is_none() {
        return Err(Error::Usage(
            "--ignore-unsigned-files goes with --signature or --manifest: only they list the signed files".into(),
        ));
    }
    trust_sources(args).check()?;
    if (args.keyless.staging || args.keyless.trusted_root.is_some())
        && (args.policy.is_some() || !args.certificate_chain.is_empty())
    {
        return Err(Error::Usage(
            "--staging and --trusted-root go with --identity or --key; a policy names each signer's instance itself".into(),
        ));
    }
    if args.raw && (args.keyless.identity_given() || args.policy.is_some()) {
        return Err(Error::Usage(
            "--raw checks a raw signature with --key; keyless identities and policies check Sigstore bundles".into(),
        ));
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

/// What the model should be, a description of where that came from, and warnings; `card` is set
/// when a card was checked against its signature.
fn expectation(
    args: &VerifyArgs,
    attachments: &mut Vec<Attachment>,
) -> Result<(
    Expectation,
    String,
    Vec<modelprov::Warning>,
    Option<Evidence>,
)> {
    if let Some(path) = &args.manifest {
        let manifest = read_manifest(path)?;
        return Ok((
            Expectation::Manifest(manifest),
            path.display().to_string(),
            Vec::new(),
            None,
        ));
    }
    if let Some(signature) = &args.signature {
        let policy = trust_policy(args)?;
        let check = SignatureCheck {
            model_name: args.model_name.clone(),
            ignore: args.serialization.ignore.clone(),
            card: args.card.as_ref().map(|card| {
                let signature = args
                    .card_signature
                    .clone()
                    .unwrap_or_else(|| card_signature_path(signature));
                (card.clone(), signature)
            }),
            sbom: args.sbom.as_ref().map(|sbom| {
                let signature = args
                    .sbom_signature
                    .clone()
                    .unwrap_or_else(|| attachment_signature_path(signature, "sbom"));
                (sbom.clone(), signature)
            }),
        };
        let signed = signed_expectation(&args.path, signature, &policy, &check)?;
        attachments.extend(signed.attachments);
        let source = format!(
            "signature {} (signed by {})",
            signature.display(),
            signed.evidence.signed_by
        );
        return Ok((
            signed.expectation,
            source,
            signed.warnings,
            Some(signed.evidence),
        ));
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
            None,
        ));
    }
    let Some(id) = &args.id else {
        return Err(Error::Usage(
            "give one of --manifest, --digest, --signature, --id, or --trusted with --id".into(),
        ));
    };
    let Some(path) = &args.trusted else {
        return registry_expectation(args, id).map(|(e, s, w)| (e, s, w, None));
    };
    let trust = TrustFile::read(path)?;
    let expectation = trust.get(id, path)?.clone();
    let source = format!("trusted digest of '{id}' in {}", path.display());
    Ok((expectation, source, Vec::new(), None))
}

/// The digest the lineage registry records for `id`: with the manifest kept at recording, every
/// difference is named; otherwise the digest is compared as `lineage record --model` computed it
/// (the model's identity: the default serialization).
fn registry_expectation(
    args: &VerifyArgs,
    id: &str,
) -> Result<(Expectation, String, Vec<modelprov::Warning>)> {
    let store = args.registry.open_read_only()?;
    let entry = find(&*store, id, store.location())?;
    let source = format!(
        "{} in the lineage registry {}",
        entry.record.id(),
        store.location().display()
    );
    if let Some(json) = store.manifest(&entry.record.digest)? {
        let manifest = parse_manifest(&json, store.location())?;
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
        return Err(Error::invalid(
            signature_path,
            format!("{size} bytes is too large for a raw signature"),
        ));
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

/// The signers this command line names (at most one kind, checked by the library).
fn trust_sources(args: &VerifyArgs) -> TrustSources<'_> {
    TrustSources {
        key: args.key.as_deref(),
        certificate_chain: &args.certificate_chain,
        identity: args.keyless.identity.as_deref(),
        identity_regex: args.keyless.identity_regex.as_deref(),
        issuer: args.keyless.issuer.as_deref(),
        staging: args.keyless.staging,
        trusted_root: args.keyless.trusted_root.as_deref(),
        policy: args.policy.as_deref(),
    }
}

/// The signers this command line trusts: a policy file, or the one signer its options name.
fn trust_policy(args: &VerifyArgs) -> Result<TrustPolicy> {
    trust_sources(args).policy()?.ok_or_else(|| {
        Error::Usage(
            "--signature needs a trusted signer: --key (a public key), --certificate-chain \
             (trusted roots), --identity with --issuer (keyless), or --policy"
                .into(),
        )
    })
}

/// `verify FILE --signature FILE.sigstore.json`: a Sigstore bundle over one file (or the
/// `sha256:<hex>` digest given for it).
fn verify_artifact(args: &VerifyArgs, signature: &std::path::Path, text: &[u8]) -> Result<Outcome> {
    let model_only = [
        ("--card", args.card.is_some()),
        ("--sbom", args.sbom.is_some()),
        ("--scan", args.scan),
        ("--ignore", !args.serialization.ignore.is_empty()),
        ("--ignore-unsigned-files", args.ignore_unsigned_files),
        ("--cache", args.cache.requested()),
    ];
    if let Some((option, _)) = model_only.iter().find(|(_, given)| *given) {
        return Err(Error::Usage(format!(
            "{} signs one file, not a model: {option} does not apply",
            signature.display()
        )));
    }
    let text = std::str::from_utf8(text).map_err(|_| {
        Error::invalid(
            signature,
            "a Sigstore bundle is JSON text; this is not UTF-8",
        )
    })?;
    let signed = if args.path.exists() {
        if args.path.is_dir() {
            return Err(Error::Usage(format!(
                "{} signs one file, and {} is a folder",
                signature.display(),
                args.path.display()
            )));
        }
        Signed::File(&args.path)
    } else {
        let given = args.path.to_str().filter(|p| p.starts_with("sha256:"));
        match given.and_then(|p| p.parse::<RootDigest>().ok()) {
            Some(RootDigest(bytes)) => Signed::Sha256(bytes),
            _ => {
                return Err(Error::invalid(
                    &args.path,
                    "no such file (give the signed file, or its digest as sha256:<hex>)",
                ));
            }
        }
    };
    let policy = trust_policy(args)?;
    let (evidence, _) =
        policy.verify_artifact(text, signature, signed, args.model_name.as_deref())?;
    let file = args.path.display().to_string();
    if args.output_args.json {
        print_json(&serde_json::json!({
            "file": file,
            "signature": signature,
            "ok": true,
            "evidence": evidence,
        }));
    } else {
        outln!("OK: {file} is signed by {}", evidence.signed_by);
        print_evidence(&evidence);
    }
    Ok(Outcome::Ok)
}

/// When and where a Sigstore signature was logged.
fn print_evidence(evidence: &Evidence) {
    for time in &evidence.signed_at {
        outln!("  signed at {} ({})", time.time, time.source);
    }
    for entry in &evidence.logged_in {
        outln!(
            "  logged in {} at index {} ({})",
            entry.log,
            entry.index,
            entry.kind
        );
    }
    if let Some(instance) = &evidence.instance {
        outln!("  trusted root: {instance}");
    }
}
