//! The SDR graph (DESIGN §5): N nodes per layer; node v ≥ 1 has 6 base parents in its own layer
//! (`parents[0] = v−1`, five from bucket sampling) and, in layers ≥ 2, 8 expander parents in the
//! previous layer from a keyed Feistel permutation. Parents are a pure function of (porep_id, N).
//!
//! Design notes — where DESIGN.md leaves a choice, Strata fixes it here (format version 1):
//! - **Bucket sampling** follows Filecoin's DRG: for meta-node `m = 5v`, draw a bucket
//!   `b ∈ [1, ⌈log2 m⌉]`, a distance `d ∈ [max(2, 2^b/2), min(m, 2^b)]`, and take parent `(m − d) / 5`
//!   (v−1 if that would be v itself). Its random words are a per-node BLAKE3 XOF:
//!   `BLAKE3_keyed(key = BLAKE3("strata-drg" ‖ porep_id), u64_le(v))`, read as `u64_le` words.
//! - **Feistel**: domain [0, 8N) rounded up to an even bit count `2h`, 3 rounds
//!   `(L, R) → (R, L ⊕ F_i(R))` with `F_i(R) = u64_le(BLAKE3_keyed(key = BLAKE3("strata-feistel" ‖
//!   porep_id), [i] ‖ u64_le(R))[..8]) mod 2^h`, cycle-walking until the value is below 8N.

use strata_params::{BASE_DEGREE, EXPANDER_DEGREE};

/// All parents of one node: `[0..6]` base, `[6..14]` expander.
pub const PARENTS: usize = BASE_DEGREE + EXPANDER_DEGREE;

/// The graph for one proof type: keys derived from porep_id and the layer size.
#[derive(Clone, Debug)]
pub struct Graph {
    nodes: u64,
    drg_key: [u8; 32],
    feistel_key: [u8; 32],
    feistel_half_bits: u32,
}

impl Graph {
    /// The graph of `nodes` nodes per layer (a power of two ≥ 2) for `porep_id`.
    pub fn new(porep_id: &[u8; 32], nodes: u64) -> Self {
        assert!(
            nodes.is_power_of_two() && nodes >= 2,
            "layer size must be a power of two"
        );
        let key = |tag: &[u8]| *blake3::hash(&[tag, porep_id].concat()).as_bytes();
        let domain_bits = (nodes * EXPANDER_DEGREE as u64).trailing_zeros();
        Graph {
            nodes,
            drg_key: key(b"strata-drg"),
            feistel_key: key(b"strata-feistel"),
            feistel_half_bits: domain_bits.div_ceil(2),
        }
    }

    /// Nodes per layer.
    pub fn nodes(&self) -> u64 {
        self.nodes
    }

    /// The 6 base parents of `v` (v ≥ 1); `parents[0] = v − 1`.
    pub fn base_parents(&self, v: u64, parents: &mut [u32]) {
        debug_assert!(v >= 1 && v < self.nodes);
        parents[0] = (v - 1) as u32;
        let meta = v * (BASE_DEGREE as u64 - 1);
        let buckets = 64 - (meta - 1).leading_zeros() as u64; // ⌈log2 meta⌉ for meta ≥ 2
        let mut xof = blake3::Hasher::new_keyed(&self.drg_key)
            .update(&v.to_le_bytes())
            .finalize_xof();
        let mut word = || {
            let mut b = [0u8; 8];
            xof.fill(&mut b);
            u64::from_le_bytes(b)
        };
        for p in parents.iter_mut().take(BASE_DEGREE).skip(1) {
            let bucket = word() % buckets + 1;
            let largest = meta.min(1 << bucket);
            let smallest = (largest >> 1).max(2);
            let dist = smallest + word() % (largest - smallest + 1);
            let parent = (meta - dist) / (BASE_DEGREE as u64 - 1);
            *p = if parent == v {
                (v - 1) as u32
            } else {
                parent as u32
            };
        }
    }

