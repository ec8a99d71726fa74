//! The registry interface. Every backend (the embedded SQLite store, the PostgreSQL store) keeps
//! the signed Statement bytes as the source of truth and answers the same queries, and each write
//! is one transaction that either stores everything or nothing.

use serde::Serialize;

use super::record::{LineageRecord, Relation};
use crate::digest::RootDigest;
use crate::error::Result;

/// A record as stored: the record, the exact Statement bytes and, when signed, the bundle.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The record, as its Statement states it.
    pub record: LineageRecord,
    /// The exact Statement bytes (compact JSON): what is signed, and the source of truth.
    pub statement: Vec<u8>,
    /// The Sigstore bundle (JSON) whose DSSE envelope signs `statement`.
    pub bundle: Option<Vec<u8>>,
    /// When it entered this registry (RFC 3339).
    pub recorded_at: String,
}

/// Part of the lineage graph: models by digest (with their labels when recorded) and the
/// child-to-parent edges between them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Subgraph {
    /// The models, by digest, with their labels when recorded.
    pub nodes: Vec<Node>,
    /// The child-to-parent edges between them.
    pub edges: Vec<Edge>,
}

impl Subgraph {
    /// The digests reachable from `start` (itself first), nearest first: breadth-first along
    /// the edges towards parents (`ancestors`) or towards children. Each digest once.
    pub fn nearest_first(&self, start: &RootDigest, ancestors: bool) -> Vec<RootDigest> {
        let mut order = vec![*start];
        let mut seen: std::collections::BTreeSet<RootDigest> = order.iter().copied().collect();
        let mut next = 0;
        while next < order.len() {
            let current = order[next];
            next += 1;
            let mut step: Vec<&Edge> = self
                .edges
                .iter()
                .filter(|e| {
                    if ancestors {
                        e.child == current
                    } else {
                        e.parent == current
                    }
                })
                .collect();
            step.sort();
            for edge in step {
                let other = if ancestors { edge.parent } else { edge.child };
                if seen.insert(other) {
                    order.push(other);
                }
            }
        }
        order
    }
}

/// A model in a [`Subgraph`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Node {
    /// The model's manifest root digest.
    pub digest: RootDigest,
    /// `None` when no record holds this digest (a parent nobody recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The recorded version; `None` when no record holds this digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// A child-to-parent link of the lineage graph.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Edge {
    /// The digest of the derived model.
    pub child: RootDigest,
    /// The digest of the model it was derived from.
    pub parent: RootDigest,
    /// How the child derives from the parent.
    pub relation: Relation,
}

/// A lineage registry backend: the stored Statement bytes are the source of truth, and each write
/// is one transaction that stores everything or nothing.
pub trait Store {
    /// Where the registry is (its file, or its server without credentials): what messages
    /// name.
    fn location(&self) -> &std::path::Path;

    /// Stores new entries in one transaction. Refused, with nothing stored: a digest already held
    /// by another name@version, a name@version already held by another digest, or an edge that
    /// would close a cycle. An entry whose Statement is the stored one changes nothing, except
    /// that its signature is added to a record stored unsigned; a stored signature is never
    /// replaced (a different one is counted in `signature_kept`).
    fn insert(&mut self, entries: &[Entry]) -> Result<InsertOutcome>;

    /// Adds `bundle` as the signature of the record `digest`, whose stored Statement must be
    /// `statement` (a signature never changes what is recorded, so the record's identity stays).
    /// `Ok(false)`, with nothing changed, when the record is already signed: a stored signature
    /// is never replaced. An error when no record holds `digest` or its Statement differs.
    fn add_signature(
        &mut self,
        digest: &RootDigest,
        statement: &[u8],
        bundle: &[u8],
    ) -> Result<bool>;

    /// The record of the model with this digest; `None` when no record holds it.
    fn by_digest(&self, digest: &RootDigest) -> Result<Option<Entry>>;

    /// The record `name@version`; `None` when it is not recorded.
    fn by_id(&self, name: &str, version: &str) -> Result<Option<Entry>>;

    /// Every version of `name`, in no particular order.
    fn versions(&self, name: &str) -> Result<Vec<Entry>>;

    /// `digest` and all its ancestors, with the edges between them.
    fn ancestors(&self, digest: &RootDigest) -> Result<Subgraph>;

    /// `digest` and all its descendants, with the edges between them.
    fn descendants(&self, digest: &RootDigest) -> Result<Subgraph>;

    /// Every entry, in the order recorded.
    fn all(&self) -> Result<Vec<Entry>>;

    /// The manifest (modelprov manifest JSON) recorded with a model, if any.
    fn manifest(&self, digest: &RootDigest) -> Result<Option<String>>;

    /// Keeps a model's manifest for `lineage diff`.
    fn put_manifest(&mut self, digest: &RootDigest, manifest_json: &str) -> Result<()>;
}

/// What [`Store::insert`] did, counted in entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InsertOutcome {
    /// Entries that were new and are now stored.
    pub added: usize,
    /// Entries whose Statement was stored unsigned and whose signature was added.
    pub signed: usize,
    /// Entries that were already stored so (their Statement, and any signature kept).
    pub unchanged: usize,
    /// Of `unchanged`: entries signed otherwise than the stored, signed record, whose stored
    /// signature was kept.
    pub signature_kept: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(byte: u8) -> RootDigest {
        RootDigest([byte; 32])
    }

    #[test]
    fn a_lineage_is_walked_nearest_first_each_model_once() {
        // d <- c <- a, d <- b <- a (a diamond), and e <- d.
        let edge = |child, parent| Edge {
            child: digest(child),
            parent: digest(parent),
            relation: Relation::ALL[0],
        };
        let graph = Subgraph {
            nodes: Vec::new(),
            edges: vec![edge(4, 3), edge(4, 2), edge(3, 1), edge(2, 1), edge(5, 4)],
        };
        assert_eq!(
            graph.nearest_first(&digest(4), true),
            [digest(4), digest(2), digest(3), digest(1)]
        );
        assert_eq!(
            graph.nearest_first(&digest(1), false),
            [digest(1), digest(2), digest(3), digest(4), digest(5)]
        );
    }
}
