//! A client of a registry server: the administration and publishing calls, and
//! [`RemoteStore`], the lineage [`Store`] over the HTTP API, so every `lineage` command works
//! against a server exactly as against a file. The client trusts nothing the server says about
//! a record beyond its bytes: each Statement is parsed and checked here, as from a file, and
//! `lineage verify` checks each signature itself.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use modelprov::digest::RootDigest;
use modelprov::lineage::{
    Edge, Entry, InsertOutcome, Node, Relation, Store, Subgraph, parse_lineage_statement,
};
use modelprov::{Error, Result};
use serde_json::{Value, json};

use crate::publish::Publication;

/// The environment variable holding a registry token (`--token-file` wins).
pub const TOKEN_ENV: &str = "MODELPROV_TOKEN";

/// The environment variable naming a PEM file of the certificate authorities an `https://`
/// registry's certificate is checked against (a team's own CA); Mozilla's roots otherwise.
pub const REGISTRY_CA_ENV: &str = "MODELPROV_REGISTRY_CA";

/// TLS through rustls on AWS-LC, trusting `$MODELPROV_REGISTRY_CA` or Mozilla's roots.
fn tls_config() -> Result<ureq::tls::TlsConfig> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject as _;
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(provider);
    if let Some(file) = std::env::var_os(REGISTRY_CA_ENV) {
        let path = PathBuf::from(file);
        let pem = modelprov::fsutil::read_capped(&path, 1 << 20, "a CA certificate file")?;
        let roots = CertificateDer::pem_slice_iter(&pem)
            .map(|der| der.map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::invalid_because(&path, "not PEM certificates", e))?;
        if roots.is_empty() {
            return Err(Error::invalid(&path, "no PEM certificate in it"));
        }
        config = config.root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)));
    }
    Ok(config.build())
}

/// How long a request may take before the client gives up: the server bounds its own work to
/// [`crate::REQUEST_TIMEOUT`], so this only ends a server or network that stopped answering.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether `text` names a registry server rather than a file.
pub fn is_server_url(text: &str) -> bool {
    text.starts_with("http://") || text.starts_with("https://")
}

/// A registry server's error answer.
#[derive(Debug, thiserror::Error)]
#[error("{message} ({code}, HTTP {status})")]
pub struct ServerError {
    /// The HTTP status.
    pub status: u16,
    /// The stable error code (`not_trusted`, `forbidden`, ...).
    pub code: String,
    /// The server's message.
    pub message: String,
}

/// A connection to a registry server.
pub struct Client {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl Client {
    /// A client of the server at `url` (`http://host:port`), with `token` when given.
    ///
    /// # Errors
    /// [`Error::Usage`] for a URL that is not `http://` or `https://`.
    pub fn new(url: &str, token: Option<String>) -> Result<Client> {
        if !is_server_url(url) {
            return Err(Error::Usage(format!(
                "'{url}' is not a registry server URL (http://HOST[:PORT] or https://...)"
            )));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(CLIENT_TIMEOUT))
            .tls_config(tls_config()?)
            .build()
            .new_agent();
        Ok(Client {
            base: url.trim_end_matches('/').to_string(),
            token,
            agent,
        })
    }

    /// The server's URL: what errors name.
    pub fn url(&self) -> &str {
        &self.base
    }

    fn location(&self, path: &str) -> PathBuf {
        PathBuf::from(format!("{}{path}", self.base))
    }

    /// Sends a request and reads its JSON answer; an error answer becomes the library's error.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let location = self.location(path);
        let unreachable = |e: ureq::Error| Error::Database {
            path: location.clone(),
            context: "cannot reach the registry server",
            source: Box::new(e),
        };
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let built = match body {
            None => request.body(()).map(|r| self.agent.run(r)),
            Some(body) => request
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .map(|r| self.agent.run(r)),
        };
        let response = built
            .map_err(|e| Error::Usage(format!("{url}: not a request that can be sent: {e}")))?
            .map_err(unreachable)?;
        read_answer(response, &location)
    }

    /// Creates a namespace (the server's admin token).
    ///
    /// # Errors
    /// As the server answers.
    pub fn create_namespace(
        &self,
        name: &str,
        policy: &str,
        anonymous_read: bool,
    ) -> Result<Value> {
        self.call(
            "POST",
            "/v1/namespaces",
            Some(&json!({"name": name, "policy": policy, "anonymous_read": anonymous_read})),
        )
    }

    /// Creates a token with `role` in `namespace`: its description and its secret.
    ///
    /// # Errors
    /// As the server answers.
    pub fn create_token(
        &self,
        namespace: &str,
        role: &str,
        label: &str,
    ) -> Result<(Value, String)> {
        let answer = self.call(
            "POST",
            &format!("/v1/namespaces/{namespace}/tokens"),
            Some(&json!({"role": role, "label": label})),
        )?;
        let secret = answer["secret"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| {
                Error::invalid(
                    self.location("/v1/namespaces"),
                    "the server's answer holds no token",
                )
            })?;
        Ok((answer["token"].clone(), secret))
    }

