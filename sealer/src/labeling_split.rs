//! Two-thread labeling: each label's BLAKE3 is split at its chunk boundary.
//!
//! The 1,248-byte preimage is two BLAKE3 chunks: bytes 0..1024 (prefix and parent labels P[0..30])
//! and 1024..1248 (P[30..37]). BLAKE3 hashes chunks independently and joins their chaining values
//! with one parent compression, so the main thread hashes chunk 0 and merges, while a helper
//! thread, running ahead, hashes chunk 1 as soon as the labels it needs exist. The sequential
//! critical path drops from 21 compressions per label to 17.
//!
//! Chunk 1 holds, in layer 1, the 6 base parents and `parents[0]` (= v−1), so the helper computes it
//! while the main thread hashes chunk 0 of the same node; in later layers it holds parents[2..9],
//! which rarely include v−1, so the helper usually runs ahead by up to `RING` nodes.
//!
//! **Never waiting on a starved helper.** On a loaded machine the helper may not be scheduled for
//! milliseconds; in layer 1 (whose tail holds v−1) the two threads move in lockstep, so waiting
//! for it would cost a scheduler quantum per node (a 512 MiB layer took 312 s instead of ~27 s).
//! The main thread therefore spins only briefly for chunk 1's chaining value and otherwise hashes
//! the tail itself; the helper skips the nodes the main thread has passed. The worst case is the
//! single-thread loop's speed, never worse.
//!
//! Memory model: the main thread is the only writer of the current layer; it publishes label v by
//! storing `done = v + 1` with Release after writing it, and the helper reads only labels below
//! an Acquire load of `done`. Chunk-1 chaining values pass the other way through a ring buffer with
//! the same Release/Acquire pairing on `cv_ready`, and `consumed` returns ring slots.

use crate::error::SealError;
use crate::graph::PARENTS;
use crate::labeling::{prefetch, prefix, PREIMAGE};
use crate::parent_cache::{ParentCache, RowStream};
use crate::progress::Progress;
use blake3::hazmat::{merge_subtrees_root, ChainingValue, HasherExt, Mode};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use strata_params::BASE_DEGREE;
use strata_primitives::node::Node;

const CHUNK: usize = 1024;
const TAIL: usize = PREIMAGE - CHUNK; // 224 bytes = 7 labels
const RING: u64 = 1 << 12;
/// Spins the main thread waits for the helper's chaining value before hashing the tail itself
/// (a tail costs ~0.3 µs; a spin is a few ns).
const SPINS_BEFORE_OWN_TAIL: u32 = 64;
const REPORT_EVERY: u64 = 1 << 14;

struct SharedPtr<T>(*mut T);
// SAFETY: access through these pointers follows the protocol in the module docs.
unsafe impl<T> Send for SharedPtr<T> {}
unsafe impl<T> Sync for SharedPtr<T> {}

