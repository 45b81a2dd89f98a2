//! The fast native Poseidon: [`Poseidon::hash`]'s optimised schedule evaluated without
//! `bls12_381::Scalar`, whose portable Rust Montgomery multiplication (~20–27 ns here) is the whole
//! cost of the permutation (arity 2: ~580 multiplications, arity 11: ~2,800).
//!
//! **Two backends.**
//! - *blst* (every CPU): the same scalar-field arithmetic in assembly, over [`blst::blst_fr`]. The
//!   `portable` feature (see `primitives/Cargo.toml`) builds its MULX/ADCX/ADOX and plain x86-64
//!   paths and picks one from CPUID at run time, so the binary also runs on CPUs without ADX. It
//!   serves single hashes ([`Poseidon::hash`], [`Poseidon::hash_nodes`]) and, with [`LANES`]
//!   hashes interleaved so their multiplications overlap, batches on CPUs without IFMA. Only ~10%
//!   faster than `Scalar` on the benchmark machine: a multiplication's latency dominates either way.
//! - *AVX-512 IFMA* (`ifma.rs`, where the CPU has it, detected at run time): eight hashes at once,
//!   one per 64-bit lane, radix-2^52 limbs and lazy Montgomery reduction; about nine times faster
//!   per hash. The batch entry points ([`Poseidon::hash_node_groups`],
//!   [`Poseidon::hash_node_columns`]) use it whenever it is available.
//!
//! **Schedule.** Exactly the optimised one of [`Poseidon::hash_scalar`] (constants pushed forward,
//! sparse partial-round matrices), its constants converted once per arity from the `Scalar` ones,
//! plus two exact shortcuts: the first round's `state[0]` (domain tag + constant, S-boxed) is a
//! per-arity constant, and the last MDS multiplication computes only the output row `state[1]`.
//!
//! **Bit-identity.** Every backend computes in the same prime field with exact field arithmetic,
//! and values cross between representations only through canonical little-endian integers
//! (`Scalar::to_bytes`/`from_bytes`, blst's `blst_fr_from_uint64`/`blst_uint64_from_fr`, limb
//! splitting for IFMA), never by reinterpreting Montgomery limbs. So each output equals the
//! `Scalar` permutation's as a field element, and its canonical encoding is the same bytes. A node
//! input is decoded only if its value is below the modulus, the same test `node_to_fr` applies, and
//! is rejected with the same [`NonCanonicalNode`] otherwise. The tests compare both backends with
//! [`Poseidon::hash_reference`] and [`Poseidon::hash_scalar`] on random and edge inputs, batch
//! sizes around the lane counts, and the vendored neptune vectors.

#[cfg(target_arch = "x86_64")]
use super::ifma;
use super::{Poseidon, FULL_ROUNDS};
use crate::node::{Node, NonCanonicalNode};
use bls12_381::Scalar;
use blst::{
    blst_fr, blst_fr_add, blst_fr_from_uint64, blst_fr_mul, blst_fr_sqr, blst_uint64_from_fr,
};
use ff::Field;
use std::mem::MaybeUninit;

/// The widest state among the supported arities (arity 11).
pub(super) const MAX_WIDTH: usize = 12;

/// Hashes interleaved per pass by the blst batch.
pub(super) const LANES: usize = 2;

// The first full round (special-cased in `permute`) is never the pre-sparse one.
const _: () = assert!(FULL_ROUNDS / 2 >= 2);

/// One permutation state; only the first `width` elements are used.
type State = [blst_fr; MAX_WIDTH];

/// The scalar-field modulus r, little-endian 64-bit limbs.
pub(super) const MODULUS: [u64; 4] = [
    0xffff_ffff_0000_0001,
    0x53bd_a402_fffe_5bfe,
    0x3339_d808_09a1_d805,
    0x73ed_a753_299d_7d48,
];

const ZERO: blst_fr = blst_fr { l: [0; 4] };

#[inline(always)]
fn add(a: &blst_fr, b: &blst_fr) -> blst_fr {
    let mut r = MaybeUninit::<blst_fr>::uninit();
    // SAFETY: `a` and `b` are valid, aligned `blst_fr`s (reduced, as every value built by this
    // module is); blst_fr_add reads them and writes all four limbs of `r`, which it then owns.
    unsafe {
        blst_fr_add(r.as_mut_ptr(), a, b);
        r.assume_init()
    }
}

