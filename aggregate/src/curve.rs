//! The curve arithmetic behind the aggregation, and the boundary with the workspace's types.
//!
//! The public API speaks the workspace's `bls12_381` 0.9 and `groth16` types. Inside, the
//! arithmetic runs on `blstrs` (the same curve, backed by `blst`), for one reason that cannot be
//! worked around: an aggregate proof carries elements of the target group G_T, and `bls12_381`
//! 0.9 offers no way to encode a G_T element or to build one from bytes, so a proof made with it
//! could never leave the process. `blstrs` encodes G_T (torus compression, 288 bytes) and checks
//! subgroup membership when decoding; it also brings Pippenger multi-scalar multiplication.
//! Points cross the boundary through their standard (ZCash) encodings, which both libraries
//! share, and scalars through their canonical little-endian bytes.

use crate::AggregateError;
use blstrs::{Bls12, Compress, G2Prepared, MillerLoopResult};
use ff013::Field;
use group013::prime::PrimeCurveAffine;
use group013::{Curve, Group};
use pairing023::{MillerLoopResult as _, MultiMillerLoop};
use rayon::prelude::*;

pub use blstrs::{G1Affine, G1Projective, G2Affine, G2Projective, Gt, Scalar};

/// Bytes of a compressed G1 point.
pub const G1_BYTES: usize = 48;
/// Bytes of a compressed G2 point.
pub const G2_BYTES: usize = 96;
/// Bytes of an uncompressed G1 point.
pub const G1_UNCOMPRESSED_BYTES: usize = 96;
/// Bytes of an uncompressed G2 point.
pub const G2_UNCOMPRESSED_BYTES: usize = 192;
/// Bytes of an encoded G_T element (torus-compressed; all zeros for the identity).
pub const GT_BYTES: usize = 288;

/// Pairs handled by one task when Miller loops are spread over threads.
const PAIRS_PER_TASK: usize = 8;

// ---- the boundary with `bls12_381` ----

/// A `bls12_381` scalar as a `blstrs` scalar (both canonical little-endian 32 bytes).
pub(crate) fn scalar_from_zk(s: &bls12_381::Scalar) -> Scalar {
    Option::from(Scalar::from_bytes_le(&s.to_bytes()))
        .expect("a bls12_381 scalar is canonical, hence a canonical blstrs scalar")
}

/// A `blstrs` scalar as a `bls12_381` scalar.
pub(crate) fn scalar_to_zk(s: &Scalar) -> bls12_381::Scalar {
    Option::from(bls12_381::Scalar::from_bytes(&s.to_bytes_le()))
        .expect("a blstrs scalar is canonical, hence a canonical bls12_381 scalar")
}

/// The scalar `bytes` reduces to (64 bytes, little-endian, reduced modulo the group order).
pub(crate) fn scalar_from_wide(bytes: &[u8; 64]) -> Scalar {
    scalar_from_zk(&bls12_381::Scalar::from_bytes_wide(bytes))
}

/// A `bls12_381` G1 point in `blstrs`, checked on the curve and in the prime-order subgroup.
pub(crate) fn g1_from_zk(
    p: &bls12_381::G1Affine,
    what: &'static str,
) -> Result<G1Affine, AggregateError> {
    Option::from(G1Affine::from_uncompressed(&p.to_uncompressed()))
        .ok_or(AggregateError::InvalidPoint(what))
}

/// A `bls12_381` G2 point in `blstrs`, checked on the curve and in the prime-order subgroup.
pub(crate) fn g2_from_zk(
    p: &bls12_381::G2Affine,
    what: &'static str,
) -> Result<G2Affine, AggregateError> {
    Option::from(G2Affine::from_uncompressed(&p.to_uncompressed()))
        .ok_or(AggregateError::InvalidPoint(what))
}

