//! `modelprov policy new` and `policy show`: write and read a team's trust policy
//! (docs/trust-policy.md).

use std::path::{Path, PathBuf};

use clap::{ArgMatches, Args, Subcommand};
use modelprov::keys::PublicKey;
use modelprov::trust_policy::{Entry, Signer, TrustPolicy};
use modelprov::x509::{certificates_pem, read_certificates};
use modelprov::{Error, Result};
use serde_json::json;

use crate::exit::Outcome;
use crate::output::print_json;

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Write a trust policy from signer options, in the order given.
    New(PolicyNewArgs),
    /// Print a trust policy: every signer and the models it is trusted for.
    Show(PolicyShowArgs),
}

#[derive(Args, Debug)]
pub struct PolicyNewArgs {
    /// Where to write the policy.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,

    /// Trust this public key (PEM); repeatable.
    #[arg(long = "key", value_name = "PUB")]
    pub keys: Vec<PathBuf>,

    /// Trust certificates issued under these root certificates (PEM); repeatable.
    #[arg(long = "certificate-root", value_name = "PEM")]
    pub certificate_roots: Vec<PathBuf>,

    /// Trust this keyless identity (certificate SAN), exactly; the --issuer after it names its
    /// issuer. Repeatable.
    #[arg(long = "identity", value_name = "SAN")]
    pub identities: Vec<String>,

    /// Trust keyless identities matching this regular expression (the whole SAN); the --issuer
    /// after it names its issuer. Repeatable.
    #[arg(long = "identity-regex", value_name = "REGEX")]
    pub identity_regexes: Vec<String>,

    /// The OIDC issuer of the --identity or --identity-regex just before it.
    #[arg(long = "issuer", value_name = "URL")]
    pub issuers: Vec<String>,

    /// Scope the signer just before it to model names matching GLOB (`*` within one
    /// `/`-separated part, `**` across them); repeatable. A signer without --models is trusted
    /// for every model.
    #[arg(long = "models", value_name = "GLOB")]
    pub models: Vec<String>,

