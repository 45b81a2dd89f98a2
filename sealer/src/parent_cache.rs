//! The parent cache: all 14 parents of every node for one proof type, computed once into a file
//! (14 × u32 little-endian per node) shared by every sector of that type, with a BLAKE3 digest
//! beside it. Loading checks the digest and spot-checks recomputed rows, so a corrupted or
//! mismatched cache is an error that names the file, never a wrong replica.
//!
//! Labeling reads the cache sequentially, so it is streamed in blocks with positioned reads rather
//! than mapped: at 512 MiB the cache is 940 MB, and keeping it out of the resident set leaves room
//! for the two layers that must be mapped.

use crate::error::SealError;
use crate::files;
use crate::graph::{Graph, PARENTS};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use strata_params::ProofType;

/// Bytes of one node's row in the cache.
pub const ROW_BYTES: usize = PARENTS * 4;

/// Format version of cache files.
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize, PartialEq, Eq, Debug)]
struct Manifest {
    version: u32,
    proof_type: u64,
    nodes: u64,
    blake3: String,
}

/// A verified parent cache, read block by block.
pub struct ParentCache {
    path: PathBuf,
    file: File,
    nodes: u64,
}

impl ParentCache {
    /// Path of the cache for `pt` inside `dir`.
    pub fn path_for(dir: &Path, pt: &ProofType) -> PathBuf {
        dir.join(format!(
            "v{VERSION}-parents-{}-{}.cache",
            pt.id, pt.sector_size
        ))
    }

    /// Opens the cache for `pt` in `dir`, generating it first if absent. Fails with
    /// [`SealError::CorruptParentCache`] if an existing cache does not verify.
    pub fn open_or_create(dir: &Path, pt: &ProofType, graph: &Graph) -> Result<Self, SealError> {
        fs::create_dir_all(dir).map_err(SealError::io("creating parent cache directory", dir))?;
        let path = Self::path_for(dir, pt);
        if !path.exists() {
            tracing::info!(path = %path.display(), "generating parent cache");
            generate(&path, pt, graph)?;
        }
        Self::open(&path, pt, graph)
    }

    /// Opens and verifies an existing cache.
    pub fn open(path: &Path, pt: &ProofType, graph: &Graph) -> Result<Self, SealError> {
        let corrupt = |reason: String| SealError::CorruptParentCache {
            path: path.to_path_buf(),
            reason,
        };
        let manifest_path = manifest_path(path);
        let text = fs::read_to_string(&manifest_path)
            .map_err(|e| corrupt(format!("cannot read {}: {e}", manifest_path.display())))?;
        let m: Manifest =
            serde_json::from_str(&text).map_err(|e| corrupt(format!("bad manifest: {e}")))?;
        if m.version != VERSION || m.proof_type != pt.id || m.nodes != pt.nodes() {
            return Err(corrupt(format!(
                "manifest is for proof type {} with {} nodes (v{})",
                m.proof_type, m.nodes, m.version
            )));
        }
        let file = File::open(path).map_err(SealError::io("opening", path))?;
        let len = file
            .metadata()
            .map_err(SealError::io("reading metadata of", path))?
            .len();
        if len != pt.nodes() * ROW_BYTES as u64 {
            return Err(corrupt(format!(
                "{len} bytes, expected {}",
                pt.nodes() * ROW_BYTES as u64
            )));
        }
        let mut hasher = blake3::Hasher::new();
        hasher
            .update_reader(&file)
            .map_err(SealError::io("reading", path))?;
        let digest = hasher.finalize().to_hex().to_string();
        if digest != m.blake3 {
            return Err(corrupt(format!(
                "digest {digest} does not match the manifest's {}",
                m.blake3
            )));
        }
        let cache = ParentCache {
            path: path.to_path_buf(),
            file,
            nodes: pt.nodes(),
        };
        // Spot-check rows against the graph: catches a cache and manifest replaced together.
        let step = (pt.nodes() / 61).max(1);
        let mut row = vec![0u32; PARENTS];
        let mut want = [0u32; PARENTS];
        for v in (1..pt.nodes())
            .step_by(step as usize)
            .chain([pt.nodes() - 1])
        {
            cache.read_rows(v, &mut row)?;
            graph.parents(v, &mut want);
            if row != want {
                return Err(corrupt(format!("row {v} does not match the graph")));
            }
        }
        Ok(cache)
    }

    /// Nodes covered.
    pub fn nodes(&self) -> u64 {
        self.nodes
    }

    /// Reads the rows of nodes `first ..` into `out` (`14 · k` entries for k nodes).
    pub fn read_rows(&self, first: u64, out: &mut [u32]) -> Result<(), SealError> {
        let mut bytes = vec![0u8; out.len() * 4];
        files::read_at(&self.file, &mut bytes, first * ROW_BYTES as u64, &self.path)?;
        for (o, c) in out.iter_mut().zip(bytes.chunks_exact(4)) {
            *o = u32::from_le_bytes(c.try_into().unwrap());
        }
        Ok(())
    }
}

fn manifest_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".json");
    path.with_file_name(name)
}

/// Computes every row in parallel and writes the cache and its manifest atomically.
fn generate(path: &Path, pt: &ProofType, graph: &Graph) -> Result<(), SealError> {
    const BLOCK: u64 = 1 << 16;
    let (file, tmp) = files::create_sized(path, pt.nodes() * ROW_BYTES as u64)?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; (BLOCK as usize) * ROW_BYTES];
    let mut start = 0;
    while start < pt.nodes() {
        let n = BLOCK.min(pt.nodes() - start) as usize;
        buf[..n * ROW_BYTES]
            .par_chunks_mut(ROW_BYTES)
            .enumerate()
            .for_each(|(i, row)| {
                let mut p = [0u32; PARENTS];
                graph.parents(start + i as u64, &mut p);
                for (c, x) in row.chunks_exact_mut(4).zip(p) {
                    c.copy_from_slice(&x.to_le_bytes());
                }
            });
        files::write_at(&file, &buf[..n * ROW_BYTES], start * ROW_BYTES as u64, &tmp)?;
        hasher.update(&buf[..n * ROW_BYTES]);
        start += n as u64;
    }
    files::commit(file, &tmp, path)?;
    let m = Manifest {
        version: VERSION,
        proof_type: pt.id,
        nodes: pt.nodes(),
        blake3: hasher.finalize().to_hex().to_string(),
    };
    files::write_atomic(
        &manifest_path(path),
        serde_json::to_string_pretty(&m).unwrap().as_bytes(),
    )?;
    Ok(())
}

/// A sequential reader over the cache in blocks, for labeling.
pub struct RowStream<'a> {
    cache: &'a ParentCache,
    buf: Vec<u32>,
    first: u64,
    block: u64,
}

impl<'a> RowStream<'a> {
    /// Streams rows in blocks of `block` nodes.
    pub fn new(cache: &'a ParentCache, block: u64) -> Self {
        RowStream {
            cache,
            buf: Vec::new(),
            first: u64::MAX,
            block,
        }
    }

    /// The parents of node `v`; nodes must be requested in increasing order.
    #[inline]
    pub fn row(&mut self, v: u64) -> Result<&[u32], SealError> {
        if v < self.first || v >= self.first + self.block {
            let first = v / self.block * self.block;
            let n = self.block.min(self.cache.nodes - first) as usize;
            self.buf.resize(n * PARENTS, 0);
            self.cache.read_rows(first, &mut self.buf)?;
            self.first = first;
        }
        let i = ((v - self.first) as usize) * PARENTS;
        Ok(&self.buf[i..i + PARENTS])
    }
}
