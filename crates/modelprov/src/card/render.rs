//! Rendering a card: the Markdown body with the standard sections filled from the structured
//! fields, the README (front matter and body), and standalone HTML.

use std::fmt::Write as _;

use pulldown_cmark::{Event, Options, Parser, html};
use serde_json::Value;

use super::fields::{CardData, Provenance, TextList};
use super::file::{Card, CardFormat};

/// The README for `card`. A README card keeps its own body unless `regenerate_body` (or it has
/// none) and its front matter exactly as written; metadata files get a front matter and a body.
pub fn render_readme(card: &Card, regenerate_body: bool) -> String {
    let data = CardData::from_metadata(&card.metadata);
    let mut readme = match card.format {
        CardFormat::Readme => card.clone(),
        CardFormat::Yaml | CardFormat::Json => {
            Card::new(&card.path, card.metadata.clone(), String::new())
        }
    };
    if regenerate_body || readme.body.trim().is_empty() {
        readme.body = render_markdown_body(&data);
    }
    readme.to_text()
}

/// Standalone HTML: the body (the card's own, or generated) with raw HTML in it shown as text,
/// so a card cannot inject script into the page.
pub fn render_html(card: &Card) -> String {
    let data = CardData::from_metadata(&card.metadata);
    let body = if card.body.trim().is_empty() {
        render_markdown_body(&data)
    } else {
        card.body.clone()
    };
    let events = Parser::new_ext(&body, Options::ENABLE_TABLES).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut content = String::new();
    html::push_html(&mut content, events);
    let title = title_of(&data);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n</head>\n<body>\n{content}</body>\n</html>\n",
        escape_html(&title)
    )
}

fn title_of(data: &CardData) -> String {
    let provenance = data.provenance.clone().unwrap_or_default();
    provenance
        .name
        .map(|n| n.0)
        .or_else(|| {
            data.model_index
                .as_ref()
                .and_then(|i| i.first())
                .and_then(|e| e.name.clone())
                .map(|n| n.0)
        })
        .unwrap_or_else(|| "Model card".into())
}

/// The Markdown body: a section per provenance area, with what the card says.
pub fn render_markdown_body(data: &CardData) -> String {
    let provenance = data.provenance.clone().unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(out, "\n# {}\n", md(&title_of(data)));
    model_details(&mut out, data, &provenance);
    training(&mut out, data, &provenance);
    evaluation(&mut out, data, &provenance);
    if let Some(intended) = &provenance.intended_use {
        out.push_str("## Intended use\n\n");
        list_section(&mut out, "Primary use", &intended.primary);
        list_section(&mut out, "Secondary use", &intended.secondary);
        list_section(&mut out, "Out of scope", &intended.out_of_scope);
    }
    if let Some(ethics) = &provenance.ethical_considerations {
        out.push_str("## Ethical considerations\n\n");
        list_section(&mut out, "Risks", &ethics.risks);
        list_section(&mut out, "Mitigations", &ethics.mitigations);
    }
    if let Some(maintenance) = &provenance.maintenance {
        out.push_str("## Maintenance\n\n");
        let rows = [
            (
                "Versioning",
                maintenance.versioning.as_ref().map(|t| md(&t.0)),
            ),
            (
                "Update frequency",
                maintenance.update_frequency.as_ref().map(|t| md(&t.0)),
            ),
        ];
        table(&mut out, &rows);
    }
    out
}

fn model_details(out: &mut String, data: &CardData, provenance: &Provenance) {
    let facts = provenance.model.clone().unwrap_or_default();
    let base = if data.base_model.is_empty() {
        None
    } else {
        let models = data
            .base_model
            .0
            .iter()
            .map(|m| format!("`{}`", code(&m.0)))
            .collect::<Vec<_>>()
            .join(", ");
        Some(match &data.base_model_relation {
            Some(relation) => format!("{models} ({})", md(&relation.0)),
            None => models,
        })
    };
    let files = facts.files.as_ref().map(|f| {
        let formats = f
            .formats
            .iter()
            .map(|(format, s)| format!("{} {}", s.count, md(format)))
            .collect::<Vec<_>>()
            .join(", ");
        format!("{} files, {} bytes ({formats})", f.count, f.bytes)
    });
    let rows = [
        ("Version", provenance.version.as_ref().map(|t| md(&t.0))),
        ("Created", provenance.created.as_ref().map(|t| md(&t.0))),
        (
            "Last updated",
            provenance.last_updated.as_ref().map(|t| md(&t.0)),
        ),
        ("Creators", joined(&provenance.creators)),
        ("Licence", data.license.as_ref().map(|t| md(&t.0))),
        ("Base model", base),
        ("Language", joined(&data.language)),
        ("Library", data.library_name.as_ref().map(|t| md(&t.0))),
        ("Task", data.pipeline_tag.as_ref().map(|t| md(&t.0))),
        (
            "Architecture",
            facts.architecture.as_ref().map(|t| md(&t.0)),
        ),
        ("Parameters", facts.parameters.map(|p| p.to_string())),
        ("Weights dtype", facts.dtype.as_ref().map(|t| md(&t.0))),
        ("Files", files),
        (
            "Model digest",
            facts.digest.as_ref().map(|t| format!("`{}`", code(&t.0))),
        ),
    ];
    if rows.iter().any(|(_, v)| v.is_some()) {
        out.push_str("## Model details\n\n");
        table(out, &rows);
    }
}

