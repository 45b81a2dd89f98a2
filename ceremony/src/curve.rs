//! BLS12-381 arithmetic for the ceremony (on `blstrs`, i.e. blst): point encoding with curve and
//! subgroup checks, randomness, and the batched pairing checks every verification rests on.
//!
//! The "same ratio" check is the workhorse: given vectors `a`, `b` and a pair `(p, q)` with
//! `q = x·p`, it checks `b_i = x·a_i` for every `i` at the cost of two multi-scalar
//! multiplications and two pairings, by testing `e(Σ rᵢ·aᵢ, q) = e(Σ rᵢ·bᵢ, p)` for random
//! 128-bit `rᵢ` the verifier draws privately (a cheating vector passes with probability
//! ≤ 2⁻¹²⁸ per check).

use crate::CeremonyError;
use blstrs::{Bls12, G2Prepared, Gt};
use ff013::Field;
use group013::prime::PrimeCurveAffine;
use group013::{Curve, Group};
use pairing023::{MillerLoopResult as _, MultiMillerLoop};
use rayon::prelude::*;
use std::path::Path;

pub use blstrs::{G1Affine, G1Projective, G2Affine, G2Projective, Scalar};

/// Bytes of an uncompressed G1 point.
pub const G1_BYTES: usize = 96;
/// Bytes of an uncompressed G2 point.
pub const G2_BYTES: usize = 192;
/// Bytes of a scalar (canonical, little-endian).
pub const SCALAR_BYTES: usize = 32;
/// Points per task in parallel loops and multi-scalar multiplications.
pub const CHUNK: usize = 1 << 14;

/// Decodes `bytes` (a whole number of uncompressed G1 points) in parallel, checking each point
/// is on the curve and in the prime-order subgroup.
pub fn decode_g1s(bytes: &[u8], path: &Path, what: &str) -> Result<Vec<G1Affine>, CeremonyError> {
    bytes
        .par_chunks(G1_BYTES)
        .enumerate()
        .map(|(i, c)| decode_g1(c).ok_or_else(|| invalid(path, what, i)))
        .collect()
}

/// Decodes uncompressed G2 points as [`decode_g1s`] does.
pub fn decode_g2s(bytes: &[u8], path: &Path, what: &str) -> Result<Vec<G2Affine>, CeremonyError> {
    bytes
        .par_chunks(G2_BYTES)
        .enumerate()
        .map(|(i, c)| decode_g2(c).ok_or_else(|| invalid(path, what, i)))
        .collect()
}

fn invalid(path: &Path, what: &str, i: usize) -> CeremonyError {
    CeremonyError::InvalidPoint {
        path: path.to_path_buf(),
        what: format!("{what}[{i}]"),
    }
}

/// One uncompressed G1 point, curve- and subgroup-checked; `None` if invalid or mis-sized.
pub fn decode_g1(bytes: &[u8]) -> Option<G1Affine> {
    let b: &[u8; G1_BYTES] = bytes.try_into().ok()?;
    Option::from(G1Affine::from_uncompressed(b))
}

/// One uncompressed G2 point, curve- and subgroup-checked; `None` if invalid or mis-sized.
pub fn decode_g2(bytes: &[u8]) -> Option<G2Affine> {
    let b: &[u8; G2_BYTES] = bytes.try_into().ok()?;
    Option::from(G2Affine::from_uncompressed(b))
}

/// One canonical scalar; `None` if out of range or mis-sized.
pub fn decode_scalar(bytes: &[u8]) -> Option<Scalar> {
    let b: &[u8; SCALAR_BYTES] = bytes.try_into().ok()?;
    Option::from(Scalar::from_bytes_le(b))
}

/// The scalar 64 bytes reduce to (little-endian, modulo the group order): uniform for uniform input.
pub fn scalar_from_wide(bytes: &[u8; 64]) -> Scalar {
    let s = bls12_381::Scalar::from_bytes_wide(bytes);
    Option::from(Scalar::from_bytes_le(&s.to_bytes())).expect("canonical")
}

