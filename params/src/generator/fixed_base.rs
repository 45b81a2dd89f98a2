//! Fixed-base batch scalar multiplication on BLS12-381 with blst's assembly field arithmetic.
//!
//! Every point of a Groth16 parameter set is a multiple of one generator (of G1 or G2). For a
//! fixed base `P` we precompute, for each row `i` of a signed base-2^w expansion, the affine
//! points `j·2^(w·i)·P` for `j = 1..=2^(w-1)`. A scalar then costs one point addition per
//! non-zero signed digit (about 255/w of them) and no doublings, against about 255 doublings
//! plus 255/(w+1) additions for the wNAF method `groth16` uses with its own (slower, portable)
//! field arithmetic. Products are computed a chunk of scalars at a time, one table row at a time
//! (a row is streamed through the cache once per chunk), with all the chunk's additions of a row
//! done in affine coordinates sharing one field inversion ([`BatchAdder`]); the affine sums are
//! converted to `bls12_381` points through the 96/192-byte uncompressed encoding both crates
//! share.
//!
//! The arithmetic is not constant-time in the scalars (digit signs and zero digits branch). That
//! is acceptable for a single-party setup whose trapdoor never leaves the generating process.

use bellman::SynthesisError;
use bls12_381::{G1Affine, G2Affine, Scalar};
use blst::{
    blst_fp, blst_fp2, blst_fp2_cneg, blst_fp2_inverse, blst_fp2_mul, blst_fp2_sqr, blst_fp2_sub,
    blst_fp_cneg, blst_fp_inverse, blst_fp_mul, blst_fp_sqr, blst_fp_sub, blst_p1,
    blst_p1_add_or_double_affine, blst_p1_affine, blst_p1_affine_generator,
    blst_p1_affine_serialize, blst_p1_double, blst_p1_from_affine, blst_p1s_to_affine, blst_p2,
    blst_p2_add_or_double_affine, blst_p2_affine, blst_p2_affine_generator,
    blst_p2_affine_serialize, blst_p2_double, blst_p2_from_affine, blst_p2s_to_affine,
};
use ff::PrimeField;
use rayon::prelude::*;
use std::io;

/// Scalars one task multiplies together: amortises the inversion shared by a row's additions and
/// keeps the chunk's accumulators in cache while a table row is streamed past them.
const CHUNK: usize = 1024;
/// Bits of a canonical scalar (`r < 2^255`).
const SCALAR_BITS: usize = 255;
/// Largest window considered: a G1 table is then 16 rows × 2^15 affine points (48 MiB), a G2
/// table twice that.
const MAX_WINDOW: usize = 16;

/// A BLS12-381 group as blst implements it, with the conversion to the `bls12_381` type.
pub(super) trait Curve {
    /// Jacobian point (blst's all-zero value is the identity).
    type Jacobian: Copy + Default + Send + Sync;
    /// Affine point (all-zero is the identity).
    type Affine: Copy + Default + Send + Sync;
    /// The `bls12_381` affine point.
    type Output: Copy + Send + Sync;
    /// The coordinate field (Montgomery form, always fully reduced by blst).
    type Field: Copy + Default;

    /// The standard generator.
    fn generator() -> Self::Affine;
    /// Lifts an affine point.
    fn from_affine(p: &Self::Affine) -> Self::Jacobian;
    /// `p ← 2p`.
    fn double(p: &mut Self::Jacobian);
    /// `acc ← acc + p`, correct for every input (identity, equal points).
    fn add_affine(acc: &mut Self::Jacobian, p: &Self::Affine);
    /// `−p`.
    fn neg_affine(p: &Self::Affine) -> Self::Affine;
    /// The coordinates of an affine point.
    fn xy(p: &Self::Affine) -> (&Self::Field, &Self::Field);
    /// The affine point with these coordinates.
    fn from_xy(x: Self::Field, y: Self::Field) -> Self::Affine;
    /// `a − b`.
    fn sub(a: &Self::Field, b: &Self::Field) -> Self::Field;
    /// `a·b`.
    fn mul(a: &Self::Field, b: &Self::Field) -> Self::Field;
    /// `a²`.
    fn sqr(a: &Self::Field) -> Self::Field;
    /// `1/a` (`0` for `0`).
    fn inverse(a: &Self::Field) -> Self::Field;
    /// `a = 0` (blst keeps elements fully reduced, so zero has one representation).
    fn is_zero(a: &Self::Field) -> bool;
    /// Converts `src` to affine form into `dst` (same length) with one inversion.
    fn batch_normalize(src: &[Self::Jacobian], dst: &mut [Self::Affine]);
    /// The same point as a `bls12_381` value; `None` if the encoding does not parse (cannot
    /// happen for points blst computed from a valid base).
    fn convert(p: &Self::Affine) -> Option<Self::Output>;
}