#[inline(always)]
fn mul(a: &blst_fr, b: &blst_fr) -> blst_fr {
    let mut r = MaybeUninit::<blst_fr>::uninit();
    // SAFETY: as in `add`; blst_fr_mul writes all four limbs of `r`.
    unsafe {
        blst_fr_mul(r.as_mut_ptr(), a, b);
        r.assume_init()
    }
}

#[inline(always)]
fn sqr(a: &blst_fr) -> blst_fr {
    let mut r = MaybeUninit::<blst_fr>::uninit();
    // SAFETY: as in `add`; blst_fr_sqr writes all four limbs of `r`.
    unsafe {
        blst_fr_sqr(r.as_mut_ptr(), a);
        r.assume_init()
    }
}

/// `x^5`.
#[inline(always)]
fn sbox(x: &blst_fr) -> blst_fr {
    mul(x, &sqr(&sqr(x)))
}

/// The Montgomery form of a canonical value given as little-endian limbs (`limbs < r`).
#[inline(always)]
fn fr_from_canonical_limbs(limbs: &[u64; 4]) -> blst_fr {
    let mut r = MaybeUninit::<blst_fr>::uninit();
    // SAFETY: `limbs` points to four readable u64s; blst_fr_from_uint64 writes all four limbs of
    // `r` (it multiplies by R² mod r, which maps any value below r to its Montgomery form).
    unsafe {
        blst_fr_from_uint64(r.as_mut_ptr(), limbs.as_ptr());
        r.assume_init()
    }
}

/// True if the little-endian limbs are below the modulus, i.e. a canonical encoding.
#[inline(always)]
fn is_canonical(limbs: &[u64; 4]) -> bool {
    for i in (0..4).rev() {
        if limbs[i] != MODULUS[i] {
            return limbs[i] < MODULUS[i];
        }
    }
    false
}

/// Little-endian bytes to little-endian 64-bit limbs.
#[inline(always)]
pub(super) fn limbs_from_bytes(bytes: &[u8; 32]) -> [u64; 4] {
    let mut limbs = [0u64; 4];
    for (l, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *l = u64::from_le_bytes(b);
    }
    limbs
}

/// A node's little-endian limbs if its value is below r: rejects exactly what
/// `crate::node::node_to_fr` rejects.
#[inline]
fn canonical_limbs(node: &Node) -> Result<[u64; 4], NonCanonicalNode> {
    let limbs = limbs_from_bytes(node);
    if is_canonical(&limbs) {
        Ok(limbs)
    } else {
        Err(NonCanonicalNode(*node))
    }
}

/// Decodes a node into blst's Montgomery form, rejecting non-canonical ones.
#[inline]
fn fr_from_node(node: &Node) -> Result<blst_fr, NonCanonicalNode> {
    canonical_limbs(node).map(|l| fr_from_canonical_limbs(&l))
}

/// Little-endian limbs to node bytes.
#[inline]
fn node_from_limbs(limbs: &[u64; 4]) -> Node {
    let mut node = [0u8; 32];
    for (chunk, l) in node.chunks_exact_mut(8).zip(limbs) {
        chunk.copy_from_slice(&l.to_le_bytes());
    }
    node
}

/// The canonical little-endian encoding of a field element.
#[inline]
fn node_from_fr(fr: &blst_fr) -> Node {
    let mut limbs = [0u64; 4];
    // SAFETY: `limbs` has room for the four u64s blst_uint64_from_fr writes; `fr` is valid.
    unsafe { blst_uint64_from_fr(limbs.as_mut_ptr(), fr) };
    node_from_limbs(&limbs)
}

/// A `Scalar` as a blst element, through its canonical bytes.
fn fr_from_scalar(s: &Scalar) -> blst_fr {
    // `Scalar::to_bytes` is canonical, so the limbs are below r.
    fr_from_canonical_limbs(&limbs_from_bytes(&s.to_bytes()))
}

/// A blst element as a `Scalar`, through its canonical bytes.
fn scalar_from_fr(fr: &blst_fr) -> Scalar {
    // blst keeps elements reduced, so the bytes are canonical and `from_bytes` accepts them; the
    // fallback is unreachable.
    Option::from(Scalar::from_bytes(&node_from_fr(fr))).unwrap_or(Scalar::ZERO)
}

