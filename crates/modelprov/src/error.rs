//! Typed errors of the library. Every variant names the file it is about, so the CLI can print
//! the message as is; the CLI maps all of them to exit code 2 (bad input or environment).

use std::io;
use std::path::PathBuf;

/// The library's result type: `Err` is an [`Error`] unless another error type is given.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the library; the `Display` text names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An operating-system call on `path` failed (missing file, permission denied, ...).
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done, as a verb phrase completing "cannot ..." (`read`, `create`).
        action: &'static str,
        /// The file or folder the call was about.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// The model folder holds something the walk rules refuse (a symlink, a FIFO, a name that
    /// is not UTF-8, nothing to hash, ...).
    #[error("{}: {problem}", path.display())]
    Walk {
        /// The entry that was refused, or the model folder when the model as a whole is.
        path: PathBuf,
        /// Why it was refused, in words for the user.
        problem: String,
    },

    /// A file changed between being listed and being hashed, or while it was hashed: the digest
    /// would describe bytes that were never on disk at one time, so none is reported.
    #[error("{}: {problem}; hash again once the file is stable", path.display())]
    Unstable {
        /// The file that changed.
        path: PathBuf,
        /// How it changed (it shrank, grew, was modified or replaced), in words for the user.
        problem: String,
    },

    /// A manifest, trust file or other input document is malformed.
    #[error("{}: {problem}", path.display())]
    InvalidInput {
        /// The malformed document.
        path: PathBuf,
        /// What is wrong with it, in words for the user.
        problem: String,
    },

    /// A signature does not verify: wrong key, altered payload or signature bytes. The model
    /// cannot be shown to be authentic (exit code 1, unlike the input errors above).
    #[error("{}: {problem}", path.display())]
    NotAuthentic {
        /// The signature, bundle or signed document that failed to verify.
        path: PathBuf,
        /// Why verification failed, in words for the user.
        problem: String,
    },

    /// Options that do not fit together, or a value that is not valid for an option.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// An [`Error::Io`]: `action` completes "cannot ..." (`read`, `create`), `path` is the file.
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

    /// An [`Error::InvalidInput`] about the document at `path`.
    pub fn invalid(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        Error::InvalidInput {
            path: path.into(),
            problem: problem.into(),
        }
    }
}
