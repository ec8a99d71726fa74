//! The libraries a model needs, from the files that say so: `requirements.txt`, `pyproject.toml`,
//! `uv.lock`, `poetry.lock`, `Pipfile.lock`, `Cargo.lock`, `package-lock.json`, and the library
//! versions `config.json` records (`transformers_version`). Each becomes a package URL.

use std::path::Path;
use std::str::FromStr;

use packageurl::PackageUrl;
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::fsutil::{limits, parse_json, read_capped_string};

/// Parentheses nested in one requirement (markers such as `(a or (b and c))`). pep508_rs parses
/// markers by recursive descent, so the depth is checked before the line reaches it; real markers
/// nest two or three deep.
const MAX_MARKER_DEPTH: usize = 32;

/// OSV's ecosystem names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Ecosystem {
    /// Python packages: requirements files, `pyproject.toml`, `uv.lock`, `poetry.lock`,
    /// `Pipfile.lock` and `config.json`'s library versions.
    PyPI,
    /// npm packages, from `package-lock.json`.
    #[serde(rename = "npm")]
    Npm,
    /// Rust crates, from `Cargo.lock` (purl type `cargo`).
    #[serde(rename = "crates.io")]
    CratesIo,
}

impl Ecosystem {
    /// The ecosystem's name in OSV records: `PyPI`, `npm` or `crates.io`.
    pub fn osv_name(self) -> &'static str {
        match self {
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Npm => "npm",
            Ecosystem::CratesIo => "crates.io",
        }
    }

    /// The ecosystem an OSV `ecosystem` name denotes; `None` for ecosystems modelprov reads no
    /// dependency files for.
    pub fn from_osv(name: &str) -> Option<Ecosystem> {
        match name {
            "PyPI" => Some(Ecosystem::PyPI),
            "npm" => Some(Ecosystem::Npm),
            "crates.io" => Some(Ecosystem::CratesIo),
            _ => None,
        }
    }

    fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::PyPI => "pypi",
            Ecosystem::Npm => "npm",
            Ecosystem::CratesIo => "cargo",
        }
    }

    /// Names as the ecosystem compares them (PyPI: PEP 503 normalised).
    pub fn normalize(self, name: &str) -> String {
        match self {
            Ecosystem::PyPI => name.to_ascii_lowercase().replace(['_', '.'], "-"),
            _ => name.to_string(),
        }
    }
}

/// A library a model needs, as one dependency file names it; SBOMs identify it by
/// [`Package::purl`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Package {
    /// Where it is published, which decides its purl type and how its versions are ordered.
    pub ecosystem: Ecosystem,
    /// Its name as its ecosystem compares names ([`Ecosystem::normalize`]); a scoped npm name keeps
    /// its `@scope/`.
    pub name: String,
    /// The exact version, when the file pins one.
    pub version: Option<String>,
    /// The file it was found in.
    pub source: String,
}

impl Package {
    fn new(ecosystem: Ecosystem, name: &str, version: Option<&str>, source: &str) -> Package {
        Package {
            ecosystem,
            name: ecosystem.normalize(name),
            version: version.map(str::to_string),
            source: source.to_string(),
        }
    }

    /// Its package URL (`pkg:pypi/torch@2.4.0`), with the version only when pinned.
    pub fn purl(&self) -> String {
        let (namespace, name) = match (self.ecosystem, self.name.split_once('/')) {
            (Ecosystem::Npm, Some((scope, name))) if scope.starts_with('@') => (Some(scope), name),
            _ => (None, self.name.as_str()),
        };
        let mut purl =
            PackageUrl::new(self.ecosystem.purl_type(), name).expect("purl types are valid");
        if let Some(namespace) = namespace {
            purl.with_namespace(namespace);
        }
        if let Some(version) = &self.version {
            purl.with_version(version.as_str());
        }
        purl.to_string()
    }
}

/// File names this module reads.
pub const DEPENDENCY_FILES: &[&str] = &[
    "requirements.txt",
    "pyproject.toml",
    "uv.lock",
    "poetry.lock",
    "Pipfile.lock",
    "Cargo.lock",
    "package-lock.json",
    "config.json",
];