/// G1.
pub(super) struct G1;
/// G2.
pub(super) struct G2;

macro_rules! blst_curve {
    ($curve:ident, $jac:ty, $aff:ty, $out:ty, $bytes:expr, $generator:ident, $from_affine:ident,
     $double:ident, $add:ident, $cneg:ident, $to_affine:ident, $serialize:ident,
     $field:ty, $fsub:ident, $fmul:ident, $fsqr:ident, $finv:ident, $limbs:expr) => {
        impl Curve for $curve {
            type Jacobian = $jac;
            type Affine = $aff;
            type Output = $out;
            type Field = $field;

            fn xy(p: &$aff) -> (&$field, &$field) {
                (&p.x, &p.y)
            }

            fn from_xy(x: $field, y: $field) -> $aff {
                <$aff>::from_xy(x, y)
            }

            fn sub(a: &$field, b: &$field) -> $field {
                let mut out = <$field>::default();
                // SAFETY: all three pointers come from live references to field elements.
                unsafe { $fsub(&mut out, a, b) };
                out
            }

            fn mul(a: &$field, b: &$field) -> $field {
                let mut out = <$field>::default();
                // SAFETY: as for `sub`.
                unsafe { $fmul(&mut out, a, b) };
                out
            }

            fn sqr(a: &$field) -> $field {
                let mut out = <$field>::default();
                // SAFETY: as for `sub`.
                unsafe { $fsqr(&mut out, a) };
                out
            }

            fn inverse(a: &$field) -> $field {
                let mut out = <$field>::default();
                // SAFETY: as for `sub`.
                unsafe { $finv(&mut out, a) };
                out
            }

            fn is_zero(a: &$field) -> bool {
                let limbs: fn(&$field) -> bool = $limbs;
                limbs(a)
            }

            fn generator() -> $aff {
                // SAFETY: blst returns a pointer to its static, initialised generator constant.
                unsafe { *$generator() }
            }

            fn from_affine(p: &$aff) -> $jac {
                let mut out = <$jac>::default();
                // SAFETY: both pointers come from live references to correctly sized values.
                unsafe { $from_affine(&mut out, p) };
                out
            }

            fn double(p: &mut $jac) {
                let ptr: *mut $jac = p;
                // SAFETY: `ptr` is valid for reads and writes; blst supports in-place doubling
                // (it reads all inputs before writing the output).
                unsafe { $double(ptr, ptr) };
            }

            fn add_affine(acc: &mut $jac, p: &$aff) {
                let ptr: *mut $jac = acc;
                // SAFETY: `ptr` is valid for reads and writes and `p` for reads; blst supports
                // `out == a` (the result is assembled in a temporary and copied out last).
                unsafe { $add(ptr, ptr, p) };
            }

            fn neg_affine(p: &$aff) -> $aff {
                let mut out = *p;
                // SAFETY: `out.y` is a valid field element; in-place negation is supported.
                unsafe { $cneg(&mut out.y, &p.y, true) };
                out
            }

            fn batch_normalize(src: &[$jac], dst: &mut [$aff]) {
                assert_eq!(src.len(), dst.len(), "batch_normalize lengths");
                if src.is_empty() {
                    return;
                }
                // blst walks `points` as "pointer to the first point, then NULL": a NULL entry
                // means "the point after the previous one", i.e. `src` read contiguously.
                let points = [src.as_ptr(), std::ptr::null()];
                // SAFETY: `dst` has room for `src.len()` affine points; `points[0]` addresses
                // `src.len()` contiguous initialised points and blst reads no further.
                unsafe { $to_affine(dst.as_mut_ptr(), points.as_ptr(), src.len()) };
            }

            fn convert(p: &$aff) -> Option<$out> {
                let mut bytes = [0u8; $bytes];
                // SAFETY: `bytes` is exactly the uncompressed encoding's size.
                unsafe { $serialize(bytes.as_mut_ptr(), p) };
                // Unchecked: the point is a blst multiple of the generator, so it is on the
                // curve and in the prime-order subgroup; the checked form would add a subgroup
                // check costing several times the multiplication itself.
                Option::from(<$out>::from_uncompressed_unchecked(&bytes))
            }
        }
    };
}

