//! `lineage sign NAME@VERSION --key FILE`: sign a record stored unsigned.

use std::path::PathBuf;

use clap::Args;
use modelprov::keys::PrivateKey;
use modelprov::lineage::{SignOutcome, sign_record, split_id};
use modelprov::{Error, Result};
use serde_json::json;

use super::{RegistryArgs, find};
use crate::args::PassphraseArgs;
use crate::exit::Outcome;
use crate::output::print_json;

#[derive(Args, Debug)]
pub struct SignArgs {
    /// NAME@VERSION of the record to sign (the version is required: signing vouches for one
    /// record).
    pub id: String,

    /// The private key to sign with.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,

    #[command(flatten)]
    pub passphrase: PassphraseArgs,

    #[command(flatten)]
    pub registry: RegistryArgs,

    #[arg(long)]
    pub json: bool,
}

pub fn run(args: SignArgs) -> Result<Outcome> {
    if split_id(&args.id).1.is_none() {
        return Err(Error::Usage(format!(
            "lineage sign: give NAME@VERSION, not '{}': signing vouches for one record",
            args.id
        )));
    }
    let key = PrivateKey::read(
        &args.key,
        args.passphrase.read()?.as_deref().map(Vec::as_slice),
    )?;
    let mut store = args.registry.open(false)?;
    let registry = store.location().to_path_buf();
    let entry = find(&*store, &args.id, &registry)?;
    let outcome = sign_record(&mut *store, &entry, &key, &registry)?;
    let id = entry.record.id();
    if args.json {
        print_json(&json!({
            "id": id,
            "digest": entry.record.digest,
            "signed": outcome == SignOutcome::Signed,
            "registry": registry,
        }));
    } else {
        match outcome {
            SignOutcome::Signed => outln!(
                "signed {id} ({}) in {}",
                entry.record.digest,
                registry.display()
            ),
            SignOutcome::AlreadySigned => {
                outln!("{id} is already signed with this key; nothing changed");
            }
        }
    }
    Ok(Outcome::Ok)
}
