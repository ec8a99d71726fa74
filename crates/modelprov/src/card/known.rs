//! The values the Hugging Face Hub knows: licence ids (with their SPDX equivalents), pipeline tags
//! and library names, from the TSV snapshots in `crates/modelprov/data/cards/` (each names its
//! source and date), and ISO 639 language codes from `isolang`.

use std::collections::HashSet;
use std::sync::LazyLock;

const LICENSES_TSV: &str = include_str!("../../data/cards/hf-license-ids-to-spdx.tsv");
const PIPELINE_TAGS_TSV: &str = include_str!("../../data/cards/hf-pipeline-tags.tsv");
const LIBRARIES_TSV: &str = include_str!("../../data/cards/hf-library-names.tsv");

/// One licence id the Hub lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubLicense {
    /// The Hub's id for the licence (`apache-2.0`).
    pub id: &'static str,
    /// The licence's full name (the id when the snapshot gives none).
    pub name: &'static str,
    /// The SPDX id, when there is one.
    pub spdx: Option<&'static str>,
    /// The SPDX id is this project's reading of an ambiguous Hub id (`gpl-3.0` could be -only or
    /// -or-later).
    pub alias: bool,
    /// A link to the licence text, when the snapshot gives one.
    pub link: Option<&'static str>,
}

/// What a `license:` value is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LicenseInfo {
    /// A Hub id, written as the Hub spells it.
    Hub(HubLicense),
    /// A Hub id in other letter case (`Apache-2.0` is also SPDX, handled before this).
    HubOtherCase(HubLicense),
    /// A valid SPDX licence expression that is not a Hub id (`MIT OR Apache-2.0`).
    Spdx(String),
    /// Neither a Hub id (in any letter case) nor a valid SPDX expression.
    Unknown,
}

/// Rows of a TSV snapshot: comment lines and the header skipped.
fn rows(tsv: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    tsv.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .skip(1)
        .map(|line| line.split('\t').collect())
}

static HUB_LICENSES: LazyLock<Vec<HubLicense>> = LazyLock::new(|| {
    rows(LICENSES_TSV)
        .map(|cols| {
            let col = |i: usize| cols.get(i).copied().filter(|s| !s.is_empty());
            HubLicense {
                id: cols[0],
                name: col(1).unwrap_or(cols[0]),
                spdx: col(2),
                alias: col(3) == Some("alias"),
                link: col(4),
            }
        })
        .collect()
});

static PIPELINE_TAGS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| rows(PIPELINE_TAGS_TSV).map(|cols| cols[0]).collect());

static LIBRARIES: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| rows(LIBRARIES_TSV).map(|cols| cols[0]).collect());

static LIBRARY_SET: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| LIBRARIES.iter().copied().collect());

/// The licences the Hub lists, from the dated snapshot.
pub fn hub_licenses() -> &'static [HubLicense] {
    &HUB_LICENSES
}

/// The pipeline tags (tasks) the Hub lists, from the dated snapshot.
pub fn pipeline_tags() -> &'static [&'static str] {
    &PIPELINE_TAGS
}

/// The library names the Hub lists, from the dated snapshot.
pub fn library_names() -> &'static [&'static str] {
    &LIBRARIES
}

/// Whether `name` is a library name the Hub lists (exact spelling).
pub fn is_library_name(name: &str) -> bool {
    LIBRARY_SET.contains(name)
}

/// Classifies a licence value: a Hub id first (as the Hub matches it), then an SPDX expression,
/// then a Hub id in other letter case.
pub fn license_info(value: &str) -> LicenseInfo {
    if let Some(hub) = HUB_LICENSES.iter().find(|l| l.id == value) {
        return LicenseInfo::Hub(hub.clone());
    }
    if spdx::Expression::parse(value).is_ok() {
        return LicenseInfo::Spdx(value.to_string());
    }
    if let Some(hub) = HUB_LICENSES
        .iter()
        .find(|l| l.id.eq_ignore_ascii_case(value))
    {
        return LicenseInfo::HubOtherCase(hub.clone());
    }
    LicenseInfo::Unknown
}

/// Whether `code` is an ISO 639-1 (two letters) or ISO 639-3 (three letters) language code,
/// lower case as the Hub writes them. A region or script after `-` or `_` (`en-US`, `zh-Hans`) is
/// allowed; only the language part is checked.
pub fn is_language_code(code: &str) -> bool {
    let primary = code.split(['-', '_']).next().unwrap_or(code);
    match primary.len() {
        2 => isolang::Language::from_639_1(primary).is_some(),
        3 => isolang::Language::from_639_3(primary).is_some(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_load() {
        assert!(hub_licenses().len() > 80);
        assert!(pipeline_tags().contains(&"text-generation"));
        assert!(is_library_name("transformers") && is_library_name("peft"));
    }

    #[test]
    fn licenses() {
        let LicenseInfo::Hub(apache) = license_info("apache-2.0") else {
            panic!()
        };
        assert_eq!(apache.spdx, Some("Apache-2.0"));
        assert!(matches!(license_info("llama3.1"), LicenseInfo::Hub(l) if l.spdx.is_none()));
        assert!(matches!(license_info("gpl-3.0"), LicenseInfo::Hub(l) if l.alias));
        assert_eq!(
            license_info("MIT OR Apache-2.0"),
            LicenseInfo::Spdx("MIT OR Apache-2.0".into())
        );
        assert!(matches!(license_info("CC-BY-NC-4.0"), LicenseInfo::Spdx(_)));
        assert!(matches!(
            license_info("LLAMA3"),
            LicenseInfo::HubOtherCase(_)
        ));
        assert_eq!(license_info("apache 2"), LicenseInfo::Unknown);
    }

    #[test]
    fn languages() {
        for code in ["en", "no", "fra", "zh-Hans", "pt_BR", "yue"] {
            assert!(is_language_code(code), "{code}");
        }
        for code in ["english", "xx", "e", "zzz"] {
            assert!(!is_language_code(code), "{code}");
        }
    }
}
