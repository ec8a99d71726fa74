//! The registry on a real PostgreSQL server: each test creates and drops its own database.
//! Tokens, namespaces and the audit log, as a client and as someone with direct access to the
//! database would find them.

#[path = "../../../modelprov/tests/library/common/test_database.rs"]
mod test_database;

use modelprov::RootDigest;
use modelprov::keys::{KeyType, PrivateKey};
use modelprov::lineage::{LineageRecord, Procedure, lineage_statement};
use modelprov::signing::sign_statement;
use modelprov::trust_policy::TrustPolicy;
use modelprov_registry::audit::AuditEntry;
use modelprov_registry::{
    GroupCommit, Identity, Publication, Registry, RegistryError, Role, StoreOutcome, TokenSecret,
};
use test_database::TestDatabase;

const POLICY: &str = "version = 1\n\n[[signer]]\nidentity = \"ml@example.com\"\nissuer = \"https://accounts.example.com\"\n";

struct Lab {
    database: TestDatabase,
    registry: Registry,
    admin: Identity,
}

fn lab() -> Lab {
    let database = TestDatabase::create();
    let registry = Registry::connect(&database.url()).unwrap();
    let secret = registry.create_admin_token("bootstrap").unwrap();
    let admin = registry
        .authenticate(Some(secret.expose()))
        .unwrap()
        .unwrap();
    Lab {
        database,
        registry,
        admin,
    }
}

impl Lab {
    fn namespace(&self, name: &str, anonymous_read: bool) {
        self.registry
            .create_namespace(Some(&self.admin), name, POLICY, anonymous_read)
            .unwrap();
    }

    /// A token with `role` in `namespace`, and who it authenticates as.
    fn token(&self, namespace: &str, role: Role) -> (TokenSecret, Identity) {
        let (_, secret) = self
            .registry
            .create_token(Some(&self.admin), namespace, role, "test")
            .unwrap();
        let identity = self
            .registry
            .authenticate(Some(secret.expose()))
            .unwrap()
            .unwrap();
        (secret, identity)
    }

    fn audit(&self) -> Vec<AuditEntry> {
        self.registry
            .audit(Some(&self.admin), None, 0, 1000)
            .unwrap()
    }
}

#[test]
fn tokens_authenticate_until_revoked_and_only_their_hash_is_stored() {
    let lab = lab();
    lab.namespace("vision", false);
    let (secret, identity) = lab.token("vision", Role::Publisher);
    assert_eq!(identity.namespace.as_deref(), Some("vision"));
    assert_eq!(identity.role, Role::Publisher);

    // Nothing in the database holds the secret: not the tokens, not the audit log.
    let mut client = postgres::Client::connect(&lab.database.url(), postgres::NoTls).unwrap();
    let dump: String = client
        .query_one(
            "SELECT string_agg(t::text, ' ') FROM (SELECT * FROM registry_tokens) t",
            &[],
        )
        .unwrap()
        .get(0);
    let audit: String = client
        .query_one(
            "SELECT string_agg(convert_from(body, 'UTF8') || convert_from(entry, 'UTF8'), ' ') FROM registry_audit",
            &[],
        )
        .unwrap()
        .get(0);
    let body = &secret.expose()["mprv_".len()..];
    assert!(!dump.contains(body) && !audit.contains(body));
    assert!(
        dump.contains(&format!("\\x{}", hex::encode(secret.hash()))),
        "{dump}"
    );

    // Revoked: refused from then on, by id in the message, never by secret.
    let revoked = lab
        .registry
        .revoke_token(Some(&lab.admin), identity.token_id)
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    let error = lab
        .registry
        .authenticate(Some(secret.expose()))
        .unwrap_err();
    assert_eq!(error.code(), "unauthenticated");
    assert_eq!(
        error.to_string(),
        format!("token {} was revoked", identity.token_id)
    );
    // Revoking again changes nothing and logs nothing.
    let entries = lab.audit().len();
    lab.registry
        .revoke_token(Some(&lab.admin), identity.token_id)
        .unwrap();
    assert_eq!(lab.audit().len(), entries);

    // Unknown and malformed tokens.
    let stranger = TokenSecret::generate().unwrap();
    let error = lab
        .registry
        .authenticate(Some(stranger.expose()))
        .unwrap_err();
    assert_eq!(error.to_string(), "the token is not known to this registry");
    for bad in [
        "",
        "Bearer x",
        &"y".repeat(10_000),
        "mprv_'; DROP TABLE registry_tokens; --",
    ] {
        assert_eq!(
            lab.registry.authenticate(Some(bad)).unwrap_err().code(),
            "unauthenticated"
        );
    }
    assert_eq!(lab.registry.authenticate(None).unwrap(), None);
}

