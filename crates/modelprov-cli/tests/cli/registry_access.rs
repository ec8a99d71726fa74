//! The authorisation matrix over HTTP: every endpoint of the API (as openapi.json lists them) x
//! every kind of caller (no token, a revoked token, each role of the namespace, another
//! namespace's admin, the server's admin) x a private and a publicly readable namespace, each
//! answer asserted. Content a caller may not read is answered as if it did not exist.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::registry_publish::{keys_and_policy, modelprov, sign, write_model};
use super::registry_support::{Server, TestDatabase, call, token_file};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Need {
    Read,
    Publish,
    /// A namespace admin's (yank, tokens, the namespace's audit log).
    Admin,
    /// The server admin's only.
    Server,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Revoked,
    Reader,
    Publisher,
    Admin,
    OtherAdmin,
    ServerAdmin,
}

const CALLERS: [Caller; 7] = [
    Caller::Anonymous,
    Caller::Revoked,
    Caller::Reader,
    Caller::Publisher,
    Caller::Admin,
    Caller::OtherAdmin,
    Caller::ServerAdmin,
];

/// Whether `caller` may do what `need` names in a namespace (`open`: readable by anyone).
fn allowed(caller: Caller, need: Need, open: bool) -> bool {
    match caller {
        Caller::ServerAdmin => true,
        Caller::Revoked => false,
        Caller::Anonymous | Caller::OtherAdmin => need == Need::Read && open,
        Caller::Reader => need == Need::Read,
        Caller::Publisher => need <= Need::Publish,
        Caller::Admin => need <= Need::Admin,
    }
}

/// One namespace's fixtures: its tokens, and a model published with a lineage record.
struct Namespace {
    name: &'static str,
    open: bool,
    reader: String,
    publisher: String,
    admin: String,
    digest: String,
    statement: i64,
    manifest: String,
}

