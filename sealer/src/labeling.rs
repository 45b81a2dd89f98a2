//! SDR labeling (DESIGN §5). Label of node v in layer ℓ:
//! `hash_d(replica_id ‖ u32_be(ℓ) ‖ u64_be(v) ‖ 0^20 ‖ P)` with P the 37 parent labels
//! (layer 1: the 6 base parents six times, then `parents[0]`; later layers: the 14 parents twice,
//! then the first 9). Node 0 has P empty.
//!
//! Layers are sequential and so are nodes within a layer (v needs v−1): this loop is the seal's
//! critical path. It allocates nothing per node, reuses one 1,248-byte preimage buffer whose
//! 64-byte prefix only changes in `v`, copies each distinct parent label once and duplicates the
//! repeats with in-buffer copies, and streams the parent cache in blocks. The current layer is a
//! writable memory map (base parents are random reads into it), the previous layer read-only.

use crate::error::SealError;
use crate::files;
use crate::graph::PARENTS;
use crate::parent_cache::{ParentCache, RowStream};
use crate::progress::Progress;
use memmap2::{Mmap, MmapMut};
use std::fs::File;
use std::path::Path;
use strata_params::{BASE_DEGREE, LABEL_PARENTS};
use strata_primitives::hash::hash_d;
use strata_primitives::node::Node;

/// Bytes of the label preimage prefix.
const PREFIX: usize = 64;
/// Bytes of the full preimage.
pub const PREIMAGE: usize = PREFIX + LABEL_PARENTS * 32;

/// Nodes between progress reports.
const REPORT_EVERY: u64 = 1 << 14;

/// The label preimage prefix for node `v` in `layer` (1-based).
pub fn prefix(replica_id: &Node, layer: u32, v: u64) -> [u8; PREFIX] {
    let mut p = [0u8; PREFIX];
    p[..32].copy_from_slice(replica_id);
    p[32..36].copy_from_slice(&layer.to_be_bytes());
    p[36..44].copy_from_slice(&v.to_be_bytes());
    p
}

/// Computes one label from its preimage parts: the reference form, used by tests and verifiers.
pub fn label_reference(replica_id: &Node, layer: u32, v: u64, parents: &[Node]) -> Node {
    let mut pre = prefix(replica_id, layer, v).to_vec();
    if v > 0 {
        let ordered: Vec<&Node> = if layer == 1 {
            let base = &parents[..BASE_DEGREE];
            base.iter().cycle().take(36).chain([&base[0]]).collect()
        } else {
            parents
                .iter()
                .cycle()
                .take(28)
                .chain(parents[..9].iter())
                .collect()
        };
        for p in ordered {
            pre.extend_from_slice(p);
        }
    }
    hash_d(&pre)
}

/// Writes the label files of layers `1..=layers` (as given by `layer_path`) for `replica_id`.
/// Each file is written to a temp name, fsync'd and renamed once complete.
pub fn label_layers(
    cache: &ParentCache,
    replica_id: &Node,
    layers: usize,
    layer_path: &dyn Fn(usize) -> std::path::PathBuf,
    progress: &dyn Progress,
) -> Result<(), SealError> {
    let nodes = cache.nodes();
    let mut prev: Option<Mmap> = None;
    for layer in 1..=layers {
        let path = layer_path(layer);
        progress.start(&format!("labeling layer {layer}/{layers}"), nodes);
        let (file, tmp) = files::create_sized(&path, nodes * 32)?;
        // SAFETY: the temp file was just created by us and is not shared until renamed.
        let mut map = unsafe { MmapMut::map_mut(&file) }.map_err(SealError::io("mapping", &tmp))?;
        let prev_nodes = prev.as_deref().map(strata_primitives::node::as_nodes);
        let cur = strata_primitives::node::as_nodes_mut(&mut map);
        if split_labeling() {
            crate::labeling_split::label_layer_split(
                cache,
                replica_id,
                layer as u32,
                prev_nodes,
                cur,
                progress,
            )?;
        } else {
            label_layer(cache, replica_id, layer as u32, prev_nodes, cur, progress)?;
        }
        map.flush().map_err(SealError::io("flushing", &tmp))?;
        drop(map);
        files::commit(file, &tmp, &path)?;
        progress.finish();
        prev = Some(map_read(&path)?);
    }
    Ok(())
}