#[test]
fn who_may_manage_what_end_to_end() {
    let lab = lab();
    lab.namespace("a", false);
    lab.namespace("b", true);
    let (_, reader) = lab.token("a", Role::Reader);
    let (_, publisher) = lab.token("a", Role::Publisher);
    let (_, admin_a) = lab.token("a", Role::Admin);
    let (_, admin_b) = lab.token("b", Role::Admin);
    let code = |result: Result<(), RegistryError>| result.err().map_or("ok", |e| e.code());
    let create_token = |who: Option<&Identity>, namespace: &str| {
        code(
            lab.registry
                .create_token(who, namespace, Role::Reader, "x")
                .map(drop),
        )
    };
    assert_eq!(create_token(None, "a"), "unauthenticated");
    assert_eq!(create_token(Some(&reader), "a"), "forbidden");
    assert_eq!(create_token(Some(&publisher), "a"), "forbidden");
    assert_eq!(create_token(Some(&admin_b), "a"), "forbidden");
    assert_eq!(create_token(Some(&admin_a), "a"), "ok");
    assert_eq!(create_token(Some(&admin_a), "nonexistent"), "not_found");
    let create_namespace = |who: Option<&Identity>| {
        code(
            lab.registry
                .create_namespace(who, "c", POLICY, false)
                .map(drop),
        )
    };
    assert_eq!(create_namespace(None), "unauthenticated");
    assert_eq!(create_namespace(Some(&admin_a)), "forbidden");
    assert_eq!(create_namespace(Some(&lab.admin)), "ok");
    assert_eq!(create_namespace(Some(&lab.admin)), "conflict");
    // Reading a namespace: private a only with a's tokens, public b by anyone.
    let read =
        |who: Option<&Identity>, name: &str| code(lab.registry.namespace(who, name).map(drop));
    assert_eq!(read(None, "a"), "unauthenticated");
    assert_eq!(read(Some(&admin_b), "a"), "forbidden");
    assert_eq!(read(Some(&reader), "a"), "ok");
    assert_eq!(read(None, "b"), "ok");
    assert_eq!(read(Some(&reader), "b"), "ok");
    // Revoking: a namespace's admin revokes its tokens, not another's, nor the server's.
    assert_eq!(
        code(
            lab.registry
                .revoke_token(Some(&admin_b), reader.token_id)
                .map(drop)
        ),
        "forbidden"
    );
    assert_eq!(
        code(
            lab.registry
                .revoke_token(Some(&admin_a), lab.admin.token_id)
                .map(drop)
        ),
        "forbidden"
    );
    assert_eq!(
        code(
            lab.registry
                .revoke_token(Some(&admin_a), reader.token_id)
                .map(drop)
        ),
        "ok"
    );
    assert_eq!(
        code(lab.registry.revoke_token(Some(&admin_a), 999_999).map(drop)),
        "not_found"
    );
    // The audit log: the server's to a server admin, a namespace's to its admins only.
    let audit = |who: Option<&Identity>, namespace: Option<&str>| {
        code(lab.registry.audit(who, namespace, 0, 10).map(drop))
    };
    assert_eq!(audit(Some(&admin_a), None), "forbidden");
    assert_eq!(audit(Some(&publisher), Some("a")), "forbidden");
    assert_eq!(audit(Some(&admin_a), Some("a")), "ok");
    assert_eq!(audit(None, Some("b")), "unauthenticated");
}

