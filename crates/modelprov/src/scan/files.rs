//! Which files a scan reads: every regular file below the folder and every symlinked file whose
//! target stays inside the model, since loaders follow links (the Hugging Face cache is made of
//! them). A link that leads out of the model, dangles or loops is refused, never skipped: a
//! loader would read whatever it points at. Special files are refused as the hashing walk
//! refuses them (`crate::walk`).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// One path the scan reports on.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Entry {
    /// Scan `real`, report it as `shown` (the link's own path when `shown` is a symlink).
    Scan { shown: PathBuf, real: PathBuf },
    /// A symlink the scan will not follow, and why.
    Refused { shown: PathBuf, problem: String },
}

/// The files below `root` (or `root` itself), in path order.
pub(super) fn list(root: &Path) -> Result<Vec<Entry>> {
    let metadata = std::fs::metadata(root).map_err(|e| Error::io("scan", root, e))?;
    if metadata.is_file() {
        return Ok(vec![Entry::Scan {
            shown: root.to_path_buf(),
            real: root.to_path_buf(),
        }]);
    }
    if !metadata.is_dir() {
        // A device or FIFO is no model file; "0 files, ok" would be a pass on nothing.
        return Err(Error::invalid(
            root,
            "is not a file or folder (a device, FIFO or socket); nothing to scan",
        ));
    }
    let canonical_root = root
        .canonicalize()
        .map_err(|e| Error::io("resolve", root, e))?;
    let boundary = model_boundary(&canonical_root);
    let mut entries = Vec::new();
    for entry in walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git")
    {
        let entry = entry.map_err(|e| crate::walk::walk_error(root, e))?;
        let file_type = entry.file_type();
        let shown = entry.into_path();
        if file_type.is_dir() {
            continue;
        }
        if file_type.is_file() {
            entries.push(Entry::Scan {
                real: shown.clone(),
                shown,
            });
        } else if file_type.is_symlink() {
            if let Some(entry) = follow(shown, &canonical_root, &boundary)? {
                entries.push(entry);
            }
        } else {
            return Err(crate::walk::special_file(&shown, file_type));
        }
    }
    Ok(entries)
}

/// Where a symlink found in the walk leads, judged against the model's boundary. `None` for a
/// link to a folder inside the scanned tree: its files are walked under their own names.
fn follow(shown: PathBuf, root: &Path, boundary: &Path) -> Result<Option<Entry>> {
    // The OS bounds the resolution (ELOOP after a fixed number of hops): a loop is an error here.
    let target = match shown.canonicalize() {
        Ok(target) => target,
        Err(e) => {
            return Ok(Some(Entry::Refused {
                problem: format!("symlink cannot be followed ({e}); a loader would fail on it"),
                shown,
            }));
        }
    };
    let metadata =
        std::fs::metadata(&target).map_err(|e| Error::io("follow symlink", &shown, e))?;
    if metadata.is_dir() && target.starts_with(root) {
        return Ok(None);
    }
    if !target.starts_with(boundary) {
        return Ok(Some(Entry::Refused {
            problem: format!(
                "symlink leads out of the model, to {}: a loader would read that file, which \
                 is not part of what was scanned",
                target.display()
            ),
            shown,
        }));
    }
    if metadata.is_dir() {
        // Inside the model but outside the scanned tree: scan it from its own folder.
        return Ok(Some(Entry::Refused {
            problem: format!(
                "symlink to the folder {} outside the scanned tree; scan the model's root folder",
                target.display()
            ),
            shown,
        }));
    }
    if !metadata.is_file() {
        return Err(crate::walk::special_file(&shown, metadata.file_type()));
    }
    Ok(Some(Entry::Scan {
        shown,
        real: target,
    }))
}