blst_curve!(
    G1,
    blst_p1,
    blst_p1_affine,
    G1Affine,
    96,
    blst_p1_affine_generator,
    blst_p1_from_affine,
    blst_p1_double,
    blst_p1_add_or_double_affine,
    blst_fp_cneg,
    blst_p1s_to_affine,
    blst_p1_affine_serialize,
    blst_fp,
    blst_fp_sub,
    blst_fp_mul,
    blst_fp_sqr,
    blst_fp_inverse,
    |a| a.l.iter().all(|&l| l == 0)
);
blst_curve!(
    G2,
    blst_p2,
    blst_p2_affine,
    G2Affine,
    192,
    blst_p2_affine_generator,
    blst_p2_from_affine,
    blst_p2_double,
    blst_p2_add_or_double_affine,
    blst_fp2_cneg,
    blst_p2s_to_affine,
    blst_p2_affine_serialize,
    blst_fp2,
    blst_fp2_sub,
    blst_fp2_mul,
    blst_fp2_sqr,
    blst_fp2_inverse,
    |a| a.fp.iter().all(|f| f.l.iter().all(|&l| l == 0))
);

/// Builds affine points from coordinates (the blst structs have no constructor).
trait FromXy<F> {
    fn from_xy(x: F, y: F) -> Self;
}

impl FromXy<blst_fp> for blst_p1_affine {
    fn from_xy(x: blst_fp, y: blst_fp) -> Self {
        blst_p1_affine { x, y }
    }
}

impl FromXy<blst_fp2> for blst_p2_affine {
    fn from_xy(x: blst_fp2, y: blst_fp2) -> Self {
        blst_p2_affine { x, y }
    }
}

/// Rows of a signed base-2^w expansion of a scalar below 2^255: the top row holds the last
/// `255 mod w` bits plus the carry, which never exceeds 2^(w−1), so no further row is needed.
fn rows(window: usize) -> usize {
    SCALAR_BITS / window + 1
}

/// The window minimising table construction (a Jacobian addition and a normalisation per entry,
/// about 2.5 batched affine additions) plus one batched addition per row per scalar, for `n`
/// scalars.
pub(super) fn window_for(n: usize) -> usize {
    (2..=MAX_WINDOW)
        .min_by_key(|&w| rows(w) * ((1usize << (w - 1)) * 5 / 2 + n))
        .unwrap_or(MAX_WINDOW)
}

/// The signed base-2^w digits of `bytes` (little-endian, below 2^255) into `out[row * stride]`
/// for each row, each in `[−2^(w−1), 2^(w−1)]`.
fn booth_digits(bytes: &[u8; 32], window: usize, out: &mut [i32], stride: usize) {
    let half = 1i64 << (window - 1);
    let mut carry = 0i64;
    for row in 0..rows(window) {
        let bit = row * window;
        let mut word = [0u8; 8];
        let first = bit / 8;
        let available = 32usize.saturating_sub(first).min(8);
        word[..available].copy_from_slice(&bytes[first..first + available]);
        let value = ((u64::from_le_bytes(word) >> (bit % 8)) & ((1u64 << window) - 1)) as i64;
        let value = value + carry;
        let (digit, next) = if value > half {
            (value - (half << 1), 1)
        } else {
            (value, 0)
        };
        out[row * stride] = digit as i32;
        carry = next;
    }
    debug_assert_eq!(carry, 0, "the top row absorbs the last carry");
}

/// Precomputed multiples of a curve's generator for one window size.
pub(super) struct FixedBase<C: Curve> {
    window: usize,
    /// Row `i`, entry `j − 1`: `j·2^(w·i)·G`, affine.
    table: Vec<C::Affine>,
}

impl<C: Curve> FixedBase<C> {
    /// Builds the table of `2^(window−1)` multiples per row of the generator.
    pub(super) fn new(window: usize) -> Self {
        let half = 1usize << (window - 1);
        let rows = rows(window);
        // Row bases 2^(w·i)·G: w doublings each, sequentially (≈ 255 doublings in all).
        let mut bases = Vec::with_capacity(rows);
        let mut base = C::generator();
        for _ in 0..rows {
            bases.push(base);
            let mut next = C::from_affine(&base);
            for _ in 0..window {
                C::double(&mut next);
            }
            let mut affine = [C::Affine::default()];
            C::batch_normalize(&[next], &mut affine);
            base = affine[0];
        }
        let mut table = vec![C::Affine::default(); rows * half];
        table
            .par_chunks_mut(half)
            .zip(bases.par_iter())
            .for_each(|(row, base)| {
                let mut multiples = Vec::with_capacity(half);
                let mut acc = C::from_affine(base);
                multiples.push(acc);
                for _ in 1..half {
                    C::add_affine(&mut acc, base);
                    multiples.push(acc);
                }
                C::batch_normalize(&multiples, row);
            });
        FixedBase { window, table }
    }

