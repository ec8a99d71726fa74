//! The opt-in incremental digest cache: digests of files (and shards) keyed by device, inode
//! and algorithm, valid only while size, mtime and ctime (nanoseconds) are unchanged. A README
//! edit in a 500 GB model then costs one small read instead of hours.
//!
//! The "racy" rule (as in git's index): a file whose last change is so recent that a second
//! change could land in the same timestamp tick without moving the stamp is hashed but not
//! cached, so a cached digest is never trusted for content written after it was read.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};
use crate::walk::FileStamp;

const SCHEMA_VERSION: i32 = 1;

/// How close to the start of hashing a file's last change may be for its digest to be cached.
/// Linux stamps files from a clock that ticks every few milliseconds; file systems that store
/// whole seconds (FAT keeps 2 s) get a window of two seconds.
const RACY_WINDOW_FINE: Duration = Duration::from_millis(100);
const RACY_WINDOW_COARSE: Duration = Duration::from_secs(2);

/// An open digest cache (an SQLite database); set it as a build's
/// [`crate::manifest::BuildContext::cache`] to reuse and record digests.
pub struct DigestCache {
    connection: Connection,
    path: PathBuf,
}

pub(crate) struct CacheEntry<'a> {
    pub stamp: &'a FileStamp,
    pub algorithm: &'a str,
    pub range: Range<u64>,
    pub digest: &'a [u8],
}

impl DigestCache {
    /// `$XDG_CACHE_HOME/modelprov/digests.sqlite3` (or the platform's equivalent).
    pub fn default_path() -> Option<PathBuf> {
        dirs::cache_dir().map(|dir| dir.join("modelprov").join("digests.sqlite3"))
    }

    /// Opens (creating if needed) the cache database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|e| Error::io("create", folder, e))?;
        }
        let fail = |e: rusqlite::Error| Error::database(path, "digest cache unusable", e);
        let connection = Connection::open(path).map_err(fail)?;
        connection
            .busy_timeout(Duration::from_secs(10))
            .map_err(fail)?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(fail)?;
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail)?;
        let version: i32 = connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(fail)?;
        match version {
            0 => connection
                .execute_batch(
                    "BEGIN IMMEDIATE;
                     CREATE TABLE IF NOT EXISTS digests (
                         dev INTEGER NOT NULL, ino INTEGER NOT NULL,
                         algorithm TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
                         size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
                         digest BLOB NOT NULL,
                         PRIMARY KEY (dev, ino, algorithm, start, end)
                     ) WITHOUT ROWID;
                     PRAGMA user_version = 1;
                     COMMIT;",
                )
                .map_err(fail)?,
            SCHEMA_VERSION => {}
            newer => {
                return Err(Error::invalid(
                    path,
                    format!("digest cache has schema version {newer}, newer than this tool's {SCHEMA_VERSION}"),
                ));
            }
        }
        Ok(DigestCache {
            connection,
            path: path.to_path_buf(),
        })
    }

    /// The database file this cache was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cached digest of `range` of the file with `stamp`, if the file is unchanged.
    pub(crate) fn lookup(
        &self,
        stamp: &FileStamp,
        algorithm: &str,
        range: &Range<u64>,
    ) -> std::result::Result<Option<Vec<u8>>, String> {
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT digest FROM digests WHERE dev = ?1 AND ino = ?2 AND algorithm = ?3
                 AND start = ?4 AND end = ?5 AND size = ?6 AND mtime_ns = ?7 AND ctime_ns = ?8",
            )
            .map_err(|e| self.problem(e))?;
        statement
            .query_row(
                params![
                    stamp.dev.cast_signed(),
                    stamp.ino.cast_signed(),
                    algorithm,
                    range.start.cast_signed(),
                    range.end.cast_signed(),
                    stamp.size.cast_signed(),
                    stamp.mtime_ns,
                    stamp.ctime_ns
                ],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.problem(e))
    }

    /// Records digests computed in a run that started at `hashing_started`, in one transaction.
    /// Returns how many were cacheable under the racy rule.
    pub(crate) fn store<'a>(
        &self,
        entries: impl Iterator<Item = CacheEntry<'a>>,
        hashing_started: SystemTime,
    ) -> std::result::Result<usize, String> {
        let started_ns = hashing_started
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        let transaction = self
            .connection
            .unchecked_transaction()
            .map_err(|e| self.problem(e))?;
        let mut stored = 0;
        {
            let mut statement = transaction
                .prepare_cached(
                    "INSERT OR REPLACE INTO digests
                     (dev, ino, algorithm, start, end, size, mtime_ns, ctime_ns, digest)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(|e| self.problem(e))?;
            for entry in entries {
                if !settled_before(entry.stamp, started_ns) {
                    continue;
                }
                statement
                    .execute(params![
                        entry.stamp.dev.cast_signed(),
                        entry.stamp.ino.cast_signed(),
                        entry.algorithm,
                        entry.range.start.cast_signed(),
                        entry.range.end.cast_signed(),
                        entry.stamp.size.cast_signed(),
                        entry.stamp.mtime_ns,
                        entry.stamp.ctime_ns,
                        entry.digest
                    ])
                    .map_err(|e| self.problem(e))?;
                stored += 1;
            }
        }
        transaction.commit().map_err(|e| self.problem(e))?;
        Ok(stored)
    }

    fn problem(&self, error: rusqlite::Error) -> String {
        format!("{}: {error}", self.path.display())
    }
}