#[test]
fn hostile_names_policies_and_labels_are_refused_with_nothing_written() {
    let lab = lab();
    let before = lab.audit().len();
    let long = "n".repeat(10_000);
    for name in [
        "..",
        "a/b",
        "a\0b",
        "'; DROP TABLE registry_namespaces; --",
        &long,
        "",
    ] {
        let error = lab
            .registry
            .create_namespace(Some(&lab.admin), name, POLICY, false)
            .unwrap_err();
        assert_eq!(error.code(), "invalid", "{name:?}");
    }
    for policy in [
        "",
        "version = 2\n",
        "version = 1\n",
        "not toml [",
        // A policy sent to the server may not make it read its own files.
        "version = 1\n[[signer]]\nidentity = \"a@b\"\nissuer = \"https://i\"\ntrusted_root = \"/etc/shadow\"\n",
        &format!("version = 1\n# {}\n", "x".repeat(70_000)),
    ] {
        let error = lab
            .registry
            .create_namespace(Some(&lab.admin), "ok-name", policy, false)
            .unwrap_err();
        assert_eq!(error.code(), "invalid", "{policy:.60}: {error}");
    }
    lab.namespace("ok-name", false);
    for label in ["\u{7}bell", &"l".repeat(201)] {
        let error = lab
            .registry
            .create_token(Some(&lab.admin), "ok-name", Role::Reader, label)
            .unwrap_err();
        assert_eq!(error.code(), "invalid");
    }
    // Only the one namespace that was created is in the log.
    assert_eq!(lab.audit().len(), before + 1);
}

#[test]
fn the_audit_log_is_append_only_gapless_and_canonical_whatever_connects() {
    let lab = lab();
    lab.namespace("vision", false);
    let (_, admin) = lab.token("vision", Role::Admin);
    let (_, reader) = lab.token("vision", Role::Reader);
    lab.registry
        .revoke_token(Some(&admin), reader.token_id)
        .unwrap();
    let entries = lab.audit();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "token.create",
            "namespace.create",
            "token.create",
            "token.create",
            "token.revoke"
        ]
    );
    let seqs: Vec<i64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    assert!(entries.iter().all(AuditEntry::is_consistent));
    assert_eq!(entries[0].token_id, None);
    assert_eq!(entries[4].token_id, Some(admin.token_id));
    assert_eq!(entries[4].namespace.as_deref(), Some("vision"));
    let body: serde_json::Value = serde_json::from_slice(&entries[1].body).unwrap();
    assert_eq!(body["policy"], POLICY);

    // Someone with the database's credentials cannot rewrite history: the schema refuses.
    for sql in [
        "UPDATE registry_audit SET action = 'nothing' WHERE seq = 2",
        "DELETE FROM registry_audit WHERE seq = 5",
        "TRUNCATE registry_audit",
        "INSERT INTO registry_audit (seq, at, action, body, entry) VALUES (7, 't', 'x', '', '')",
        "INSERT INTO registry_audit (seq, at, action, body, entry) VALUES (3, 't', 'x', '', '')",
        "UPDATE registry_tokens SET role = 'admin' WHERE role = 'reader'",
        &format!(
            "UPDATE registry_tokens SET revoked_at = NULL WHERE id = {}",
            reader.token_id
        ),
        "DELETE FROM registry_tokens",
    ] {
        let error = lab.database.try_sql(sql).unwrap_err();
        let message = error
            .as_db_error()
            .map(|e| e.message().to_string())
            .unwrap_or_default();
        assert!(
            message.contains("append-only")
                || message.contains("next in sequence")
                || message.contains("duplicate key")
                || message.contains("only be revoked")
                || message.contains("never deleted"),
            "{sql}: {error}"
        );
    }
    assert_eq!(lab.audit(), entries);
    // The next entry is still number 6.
    lab.token("vision", Role::Reader);
    assert_eq!(lab.audit().last().unwrap().seq, 6);
}

