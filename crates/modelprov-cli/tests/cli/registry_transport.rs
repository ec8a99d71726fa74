//! The server's connections: a client that sends its headers slowly (or not at all) loses its
//! connection after `--header-timeout` while everyone else is served, and HTTPS with a team's
//! own certificate authority, the CLI checking the server's certificate.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::registry_publish::modelprov;
use super::registry_support::{POLICY, Server, TestDatabase, call, token_file};

/// Seconds until the server closes `stream` (reads until end of stream or a reset).
fn closed_after(mut stream: TcpStream) -> Duration {
    let started = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut buffer = [0u8; 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return started.elapsed(),
            // A 408 answer before the close is fine.
            Ok(_) => {}
        }
    }
}

#[test]
fn a_slow_client_loses_its_connection_and_others_are_served_meanwhile() {
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        &database,
        &token_file(dir.path()),
        &["--header-timeout", "1"],
    );
    let address = server.base.trim_start_matches("http://").to_string();
    // Fifty clients that started a request and stopped mid-headers, and fifty that never send.
    let mut slow = Vec::new();
    for n in 0..100 {
        let mut stream = TcpStream::connect(&address).unwrap();
        if n % 2 == 0 {
            stream
                .write_all(b"GET /v1/health HTTP/1.1\r\nHost: registry\r\nX-Slow: ")
                .unwrap();
        }
        slow.push(stream);
    }
    let started = Instant::now();
    assert_eq!(call("GET", &server.url("/v1/health"), None, None).0, 200);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "held up by slow clients"
    );
    for (n, stream) in slow.into_iter().enumerate() {
        let after = closed_after(stream);
        assert!(
            after < Duration::from_secs(5),
            "client {n} held for {after:?}"
        );
    }
    assert!(server.stop().success());
}

#[test]
fn https_with_a_teams_own_authority_and_the_certificate_checked() {
    use rcgen::{CertificateParams, DnType, IsCa, KeyPair};
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    // A team CA, and the server's certificate for 127.0.0.1 issued by it.
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "team registry CA");
    ca_params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server_params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    let certificate = server_params.signed_by(&server_key, &issuer).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), certificate.pem()).unwrap();
    std::fs::write(dir.join("server.key"), server_key.serialize_pem()).unwrap();
    std::fs::write(dir.join("team.toml"), POLICY).unwrap();

    let database = TestDatabase::create();
    let (certificate, key) = (dir.join("server.pem"), dir.join("server.key"));
    let tls = [
        "--tls-certificate",
        certificate.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ];
    let server = Server::start_with(&database, &token_file(dir), &tls);
    assert!(
        server.base.starts_with("https://127.0.0.1:"),
        "{}",
        server.base
    );
    let create = |name: &str, ca: Option<&str>| {
        let mut command = modelprov(dir);
        command
            .args(["namespace", "create", name, "--policy", "team.toml"])
            .args(["--registry", &server.base, "--token-file", "admin.token"]);
        if let Some(ca) = ca {
            command.env("MODELPROV_REGISTRY_CA", ca);
        }
        command.output().unwrap()
    };
    let output = create("vision", Some("ca.pem"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Mozilla's roots do not know the team's CA: refused, and nothing was sent.
    let output = create("audio", None);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot reach the registry server") && stderr.contains("certificate"),
        "{stderr}"
    );
    // Plain HTTP to the TLS port gets no answer from the API.
    let plain = server.base.replace("https://", "http://");
    let output = modelprov(dir)
        .args(["namespace", "create", "audio", "--policy", "team.toml"])
        .args(["--registry", &plain, "--token-file", "admin.token"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let (status, body) = {
        let output = create("vision", Some("ca.pem"));
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    assert_eq!(status, Some(2));
    assert!(body.contains("exists already"), "{body}");
    assert!(server.stop().success());
}