/// One arity's constants for the optimised schedule, in blst's Montgomery form.
#[derive(Debug, Default)]
pub(super) struct FastConstants {
    width: usize,
    /// `sbox(domain_tag + full_constants[0][0])`: the first round's `state[0]`, input-independent.
    first_s0: blst_fr,
    /// `FULL_ROUNDS × width` round constants, row per round.
    full: Vec<blst_fr>,
    /// One constant per partial round.
    partial: Vec<blst_fr>,
    /// The dense MDS matrix, row-major.
    mds: Vec<blst_fr>,
    /// The pre-sparse matrix of the last first-half full round, row-major.
    pre_sparse: Vec<blst_fr>,
    /// Per partial round `2·width − 1` values: `m00`, the first row's tail, the first column's tail.
    sparse: Vec<blst_fr>,
}

impl FastConstants {
    /// Converts the `Scalar` constants of the optimised schedule.
    pub(super) fn new(p: &Poseidon) -> Self {
        let conv = |v: &[Scalar]| v.iter().map(fr_from_scalar).collect::<Vec<_>>();
        let full: Vec<blst_fr> = p.full_constants.iter().flat_map(|r| conv(r)).collect();
        let first_s0 = sbox(&add(&fr_from_scalar(&p.domain_tag), &full[0]));
        let sparse = p
            .sparse
            .iter()
            .flat_map(|s| {
                let mut v = vec![fr_from_scalar(&s.m00)];
                v.extend(conv(&s.row));
                v.extend(conv(&s.col));
                v
            })
            .collect();
        FastConstants {
            width: p.width,
            first_s0,
            full,
            partial: conv(&p.partial_constants),
            mds: p.mds.iter().flat_map(|r| conv(r)).collect(),
            pre_sparse: p.pre_sparse.iter().flat_map(|r| conv(r)).collect(),
            sparse,
        }
    }

    /// Runs the permutation on `N` states at once and returns each one's `state[1]`.
    /// `s[k][1..width]` hold the inputs; `s[k][0]` is ignored (the domain tag is built in).
    #[inline(always)]
    fn permute<const N: usize>(&self, s: &mut [State; N]) -> [blst_fr; N] {
        let t = self.width;
        let half = FULL_ROUNDS / 2;
        // First round: state[0] is a constant, the inputs get their constants and S-box.
        for st in s.iter_mut() {
            st[0] = self.first_s0;
            for (x, c) in st[1..t].iter_mut().zip(&self.full[1..t]) {
                *x = sbox(&add(x, c));
            }
        }
        self.mix(s, &self.mds);
        for r in 1..half {
            let m = if r + 1 == half {
                &self.pre_sparse
            } else {
                &self.mds
            };
            self.add_sbox_all(s, r);
            self.mix(s, m);
        }
        let stride = 2 * t - 1;
        for (c, sp) in self.partial.iter().zip(self.sparse.chunks_exact(stride)) {
            let (m00, rest) = (&sp[0], &sp[1..]);
            let (row, col) = rest.split_at(t - 1);
            let mut x0 = [ZERO; N];
            let mut y0 = [ZERO; N];
            for k in 0..N {
                x0[k] = sbox(&add(&s[k][0], c));
            }
            for k in 0..N {
                y0[k] = mul(m00, &x0[k]);
            }
            for j in 1..t {
                for k in 0..N {
                    y0[k] = add(&y0[k], &mul(&row[j - 1], &s[k][j]));
                    s[k][j] = add(&s[k][j], &mul(&col[j - 1], &x0[k]));
                }
            }
            for k in 0..N {
                s[k][0] = y0[k];
            }
        }
        for r in half..FULL_ROUNDS - 1 {
            self.add_sbox_all(s, r);
            self.mix(s, &self.mds);
        }
        // Last round: only the output row of the MDS matrix is needed.
        self.add_sbox_all(s, FULL_ROUNDS - 1);
        let row = &self.mds[t..2 * t];
        let mut out = [ZERO; N];
        for k in 0..N {
            out[k] = mul(&row[0], &s[k][0]);
        }
        for j in 1..t {
            for k in 0..N {
                out[k] = add(&out[k], &mul(&row[j], &s[k][j]));
            }
        }
        out
    }

