//! Files that are either whole or absent: written to a temporary file beside the target,
//! fsynced, then renamed into place (and the directory fsynced), so a crash or a full disk
//! never leaves a half-written file under the final name.

use crate::CeremonyError;
use memmap2::Mmap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes `path` atomically with `fill`, which streams the content into the writer.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<(), CeremonyError> {
    let io = |what, source| CeremonyError::Io {
        what,
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| io("creating", e))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        fill(&mut w).map_err(|e| io("writing", e))?;
        let file = w.into_inner().map_err(|e| io("writing", e.into_error()))?;
        file.sync_all().map_err(|e| io("syncing", e))?;
        fs::rename(&tmp, path).map_err(|e| io("renaming into", e))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes `bytes` to `path` atomically.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<(), CeremonyError> {
    write_atomic(path, |w| w.write_all(bytes))
}

/// Maps `path` read-only.
pub fn map(path: &Path) -> Result<Mmap, CeremonyError> {
    let file = File::open(path).map_err(|source| CeremonyError::Io {
        what: "opening",
        path: path.to_path_buf(),
        source,
    })?;
    // SAFETY: the ceremony's files are only ever replaced by rename, never written in place,
    // so the mapping does not change under us.
    unsafe { Mmap::map(&file) }.map_err(|source| CeremonyError::Io {
        what: "mapping",
        path: path.to_path_buf(),
        source,
    })
}

/// BLAKE3 of a file's bytes, hex (multi-threaded for large files).
pub fn digest_of(bytes: &[u8]) -> String {
    let mut h = blake3::Hasher::new();
    h.update_rayon(bytes);
    h.finalize().to_hex().to_string()
}
