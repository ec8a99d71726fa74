//! `lineage trace`, `lineage descendants` and `lineage graph`.

use std::collections::BTreeSet;

use clap::{Args, ValueEnum};
use modelprov::lineage::{GraphFormat, Store, Subgraph, render_graph};
use modelprov::{Result, RootDigest};

use super::{RegistryArgs, find};
use crate::exit::Outcome;
use crate::output::print_json;

#[derive(Args, Debug)]
pub struct TraceArgs {
    /// NAME@VERSION, or NAME for its newest version.
    pub id: String,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Print the nodes and edges as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    Dot,
    Mermaid,
    Json,
}

#[derive(Args, Debug)]
pub struct GraphArgs {
    /// The model whose ancestors and descendants to draw [default: the whole registry].
    pub id: Option<String>,

    #[arg(long, short = 'f', value_enum, default_value = "dot")]
    pub format: FormatArg,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

pub fn run_trace(args: TraceArgs, ancestors: bool) -> Result<Outcome> {
    let store = args.registry.open_read_only()?;
    let entry = find(&*store, &args.id, store.location())?;
    let digest = entry.record.digest;
    let graph = if ancestors {
        store.ancestors(&digest)?
    } else {
        store.descendants(&digest)?
    };
    if args.json {
        print_json(&graph);
        return Ok(Outcome::Ok);
    }
    let mut printed = BTreeSet::new();
    print_tree(&graph, &digest, ancestors, "", None, &mut printed);
    let others = graph.nodes.len() - 1;
    outln!(
        "{others} {}",
        match (ancestors, others == 1) {
            (true, true) => "ancestor",
            (true, false) => "ancestors",
            (false, true) => "descendant",
            (false, false) => "descendants",
        }
    );
    Ok(Outcome::Ok)
}

/// An indented tree; a model reached twice (a merge's shared ancestor) is printed once and
/// referred to after.
fn print_tree(
    graph: &Subgraph,
    digest: &RootDigest,
    ancestors: bool,
    indent: &str,
    relation: Option<&str>,
    printed: &mut BTreeSet<RootDigest>,
) {
    let node = graph.nodes.iter().find(|n| &n.digest == digest);
    let label = match node.and_then(|n| n.name.as_ref().zip(n.version.as_ref())) {
        Some((name, version)) => format!("{name}@{version}"),
        None => "(not recorded)".to_string(),
    };
    let prefix = relation.map(|r| format!("{r} ")).unwrap_or_default();
    let seen = !printed.insert(*digest);
    outln!(
        "{indent}{prefix}{label} {digest}{}",
        if seen { " (above)" } else { "" }
    );
    if seen {
        return;
    }
    let next: Vec<_> = graph
        .edges
        .iter()
        .filter(|e| {
            if ancestors {
                &e.child == digest
            } else {
                &e.parent == digest
            }
        })
        .collect();
    for edge in next {
        let other = if ancestors { &edge.parent } else { &edge.child };
        print_tree(
            graph,
            other,
            ancestors,
            &format!("{indent}  "),
            Some(edge.relation.as_str()),
            printed,
        );
    }
}

pub fn run_graph(args: GraphArgs) -> Result<Outcome> {
    let store = args.registry.open_read_only()?;
    let graph = match &args.id {
        Some(id) => {
            let digest = find(&*store, id, store.location())?.record.digest;
            let mut graph = store.ancestors(&digest)?;
            let below = store.descendants(&digest)?;
            graph.nodes.extend(below.nodes);
            graph.edges.extend(below.edges);
            graph.nodes.sort();
            graph.nodes.dedup();
            graph.edges.sort();
            graph.edges.dedup();
            graph
        }
        None => whole_registry(&*store)?,
    };
    let format = match args.format {
        FormatArg::Dot => GraphFormat::Dot,
        FormatArg::Mermaid => GraphFormat::Mermaid,
        FormatArg::Json => GraphFormat::Json,
    };
    out!("{}", render_graph(&graph, format));
    Ok(Outcome::Ok)
}

fn whole_registry(store: &dyn Store) -> Result<Subgraph> {
    let mut graph = Subgraph::default();
    for entry in store.all()? {
        let record = &entry.record;
        graph.nodes.push(modelprov::lineage::Node {
            digest: record.digest,
            name: Some(record.name.clone()),
            version: Some(record.version.clone()),
        });
        for parent in &record.parents {
            graph.edges.push(modelprov::lineage::Edge {
                child: record.digest,
                parent: parent.digest,
                relation: parent.relation,
            });
        }
    }
    let recorded: BTreeSet<RootDigest> = graph.nodes.iter().map(|n| n.digest).collect();
    let missing: BTreeSet<RootDigest> = graph
        .edges
        .iter()
        .map(|e| e.parent)
        .filter(|p| !recorded.contains(p))
        .collect();
    graph
        .nodes
        .extend(missing.into_iter().map(|digest| modelprov::lineage::Node {
            digest,
            name: None,
            version: None,
        }));
    graph.nodes.sort();
    graph.edges.sort();
    Ok(graph)
}