/// The folder symlinks may lead into: the scanned folder, or for a Hugging Face cache snapshot
/// (`models--org--name/snapshots/<rev>/...`, whose files link to `../../blobs/<sha>`) the repo's
/// cache folder, which holds the blobs.
pub(super) fn model_boundary(canonical_root: &Path) -> PathBuf {
    for ancestor in canonical_root.ancestors().skip(1) {
        if ancestor.file_name().is_some_and(|name| name == "snapshots")
            && let Some(repo) = ancestor.parent()
            && repo.join("blobs").is_dir()
        {
            return repo.to_path_buf();
        }
    }
    canonical_root.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn listed(entries: &[Entry]) -> Vec<(String, bool)> {
        entries
            .iter()
            .map(|e| match e {
                Entry::Scan { shown, .. } => (shown.to_string_lossy().into_owned(), true),
                Entry::Refused { shown, .. } => (shown.to_string_lossy().into_owned(), false),
            })
            .collect()
    }

    /// `models--o--m/{blobs/abc, snapshots/r1/pytorch_model.bin -> ../../blobs/abc}`.
    fn hf_cache(dir: &Path) -> PathBuf {
        let repo = dir.join("models--o--m");
        std::fs::create_dir_all(repo.join("blobs")).unwrap();
        std::fs::create_dir_all(repo.join("snapshots/r1")).unwrap();
        std::fs::write(repo.join("blobs/abc"), b"blob").unwrap();
        symlink(
            "../../blobs/abc",
            repo.join("snapshots/r1/pytorch_model.bin"),
        )
        .unwrap();
        repo
    }

    #[test]
    fn a_snapshot_folder_scans_the_blobs_its_links_lead_to() {
        let dir = tempfile::tempdir().unwrap();
        let repo = hf_cache(dir.path());
        let entries = list(&repo.join("snapshots/r1")).unwrap();
        assert_eq!(entries.len(), 1);
        let Entry::Scan { shown, real } = &entries[0] else {
            panic!("refused: {entries:?}")
        };
        assert!(shown.ends_with("snapshots/r1/pytorch_model.bin"));
        assert_eq!(real, &repo.join("blobs/abc").canonicalize().unwrap());
        // The repo folder lists the blob and the link to it.
        let entries = list(&repo).unwrap();
        assert_eq!(listed(&entries).iter().filter(|(_, scan)| *scan).count(), 2);
    }

    #[test]
    fn links_out_of_the_model_dangling_or_looping_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("secret");
        std::fs::write(&outside, b"x").unwrap();
        let model = dir.path().join("model");
        std::fs::create_dir(&model).unwrap();
        symlink(&outside, model.join("abs.bin")).unwrap();
        symlink("../secret", model.join("rel.bin")).unwrap();
        symlink("missing", model.join("dangling.bin")).unwrap();
        symlink("loop2", model.join("loop1")).unwrap();
        symlink("loop1", model.join("loop2")).unwrap();
        symlink(dir.path(), model.join("up")).unwrap();
        let entries = list(&model).unwrap();
        assert_eq!(entries.len(), 6, "{entries:?}");
        assert!(
            entries.iter().all(|e| matches!(e, Entry::Refused { .. })),
            "{entries:?}"
        );
    }

    #[test]
    fn a_blobs_folder_beside_a_plain_folder_opens_no_door() {
        // Not a snapshot: a link to a sibling `blobs` folder leaves the model.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("blobs")).unwrap();
        std::fs::write(dir.path().join("blobs/abc"), b"x").unwrap();
        let model = dir.path().join("model");
        std::fs::create_dir(&model).unwrap();
        symlink("../blobs/abc", model.join("w.bin")).unwrap();
        assert!(matches!(&list(&model).unwrap()[0], Entry::Refused { .. }));
    }

    #[test]
    fn links_inside_the_folder_are_followed_and_special_files_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/a.bin"), b"x").unwrap();
        symlink("sub/a.bin", dir.path().join("b.bin")).unwrap();
        symlink("sub", dir.path().join("dirlink")).unwrap();
        let entries = list(dir.path()).unwrap();
        assert_eq!(listed(&entries).len(), 2, "{entries:?}");
        assert!(
            entries.iter().all(|e| matches!(e, Entry::Scan { .. })),
            "{entries:?}"
        );
        let fifo = dir.path().join("pipe");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let error = list(dir.path()).unwrap_err().to_string();
        assert!(error.contains("FIFO"), "{error}");
    }
}
