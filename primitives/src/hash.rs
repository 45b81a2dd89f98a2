//! `hash_d`: BLAKE3 truncated to 254 bits, and its many-at-once form for tree levels.
//!
//! Tree levels hash millions of independent 64-byte inputs. One `blake3::hash` call per input costs
//! ~85 ns here, dominated by per-call overhead around a single compression. A 64-byte message is
//! exactly one BLAKE3 compression (flags CHUNK_START | CHUNK_END | ROOT, counter 0), so
//! [`hash_d_pairs`] runs that compression on 16 (AVX-512) or 8 (AVX2) inputs at once, one input per
//! SIMD lane, written as plain lane loops that the compiler vectorises for the enabled target
//! feature. `blake3::hash` stays the reference; the tests check the two agree on every lane count.

use crate::node::{Node, NODE_SIZE};

/// `hash_d(x) = BLAKE3(x)` with the top two bits of the last byte cleared (a 254-bit node).
#[inline]
pub fn hash_d(input: &[u8]) -> Node {
    let mut out: Node = *blake3::hash(input).as_bytes();
    out[31] &= 0x3f;
    out
}

/// `hash_d(left ‖ right)`: one tree_d inner node.
#[inline]
pub fn hash_d_node(left: &Node, right: &Node) -> Node {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(left);
    buf[32..].copy_from_slice(right);
    hash_d(&buf)
}

/// For each `i`, `out[i] = hash_d(children[2i] ‖ children[2i+1])`, many inputs per SIMD pass.
///
/// # Panics
/// If `children.len() != 2 * out.len()`.
pub fn hash_d_pairs(children: &[Node], out: &mut [Node]) {
    assert_eq!(
        children.len(),
        2 * out.len(),
        "hash_d_pairs needs two children per output"
    );
    lanes::hash_pairs(children, out);
}

/// The reference for [`hash_d_pairs`]: one `blake3::hash` per output.
pub fn hash_d_pairs_reference(children: &[Node], out: &mut [Node]) {
    assert_eq!(
        children.len(),
        2 * out.len(),
        "hash_d_pairs needs two children per output"
    );
    for (o, pair) in out.iter_mut().zip(children.chunks_exact(2)) {
        *o = hash_d_node(&pair[0], &pair[1]);
    }
}

/// BLAKE3's compression function on L independent lanes (one message per SIMD lane), written as
/// plain lane loops that the compiler vectorises for the caller's enabled target features: call
/// it from a `#[target_feature]` function (as [`hash_d_pairs`] and the sealer's batch labeling do)
/// for 16 lanes on AVX-512, 8 on AVX2. Every lane shares the counter, block length and flags.
pub mod lanes {
    use super::*;

