//! Eight Poseidon permutations at once with AVX-512 IFMA, for CPUs that have it (checked at run
//! time; see [`available`]).
//!
//! **Representation.** Each 512-bit register holds one 52-bit limb of eight field elements, one per
//! lane; an element is five limbs (radix 2^52) in Montgomery form with `R = 2^260`. `vpmadd52luq`/
//! `vpmadd52huq` multiply the low 52 bits of two limbs and add the low/high 52 bits of the 104-bit
//! product to a 64-bit accumulator, so products are accumulated column-wise without carries and the
//! 12 bits of headroom absorb many of them.
//!
//! **Lazy reduction.** Every value is produced by one Montgomery reduction `redc(T) = T / R mod p`
//! of an accumulated sum `T = Σ aₖ·bₖ + c·R`: a whole MDS row plus the next round's constant, a
//! sparse row, an S-box square. `redc` returns normalised limbs and a value below `T / R + p`, not
//! necessarily below p. With `ε = p / R < 0.0284` the bounds stay small (in units of p; constants
//! are canonical, `< 1`; `X` bounds S-box outputs, `U` S-box inputs):
//! - S-box `u ↦ u⁵` for `u < U = 11.5`: `u² < εU² + 1 < 4.8`, `u⁴ < 1.7`, `u⁵ < 1.7·U·ε + 1`,
//!   so `X = 1.6`.
//! - MDS row (≤ 12 terms) plus a constant: `< 12·X·ε + 2 < 2.6`; inputs enter as
//!   `redc(x·R² + c·R) < 2.1`, which also adds the first round's constants.
//! - Sparse partial round: `state[j] ← redc(col_j·x₀ + state[j]·R)` adds `state[j]` through the high
//!   half of the accumulator for free, growing it by `< X·ε + 1 < 1.05` per round; every
//!   [`REDUCE_EVERY`] = 8 rounds `redc(state[j] · (R mod p)) < 1.4` brings it back. So
//!   `state[j] < 1.6 + 8·1.05 + 1 (the last round's constant) < 11.5 = U`, and the first row
//!   `redc(m00·x₀ + Σ row_j·state[j] + c·R) < (X + 11·11.5)·ε + 2 < 5.7 < U`.
//!
//! Every bound is far below `2^260 / p ≈ 34`, so limbs stay normalised multiplicands, and the
//! accumulators (≤ 12 products of ≤ 5 terms per column in each of the low and high halves, plus the
//! reduction's) stay below 2^60. The output row uses plain-form constants so its `redc` leaves the
//! plain value (`< 12·X·ε + 1 < 2`), and one conditional subtraction makes it canonical. The tests
//! compare every lane with the reference.

use super::fast::{limbs_from_bytes, MAX_WIDTH, MODULUS};
use super::{Poseidon, FULL_ROUNDS};
use bls12_381::Scalar;
use std::arch::x86_64::*;

/// Permutations per pass: one per 64-bit lane of a 512-bit register.
pub(super) const LANES: usize = 8;

const MASK52: u64 = (1 << 52) - 1;

/// Partial rounds between two reductions of `state[1..]` (see the bounds above).
const REDUCE_EVERY: usize = 8;

/// Five 52-bit limbs, little-endian.
type Limbs = [u64; 5];

/// The modulus in radix 2^52.
const P52: Limbs = to_radix52(&MODULUS);

/// `−p⁻¹ mod 2^52`, by Newton iteration (p is odd).
const N0: u64 = {
    let p = MODULUS[0];
    let mut inv = 1u64;
    let mut i = 0;
    while i < 6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(p.wrapping_mul(inv)));
        i += 1;
    }
    inv.wrapping_neg() & MASK52
};

/// Whether this CPU can run the IFMA path (AVX-512F and AVX-512 IFMA); cached by std.
pub(super) fn available() -> bool {
    is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512ifma")
}

/// 64-bit limbs to 52-bit limbs (any 256-bit value).
const fn to_radix52(l: &[u64; 4]) -> Limbs {
    [
        l[0] & MASK52,
        (l[0] >> 52 | l[1] << 12) & MASK52,
        (l[1] >> 40 | l[2] << 24) & MASK52,
        (l[2] >> 28 | l[3] << 36) & MASK52,
        l[3] >> 16,
    ]
}

/// Normalised 52-bit limbs of a value below 2^256 to 64-bit limbs.
fn from_radix52(l: &Limbs) -> [u64; 4] {
    [
        l[0] | l[1] << 52,
        l[1] >> 12 | l[2] << 40,
        l[2] >> 24 | l[3] << 28,
        l[3] >> 36 | l[4] << 16,
    ]
}

