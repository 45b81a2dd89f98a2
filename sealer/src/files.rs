//! Atomic file and directory writes: temp name, fsync, rename. A crash leaves either the old state
//! or the complete new file, never a half-written one under the final name.

use crate::error::SealError;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

pub use strata_primitives::merkle::tmp_path;

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SealError> {
    let tmp = tmp_path(path);
    let mut f = File::create(&tmp).map_err(SealError::io("creating", &tmp))?;
    f.write_all(bytes).map_err(SealError::io("writing", &tmp))?;
    f.sync_all().map_err(SealError::io("syncing", &tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(SealError::io("renaming into place", path))
}

/// Creates `tmp_path(path)` sized to `len` bytes (zeros) for writing; commit it with [`commit`].
pub fn create_sized(path: &Path, len: u64) -> Result<(File, PathBuf), SealError> {
    let tmp = tmp_path(path);
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(SealError::io("creating", &tmp))?;
    f.set_len(len).map_err(SealError::io("sizing", &tmp))?;
    Ok((f, tmp))
}

/// fsyncs `file` (written at `tmp`) and renames it to `path`.
pub fn commit(file: File, tmp: &Path, path: &Path) -> Result<(), SealError> {
    file.sync_all().map_err(SealError::io("syncing", tmp))?;
    drop(file);
    fs::rename(tmp, path).map_err(SealError::io("renaming into place", path))
}

/// fsyncs a directory so renames inside it are durable.
pub fn sync_dir(dir: &Path) -> Result<(), SealError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(SealError::io("syncing directory", dir))
}

/// Reads exactly `buf.len()` bytes at `offset`.
pub fn read_at(file: &File, buf: &mut [u8], offset: u64, path: &Path) -> Result<(), SealError> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, offset)
        .map_err(SealError::io("reading", path))
}

/// Writes all of `buf` at `offset`.
pub fn write_at(file: &File, buf: &[u8], offset: u64, path: &Path) -> Result<(), SealError> {
    use std::os::unix::fs::FileExt;
    file.write_all_at(buf, offset)
        .map_err(SealError::io("writing", path))
}