#[test]
fn concurrent_writers_get_consecutive_audit_entries() {
    let lab = lab();
    lab.namespace("vision", false);
    let url = lab.database.url();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            let (url, admin) = (&url, &lab.admin);
            scope.spawn(move || {
                let registry = Registry::connect(url).unwrap();
                for _ in 0..10 {
                    registry
                        .create_token(Some(admin), "vision", Role::Reader, "load")
                        .unwrap();
                }
            });
        }
    });
    let entries = lab.audit();
    assert_eq!(entries.len(), 2 + 80);
    for (index, entry) in entries.iter().enumerate() {
        assert_eq!(entry.seq, i64::try_from(index).unwrap() + 1);
        assert!(entry.is_consistent());
    }
}

#[test]
fn a_newer_registry_schema_and_an_unreachable_server_are_refused() {
    let lab = lab();
    lab.database
        .sql("UPDATE modelprov_schema SET version = version + 1 WHERE component = 'registry'");
    let Err(error) = Registry::connect(&lab.database.url()) else {
        panic!("a newer schema was accepted");
    };
    assert_eq!(error.code(), "schema", "{error}");
    let Err(error) = Registry::connect("postgres://u:pw-not-shown@127.0.0.1:1/x") else {
        panic!("connected to nothing");
    };
    assert_eq!(error.code(), "unavailable");
    assert_eq!(error.http_status(), 503);
    assert!(!format!("{error:?} {error}").contains("pw-not-shown"));
}

/// A signed lineage record of `name@version` for the model `digest`, as a publication.
fn signed_record(key: &PrivateKey, name: &str, version: &str, digest: u8) -> Publication {
    let record = LineageRecord {
        name: name.into(),
        version: version.into(),
        digest: RootDigest([digest; 32]),
        created: None,
        parents: Vec::new(),
        datasets: Vec::new(),
        procedure: Procedure::default(),
        trainer: None,
        modifications: None,
        metrics: std::collections::BTreeMap::new(),
        card_digest: None,
    };
    let bundle = sign_statement(&lineage_statement(&record), key, &[]).unwrap();
    Publication {
        name: name.into(),
        version: version.into(),
        bundles: vec![bundle.to_json_string()],
    }
}

/// A lab with namespace `vision` trusting `key`, and a publisher there.
fn publishing_lab(key: &PrivateKey) -> (Lab, Identity) {
    let lab = lab();
    let policy = TrustPolicy::of_keys(vec![key.public_key()]).to_toml();
    lab.registry
        .create_namespace(Some(&lab.admin), "vision", &policy, false)
        .unwrap();
    let (_, publisher) = lab.token("vision", Role::Publisher);
    (lab, publisher)
}

fn stored_digest(lab: &Lab, version: &str) -> Option<Vec<u8>> {
    let mut client = postgres::Client::connect(&lab.database.url(), postgres::NoTls).unwrap();
    client
        .query_opt(
            "SELECT digest FROM registry_versions WHERE name = 'vision/m' AND version = $1",
            &[&version],
        )
        .unwrap()
        .map(|row| row.get(0))
}

fn assert_gapless(entries: &[AuditEntry]) {
    for (index, entry) in entries.iter().enumerate() {
        assert_eq!(entry.seq, i64::try_from(index).unwrap() + 1);
        assert!(entry.is_consistent());
    }
}