    /// `out[k] = scalars[k]·G` for every k, in parallel.
    pub(super) fn mul_all(
        &self,
        scalars: &[Scalar],
        out: &mut [C::Output],
    ) -> Result<(), SynthesisError> {
        assert_eq!(scalars.len(), out.len(), "mul_all lengths");
        scalars
            .par_chunks(CHUNK)
            .zip(out.par_chunks_mut(CHUNK))
            .try_for_each(|(scalars, out)| self.mul_chunk(scalars, out))
    }

    /// The products as a new vector.
    pub(super) fn mul_vec(&self, scalars: &[Scalar]) -> Result<Vec<C::Output>, SynthesisError>
    where
        C::Output: Default,
    {
        let mut out = vec![C::Output::default(); scalars.len()];
        self.mul_all(scalars, &mut out)?;
        Ok(out)
    }

    fn mul_chunk(&self, scalars: &[Scalar], out: &mut [C::Output]) -> Result<(), SynthesisError> {
        let n = scalars.len();
        let rows = rows(self.window);
        let half = 1usize << (self.window - 1);
        // digits[row * n + k]: row-major, so the inner loop below walks one row.
        let mut digits = vec![0i32; rows * n];
        for (k, s) in scalars.iter().enumerate() {
            booth_digits(&s.to_repr(), self.window, &mut digits[k..], n);
        }
        let mut acc = vec![C::Affine::default(); n];
        let mut adder = BatchAdder::<C>::with_capacity(n);
        for (row, digits) in digits.chunks_exact(n).enumerate() {
            let table = &self.table[row * half..(row + 1) * half];
            for (k, &d) in digits.iter().enumerate() {
                if d > 0 {
                    adder.add(&mut acc, k, table[d as usize - 1]);
                } else if d < 0 {
                    adder.add(
                        &mut acc,
                        k,
                        C::neg_affine(&table[d.unsigned_abs() as usize - 1]),
                    );
                }
            }
            adder.flush(&mut acc);
        }
        for (o, p) in out.iter_mut().zip(&acc) {
            *o = C::convert(p).ok_or_else(|| {
                SynthesisError::IoError(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "blst produced a point bls12_381 cannot decode",
                ))
            })?;
        }
        Ok(())
    }
}

/// `(0, 0)`, blst's affine identity (not on the curve, so unambiguous).
fn is_identity<C: Curve>(p: &C::Affine) -> bool {
    let (x, y) = C::xy(p);
    C::is_zero(x) && C::is_zero(y)
}

/// Affine additions into many accumulators sharing one field inversion (Montgomery's trick):
/// about 6 multiplications per addition against about 12 for a mixed Jacobian addition, and the
/// sums stay affine, so no normalisation is needed at the end.
struct BatchAdder<C: Curve> {
    /// Queued `(accumulator, point)` additions.
    pending: Vec<(usize, C::Affine)>,
    /// `x(point) − x(accumulator)` of each queued addition.
    dx: Vec<C::Field>,
    /// Running products of `dx`.
    prefix: Vec<C::Field>,
}

impl<C: Curve> BatchAdder<C> {
    fn with_capacity(n: usize) -> Self {
        BatchAdder {
            pending: Vec::with_capacity(n),
            dx: Vec::with_capacity(n),
            prefix: Vec::with_capacity(n),
        }
    }

    /// `acc[k] ← acc[k] + p`: at once when `acc[k]` is the identity or `p = ±acc[k]` (done in
    /// Jacobian coordinates), else queued until [`Self::flush`]. At most one queued addition per
    /// accumulator between flushes.
    fn add(&mut self, acc: &mut [C::Affine], k: usize, p: C::Affine) {
        let a = &mut acc[k];
        if is_identity::<C>(a) {
            *a = p;
            return;
        }
        let dx = C::sub(C::xy(&p).0, C::xy(a).0);
        if C::is_zero(&dx) {
            let mut sum = C::from_affine(a);
            C::add_affine(&mut sum, &p);
            let mut out = [C::Affine::default()];
            C::batch_normalize(&[sum], &mut out);
            *a = out[0];
            return;
        }
        self.pending.push((k, p));
        self.dx.push(dx);
    }

