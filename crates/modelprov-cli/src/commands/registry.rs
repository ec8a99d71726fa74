//! The client commands of a registry server (docs/registry.md): `namespace create`, `token
//! create`, `publish` and `yank`. The server checks every rule; these send and print.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use modelprov::lineage::{REGISTRY_ENV, split_id};
use modelprov::{Error, Result};
use modelprov_registry::Publication;
use modelprov_registry::client::{Client, TOKEN_ENV, is_server_url};
use modelprov_registry::token::{stage_secret_file, write_secret_file};
use serde_json::json;

use crate::exit::Outcome;
use crate::output::print_json;

/// The longest token file read.
const TOKEN_FILE_BYTES: u64 = 4096;

/// A client of the server at `url`, with the token from `token_file`, else `$MODELPROV_TOKEN`.
pub fn client(url: &str, token_file: Option<&Path>) -> Result<Client> {
    let token = match token_file {
        Some(file) => Some(
            modelprov::fsutil::read_capped_string(file, TOKEN_FILE_BYTES, "a token file")?
                .trim()
                .to_string(),
        ),
        None => std::env::var(TOKEN_ENV)
            .ok()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty()),
    };
    Client::new(url, token)
}

/// Which server, and as whom.
#[derive(Args, Debug, Clone)]
pub struct ServerArgs {
    /// The registry server: http://HOST[:PORT] [default: $MODELPROV_REGISTRY].
    #[arg(long, value_name = "URL", env = REGISTRY_ENV)]
    pub registry: String,

    /// The file holding the token [default: the token in $MODELPROV_TOKEN].
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// Print the server's answer as JSON.
    #[arg(long)]
    pub json: bool,
}

impl ServerArgs {
    fn client(&self) -> Result<Client> {
        if !is_server_url(&self.registry) {
            return Err(Error::Usage(format!(
                "--registry '{}' is not a registry server (http://HOST[:PORT]): this command talks to a server",
                self.registry
            )));
        }
        client(&self.registry, self.token_file.as_deref())
    }
}

#[derive(Subcommand, Debug)]
pub enum NamespaceCommand {
    /// Create a namespace with the trust policy its statements must be signed under (the
    /// server's admin token).
    Create(NamespaceCreateArgs),
}

#[derive(Args, Debug)]
pub struct NamespaceCreateArgs {
    /// The namespace: lowercase letters, digits, '-', '_' and '.'.
    pub name: String,

    /// The trust policy (TOML, docs/trust-policy.md); it may not name files.
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,

    /// Let anyone read the namespace's models and statements without a token.
    #[arg(long)]
    pub anonymous_read: bool,

    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token with a role in a namespace and write it to a file (mode 0600).
    Create(TokenCreateArgs),
}

#[derive(Args, Debug)]
pub struct TokenCreateArgs {
    /// The namespace the token is for.
    #[arg(long, value_name = "NS")]
    pub namespace: String,

    /// Its role there: reader, publisher or admin.
    #[arg(long, value_name = "ROLE", value_parser = ["reader", "publisher", "admin"])]
    pub role: String,

    /// What the token is for, shown in the audit log.
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub label: String,

    /// Where to write the token: a new file, never an existing one.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,

    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Args, Debug)]
pub struct PublishArgs {
    /// The version to publish: NAMESPACE/NAME@VERSION.
    pub id: String,

    /// The model's OMS signature (`modelprov sign`, `model_signing sign`).
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,

    /// The model card's signature (`modelprov sign --card-signature`).
    #[arg(long, value_name = "FILE")]
    pub card_signature: Option<PathBuf>,

    /// An SBOM's signature (`modelprov sign --sbom-signature`); repeatable.
    #[arg(long, value_name = "FILE")]
    pub sbom_signature: Vec<PathBuf>,

    /// The scan report's signature (`modelprov sign --scan-signature`).
    #[arg(long, value_name = "FILE")]
    pub scan_signature: Option<PathBuf>,

    /// Any other signed statement about the model (a lineage record's bundle); repeatable.
    #[arg(long, value_name = "FILE")]
    pub statement: Vec<PathBuf>,

    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Args, Debug)]
pub struct YankArgs {
    /// The version to yank: NAMESPACE/NAME@VERSION.
    pub id: String,

    /// Why (kept with the version, shown to everyone who looks it up).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,

    #[command(flatten)]
    pub server: ServerArgs,
}

