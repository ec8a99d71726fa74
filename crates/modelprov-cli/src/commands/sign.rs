//! `modelprov sign PATH --key PRIVATE`: an OMS signature file for a model.

use std::path::{Path, PathBuf};

use clap::Args;
use modelprov::fsutil::{refuse_replacing_input, write_atomically};
use modelprov::keys::PrivateKey;
use modelprov::model::{ModelSigner, SignRequest, check_signature_outputs, sign_model};
use modelprov::signing::sign_file;
use modelprov::x509::read_certificates;
use modelprov::{Error, Result};

use crate::args::{CacheArgs, OutputArgs, PassphraseArgs, SerializationArgs};
use crate::card_files::{attachment_signature_path, card_signature_path};
use crate::exit::Outcome;
use crate::output::{is_stdout, print_json, warn_all, write_output};
use crate::progress_bar::with_progress;

#[derive(Args, Debug)]
pub struct SignArgs {
    /// The model folder, or a single model file.
    pub path: PathBuf,

    /// The private key (PKCS#8, encrypted PKCS#8 or SEC1 PEM).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,

    /// Sign with a certificate: the leaf certificate (PEM) holding the key's public key.
    #[arg(long, value_name = "FILE")]
    pub certificate: Option<PathBuf>,

    /// Certificates to carry after the leaf (intermediates, optionally the root); repeatable.
    #[arg(long, value_name = "FILE", requires = "certificate")]
    pub certificate_chain: Vec<PathBuf>,

    /// Where to write the signature [default: model.sig, or FILE.sig with --raw]; left out of
    /// the signed model when inside it.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Write a raw detached signature of one file (as `openssl dgst -sha256 -sign` or, for
    /// Ed25519, `openssl pkeyutl -sign -rawin`) instead of an OMS signature file.
    #[arg(long, conflicts_with_all = ["certificate", "certificate_chain"])]
    pub raw: bool,

    /// Also sign this model card (README.md, .yaml or .json) as describing the model: a second
    /// signed Statement (docs/model-cards.md). The card must be the folder's README.md (which
    /// the model's identity leaves out) or lie outside the model.
    #[arg(long, value_name = "FILE", conflicts_with = "raw")]
    pub card: Option<PathBuf>,

    /// Where to write the card signature [default: the signature path with .card.sig].
    #[arg(long, value_name = "FILE", requires = "card")]
    pub card_signature: Option<PathBuf>,

    /// Also sign this AI-SBOM (from `sbom generate`) as describing the model: a signed Statement
    /// with the SBOM as predicate; the SBOM must lie outside the model.
    #[arg(long, value_name = "FILE", conflicts_with = "raw")]
    pub sbom: Option<PathBuf>,

    /// Where to write the SBOM signature [default: the signature path with .sbom.sig].
    #[arg(long, value_name = "FILE", requires = "sbom")]
    pub sbom_signature: Option<PathBuf>,

    /// Also scan the model's files (as `modelprov scan` does) and write the report, signed as
    /// describing the model, to this file: what `publish --scan-signature` uploads.
    #[arg(long, value_name = "FILE", conflicts_with = "raw")]
    pub scan_signature: Option<PathBuf>,

    #[command(flatten)]
    pub passphrase: PassphraseArgs,

    #[command(flatten)]
    pub serialization: SerializationArgs,

    #[command(flatten)]
    pub cache: CacheArgs,

    #[command(flatten)]
    pub output_args: OutputArgs,
}