/// A `bls12_381` G1 point in `blstrs`, checked on the curve only: for the prover's inputs, where
/// a point outside the subgroup cannot harm anyone but makes an aggregate that will not verify.
pub(crate) fn g1_from_zk_unchecked(p: &bls12_381::G1Affine) -> Result<G1Affine, AggregateError> {
    Option::from(G1Affine::from_uncompressed_unchecked(&p.to_uncompressed()))
        .ok_or(AggregateError::InvalidPoint("proof point A or C"))
}

/// A `bls12_381` G2 point in `blstrs`, checked on the curve only (see [`g1_from_zk_unchecked`]).
pub(crate) fn g2_from_zk_unchecked(p: &bls12_381::G2Affine) -> Result<G2Affine, AggregateError> {
    Option::from(G2Affine::from_uncompressed_unchecked(&p.to_uncompressed()))
        .ok_or(AggregateError::InvalidPoint("proof point B"))
}

// ---- encodings ----

/// The 288-byte encoding of a G_T element: torus compression, and all zeros for the identity
/// (which the compression cannot represent, and which no other element encodes to: all zeros
/// would decompress to −1, which is not in G_T).
pub fn gt_to_bytes(x: &Gt) -> [u8; GT_BYTES] {
    let mut out = [0u8; GT_BYTES];
    if bool::from(x.is_identity()) {
        return out;
    }
    // Every value reaching here is a product of final exponentiations, so it lies in the
    // cyclotomic subgroup, where only the identity lacks a compression; writing to a slice of
    // exactly 288 bytes cannot fail.
    x.write_compressed(&mut out[..])
        .expect("a non-identity element of G_T compresses into 288 bytes");
    out
}

/// Decodes [`gt_to_bytes`], checking that the coordinates are canonical and that the element
/// lies in the prime-order subgroup of G_T.
pub fn gt_from_bytes(bytes: &[u8; GT_BYTES]) -> Option<Gt> {
    if bytes.iter().all(|b| *b == 0) {
        return Some(Gt::identity());
    }
    Gt::read_compressed(&bytes[..]).ok()
}

/// Decodes a compressed G1 point (on the curve, in the subgroup, canonical encoding).
pub fn g1_from_bytes(bytes: &[u8; G1_BYTES]) -> Option<G1Affine> {
    Option::from(G1Affine::from_compressed(bytes))
}

/// Decodes a compressed G2 point (on the curve, in the subgroup, canonical encoding).
pub fn g2_from_bytes(bytes: &[u8; G2_BYTES]) -> Option<G2Affine> {
    Option::from(G2Affine::from_compressed(bytes))
}

// ---- pairings ----

/// Π e(g1_i, g2_i) over all pairs of all `terms`, with Miller loops spread over threads and one
/// final exponentiation. Slices of one term must have equal lengths.
pub(crate) fn pairing_product(terms: &[(&[G1Affine], &[G2Affine])]) -> Gt {
    miller_loops(terms).final_exponentiation()
}

/// The product of the Miller loops of all pairs of all `terms` (no final exponentiation).
pub(crate) fn miller_loops(terms: &[(&[G1Affine], &[G2Affine])]) -> MillerLoopResult {
    debug_assert!(terms.iter().all(|(p, q)| p.len() == q.len()));
    terms
        .par_iter()
        .flat_map(|(p, q)| {
            p.par_chunks(PAIRS_PER_TASK)
                .zip(q.par_chunks(PAIRS_PER_TASK))
        })
        .map(|(p, q)| {
            let prepared: Vec<G2Prepared> = q.iter().map(|q| G2Prepared::from(*q)).collect();
            let pairs: Vec<(&G1Affine, &G2Prepared)> = p.iter().zip(prepared.iter()).collect();
            Bls12::multi_miller_loop(&pairs)
        })
        .reduce(MillerLoopResult::default, |a, b| a + b)
}

/// The product of the Miller loops of `pairs`.
pub(crate) fn miller_loops_of(pairs: &[(G1Affine, G2Affine)]) -> MillerLoopResult {
    let (g1, g2): (Vec<G1Affine>, Vec<G2Affine>) = pairs.iter().copied().unzip();
    miller_loops(&[(&g1, &g2)])
}

