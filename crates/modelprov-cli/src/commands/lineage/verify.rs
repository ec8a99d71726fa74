//! `lineage verify NAME@VERSION`: the chain of records to the roots, and optionally the bytes.

use std::path::PathBuf;

use clap::Args;
use modelprov::Result;
use modelprov::lineage::{LinkProblem, verify_chain};
use serde_json::json;

use super::{RegistryArgs, find};
use crate::exit::Outcome;
use crate::model_build::build_card_model_manifest;
use crate::output::print_json;

#[derive(Args, Debug)]
pub struct LineageVerifyArgs {
    /// NAME@VERSION, or NAME for its newest version.
    pub id: String,

    /// A public key whose signatures you trust; repeatable. Records not signed by one fail.
    #[arg(long = "key", value_name = "FILE")]
    pub keys: Vec<PathBuf>,

    /// Trust the signers of this trust policy, each for the model names it lists
    /// (docs/trust-policy.md).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Also check that this model folder hashes to the recorded digest.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,

    #[command(flatten)]
    pub registry: RegistryArgs,

    #[arg(long)]
    pub json: bool,
}

pub fn run(args: LineageVerifyArgs) -> Result<Outcome> {
    let trusted = crate::trust_args::policy_or_keys(args.policy.as_ref(), &args.keys)?;
    let store = args.registry.open_read_only()?;
    let entry = find(&*store, &args.id, store.location())?;
    let report = verify_chain(&*store, &entry.record.digest, &trusted)?;
    let model = match &args.model {
        Some(dir) => {
            let mut warnings = Vec::new();
            let built = build_card_model_manifest(dir, None, true, &mut warnings)?;
            Some((dir, built.manifest.root_digest()))
        }
        None => None,
    };
    let model_ok = model
        .as_ref()
        .is_none_or(|(_, digest)| *digest == entry.record.digest);
    let ok = report.ok && model_ok;
    if args.json {
        print_json(&json!({
            "id": entry.record.id(),
            "ok": ok,
            "chain": report,
            "model": model.as_ref().map(|(dir, digest)| json!({"path": dir, "digest": digest, "matches": model_ok})),
        }));
    } else {
        for link in &report.links {
            let id = link.id.clone().unwrap_or_else(|| "(not recorded)".into());
            match &link.problem {
                None => outln!("  ok        {id} {}", link.digest),
                Some(LinkProblem::NotRecorded { child }) => {
                    outln!(
                        "  MISSING   {} (a parent of {child}) has no record: the chain is broken here",
                        link.digest
                    );
                }
                Some(LinkProblem::Unsigned) => outln!("  UNSIGNED  {id} {}", link.digest),
                Some(LinkProblem::BadSignature(problem)) => {
                    outln!("  BAD       {id} {}: {problem}", link.digest);
                }
            }
        }
        if let Some((dir, digest)) = &model {
            if model_ok {
                outln!("  ok        {} hashes to {digest}", dir.display());
            } else {
                outln!(
                    "  MISMATCH  {} hashes to {digest}, not the recorded {}",
                    dir.display(),
                    entry.record.digest
                );
            }
        }
        let links = report.links.len();
        if ok {
            outln!(
                "OK: {} and its {} ancestor record(s) verify",
                entry.record.id(),
                links - 1
            );
        } else {
            outln!(
                "FAILED: the lineage of {} does not verify",
                entry.record.id()
            );
        }
    }
    Ok(if ok {
        Outcome::Ok
    } else {
        Outcome::VerificationFailed
    })
}
