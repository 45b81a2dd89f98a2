//! Batch labeling (DESIGN §10): B sectors of one proof type labeled together.
//!
//! Every sector of a proof type has the same graph, so node v of each of them hashes the labels
//! of the same 14 parents. The batch keeps each layer in one scratch map **in lane order**: node
//! v's entry holds word w of every sector's label side by side (`[w][sector]`, sectors padded to
//! a multiple of the lane count L), so one parent's labels for a group of L sectors are 8 aligned
//! vectors — loaded as they are, no transposition — and the whole batch's copy of a parent is one
//! contiguous run of B·32 bytes, found with one row of the parent cache. The B label preimages
//! (1,248 bytes: 21 BLAKE3 compressions) are hashed side by side, one sector per SIMD lane
//! ([`lanes::compress`]: 16 lanes on AVX-512, 8 on AVX2, 4 portable), their message blocks taken
//! straight from those vectors without materialising the byte preimage.
//! After each layer the scratch is split into each sector's own `layer-ℓ` file, written like the
//! single-sector path's (temp name, fsync, rename), so every output is bit for bit the file that
//! sealing the sector alone writes ([`crate::labeling`] stays the reference; the tests compare).
//!
//! BLAKE3 of a label preimage, compression by compression: chunk 0 (bytes 0..1024, counter 0) is
//! the 64-byte prefix and 15 blocks of two parent labels; chunk 1 (bytes 1024..1248, counter 1) is
//! 3 blocks of two labels and a last 32-byte block; the root is a parent compression of the two
//! chunks' chaining values. Node 0 (the prefix alone) is hashed with [`hash_d`].

use crate::error::SealError;
use crate::files;
use crate::labeling::{prefetch, prefix};
use crate::parent_cache::{ParentCache, RowStream};
use crate::progress::Progress;
use memmap2::{Mmap, MmapMut};
use std::path::{Path, PathBuf};
use strata_params::{BASE_DEGREE, LABEL_PARENTS};
use strata_primitives::hash::hash_d;
use strata_primitives::hash::lanes::{
    self, compress, iv, node_words, CHUNK_END, CHUNK_START, PARENT, ROOT,
};
use strata_primitives::node::{nodes_as_bytes, Node};

use crate::graph::PARENTS;

/// Nodes between progress reports.
const REPORT_EVERY: u64 = 1 << 12;
/// Nodes per block when splitting the scratch into per-sector files.
const SPLIT_BLOCK: usize = 1 << 14;

/// For each of the 37 parent labels in a preimage, its index in the node's 14-parent row:
/// layer 1 repeats the 6 base parents to 36 and appends parents[0]; later layers repeat the 14
/// parents to 28 and append the first 9.
const fn order(first_layer: bool) -> [usize; LABEL_PARENTS] {
    let mut o = [0usize; LABEL_PARENTS];
    let mut k = 0;
    while k < LABEL_PARENTS {
        o[k] = if first_layer {
            if k < 36 {
                k % BASE_DEGREE
            } else {
                0
            }
        } else if k < 28 {
            k % PARENTS
        } else {
            k - 28
        };
        k += 1;
    }
    o
}
const ORDER_FIRST: [usize; LABEL_PARENTS] = order(true);
const ORDER_LATER: [usize; LABEL_PARENTS] = order(false);

/// Lane words of one label per lane: `[w][lane]`.
type LaneNode<const L: usize> = [[u32; L]; 8];

/// The scratch layout of one layer: `groups·L` lanes per word, 8 words per node.
#[derive(Clone, Copy)]
struct Layout {
    /// Sectors in the batch.
    b: usize,
    /// Lanes per group.
    l: usize,
    /// Lanes per word (B rounded up to a multiple of L).
    padded: usize,
}

impl Layout {
    fn new(b: usize, l: usize) -> Self {
        Layout {
            b,
            l,
            padded: b.div_ceil(l) * l,
        }
    }
    /// u32 words per node.
    fn stride(&self) -> usize {
        8 * self.padded
    }
    /// Index of word `w` of sector `s` at node `v`.
    #[inline(always)]
    fn at(&self, v: usize, w: usize, s: usize) -> usize {
        v * self.stride() + w * self.padded + s
    }
}

