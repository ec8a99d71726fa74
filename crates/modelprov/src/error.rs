//! Typed errors of the library. Every variant names the file it is about, so the CLI can print
//! the message as is; the CLI maps all of them to exit code 2 (bad input or environment), except
//! [`Error::NotAuthentic`] (1).
//!
//! The `Display` text of an error is the whole message, its cause included, since that is what
//! users read; [`std::error::Error::source`] hands programs the underlying error itself (an
//! `io::Error`, `serde_json::Error`, `rusqlite::Error`, `der::Error`, `webpki::Error`,
//! `ZipError`, ...) to inspect or downcast. Parsers that do not know which file they read return
//! a [`Problem`], and the caller attaches the path with [`Problem::at`] or [`ResultExt::at`].

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// An underlying error kept as the cause of one of ours.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The library's result type: `Err` is an [`Error`] unless another error type is given.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the library; the `Display` text names the file concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
        /// What is wrong with it, in words for the user (the cause's text included).
        problem: String,
        /// The parser's own error, when one caused this.
        #[source]
        source: Option<BoxError>,
    },

    /// A registry or digest-cache database could not be opened, read or written.
    #[error("{}: {context}: {source}", path.display())]
    Database {
        /// The database file, or the server's address (without credentials).
        path: PathBuf,
        /// What the database is and what was being done, for the user.
        context: &'static str,
        /// The database driver's error (`rusqlite::Error`, `postgres::Error`).
        #[source]
        source: BoxError,
    },

    /// A signature does not verify: wrong key, altered payload or signature bytes. The model
    /// cannot be shown to be authentic (exit code 1, unlike the input errors above).
    #[error("{}: {problem}", path.display())]
    NotAuthentic {
        /// The signature, bundle or signed document that failed to verify.
        path: PathBuf,
        /// Why verification failed, in words for the user (the cause's text included).
        problem: String,
        /// The verifier's own error, when one caused this.
        #[source]
        source: Option<BoxError>,
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
    pub fn invalid(path: impl Into<PathBuf>, problem: impl Into<Problem>) -> Self {
        problem.into().at(path)
    }

    /// An [`Error::InvalidInput`] about the document at `path`, caused by `source`: the message
    /// is "`context`: `source`".
    pub fn invalid_because(
        path: impl Into<PathBuf>,
        context: &str,
        source: impl Into<BoxError>,
    ) -> Self {
        Problem::because(context, source).at(path)
    }

    /// An [`Error::NotAuthentic`]: the signature or signed document at `path` does not verify.
    pub fn not_authentic(path: impl Into<PathBuf>, problem: impl Into<Problem>) -> Self {
        problem.into().not_authentic_at(path)
    }

    /// What this build cannot do: `what` needs the cargo feature `feature`.
    #[cfg_attr(all(feature = "card", feature = "sbom"), allow(dead_code))]
    pub(crate) fn feature_missing(feature: &str, what: &str) -> Self {
        Error::Usage(format!(
            "{what} needs modelprov built with its `{feature}` feature, which this build leaves out"
        ))
    }

    /// An [`Error::Database`] about the database at `path`.
    pub(crate) fn database(
        path: impl Into<PathBuf>,
        context: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Database {
            path: path.into(),
            context,
            source: Box::new(source),
        }
    }

    /// A stable name for the kind of error, for machine-readable output: `io`, `model`,
    /// `unstable`, `invalid_input`, `database`, `not_authentic` or `usage`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Io { .. } => "io",
            Error::Walk { .. } => "model",
            Error::Unstable { .. } => "unstable",
            Error::InvalidInput { .. } => "invalid_input",
            Error::Database { .. } => "database",
            Error::NotAuthentic { .. } => "not_authentic",
            Error::Usage(_) => "usage",
        }
    }

    /// The file or folder the error is about, if it is about one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Error::Io { path, .. }
            | Error::Walk { path, .. }
            | Error::Unstable { path, .. }
            | Error::InvalidInput { path, .. }
            | Error::Database { path, .. }
            | Error::NotAuthentic { path, .. } => Some(path),
            Error::Usage(_) => None,
        }
    }
}

/// What is wrong with a document, told by a parser that does not know the document's path; the
/// caller makes it an [`Error`] with [`Problem::at`]. Its `Display` is the whole message.
#[derive(Debug)]
pub struct Problem {
    message: String,
    source: Option<BoxError>,
}

impl Problem {
    /// A problem told in words only.
    pub fn new(message: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            source: None,
        }
    }

    /// A problem caused by another error: the message is "`context`: `source`".
    pub fn because(context: &str, source: impl Into<BoxError>) -> Self {
        let source = source.into();
        Problem {
            message: format!("{context}: {source}"),
            source: Some(source),
        }
    }

    /// A problem caused by another error, told by `message` alone (which already says what the
    /// cause says, better).
    pub fn worded(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Problem {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// The same problem, its message prefixed with `context` ("`context`: ...").
    #[must_use]
    pub fn context(mut self, context: &str) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// The message, for the user.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// An [`Error::InvalidInput`]: the document at `path` has this problem.
    pub fn at(self, path: impl Into<PathBuf>) -> Error {
        Error::InvalidInput {
            path: path.into(),
            problem: self.message,
            source: self.source,
        }
    }

    /// An [`Error::NotAuthentic`]: the signature or signed document at `path` does not verify
    /// for this reason.
    pub fn not_authentic_at(self, path: impl Into<PathBuf>) -> Error {
        Error::NotAuthentic {
            path: path.into(),
            problem: self.message,
            source: self.source,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

impl From<String> for Problem {
    fn from(message: String) -> Self {
        Problem::new(message)
    }
}

impl From<&str> for Problem {
    fn from(message: &str) -> Self {
        Problem::new(message)
    }
}

/// Attaching a path to a parser's [`Problem`].
pub trait ResultExt<T> {
    /// The problem as an [`Error::InvalidInput`] about `path`.
    ///
    /// # Errors
    /// When `self` is an error.
    fn at(self, path: &Path) -> Result<T>;
}

impl<T, P: Into<Problem>> ResultExt<T> for std::result::Result<T, P> {
    fn at(self, path: &Path) -> Result<T> {
        self.map_err(|problem| problem.into().at(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn a_parse_error_is_kept_as_the_cause_and_told_in_the_message() {
        let json = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        let error = Problem::because("not JSON", json).at("m.json");
        assert_eq!(
            error.to_string(),
            "m.json: not JSON: EOF while parsing an object at line 1 column 1"
        );
        let cause = error.source().expect("the cause is kept");
        assert!(cause.downcast_ref::<serde_json::Error>().is_some());
        assert_eq!(error.path(), Some(Path::new("m.json")));
    }

    #[test]
    fn a_worded_problem_says_it_once() {
        let io = io::Error::other("disk on fire");
        let error = Problem::worded("the header is truncated", io).at("w.safetensors");
        assert_eq!(error.to_string(), "w.safetensors: the header is truncated");
        assert!(
            error
                .source()
                .unwrap()
                .downcast_ref::<io::Error>()
                .is_some()
        );
    }
}
