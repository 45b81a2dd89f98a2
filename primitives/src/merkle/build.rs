//! Streaming, parallel, chunked tree building.

use super::{TreeShape, CHUNK_LEAVES};
use crate::node::{nodes_as_bytes, Node, NonCanonicalNode};
use std::fs::{self, File, OpenOptions};
use std::io;
#[cfg(unix)]
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why a tree could not be built or read.
#[derive(Debug, Error)]
pub enum TreeError {
    /// Reading leaves or writing levels failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A leaf or child is not a field element (a corrupt replica, say).
    #[error("a node of level {level} in the block starting at node {index} is not a field element: {source}")]
    NonCanonical {
        /// Level of the bad node (0 = leaves).
        level: usize,
        /// First node of the block (within its level) that held the bad node.
        index: u64,
        /// The bad bytes.
        source: NonCanonicalNode,
    },
    /// A file does not have the size the tree shape requires.
    #[error("{path} has {actual} bytes, the tree needs {expected}")]
    WrongSize {
        /// The file.
        path: PathBuf,
        /// Expected length in bytes.
        expected: u64,
        /// Found length in bytes.
        actual: u64,
    },
    /// Producing leaves failed in the caller's source.
    #[error("leaf source: {0}")]
    Source(String),
}

/// Where leaves come from: called with the first leaf index and a buffer to fill.
pub trait LeafSource {
    /// Fills `out` with leaves `start .. start + out.len()`.
    fn fill(&mut self, start: u64, out: &mut [Node]) -> Result<(), TreeError>;
}

/// A slice of leaves (e.g. a memory-mapped file) is a leaf source.
impl LeafSource for &[Node] {
    fn fill(&mut self, start: u64, out: &mut [Node]) -> Result<(), TreeError> {
        out.copy_from_slice(&self[start as usize..start as usize + out.len()]);
        Ok(())
    }
}

/// Any closure with the right signature is a leaf source.
impl<F: FnMut(u64, &mut [Node]) -> Result<(), TreeError>> LeafSource for F {
    fn fill(&mut self, start: u64, out: &mut [Node]) -> Result<(), TreeError> {
        self(start, out)
    }
}

/// Receives each computed level slice: (level, offset in level, nodes).
type LevelSink<'a> = dyn FnMut(usize, u64, &[Node]) -> Result<(), TreeError> + 'a;

/// Computes the tree's levels, calling `sink(level, offset_in_level, nodes)` for every level ≥ 1,
/// and returns the root.
fn build_levels(
    shape: &TreeShape,
    leaves: &mut dyn LeafSource,
    sink: &mut LevelSink<'_>,
) -> Result<Node, TreeError> {
    // The chunk is the largest bottom subtree of at most CHUNK_LEAVES leaves.
    let mut chunk = 1u64;
    let mut chunk_levels = 0;
    while chunk_levels < shape.height()
        && chunk * shape.arities[chunk_levels] as u64 <= CHUNK_LEAVES as u64
    {
        chunk *= shape.arities[chunk_levels] as u64;
        chunk_levels += 1;
    }
    let mut buf = vec![[0u8; 32]; chunk as usize];
    let mut next =
        vec![[0u8; 32]; (chunk as usize / shape.arities.first().copied().unwrap_or(1)).max(1)];
    let mut roots = Vec::with_capacity((shape.leaves / chunk) as usize);
    for c in 0..shape.leaves / chunk {
        leaves.fill(c * chunk, &mut buf)?;
        let mut cur_len = chunk as usize;
        for l in 0..chunk_levels {
            let arity = shape.arities[l];
            let n = cur_len / arity;
            shape
                .hasher
                .hash_level(arity, &buf[..cur_len], &mut next[..n])
                .map_err(|source| TreeError::NonCanonical {
                    level: l,
                    index: c * cur_len as u64,
                    source,
                })?;
            sink(l + 1, c * n as u64, &next[..n])?;
            buf[..n].copy_from_slice(&next[..n]);
            cur_len = n;
        }
        roots.push(buf[0]);
    }
    let mut cur = roots;
    for l in chunk_levels..shape.height() {
        let arity = shape.arities[l];
        let mut up = vec![[0u8; 32]; cur.len() / arity];
        shape
            .hasher
            .hash_level(arity, &cur, &mut up)
            .map_err(|source| TreeError::NonCanonical {
                level: l,
                index: 0,
                source,
            })?;
        sink(l + 1, 0, &up)?;
        cur = up;
    }
    Ok(cur[0])
}

/// Computes only the root (nothing written): CommP, CommD of data held elsewhere.
pub fn tree_root(shape: &TreeShape, leaves: &mut dyn LeafSource) -> Result<Node, TreeError> {
    build_levels(shape, leaves, &mut |_, _, _| Ok(()))
}

/// Builds the tree and writes its upper levels to `out` atomically (temp file, fsync, rename).
/// Returns the root.
pub fn build_tree(
    shape: &TreeShape,
    leaves: &mut dyn LeafSource,
    out: &Path,
) -> Result<Node, TreeError> {
    let tmp = tmp_path(out);
    let file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(&tmp)
        .map_err(io_err("creating", &tmp))?;
    file.set_len(shape.upper_len() * 32)
        .map_err(io_err("sizing", &tmp))?;
    let result = (|| {
        let root = build_levels(shape, leaves, &mut |level, offset, nodes| {
            let pos = (shape.level_offset(level) + offset) * 32;
            write_at(&file, nodes_as_bytes(nodes), pos).map_err(io_err("writing", &tmp))
        })?;
        file.sync_all().map_err(io_err("syncing", &tmp))?;
        Ok(root)
    })();
    match result {
        Ok(root) => {
            drop(file);
            fs::rename(&tmp, out).map_err(io_err("renaming into place", out))?;
            Ok(root)
        }
        Err(e) => {
            drop(file);
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn io_err(what: &'static str, path: &Path) -> impl Fn(io::Error) -> TreeError {
    let path = path.to_path_buf();
    move |source| TreeError::Io {
        what,
        path: path.clone(),
        source,
    }
}

/// The temporary sibling a file is written under before being renamed to `out`.
pub fn tmp_path(out: &Path) -> PathBuf {
    let mut name = out
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    out.with_file_name(name)
}

#[cfg(unix)]
fn write_at(file: &File, bytes: &[u8], pos: u64) -> io::Result<()> {
    file.write_all_at(bytes, pos)
}

#[cfg(not(unix))]
fn write_at(file: &File, bytes: &[u8], pos: u64) -> io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = file;
    f.seek(SeekFrom::Start(pos))?;
    f.write_all(bytes)
}