/// The packages one file names. The format comes from the file name (`*requirements*.txt` counts
/// as a requirements file).
pub fn read_dependency_file(path: &Path) -> Result<Vec<Package>> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let invalid = |problem: String| Error::invalid(path, problem);
    let parse: fn(&str, &str) -> std::result::Result<Vec<Package>, String> = match name.as_str() {
        "pyproject.toml" => pyproject,
        "uv.lock" | "poetry.lock" => python_lock,
        "Pipfile.lock" => pipfile_lock,
        "Cargo.lock" => cargo_lock,
        "package-lock.json" => package_lock,
        "config.json" => config_json,
        other if other.ends_with(".txt") && other.contains("requirements") => requirements,
        other => {
            return Err(invalid(format!(
                "'{other}' is not a dependency file modelprov reads ({})",
                DEPENDENCY_FILES.join(", ")
            )));
        }
    };
    let text = read_capped_string(path, limits::DOCUMENT_BYTES, "a dependency file")?;
    let mut packages = parse(&text, &name).map_err(invalid)?;
    packages.sort();
    packages.dedup();
    Ok(packages)
}

/// PEP 508 lines; options (`-r`, `-e`, `--hash`) and URLs are skipped, `\` continues a line.
fn requirements(text: &str, source: &str) -> std::result::Result<Vec<Package>, String> {
    let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
    let mut packages = Vec::new();
    for (number, line) in joined.lines().enumerate() {
        let line = match line.find(" #") {
            Some(at) => &line[..at],
            None => line,
        }
        .trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
            continue;
        }
        let requirement = requirement(line).map_err(|e| format!("line {}: {e}", number + 1))?;
        packages.push(Package::new(
            Ecosystem::PyPI,
            requirement.name.as_ref(),
            pinned(&requirement).as_deref(),
            source,
        ));
    }
    Ok(packages)
}

/// A TOML error as "line L, column C: message". toml's own display quotes the whole offending
/// line, which for a generated or hostile file can be megabytes.
fn toml_problem(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim_end();
    let Some(at) = error.span().map(|span| span.start.min(text.len())) else {
        return message.to_string();
    };
    let before = &text.as_bytes()[..at];
    #[allow(clippy::naive_bytecount)] // once per error message
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    format!("line {line}, column {column}: {message}")
}

/// One PEP 508 requirement, refused before parsing when its parentheses nest too deep (the
/// parser recurses) or when its name ends in `.`, `-` or `_` with more following (`torch- ==2.0`:
/// pep508_rs 0.9.2 panics there instead of erring), by PEP 508's own rule.
fn requirement(
    line: &str,
) -> std::result::Result<pep508_rs::Requirement<pep508_rs::VerbatimUrl>, String> {
    let mut depth = 0usize;
    let mut quote = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => {
                depth += 1;
                if depth > MAX_MARKER_DEPTH {
                    return Err(format!(
                        "parentheses nested deeper than {MAX_MARKER_DEPTH} levels"
                    ));
                }
            }
            (None, ')') => depth = depth.saturating_sub(1),
            // Inside quotes, or any other character.
            _ => {}
        }
    }
    let text = line.trim_start();
    let name_end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        .unwrap_or(text.len());
    let name = &text[..name_end];
    if name.ends_with(['.', '-', '_']) {
        return Err(format!(
            "package name '{name}' must end with a letter or digit (PEP 508)"
        ));
    }
    pep508_rs::Requirement::from_str(line).map_err(|e| e.to_string())
}

/// The version of `name==X` (exactly one `==` specifier), else none.
fn pinned(requirement: &pep508_rs::Requirement<pep508_rs::VerbatimUrl>) -> Option<String> {
    let Some(pep508_rs::VersionOrUrl::VersionSpecifier(specifiers)) = &requirement.version_or_url
    else {
        return None;
    };
    let [only] = specifiers.as_ref() else {
        return None;
    };
    (*only.operator() == pep440_rs::Operator::Equal).then(|| only.version().to_string())
}

fn pyproject(text: &str, source: &str) -> std::result::Result<Vec<Package>, String> {
    let document: toml::Table = toml::from_str(text).map_err(|e| toml_problem(text, &e))?;
    let mut packages = Vec::new();
    let dependencies = document
        .get("project")
        .and_then(|p| p.get("dependencies"))
        .and_then(|d| d.as_array())
        .cloned()
        .unwrap_or_default();
    for dependency in dependencies {
        let Some(line) = dependency.as_str() else {
            return Err("project.dependencies holds a value that is not a string".into());
        };
        let requirement = requirement(line).map_err(|e| format!("project.dependencies: {e}"))?;
        packages.push(Package::new(
            Ecosystem::PyPI,
            requirement.name.as_ref(),
            pinned(&requirement).as_deref(),
            source,
        ));
    }
    Ok(packages)
}