fn training(out: &mut String, data: &CardData, provenance: &Provenance) {
    let training = provenance.training.clone().unwrap_or_default();
    if training.data.is_none() && training.procedure.is_none() && data.datasets.is_empty() {
        return;
    }
    out.push_str("## Training\n\n");
    if training.data.is_some() || !data.datasets.is_empty() {
        let training_data = training.data.clone().unwrap_or_default();
        out.push_str("### Training data\n\n");
        let rows = [
            ("Sources", joined(&training_data.sources)),
            ("Datasets", joined(&data.datasets)),
            ("Size", training_data.size.as_ref().map(|t| md(&t.0))),
            ("Preprocessing", joined(&training_data.preprocessing)),
        ];
        table(out, &rows);
    }
    if let Some(procedure) = &training.procedure {
        out.push_str("### Training procedure\n\n");
        let rows = [
            ("Method", procedure.method.as_ref().map(|t| md(&t.0))),
            ("Duration", procedure.duration.as_ref().map(|t| md(&t.0))),
            ("Compute", procedure.compute.as_ref().map(|t| md(&t.0))),
        ];
        table(out, &rows);
        if !procedure.hyperparameters.is_empty() {
            out.push_str("| Hyperparameter | Value |\n|---|---|\n");
            for (name, value) in &procedure.hyperparameters {
                let _ = writeln!(out, "| {} | {} |", md(name), md(&value_text(value)));
            }
            out.push('\n');
        }
    }
}

fn evaluation(out: &mut String, data: &CardData, provenance: &Provenance) {
    let evaluation = provenance.evaluation.clone().unwrap_or_default();
    let index_rows: Vec<[String; 4]> = data
        .model_index
        .iter()
        .flatten()
        .flat_map(|entry| &entry.results)
        .flat_map(|result| {
            let dataset = result
                .dataset
                .get("name")
                .map(value_text)
                .unwrap_or_default();
            let task = result.task.get("type").map(value_text).unwrap_or_default();
            result.metrics.iter().map(move |metric| {
                [
                    dataset.clone(),
                    task.clone(),
                    metric.get("type").map(value_text).unwrap_or_default(),
                    metric.get("value").map(value_text).unwrap_or_default(),
                ]
            })
        })
        .collect();
    if evaluation.results.is_empty() && evaluation.limitations.is_empty() && index_rows.is_empty() {
        return;
    }
    out.push_str("## Evaluation\n\n");
    if !evaluation.results.is_empty() {
        out.push_str("| Benchmark | Metric | Value |\n|---|---|---|\n");
        for result in &evaluation.results {
            let metric = result.metric.as_ref().map(|m| md(&m.0)).unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | {metric} | {} |",
                md(&result.benchmark.0),
                md(&value_text(&result.value))
            );
        }
        out.push('\n');
    }
    if !index_rows.is_empty() {
        out.push_str("| Dataset | Task | Metric | Value |\n|---|---|---|---|\n");
        for [dataset, task, metric, value] in &index_rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                md(dataset),
                md(task),
                md(metric),
                md(value)
            );
        }
        out.push('\n');
    }
    list_section(out, "Limitations", &evaluation.limitations);
}

fn list_section(out: &mut String, heading: &str, items: &TextList) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "### {heading}\n");
    for item in &items.0 {
        let _ = writeln!(out, "- {}", md(&item.0));
    }
    out.push('\n');
}

fn table(out: &mut String, rows: &[(&str, Option<String>)]) {
    out.push_str("| | |\n|---|---|\n");
    for (label, value) in rows {
        if let Some(value) = value {
            let _ = writeln!(out, "| {label} | {value} |");
        }
    }
    out.push('\n');
}

fn joined(list: &TextList) -> Option<String> {
    (!list.is_empty()).then(|| {
        list.0
            .iter()
            .map(|t| md(&t.0))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Card text as inert Markdown on one line: punctuation that Markdown acts on is escaped, HTML
/// characters become entities, and line breaks become spaces (tables are one line per row).
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Text inside a code span: backticks and table pipes cannot be escaped there, so they go.
fn code(text: &str) -> String {
    text.replace(['`', '|', '\n', '\r'], "")
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    #[test]
    fn html_never_passes_raw_html_through() {
        let card = Card::parse(
            Path::new("README.md"),
            CardFormat::Readme,
            "---\nprovenance:\n  name: \"<script>alert(1)</script>\"\n---\n# Hi <img src=x onerror=alert(1)>\n\n<script>alert(2)</script>\n",
        )
        .unwrap();
        let html = render_html(&card);
        assert!(
            !html.contains("<script>") && !html.contains("<img"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;alert(1)"), "{html}");
    }

    #[test]
    fn generated_body_escapes_card_text() {
        let data = CardData::from_metadata(
            json!({"provenance": {"name": "m", "evaluation": {"limitations": ["a | b *c*", "<b>x</b>"]}}})
                .as_object()
                .unwrap(),
        );
        let body = render_markdown_body(&data);
        assert!(body.contains("- a \\| b \\*c\\*\n"), "{body}");
        assert!(body.contains("- &lt;b&gt;x&lt;/b&gt;\n"), "{body}");
    }
}
