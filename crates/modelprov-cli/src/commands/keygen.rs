//! `modelprov keygen`: a new signing key pair.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use modelprov::Result;
use modelprov::keys::{KeyType, write_key_pair};

use crate::args::PassphraseArgs;
use crate::exit::Outcome;
use crate::output::print_json;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum KeyTypeArg {
    P256,
    P384,
    P521,
    Ed25519,
    Rsa3072,
    Rsa4096,
}

impl From<KeyTypeArg> for KeyType {
    fn from(value: KeyTypeArg) -> Self {
        match value {
            KeyTypeArg::P256 => KeyType::EcdsaP256,
            KeyTypeArg::P384 => KeyType::EcdsaP384,
            KeyTypeArg::P521 => KeyType::EcdsaP521,
            KeyTypeArg::Ed25519 => KeyType::Ed25519,
            KeyTypeArg::Rsa3072 => KeyType::Rsa(3072),
            KeyTypeArg::Rsa4096 => KeyType::Rsa(4096),
        }
    }
}

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Key type; OMS signatures that model_signing can verify need an EC key (p256, p384, p521).
    #[arg(long = "type", short = 't', value_enum, default_value = "p256")]
    pub key_type: KeyTypeArg,

    /// Private key file (PKCS#8 PEM, mode 0600).
    #[arg(long, value_name = "FILE", default_value = "modelprov.key")]
    pub private_key: PathBuf,

    /// Public key file (SPKI PEM) [default: the private key's name + .pub].
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<PathBuf>,

    /// Replace existing key files.
    #[arg(long)]
    pub force: bool,

    /// Print one JSON object on stdout instead of text.
    #[arg(long)]
    pub json: bool,

    /// No warning on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

pub fn run(args: KeygenArgs) -> Result<Outcome> {
    let passphrase = args.passphrase.read()?;
    let written = write_key_pair(
        args.key_type.into(),
        &args.private_key,
        args.public_key.as_deref(),
        passphrase.as_deref().map(Vec::as_slice),
        args.force,
    )?;
    let key = &written.key;
    let public = key.public_key();
    let public_path = &written.public_key;
    if args.json {
        print_json(&serde_json::json!({
            "type": key.key_type().to_string(),
            "private_key": args.private_key,
            "public_key": public_path,
            "encrypted": passphrase.is_some(),
            "hint": public.hint(),
        }));
    } else {
        outln!(
            "{} key pair: {} (private{}), {} (public, hint {})",
            key.key_type(),
            args.private_key.display(),
            if passphrase.is_some() {
                ", encrypted"
            } else {
                ""
            },
            public_path.display(),
            public.hint()
        );
        if !key.key_type().oms_compatible() && !args.quiet {
            errln!(
                "warning: model_signing verifies OMS signatures from EC keys (P-256, P-384, P-521) only"
            );
        }
    }
    Ok(Outcome::Ok)
}
