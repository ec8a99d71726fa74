//! The rules every [`Store`](super::Store) backend applies to what it reads and writes, whatever
//! its SQL: a stored row is checked against its Statement (the source of truth), the graph's
//! edges against the Statements they index, and a write against what is already recorded. The
//! backends only fetch rows and run their statements.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::record::{LineageRecord, Relation};
use super::slsa::parse_lineage_statement;
use super::store::{Edge, Entry, InsertOutcome, Node, Subgraph};
use crate::digest::RootDigest;
use crate::error::{Error, Problem, Result};

/// A stored record's columns, as a backend reads them.
pub(crate) struct Row {
    pub digest: Vec<u8>,
    pub name: String,
    pub version: String,
    pub statement: Vec<u8>,
    pub bundle: Option<Vec<u8>>,
    pub recorded_at: String,
}

impl Row {
    /// The entry this row stores, checked against its Statement.
    pub fn into_entry(self, registry: &Path) -> Result<Entry> {
        let record = checked_record(
            registry,
            &self.digest,
            &self.name,
            &self.version,
            &self.statement,
        )?;
        Ok(Entry {
            record,
            statement: self.statement,
            bundle: self.bundle,
            recorded_at: self.recorded_at,
        })
    }
}

/// The record a stored Statement states, which must be about the row's digest and name@version:
/// how every reader of a stored row (a [`Store`](super::Store) backend, or a component reading
/// the lineage tables in its own query) turns it into a record.
///
/// # Errors
/// [`Error::InvalidInput`] naming `registry` when the Statement does not parse or states
/// another digest or name@version (the row is damaged).
pub fn checked_record(
    registry: &Path,
    digest: &[u8],
    name: &str,
    version: &str,
    statement: &[u8],
) -> Result<LineageRecord> {
    let damaged = |problem: Problem| {
        Error::invalid(
            registry,
            problem.context(&format!(
                "the stored record {name}@{version} (sha256:{}) is damaged",
                hex::encode(digest)
            )),
        )
    };
    let record = parse_lineage_statement(statement).map_err(damaged)?;
    if record.digest.0.as_slice() != digest {
        return Err(damaged(
            format!("its statement is about {}, not this digest", record.digest).into(),
        ));
    }
    if record.name != name || record.version != version {
        return Err(damaged(
            format!("its statement names {}", record.id()).into(),
        ));
    }
    Ok(record)
}

/// A stored digest column as a digest (a damaged one reads as zeros, which the checks against
/// the Statements then name).
pub(crate) fn digest_of(bytes: &[u8]) -> RootDigest {
    RootDigest(<[u8; 32]>::try_from(bytes).unwrap_or([0; 32]))
}

/// One row of a reach query: a reached node, its label and Statement when recorded, and one of
/// its edges onward (if any).
pub(crate) struct ReachRow {
    pub node: Vec<u8>,
    pub name: Option<String>,
    pub version: Option<String>,
    pub statement: Option<Vec<u8>>,
    pub other: Option<Vec<u8>>,
    pub relation: Option<String>,
}

/// The subgraph a reach query's rows describe. The edges are an index of the Statements, so each
/// is checked against its child's Statement (and, walking to the parents, each Statement's
/// parents against the edges): a damaged row fails the query instead of dropping out of it.
pub(crate) fn assemble_reach(
    registry: &Path,
    rows: impl IntoIterator<Item = Result<ReachRow>>,
    towards_parents: bool,
) -> Result<Subgraph> {
    let mut graph = Subgraph::default();
    // Each recorded node's parents as its Statement states them.
    let mut stated: BTreeMap<RootDigest, BTreeSet<(RootDigest, Relation)>> = BTreeMap::new();
    for row in rows {
        let row = row?;
        let node = digest_of(&row.node);
        if let (Some(name), Some(version), Some(statement)) =
            (&row.name, &row.version, &row.statement)
            && !stated.contains_key(&node)
        {
            let record = checked_record(registry, &row.node, name, version, statement)?;
            stated.insert(
                node,
                record
                    .parents
                    .iter()
                    .map(|p| (p.digest, p.relation))
                    .collect(),
            );
        }
        if graph
            .nodes
            .last()
            .is_none_or(|last: &Node| last.digest != node)
        {
            graph.nodes.push(Node {
                digest: node,
                name: row.name,
                version: row.version,
            });
        }
        if let (Some(other), Some(relation)) = (row.other, row.relation) {
            let other = digest_of(&other);
            let (child, parent) = if towards_parents {
                (node, other)
            } else {
                (other, node)
            };
            let relation = Relation::parse(&relation).ok_or_else(|| {
                Error::invalid(
                    registry,
                    format!(
                        "the stored edge {child} -> {parent} is damaged: '{relation}' is not a relation"
                    ),
                )
            })?;
            graph.edges.push(Edge {
                child,
                parent,
                relation,
            });
        }
    }
    graph.nodes.sort();
    graph.nodes.dedup_by(|a, b| a.digest == b.digest);
    graph.edges.sort();
    check_edges(registry, &graph, &stated, towards_parents)?;
    Ok(graph)
}