/// `[[package]]` tables with `name` and `version` (uv.lock, poetry.lock); uv's own project
/// (an editable or virtual source) is not a dependency.
fn python_lock(text: &str, source: &str) -> std::result::Result<Vec<Package>, String> {
    toml_lock(text, source, Ecosystem::PyPI, |package| {
        package
            .get("source")
            .and_then(|s| s.as_table())
            .is_some_and(|s| s.contains_key("editable") || s.contains_key("virtual"))
    })
}

/// The `[[package]]` tables of a TOML lock file, less the project's own (`is_project`).
fn toml_lock(
    text: &str,
    source: &str,
    ecosystem: Ecosystem,
    is_project: fn(&toml::Value) -> bool,
) -> std::result::Result<Vec<Package>, String> {
    let document: toml::Table = toml::from_str(text).map_err(|e| toml_problem(text, &e))?;
    let mut packages = Vec::new();
    for package in document
        .get("package")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
    {
        if is_project(package) {
            continue;
        }
        let name = package
            .get("name")
            .and_then(|n| n.as_str())
            .ok_or("a [[package]] without a name")?;
        let version = package.get("version").and_then(|v| v.as_str());
        packages.push(Package::new(ecosystem, name, version, source));
    }
    Ok(packages)
}

fn pipfile_lock(text: &str, source: &str) -> std::result::Result<Vec<Package>, String> {
    let document: Value = parse_json(text.as_bytes())?;
    let mut packages = Vec::new();
    for section in ["default", "develop"] {
        for (name, entry) in document
            .get(section)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let version = entry
                .get("version")
                .and_then(Value::as_str)
                .map(|v| v.trim_start_matches("=="));
            packages.push(Package::new(Ecosystem::PyPI, name, version, source));
        }
    }
    Ok(packages)
}

/// Registry and git packages; workspace members (no `source`) are the project itself.
fn cargo_lock(text: &str, source: &str) -> std::result::Result<Vec<Package>, String> {
    toml_lock(text, source, Ecosystem::CratesIo, |package| {
        package.get("source").is_none()
    })
}

/// Lockfile v2/v3 `packages` (keys `node_modules/...`), or v1 nested `dependencies`.
fn package_lock(text: &str, source: &str) -> std::result::Result<Vec<Package>, String> {
    let document: Value = parse_json(text.as_bytes())?;
    let mut packages = Vec::new();
    if let Some(entries) = document.get("packages").and_then(Value::as_object) {
        for (path, entry) in entries {
            let Some(at) = path.rfind("node_modules/") else {
                continue;
            };
            if entry.get("link").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let name = entry
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(&path[at + "node_modules/".len()..]);
            packages.push(Package::new(
                Ecosystem::Npm,
                name,
                entry.get("version").and_then(Value::as_str),
                source,
            ));
        }
    } else {
        fn walk(dependencies: &Value, source: &str, packages: &mut Vec<Package>) {
            for (name, entry) in dependencies.as_object().into_iter().flatten() {
                packages.push(Package::new(
                    Ecosystem::Npm,
                    name,
                    entry.get("version").and_then(Value::as_str),
                    source,
                ));
                if let Some(nested) = entry.get("dependencies") {
                    walk(nested, source, packages);
                }
            }
        }
        walk(
            document.get("dependencies").unwrap_or(&Value::Null),
            source,
            &mut packages,
        );
    }
    Ok(packages)
}

