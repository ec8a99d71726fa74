//! Running the server: the database prepared, the admin token file made or checked, the API
//! served until SIGTERM or Ctrl-C (requests in flight finish), one JSON log line per request on
//! stderr (method, path, status, milliseconds; never a header, so never a token).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

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
}

/// Serves until SIGTERM or Ctrl-C. `on_listening` is told the address once the socket is bound
/// and whether the admin token file was created.
pub fn serve(
    options: &ServeOptions,
    on_listening: impl FnOnce(SocketAddr, bool),
) -> Result<(), RegistryError> {
    if !options.database.starts_with("postgres://")
        && !options.database.starts_with("postgresql://")
    {
        return Err(RegistryError::Invalid(
            "--database takes a postgres:// URL (the team registry keeps its tokens and audit log on PostgreSQL)".into(),
        ));
    }
    let registry = Registry::connect(&options.database)?;
    let created = admin_token(&registry, &options.admin_token_file)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| RegistryError::Internal(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .map_err(|e| {
                RegistryError::Invalid(format!("cannot listen on {}: {e}", options.listen))
            })?;
        let address = listener
            .local_addr()
            .map_err(|e| RegistryError::Internal(format!("no local address: {e}")))?;
        let pool = Pool::new(options.database.clone(), options.connections, registry);
        let app = crate::http::router(pool).layer(axum::middleware::from_fn(log_request));
        on_listening(address, created);
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| RegistryError::Internal(format!("the server stopped: {e}")))
    })
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

/// One JSON line per request on stderr.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let line = serde_json::json!({
        "method": method,
        "path": path,
        "status": response.status().as_u16(),
        "ms": started.elapsed().as_secs_f64() * 1000.0,
    });
    eprintln!("{line}");
    response
}