/// True when the file's last change lies far enough before hashing started that any later
/// change must move its stamp.
fn settled_before(stamp: &FileStamp, started_ns: i64) -> bool {
    let window = if stamp.has_coarse_timestamps() {
        RACY_WINDOW_COARSE
    } else {
        RACY_WINDOW_FINE
    };
    stamp.last_change_ns()
        < started_ns.saturating_sub(i64::try_from(window.as_nanos()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(change_ns: i64) -> FileStamp {
        FileStamp {
            dev: 1,
            ino: 2,
            size: 3,
            mtime_ns: change_ns,
            ctime_ns: change_ns,
        }
    }

    #[test]
    fn recent_changes_are_not_cacheable() {
        let start = 1_700_000_000_000_000_000;
        assert!(settled_before(&stamp(start - 500_000_000 + 1), start));
        assert!(!settled_before(&stamp(start - 50_000_000 + 1), start));
        assert!(!settled_before(&stamp(start + 1), start));
        // Whole-second stamps need two seconds of distance.
        assert!(!settled_before(&stamp(start - 1_000_000_000), start));
        assert!(settled_before(&stamp(start - 3_000_000_000), start));
    }

    #[test]
    fn hits_only_for_identical_stamps_and_survives_reopen() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("c.sqlite3");
        let old = stamp(1_000_000_000_123);
        {
            let cache = DigestCache::open(&path).unwrap();
            let entry = CacheEntry {
                stamp: &old,
                algorithm: "sha256",
                range: 0..3,
                digest: &[7; 32],
            };
            assert_eq!(
                cache.store([entry].into_iter(), SystemTime::now()).unwrap(),
                1
            );
        }
        let cache = DigestCache::open(&path).unwrap();
        assert_eq!(
            cache.lookup(&old, "sha256", &(0..3)).unwrap(),
            Some(vec![7; 32])
        );
        assert_eq!(cache.lookup(&old, "blake3", &(0..3)).unwrap(), None);
        let touched = FileStamp {
            ctime_ns: old.ctime_ns + 1,
            ..old
        };
        assert_eq!(cache.lookup(&touched, "sha256", &(0..3)).unwrap(), None);
    }

    #[test]
    fn a_file_that_is_not_a_database_is_refused_with_its_path() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("c.sqlite3");
        std::fs::write(&path, vec![b'x'; 4096]).unwrap();
        let message = DigestCache::open(&path).err().unwrap().to_string();
        assert!(message.contains("c.sqlite3"), "{message}");
    }
}