    /// Performs the queued additions.
    fn flush(&mut self, acc: &mut [C::Affine]) {
        let Some(first) = self.dx.first() else {
            return;
        };
        self.prefix.clear();
        let mut run = *first;
        self.prefix.push(run);
        for d in &self.dx[1..] {
            run = C::mul(&run, d);
            self.prefix.push(run);
        }
        // `inv` is 1/(dx[0]·…·dx[i]) at step i.
        let mut inv = C::inverse(&run);
        for i in (0..self.dx.len()).rev() {
            let inv_dx = if i > 0 {
                let own = C::mul(&inv, &self.prefix[i - 1]);
                inv = C::mul(&inv, &self.dx[i]);
                own
            } else {
                inv
            };
            let (k, p) = self.pending[i];
            let (xa, ya) = C::xy(&acc[k]);
            let (xp, yp) = C::xy(&p);
            let lambda = C::mul(&C::sub(yp, ya), &inv_dx);
            let x3 = C::sub(&C::sub(&C::sqr(&lambda), xa), xp);
            let y3 = C::sub(&C::mul(&lambda, &C::sub(xa, &x3)), ya);
            acc[k] = C::from_xy(x3, y3);
        }
        self.pending.clear();
        self.dx.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bls12_381::{G1Projective, G2Projective};
    use ff::Field;

    fn scalars() -> Vec<Scalar> {
        let mut out = vec![
            Scalar::ZERO,
            Scalar::ONE,
            -Scalar::ONE,
            Scalar::from(2u64),
            Scalar::from(u64::MAX),
            -Scalar::from(12345u64),
            Scalar::from(1u64 << 15),
            Scalar::from(3u64 << 15),
        ];
        let mut x = Scalar::from(7u64);
        for _ in 0..40 {
            x = x.square() + Scalar::from(3u64);
            out.push(x);
        }
        out
    }

    #[test]
    fn g1_products_match_bls12_381_for_every_window() {
        let s = scalars();
        for w in [2, 3, 5, 8, 15, 16] {
            let table = FixedBase::<G1>::new(w);
            let got = table.mul_vec(&s).unwrap();
            for (s, p) in s.iter().zip(&got) {
                assert_eq!(*p, G1Affine::from(G1Projective::generator() * s), "w={w}");
            }
        }
    }

    #[test]
    fn g2_products_match_bls12_381() {
        let s = scalars();
        for w in [4, 7] {
            let got = FixedBase::<G2>::new(w).mul_vec(&s).unwrap();
            for (s, p) in s.iter().zip(&got) {
                assert_eq!(*p, G2Affine::from(G2Projective::generator() * s), "w={w}");
            }
        }
    }

    #[test]
    fn batch_adder_handles_identity_doubling_and_cancellation() {
        fn check<C: Curve>(base: impl Fn(u64) -> C::Output)
        where
            C::Output: PartialEq + std::fmt::Debug,
        {
            let t = FixedBase::<C>::new(4);
            let m = |j: usize| t.table[j - 1]; // j·G for j ≤ 8
            let id = C::Affine::default();
            let mut acc = vec![m(1), m(2), m(3), id, m(5), m(2)];
            let mut adder = BatchAdder::<C>::with_capacity(acc.len());
            adder.add(&mut acc, 0, m(1)); // doubling
            adder.add(&mut acc, 1, C::neg_affine(&m(2))); // cancellation
            adder.add(&mut acc, 2, m(1));
            adder.add(&mut acc, 3, m(5)); // into the identity
            adder.add(&mut acc, 4, C::neg_affine(&m(3)));
            adder.add(&mut acc, 5, m(8));
            adder.flush(&mut acc);
            let got: Vec<C::Output> = acc.iter().map(|p| C::convert(p).unwrap()).collect();
            let want: Vec<C::Output> = [2, 0, 4, 5, 2, 10].map(base).to_vec();
            assert_eq!(got, want);
        }
        check::<G1>(|j| G1Affine::from(G1Projective::generator() * Scalar::from(j)));
        check::<G2>(|j| G2Affine::from(G2Projective::generator() * Scalar::from(j)));
    }

    #[test]
    fn digits_reconstruct_the_scalar() {
        for w in 2..=MAX_WINDOW {
            for s in scalars() {
                let mut d = vec![0i32; rows(w)];
                booth_digits(&s.to_repr(), w, &mut d, 1);
                let mut acc = Scalar::ZERO;
                for &d in d.iter().rev() {
                    acc *= Scalar::from(1u64 << w);
                    let m = Scalar::from(d.unsigned_abs() as u64);
                    acc += if d < 0 { -m } else { m };
                    assert!(d.unsigned_abs() <= 1 << (w - 1));
                }
                assert_eq!(acc, s, "w={w}");
            }
        }
    }

    #[test]
    fn window_grows_with_the_batch() {
        assert!(window_for(10) < window_for(100_000));
        assert!(window_for(100_000_000) <= MAX_WINDOW);
    }
}