    /// Keyless identities are certified by the Sigstore staging instance (all of them).
    #[arg(long)]
    pub staging: bool,

    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct PolicyShowArgs {
    /// The policy file.
    pub file: PathBuf,

    #[arg(long)]
    pub json: bool,
}

pub fn run(command: PolicyCommand, matches: Option<&ArgMatches>) -> Result<Outcome> {
    match command {
        PolicyCommand::New(args) => run_new(args, matches),
        PolicyCommand::Show(args) => run_show(args),
    }
}

/// A signer option as given, with its place on the command line.
enum Given<'a> {
    Key(&'a Path),
    Root(&'a Path),
    Identity(&'a str),
    IdentityRegex(&'a str),
    Issuer(&'a str),
    Models(&'a str),
}

/// The options in command-line order, which decides what each --issuer and --models belong to.
fn in_order<'a>(args: &'a PolicyNewArgs, matches: Option<&ArgMatches>) -> Vec<Given<'a>> {
    let mut given: Vec<(usize, Given<'a>)> = Vec::new();
    let indices = |id: &str, count: usize| -> Vec<usize> {
        matches
            .and_then(|m| m.indices_of(id))
            .map_or_else(|| (0..count).collect(), std::iter::Iterator::collect)
    };
    let mut add = |id: &str, items: Vec<Given<'a>>| {
        let places = indices(id, items.len());
        given.extend(places.into_iter().zip(items));
    };
    add("keys", args.keys.iter().map(|p| Given::Key(p)).collect());
    add(
        "certificate_roots",
        args.certificate_roots
            .iter()
            .map(|p| Given::Root(p))
            .collect(),
    );
    add(
        "identities",
        args.identities.iter().map(|s| Given::Identity(s)).collect(),
    );
    add(
        "identity_regexes",
        args.identity_regexes
            .iter()
            .map(|s| Given::IdentityRegex(s))
            .collect(),
    );
    add(
        "issuers",
        args.issuers.iter().map(|s| Given::Issuer(s)).collect(),
    );
    add(
        "models",
        args.models.iter().map(|s| Given::Models(s)).collect(),
    );
    given.sort_by_key(|(place, _)| *place);
    given.into_iter().map(|(_, g)| g).collect()
}

fn run_new(args: PolicyNewArgs, matches: Option<&ArgMatches>) -> Result<Outcome> {
    if std::fs::symlink_metadata(&args.output).is_ok() && !args.force {
        return Err(Error::Usage(format!(
            "{} exists; pass --force to replace it",
            args.output.display()
        )));
    }
    let usage = |text: &str| Error::Usage(text.to_string());
    let mut entries: Vec<Entry> = Vec::new();
    for given in in_order(&args, matches) {
        match given {
            Given::Key(path) => entries.push(Entry {
                key: Some(PublicKey::read(path)?.to_pem()),
                ..Entry::default()
            }),
            Given::Root(path) => {
                let pem = certificates_pem(&read_certificates(path)?);
                entries.push(Entry {
                    certificate_root: Some(pem),
                    ..Entry::default()
                });
            }
            Given::Identity(identity) => entries.push(Entry {
                identity: Some(identity.to_string()),
                instance: args.staging.then(|| "staging".to_string()),
                ..Entry::default()
            }),
            Given::IdentityRegex(pattern) => entries.push(Entry {
                identity_regex: Some(pattern.to_string()),
                instance: args.staging.then(|| "staging".to_string()),
                ..Entry::default()
            }),
            Given::Issuer(issuer) => match entries.last_mut() {
                Some(entry)
                    if (entry.identity.is_some() || entry.identity_regex.is_some())
                        && entry.issuer.is_none() =>
                {
                    entry.issuer = Some(issuer.to_string());
                }
                _ => {
                    return Err(usage(
                        "each --issuer follows the --identity or --identity-regex it belongs to",
                    ));
                }
            },
            Given::Models(glob) => match entries.last_mut() {
                Some(entry) => entry.models.push(glob.to_string()),
                None => {
                    return Err(usage(
                        "--models scopes the signer option before it; give a signer first",
                    ));
                }
            },
        }
    }
    if entries.is_empty() {
        return Err(usage(
            "a policy needs at least one signer: --key, --certificate-root, or --identity with --issuer",
        ));
    }
    if args.staging && !entries.iter().any(|e| e.instance.is_some()) {
        return Err(usage(
            "--staging applies to keyless identities; none was given",
        ));
    }
    // Every entry is checked as `policy show` and the verifiers will read it, before writing.
    let base = args.output.parent().unwrap_or(Path::new("."));
    let signers = entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            TrustPolicy::signer_from(entry, base).map_err(|e| match e {
                Error::Usage(problem) => Error::Usage(format!("signer {}: {problem}", index + 1)),
                other => other,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let policy = TrustPolicy::from_signers(signers);
    modelprov::fsutil::write_atomically(&args.output, policy.to_toml().as_bytes())?;
    errln!(
        "wrote {} with {} signer(s)",
        args.output.display(),
        policy.signers().len()
    );
    Ok(Outcome::Ok)
}

fn run_show(args: PolicyShowArgs) -> Result<Outcome> {
    let policy = TrustPolicy::read(&args.file)?;
    if args.json {
        let signers: Vec<_> = policy
            .signers()
            .iter()
            .map(|s| {
                let mut value = match &s.signer {
                    Signer::Key(key) => json!({
                        "kind": "key",
                        "key_type": key.key_type().to_string(),
                        "hint": key.hint(),
                        "log_root": null,
                    }),
                    Signer::LoggedKey(key, root) => json!({
                        "kind": "key",
                        "key_type": key.key_type().to_string(),
                        "hint": key.hint(),
                        "log_root": root.instance().to_string(),
                    }),
                    Signer::CertificateRoots(_) => json!({
                        "kind": "certificate_root",
                        "roots": s.signer.to_string(),
                    }),
                    Signer::Keyless(keyless) => json!({
                        "kind": "keyless",
                        "identity": keyless.identity,
                        "issuer": keyless.issuer,
                        "instance": keyless.root.instance().to_string(),
                    }),
                    other => json!({ "kind": other.kind(), "signer": other.to_string() }),
                };
                value["models"] = json!(s.models);
                value
            })
            .collect();
        print_json(&json!({ "file": args.file, "signers": signers }));
        return Ok(Outcome::Ok);
    }
    outln!(
        "{}: {} signer(s)",
        args.file.display(),
        policy.signers().len()
    );
    for (index, signer) in policy.signers().iter().enumerate() {
        let scope = if signer.models.is_empty() {
            "every model".to_string()
        } else {
            format!("models {}", signer.models.join(", "))
        };
        outln!(
            "  {}. {}: {} — {scope}",
            index + 1,
            signer.signer.kind(),
            signer.signer
        );
    }
    Ok(Outcome::Ok)
}