/// `v mod p` for `v < 2p`, in 64-bit limbs.
fn reduce_once(v: [u64; 4]) -> [u64; 4] {
    let mut d = [0u64; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (x, b1) = v[i].overflowing_sub(MODULUS[i]);
        let (x, b2) = x.overflowing_sub(borrow as u64);
        d[i] = x;
        borrow = b1 || b2;
    }
    if borrow {
        v
    } else {
        d
    }
}

/// One arity's constants for the IFMA schedule (Montgomery form, `R = 2^260`, unless noted).
#[derive(Debug, Default)]
pub(super) struct IfmaConstants {
    /// State width `t`.
    width: usize,
    /// The first round's S-boxed `state[0]` (domain tag plus constant): input-independent.
    first_s0: Limbs,
    /// `FULL_ROUNDS × width` round constants.
    full: Vec<Limbs>,
    /// One constant per partial round.
    partial: Vec<Limbs>,
    /// The dense MDS matrix, row-major.
    mds: Vec<Limbs>,
    /// The pre-sparse matrix of the last first-half full round, row-major.
    pre_sparse: Vec<Limbs>,
    /// Per partial round: `m00`, the first row's tail, the first column's tail.
    sparse: Vec<Limbs>,
    /// Row 1 of the MDS matrix in plain form: its `redc` leaves the plain output.
    out_row: Vec<Limbs>,
    /// `R² mod p`, plain: `redc(x · R²)` is x in Montgomery form.
    r2: Limbs,
    /// `R mod p` (Montgomery one), plain.
    one: Limbs,
}

impl IfmaConstants {
    /// Converts the optimised schedule's `Scalar` constants.
    pub(super) fn new(p: &Poseidon) -> Self {
        let r = Scalar::from(2u64).pow_vartime(&[260, 0, 0, 0]);
        let plain = |s: &Scalar| to_radix52(&limbs_from_bytes(&s.to_bytes()));
        let mont = |s: &Scalar| plain(&(s * r));
        let mat = |m: &super::Matrix| m.iter().flatten().map(mont).collect();
        let x = p.domain_tag + p.full_constants[0][0];
        let x4 = x.square().square();
        IfmaConstants {
            width: p.width,
            first_s0: mont(&(x4 * x)),
            full: p.full_constants.iter().flatten().map(mont).collect(),
            partial: p.partial_constants.iter().map(mont).collect(),
            mds: mat(&p.mds),
            pre_sparse: mat(&p.pre_sparse),
            sparse: p
                .sparse
                .iter()
                .flat_map(|s| std::iter::once(&s.m00).chain(&s.row).chain(&s.col))
                .map(mont)
                .collect(),
            out_row: p.mds[1].iter().map(plain).collect(),
            r2: plain(&r.square()),
            one: plain(&r),
        }
    }

    /// Hashes [`LANES`] inputs: `inputs[lane · arity + i]` is input i of lane `lane` as canonical
    /// 64-bit limbs (below p; the caller checks). Returns each lane's canonical output limbs.
    ///
    /// Needs AVX-512F and AVX-512 IFMA: call only where [`available`] says so.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) fn hash8(&self, inputs: &[[u64; 4]]) -> [[u64; 4]; LANES] {
        let t = self.width;
        let arity = t - 1;
        debug_assert_eq!(inputs.len(), LANES * arity);
        let half = FULL_ROUNDS / 2;
        let zero = Fe([_mm512_setzero_si512(); 5]);
        let mut x = [zero; MAX_WIDTH]; // after the S-box layer
        let mut u = [zero; MAX_WIDTH]; // before it

        // Round 0: state[0] is a constant; inputs enter as redc(x·R² + c·R).
        x[0] = splat(&self.first_s0);
        for i in 1..t {
            let mut lanes = [[0u64; LANES]; 5];
            for (lane, inp) in inputs.chunks_exact(arity).enumerate() {
                for (k, l) in to_radix52(&inp[i - 1]).iter().enumerate() {
                    lanes[k][lane] = *l;
                }
            }
            let mut v = zero;
            for (r, l) in v.0.iter_mut().zip(&lanes) {
                *r = load(l);
            }
            let mut acc = Acc::zero();
            mac_const(&mut acc, &v, &self.r2);
            add_high(&mut acc, &self.full[i]);
            x[i] = sbox(&redc(acc));
        }
        for r in 1..half {
            mix(
                &self.mds,
                &x[..t],
                &mut u[..t],
                &self.full[r * t..(r + 1) * t],
            );
            for i in 0..t {
                x[i] = sbox(&u[i]);
            }
        }
        // The pre-sparse matrix, and the first partial round's constant (on element 0 only).
        mix(&self.pre_sparse, &x[..t], &mut u[..t], &self.partial[..1]);

