//! Chunked, parallel processing of one section of a memory-mapped file: transforming it into
//! the next accumulator's section (a contribution), or accumulating the random linear
//! combinations of a same-ratio check (verification). Memory is O(CHUNK) points.

use crate::curve::{
    decode_g1, decode_g2, msm_g1, msm_g2, random_coefficients, G1Affine, G1Projective, G2Affine,
    G2Projective, Scalar, CHUNK, G1_BYTES, G2_BYTES,
};
use crate::{CeremonyError, Progress};
use ff013::Field;
use group013::prime::PrimeCurveAffine;
use group013::{Curve, Group};
use rayon::prelude::*;
use std::io::Write;
use std::path::Path;

/// Points per parallel task inside a chunk of `chunk` points (512 for [`CHUNK`]).
fn task(chunk: usize) -> usize {
    (chunk / 32).max(1)
}

/// What the streaming code needs of G1 and G2 points.
pub(super) trait Point: Copy + Send + Sync {
    /// The projective form.
    type Proj: Copy + Send + Sync + std::ops::Add<Output = Self::Proj>;
    /// Encoded size.
    const BYTES: usize;
    /// Checked decoding (curve and subgroup).
    fn decode(bytes: &[u8]) -> Option<Self>;
    /// Uncompressed encoding into `out` (`BYTES` long).
    fn encode(&self, out: &mut [u8]);
    /// `out_i = factor·x^(start+i)·p_i`.
    fn scale(p: &[Self], factor: &Scalar, x: &Scalar, start: u64) -> Vec<Self>;
    /// `Σ rᵢ·pᵢ`.
    fn msm(p: &[Self], r: &[Scalar]) -> Self::Proj;
    /// The identity, projective.
    fn zero() -> Self::Proj;
}

macro_rules! point {
    ($affine:ty, $proj:ty, $bytes:expr, $decode:path, $msm:path) => {
        impl Point for $affine {
            type Proj = $proj;
            const BYTES: usize = $bytes;
            fn decode(bytes: &[u8]) -> Option<Self> {
                $decode(bytes)
            }
            fn encode(&self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_uncompressed());
            }
            fn scale(p: &[Self], factor: &Scalar, x: &Scalar, start: u64) -> Vec<Self> {
                let mut k = *factor * x.pow_vartime([start]);
                let proj: Vec<$proj> = p
                    .iter()
                    .map(|pt| {
                        let r = <$proj>::from(pt) * k;
                        k *= x;
                        r
                    })
                    .collect();
                let mut out = vec![<$affine>::identity(); p.len()];
                <$proj>::batch_normalize(&proj, &mut out);
                out
            }
            fn msm(p: &[Self], r: &[Scalar]) -> $proj {
                $msm(p, r)
            }
            fn zero() -> $proj {
                <$proj>::identity()
            }
        }
    };
}

point!(G1Affine, G1Projective, G1_BYTES, decode_g1, msm_g1);
point!(G2Affine, G2Projective, G2_BYTES, decode_g2, msm_g2);

fn invalid(path: &Path, what: &str, i: usize) -> CeremonyError {
    CeremonyError::InvalidPoint {
        path: path.to_path_buf(),
        what: format!("{what}[{i}]"),
    }
}

/// Decodes the `i`-th point of a section, checked.
pub(super) fn point_at<P: Point>(
    section: &[u8],
    i: usize,
    path: &Path,
    what: &str,
) -> Result<P, CeremonyError> {
    section
        .get(i * P::BYTES..(i + 1) * P::BYTES)
        .and_then(P::decode)
        .ok_or_else(|| invalid(path, what, i))
}

/// Decodes `bytes` (points `first..` of section `what`) in parallel, checked.
fn decode_all<P: Point>(
    bytes: &[u8],
    first: usize,
    path: &Path,
    what: &str,
) -> Result<Vec<P>, CeremonyError> {
    bytes
        .par_chunks(P::BYTES)
        .enumerate()
        .map(|(k, c)| P::decode(c).ok_or_else(|| invalid(path, what, first + k)))
        .collect()
}

/// Why a streamed write stopped.
pub(super) enum WriteError {
    /// Bad input (a point of the source that does not decode).
    Input(CeremonyError),
    /// The writer failed.
    Io(std::io::Error),
}

impl From<std::io::Error> for WriteError {
    fn from(e: std::io::Error) -> Self {
        WriteError::Io(e)
    }
}

/// Streams section `src` of the previous file (read at `path`) into `out`, point `i`
/// multiplied by `factor·x^i`: CHUNK points at a time, decoded (checked), scaled and encoded
/// in parallel, written in order.
pub(super) fn transform<P: Point>(
    src: &[u8],
    factor: &Scalar,
    x: &Scalar,
    out: &mut impl Write,
    path: &Path,
    what: &str,
    progress: &dyn Progress,
) -> Result<(), WriteError> {
    transform_chunked::<P>(src, factor, x, out, (path, what), progress, CHUNK)
}