    /// Adds full round `r`'s constants and applies the S-box to every element.
    #[inline(always)]
    fn add_sbox_all<const N: usize>(&self, s: &mut [State; N], r: usize) {
        let t = self.width;
        let c = &self.full[r * t..(r + 1) * t];
        for i in 0..t {
            for st in s.iter_mut() {
                st[i] = sbox(&add(&st[i], &c[i]));
            }
        }
    }

    /// `state ← m · state` with the dense row-major matrix `m`.
    #[inline(always)]
    fn mix<const N: usize>(&self, s: &mut [State; N], m: &[blst_fr]) {
        let t = self.width;
        let mut out = [[ZERO; MAX_WIDTH]; N];
        for (i, row) in m.chunks_exact(t).enumerate() {
            for k in 0..N {
                out[k][i] = mul(&row[0], &s[k][0]);
            }
            for j in 1..t {
                for k in 0..N {
                    out[k][i] = add(&out[k][i], &mul(&row[j], &s[k][j]));
                }
            }
        }
        for (st, o) in s.iter_mut().zip(&out) {
            st[..t].copy_from_slice(&o[..t]);
        }
    }
}

impl Poseidon {
    /// Poseidon of `inputs` (exactly `arity` of them) over `Scalar`s, computed on the fast path
    /// and converted back; equal to [`Poseidon::hash_scalar`] and [`Poseidon::hash_reference`].
    ///
    /// # Panics
    /// If `inputs.len()` is not the arity.
    pub fn hash(&self, inputs: &[Scalar]) -> Scalar {
        assert_eq!(inputs.len(), self.arity, "Poseidon arity mismatch");
        let mut s = [[ZERO; MAX_WIDTH]; 1];
        for (x, i) in s[0][1..].iter_mut().zip(inputs) {
            *x = fr_from_scalar(i);
        }
        scalar_from_fr(&self.fast.permute(&mut s)[0])
    }

    /// Poseidon of `inputs` (exactly `arity` nodes), node in, node out, without `bls12_381`.
    /// Fails on the first input that is not a canonical field element, as `node_to_fr` would.
    ///
    /// # Panics
    /// If `inputs.len()` is not the arity.
    pub fn hash_nodes(&self, inputs: &[Node]) -> Result<Node, NonCanonicalNode> {
        assert_eq!(inputs.len(), self.arity, "Poseidon arity mismatch");
        let mut s = [[ZERO; MAX_WIDTH]; 1];
        for (x, n) in s[0][1..].iter_mut().zip(inputs) {
            *x = fr_from_node(n)?;
        }
        Ok(node_from_fr(&self.fast.permute(&mut s)[0]))
    }

    /// A tree level: `parents[i] = hash_nodes(children[arity·i .. arity·(i+1)])`, many parents
    /// per pass. On a non-canonical child, fails with the first one met (in order) and leaves
    /// `parents` partly written.
    ///
    /// # Panics
    /// If `children.len() != arity · parents.len()`.
    pub fn hash_node_groups(
        &self,
        children: &[Node],
        parents: &mut [Node],
    ) -> Result<(), NonCanonicalNode> {
        self.hash_node_groups_with(Backend::best(), children, parents)
    }

    /// [`Poseidon::hash_node_groups`] on a chosen backend.
    pub(super) fn hash_node_groups_with(
        &self,
        backend: Backend,
        children: &[Node],
        parents: &mut [Node],
    ) -> Result<(), NonCanonicalNode> {
        let a = self.arity;
        assert_eq!(children.len(), a * parents.len(), "level size mismatch");
        self.hash_batched(backend, parents, |p, i| &children[p * a + i])
    }

    /// Column hashes: `out[i] = hash_nodes([layers[0][start + i], …, layers[arity−1][start + i]])`,
    /// many columns per pass. On a non-canonical label, fails with the first one met (column by
    /// column, layers in order) and leaves `out` partly written.
    ///
    /// # Panics
    /// If `layers.len()` is not the arity or a layer has fewer than `start + out.len()` nodes.
    pub fn hash_node_columns<L: AsRef<[Node]>>(
        &self,
        layers: &[L],
        start: usize,
        out: &mut [Node],
    ) -> Result<(), NonCanonicalNode> {
        self.hash_node_columns_with(Backend::best(), layers, start, out)
    }

