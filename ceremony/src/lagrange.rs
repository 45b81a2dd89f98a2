//! The Lagrange basis in the exponent: from `τ^i·P` (i < m) to `L_j(τ)·P` (j < m) on the
//! radix-2 domain of size m, without knowing τ — an inverse FFT whose butterflies multiply
//! points by roots of unity. The domain and ordering are exactly `bellman`'s
//! `EvaluationDomain` (generator `ROOT_OF_UNITY^(2^(S−k))`, natural order), so the basis is the
//! one `groth16`'s generator and prover use: `L_j(τ) = m⁻¹·Σ_i τ^i·ω^(−ij)`.
//!
//! Cost: (m/2)·log₂ m point multiplications per vector — the dominant cost of preparing a
//! circuit's phase 2, done once per circuit.

use crate::curve::Scalar;
use ff013::{Field, PrimeField};
use group013::Group;
use rayon::prelude::*;
use std::ops::Mul;

/// The domain's generator ω for size 2^k, as `bellman`'s `EvaluationDomain` computes it.
pub fn omega(k: u32) -> Scalar {
    let mut w = Scalar::ROOT_OF_UNITY;
    for _ in k..Scalar::S {
        w = w.square();
    }
    w
}

/// `p·c`, cheaper when `c` or `−c` is short (most R1CS coefficients are ±1 or small powers of two):
/// double-and-add over its bits instead of a full 255-bit multiplication.
pub fn mul_small<G>(p: &G, c: &Scalar) -> G
where
    G: Group + for<'a> Mul<&'a Scalar, Output = G>,
{
    if *c == Scalar::ONE {
        return *p;
    }
    let neg = -*c;
    if neg == Scalar::ONE {
        return -*p;
    }
    let bits = |s: &Scalar| {
        let b = s.to_bytes_le();
        256 - b.iter().rev().position(|x| *x != 0).map_or(256, |i| i * 8)
    };
    let (len, neg_len) = (bits(c), bits(&neg));
    let (s, negate, len) = if len <= neg_len {
        (*c, false, len)
    } else {
        (neg, true, neg_len)
    };
    if len > 128 {
        return *p * c;
    }
    let bytes = s.to_bytes_le();
    let mut acc = G::identity();
    for i in (0..len).rev() {
        acc = acc.double();
        if (bytes[i / 8] >> (i % 8)) & 1 == 1 {
            acc += p;
        }
    }
    if negate {
        -acc
    } else {
        acc
    }
}

/// In-place radix-2 FFT over points: `a_j ← Σ_i a_i·ω^(ij)` for the given ω of order `a.len()`.
fn fft<G>(a: &mut [G], omega: &Scalar)
where
    G: Group + Send + Sync + for<'a> Mul<&'a Scalar, Output = G>,
{
    let n = a.len();
    assert!(n.is_power_of_two(), "FFT length must be a power of two");
    if n < 2 {
        return;
    }
    let log_n = n.trailing_zeros();
    for k in 0..n {
        let rk = k.reverse_bits() >> (usize::BITS - log_n);
        if k < rk {
            a.swap(k, rk);
        }
    }
    // ω^j for j < n/2, the twiddles of the last stage; stage s uses every (n/2^s)-th.
    let mut twiddles = vec![Scalar::ONE; (n / 2).max(1)];
    for j in 1..twiddles.len() {
        twiddles[j] = twiddles[j - 1] * omega;
    }
    let mut half = 1;
    while half < n {
        let stride = n / (2 * half);
        a.par_chunks_mut(2 * half).for_each(|block| {
            let (lo, hi) = block.split_at_mut(half);
            lo.par_iter_mut()
                .zip(hi.par_iter_mut())
                .enumerate()
                .with_min_len(64)
                .for_each(|(k, (u, v))| {
                    let t = if k == 0 {
                        *v
                    } else {
                        *v * &twiddles[k * stride]
                    };
                    *v = *u - t;
                    *u += t;
                });
        });
        half *= 2;
    }
}

/// `L_j(τ)·P` for j < m from `τ^i·P` for i < m (m = `powers.len()`, a power of two).
pub fn lagrange_basis<G>(powers: &[G]) -> Vec<G>
where
    G: Group + Send + Sync + for<'a> Mul<&'a Scalar, Output = G>,
{
    let m = powers.len();
    let k = m.trailing_zeros();
    let mut a = powers.to_vec();
    let omega_inv = omega(k).invert().expect("a root of unity is invertible");
    fft(&mut a, &omega_inv);
    let m_inv = Scalar::from(m as u64)
        .invert()
        .expect("the domain size is invertible");
    a.par_iter_mut().for_each(|p| *p = *p * &m_inv);
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::{G1Projective, G2Projective};
    use bellman::domain::{EvaluationDomain, Scalar as DomainScalar};
    use bellman::multicore::Worker;

    fn to_zk(s: &Scalar) -> bls12_381::Scalar {
        bls12_381::Scalar::from_bytes(&s.to_bytes_le()).unwrap()
    }

    /// The group FFT gives exactly `bellman`'s Lagrange coefficients at τ, times the generator.
    #[test]
    fn matches_bellmans_lagrange_basis() {
        let tau = Scalar::from(123_456_789u64) * Scalar::ROOT_OF_UNITY;
        for k in [0u32, 1, 3, 6] {
            let m = 1usize << k;
            let powers: Vec<Scalar> = (0..m).map(|i| tau.pow_vartime([i as u64])).collect();
            let mut domain = EvaluationDomain::from_coeffs(
                powers.iter().map(|p| DomainScalar(to_zk(p))).collect(),
            )
            .unwrap();
            domain.ifft(&Worker::new());
            let expected: Vec<bls12_381::Scalar> =
                domain.into_coeffs().into_iter().map(|s| s.0).collect();
            let g1: Vec<G1Projective> = powers
                .iter()
                .map(|p| G1Projective::generator() * p)
                .collect();
            let g2: Vec<G2Projective> = powers
                .iter()
                .map(|p| G2Projective::generator() * p)
                .collect();
            let (l1, l2) = (lagrange_basis(&g1), lagrange_basis(&g2));
            for j in 0..m {
                let e = Scalar::from_bytes_le(&expected[j].to_bytes()).unwrap();
                assert_eq!(l1[j], G1Projective::generator() * e, "k={k} j={j}");
                assert_eq!(l2[j], G2Projective::generator() * e, "k={k} j={j}");
            }
        }
    }

    #[test]
    fn small_coefficients_multiply_exactly() {
        let p = G1Projective::generator() * Scalar::from(99u64);
        for c in [
            Scalar::ZERO,
            Scalar::ONE,
            -Scalar::ONE,
            Scalar::from(2u64),
            -Scalar::from(1u64 << 40),
            Scalar::from(u64::MAX) * Scalar::from(u64::MAX),
            Scalar::ROOT_OF_UNITY,
            -Scalar::ROOT_OF_UNITY,
        ] {
            assert_eq!(mul_small(&p, &c), p * c);
        }
    }
}
