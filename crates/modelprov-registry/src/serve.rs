//! Running the server: the database prepared, the admin token file made or checked, the API
//! served (over TLS when given a certificate and key) until SIGTERM or Ctrl-C (requests in
//! flight finish), one JSON log line per request on stderr (method, path, status, milliseconds;
//! never a header, so never a token). A client gets `header_timeout` to send a request's
//! headers and [`REQUEST_BUDGET`] for the whole request, so a slow client cannot hold a
//! connection.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use crate::error::RegistryError;
use crate::pool::Pool;
use crate::registry::Registry;
use crate::token::TokenSecret;

/// How the server runs.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The database (`postgres://...`).
    pub database: String,
    /// The address to listen on (port 0: any free port, told to `on_listening`).
    pub listen: SocketAddr,
    /// The server admin token's file: read when it exists, else made (mode 0600).
    pub admin_token_file: PathBuf,
    /// The most database connections in use at once.
    pub connections: usize,
    /// Serve HTTPS with this certificate chain and key (PEM files); plain HTTP when `None`.
    pub tls: Option<TlsFiles>,
    /// How long a client may take to send a request's headers ([`DEFAULT_HEADER_TIMEOUT`]).
    pub header_timeout: Duration,
}

/// The server's certificate chain and private key, PEM.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The certificate chain, the server's certificate first.
    pub certificate: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// How long a client may take to send a request's headers, by default.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request may take in all, its body included: then it is answered 408.
pub const REQUEST_BUDGET: Duration = Duration::from_secs(60);
/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a shutdown waits for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves until SIGTERM or Ctrl-C. `on_listening` is told the address once the socket is bound
/// and whether the admin token file was created.
pub fn serve(
    options: &ServeOptions,
    on_listening: impl FnOnce(SocketAddr, bool),
) -> Result<(), RegistryError> {
    check_database_url(&options.database)?;
    let tls = options.tls.as_ref().map(tls_acceptor).transpose()?;
    let registry = Registry::connect(&options.database)?;
    // Bound before the admin token is made, so that a start on a busy address writes nothing.
    let cannot_listen = |e: std::io::Error| {
        RegistryError::Invalid(format!("cannot listen on {}: {e}", options.listen))
    };
    let listener = std::net::TcpListener::bind(options.listen).map_err(cannot_listen)?;
    listener.set_nonblocking(true).map_err(cannot_listen)?;
    let address = listener
        .local_addr()
        .map_err(|e| RegistryError::Internal(format!("no local address: {e}")))?;
    let created = admin_token(&registry, &options.admin_token_file)?;
    // The pool, made outside the runtime, closes its blocking connections off the runtime's
    // threads when it goes (a bare `Registry` dropped on them would panic).
    let pool = Pool::new(options.database.clone(), options.connections, registry);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| RegistryError::Internal(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::from_std(listener).map_err(cannot_listen)?;
        let app = crate::http::router(pool).layer(axum::middleware::from_fn(log_request));
        on_listening(address, created);
        accept(listener, app, tls, options.header_timeout).await;
        Ok(())
    })
}

/// Serves connections until a shutdown signal, then lets those open finish their requests.
async fn accept(
    listener: tokio::net::TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    header_timeout: Duration,
) {
    // HTTP/1.1 only: telling HTTP/2 apart means waiting for a client's first bytes with no
    // timer, which a client that sends nothing would hold forever.
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors, or a connection reset before it was accepted: the
                // listener stays usable; a pause keeps an exhausted one from spinning.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let builder = builder.clone();
        let tls = tls.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // A connection's errors (a client gone, a bad TLS hello) end that connection only.
            match tls {
                None => {
                    let connection = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .into_owned();
                    let _ = watcher.watch(connection).await;
                }
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream));
                    let Ok(Ok(stream)) = handshake.await else {
                        return;
                    };
                    let connection = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .into_owned();
                    let _ = watcher.watch(connection).await;
                }
            }
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
}

/// The TLS configuration of a certificate chain and key: TLS 1.2 and 1.3, HTTP/1.1.
fn tls_acceptor(files: &TlsFiles) -> Result<TlsAcceptor, RegistryError> {
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |path: &Path, e: &dyn std::fmt::Display| {
        RegistryError::Invalid(format!("{}: {e}", path.display()))
    };
    let chain = CertificateDer::pem_file_iter(&files.certificate)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| bad(&files.certificate, &e))?;
    if chain.is_empty() {
        return Err(bad(&files.certificate, &"no PEM certificate in it"));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| bad(&files.key, &e))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| RegistryError::Internal(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| {
            bad(
                &files.key,
                &format!("the key does not go with the certificate: {e}"),
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("SIGTERM can be handled");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// What `modelprov serve --migrate-only` does: brings the registry's tables at `database` to
/// this build's schema (connected as their owner), and grants `server_role`, when given, what a
/// server running as that role needs ([`Registry::grant_server_role`]). Returns the database's
/// location, without credentials.
///
/// # Errors
/// As [`Registry::connect`] and [`Registry::grant_server_role`].
pub fn prepare_database(
    database: &str,
    server_role: Option<&str>,
) -> Result<std::path::PathBuf, RegistryError> {
    check_database_url(database)?;
    let registry = Registry::connect(database)?;
    if let Some(role) = server_role {
        registry.grant_server_role(role)?;
    }
    Ok(registry.location().to_path_buf())
}

fn check_database_url(database: &str) -> Result<(), RegistryError> {
    if database.starts_with("postgres://") || database.starts_with("postgresql://") {
        Ok(())
    } else {
        Err(RegistryError::Invalid(
            "--database takes a postgres:// URL (the team registry keeps its tokens and audit log on PostgreSQL)".into(),
        ))
    }
}

/// The admin token: read from `file` (which must hold a valid server admin token of this
/// registry), or, when `file` does not exist, created and written there (mode 0600; a file that
/// appears meanwhile is never overwritten). True when it was created.
fn admin_token(registry: &Registry, file: &Path) -> Result<bool, RegistryError> {
    let shown = file.display();
    match std::fs::symlink_metadata(file) {
        Ok(_) => {
            let text = modelprov::fsutil::read_capped_string(file, 4096, "an admin token")
                .map_err(|e| RegistryError::Invalid(e.to_string()))?;
            let identity = registry.authenticate(Some(&text)).map_err(|e| {
                RegistryError::Invalid(format!("{shown}: {e} (is it this registry's admin token?)"))
            })?;
            if !identity.is_some_and(|who| who.is_server_admin()) {
                return Err(RegistryError::Invalid(format!(
                    "{shown}: this token is a namespace's, not the server's admin token"
                )));
            }
            Ok(false)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let pending = crate::token::stage_secret_file(file)
                .map_err(|e| RegistryError::Invalid(e.to_string()))?;
            let secret: TokenSecret = registry.create_admin_token("created by modelprov serve")?;
            crate::token::write_secret_file(pending, secret.expose())
                .map_err(|e| RegistryError::Invalid(e.to_string()))?;
            Ok(true)
        }
        Err(e) => Err(RegistryError::Invalid(format!("cannot read {shown}: {e}"))),
    }
}

/// One JSON line per request on stderr; a request over [`REQUEST_BUDGET`] is answered 408.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let response = match tokio::time::timeout(REQUEST_BUDGET, next.run(request)).await {
        Ok(response) => response,
        Err(_) => crate::http::ApiError::timeout().into_response(),
    };
    let line = serde_json::json!({
        "method": method,
        "path": path,
        "status": response.status().as_u16(),
        "ms": started.elapsed().as_secs_f64() * 1000.0,
    });
    eprintln!("{line}");
    response
}