/// A scalar from a domain-separated BLAKE3 XOF over `parts`.
pub fn hash_to_scalar(domain: &str, parts: &[&[u8]]) -> Scalar {
    let mut h = blake3::Hasher::new_derive_key(domain);
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p);
    }
    let mut wide = [0u8; 64];
    h.finalize_xof().fill(&mut wide);
    scalar_from_wide(&wide)
}

/// 32 bytes from the operating system.
pub fn os_seed() -> Result<[u8; 32], CeremonyError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| CeremonyError::Randomness(e.to_string()))?;
    Ok(seed)
}

/// A uniformly random non-zero scalar from the operating system (a contribution's secret).
pub fn random_scalar() -> Result<Scalar, CeremonyError> {
    loop {
        let mut wide = [0u8; 64];
        getrandom::fill(&mut wide).map_err(|e| CeremonyError::Randomness(e.to_string()))?;
        let s = scalar_from_wide(&wide);
        if !bool::from(s.is_zero()) {
            return Ok(s);
        }
    }
}

/// `n` random 128-bit scalars for a batched check, from a fresh OS seed.
pub fn random_coefficients(n: usize) -> Result<Vec<Scalar>, CeremonyError> {
    let seed = os_seed()?;
    Ok((0..n)
        .into_par_iter()
        .map(|i| {
            let mut h = blake3::Hasher::new_keyed(&seed);
            h.update(&(i as u64).to_le_bytes());
            let mut b = [0u8; 32];
            b[..16].copy_from_slice(&h.finalize().as_bytes()[..16]);
            Option::from(Scalar::from_bytes_le(&b)).expect("128-bit scalars are canonical")
        })
        .collect())
}

/// `Σ rᵢ·pᵢ` over G1 (Pippenger, in parallel chunks). `r` must be at least as long as `points`.
pub fn msm_g1(points: &[G1Affine], r: &[Scalar]) -> G1Projective {
    points
        .par_chunks(CHUNK)
        .zip(r.par_chunks(CHUNK))
        .map(|(p, s)| {
            let proj: Vec<G1Projective> = p.iter().map(G1Projective::from).collect();
            G1Projective::multi_exp(&proj, &s[..proj.len()])
        })
        .reduce(G1Projective::identity, |a, b| a + b)
}

/// `Σ rᵢ·pᵢ` over G2 (see [`msm_g1`]).
pub fn msm_g2(points: &[G2Affine], r: &[Scalar]) -> G2Projective {
    points
        .par_chunks(CHUNK)
        .zip(r.par_chunks(CHUNK))
        .map(|(p, s)| {
            let proj: Vec<G2Projective> = p.iter().map(G2Projective::from).collect();
            G2Projective::multi_exp(&proj, &s[..proj.len()])
        })
        .reduce(G2Projective::identity, |a, b| a + b)
}

/// `e(a1, b1) = e(a2, b2)`.
pub fn pairing_eq(a1: &G1Affine, b1: &G2Affine, a2: &G1Affine, b2: &G2Affine) -> bool {
    let neg = (-G1Projective::from(a2)).to_affine();
    let (p1, p2) = (G2Prepared::from(*b1), G2Prepared::from(*b2));
    Bls12::multi_miller_loop(&[(a1, &p1), (&neg, &p2)]).final_exponentiation() == Gt::identity()
}

/// Whether `b_i = x·a_i` for every `i`, where `q = x·p` (G1 vectors, G2 ratio); see the module
/// docs. The vectors must have the same length, and `a` must not be all identity (the caller
/// pins a first element).
pub fn same_ratio_g1(
    a: &[G1Affine],
    b: &[G1Affine],
    p: &G2Affine,
    q: &G2Affine,
) -> Result<bool, CeremonyError> {
    if a.len() != b.len() {
        return Ok(false);
    }
    let r = random_coefficients(a.len())?;
    let (sa, sb) = rayon::join(|| msm_g1(a, &r), || msm_g1(b, &r));
    Ok(pairing_eq(&sa.to_affine(), q, &sb.to_affine(), p))
}