pub fn run_namespace(command: NamespaceCommand) -> Result<Outcome> {
    let NamespaceCommand::Create(args) = command;
    let policy = modelprov::fsutil::read_capped_string(&args.policy, 64 << 10, "a trust policy")?;
    // The server checks it too; checking here names the file in the message.
    modelprov::trust_policy::TrustPolicy::parse(&policy, &args.policy, None)?;
    let answer =
        args.server
            .client()?
            .create_namespace(&args.name, &policy, args.anonymous_read)?;
    if args.server.json {
        print_json(&answer);
    } else {
        outln!(
            "created namespace {}{}",
            args.name,
            if args.anonymous_read {
                " (readable without a token)"
            } else {
                ""
            }
        );
    }
    Ok(Outcome::Ok)
}

pub fn run_token(command: TokenCommand) -> Result<Outcome> {
    let TokenCommand::Create(args) = command;
    let client = args.server.client()?;
    // Staged first: a path that cannot be written fails before a token exists.
    let pending = stage_secret_file(&args.output)?;
    let (token, secret) = client.create_token(&args.namespace, &args.role, &args.label)?;
    write_secret_file(pending, &secret).map_err(|e| {
        Error::Usage(format!(
            "{e}; token {} was created but not kept: revoke it (DELETE /v1/tokens/{})",
            token["id"], token["id"]
        ))
    })?;
    if args.server.json {
        print_json(&json!({"token": token, "file": args.output}));
    } else {
        outln!(
            "token {} ({} of {}) written to {} (mode 0600)",
            token["id"],
            args.role,
            args.namespace,
            args.output.display()
        );
    }
    Ok(Outcome::Ok)
}

/// `NAMESPACE/NAME@VERSION`, split.
fn version_id(id: &str) -> Result<(&str, &str)> {
    match split_id(id) {
        (name, Some(version)) if name.contains('/') => Ok((name, version)),
        _ => Err(Error::Usage(format!(
            "'{id}' is not NAMESPACE/NAME@VERSION"
        ))),
    }
}

pub fn run_publish(args: PublishArgs) -> Result<Outcome> {
    let (name, version) = version_id(&args.id)?;
    let files: Vec<&PathBuf> = args
        .signature
        .iter()
        .chain(&args.card_signature)
        .chain(&args.sbom_signature)
        .chain(&args.scan_signature)
        .chain(&args.statement)
        .collect();
    if files.is_empty() {
        return Err(Error::Usage(
            "publish needs at least one signed statement (--signature, --card-signature, --sbom-signature, --scan-signature or --statement)".into(),
        ));
    }
    let bundles = files
        .iter()
        .map(|file| {
            // The server's body limit, so that a bundle it would refuse is named here instead of
            // being cut off mid-upload.
            modelprov::fsutil::read_capped_string(
                file,
                modelprov_registry::http::MAX_PUBLISH_BYTES as u64,
                "a statement to publish",
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let client = args.server.client()?;
    let published = client.publish(&[Publication {
        name: name.to_string(),
        version: version.to_string(),
        bundles,
    }])?;
    let Some(answer) = published.first() else {
        return Err(Error::invalid(
            PathBuf::from(client.url()),
            "the server's answer names no publication",
        ));
    };
    // The server reads each statement's kind from its content: a file given as the wrong kind
    // is stored as what it is, and said so.
    let expected = args
        .signature
        .iter()
        .map(|_| "signature")
        .chain(args.card_signature.iter().map(|_| "card"))
        .chain(args.sbom_signature.iter().map(|_| "sbom"))
        .chain(args.scan_signature.iter().map(|_| "scan"));
    for ((file, expected), kind) in files.iter().zip(expected).zip(
        answer["kinds"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default(),
    ) {
        if kind.as_str() != Some(expected) {
            errln!(
                "warning: {}",
                format!(
                    "{} was given as a {expected} statement but is a {} statement; it was published as what it is",
                    file.display(),
                    kind.as_str().unwrap_or("unknown")
                )
            );
        }
    }
    if args.server.json {
        print_json(answer);
    } else {
        outln!(
            "published {}@{} ({}): {} statement(s) added, {} already there{}",
            name,
            version,
            answer["digest"].as_str().unwrap_or_default(),
            answer["added"],
            answer["unchanged"],
            if answer["new_version"] == true {
                ", new version"
            } else {
                ""
            }
        );
    }
    Ok(Outcome::Ok)
}

pub fn run_yank(args: YankArgs) -> Result<Outcome> {
    let (name, version) = version_id(&args.id)?;
    let answer = args.server.client()?.yank(name, version, &args.reason)?;
    if args.server.json {
        print_json(&answer);
    } else {
        outln!(
            "yanked {name}@{version} at {}: {}",
            answer["at"].as_str().unwrap_or_default(),
            answer["reason"].as_str().unwrap_or_default()
        );
    }
    Ok(Outcome::Ok)
}