/// For each G1 vector `g1s[k]`, the product of the Miller loops of its pairs with `g2`: the
/// same as `miller_loops(&[(g1s[k], g2)])` for each k, but each G2 point's line functions are
/// computed once and shared by all the vectors.
pub(crate) fn miller_loops_shared(g1s: &[&[G1Affine]], g2: &[G2Affine]) -> Vec<MillerLoopResult> {
    debug_assert!(g1s.iter().all(|p| p.len() == g2.len()));
    let identity = || vec![MillerLoopResult::default(); g1s.len()];
    g2.par_chunks(PAIRS_PER_TASK)
        .enumerate()
        .map(|(chunk, q)| {
            let prepared: Vec<G2Prepared> = q.iter().map(|q| G2Prepared::from(*q)).collect();
            let start = chunk * PAIRS_PER_TASK;
            g1s.iter()
                .map(|p| {
                    let pairs: Vec<(&G1Affine, &G2Prepared)> = p[start..start + q.len()]
                        .iter()
                        .zip(prepared.iter())
                        .collect();
                    Bls12::multi_miller_loop(&pairs)
                })
                .collect::<Vec<_>>()
        })
        .reduce(identity, |a, b| {
            a.iter().zip(&b).map(|(a, b)| a + b).collect()
        })
}

/// Σ scalars_i · points_i (G1), by Pippenger's method.
pub(crate) fn msm_g1(points: &[G1Affine], scalars: &[Scalar]) -> G1Projective {
    debug_assert_eq!(points.len(), scalars.len());
    let n = points.len().min(scalars.len());
    if n == 0 {
        return G1Projective::identity();
    }
    let projective: Vec<G1Projective> = points[..n].iter().map(G1Projective::from).collect();
    G1Projective::multi_exp(&projective, &scalars[..n])
}

/// Σ scalars_i · points_i (G2), by Pippenger's method.
pub(crate) fn msm_g2(points: &[G2Affine], scalars: &[Scalar]) -> G2Projective {
    debug_assert_eq!(points.len(), scalars.len());
    let n = points.len().min(scalars.len());
    if n == 0 {
        return G2Projective::identity();
    }
    let projective: Vec<G2Projective> = points[..n].iter().map(G2Projective::from).collect();
    G2Projective::multi_exp(&projective, &scalars[..n])
}

/// Π bases_i^{scalars_i} in G_T (written additively: Σ scalars_i · bases_i), by Straus's method
/// with 4-bit windows, in parallel chunks.
pub(crate) fn gt_msm(bases: &[Gt], scalars: &[Scalar]) -> Gt {
    debug_assert_eq!(bases.len(), scalars.len());
    let per_task = bases
        .len()
        .div_ceil(rayon::current_num_threads().max(1))
        .max(1);
    bases
        .par_chunks(per_task)
        .zip(scalars.par_chunks(per_task))
        .map(|(b, s)| gt_msm_serial(b, s))
        .reduce(Gt::identity, |a, b| a + b)
}

fn gt_msm_serial(bases: &[Gt], scalars: &[Scalar]) -> Gt {
    let tables: Vec<[Gt; 16]> = bases
        .iter()
        .map(|b| {
            let mut t = [Gt::identity(); 16];
            for i in 1..16 {
                t[i] = t[i - 1] + b;
            }
            t
        })
        .collect();
    let digits: Vec<[u8; 32]> = scalars.iter().map(Scalar::to_bytes_le).collect();
    let mut acc = Gt::identity();
    for nibble in (0..64).rev() {
        if nibble != 63 {
            for _ in 0..4 {
                acc = acc.double();
            }
        }
        for (table, bytes) in tables.iter().zip(&digits) {
            let d = (bytes[nibble / 2] >> (4 * (nibble % 2))) & 0x0f;
            if d != 0 {
                acc += &table[d as usize];
            }
        }
    }
    acc
}

