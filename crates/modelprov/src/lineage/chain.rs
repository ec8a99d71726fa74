//! `lineage verify`: walk a model's ancestry to its roots and check every link: each record's
//! signature against the keys the user trusts, that the signed Statement is the stored one, and
//! that no parent is missing from the registry (a missing record is reported, never skipped).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use super::store::{Store, Subgraph};
use crate::attest::Bundle;
use crate::digest::RootDigest;
use crate::error::{Error, Result};
use crate::trust_policy::TrustPolicy;

/// What `lineage verify` found walking a model's ancestry to its roots.
#[derive(Clone, Debug, Serialize)]
pub struct ChainReport {
    /// `true` when every link is recorded and signed by a trusted signer.
    pub ok: bool,
    /// Every link, the model first, then its parents, grandparents, ... (each once).
    pub links: Vec<ChainLink>,
    /// The ancestry as checked.
    pub graph: Subgraph,
}

/// One model of the chain, and what is wrong with it, if anything.
#[derive(Clone, Debug, Serialize)]
pub struct ChainLink {
    /// The model's manifest root digest.
    pub digest: RootDigest,
    /// `name@version`, when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What is wrong with this link; `None` when it is recorded and signed by a trusted signer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<LinkProblem>,
}

/// Why a link of the chain is not sound (`MISSING`, `UNSIGNED` or `BAD` in `lineage verify`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum LinkProblem {
    /// A parent digest that no record holds: the chain is broken here.
    NotRecorded {
        /// `name@version` (or the digest) of a child that lists this parent.
        child: String,
    },
    /// The record carries no signature.
    Unsigned,
    /// The signature does not verify with any trusted key, or signs other bytes.
    BadSignature(String),
}

/// Checks the chain from `digest` to its roots against `trusted` (at least one signer: none is a
/// usage error). Each record must be signed by a signer the policy trusts for its model name.
pub fn verify_chain(
    store: &dyn Store,
    digest: &RootDigest,
    trusted: &TrustPolicy,
) -> Result<ChainReport> {
    // Without a signer nothing can be trusted: that is misuse, not a chain of bad links.
    if trusted.is_empty() {
        return Err(Error::Usage(
            "lineage verify needs at least one trusted signer (--key or --policy)".into(),
        ));
    }
    let graph = store.ancestors(digest)?;
    let mut links = Vec::new();
    for node in walk_order(&graph, digest) {
        let problem = match store.by_digest(&node.digest)? {
            None => {
                let child = graph
                    .edges
                    .iter()
                    .find(|e| e.parent == node.digest)
                    .and_then(|e| graph.nodes.iter().find(|n| n.digest == e.child))
                    .map(|n| match (&n.name, &n.version) {
                        (Some(name), Some(version)) => format!("{name}@{version}"),
                        _ => n.digest.to_string(),
                    })
                    .unwrap_or_default();
                Some(LinkProblem::NotRecorded { child })
            }
            Some(entry) => match &entry.bundle {
                None => Some(LinkProblem::Unsigned),
                Some(bundle) => {
                    signature_problem(bundle, &entry.statement, trusted, &entry.record.name)
                }
            },
        };
        links.push(ChainLink {
            digest: node.digest,
            id: node
                .name
                .as_ref()
                .zip(node.version.as_ref())
                .map(|(n, v)| format!("{n}@{v}")),
            problem,
        });
    }
    Ok(ChainReport {
        ok: links.iter().all(|l| l.problem.is_none()),
        links,
        graph,
    })
}

/// The model first, then its parents, grandparents, ... (each once): the order a reader follows.
fn walk_order<'g>(graph: &'g Subgraph, start: &RootDigest) -> Vec<&'g super::store::Node> {
    use std::collections::{BTreeMap, BTreeSet, VecDeque};
    let nodes: BTreeMap<RootDigest, &super::store::Node> =
        graph.nodes.iter().map(|n| (n.digest, n)).collect();
    let mut parents: BTreeMap<RootDigest, Vec<RootDigest>> = BTreeMap::new();
    for edge in &graph.edges {
        parents.entry(edge.child).or_default().push(edge.parent);
    }
    let mut order = Vec::new();
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([*start]);
    while let Some(digest) = queue.pop_front() {
        if !seen.insert(digest) {
            continue;
        }
        order.extend(nodes.get(&digest).copied());
        queue.extend(parents.get(&digest).into_iter().flatten().copied());
    }
    order
}

/// Why `bundle` is not a signature of exactly `statement` by a signer `trusted` holds for
/// `model`, if it is not.
pub(super) fn signature_problem(
    bundle: &[u8],
    statement: &[u8],
    trusted: &TrustPolicy,
    model: &str,
) -> Option<LinkProblem> {
    let bundle: Bundle = match serde_json::from_slice(bundle) {
        Ok(bundle) => bundle,
        Err(e) => {
            return Some(LinkProblem::BadSignature(format!(
                "the stored bundle is not readable: {e}"
            )));
        }
    };
    let signed_payload = bundle
        .dsse_envelope
        .as_ref()
        .and_then(|e| STANDARD.decode(&e.payload).ok());
    if signed_payload.as_deref() != Some(statement) {
        return Some(LinkProblem::BadSignature(
            "the signature covers other bytes than the stored record".into(),
        ));
    }
    match trusted.verify_envelope(&bundle, Some(model), std::path::Path::new("registry")) {
        Ok(_) => None,
        Err(e) => Some(LinkProblem::BadSignature(match e {
            Error::NotAuthentic { problem, .. } | Error::InvalidInput { problem, .. } => problem,
            other => other.to_string(),
        })),
    }
}
