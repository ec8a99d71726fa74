//! Enumerating a model: which files make it up, under which names, following the OMS walk
//! rules (section 2 of shared/oms-format.md) with one deliberate difference: ignored paths are
//! skipped before the symlink check, as on OMS main, so a link inside `.git` does not abort.

mod ignore;
mod stamp;

pub use ignore::{
    DefaultIgnores, GIT_PATHS, IgnoreSet, MODEL_CARD, normalize_relative, path_inside_model,
    refuse_output_inside,
};
pub use stamp::FileStamp;

use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::error::{Error, Result};
use crate::warning::Warning;

/// The resource name of a model that is a single file.
pub const SINGLE_FILE_NAME: &str = ".";

/// How [`list_model`] walks a model.
#[derive(Clone, Copy, Debug)]
pub struct WalkOptions<'a> {
    /// Paths left out; they are skipped before any other walk rule applies to them.
    pub ignore: &'a IgnoreSet,
    /// Follow symlinks to files (listed under the link's name) instead of refusing them.
    pub allow_symlinks: bool,
}

/// One file of the model as listed.
#[derive(Clone, Debug)]
pub struct ModelFile {
    /// POSIX path relative to the model root, or `.` for a single-file model.
    pub name: String,
    /// Where to open it (a symlink's own path when symlinks are allowed).
    pub path: PathBuf,
    /// The file as it was when listed; hashing refuses a file that no longer matches.
    pub stamp: FileStamp,
}

/// The files of a model, as [`list_model`] found them.
#[derive(Clone, Debug)]
pub struct Listing {
    /// The model's name: the last component of its resolved path (OMS `subject.name`).
    pub model_name: String,
    /// The model's files in walk order (sorted by file name within each folder), not yet in
    /// manifest order.
    pub files: Vec<ModelFile>,
    /// Things the user should know that do not stop the walk (a skipped directory symlink, a
    /// link that leads out of the model).
    pub warnings: Vec<Warning>,
}

/// Warnings for names of the model that differ only by Unicode normalisation (`café` as NFC and
/// as NFD): two files that print as one name.
fn lookalike_names(files: &[ModelFile]) -> Vec<Warning> {
    use unicode_normalization::UnicodeNormalization as _;
    let mut seen = std::collections::HashMap::new();
    let mut warnings = Vec::new();
    for file in files.iter().filter(|f| !f.name.is_ascii()) {
        let normal: String = file.name.nfc().collect();
        if let Some(first) = seen.insert(normal, &file.name) {
            warnings.push(Warning::LookalikeNames {
                first: first.clone(),
                second: file.name.clone(),
            });
        }
    }
    warnings
}

/// Lists the files of the model at `root` (a folder or a single file).
pub fn list_model(root: &Path, options: WalkOptions<'_>) -> Result<Listing> {
    let root_meta = fs::symlink_metadata(root).map_err(|e| Error::io("read model", root, e))?;
    let canonical_root = root
        .canonicalize()
        .map_err(|e| Error::io("resolve", root, e))?;
    let model_name = canonical_root
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| canonical_root.to_string_lossy().into_owned());
    let mut listing = Listing {
        model_name,
        files: Vec::new(),
        warnings: Vec::new(),
    };

    let root_type = if root_meta.file_type().is_symlink() {
        refuse_symlink_unless_allowed(root, options)?;
        fs::metadata(root).map_err(|e| Error::io("follow symlink", root, e))?
    } else {
        root_meta
    };
    if root_type.is_file() {
        listing.files.push(ModelFile {
            name: SINGLE_FILE_NAME.to_string(),
            path: root.to_path_buf(),
            stamp: FileStamp::of(&root_type),
        });
        return Ok(listing);
    }
    if !root_type.is_dir() {
        return Err(special_file(root, root_type.file_type()));
    }

    let walker = WalkDir::new(root)
        .min_depth(1)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| match relative_name(root, entry.path()) {
            Ok(name) => !options.ignore.matches(&name),
            Err(_) => true, // reported below with the offending path
        });
    for entry in walker {
        let entry = entry.map_err(|e| walk_error(root, e))?;
        let path = entry.path();
        let file_type = entry.file_type();
        if file_type.is_dir() {
            continue;
        }
        let name = relative_name(root, path)?;
        if file_type.is_file() {
            let meta = entry.metadata().map_err(|e| {
                Error::io(
                    "read",
                    path,
                    e.into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("metadata unavailable")),
                )
            })?;
            listing.files.push(ModelFile {
                name,
                path: path.to_path_buf(),
                stamp: FileStamp::of(&meta),
            });
        } else if file_type.is_symlink() {
            refuse_symlink_unless_allowed(path, options)?;
            let target = fs::metadata(path).map_err(|e| Error::io("follow symlink", path, e))?;
            if target.is_dir() {
                listing
                    .warnings
                    .push(Warning::SymlinkToFolderSkipped { name });
            } else if target.is_file() {
                if let Ok(resolved) = path.canonicalize()
                    && !resolved.starts_with(&canonical_root)
                {
                    listing.warnings.push(Warning::SymlinkOutsideModel {
                        name: name.clone(),
                        target: resolved,
                    });
                }
                listing.files.push(ModelFile {
                    name,
                    path: path.to_path_buf(),
                    stamp: FileStamp::of(&target),
                });
            } else {
                return Err(special_file(path, target.file_type()));
            }
        } else {
            return Err(special_file(path, file_type));
        }
    }
    listing.warnings.extend(lookalike_names(&listing.files));
    Ok(listing)
}

fn refuse_symlink_unless_allowed(path: &Path, options: WalkOptions<'_>) -> Result<()> {
    if options.allow_symlinks {
        Ok(())
    } else {
        Err(Error::walk(
            path,
            "is a symlink; symlinks are refused unless allowed (--allow-symlinks), since their \
             target can change without the model folder changing",
        ))
    }
}

pub(crate) fn special_file(path: &Path, file_type: fs::FileType) -> Error {
    let kind = if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_char_device() {
        "a character device"
    } else {
        "neither a regular file nor a directory"
    };
    Error::walk(
        path,
        format!("is {kind}; a model may hold only regular files"),
    )
}

/// The POSIX name of `path` relative to `root`; names that are not UTF-8 cannot be written in a
/// manifest (OMS aborts on them too).
/// A failed step of a folder walk, as our error: the path it failed on (the root when walkdir
/// does not say) and the I/O cause, or a file system loop.
pub(crate) fn walk_error(root: &Path, error: walkdir::Error) -> Error {
    let path = error.path().unwrap_or(root).to_path_buf();
    let source = error
        .into_io_error()
        .unwrap_or_else(|| std::io::Error::other("file system loop"));
    Error::io("read", path, source)
}

fn relative_name(root: &Path, path: &Path) -> Result<String> {
    let relative = path
        .strip_prefix(root)
        .map_err(|_| Error::walk(path, "lies outside the model root"))?;
    let mut parts = Vec::new();
    for component in relative.components() {
        let part = component.as_os_str().to_str().ok_or_else(|| {
            Error::walk(
                path,
                "has a name that is not valid UTF-8; manifests name files in UTF-8, rename it",
            )
        })?;
        parts.push(part);
    }
    Ok(parts.join("/"))
}