#[test]
fn requests_stored_together_are_refused_alone() {
    let key = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let (lab, publisher) = publishing_lab(&key);
    let check = |publication: Publication| {
        lab.registry
            .check_publications(Some(&publisher), vec![publication])
            .unwrap()
    };
    let before = lab.audit().len();
    // The second publishes 1.0 again with another model: refused, and only it.
    let outcomes = lab
        .registry
        .store_together(vec![
            check(signed_record(&key, "vision/m", "1.0", 1)),
            check(signed_record(&key, "vision/m", "1.0", 2)),
            check(signed_record(&key, "vision/m", "2.0", 3)),
        ])
        .unwrap();
    assert!(outcomes[0].as_ref().unwrap()[0].new_version);
    let refused = outcomes[1].as_ref().unwrap_err();
    assert_eq!(refused.code(), "conflict", "{refused}");
    assert!(outcomes[2].as_ref().unwrap()[0].new_version);
    assert_eq!(stored_digest(&lab, "1.0"), Some(vec![1; 32]));
    assert_eq!(stored_digest(&lab, "2.0"), Some(vec![3; 32]));
    // The refused one left nothing: not its record, not an audit entry.
    assert!(
        lab.registry
            .lineage_by_digest(Some(&publisher), &RootDigest([2; 32]))
            .unwrap()
            .is_none()
    );
    let entries = lab.audit();
    assert_eq!(entries.len(), before + 2);
    assert_gapless(&entries);
}

#[test]
fn concurrent_publications_are_grouped_and_each_answered_once() {
    let key = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let (lab, publisher) = publishing_lab(&key);
    let before = lab.audit().len();
    let group = GroupCommit::default();
    let url = lab.database.url();
    // 16 writers, 10 requests each; versions 0..40 are each asked for by four writers, two
    // with its model A and two with its model B: the first stored wins, the other model is refused.
    let answers: Vec<(u32, u8, StoreOutcome)> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..16u32)
            .map(|writer| {
                let (url, group, key, publisher) = (&url, &group, &key, &publisher);
                scope.spawn(move || {
                    let registry = Registry::connect(url).unwrap();
                    (0..10u32)
                        .map(|n| {
                            let version = (writer * 10 + n) % 40;
                            // Each version's two models, A and B (a digest is one version's).
                            let model = u8::try_from(version).unwrap() * 2
                                + if (writer / 4) % 2 == 0 { 1 } else { 2 };
                            let publication =
                                signed_record(key, "vision/m", &format!("1.{version}"), model);
                            let checked = registry
                                .check_publications(Some(publisher), vec![publication])
                                .unwrap();
                            (version, model, group.store(&registry, checked))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert_eq!(answers.len(), 160);
    for version in 0..40u32 {
        let stored = stored_digest(&lab, &format!("1.{version}")).unwrap_or_else(|| {
            panic!(
                "1.{version} not stored: {:?}",
                answers.iter().find(|a| a.2.is_err())
            )
        });
        let winner = stored[0];
        let asked: Vec<_> = answers.iter().filter(|a| a.0 == version).collect();
        assert_eq!(asked.len(), 4);
        // Exactly one request made the version; the same model again changes nothing; the
        // other model is refused.
        let made = asked
            .iter()
            .filter(|a| matches!(&a.2, Ok(p) if p[0].new_version))
            .count();
        assert_eq!(made, 1, "version {version}");
        for (_, model, outcome) in asked {
            match outcome {
                Ok(published) => {
                    assert_eq!(*model, winner);
                    assert_eq!(published[0].digest, RootDigest([winner; 32]).to_string());
                }
                Err(error) => {
                    assert_ne!(*model, winner);
                    assert_eq!(error.code(), "conflict", "{error}");
                }
            }
        }
    }
    // An audit entry for each request that stored something, and only for those.
    let wrote = answers
        .iter()
        .filter(|a| matches!(&a.2, Ok(p) if p[0].new_version || p[0].added > 0))
        .count();
    let entries = lab.audit();
    assert_eq!(entries.len(), before + wrote);
    assert_gapless(&entries);
}
