//! Which paths of a model are left out of its manifest. OMS semantics: entries are POSIX paths
//! relative to the model root and match by whole components (ignoring `sub` drops `sub/**` but
//! not `subx`). The list is recorded in the manifest so that verification leaves out exactly the
//! same paths.

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// The four top-level git paths OMS ignores by default (nested ones are hashed).
pub const GIT_PATHS: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IgnoreSet {
    paths: Vec<String>,
}

impl IgnoreSet {
    /// Builds the set from already relative POSIX paths (as recorded in a manifest), checking
    /// that none escapes the model.
    pub fn from_recorded(paths: &[String]) -> std::result::Result<Self, String> {
        let mut set = IgnoreSet::default();
        for path in paths {
            set.insert(normalize_relative(path)?);
        }
        Ok(set)
    }

    /// The default set: the git paths when `ignore_git_paths`, nothing otherwise.
    pub fn defaults(ignore_git_paths: bool) -> Self {
        let mut set = IgnoreSet::default();
        if ignore_git_paths {
            for path in GIT_PATHS {
                set.insert(path.to_string());
            }
        }
        set
    }

    /// Adds a path given by a user: relative to the model root, or absolute inside it. A path
    /// that would leave the model is refused rather than silently dropped.
    pub fn add_user_path(&mut self, model_root: &Path, path: &Path) -> Result<()> {
        let relative = if path.is_absolute() {
            let root = canonical_model_root(model_root)?;
            let target = canonicalize_lenient(path)?;
            target
                .strip_prefix(&root)
                .map(Path::to_path_buf)
                .map_err(|_| {
                    Error::Usage(format!(
                        "ignore path {} is outside the model {}",
                        path.display(),
                        model_root.display()
                    ))
                })?
        } else {
            path.to_path_buf()
        };
        let text = relative.to_str().ok_or_else(|| {
            Error::Usage(format!("ignore path {} is not UTF-8", relative.display()))
        })?;
        let normalized = normalize_relative(text).map_err(|problem| {
            Error::Usage(format!("ignore path {}: {problem}", path.display()))
        })?;
        self.insert(normalized);
        Ok(())
    }

    /// Adds a file the tool itself writes (a manifest or signature) if it lies inside the model,
    /// so that writing it does not change the model's digest.
    pub fn add_if_inside(&mut self, model_root: &Path, path: &Path) -> Result<()> {
        let Ok(root) = canonical_model_root(model_root) else {
            return Ok(());
        };
        let target = canonicalize_lenient(path)?;
        if let Ok(relative) = target.strip_prefix(&root)
            && let Some(text) = relative.to_str()
            && let Ok(normalized) = normalize_relative(text)
        {
            self.insert(normalized);
        }
        Ok(())
    }

    fn insert(&mut self, path: String) {
        if let Err(at) = self.paths.binary_search(&path) {
            self.paths.insert(at, path);
        }
    }

    /// True when `relative` (a POSIX path relative to the root) is an ignored path or lies
    /// below one.
    pub fn matches(&self, relative: &str) -> bool {
        self.paths.iter().any(|ignored| {
            relative == ignored
                || (relative.starts_with(ignored.as_str())
                    && relative.as_bytes().get(ignored.len()) == Some(&b'/'))
        })
    }

    /// The sorted list, as recorded in a manifest.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }
}

/// Checks that `path` is a relative POSIX path inside the model and returns it without `.`
/// components or repeated separators.
pub fn normalize_relative(path: &str) -> std::result::Result<String, String> {
    if path.is_empty() {
        return Err("empty path".to_string());
    }
    if path.starts_with('/') {
        return Err(format!(
            "'{path}' is absolute; paths must be relative to the model"
        ));
    }
    let mut parts = Vec::new();
    for component in Path::new(path).components() {
        match component {
            Component::Normal(part) => parts.push(
                part.to_str()
                    .ok_or_else(|| format!("'{path}' is not UTF-8"))?,
            ),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(format!(
                    "'{path}' contains '..' and could name a file outside the model"
                ));
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!(
                    "'{path}' is absolute; paths must be relative to the model"
                ));
            }
        }
    }
    if parts.is_empty() {
        return Err(format!("'{path}' names the model root itself"));
    }
    Ok(parts.join("/"))
}

/// The model root with symlinks and `..` resolved, to compare absolute paths against.
fn canonical_model_root(model_root: &Path) -> Result<PathBuf> {
    let root = model_root
        .canonicalize()
        .map_err(|e| Error::io("resolve", model_root, e))?;
    Ok(root)
}

/// Canonicalizes a path whose last component may not exist yet (an output file).
fn canonicalize_lenient(path: &Path) -> Result<PathBuf> {
    if let Ok(found) = path.canonicalize() {
        return Ok(found);
    }
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io("read the current directory for", path, e))?
            .join(path)
    };
    match (absolute.parent(), absolute.file_name()) {
        (Some(parent), Some(name)) => match parent.canonicalize() {
            Ok(parent) => Ok(parent.join(name)),
            Err(_) => Ok(absolute),
        },
        _ => Ok(absolute),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_whole_components_only() {
        let set = IgnoreSet::from_recorded(&["sub".into(), ".git".into()]).unwrap();
        assert!(set.matches("sub"));
        assert!(set.matches("sub/a/b.txt"));
        assert!(!set.matches("subx"));
        assert!(!set.matches("subx/a"));
        assert!(set.matches(".git/HEAD"));
        assert!(!set.matches("a/.git/HEAD"));
    }

    #[test]
    fn normalizes_and_refuses_escapes() {
        assert_eq!(normalize_relative("./a//b/").unwrap(), "a/b");
        assert!(normalize_relative("../a").unwrap_err().contains(".."));
        assert!(normalize_relative("a/../../b").is_err());
        assert!(
            normalize_relative("/etc/passwd")
                .unwrap_err()
                .contains("absolute")
        );
        assert!(normalize_relative(".").is_err());
    }

    #[test]
    fn defaults_hold_the_four_git_paths_sorted() {
        assert_eq!(
            IgnoreSet::defaults(true).paths(),
            [".git", ".gitattributes", ".github", ".gitignore"]
        );
        assert!(IgnoreSet::defaults(false).is_empty());
    }
}
