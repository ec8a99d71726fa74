//! Model cards: Hugging Face `README.md` cards (YAML front matter + Markdown), YAML and JSON card
//! files, modelprov's provenance sections, offline validation, drafting from a model folder,
//! rendering, and the signed binding of a card to a model digest. docs/model-cards.md has the
//! format.
//!
//! Round trip: a card remembers the text it was read from. Writing it back gives those bytes
//! unless something was edited; then only the edited top-level fields are rewritten.

mod binding;
mod completeness;
mod document;
mod emit;
mod fields;
mod file;
mod init;
mod known;
mod location;
mod render;
mod suggest;
mod validate;
mod yaml;

pub use crate::safetensors_header::{SafetensorsSummary, read_safetensors_summary};
pub use binding::{
    CARD_PREDICATE_TYPE, CardAttestation, card_sha256, card_statement, parse_card_statement,
    sign_card, verify_card_bundle,
};
pub use completeness::{Completeness, completeness};
pub use document::{CardText, FrontMatter};
pub use emit::emit_mapping;
pub use fields::*;
pub use file::{Card, CardFormat};
pub use init::{
    DATE_FIELDS, ForeignField, IDENTITY_FIELDS, ModelSurvey, check_date, drop_foreign_identity,
    impossible_date, survey_model,
};
pub use known::{LicenseInfo, license_info};
pub use location::check_card_location;
pub use render::{render_html, render_markdown_body, render_readme};
pub use validate::{Finding, Severity, model_digest_finding, validate};
pub use yaml::{YamlDocument, YamlError, parse_yaml};
