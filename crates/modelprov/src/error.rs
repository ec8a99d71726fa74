//! Typed errors of the library. Every variant names the file it is about, so the CLI can print
//! the message as is; the CLI maps all of them to exit code 2 (bad input or environment).

use std::io;
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An operating-system call on `path` failed (missing file, permission denied, ...).
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The model folder holds something the walk rules refuse (a symlink, a FIFO, a name that
    /// is not UTF-8, nothing to hash, ...).
    #[error("{}: {problem}", path.display())]
    Walk { path: PathBuf, problem: String },

    /// A file changed between being listed and being hashed, or while it was hashed: the digest
    /// would describe bytes that were never on disk at one time, so none is reported.
    #[error("{}: {problem}; hash again once the file is stable", path.display())]
    Unstable { path: PathBuf, problem: String },

    /// A manifest, trust file or other input document is malformed.
    #[error("{}: {problem}", path.display())]
    InvalidInput { path: PathBuf, problem: String },

    /// A signature does not verify: wrong key, altered payload or signature bytes. The model
    /// cannot be shown to be authentic (exit code 1, unlike the input errors above).
    #[error("{}: {problem}", path.display())]
    NotAuthentic { path: PathBuf, problem: String },

    /// Options that do not fit together, or a value that is not valid for an option.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn walk(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        Error::Walk {
            path: path.into(),
            problem: problem.into(),
        }
    }

    pub fn invalid(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        Error::InvalidInput {
            path: path.into(),
            problem: problem.into(),
        }
    }
}