pub fn run(args: SignArgs) -> Result<Outcome> {
    let passphrase = args.passphrase.read()?;
    let key = PrivateKey::read(&args.key, passphrase.as_deref().map(Vec::as_slice))?;
    if args.raw {
        return sign_raw(&args, &key);
    }
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("model.sig"));
    let to_stdout = is_stdout(&output);
    if to_stdout {
        if args.output_args.json {
            return Err(Error::Usage(
                "--json and --output - both want stdout; write the signature to a file".into(),
            ));
        }
        if (args.card.is_some() && args.card_signature.is_none())
            || (args.sbom.is_some() && args.sbom_signature.is_none())
        {
            return Err(Error::Usage(
                "with --output -, say where the card or SBOM signature goes (--card-signature, --sbom-signature)".into(),
            ));
        }
    }
    let card_output = args
        .card_signature
        .clone()
        .unwrap_or_else(|| card_signature_path(&output));
    let sbom_output = args
        .sbom_signature
        .clone()
        .unwrap_or_else(|| attachment_signature_path(&output, "sbom"));
    let mut own_outputs: Vec<&Path> = Vec::new();
    if !to_stdout {
        own_outputs.push(output.as_path());
    }
    if args.card.is_some() {
        own_outputs.push(card_output.as_path());
    }
    if args.sbom.is_some() {
        own_outputs.push(sbom_output.as_path());
    }
    own_outputs.extend(args.scan_signature.as_deref());
    let mut inputs = vec![args.key.as_path()];
    inputs.extend(args.card.as_deref());
    inputs.extend(args.sbom.as_deref());
    inputs.extend(args.certificate.as_deref());
    inputs.extend(args.certificate_chain.iter().map(PathBuf::as_path));
    check_signature_outputs(&args.path, &own_outputs, &inputs)?;
    let (serialization, mut warnings) = args.serialization.resolve(&args.path, &own_outputs)?;
    let mut certificates = Vec::new();
    for file in args.certificate.iter().chain(&args.certificate_chain) {
        certificates.extend(read_certificates(file)?);
    }
    let signer = ModelSigner::new(key).with_certificates(certificates);
    let request = SignRequest {
        card: args.card.as_deref(),
        sbom: args.sbom.as_deref(),
        scan: args.scan_signature.is_some(),
        ..SignRequest::new(&args.path, &serialization, &signer)
    };
    let cache = args.cache.open(&mut warnings);
    let mut signed = with_progress(args.output_args.quiet, cache.as_ref(), |context| {
        sign_model(&request, context)
    })?;
    warnings.append(&mut signed.warnings);
    let digest = signed.digest();
    let key = &signer.key;
    let bundle = &signed.signature;
    let card_bundle = &signed.card_signature;
    let sbom_bundle = &signed.sbom_signature;
    let built = &signed.built;
    write_output(Some(&output), &bundle.to_json())?;
    if let Some(card_bundle) = &card_bundle {
        write_atomically(&card_output, &card_bundle.to_json())?;
    }
    if let Some(sbom_bundle) = &sbom_bundle {
        write_atomically(&sbom_output, &sbom_bundle.to_json())?;
    }
    let scan = args
        .scan_signature
        .as_deref()
        .zip(signed.scan_signature.as_ref());
    if let Some((path, (scan_bundle, _))) = scan {
        write_atomically(path, &scan_bundle.to_json())?;
    }
    if args.output_args.json {
        print_json(&serde_json::json!({
            "digest": digest,
            "signature": output,
            "key_type": key.key_type().to_string(),
            "key_hint": key.public_key().hint(),
            "serialization": serialization,
            "files": built.stats.files,
            "card_signature": card_bundle.as_ref().map(|_| &card_output),
            "sbom_signature": sbom_bundle.as_ref().map(|_| &sbom_output),
            "scan_signature": scan.map(|(path, _)| path),
            "scan_passed": scan.map(|(_, (_, passed))| passed),
            "warnings": warnings,
        }));
    } else {
        warn_all(&warnings, args.output_args.quiet);
        if to_stdout {
            errln!("{digest}");
        } else {
            outln!("{digest}");
        }
        if !args.output_args.quiet {
            errln!(
                "signed {} with {} key {}; signature written to {}",
                show(&args.path),
                key.key_type(),
                show(&args.key),
                show(&output)
            );
            if card_bundle.is_some() {
                errln!("card signature written to {}", show(&card_output));
            }
            if sbom_bundle.is_some() {
                errln!("SBOM signature written to {}", show(&sbom_output));
            }
            if let Some((path, (_, passed))) = scan {
                errln!(
                    "scan report signature written to {} ({})",
                    show(path),
                    if *passed {
                        "the scan passed"
                    } else {
                        "the scan found files NOT SAFE TO LOAD; the signed report says so"
                    }
                );
            }
        }
    }
    Ok(Outcome::Ok)
}

fn show(path: &Path) -> std::path::Display<'_> {
    path.display()
}

/// `sign FILE --raw`: the signature bytes alone, as openssl writes them.
fn sign_raw(args: &SignArgs, key: &PrivateKey) -> Result<Outcome> {
    if !args.serialization.is_default() {
        return Err(Error::Usage(
            "hashing options do not apply to --raw signatures".into(),
        ));
    }
    let output = args.output.clone().unwrap_or_else(|| {
        let mut name = args.path.clone().into_os_string();
        name.push(".sig");
        PathBuf::from(name)
    });
    refuse_replacing_input(&output, &[&args.path, &args.key])?;
    let signature = sign_file(&args.path, key)?;
    write_output(Some(&output), &signature)?;
    if args.output_args.json {
        print_json(&serde_json::json!({
            "file": args.path,
            "signature": output,
            "key_type": key.key_type().to_string(),
            "scheme": key.key_type().detached_scheme(),
        }));
    } else if !args.output_args.quiet {
        errln!(
            "signed {} ({}); signature written to {}",
            show(&args.path),
            key.key_type().detached_scheme(),
            show(&output)
        );
    }
    Ok(Outcome::Ok)
}