    /// [`Poseidon::hash_node_columns`] on a chosen backend.
    pub(super) fn hash_node_columns_with<L: AsRef<[Node]>>(
        &self,
        backend: Backend,
        layers: &[L],
        start: usize,
        out: &mut [Node],
    ) -> Result<(), NonCanonicalNode> {
        assert_eq!(layers.len(), self.arity, "column height is not the arity");
        let end = start + out.len();
        let layers: Vec<&[Node]> = layers.iter().map(|l| &l.as_ref()[start..end]).collect();
        self.hash_batched(backend, out, |col, i| &layers[i][col])
    }

    /// `out[p] = hash_nodes([input(p, 0), …, input(p, arity − 1)])` for every `p`.
    #[inline(always)]
    fn hash_batched<'a>(
        &self,
        backend: Backend,
        out: &mut [Node],
        input: impl Fn(usize, usize) -> &'a Node,
    ) -> Result<(), NonCanonicalNode> {
        match backend {
            Backend::Blst => self.hash_batched_blst(out, input),
            #[cfg(target_arch = "x86_64")]
            Backend::Ifma => self.hash_batched_ifma(out, input),
        }
    }

    /// The blst batch: [`LANES`] hashes interleaved per pass.
    #[inline(always)]
    fn hash_batched_blst<'a>(
        &self,
        out: &mut [Node],
        input: impl Fn(usize, usize) -> &'a Node,
    ) -> Result<(), NonCanonicalNode> {
        let a = self.arity;
        let mut chunks = out.chunks_exact_mut(LANES);
        let mut p = 0;
        for chunk in &mut chunks {
            let mut s = [[ZERO; MAX_WIDTH]; LANES];
            for (k, st) in s.iter_mut().enumerate() {
                for i in 0..a {
                    st[i + 1] = fr_from_node(input(p + k, i))?;
                }
            }
            for (o, h) in chunk.iter_mut().zip(self.fast.permute(&mut s)) {
                *o = node_from_fr(&h);
            }
            p += LANES;
        }
        for o in chunks.into_remainder() {
            let mut s = [[ZERO; MAX_WIDTH]; 1];
            for i in 0..a {
                s[0][i + 1] = fr_from_node(input(p, i))?;
            }
            *o = node_from_fr(&self.fast.permute(&mut s)[0]);
            p += 1;
        }
        Ok(())
    }

    /// The AVX-512 IFMA batch: eight hashes per pass, the last pass padded with zero inputs.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn hash_batched_ifma<'a>(
        &self,
        out: &mut [Node],
        input: impl Fn(usize, usize) -> &'a Node,
    ) -> Result<(), NonCanonicalNode> {
        let a = self.arity;
        let mut buf = [[0u64; 4]; ifma::LANES * (MAX_WIDTH - 1)];
        for (c, chunk) in out.chunks_mut(ifma::LANES).enumerate() {
            let buf = &mut buf[..ifma::LANES * a];
            buf.fill([0; 4]);
            for lane in 0..chunk.len() {
                for i in 0..a {
                    buf[lane * a + i] = canonical_limbs(input(c * ifma::LANES + lane, i))?;
                }
            }
            // SAFETY: `Backend::Ifma` is only chosen where `ifma::available()` found AVX-512F and
            // AVX-512 IFMA on this CPU.
            let hashes = unsafe { self.ifma.hash8(buf) };
            for (o, h) in chunk.iter_mut().zip(&hashes) {
                *o = node_from_limbs(h);
            }
        }
        Ok(())
    }
}

/// Which implementation runs a batch of hashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Backend {
    /// blst's scalar-field assembly, [`LANES`] hashes interleaved.
    Blst,
    /// AVX-512 IFMA, eight hashes in the lanes of 512-bit registers.
    #[cfg(target_arch = "x86_64")]
    Ifma,
}

impl Backend {
    /// IFMA where the CPU has it, blst otherwise.
    pub(super) fn best() -> Self {
        #[cfg(target_arch = "x86_64")]
        if ifma::available() {
            return Backend::Ifma;
        }
        Backend::Blst
    }
}