/// `transformers_version`, `_diffusers_version` and the like: the library that wrote the config.
fn config_json(text: &str, source: &str) -> std::result::Result<Vec<Package>, String> {
    let document: Value = parse_json(text.as_bytes())?;
    let mut packages = Vec::new();
    for (key, library) in [
        ("transformers_version", "transformers"),
        ("_diffusers_version", "diffusers"),
        ("sentence_transformers_version", "sentence-transformers"),
    ] {
        if let Some(version) = document.get(key).and_then(Value::as_str) {
            packages.push(Package::new(
                Ecosystem::PyPI,
                library,
                Some(version),
                source,
            ));
        }
    }
    Ok(packages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(packages: &[Package]) -> Vec<String> {
        packages
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version.as_deref().unwrap_or("*")))
            .collect()
    }

    #[test]
    fn requirements_txt() {
        let text = "# pinned\ntorch==2.3.1\ntransformers>=4.30,<5  # range\n-r other.txt\nSentencePiece == 0.2.0 ; python_version >= '3.8'\nnumpy\\\n  ==1.26.4\n";
        let packages = requirements(text, "requirements.txt").unwrap();
        assert_eq!(
            names(&packages),
            [
                "torch@2.3.1",
                "transformers@*",
                "sentencepiece@0.2.0",
                "numpy@1.26.4"
            ]
        );
        assert!(
            requirements("torch==\n", "requirements.txt")
                .unwrap_err()
                .starts_with("line 1:")
        );
    }

    #[test]
    fn lock_files() {
        let uv = "[[package]]\nname = \"me\"\nversion = \"0.1.0\"\nsource = { editable = \".\" }\n[[package]]\nname = \"Torch\"\nversion = \"2.3.1\"\nsource = { registry = \"https://pypi.org/simple\" }\n";
        assert_eq!(names(&python_lock(uv, "uv.lock").unwrap()), ["torch@2.3.1"]);
        let cargo = "version = 4\n[[package]]\nname = \"me\"\nversion = \"0.1.0\"\n[[package]]\nname = \"serde\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        assert_eq!(
            names(&cargo_lock(cargo, "Cargo.lock").unwrap()),
            ["serde@1.0.0"]
        );
        let npm = r#"{"lockfileVersion": 3, "packages": {"": {"name": "me"}, "node_modules/@scope/a": {"version": "1.0.0"}, "node_modules/b/node_modules/c": {"version": "2.0.0"}}}"#;
        let packages = package_lock(npm, "package-lock.json").unwrap();
        assert_eq!(names(&packages), ["@scope/a@1.0.0", "c@2.0.0"]);
        assert_eq!(packages[0].purl(), "pkg:npm/%40scope/a@1.0.0");
        let pipfile = r#"{"default": {"requests": {"version": "==2.31.0"}}, "develop": {"pytest": {"version": "==8.0.0"}}}"#;
        assert_eq!(
            names(&pipfile_lock(pipfile, "Pipfile.lock").unwrap()),
            ["requests@2.31.0", "pytest@8.0.0"]
        );
        let project = "[project]\nname = \"me\"\ndependencies = [\"accelerate==0.30.0\", \"safetensors>=0.4\"]\n";
        assert_eq!(
            names(&pyproject(project, "pyproject.toml").unwrap()),
            ["accelerate@0.30.0", "safetensors@*"]
        );
        let error = python_lock("[[package]]\nname = 1\nx = [[[\n", "uv.lock").unwrap_err();
        assert!(error.starts_with("line 3, column "), "{error}");
        let deep = format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let error = cargo_lock(&deep, "Cargo.lock").unwrap_err();
        assert!(error.len() < 200 && error.contains("recursion"), "{error}");
        let config = r#"{"architectures": ["GPT2LMHeadModel"], "transformers_version": "4.30.0"}"#;
        let packages = config_json(config, "config.json").unwrap();
        assert_eq!(packages[0].purl(), "pkg:pypi/transformers@4.30.0");
    }

    /// Found by the `dependencies` fuzz target: pep508_rs panicked on these instead of erring, so
    /// `sbom generate` died on a one-character typo in a requirements file.
    #[test]
    fn names_ending_in_punctuation_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text, problem) in [
            (
                "requirements.txt",
                "ok==1\ntorch- ==2.0\n",
                "line 2: package name 'torch-'",
            ),
            (
                "requirements.txt",
                "tran.\0\n",
                "line 1: package name 'tran.'",
            ),
            (
                "pyproject.toml",
                "[project]\ndependencies = [\"torch_ @ https://example.com/t.whl\"]\n",
                "project.dependencies: package name 'torch_'",
            ),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let error = read_dependency_file(&path).unwrap_err().to_string();
            assert!(error.contains(name) && error.contains(problem), "{error}");
        }
        let dotted = requirements("zope.interface==5.5\nmy-pkg_x.y>=1\n", "r.txt").unwrap();
        assert_eq!(names(&dotted), ["zope-interface@5.5", "my-pkg-x-y@*"]);
    }
}
