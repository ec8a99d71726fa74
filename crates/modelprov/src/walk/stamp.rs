//! What identifies one version of a file on disk without reading it: device, inode, size and
//! the modification and status-change times in nanoseconds. Used to notice files that change
//! while they are hashed, and as the key of the incremental digest cache.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileStamp {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
}

impl FileStamp {
    pub fn of(metadata: &Metadata) -> Self {
        FileStamp {
            dev: metadata.dev(),
            ino: metadata.ino(),
            size: metadata.size(),
            mtime_ns: nanos(metadata.mtime(), metadata.mtime_nsec()),
            ctime_ns: nanos(metadata.ctime(), metadata.ctime_nsec()),
        }
    }

    /// The later of the two timestamps: the last moment the file is known to have changed.
    pub fn last_change_ns(&self) -> i64 {
        self.mtime_ns.max(self.ctime_ns)
    }

    /// True when both timestamps are whole seconds, the sign of a file system that stores
    /// coarse timestamps (FAT, some network file systems): changes within one such tick are
    /// invisible to the stamp.
    pub fn has_coarse_timestamps(&self) -> bool {
        self.mtime_ns % 1_000_000_000 == 0 && self.ctime_ns % 1_000_000_000 == 0
    }

    /// Describes how `now` differs from `self`, for error messages.
    pub fn describe_change(&self, now: &FileStamp) -> String {
        if (self.dev, self.ino) != (now.dev, now.ino) {
            "it was replaced by another file".to_string()
        } else if self.size != now.size {
            format!("its size went from {} to {} bytes", self.size, now.size)
        } else {
            "it was modified".to_string()
        }
    }
}

fn nanos(seconds: i64, nanoseconds: i64) -> i64 {
    seconds
        .saturating_mul(1_000_000_000)
        .saturating_add(nanoseconds)
}
