//! `modelprov card init DIR`: draft (or refresh) a model's card from its folder.

use std::path::{Path, PathBuf};

use clap::Args;
use modelprov::card::{
    Card, CardData, check_date, completeness, drop_foreign_identity, impossible_date,
    render_markdown_body, survey_model,
};
use modelprov::{Error, Result};
use serde_json::{Map, Value, json};

use crate::exit::Outcome;
use crate::model_build::build_card_model_manifest;
use crate::output::{is_stdout, warn_all};

#[derive(Args, Debug)]
pub struct InitArgs {
    /// The model folder. Its README.md, if any, is the starting point: everything in it is kept.
    pub model: PathBuf,

    /// Card fields from a YAML or JSON file (a metadata mapping: Hub keys and `provenance`),
    /// merged in before the flags.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,

    /// Model name (provenance.name).
    #[arg(long)]
    pub name: Option<String>,

    /// Model version (provenance.version).
    #[arg(long = "model-version", value_name = "VERSION")]
    pub model_version: Option<String>,

    /// Creation date, YYYY-MM-DD (provenance.created).
    #[arg(long, value_name = "DATE")]
    pub created: Option<String>,

    /// Last update date, YYYY-MM-DD (provenance.last_updated).
    #[arg(long, value_name = "DATE")]
    pub last_updated: Option<String>,

    /// A creator (person or team); repeatable.
    #[arg(long = "creator", value_name = "NAME")]
    pub creators: Vec<String>,

    /// Licence: a Hub licence id or an SPDX expression.
    #[arg(long)]
    pub license: Option<String>,

    /// A base model's Hub id; repeatable (several for a merge).
    #[arg(long = "base-model", value_name = "ID")]
    pub base_models: Vec<String>,

    /// How it derives from the base model: adapter, merge, quantized or finetune.
    #[arg(long, value_name = "RELATION")]
    pub base_model_relation: Option<String>,

    /// A language code (ISO 639); repeatable.
    #[arg(long = "language", value_name = "CODE")]
    pub languages: Vec<String>,

    /// The Hub task (pipeline_tag), e.g. text-generation.
    #[arg(long)]
    pub pipeline_tag: Option<String>,

    /// The library that loads the model (library_name), e.g. transformers.
    #[arg(long)]
    pub library_name: Option<String>,

    /// Where to write the card [default: stdout].
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Overwrite --output when it exists and is not the model's own README.md.
    #[arg(long)]
    pub force: bool,