        let stride = 2 * t - 1;
        let r_p = self.partial.len();
        for (p, sp) in self.sparse.chunks_exact(stride).enumerate() {
            let (row, col) = sp[1..].split_at(t - 1);
            let last = p + 1 == r_p;
            let next = &self.full[half * t..(half + 1) * t];
            let x0 = sbox(&u[0]);
            let mut acc = Acc::zero();
            mac_const(&mut acc, &x0, &sp[0]);
            for j in 1..t {
                mac_const(&mut acc, &u[j], &row[j - 1]);
            }
            add_high(&mut acc, if last { &next[0] } else { &self.partial[p + 1] });
            let y0 = redc(acc);
            for j in 1..t {
                let mut acc = Acc::zero();
                mac_const(&mut acc, &x0, &col[j - 1]);
                add_high_fe(&mut acc, &u[j]);
                if last {
                    add_high(&mut acc, &next[j]);
                }
                u[j] = redc(acc);
            }
            u[0] = y0;
            if (p + 1) % REDUCE_EVERY == 0 && !last {
                for uj in &mut u[1..t] {
                    let mut acc = Acc::zero();
                    mac_const(&mut acc, uj, &self.one);
                    *uj = redc(acc);
                }
            }
        }

        for r in half..FULL_ROUNDS - 1 {
            for i in 0..t {
                x[i] = sbox(&u[i]);
            }
            mix(
                &self.mds,
                &x[..t],
                &mut u[..t],
                &self.full[(r + 1) * t..(r + 2) * t],
            );
        }
        for i in 0..t {
            x[i] = sbox(&u[i]);
        }
        let mut acc = Acc::zero();
        for (xj, c) in x[..t].iter().zip(&self.out_row) {
            mac_const(&mut acc, xj, c);
        }
        let out = redc(acc);

        let mut limbs = [[0u64; LANES]; 5];
        for (l, v) in limbs.iter_mut().zip(&out.0) {
            store(l, *v);
        }
        let mut result = [[0u64; 4]; LANES];
        for (lane, r) in result.iter_mut().enumerate() {
            let l52 = [0, 1, 2, 3, 4].map(|k| limbs[k][lane]);
            *r = reduce_once(from_radix52(&l52));
        }
        result
    }
}

/// Eight field elements, limb-sliced: register k holds limb k of every lane.
#[derive(Clone, Copy)]
struct Fe([__m512i; 5]);

/// An unreduced accumulator of 10 limb columns, the low and high halves of the 52×52-bit
/// products kept apart so each column's chain of dependent additions is half as long.
#[derive(Clone, Copy)]
struct Acc {
    lo: [__m512i; 10],
    hi: [__m512i; 10],
}

impl Acc {
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn zero() -> Self {
        let z = _mm512_setzero_si512();
        Acc {
            lo: [z; 10],
            hi: [z; 10],
        }
    }
}

#[target_feature(enable = "avx512f")]
#[inline]
fn load(l: &[u64; LANES]) -> __m512i {
    // SAFETY: `l` is 64 readable bytes; the load is unaligned.
    unsafe { _mm512_loadu_si512(l.as_ptr().cast()) }
}

#[target_feature(enable = "avx512f")]
#[inline]
fn store(l: &mut [u64; LANES], v: __m512i) {
    // SAFETY: `l` is 64 writable bytes; the store is unaligned.
    unsafe { _mm512_storeu_si512(l.as_mut_ptr().cast(), v) }
}

/// A constant in every lane.
#[target_feature(enable = "avx512f")]
#[inline]
fn splat(c: &Limbs) -> Fe {
    let mut v = [_mm512_setzero_si512(); 5];
    for (x, c) in v.iter_mut().zip(c) {
        *x = _mm512_set1_epi64(*c as i64);
    }
    Fe(v)
}

/// `acc += a · c` (column sums, no carries) for a constant `c`.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
fn mac_const(acc: &mut Acc, a: &Fe, c: &Limbs) {
    for (j, c) in c.iter().enumerate() {
        let b = _mm512_set1_epi64(*c as i64);
        for i in 0..5 {
            acc.lo[i + j] = _mm512_madd52lo_epu64(acc.lo[i + j], a.0[i], b);
            acc.hi[i + j + 1] = _mm512_madd52hi_epu64(acc.hi[i + j + 1], a.0[i], b);
        }
    }
}

