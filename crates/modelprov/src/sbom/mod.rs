//! AI bills of materials: CycloneDX ML-BOMs (and SPDX 3.0.1 AI documents) of a model with its
//! files, card, lineage, datasets, libraries and known vulnerabilities, every piece bound to the
//! model digest; offline validation against the official schemas; diffs.

mod attestation;
mod cyclonedx;
mod deps;
mod diff;
mod generate;
mod inputs;
mod osv;
mod spdx;
mod validate;

use std::sync::LazyLock;

pub use attestation::{
    CYCLONEDX_PREDICATE_TYPE, SPDX_PREDICATE_TYPE, described_digest, sbom_statement,
    verify_sbom_bundle,
};
pub use cyclonedx::{CycloneDxVersion, cyclonedx};
pub use deps::{DEPENDENCY_FILES, Ecosystem, Package, read_dependency_file};
pub use diff::{ComponentChange, ComponentFacts, SbomDiff, diff_sboms};
pub use generate::{DocumentFormat, SbomRequest, gather_inputs, sbom_document, source_date_epoch};
pub use inputs::{
    Ancestor, CardInput, DatasetInput, LicenseChoice, SbomInputs, ancestors_from_lineage,
    datasets_from_record,
};
pub use osv::{Advisory, Match, OsvDatabase};
pub use spdx::spdx;
pub use validate::{SPDX_CONTEXT, SbomFormat, SbomProblem, detect_format, validate_sbom};

/// Reads an SBOM file (`sbom validate`, `sbom diff`, `sign --sbom`, `verify --sbom`) as JSON,
/// with a size cap and JSON's nesting bound; the error names the file.
pub fn read_sbom(path: &std::path::Path) -> crate::Result<serde_json::Value> {
    let bytes = crate::fsutil::read_capped(path, crate::fsutil::limits::SBOM_BYTES, "an SBOM")?;
    crate::fsutil::parse_json(&bytes)
        .map_err(|problem| crate::Error::invalid(path, format!("not JSON: {problem}")))
}

/// A UUID derived from the document's content (SHA-256 of its JSON, as a version-5-style UUID in
/// the URL namespace), so that identical inputs give identical serial numbers.
pub fn serial_number(document: &serde_json::Value) -> uuid::Uuid {
    use sha2::{Digest as _, Sha256};
    let digest = Sha256::digest(serde_json::to_vec(document).expect("documents serialise"));
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("urn:modelprov:sbom:{}", hex::encode(digest)).as_bytes(),
    )
}

/// What an SBOM says, without its own serial number or time: the seed of SPDX element ids.
pub(crate) fn inputs_fingerprint(inputs: &SbomInputs) -> serde_json::Value {
    serde_json::json!({
        "digest": inputs.digest.to_string(),
        "name": inputs.name,
        "version": inputs.version,
        "card": inputs.card.as_ref().map(|c| &c.sha256),
        "ancestors": inputs.ancestors.iter().map(|a| (a.digest.map(|d| d.to_string()), &a.name)).collect::<Vec<_>>(),
        "datasets": inputs.datasets.iter().map(|d| &d.name).collect::<Vec<_>>(),
        "packages": inputs.packages.iter().map(Package::purl).collect::<Vec<_>>(),
        "vulnerabilities": inputs.vulnerabilities.iter().map(|m| &m.advisory.id).collect::<Vec<_>>(),
    })
}

/// SPDX licence ids that CycloneDX's `license.id` accepts (its bundled SPDX list).
static CYCLONEDX_LICENSE_IDS: LazyLock<std::collections::BTreeSet<String>> = LazyLock::new(|| {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../data/sbom/spdx.schema.json"))
            .expect("bundled schema is JSON");
    schema["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .map(str::to_string)
        .collect()
});

/// Whether `id` is an SPDX licence id that CycloneDX's `license.id` accepts (on its bundled SPDX
/// list); any other licence is written as an `expression` or a named licence.
pub fn is_cyclonedx_license_id(id: &str) -> bool {
    CYCLONEDX_LICENSE_IDS.contains(id)
}