    /// No summary or warnings on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// The `provenance.model` fields `card init` measures.
const MEASURED: &[&str] = &[
    "digest",
    "architecture",
    "model_type",
    "dtype",
    "parameters",
    "files",
];

pub fn run(args: InitArgs) -> Result<Outcome> {
    if !args.model.is_dir() {
        return Err(Error::Usage(format!(
            "{} is not a folder; card init drafts a card for a model folder",
            args.model.display()
        )));
    }
    let readme = args.model.join("README.md");
    if let Some(output) = args.output.as_deref().filter(|path| !is_stdout(path)) {
        modelprov::card::check_card_location(&args.model, output)?;
    }
    if let Some(output) = &args.output
        && output.exists()
        && !args.force
        && !same_file(output, &readme)
    {
        return Err(Error::Usage(format!(
            "{} exists; pass --force to replace it",
            output.display()
        )));
    }
    // Input errors first, before the model is hashed and before anything is written.
    for (flag, value) in [
        ("--created", &args.created),
        ("--last-updated", &args.last_updated),
    ] {
        if let Some(text) = value {
            check_date(text).map_err(|problem| Error::Usage(format!("{flag}: {problem}")))?;
        }
    }
    let mut card = if readme.is_file() {
        Card::read(&readme)?
    } else {
        Card::new(&readme, Map::new(), String::new())
    };
    let from = match &args.from {
        Some(path) => {
            let from = Card::read(path)?;
            if let Some(problem) = impossible_date(&from) {
                return Err(Error::invalid(path, problem));
            }
            Some(from.metadata)
        }
        None => None,
    };

    let mut warnings = Vec::new();
    let built = build_card_model_manifest(
        &args.model,
        args.output.as_deref(),
        args.quiet,
        &mut warnings,
    )?;
    // A README copied from another model's folder: its identity and measurements are not this
    // model's. They go before --from and the flags, which may set them anew (and then need no
    // warning).
    let dropped = drop_foreign_identity(&mut card, &built.manifest.root_digest());
    for (key, value) in from.into_iter().flatten() {
        merge(&mut card.metadata, key, value);
    }
    apply_flags(&args, &mut card);
    for field in dropped {
        if card.metadata_value(field.field).is_none() {
            warnings.push(field.into());
        }
    }

    let survey = survey_model(&args.model, &built.manifest)?;
    warnings.extend(survey.warnings.iter().cloned());
    // Measured facts replace the earlier measurement whole (a fact that can no longer be measured
    // must not linger); anything else a user put under provenance.model stays.
    let mut model_facts = match card.metadata_value("provenance.model") {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    model_facts.retain(|key, _| !MEASURED.contains(&key.as_str()));
    if let Value::Object(facts) = serde_json::to_value(&survey.facts).expect("facts serialise") {
        model_facts.extend(facts);
    }
    card.set("provenance.model", Value::Object(model_facts));
    for (field, value) in [
        ("library_name", &survey.library_name),
        ("pipeline_tag", &survey.pipeline_tag),
    ] {
        if let Some(value) = value
            && !card.metadata.contains_key(field)
        {
            card.set(field, json!(value));
        }
    }
    if card.body.trim().is_empty() {
        card.body = render_markdown_body(&CardData::from_metadata(&card.metadata));
    }

    match args.output.as_deref().filter(|path| !is_stdout(path)) {
        Some(path) => card.write(path)?,
        None => out!("{}", card.to_text()),
    }
    if !args.quiet {
        warn_all(&warnings, false);
        let score = completeness(&card.metadata);
        errln!(
            "card for {} ({}); completeness {}/{} ({}%){}",
            args.model.display(),
            built.manifest.root_digest(),
            score.present,
            score.total,
            score.percent,
            args.output
                .as_ref()
                .map(|p| format!("; written to {}", p.display()))
                .unwrap_or_default()
        );
    }
    Ok(Outcome::Ok)
}

fn apply_flags(args: &InitArgs, card: &mut Card) {
    let texts = |values: &[String]| json!(values);
    let singles = [
        ("provenance.name", &args.name),
        ("provenance.version", &args.model_version),
        ("provenance.created", &args.created),
        ("provenance.last_updated", &args.last_updated),
        ("license", &args.license),
        ("base_model_relation", &args.base_model_relation),
        ("pipeline_tag", &args.pipeline_tag),
        ("library_name", &args.library_name),
    ];
    for (path, value) in singles {
        if let Some(value) = value {
            card.set(path, json!(value));
        }
    }
    let lists = [
        ("provenance.creators", &args.creators),
        ("language", &args.languages),
    ];
    for (path, values) in lists {
        if !values.is_empty() {
            card.set(path, texts(values));
        }
    }
    // The Hub writes one base model as a string, several as a list.
    match args.base_models.as_slice() {
        [] => {}
        [one] => card.set("base_model", json!(one)),
        many => card.set("base_model", json!(many)),
    }
}

/// Merges `value` into `map[key]`: mappings field by field, anything else replaced.
fn merge(map: &mut Map<String, Value>, key: String, value: Value) {
    match (map.get_mut(&key), value) {
        (Some(Value::Object(existing)), Value::Object(incoming)) => {
            for (k, v) in incoming {
                merge(existing, k, v);
            }
        }
        (_, value) => {
            map.insert(key, value);
        }
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
