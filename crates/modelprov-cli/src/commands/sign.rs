//! `modelprov sign PATH --key PRIVATE`: an OMS signature file for a model.

use std::path::{Path, PathBuf};

use clap::Args;
use modelprov::fsutil::write_atomically;
use modelprov::hashing::HashAlgorithm;
use modelprov::keys::PrivateKey;
use modelprov::manifest::Method;
use modelprov::signing::{sign_file, sign_manifest};
use modelprov::x509::read_certificates;
use modelprov::{Error, Result};

use crate::args::{CacheArgs, OutputArgs, PassphraseArgs, SerializationArgs};
use crate::exit::Outcome;
use crate::model_build::build_identified_manifest;
use crate::output::{print_json, warn_all};

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
    let (serialization, mut warnings) = args
        .serialization
        .resolve(&args.path, &[output.as_path()])?;
    if !key.key_type().oms_compatible() {
        warnings.push(format!(
            "{} signatures verify with modelprov, but model_signing accepts EC keys (P-256, P-384, P-521) only",
            key.key_type()
        ));
    }
    if serialization.method != Method::Files || serialization.algorithm != HashAlgorithm::Sha256 {
        warnings.push(
            "model_signing's CLI verifies whole-file SHA-256 signatures only; this one verifies with modelprov and the model_signing API".into(),
        );
    }
    let built = build_identified_manifest(
        &args.path,
        &serialization,
        &args.cache,
        args.output_args.quiet,
        "sign",
        &mut warnings,
    )?;
    let mut certificates = Vec::new();
    for file in args.certificate.iter().chain(&args.certificate_chain) {
        certificates.extend(read_certificates(file)?);
    }
    let bundle = sign_manifest(&built.manifest, &key, &certificates)?;
    write_atomically(&output, &bundle.to_json())?;
    let digest = built.manifest.root_digest();
    if args.output_args.json {
        print_json(&serde_json::json!({
            "digest": digest,
            "signature": output,
            "key_type": key.key_type().to_string(),
            "key_hint": key.public_key().hint(),
            "serialization": serialization,
            "files": built.stats.files,
            "warnings": warnings,
        }));
    } else {
        warn_all(&warnings, args.output_args.quiet);
        println!("{digest}");
        if !args.output_args.quiet {
            eprintln!(
                "signed {} with {} key {}; signature written to {}",
                show(&args.path),
                key.key_type(),
                show(&args.key),
                show(&output)
            );
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
    let signature = sign_file(&args.path, key)?;
    write_atomically(&output, &signature)?;
    if args.output_args.json {
        print_json(&serde_json::json!({
            "file": args.path,
            "signature": output,
            "key_type": key.key_type().to_string(),
            "scheme": key.key_type().detached_scheme(),
        }));
    } else if !args.output_args.quiet {
        eprintln!(
            "signed {} ({}); signature written to {}",
            show(&args.path),
            key.key_type().detached_scheme(),
            show(&output)
        );
    }
    Ok(Outcome::Ok)
}