/// Writes the label files of layers `1..=layers` for every replica id in `replica_ids` (sector s
/// of the batch writes `layer_path(s, ℓ)`), using scratch maps in `scratch_dir`. `lanes` forces a
/// lane count (tests); `None` takes the CPU's best.
pub(crate) fn label_layers_batch(
    cache: &ParentCache,
    replica_ids: &[Node],
    layers: usize,
    layer_path: &dyn Fn(usize, usize) -> PathBuf,
    scratch_dir: &Path,
    lanes_override: Option<usize>,
    progress: &dyn Progress,
) -> Result<(), SealError> {
    let b = replica_ids.len();
    let nodes = cache.nodes() as usize;
    // The CPU's widest lanes, but no more than the batch fills (4 sectors on 16 lanes would
    // hash 12 lanes of nothing).
    let best = lanes::native_lanes().min(b.next_power_of_two().max(4));
    let lanes = match lanes_override.unwrap_or(best) {
        l @ (4 | 8 | 16) => l,
        _ => 4,
    };
    let layout = Layout::new(b, lanes);
    let mut prev: Option<Mmap> = None;
    for layer in 1..=layers {
        progress.start(
            &format!("labeling layer {layer}/{layers} ({b} sectors)"),
            nodes as u64,
        );
        let mut cur = scratch_map(scratch_dir, layer, (nodes * layout.stride() * 4) as u64)?;
        let cur_words = words_mut(&mut cur);
        let prev_words = prev.as_deref().map(words);
        label_layer_batch(
            (
                cache,
                replica_ids,
                layer as u32,
                prev_words,
                cur_words,
                progress,
            ),
            layout,
        )?;
        progress.finish();
        progress.start(&format!("writing layer {layer} of {b} sectors"), b as u64);
        for s in 0..b {
            split_out(cur_words, layout, nodes, s, &layer_path(s, layer))?;
            progress.advance(1);
        }
        progress.finish();
        prev = Some(
            cur.make_read_only()
                .map_err(SealError::io("remapping scratch layer", scratch_dir))?,
        );
    }
    Ok(())
}

/// A map as u32 words (maps are page-aligned; lengths are multiples of 4).
fn words(map: &[u8]) -> &[u32] {
    // SAFETY: a map's start is page-aligned, every bit pattern is a valid u32, and the length is
    // a multiple of 4 (it is nodes · stride · 4).
    let (head, body, tail) = unsafe { map.align_to::<u32>() };
    assert!(
        head.is_empty() && tail.is_empty(),
        "scratch maps hold whole aligned words"
    );
    body
}

fn words_mut(map: &mut [u8]) -> &mut [u32] {
    // SAFETY: as in `words`.
    let (head, body, tail) = unsafe { map.align_to_mut::<u32>() };
    assert!(
        head.is_empty() && tail.is_empty(),
        "scratch maps hold whole aligned words"
    );
    body
}

/// A writable map of `len` bytes over a scratch file that is unlinked at once: the map keeps the
/// data while labeling runs, and nothing is left behind however the process ends.
fn scratch_map(dir: &Path, layer: usize, len: u64) -> Result<MmapMut, SealError> {
    let path = dir.join(format!("batch-layer-{layer}.scratch"));
    let (file, tmp) = files::create_sized(&path, len)?;
    // SAFETY: the file was just created by us and is unlinked below; no one else maps it.
    let map = unsafe { MmapMut::map_mut(&file) }.map_err(SealError::io("mapping", &tmp))?;
    std::fs::remove_file(&tmp).map_err(SealError::io("unlinking", &tmp))?;
    Ok(map)
}

/// Writes sector `s`'s labels out of the lane-ordered layer `all` to `path`.
fn split_out(
    all: &[u32],
    layout: Layout,
    n: usize,
    s: usize,
    path: &Path,
) -> Result<(), SealError> {
    let (file, tmp) = files::create_sized(path, n as u64 * 32)?;
    let mut buf = vec![[0u8; 32]; SPLIT_BLOCK.min(n)];
    let mut start = 0;
    while start < n {
        let len = SPLIT_BLOCK.min(n - start);
        for (i, o) in buf[..len].iter_mut().enumerate() {
            for w in 0..8 {
                o[4 * w..4 * w + 4].copy_from_slice(&all[layout.at(start + i, w, s)].to_le_bytes());
            }
        }
        files::write_at(&file, nodes_as_bytes(&buf[..len]), start as u64 * 32, &tmp)?;
        start += len;
    }
    files::commit(file, &tmp, path)
}

type Args<'a, 'b> = (
    &'a ParentCache,
    &'a [Node],
    u32,
    Option<&'a [u32]>,
    &'b mut [u32],
    &'a dyn Progress,
);