    /// The 8 expander parents of `v` in the previous layer: `permute(8v + i) / 8`.
    pub fn expander_parents(&self, v: u64, parents: &mut [u32]) {
        for (i, p) in parents.iter_mut().take(EXPANDER_DEGREE).enumerate() {
            *p = (self.permute(v * EXPANDER_DEGREE as u64 + i as u64) / EXPANDER_DEGREE as u64)
                as u32;
        }
    }

    /// All 14 parents of `v` (zeros for node 0, which has none).
    pub fn parents(&self, v: u64, out: &mut [u32; PARENTS]) {
        if v == 0 {
            *out = [0; PARENTS];
            return;
        }
        self.base_parents(v, &mut out[..BASE_DEGREE]);
        self.expander_parents(v, &mut out[BASE_DEGREE..]);
    }

    /// The Feistel permutation of [0, 8N), by cycle-walking a permutation of [0, 2^(2h)).
    pub fn permute(&self, x: u64) -> u64 {
        let limit = self.nodes * EXPANDER_DEGREE as u64;
        let mut y = self.feistel(x);
        while y >= limit {
            y = self.feistel(y);
        }
        y
    }

    fn feistel(&self, x: u64) -> u64 {
        let h = self.feistel_half_bits;
        let mask = (1u64 << h) - 1;
        let (mut l, mut r) = (x >> h, x & mask);
        for round in 0..3u8 {
            let mut input = [0u8; 9];
            input[0] = round;
            input[1..].copy_from_slice(&r.to_le_bytes());
            let f = u64::from_le_bytes(
                blake3::keyed_hash(&self.feistel_key, &input).as_bytes()[..8]
                    .try_into()
                    .unwrap(),
            );
            (l, r) = (r, l ^ (f & mask));
        }
        (l << h) | r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_is_a_bijection_for_odd_and_even_domains() {
        for nodes in [64u64, 128, 1 << 10] {
            let g = Graph::new(&[1; 32], nodes);
            let mut seen = vec![false; (nodes * 8) as usize];
            for x in 0..nodes * 8 {
                let y = g.permute(x) as usize;
                assert!(!seen[y], "collision at {y}");
                seen[y] = true;
            }
        }
    }

    #[test]
    fn parents_are_in_range_and_base_parents_precede_v() {
        let g = Graph::new(&[2; 32], 1 << 12);
        let mut p = [0u32; PARENTS];
        for v in 1..g.nodes() {
            g.parents(v, &mut p);
            assert_eq!(p[0] as u64, v - 1);
            assert!(
                p[..BASE_DEGREE].iter().all(|&x| (x as u64) < v),
                "v = {v}: {p:?}"
            );
            assert!(p[BASE_DEGREE..].iter().all(|&x| (x as u64) < g.nodes()));
        }
    }

    #[test]
    fn parents_depend_on_porep_id_and_are_deterministic() {
        let (a, b) = (Graph::new(&[3; 32], 1 << 10), Graph::new(&[4; 32], 1 << 10));
        let (mut pa, mut pa2, mut pb) = ([0u32; PARENTS], [0u32; PARENTS], [0u32; PARENTS]);
        let mut differ = 0;
        for v in 1..1024 {
            a.parents(v, &mut pa);
            a.parents(v, &mut pa2);
            b.parents(v, &mut pb);
            assert_eq!(pa, pa2);
            differ += (pa != pb) as u32;
        }
        assert!(differ > 900, "only {differ} nodes differ");
    }

    #[test]
    fn bucket_sampling_reaches_far_back() {
        // A depth-robust graph needs long edges: some base parents of late nodes lie far behind.
        let g = Graph::new(&[5; 32], 1 << 16);
        let mut p = [0u32; PARENTS];
        let mut far = 0;
        for v in (1 << 15)..(1 << 15) + 1000 {
            g.parents(v, &mut p);
            far += p[1..BASE_DEGREE]
                .iter()
                .filter(|&&x| v - x as u64 > 1 << 10)
                .count();
        }
        assert!(far > 500, "{far} long edges");
    }
}
