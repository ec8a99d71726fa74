//! A file's bytes without a size limit: small files are read, large ones mapped, so a pickle
//! padded past 4 GiB is scanned like any other instead of being refused as too large to read.

use std::path::Path;

/// Files at least this large are mapped instead of read.
const MAP_FROM: u64 = 16 << 20;

pub enum FileBytes {
    Read(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl FileBytes {
    pub fn open(path: &Path) -> std::io::Result<FileBytes> {
        use std::io::Read;
        let mut file = std::fs::File::open(path)?;
        let size = file.metadata()?.len();
        if size < MAP_FROM {
            let mut data = Vec::new();
            file.read_to_end(&mut data)?;
            return Ok(FileBytes::Read(data));
        }
        // SAFETY: the map is only read. Another process truncating the file while it is
        // scanned would make reading the lost pages fault (SIGBUS); scanning a file that is
        // being rewritten has no meaningful verdict anyway, and reading whole files instead
        // would need as much memory as the file.
        #[allow(unsafe_code)] // the library's one unsafe block (Cargo.toml's lints say why)
        let map = unsafe { memmap2::Mmap::map(&file)? };
        Ok(FileBytes::Mapped(map))
    }
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Read(data) => data,
            FileBytes::Mapped(map) => map,
        }
    }
}