/// Whether `b_i = x·a_i` for every `i`, where `q = x·p` (G2 vectors, G1 ratio).
pub fn same_ratio_g2(
    a: &[G2Affine],
    b: &[G2Affine],
    p: &G1Affine,
    q: &G1Affine,
) -> Result<bool, CeremonyError> {
    if a.len() != b.len() {
        return Ok(false);
    }
    let r = random_coefficients(a.len())?;
    let (sa, sb) = rayon::join(|| msm_g2(a, &r), || msm_g2(b, &r));
    Ok(pairing_eq(q, &sa.to_affine(), p, &sb.to_affine()))
}

/// Whether `v` is a geometric sequence `v_{i+1} = x·v_i` with `q = x·p` (G1 vector): the same
/// ratio check of `v[..n-1]` against `v[1..]`.
pub fn powers_g1(v: &[G1Affine], p: &G2Affine, q: &G2Affine) -> Result<bool, CeremonyError> {
    if v.len() < 2 {
        return Ok(true);
    }
    same_ratio_g1(&v[..v.len() - 1], &v[1..], p, q)
}

/// Whether `v` is a geometric sequence with ratio `x`, where `q = x·p` (G2 vector).
pub fn powers_g2(v: &[G2Affine], p: &G1Affine, q: &G1Affine) -> Result<bool, CeremonyError> {
    if v.len() < 2 {
        return Ok(true);
    }
    same_ratio_g2(&v[..v.len() - 1], &v[1..], p, q)
}

/// `p` scaled by successive powers of `x`, starting at `x^start`: `out_i = x^(start+i)·p_i`
/// (in parallel chunks, each starting with one exponentiation).
pub fn scale_by_powers_g1(p: &[G1Affine], x: &Scalar, start: u64) -> Vec<G1Affine> {
    let mut out = vec![G1Affine::identity(); p.len()];
    out.par_chunks_mut(CHUNK)
        .zip(p.par_chunks(CHUNK))
        .enumerate()
        .for_each(|(c, (o, p))| {
            let mut power = x.pow_vartime([start + (c * CHUNK) as u64]);
            let proj: Vec<G1Projective> = p
                .iter()
                .map(|pt| {
                    let r = G1Projective::from(pt) * power;
                    power *= x;
                    r
                })
                .collect();
            G1Projective::batch_normalize(&proj, o);
        });
    out
}

/// G2 version of [`scale_by_powers_g1`].
pub fn scale_by_powers_g2(p: &[G2Affine], x: &Scalar, start: u64) -> Vec<G2Affine> {
    let mut out = vec![G2Affine::identity(); p.len()];
    out.par_chunks_mut(CHUNK)
        .zip(p.par_chunks(CHUNK))
        .enumerate()
        .for_each(|(c, (o, p))| {
            let mut power = x.pow_vartime([start + (c * CHUNK) as u64]);
            let proj: Vec<G2Projective> = p
                .iter()
                .map(|pt| {
                    let r = G2Projective::from(pt) * power;
                    power *= x;
                    r
                })
                .collect();
            G2Projective::batch_normalize(&proj, o);
        });
    out
}

/// Every point multiplied by the same scalar (in parallel).
pub fn scale_g1(p: &[G1Affine], x: &Scalar) -> Vec<G1Affine> {
    let mut out = vec![G1Affine::identity(); p.len()];
    out.par_chunks_mut(CHUNK)
        .zip(p.par_chunks(CHUNK))
        .for_each(|(o, p)| {
            let proj: Vec<G1Projective> = p.iter().map(|pt| G1Projective::from(pt) * x).collect();
            G1Projective::batch_normalize(&proj, o);
        });
    out
}
