//! Dependency files as `sbom generate` reads them: requirements, pyproject.toml, every lock-file
//! kind and config.json. The first byte picks the file name (which picks the format); the rest is
//! the file. Every package found must have a package URL.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use modelprov::sbom::read_dependency_file;

/// Index = first input byte modulo the length; scripts/fuzz prefixes each seed with its index.
const NAMES: &[&str] = &[
    "requirements.txt",
    "pyproject.toml",
    "uv.lock",
    "poetry.lock",
    "Pipfile.lock",
    "Cargo.lock",
    "package-lock.json",
    "config.json",
    "dev-requirements.txt",
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, file)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(first) % NAMES.len()];
    let path = common::write(name, file);
    let Ok(packages) = read_dependency_file(&path) else {
        return;
    };
    for package in &packages {
        let purl = package.purl();
        assert!(purl.starts_with("pkg:"), "{purl}");
    }
});
