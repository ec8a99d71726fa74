//! What identifies one version of a file on disk without reading it: device, inode, size and
//! the modification and status-change times in nanoseconds. Used to notice files that change
//! while they are hashed, and as the key of the incremental digest cache.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;

/// One version of a file on disk, as its metadata describes it; equal stamps mean the file is
/// taken to be unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileStamp {
    /// ID of the device (file system) holding the file.
    pub dev: u64,
    /// Inode number on that device.
    pub ino: u64,
    /// Size in bytes.
    pub size: u64,
    /// Last modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    /// Last status change time (any change to content or metadata), nanoseconds since the Unix
    /// epoch.
    pub ctime_ns: i64,
}

impl FileStamp {
    /// Takes the stamp from a file's metadata, without further I/O.
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