/// Labels one lane-ordered layer on the layout's lane count, compiled for the widest vector
/// extension the CPU has.
fn label_layer_batch(args: Args<'_, '_>, layout: Layout) -> Result<(), SealError> {
    #[cfg(target_arch = "x86_64")]
    {
        let native = lanes::native_lanes();
        if native >= 16 {
            // SAFETY: native_lanes detected AVX-512F and AVX-512VL at run time.
            return unsafe {
                match layout.l {
                    16 => label_avx512::<16>(args, layout),
                    8 => label_avx512::<8>(args, layout),
                    _ => label_avx512::<4>(args, layout),
                }
            };
        }
        if native >= 8 {
            // SAFETY: native_lanes detected AVX2 at run time.
            return unsafe {
                match layout.l {
                    16 => label_avx2::<16>(args, layout),
                    8 => label_avx2::<8>(args, layout),
                    _ => label_avx2::<4>(args, layout),
                }
            };
        }
    }
    match layout.l {
        16 => label_lanes::<16>(args, layout),
        8 => label_lanes::<8>(args, layout),
        _ => label_lanes::<4>(args, layout),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl")]
unsafe fn label_avx512<const L: usize>(
    args: Args<'_, '_>,
    layout: Layout,
) -> Result<(), SealError> {
    label_lanes::<L>(args, layout)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn label_avx2<const L: usize>(args: Args<'_, '_>, layout: Layout) -> Result<(), SealError> {
    label_lanes::<L>(args, layout)
}

/// L lanes of word `w` of group `g` at node `v`.
#[inline(always)]
fn lane<const L: usize>(src: &[u32], layout: Layout, v: usize, w: usize, g: usize) -> [u32; L] {
    let at = layout.at(v, w, g * L);
    src[at..at + L].try_into().expect("L lanes")
}

/// The labeling loop on L lanes, group by group of L sectors (spare lanes of the last group
/// hash whatever their zeroed scratch holds and are never written out).
#[inline(always)]
fn label_lanes<const L: usize>(
    (cache, replica_ids, layer, prev, cur, progress): Args<'_, '_>,
    layout: Layout,
) -> Result<(), SealError> {
    debug_assert_eq!(layout.l, L);
    let n = cur.len() / layout.stride();
    let groups = layout.padded / L;

    // Node 0: the prefix alone.
    for (s, rid) in replica_ids.iter().enumerate() {
        let words = node_words(&hash_d(&prefix(rid, layer, 0)));
        for (w, word) in words.iter().enumerate() {
            cur[layout.at(0, w, s)] = *word;
        }
    }
    // Per group: the prefix block's words, with v's words (9 and 10) filled in per node.
    let mut prefix_blocks: Vec<[[u32; L]; 16]> = (0..groups)
        .map(|g| {
            let mut m = [[0u32; L]; 16];
            for l in 0..L {
                let s = (g * L + l).min(layout.b - 1);
                let p = prefix(&replica_ids[s], layer, 0);
                for (w, word) in m.iter_mut().enumerate() {
                    word[l] =
                        u32::from_le_bytes([p[4 * w], p[4 * w + 1], p[4 * w + 2], p[4 * w + 3]]);
                }
            }
            m
        })
        .collect();
    let order = if prev.is_none() {
        &ORDER_FIRST
    } else {
        &ORDER_LATER
    };
    let distinct = if prev.is_none() { BASE_DEGREE } else { PARENTS };
    let stride_bytes = layout.stride() * 4;

    let mut rows = RowStream::new(cache, 1 << 14);
    let mut parents = [[[0u32; L]; 8]; PARENTS];
    for v in 1..n {
        let row: [u32; PARENTS] = rows
            .row(v as u64)?
            .try_into()
            .expect("a cache row has 14 parents");
        if v + 1 < n {
            let next = rows.row(v as u64 + 1)?;
            for (k, &p) in next[..distinct].iter().enumerate() {
                let src = match prev {
                    Some(prev) if k >= BASE_DEGREE => prev,
                    _ => &*cur,
                };
                let base = layout.at(p as usize, 0, 0);
                for line in (0..stride_bytes).step_by(64) {
                    prefetch(src[base + line / 4..].as_ptr() as *const Node);
                }
            }
        }
        let v_be = (v as u64).to_be_bytes();
        let (v_hi, v_lo) = (
            u32::from_le_bytes([v_be[0], v_be[1], v_be[2], v_be[3]]),
            u32::from_le_bytes([v_be[4], v_be[5], v_be[6], v_be[7]]),
        );
        for (g, m0) in prefix_blocks.iter_mut().enumerate() {
            for (k, &p) in row[..distinct].iter().enumerate() {
                let src = match prev {
                    Some(prev) if k >= BASE_DEGREE => prev,
                    _ => &*cur,
                };
                for (w, words) in parents[k].iter_mut().enumerate() {
                    *words = lane::<L>(src, layout, p as usize, w, g);
                }
            }
            m0[9] = [v_hi; L];
            m0[10] = [v_lo; L];
            let label = label_group::<L>(m0, &parents, order);
            for (w, words) in label.iter().enumerate() {
                let at = layout.at(v, w, g * L);
                let out = &mut cur[at..at + L];
                if w == 7 {
                    for (o, x) in out.iter_mut().zip(words) {
                        *o = x & 0x3fff_ffff;
                    }
                } else {
                    out.copy_from_slice(words);
                }
            }
        }
        if (v as u64).is_multiple_of(REPORT_EVERY) {
            progress.advance(REPORT_EVERY);
        }
    }
    Ok(())
}

/// Two labels' words as one 64-byte message block.
#[inline(always)]
fn block<const L: usize>(a: &LaneNode<L>, b: &LaneNode<L>) -> [[u32; L]; 16] {
    let mut m = [[0u32; L]; 16];
    m[..8].copy_from_slice(a);
    m[8..].copy_from_slice(b);
    m
}

/// BLAKE3 (untruncated) of L label preimages: prefix block `m0`, parent labels by `order`.
#[inline(always)]
fn label_group<const L: usize>(
    m0: &[[u32; L]; 16],
    parents: &[LaneNode<L>; PARENTS],
    order: &[usize; LABEL_PARENTS],
) -> LaneNode<L> {
    let p = |k: usize| &parents[order[k]];
    // Chunk 0: the prefix, then P[0..30] two per block.
    let mut cv0 = compress(&iv::<L>(), m0, 0, 64, CHUNK_START);
    for j in 1..16 {
        let flags = if j == 15 { CHUNK_END } else { 0 };
        cv0 = compress(&cv0, &block(p(2 * j - 2), p(2 * j - 1)), 0, 64, flags);
    }
    // Chunk 1: P[30..36] two per block, then P[36] alone in a 32-byte block.
    let mut cv1 = compress(&iv::<L>(), &block(p(30), p(31)), 1, 64, CHUNK_START);
    cv1 = compress(&cv1, &block(p(32), p(33)), 1, 64, 0);
    cv1 = compress(&cv1, &block(p(34), p(35)), 1, 64, 0);
    cv1 = compress(&cv1, &block(p(36), &[[0u32; L]; 8]), 1, 32, CHUNK_END);
    // Root: the two chunks' chaining values.
    compress(&iv::<L>(), &block(&cv0, &cv1), 0, 64, PARENT | ROOT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labeling::label_reference;

    fn words_to_node<const L: usize>(h: &LaneNode<L>, l: usize) -> Node {
        let mut out = [0u8; 32];
        for w in 0..8 {
            out[4 * w..4 * w + 4].copy_from_slice(&h[w][l].to_le_bytes());
        }
        out[31] &= 0x3f;
        out
    }

    /// One group's hash equals the reference label for every lane, both layer kinds.
    fn check<const L: usize>() {
        for layer in [1u32, 2, 11] {
            let rids: Vec<Node> = (0..L as u32).map(|i| hash_d(&i.to_le_bytes())).collect();
            let labels: Vec<Vec<Node>> = (0..L)
                .map(|l| {
                    (0..PARENTS as u32)
                        .map(|k| hash_d(&[l as u8, k as u8, layer as u8]))
                        .collect()
                })
                .collect();
            let v = 0x0102_0304_0506u64;
            let mut m0 = [[0u32; L]; 16];
            let mut parents = [[[0u32; L]; 8]; PARENTS];
            for l in 0..L {
                let p = prefix(&rids[l], layer, v);
                for w in 0..16 {
                    m0[w][l] = u32::from_le_bytes(p[4 * w..4 * w + 4].try_into().unwrap());
                }
                for k in 0..PARENTS {
                    let words = node_words(&labels[l][k]);
                    for w in 0..8 {
                        parents[k][w][l] = words[w];
                    }
                }
            }
            let order = if layer == 1 {
                &ORDER_FIRST
            } else {
                &ORDER_LATER
            };
            let h = label_group::<L>(&m0, &parents, order);
            for l in 0..L {
                let want = label_reference(&rids[l], layer, v, &labels[l]);
                assert_eq!(words_to_node(&h, l), want, "layer {layer}, lane {l} of {L}");
            }
        }
    }

    #[test]
    fn lane_labels_equal_the_reference_on_every_lane_count() {
        check::<1>();
        check::<4>();
        check::<8>();
        check::<16>();
    }
}