/// An atomic alone on its cache line(s), so the two threads' counters do not falsely share.
#[repr(align(128))]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Waits until `cond()` holds, spinning briefly then yielding; false if `abort` was raised.
#[inline]
fn wait_until(abort: &AtomicBool, mut cond: impl FnMut() -> bool) -> bool {
    let mut spins = 0u32;
    while !cond() {
        if abort.load(Ordering::Relaxed) {
            return false;
        }
        spins += 1;
        if spins < 2000 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
    true
}

/// Indices into the 14-parent row of the 7 labels in chunk 1 (P[30..37]).
fn tail_parents(layer: u32) -> [usize; 7] {
    if layer == 1 {
        [0, 1, 2, 3, 4, 5, 0]
    } else {
        [2, 3, 4, 5, 6, 7, 8]
    }
}

/// The chaining value of chunk 1 (the preimage's bytes 1024..1248).
fn tail_cv(tail: &[u8; TAIL]) -> ChainingValue {
    blake3::Hasher::new()
        .set_input_offset(CHUNK as u64)
        .update(tail)
        .finalize_non_root()
}

/// Tests: make the helper sleep every few nodes, so the main thread hashes most tails itself.
#[cfg(test)]
static STARVE_HELPER: AtomicBool = AtomicBool::new(false);

/// Labels one layer into `cur` with two threads; same output as the sequential path.
pub(crate) fn label_layer_split(
    cache: &ParentCache,
    replica_id: &Node,
    layer: u32,
    prev: Option<&[Node]>,
    cur: &mut [Node],
    progress: &dyn Progress,
) -> Result<(), SealError> {
    let n = cur.len() as u64;
    let mut head = [0u8; CHUNK];
    head[..64].copy_from_slice(&prefix(replica_id, layer, 0));
    cur[0] = strata_primitives::hash::hash_d(&head[..64]); // node 0: the prefix alone
    if n == 1 {
        return Ok(());
    }
    let cur_ptr = SharedPtr(cur.as_mut_ptr());
    let mut ring: Vec<ChainingValue> = vec![[0u8; 32]; RING as usize];
    let ring_ptr = SharedPtr(ring.as_mut_ptr());
    let done = Padded(AtomicU64::new(1));
    let cv_ready = Padded(AtomicU64::new(1));
    let consumed = Padded(AtomicU64::new(1));
    let abort = Padded(AtomicBool::new(false));
    let tail_idx = tail_parents(layer);

    std::thread::scope(|s| {
        let helper = s.spawn(|| -> Result<(), SealError> {
            let (cur_ptr, ring_ptr) = (&cur_ptr, &ring_ptr);
            let mut rows = RowStream::new(cache, 1 << 14);
            let mut tail = [0u8; TAIL];
            for v in 1..n {
                // The main thread hashed this node's tail itself: skip ahead.
                if v < consumed.load(Ordering::Acquire) {
                    continue;
                }
                #[cfg(test)]
                if STARVE_HELPER.load(Ordering::Relaxed) && v % 8 == 0 {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                let row = match rows.row(v) {
                    Ok(r) => r,
                    Err(e) => {
                        abort.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                };
                // Base parents used in the tail must be labelled already.
                let need = tail_idx
                    .iter()
                    .filter(|&&i| i < BASE_DEGREE)
                    .map(|&i| row[i] as u64 + 1)
                    .max()
                    .unwrap_or(0);
                if !wait_until(&abort, || {
                    done.load(Ordering::Acquire) >= need
                        && v < consumed.load(Ordering::Acquire) + RING
                }) {
                    return Ok(());
                }
                for (k, &i) in tail_idx.iter().enumerate() {
                    let p = row[i] as usize;
                    // SAFETY: base parents are below `done` (published); expander parents are in
                    // the finished previous layer.
                    let label = if i < BASE_DEGREE {
                        unsafe { *cur_ptr.0.add(p) }
                    } else {
                        prev.expect("layer ≥ 2 has a previous layer")[p]
                    };
                    tail[32 * k..32 * (k + 1)].copy_from_slice(&label);
                }
                let cv = tail_cv(&tail);
                // SAFETY: slot v % RING is free: the main thread consumed v − RING (checked above).
                unsafe { *ring_ptr.0.add((v % RING) as usize) = cv };
                cv_ready.store(v + 1, Ordering::Release);
            }
            Ok(())
        });

        let main = (|| -> Result<(), SealError> {
            let (cur_ptr, ring_ptr) = (&cur_ptr, &ring_ptr);
            let mut rows = RowStream::new(cache, 1 << 14);
            let mut parents: [Node; PARENTS] = [[0u8; 32]; PARENTS];
            for v in 1..n {
                head[36..44].copy_from_slice(&v.to_be_bytes());
                let row: [u32; PARENTS] =
                    rows.row(v)?.try_into().expect("a cache row has 14 parents");
                if v + 1 < n {
                    let next = rows.row(v + 1)?;
                    for &p in &next[..BASE_DEGREE] {
                        // SAFETY: an in-bounds address; a prefetch reads nothing.
                        prefetch(unsafe { cur_ptr.0.add(p as usize) });
                    }
                    if let Some(prev) = prev {
                        for &p in &next[BASE_DEGREE..] {
                            prefetch(&prev[p as usize]);
                        }
                    }
                }
                for k in 0..BASE_DEGREE {
                    // SAFETY: base parents are < v, written by this thread.
                    parents[k] = unsafe { *cur_ptr.0.add(row[k] as usize) };
                }
                let count = match prev {
                    None => BASE_DEGREE,
                    Some(prev) => {
                        for k in BASE_DEGREE..PARENTS {
                            parents[k] = prev[row[k] as usize];
                        }
                        PARENTS
                    }
                };
                // P[0..30]: the parent list repeated (6 or 14 labels per repetition).
                for j in 0..30 {
                    head[64 + 32 * j..96 + 32 * j].copy_from_slice(&parents[j % count]);
                }
                let cv0: ChainingValue = blake3::Hasher::new().update(&head).finalize_non_root();
                let mut spins = 0;
                let cv1 = loop {
                    if cv_ready.load(Ordering::Acquire) > v {
                        // SAFETY: the helper published slot v % RING (cv_ready > v) and will not
                        // reuse it until `consumed` passes v.
                        break unsafe { *ring_ptr.0.add((v % RING) as usize) };
                    }
                    if abort.load(Ordering::Relaxed) {
                        return Ok(());
                    }
                    spins += 1;
                    if spins > SPINS_BEFORE_OWN_TAIL {
                        // The helper is behind (descheduled): hash the tail here.
                        let mut tail = [0u8; TAIL];
                        for (k, &i) in tail_idx.iter().enumerate() {
                            tail[32 * k..32 * (k + 1)].copy_from_slice(&parents[i]);
                        }
                        break tail_cv(&tail);
                    }
                    std::hint::spin_loop();
                };
                consumed.store(v + 1, Ordering::Release);
                let mut label: Node = *merge_subtrees_root(&cv0, &cv1, Mode::Hash).as_bytes();
                label[31] &= 0x3f;
                // SAFETY: index v is written only here, and the helper reads only below `done`.
                unsafe { *cur_ptr.0.add(v as usize) = label };
                done.store(v + 1, Ordering::Release);
                if v % REPORT_EVERY == 0 {
                    progress.advance(REPORT_EVERY);
                }
            }
            Ok(())
        })();
        if main.is_err() {
            abort.store(true, Ordering::Relaxed);
        }
        let helper = helper.join().expect("labeling helper thread panicked");
        main.and(helper)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Graph;
    use crate::labeling::label_layer;
    use crate::progress::NoProgress;
    use strata_params::ProofType;
    use strata_primitives::sizes::SectorSize;

    #[test]
    fn split_labeling_equals_sequential_labeling() {
        let tmp = tempfile::tempdir().unwrap();
        for size in [SectorSize::KIB2, SectorSize::MIB8] {
            let pt = ProofType::for_size(size).unwrap();
            let graph = Graph::new(&pt.porep_id(), pt.nodes());
            let cache = ParentCache::open_or_create(tmp.path(), &pt, &graph).unwrap();
            let rid = [0x2a; 32];
            let n = pt.nodes() as usize;
            let (mut seq1, mut split1) = (vec![[0u8; 32]; n], vec![[0u8; 32]; n]);
            label_layer(&cache, &rid, 1, None, &mut seq1, &NoProgress).unwrap();
            label_layer_split(&cache, &rid, 1, None, &mut split1, &NoProgress).unwrap();
            assert!(seq1 == split1, "layer 1 differs at {size}");
            let (mut seq2, mut split2) = (vec![[0u8; 32]; n], vec![[0u8; 32]; n]);
            label_layer(&cache, &rid, 2, Some(&seq1), &mut seq2, &NoProgress).unwrap();
            label_layer_split(&cache, &rid, 2, Some(&seq1), &mut split2, &NoProgress).unwrap();
            assert!(seq2 == split2, "layer 2 differs at {size}");
            assert_ne!(seq1, seq2);
        }
    }

    #[test]
    fn a_starved_helper_changes_nothing_but_who_hashes_the_tails() {
        let tmp = tempfile::tempdir().unwrap();
        let pt = ProofType::for_size(SectorSize::MIB8).unwrap();
        let graph = Graph::new(&pt.porep_id(), pt.nodes());
        let cache = ParentCache::open_or_create(tmp.path(), &pt, &graph).unwrap();
        let rid = [0x3c; 32];
        let n = pt.nodes() as usize;
        let (mut seq1, mut seq2) = (vec![[0u8; 32]; n], vec![[0u8; 32]; n]);
        label_layer(&cache, &rid, 1, None, &mut seq1, &NoProgress).unwrap();
        label_layer(&cache, &rid, 2, Some(&seq1), &mut seq2, &NoProgress).unwrap();
        STARVE_HELPER.store(true, Ordering::Relaxed);
        let (mut s1, mut s2) = (vec![[0u8; 32]; n], vec![[0u8; 32]; n]);
        let r1 = label_layer_split(&cache, &rid, 1, None, &mut s1, &NoProgress);
        let r2 = label_layer_split(&cache, &rid, 2, Some(&seq1), &mut s2, &NoProgress);
        STARVE_HELPER.store(false, Ordering::Relaxed);
        r1.unwrap();
        r2.unwrap();
        assert!(s1 == seq1, "layer 1 differs with a starved helper");
        assert!(s2 == seq2, "layer 2 differs with a starved helper");
    }
}
