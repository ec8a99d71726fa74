//! How long-running library calls report progress to whoever displays it.

/// Receives progress from hashing; called from many threads at once.
pub trait ProgressSink: Sync {
    /// Hashing is about to read `total_bytes` bytes.
    fn start(&self, total_bytes: u64);
    /// `bytes` more bytes were hashed (or found in the cache).
    fn advance(&self, bytes: u64);
}