// ---- vectors ----

/// 1, x, x², …, x^{n−1}.
pub(crate) fn powers(x: &Scalar, n: usize) -> Vec<Scalar> {
    let mut out = Vec::with_capacity(n);
    let mut acc = Scalar::ONE;
    for _ in 0..n {
        out.push(acc);
        acc *= x;
    }
    out
}

/// left_i + x · right_i, for G1 vectors of equal length.
pub(crate) fn fold_g1(left: &[G1Affine], right: &[G1Affine], x: &Scalar) -> Vec<G1Affine> {
    let proj: Vec<G1Projective> = left
        .par_iter()
        .zip(right)
        .map(|(l, r)| G1Projective::from(r) * x + l)
        .collect();
    let mut out = vec![G1Affine::identity(); proj.len()];
    G1Projective::batch_normalize(&proj, &mut out);
    out
}

/// left_i + x · right_i, for G2 vectors of equal length.
pub(crate) fn fold_g2(left: &[G2Affine], right: &[G2Affine], x: &Scalar) -> Vec<G2Affine> {
    let proj: Vec<G2Projective> = left
        .par_iter()
        .zip(right)
        .map(|(l, r)| G2Projective::from(r) * x + l)
        .collect();
    let mut out = vec![G2Affine::identity(); proj.len()];
    G2Projective::batch_normalize(&proj, &mut out);
    out
}

/// scalars_i · points_i for each i (G1).
pub(crate) fn scale_g1(points: &[G1Affine], scalars: &[Scalar]) -> Vec<G1Affine> {
    let proj: Vec<G1Projective> = points
        .par_iter()
        .zip(scalars)
        .map(|(p, s)| G1Projective::from(p) * s)
        .collect();
    let mut out = vec![G1Affine::identity(); proj.len()];
    G1Projective::batch_normalize(&proj, &mut out);
    out
}

/// scalars_i · points_i for each i (G2).
pub(crate) fn scale_g2(points: &[G2Affine], scalars: &[Scalar]) -> Vec<G2Affine> {
    let proj: Vec<G2Projective> = points
        .par_iter()
        .zip(scalars)
        .map(|(p, s)| G2Projective::from(p) * s)
        .collect();
    let mut out = vec![G2Affine::identity(); proj.len()];
    G2Projective::batch_normalize(&proj, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some_gt(k: u64) -> Gt {
        Gt::generator() * Scalar::from(k)
    }

    #[test]
    fn gt_encoding_round_trips_and_is_canonical() {
        for x in [Gt::identity(), Gt::generator(), some_gt(7), -some_gt(12345)] {
            let bytes = gt_to_bytes(&x);
            assert_eq!(gt_from_bytes(&bytes), Some(x));
        }
        let mut bytes = gt_to_bytes(&some_gt(3));
        bytes[100] ^= 1;
        assert_eq!(
            gt_from_bytes(&bytes),
            None,
            "an altered encoding is off the subgroup"
        );
        let mut bytes = [0u8; GT_BYTES];
        bytes[0] = 1;
        assert!(gt_from_bytes(&bytes).is_none_or(|x| x != Gt::identity()));
    }

    #[test]
    fn gt_msm_matches_naive() {
        let bases: Vec<Gt> = (1..12).map(some_gt).collect();
        let scalars: Vec<Scalar> = (0..11u64).map(|i| -Scalar::from(i * 977 + 3)).collect();
        let naive = bases
            .iter()
            .zip(&scalars)
            .fold(Gt::identity(), |acc, (b, s)| acc + b * s);
        assert_eq!(gt_msm(&bases, &scalars), naive);
    }

    #[test]
    fn scalars_cross_the_boundary() {
        let x = -Scalar::from(5u64);
        assert_eq!(scalar_from_zk(&scalar_to_zk(&x)), x);
    }
}
