//! Dependency files as `sbom generate` reads them: requirements, pyproject.toml, every lock-file
//! kind and config.json. The first byte picks the file name (which picks the format); the rest is
//! the file. Every package found must have a package URL.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use modelprov::sbom::{DEPENDENCY_FILES, read_dependency_file};

/// The names `sbom generate` reads, and one more that matches `*requirements*.txt`. Index = first
/// input byte modulo the count; scripts/fuzz prefixes each seed with its index.
const EXTRA_REQUIREMENTS: &str = "dev-requirements.txt";

fn name(index: u8) -> &'static str {
    let index = usize::from(index) % (DEPENDENCY_FILES.len() + 1);
    DEPENDENCY_FILES
        .get(index)
        .copied()
        .unwrap_or(EXTRA_REQUIREMENTS)
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, file)) = data.split_first() else {
        return;
    };
    let name = name(first);
    let path = common::write(name, file);
    let Ok(packages) = read_dependency_file(&path) else {
        return;
    };
    for package in &packages {
        let purl = package.purl();
        assert!(purl.starts_with("pkg:"), "{purl}");
    }
});