fn check_edges(
    registry: &Path,
    graph: &Subgraph,
    stated: &BTreeMap<RootDigest, BTreeSet<(RootDigest, Relation)>>,
    towards_parents: bool,
) -> Result<()> {
    let label = |digest: &RootDigest| {
        graph
            .nodes
            .binary_search_by(|n| n.digest.cmp(digest))
            .ok()
            .and_then(|i| {
                let node = &graph.nodes[i];
                node.name.as_ref().zip(node.version.as_ref())
            })
            .map(|(name, version)| format!("{name}@{version} ({digest})"))
            .unwrap_or_else(|| digest.to_string())
    };
    let damaged = |digest: &RootDigest, problem: String| {
        Error::invalid(
            registry,
            format!("the stored record {} is damaged: {problem}", label(digest)),
        )
    };
    for edge in &graph.edges {
        let backed = stated
            .get(&edge.child)
            .is_some_and(|parents| parents.contains(&(edge.parent, edge.relation)));
        if !backed {
            return Err(damaged(
                &edge.child,
                format!(
                    "the registry's index has the parent {} ({}), which its statement does not state",
                    edge.parent, edge.relation
                ),
            ));
        }
    }
    if towards_parents {
        // Every parent edge of every reached record was fetched: none may be missing.
        let indexed: BTreeSet<(RootDigest, RootDigest, Relation)> = graph
            .edges
            .iter()
            .map(|e| (e.child, e.parent, e.relation))
            .collect();
        for (child, parents) in stated {
            if let Some((parent, relation)) = parents
                .iter()
                .find(|(p, r)| !indexed.contains(&(*child, *p, *r)))
            {
                return Err(damaged(
                    child,
                    format!(
                        "its statement states the parent {parent} ({relation}), which the registry's index lacks"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// What the record already stored under an entry's digest is.
pub(crate) struct StoredUnderDigest {
    pub name: String,
    pub version: String,
    pub statement: Vec<u8>,
    pub bundle: Option<Vec<u8>>,
}

/// What to do with an entry whose digest is already stored: nothing (counted in `outcome`), add
/// its signature (`Ok(Some(bundle))`), or refuse the whole write.
pub(crate) fn against_stored<'e>(
    registry: &Path,
    entry: &'e Entry,
    stored: &StoredUnderDigest,
    outcome: &mut InsertOutcome,
) -> Result<Option<&'e [u8]>> {
    let record = &entry.record;
    let same_id = stored.name == record.name && stored.version == record.version;
    if same_id && stored.statement == entry.statement {
        // The same record: only a signature can be new, and only where none is.
        return Ok(match (&stored.bundle, &entry.bundle) {
            (None, Some(new)) => {
                outcome.signed += 1;
                Some(new)
            }
            (Some(old), Some(new)) if old != new => {
                outcome.unchanged += 1;
                outcome.signature_kept += 1;
                None
            }
            _ => {
                outcome.unchanged += 1;
                None
            }
        });
    }
    let refusal = if same_id {
        format!(
            "{} is already recorded with different provenance",
            record.id()
        )
    } else {
        format!(
            "{} is already recorded as {}@{}; one model digest has one name@version",
            record.digest, stored.name, stored.version
        )
    };
    Err(refused(registry, refusal))
}

/// The refusal of a write whose name@version is held by another digest.
pub(crate) fn id_taken(registry: &Path, record: &LineageRecord, other: &[u8]) -> Error {
    refused(
        registry,
        format!(
            "{} is already recorded with digest {}",
            record.id(),
            digest_of(other)
        ),
    )
}

/// The refusal of a write that would close a cycle through `parent`.
pub(crate) fn cycle(registry: &Path, record: &LineageRecord, parent: &RootDigest) -> Error {
    refused(
        registry,
        format!(
            "{} would be its own ancestor (its parent {parent} already descends from it): lineage cannot have cycles",
            record.id()
        ),
    )
}

fn refused(registry: &Path, refusal: String) -> Error {
    Error::invalid(registry, format!("refused, nothing recorded: {refusal}"))
}

/// Whether a signature of the stored record `digest` (name, version, Statement, and whether it is
/// signed, when one is stored) is to be written: `Ok(false)` when it is signed already, an error
/// when no record holds the digest or the signature is over other bytes.
pub(crate) fn signature_applies(
    registry: &Path,
    digest: &RootDigest,
    stored: Option<(String, String, Vec<u8>, bool)>,
    statement: &[u8],
) -> Result<bool> {
    let Some((name, version, stored_statement, signed)) = stored else {
        return Err(Error::invalid(
            registry,
            format!("no record holds {digest}; nothing signed"),
        ));
    };
    if stored_statement != statement {
        return Err(Error::invalid(
            registry,
            format!(
                "refused, nothing signed: the signature is over other bytes than the stored record {name}@{version}"
            ),
        ));
    }
    Ok(!signed)
}