/// [`transform`] `chunk` points at a time.
fn transform_chunked<P: Point>(
    src: &[u8],
    factor: &Scalar,
    x: &Scalar,
    out: &mut impl Write,
    (path, what): (&Path, &str),
    progress: &dyn Progress,
    chunk: usize,
) -> Result<(), WriteError> {
    let task = task(chunk);
    let total = src.len() / P::BYTES;
    progress.stage(what, total as u64);
    let mut buf = Vec::new();
    for (c, window) in src.chunks(chunk * P::BYTES).enumerate() {
        buf.clear();
        buf.resize(window.len(), 0u8);
        buf.par_chunks_mut(task * P::BYTES)
            .zip(window.par_chunks(task * P::BYTES))
            .enumerate()
            .try_for_each(|(t, (o, bytes))| {
                let first = c * chunk + t * task;
                let points = decode_all::<P>(bytes, first, path, what)?;
                let scaled = P::scale(&points, factor, x, first as u64);
                for (p, o) in scaled.iter().zip(o.chunks_mut(P::BYTES)) {
                    p.encode(o);
                }
                Ok(())
            })
            .map_err(WriteError::Input)?;
        out.write_all(&buf)?;
        progress.inc((window.len() / P::BYTES) as u64);
    }
    Ok(())
}

/// For section `src` holding points `v_0 … v_{m−1}`, decodes every point (checked) and returns
/// `(Σ rᵢ·vᵢ, Σ rᵢ·vᵢ₊₁)` over `i < m−1`, with fresh random 128-bit `rᵢ` for every chunk: the
/// two sides of the check that `v` is a geometric sequence. Chunks overlap by one point.
pub(super) fn powers_sums<P: Point>(
    src: &[u8],
    path: &Path,
    what: &str,
    stage: &str,
    progress: &dyn Progress,
) -> Result<(P::Proj, P::Proj), CeremonyError> {
    powers_sums_chunked::<P>(src, (path, what), stage, progress, CHUNK)
}

/// [`powers_sums`] `chunk` points at a time.
fn powers_sums_chunked<P: Point>(
    src: &[u8],
    (path, what): (&Path, &str),
    stage: &str,
    progress: &dyn Progress,
    chunk: usize,
) -> Result<(P::Proj, P::Proj), CeremonyError> {
    let m = src.len() / P::BYTES;
    progress.stage(stage, m as u64);
    let (mut left, mut right) = (P::zero(), P::zero());
    if m < 2 {
        if m == 1 {
            point_at::<P>(src, 0, path, what)?;
        }
        progress.inc(m as u64);
        return Ok((left, right));
    }
    let mut start = 0;
    while start < m - 1 {
        let end = (start + chunk).min(m - 1);
        let points = decode_all::<P>(
            &src[start * P::BYTES..(end + 1) * P::BYTES],
            start,
            path,
            what,
        )?;
        let r = random_coefficients(end - start)?;
        let (a, b) = rayon::join(
            || P::msm(&points[..end - start], &r),
            || P::msm(&points[1..], &r),
        );
        left = left + a;
        right = right + b;
        progress.inc((end - start + usize::from(end == m - 1)) as u64);
        start = end;
    }
    Ok((left, right))
}

/// Checks every point of `src` decodes and equals `expected` (the initial accumulator);
/// returns the index of the first that does not.
pub(super) fn first_not<P: Point>(src: &[u8], expected: &P) -> Option<usize> {
    let mut enc = vec![0u8; P::BYTES];
    expected.encode(&mut enc);
    src.par_chunks(P::BYTES)
        .position_first(|c| c != enc.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::{pairing_eq, random_scalar};
    use crate::Quiet;

    fn encode<P: Point>(points: &[P]) -> Vec<u8> {
        let mut out = vec![0u8; points.len() * P::BYTES];
        for (p, o) in points.iter().zip(out.chunks_mut(P::BYTES)) {
            p.encode(o);
        }
        out
    }

    #[test]
    fn chunks_and_tasks_agree_with_the_whole() {
        let (x, f) = (random_scalar().unwrap(), random_scalar().unwrap());
        let g = G1Projective::generator() * random_scalar().unwrap();
        let points: Vec<G1Affine> = (1..=203u64)
            .map(|i| (g * Scalar::from(i)).to_affine())
            .collect();
        let whole = G1Affine::scale(&points, &f, &x, 0);
        let bytes = encode(&points);
        for chunk in [1, 7, 64, 100, 1000] {
            let mut out = Vec::new();
            let ok = transform_chunked::<G1Affine>(
                &bytes,
                &f,
                &x,
                &mut out,
                (Path::new("t"), "v"),
                &Quiet,
                chunk,
            );
            assert!(ok.is_ok());
            assert_eq!(out, encode(&whole), "chunk {chunk}");
        }
    }

    #[test]
    fn chunked_powers_check_accepts_powers_and_rejects_a_swap() {
        let x = random_scalar().unwrap();
        let ones = vec![G2Affine::generator(); 77];
        let mut v = G2Affine::scale(&ones, &Scalar::ONE, &x, 0);
        let xg1 = (G1Projective::generator() * x).to_affine();
        let check = |v: &[G2Affine], chunk| {
            let (a, b) = powers_sums_chunked::<G2Affine>(
                &encode(v),
                (Path::new("t"), "v"),
                "v",
                &Quiet,
                chunk,
            )
            .unwrap();
            pairing_eq(&xg1, &a.to_affine(), &G1Affine::generator(), &b.to_affine())
        };
        for chunk in [1, 5, 76, 77, 500] {
            assert!(check(&v, chunk), "chunk {chunk}");
        }
        v.swap(30, 31);
        for chunk in [1, 5, 30, 31, 500] {
            assert!(!check(&v, chunk), "chunk {chunk}");
        }
        let mut bytes = encode(&v);
        bytes[40 * G2_BYTES + 100] ^= 4;
        let err = powers_sums_chunked::<G2Affine>(&bytes, (Path::new("t"), "v"), "v", &Quiet, 16);
        assert!(matches!(err, Err(CeremonyError::InvalidPoint { what, .. }) if what == "v[40]"));
    }
}