#[test]
#[allow(clippy::too_many_lines)] // the matrix is one table
fn every_endpoint_answers_every_caller_as_the_rules_say() {
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let server = Server::start(&database, &token_file(dir));
    let server_admin = std::fs::read_to_string(token_file(dir))
        .unwrap()
        .trim()
        .to_string();
    keys_and_policy(dir);
    let policy = std::fs::read_to_string(dir.join("team.toml")).unwrap();
    let token = |namespace: &str, role: &str| -> (i64, String) {
        let (status, body) = call(
            "POST",
            &server.url(&format!("/v1/namespaces/{namespace}/tokens")),
            Some(&server_admin),
            Some(&json!({"role": role})),
        );
        assert_eq!(status, 201, "{body}");
        (
            body["token"]["id"].as_i64().unwrap(),
            body["secret"].as_str().unwrap().to_string(),
        )
    };
    let mut namespaces = Vec::new();
    for (name, open) in [("private", false), ("open", true)] {
        let (status, body) = call(
            "POST",
            &server.url("/v1/namespaces"),
            Some(&server_admin),
            Some(&json!({"name": name, "policy": policy, "anonymous_read": open})),
        );
        assert_eq!(status, 201, "{body}");
        let publisher = token(name, "publisher").1;
        let model = write_model(dir, name);
        let signature = format!("{name}.sig");
        let digest = sign(dir, &model, "ml.key", &signature, None);
        std::fs::write(dir.join(format!("{name}.token")), &publisher).unwrap();
        modelprov(dir)
            .args(["lineage", "record", "--name", &format!("{name}/m")])
            .args(["--model-version", "base", "--key", "ml.key"])
            .arg("--model")
            .arg(&model)
            .args([
                "--registry",
                &server.base,
                "--token-file",
                &format!("{name}.token"),
            ])
            .assert()
            .success();
        let (_, about) = call(
            "GET",
            &server.url(&format!("/v1/digests/{digest}")),
            Some(&server_admin),
            None,
        );
        let (_, manifest) = call(
            "GET",
            &server.url(&format!("/v1/lineage/manifests/{digest}")),
            Some(&server_admin),
            None,
        );
        namespaces.push(Namespace {
            name,
            open,
            reader: token(name, "reader").1,
            publisher,
            admin: token(name, "admin").1,
            digest,
            statement: about["statements"][0]["id"].as_i64().unwrap(),
            manifest: manifest["manifest"].as_str().unwrap().to_string(),
        });
    }
    let bundle = std::fs::read_to_string(dir.join("private.sig")).unwrap();
    let open_bundle = std::fs::read_to_string(dir.join("open.sig")).unwrap();
    let (revoked_id, revoked) = token("private", "reader");
    assert_eq!(
        call(
            "DELETE",
            &server.url(&format!("/v1/tokens/{revoked_id}")),
            Some(&server_admin),
            None
        )
        .0,
        200
    );

    // Each endpoint: its method and path as openapi.json names it, what it needs, and whether a
    // refusal hides the content (404, or an empty answer) rather than saying 401/403.
    #[derive(Clone, Copy, PartialEq)]
    enum Denied {
        Refused,
        NotFound,
        Empty,
    }
    let endpoints: [(&str, &str, Need, Denied); 15] = [
        (
            "GET",
            "/v1/namespaces/{namespace}",
            Need::Read,
            Denied::Refused,
        ),
        (
            "POST",
            "/v1/namespaces/{namespace}/tokens",
            Need::Admin,
            Denied::Refused,
        ),
        ("DELETE", "/v1/tokens/{id}", Need::Admin, Denied::Refused),
        ("GET", "/v1/audit", Need::Admin, Denied::Refused),
        ("POST", "/v1/publish", Need::Publish, Denied::Refused),
        ("POST", "/v1/yank", Need::Admin, Denied::Refused),
        (
            "PUT",
            "/v1/lineage/manifests/{digest}",
            Need::Publish,
            Denied::Refused,
        ),
        ("GET", "/v1/models", Need::Read, Denied::NotFound),
        ("GET", "/v1/digests/{digest}", Need::Read, Denied::NotFound),
        ("GET", "/v1/statements/{id}", Need::Read, Denied::NotFound),
        ("GET", "/v1/lineage/records", Need::Read, Denied::Empty),
        ("GET", "/v1/lineage/graph", Need::Read, Denied::Empty),
        (
            "GET",
            "/v1/lineage/manifests/{digest}",
            Need::Read,
            Denied::Empty,
        ),
        ("POST", "/v1/namespaces", Need::Server, Denied::Refused),
        ("GET", "/v1/audit?all", Need::Server, Denied::Refused),
    ];
    let mut cells = 0;
    let mut version = 0;
    for namespace in &namespaces {
        let other = namespaces
            .iter()
            .find(|n| n.name != namespace.name)
            .unwrap();
        let ns = namespace.name;
        for caller in CALLERS {
            let secret = match caller {
                Caller::Anonymous => None,
                Caller::Revoked => Some(revoked.clone()),
                Caller::Reader => Some(namespace.reader.clone()),
                Caller::Publisher => Some(namespace.publisher.clone()),
                Caller::Admin => Some(namespace.admin.clone()),
                Caller::OtherAdmin => Some(other.admin.clone()),
                Caller::ServerAdmin => Some(server_admin.clone()),
            };
            for (method, path, need, denied) in endpoints {
                version += 1;
                let digest = &namespace.digest;
                let (url, body): (String, Option<Value>) = match path {
                    "/v1/namespaces/{namespace}" => (format!("/v1/namespaces/{ns}"), None),
                    "/v1/namespaces/{namespace}/tokens" => (
                        format!("/v1/namespaces/{ns}/tokens"),
                        Some(json!({"role": "reader"})),
                    ),
                    "/v1/tokens/{id}" => (format!("/v1/tokens/{}", token(ns, "reader").0), None),
                    "/v1/audit" => (format!("/v1/audit?namespace={ns}"), None),
                    "/v1/publish" => (
                        "/v1/publish".into(),
                        Some(json!({"publications": [{
                            "name": format!("{ns}/m"),
                            "version": format!("v{version}"),
                            "statements": [if namespace.open { &open_bundle } else { &bundle }],
                        }]})),
                    ),
                    "/v1/yank" => (
                        "/v1/yank".into(),
                        Some(
                            json!({"name": format!("{ns}/m"), "version": "base", "reason": "matrix"}),
                        ),
                    ),
                    "/v1/lineage/manifests/{digest}" if method == "PUT" => (
                        format!("/v1/lineage/manifests/{digest}"),
                        Some(json!({"manifest": namespace.manifest})),
                    ),
                    "/v1/models" => (format!("/v1/models?name={ns}/m"), None),
                    "/v1/digests/{digest}" => (format!("/v1/digests/{digest}"), None),
                    "/v1/statements/{id}" => {
                        (format!("/v1/statements/{}", namespace.statement), None)
                    }
                    "/v1/lineage/records" => (format!("/v1/lineage/records?digest={digest}"), None),
                    "/v1/lineage/graph" => (
                        format!("/v1/lineage/graph?digest={digest}&direction=ancestors"),
                        None,
                    ),
                    "/v1/lineage/manifests/{digest}" => {
                        (format!("/v1/lineage/manifests/{digest}"), None)
                    }
                    "/v1/namespaces" => (
                        "/v1/namespaces".into(),
                        Some(json!({"name": format!("n{version}"), "policy": policy})),
                    ),
                    "/v1/audit?all" => ("/v1/audit".into(), None),
                    other => panic!("no request for {other}"),
                };
                let (status, answer) =
                    call(method, &server.url(&url), secret.as_deref(), body.as_ref());
                let may = allowed(caller, need, namespace.open);
                let cell = format!("{method} {url} as {caller:?} in {ns}: {status} {answer}");
                cells += 1;
                if may {
                    assert!((200..300).contains(&status), "refused: {cell}");
                    let hidden = denied == Denied::Empty
                        && match path {
                            "/v1/lineage/records" => {
                                answer["entries"].as_array().unwrap().is_empty()
                            }
                            "/v1/lineage/graph" => answer["nodes"][0]["name"].is_null(),
                            _ => answer["manifest"].is_null(),
                        };
                    assert!(!hidden, "hidden from an allowed caller: {cell}");
                    continue;
                }
                match (caller, denied) {
                    (Caller::Revoked, _) => assert_eq!(status, 401, "{cell}"),
                    (_, Denied::Refused) => {
                        let expected = if secret.is_none() { 401 } else { 403 };
                        assert_eq!(status, expected, "{cell}");
                    }
                    (_, Denied::NotFound) => assert_eq!(status, 404, "{cell}"),
                    (_, Denied::Empty) => {
                        assert_eq!(status, 200, "{cell}");
                        let hidden = match path {
                            "/v1/lineage/records" => {
                                answer["entries"].as_array().unwrap().is_empty()
                            }
                            "/v1/lineage/graph" => answer["nodes"][0]["name"].is_null(),
                            _ => answer["manifest"].is_null(),
                        };
                        assert!(hidden, "shown to a caller who may not read it: {cell}");
                    }
                }
            }
        }
    }
    assert_eq!(cells, 2 * CALLERS.len() * endpoints.len());

    // The matrix covers every endpoint the API documents (health, readiness and the document
    // itself are open to all).
    let (_, openapi) = call("GET", &server.url("/v1/openapi.json"), None, None);
    let documented: BTreeSet<String> = openapi["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .filter(|e| {
            !["GET /v1/health", "GET /v1/ready", "GET /v1/openapi.json"].contains(&e.as_str())
        })
        .collect();
    let tested: BTreeSet<String> = endpoints
        .iter()
        .map(|(method, path, ..)| format!("{method} {}", path.trim_end_matches("?all")))
        .collect();
    assert_eq!(documented, tested);
    assert!(server.stop().success());
}
