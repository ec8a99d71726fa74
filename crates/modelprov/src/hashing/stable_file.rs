//! Reading a listed file so that a digest always describes bytes that were on disk at one time:
//! the open file must still be the one that was listed, reads must not run out before the
//! listed size, and the file must be unchanged once reading ends.

use std::cell::RefCell;
use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;

use crate::error::{Error, Result};
use crate::walk::{FileStamp, ModelFile};

/// Read size per call: 1 MiB stays in L2 (shared/crates.md measured 256 KiB to 1 MiB best).
pub(crate) const READ_BUFFER_SIZE: usize = 1 << 20;

/// The buffer starts on a page boundary. The kernel copies from the page cache about four times
/// faster into a 64-byte-aligned buffer than into one at page+16, which is where glibc places
/// large allocations (measured here: 8.6 vs 2.2 GB/s per core for 1 MiB preads).
const BUFFER_ALIGNMENT: usize = 4096;

thread_local! {
    /// One read buffer per thread, over-allocated by one page so it can be aligned in safe code.
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn aligned(raw: &mut Vec<u8>) -> &mut [u8] {
    if raw.len() < READ_BUFFER_SIZE + BUFFER_ALIGNMENT {
        *raw = vec![0; READ_BUFFER_SIZE + BUFFER_ALIGNMENT];
    }
    let start = raw.as_ptr().align_offset(BUFFER_ALIGNMENT);
    &mut raw[start..start + READ_BUFFER_SIZE]
}

pub(crate) struct StableFile<'a> {
    file: File,
    listed: &'a ModelFile,
}

impl<'a> StableFile<'a> {
    pub(crate) fn open(listed: &'a ModelFile) -> Result<Self> {
        let file = File::open(&listed.path).map_err(|e| Error::io("open", &listed.path, e))?;
        let opened = StableFile { file, listed };
        opened.confirm_unchanged("since it was listed")?;
        Ok(opened)
    }

    /// Feeds the bytes of `range` to `sink` in buffer-sized pieces, reusing one buffer per
    /// thread so memory stays flat whatever the file size.
    pub(crate) fn read_range(&self, range: Range<u64>, mut sink: impl FnMut(&[u8])) -> Result<()> {
        // Taken out of the cell rather than borrowed, so a nested use on this thread (rayon may
        // run another task while this one waits) gets its own buffer instead of a panic.
        let mut raw = BUFFER.with(std::cell::RefCell::take);
        let outcome = self.read_into(aligned(&mut raw), range, &mut sink);
        BUFFER.with(|cell| cell.replace(raw));
        outcome
    }

    fn read_into(
        &self,
        buffer: &mut [u8],
        range: Range<u64>,
        sink: &mut impl FnMut(&[u8]),
    ) -> Result<()> {
        let mut offset = range.start;
        while offset < range.end {
            let want = usize::try_from(range.end - offset)
                .map_or(buffer.len(), |left| left.min(buffer.len()));
            let read = match self.file.read_at(&mut buffer[..want], offset) {
                Ok(0) => {
                    return Err(Error::Unstable {
                        path: self.listed.path.clone(),
                        problem: format!(
                            "it shrank while being hashed (listed with {} bytes, ended at {offset})",
                            self.listed.stamp.size
                        ),
                    });
                }
                Ok(read) => read,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("read", &self.listed.path, e)),
            };
            sink(&buffer[..read]);
            offset += read as u64;
        }
        Ok(())
    }

    /// Fails when the file has bytes past its listed size. A regular file never does; a file on
    /// a special file system does (`/proc` and `/sys` files report 0 or 4096 bytes and hold
    /// something else), and hashing only the size it reports would give the digest of bytes
    /// that are not its content (an empty file, for `/proc`).
    pub(crate) fn confirm_ends_at_size(&self) -> Result<()> {
        let mut probe = [0u8; 1];
        loop {
            return match self.file.read_at(&mut probe, self.listed.stamp.size) {
                Ok(0) => Ok(()),
                // A file that grew is reported as that; one whose size lies without changing is
                // not a regular file's content.
                Ok(_) => self.confirm_unchanged("while it was being hashed").and(Err(
                    Error::Walk {
                        path: self.listed.path.clone(),
                        problem: format!(
                            "holds more than the {} bytes its size says: a file of a special file \
                         system (such as /proc or /sys), not a model file",
                            self.listed.stamp.size
                        ),
                    },
                )),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => Err(Error::io("read", &self.listed.path, e)),
            };
        }
    }

    /// Fails unless the open file still has the stamp it was listed with.
    pub(crate) fn confirm_unchanged(&self, when: &str) -> Result<()> {
        let metadata = self
            .file
            .metadata()
            .map_err(|e| Error::io("read metadata of", &self.listed.path, e))?;
        let now = FileStamp::of(&metadata);
        if now == self.listed.stamp {
            Ok(())
        } else {
            Err(Error::Unstable {
                path: self.listed.path.clone(),
                problem: format!(
                    "it changed {when}: {}",
                    self.listed.stamp.describe_change(&now)
                ),
            })
        }
    }
}
