//! Drawing lineage: Graphviz DOT, Mermaid, or JSON (nodes and child-to-parent edges). Edges
//! point from parent to child, the direction models flow.

use std::fmt::Write as _;

use super::store::Subgraph;

/// The text format [`render_graph`] draws in (`lineage graph --format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
    /// The subgraph's nodes and edges as pretty-printed JSON.
    Json,
}

/// Draws `graph` in `format`: each model labelled `name@version` and its short digest (models with
/// no record marked as such), and an edge from each parent to its child labelled with the relation.
/// The text ends with a newline.
pub fn render_graph(graph: &Subgraph, format: GraphFormat) -> String {
    let label = |i: usize| {
        let node = &graph.nodes[i];
        let short = &node.digest.hex()[..12];
        match (&node.name, &node.version) {
            (Some(name), Some(version)) => format!("{name}@{version}\\nsha256:{short}"),
            _ => format!("(not recorded)\\nsha256:{short}"),
        }
    };
    let index = |digest: &crate::RootDigest| graph.nodes.iter().position(|n| &n.digest == digest);
    let mut out = String::new();
    match format {
        GraphFormat::Json => {
            out = serde_json::to_string_pretty(graph).expect("graphs serialise");
            out.push('\n');
        }
        GraphFormat::Dot => {
            out.push_str(
                "digraph lineage {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
            );
            for (i, node) in graph.nodes.iter().enumerate() {
                let style = if node.name.is_none() {
                    ", style=dashed"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "  n{i} [label=\"{}\"{style}];",
                    label(i).replace('"', "\\\"")
                );
            }
            for edge in &graph.edges {
                if let (Some(child), Some(parent)) = (index(&edge.child), index(&edge.parent)) {
                    let _ = writeln!(
                        out,
                        "  n{parent} -> n{child} [label=\"{}\"];",
                        edge.relation
                    );
                }
            }
            out.push_str("}\n");
        }
        GraphFormat::Mermaid => {
            out.push_str("graph LR\n");
            for (i, node) in graph.nodes.iter().enumerate() {
                let text = label(i).replace("\\n", "<br/>").replace('"', "#quot;");
                if node.name.is_none() {
                    let _ = writeln!(out, "  n{i}[/\"{text}\"/]");
                } else {
                    let _ = writeln!(out, "  n{i}[\"{text}\"]");
                }
            }
            for edge in &graph.edges {
                if let (Some(child), Some(parent)) = (index(&edge.child), index(&edge.parent)) {
                    let _ = writeln!(out, "  n{parent} -->|{}| n{child}", edge.relation);
                }
            }
        }
    }
    out
}