/// Whether to label with two threads: when two cores are available, unless `STRATA_LABEL_THREADS=1`.
fn split_labeling() -> bool {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    cores >= 2
        && std::env::var("STRATA_LABEL_THREADS")
            .map(|v| v.trim() != "1")
            .unwrap_or(true)
}

/// Maps a finished layer file read-only.
pub fn map_read(path: &Path) -> Result<Mmap, SealError> {
    let f = File::open(path).map_err(SealError::io("opening", path))?;
    // SAFETY: layer files are never modified after being renamed into place.
    unsafe { Mmap::map(&f) }.map_err(SealError::io("mapping", path))
}

/// Hints the CPU to load `node` into cache (no effect on other architectures).
#[inline(always)]
pub(crate) fn prefetch(node: *const Node) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint; the pointer is valid.
    unsafe {
        std::arch::x86_64::_mm_prefetch(node as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = node;
}

/// Labels one layer into `cur`, reading expander parents from `prev` (layers ≥ 2).
pub(crate) fn label_layer(
    cache: &ParentCache,
    replica_id: &Node,
    layer: u32,
    prev: Option<&[Node]>,
    cur: &mut [Node],
    progress: &dyn Progress,
) -> Result<(), SealError> {
    let mut rows = RowStream::new(cache, 1 << 14);
    let mut buf = [0u8; PREIMAGE];
    buf[..PREFIX].copy_from_slice(&prefix(replica_id, layer, 0));
    cur[0] = hash_d(&buf[..PREFIX]); // node 0: the prefix alone
    let n = cur.len() as u64;
    for v in 1..n {
        buf[36..44].copy_from_slice(&v.to_be_bytes());
        let row: [u32; PARENTS] = rows.row(v)?.try_into().expect("a cache row has 14 parents");
        // Ask for the next node's parents now, so their cache misses overlap this node's hash.
        if v + 1 < n {
            let next = rows.row(v + 1)?;
            for &p in &next[..BASE_DEGREE] {
                prefetch(&cur[p as usize]);
            }
            if let Some(prev) = prev {
                for &p in &next[BASE_DEGREE..] {
                    prefetch(&prev[p as usize]);
                }
            }
        }
        match prev {
            None => {
                // 6 base parents, then the block of 6 repeated to 36, then parents[0].
                for (k, &p) in row[..BASE_DEGREE].iter().enumerate() {
                    buf[PREFIX + 32 * k..PREFIX + 32 * (k + 1)].copy_from_slice(&cur[p as usize]);
                }
                let block = 32 * BASE_DEGREE;
                for rep in 1..6 {
                    buf.copy_within(PREFIX..PREFIX + block, PREFIX + rep * block);
                }
                buf.copy_within(PREFIX..PREFIX + 32, PREFIX + 36 * 32);
            }
            Some(prev) => {
                for (k, &p) in row[..BASE_DEGREE].iter().enumerate() {
                    buf[PREFIX + 32 * k..PREFIX + 32 * (k + 1)].copy_from_slice(&cur[p as usize]);
                }
                for (k, &p) in row[BASE_DEGREE..].iter().enumerate() {
                    let o = PREFIX + 32 * (BASE_DEGREE + k);
                    buf[o..o + 32].copy_from_slice(&prev[p as usize]);
                }
                buf.copy_within(PREFIX..PREFIX + 14 * 32, PREFIX + 14 * 32);
                buf.copy_within(PREFIX..PREFIX + 9 * 32, PREFIX + 28 * 32);
            }
        }
        cur[v as usize] = hash_d(&buf);
        if v % REPORT_EVERY == 0 {
            progress.advance(REPORT_EVERY);
        }
    }
    Ok(())
}