    /// Publishes versions with their signed statements, all or nothing.
    ///
    /// # Errors
    /// As the server answers (a statement it does not trust: `InvalidInput` naming why).
    pub fn publish(&self, publications: &[Publication]) -> Result<Vec<Value>> {
        let body = json!({"publications": publications.iter().map(|p| json!({
            "name": p.name,
            "version": p.version,
            "statements": p.bundles,
        })).collect::<Vec<_>>()});
        let answer = self.call("POST", "/v1/publish", Some(&body))?;
        Ok(answer["published"].as_array().cloned().unwrap_or_default())
    }

    /// Yanks `name@version` with `reason`.
    ///
    /// # Errors
    /// As the server answers.
    pub fn yank(&self, name: &str, version: &str, reason: &str) -> Result<Value> {
        self.call(
            "POST",
            "/v1/yank",
            Some(&json!({"name": name, "version": version, "reason": reason})),
        )
    }

    /// What the server knows about `digest`; `None` when nothing visible to this token.
    ///
    /// # Errors
    /// As the server answers.
    pub fn about(&self, digest: &RootDigest) -> Result<Option<Value>> {
        not_found_is_none(self.call("GET", &format!("/v1/digests/{digest}"), None))
    }

    fn entries(&self, query: &str) -> Result<(Vec<Entry>, Option<i64>)> {
        let path = format!("/v1/lineage/records?{query}");
        let answer = self.call("GET", &path, None)?;
        let location = self.location(&path);
        let entries = answer["entries"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|value| entry_from(value, &location))
            .collect::<Result<Vec<_>>>()?;
        Ok((entries, answer["next"].as_i64()))
    }

    fn graph(&self, digest: &RootDigest, direction: &str) -> Result<Subgraph> {
        let path = format!("/v1/lineage/graph?digest={digest}&direction={direction}");
        let answer = self.call("GET", &path, None)?;
        subgraph_from(&answer, &self.location(&path))
    }
}

fn not_found_is_none(answer: Result<Value>) -> Result<Option<Value>> {
    match answer {
        Ok(value) => Ok(Some(value)),
        Err(Error::InvalidInput {
            source: Some(source),
            ..
        }) if source
            .downcast_ref::<ServerError>()
            .is_some_and(|e| e.status == 404) =>
        {
            Ok(None)
        }
        Err(other) => Err(other),
    }
}

/// The JSON of an answer, or the error it carries.
fn read_answer(mut response: ureq::http::Response<ureq::Body>, location: &Path) -> Result<Value> {
    let status = response.status().as_u16();
    let value: Value = response
        .body_mut()
        .with_config()
        .limit(256 << 20)
        .read_json()
        .map_err(|e| Error::invalid_because(location, "the server's answer is not JSON", e))?;
    if status < 400 {
        return Ok(value);
    }
    let error = ServerError {
        status,
        code: value["error"]["code"]
            .as_str()
            .unwrap_or("unknown")
            .to_string(),
        message: value["error"]["message"]
            .as_str()
            .unwrap_or("(no message)")
            .to_string(),
    };
    Err(match status {
        401 | 403 => Error::Usage(format!(
            "{}: {error}{}",
            location.display(),
            if status == 401 {
                " (give a token with --token-file or MODELPROV_TOKEN)"
            } else {
                ""
            }
        )),
        400..=499 => Error::InvalidInput {
            path: location.to_path_buf(),
            problem: format!("refused by the registry: {error}"),
            source: Some(Box::new(error)),
        },
        _ => Error::Database {
            path: location.to_path_buf(),
            context: "the registry server failed",
            source: Box::new(error),
        },
    })
}