/// `acc += a · R`: after `redc`, `+ a`.
#[target_feature(enable = "avx512f")]
#[inline]
fn add_high_fe(acc: &mut Acc, a: &Fe) {
    for (x, a) in acc.lo[5..].iter_mut().zip(&a.0) {
        *x = _mm512_add_epi64(*x, *a);
    }
}

/// `acc += c · R` for a constant `c`: after `redc`, `+ c`.
#[target_feature(enable = "avx512f")]
#[inline]
fn add_high(acc: &mut Acc, c: &Limbs) {
    for (a, c) in acc.lo[5..].iter_mut().zip(c) {
        *a = _mm512_add_epi64(*a, _mm512_set1_epi64(*c as i64));
    }
}

/// `redc(a²)`, the cross products computed once and doubled.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
fn sqr(a: &Fe) -> Fe {
    let mut d = Acc::zero();
    for i in 0..5 {
        for j in i + 1..5 {
            d.lo[i + j] = _mm512_madd52lo_epu64(d.lo[i + j], a.0[i], a.0[j]);
            d.hi[i + j + 1] = _mm512_madd52hi_epu64(d.hi[i + j + 1], a.0[i], a.0[j]);
        }
    }
    for k in 0..10 {
        d.lo[k] = _mm512_add_epi64(d.lo[k], d.lo[k]);
        d.hi[k] = _mm512_add_epi64(d.hi[k], d.hi[k]);
    }
    for i in 0..5 {
        d.lo[2 * i] = _mm512_madd52lo_epu64(d.lo[2 * i], a.0[i], a.0[i]);
        d.hi[2 * i + 1] = _mm512_madd52hi_epu64(d.hi[2 * i + 1], a.0[i], a.0[i]);
    }
    redc(d)
}

/// `redc(a · b)`.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
fn mul(a: &Fe, b: &Fe) -> Fe {
    let mut acc = Acc::zero();
    for i in 0..5 {
        for j in 0..5 {
            acc.lo[i + j] = _mm512_madd52lo_epu64(acc.lo[i + j], a.0[i], b.0[j]);
            acc.hi[i + j + 1] = _mm512_madd52hi_epu64(acc.hi[i + j + 1], a.0[i], b.0[j]);
        }
    }
    redc(acc)
}

/// `x⁵`.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
fn sbox(u: &Fe) -> Fe {
    let u4 = sqr(&sqr(u));
    mul(&u4, u)
}

/// `out[i] = redc(Σⱼ m[i][j] · x[j] + next[i] · R)` (no constant where `next` is empty).
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
fn mix(m: &[Limbs], x: &[Fe], out: &mut [Fe], next: &[Limbs]) {
    let t = x.len();
    for (i, o) in out.iter_mut().enumerate() {
        let mut acc = Acc::zero();
        for (xj, mij) in x.iter().zip(&m[i * t..(i + 1) * t]) {
            mac_const(&mut acc, xj, mij);
        }
        if let Some(c) = next.get(i) {
            add_high(&mut acc, c);
        }
        *o = redc(acc);
    }
}

/// Montgomery reduction: `T / 2^260 mod p` as normalised limbs, below `T / 2^260 + p`.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
fn redc(acc: Acc) -> Fe {
    let zero = _mm512_setzero_si512();
    let mut t = acc.lo;
    for (t, h) in t.iter_mut().zip(&acc.hi) {
        *t = _mm512_add_epi64(*t, *h);
    }
    let n0 = _mm512_set1_epi64(N0 as i64);
    for i in 0..5 {
        // m makes t[i] ≡ 0 mod 2^52 (madd52lo reads only t[i]'s low 52 bits).
        let m = _mm512_madd52lo_epu64(zero, t[i], n0);
        for (k, pk) in P52.iter().enumerate() {
            let pk = _mm512_set1_epi64(*pk as i64);
            t[i + k] = _mm512_madd52lo_epu64(t[i + k], m, pk);
            t[i + k + 1] = _mm512_madd52hi_epu64(t[i + k + 1], m, pk);
        }
        t[i + 1] = _mm512_add_epi64(t[i + 1], _mm512_srli_epi64::<52>(t[i]));
    }
    let mask = _mm512_set1_epi64(MASK52 as i64);
    for k in 5..9 {
        t[k + 1] = _mm512_add_epi64(t[k + 1], _mm512_srli_epi64::<52>(t[k]));
        t[k] = _mm512_and_si512(t[k], mask);
    }
    Fe([t[5], t[6], t[7], t[8], t[9]])
}