    /// BLAKE3's IV (the SHA-256 IV), also the key of unkeyed hashing.
    pub const IV: [u32; 8] = [
        0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB,
        0x5BE0CD19,
    ];
    /// Flag of a chunk's first block.
    pub const CHUNK_START: u32 = 1;
    /// Flag of a chunk's last block.
    pub const CHUNK_END: u32 = 2;
    /// Flag of a parent (merge) compression.
    pub const PARENT: u32 = 4;
    /// Flag of the root compression.
    pub const ROOT: u32 = 8;
    const PERMUTATION: [usize; 16] = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8];

    /// Message word order for each of the 7 rounds.
    const fn schedule() -> [[usize; 16]; 7] {
        let mut s = [[0usize; 16]; 7];
        let mut i = 0;
        while i < 16 {
            s[0][i] = i;
            i += 1;
        }
        let mut r = 1;
        while r < 7 {
            let mut i = 0;
            while i < 16 {
                s[r][i] = s[r - 1][PERMUTATION[i]];
                i += 1;
            }
            r += 1;
        }
        s
    }
    const SCHEDULE: [[usize; 16]; 7] = schedule();

    #[inline(always)]
    fn g<const L: usize>(
        v: &mut [[u32; L]; 16],
        a: usize,
        b: usize,
        c: usize,
        d: usize,
        x: &[u32; L],
        y: &[u32; L],
    ) {
        for l in 0..L {
            v[a][l] = v[a][l].wrapping_add(v[b][l]).wrapping_add(x[l]);
            v[d][l] = (v[d][l] ^ v[a][l]).rotate_right(16);
            v[c][l] = v[c][l].wrapping_add(v[d][l]);
            v[b][l] = (v[b][l] ^ v[c][l]).rotate_right(12);
            v[a][l] = v[a][l].wrapping_add(v[b][l]).wrapping_add(y[l]);
            v[d][l] = (v[d][l] ^ v[a][l]).rotate_right(8);
            v[c][l] = v[c][l].wrapping_add(v[d][l]);
            v[b][l] = (v[b][l] ^ v[c][l]).rotate_right(7);
        }
    }

    /// One compression per lane: chaining value `cv`, message block `m` (word-major: `m[w][l]` is
    /// word w of lane l's block), and the block's counter, length and flags. Returns the new
    /// chaining value (for a root compression: the first 32 bytes of the hash, as LE words).
    #[inline(always)]
    pub fn compress<const L: usize>(
        cv: &[[u32; L]; 8],
        m: &[[u32; L]; 16],
        counter: u64,
        block_len: u32,
        flags: u32,
    ) -> [[u32; L]; 8] {
        let mut v = [[0u32; L]; 16];
        v[..8].copy_from_slice(cv);
        for i in 0..4 {
            v[8 + i] = [IV[i]; L];
        }
        v[12] = [counter as u32; L];
        v[13] = [(counter >> 32) as u32; L];
        v[14] = [block_len; L];
        v[15] = [flags; L];
        for s in &SCHEDULE {
            g(&mut v, 0, 4, 8, 12, &m[s[0]], &m[s[1]]);
            g(&mut v, 1, 5, 9, 13, &m[s[2]], &m[s[3]]);
            g(&mut v, 2, 6, 10, 14, &m[s[4]], &m[s[5]]);
            g(&mut v, 3, 7, 11, 15, &m[s[6]], &m[s[7]]);
            g(&mut v, 0, 5, 10, 15, &m[s[8]], &m[s[9]]);
            g(&mut v, 1, 6, 11, 12, &m[s[10]], &m[s[11]]);
            g(&mut v, 2, 7, 8, 13, &m[s[12]], &m[s[13]]);
            g(&mut v, 3, 4, 9, 14, &m[s[14]], &m[s[15]]);
        }
        let mut out = [[0u32; L]; 8];
        for i in 0..8 {
            for l in 0..L {
                out[i][l] = v[i][l] ^ v[i + 8][l];
            }
        }
        out
    }

    /// The IV in every lane: the chaining value a chunk (or a parent node) starts from.
    #[inline(always)]
    pub fn iv<const L: usize>() -> [[u32; L]; 8] {
        IV.map(|w| [w; L])
    }

    /// The 8 little-endian words of a node.
    #[inline(always)]
    pub fn node_words(node: &Node) -> [u32; 8] {
        std::array::from_fn(|w| {
            u32::from_le_bytes([
                node[4 * w],
                node[4 * w + 1],
                node[4 * w + 2],
                node[4 * w + 3],
            ])
        })
    }

    /// L independent single-block BLAKE3 hashes of 64-byte messages, truncated to 254 bits.
    #[inline(always)]
    fn hash_pairs_lanes<const L: usize>(children: &[Node], out: &mut [Node]) {
        debug_assert_eq!(children.len(), 2 * L);
        debug_assert_eq!(out.len(), L);
        let mut m = [[0u32; L]; 16];
        for l in 0..L {
            let (a, b) = (
                node_words(&children[2 * l]),
                node_words(&children[2 * l + 1]),
            );
            for w in 0..8 {
                m[w][l] = a[w];
                m[8 + w][l] = b[w];
            }
        }
        let h = compress(&iv::<L>(), &m, 0, 64, CHUNK_START | CHUNK_END | ROOT);
        for (l, o) in out.iter_mut().enumerate() {
            for i in 0..8 {
                o[4 * i..4 * i + 4].copy_from_slice(&h[i][l].to_le_bytes());
            }
            o[NODE_SIZE - 1] &= 0x3f;
        }
    }

    #[inline(always)]
    fn run<const L: usize>(children: &[Node], out: &mut [Node]) {
        let full = out.len() / L * L;
        for (o, c) in out[..full]
            .chunks_exact_mut(L)
            .zip(children.chunks_exact(2 * L))
        {
            hash_pairs_lanes::<L>(c, o);
        }
        super::hash_d_pairs_reference(&children[2 * full..], &mut out[full..]);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512vl")]
    unsafe fn run_avx512(children: &[Node], out: &mut [Node]) {
        run::<16>(children, out)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_avx2(children: &[Node], out: &mut [Node]) {
        run::<8>(children, out)
    }

    /// The lane count this CPU runs fastest: 16 with AVX-512, 8 with AVX2, else 4.
    pub fn native_lanes() -> usize {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512vl")
            {
                return 16;
            }
            if std::is_x86_feature_detected!("avx2") {
                return 8;
            }
        }
        4
    }

    /// Dispatches on the CPU's features once per call.
    pub(super) fn hash_pairs(children: &[Node], out: &mut [Node]) {
        #[cfg(target_arch = "x86_64")]
        match native_lanes() {
            // SAFETY: native_lanes detected the features at run time.
            16 => return unsafe { run_avx512(children, out) },
            // SAFETY: as above.
            8 => return unsafe { run_avx2(children, out) },
            _ => {}
        }
        run::<4>(children, out)
    }

    #[cfg(test)]
    pub(super) fn portable<const L: usize>(children: &[Node], out: &mut [Node]) {
        run::<L>(children, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: usize) -> Vec<Node> {
        (0..n as u32).map(|i| hash_d(&i.to_le_bytes())).collect()
    }

    #[test]
    fn hash_d_truncates_blake3() {
        let full = blake3::hash(b"strata");
        let h = hash_d(b"strata");
        assert_eq!(&h[..31], &full.as_bytes()[..31]);
        assert_eq!(h[31], full.as_bytes()[31] & 0x3f);
    }

    #[test]
    fn lanes_agree_with_reference_for_every_width_and_tail() {
        for n in [0usize, 1, 3, 7, 8, 15, 16, 17, 33, 100] {
            let children = sample(2 * n);
            let mut want = vec![[0u8; 32]; n];
            hash_d_pairs_reference(&children, &mut want);
            let mut got = vec![[0u8; 32]; n];
            hash_d_pairs(&children, &mut got);
            assert_eq!(got, want, "dispatch, n = {n}");
            let mut p4 = vec![[0u8; 32]; n];
            lanes::portable::<4>(&children, &mut p4);
            assert_eq!(p4, want, "4 lanes, n = {n}");
            let mut p16 = vec![[0u8; 32]; n];
            lanes::portable::<16>(&children, &mut p16);
            assert_eq!(p16, want, "16 lanes, n = {n}");
        }
    }
}