/// An entry from the API, checked as from a file: the Statement bytes are parsed here.
fn entry_from(value: &Value, location: &Path) -> Result<Entry> {
    let bytes = |field: &str| -> Result<Option<Vec<u8>>> {
        value[field]
            .as_str()
            .map(|text| {
                STANDARD.decode(text).map_err(|e| {
                    Error::invalid_because(location, &format!("an entry's {field}"), e)
                })
            })
            .transpose()
    };
    let statement = bytes("statement")?
        .ok_or_else(|| Error::invalid(location, "an entry without a statement"))?;
    let record =
        parse_lineage_statement(&statement).map_err(|problem| Error::invalid(location, problem))?;
    Ok(Entry {
        record,
        statement,
        bundle: bytes("bundle")?,
        recorded_at: value["recorded_at"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    })
}

fn subgraph_from(value: &Value, location: &Path) -> Result<Subgraph> {
    let digest = |v: &Value| -> Result<RootDigest> {
        v.as_str()
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| Error::invalid(location, "a graph with a malformed digest"))
    };
    let list = |field: &str| {
        value[field]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
    let nodes = list("nodes")
        .iter()
        .map(|n| {
            Ok(Node {
                digest: digest(&n["digest"])?,
                name: n["name"].as_str().map(str::to_string),
                version: n["version"].as_str().map(str::to_string),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let edges = list("edges")
        .iter()
        .map(|e| {
            Ok(Edge {
                child: digest(&e["child"])?,
                parent: digest(&e["parent"])?,
                relation: e["relation"]
                    .as_str()
                    .and_then(Relation::parse)
                    .ok_or_else(|| {
                        Error::invalid(location, "a graph edge with no known relation")
                    })?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Subgraph { nodes, edges })
}

/// The lineage [`Store`] on a registry server. Writes are publications: the server stores a
/// record only when its signature verifies under its namespace's policy, so an unsigned record
/// is refused here before anything is sent.
pub struct RemoteStore {
    client: Client,
    location: PathBuf,
}

impl RemoteStore {
    /// The store on the server `client` talks to.
    pub fn new(client: Client) -> RemoteStore {
        let location = PathBuf::from(client.url());
        RemoteStore { client, location }
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        self.client.url()
    }
}

impl Store for RemoteStore {
    fn location(&self) -> &Path {
        &self.location
    }

    fn insert(&mut self, entries: &[Entry]) -> Result<InsertOutcome> {
        let mut publications = Vec::with_capacity(entries.len());
        for entry in entries {
            let Some(bundle) = &entry.bundle else {
                return Err(Error::Usage(format!(
                    "{}: a registry server stores signed records only, and {} is unsigned: record it with --key (nothing was sent)",
                    self.client.url(),
                    entry.record.id()
                )));
            };
            let bundle = String::from_utf8(bundle.clone()).map_err(|_| {
                Error::invalid(self.client.location(""), "a bundle that is not UTF-8 JSON")
            })?;
            publications.push(Publication {
                name: entry.record.name.clone(),
                version: entry.record.version.clone(),
                bundles: vec![bundle],
            });
        }
        let mut outcome = InsertOutcome::default();
        for chunk in publications.chunks(crate::publish::MAX_PUBLICATIONS) {
            for published in self.client.publish(chunk)? {
                if published["added"].as_u64().unwrap_or(0) > 0 {
                    outcome.added += 1;
                } else {
                    outcome.unchanged += 1;
                }
            }
        }
        Ok(outcome)
    }

    fn add_signature(
        &mut self,
        digest: &RootDigest,
        statement: &[u8],
        bundle: &[u8],
    ) -> Result<bool> {
        let record = parse_lineage_statement(statement)
            .map_err(|problem| Error::invalid(self.client.location(""), problem))?;
        if record.digest != *digest {
            return Err(Error::Usage(format!(
                "the signed record is of {}, not {digest}",
                record.digest
            )));
        }
        let outcome = self.insert(&[Entry {
            record,
            statement: statement.to_vec(),
            bundle: Some(bundle.to_vec()),
            recorded_at: String::new(),
        }])?;
        Ok(outcome.added == 1)
    }

    fn by_digest(&self, digest: &RootDigest) -> Result<Option<Entry>> {
        Ok(self.client.entries(&format!("digest={digest}"))?.0.pop())
    }

    fn by_id(&self, name: &str, version: &str) -> Result<Option<Entry>> {
        let query = format!("name={}&version={}", encode(name), encode(version));
        Ok(self.client.entries(&query)?.0.pop())
    }

    fn versions(&self, name: &str) -> Result<Vec<Entry>> {
        Ok(self.client.entries(&format!("name={}", encode(name)))?.0)
    }

    fn ancestors(&self, digest: &RootDigest) -> Result<Subgraph> {
        self.client.graph(digest, "ancestors")
    }

    fn descendants(&self, digest: &RootDigest) -> Result<Subgraph> {
        self.client.graph(digest, "descendants")
    }

    fn all(&self) -> Result<Vec<Entry>> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let (entries, next) = self
                .client
                .entries(&format!("after={after}&limit={}", crate::MAX_RECORD_PAGE))?;
            all.extend(entries);
            match next {
                Some(next) if next > after => after = next,
                _ => return Ok(all),
            }
        }
    }

    fn manifest(&self, digest: &RootDigest) -> Result<Option<String>> {
        let answer = self
            .client
            .call("GET", &format!("/v1/lineage/manifests/{digest}"), None)?;
        Ok(answer["manifest"].as_str().map(str::to_string))
    }

    fn put_manifest(&mut self, digest: &RootDigest, manifest_json: &str) -> Result<()> {
        self.client
            .call(
                "PUT",
                &format!("/v1/lineage/manifests/{digest}"),
                Some(&json!({"manifest": manifest_json})),
            )
            .map(drop)
    }
}

/// `text` percent-encoded for a query parameter.
fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}
