//! Which paths of a model are left out of its manifest. OMS semantics: entries are POSIX paths
//! relative to the model root and match by whole components (ignoring `sub` drops `sub/**` but
//! not `subx`). The list is recorded in the manifest so that verification leaves out exactly the
//! same paths.

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// The four top-level git paths OMS ignores by default (nested ones are hashed).
pub const GIT_PATHS: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// The model card: a folder's top-level README.md (Hugging Face's layout). It is documentation
/// about the model, not its content, and it records the model's digest, which it could not do if
/// it were hashed with the model. So a model's identity leaves it out, in every command, and
/// records that in the manifest's ignore paths, so that model_signing verifies the same way.
pub const MODEL_CARD: &str = "README.md";

/// Which of the default paths a model's identity leaves out of a folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DefaultIgnores {
    /// The four top-level git paths ([`GIT_PATHS`]), as OMS does.
    pub git_paths: bool,
    /// The model card ([`MODEL_CARD`]).
    pub model_card: bool,
}

impl DefaultIgnores {
    /// modelprov's identity of a model: git paths and the model card left out.
    pub const MODEL: DefaultIgnores = DefaultIgnores {
        git_paths: true,
        model_card: true,
    };
    /// model_signing's defaults: the git paths only (the card is hashed with the model).
    pub const OMS: DefaultIgnores = DefaultIgnores {
        git_paths: true,
        model_card: false,
    };
}

impl Default for DefaultIgnores {
    fn default() -> Self {
        DefaultIgnores::MODEL
    }
}

/// The paths left out of a model: relative POSIX paths, kept sorted, each matching itself and
/// everything below it.
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

    /// The default set for a folder: the git paths and the model card, as `defaults` says.
    pub fn defaults(defaults: DefaultIgnores) -> Self {
        let mut set = IgnoreSet::default();
        if defaults.git_paths {
            for path in GIT_PATHS {
                set.insert(path.to_string());
            }
        }
        if defaults.model_card {
            set.insert(MODEL_CARD.to_string());
        }
        set
    }

    /// True when the model card is among the ignored paths.
    pub fn leaves_out_card(&self) -> bool {
        self.paths
            .binary_search_by(|p| p.as_str().cmp(MODEL_CARD))
            .is_ok()
    }

    /// Adds a path given by a user: relative to the model root, or absolute inside it. A path
    /// that would leave the model is refused rather than silently dropped.
    pub fn add_user_path(&mut self, model_root: &Path, path: &Path) -> Result<()> {
        let relative = if path.is_absolute() {
            let root = canonical_model_root(model_root)?;
            let target = crate::fsutil::resolve_lenient(path)?;
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
        if let Some(name) = path_inside_model(model_root, path)? {
            self.insert(name);
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

    /// True when no path is left out.
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

/// The name (a POSIX path relative to the model root) under which `path` lies inside the model
/// folder `model_root`, after resolving symlinks and `..`; `None` when it lies outside, or when
/// the model is not a folder. `path` need not exist yet.
pub fn path_inside_model(model_root: &Path, path: &Path) -> Result<Option<String>> {
    if !model_root.is_dir() {
        return Ok(None);
    }
    let root = canonical_model_root(model_root)?;
    let target = crate::fsutil::resolve_lenient(path)?;
    Ok(target
        .strip_prefix(&root)
        .ok()
        .and_then(Path::to_str)
        .and_then(|text| normalize_relative(text).ok()))
}

/// Refuses an output file of a command that hashes the model when it would land inside the
/// model: writing it would change the model, or overwrite one of its files. `what` names the
/// output ("the manifest").
pub fn refuse_output_inside(model_root: &Path, output: &Path, what: &str) -> Result<()> {
    match path_inside_model(model_root, output)? {
        Some(name) => Err(Error::Usage(format!(
            "{} would put {what} inside the model {} (as '{name}'): it would change the model \
             it describes, or overwrite one of its files; write it outside the model folder",
            output.display(),
            model_root.display()
        ))),
        None => Ok(()),
    }
}

/// The model root with symlinks and `..` resolved, to compare absolute paths against.
fn canonical_model_root(model_root: &Path) -> Result<PathBuf> {
    let root = model_root
        .canonicalize()
        .map_err(|e| Error::io("resolve", model_root, e))?;
    Ok(root)
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
    fn defaults_hold_the_git_paths_and_the_card_sorted() {
        let model = IgnoreSet::defaults(DefaultIgnores::MODEL);
        assert_eq!(
            model.paths(),
            [
                ".git",
                ".gitattributes",
                ".github",
                ".gitignore",
                "README.md"
            ]
        );
        assert!(model.leaves_out_card());
        assert!(!model.matches("sub/README.md"), "only the top-level card");
        let oms = IgnoreSet::defaults(DefaultIgnores::OMS);
        assert_eq!(oms.paths(), GIT_PATHS);
        assert!(!oms.leaves_out_card());
        let none = DefaultIgnores {
            git_paths: false,
            model_card: false,
        };
        assert!(IgnoreSet::defaults(none).is_empty());
    }
}
