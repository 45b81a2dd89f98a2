//! The folded commitment keys as polynomials, and KZG openings that prove them well formed.
//!
//! GIPA folds a key vector k of length n = 2^ℓ with challenges c_0, …, c_{ℓ−1} (round j
//! multiplies the right half by c_j) into one element Σ_i k_i · Π_{j : bit ℓ−1−j of i} c_j.
//! When k_i = base^{s^i} that element is base^{f(s)} for
//! f(X) = Π_j (1 + c_j X^{2^{ℓ−1−j}}), so the verifier can evaluate f at any point in O(ℓ)
//! and check the prover's folded key with one KZG opening instead of folding n elements.

use crate::curve::{self, G1Affine, G2Affine, Scalar};
use ff013::Field;
use group013::Curve;

/// The coefficients of f(X) = Π_j (1 + c_j X^{2^{ℓ−1−j}}) for `challenges` = c_0, …, c_{ℓ−1}:
/// coefficient i is the product of the c_j whose bit (ℓ−1−j) is set in i.
pub(crate) fn fold_coefficients(challenges: &[Scalar]) -> Vec<Scalar> {
    let mut coeffs = Vec::with_capacity(1 << challenges.len());
    coeffs.push(Scalar::ONE);
    for c in challenges.iter().rev() {
        let scaled: Vec<Scalar> = coeffs.iter().map(|x| *x * c).collect();
        coeffs.extend(scaled);
    }
    coeffs
}

/// f(z) for the f of [`fold_coefficients`], in O(ℓ).
pub(crate) fn fold_eval(challenges: &[Scalar], z: &Scalar) -> Scalar {
    let mut z_pow = *z; // z^{2^{ℓ−1−j}}, from j = ℓ−1 down to 0
    let mut acc = Scalar::ONE;
    for c in challenges.iter().rev() {
        acc *= Scalar::ONE + *c * z_pow;
        z_pow = z_pow.square();
    }
    acc
}

/// The quotient q(X) = (f(X) − f(z)) / (X − z), by synthetic division of the coefficients of f
/// (lowest degree first); q has one coefficient fewer than f.
fn quotient(coeffs: &[Scalar], z: &Scalar) -> Vec<Scalar> {
    let mut q = vec![Scalar::ZERO; coeffs.len().saturating_sub(1)];
    let mut carry = Scalar::ZERO;
    for i in (1..coeffs.len()).rev() {
        carry = coeffs[i] + carry * z;
        q[i - 1] = carry;
    }
    q
}

/// The KZG opening in G2 of f (coefficients `coeffs`) at `z`: h^{q(s)} from the powers h^{s^i}.
pub(crate) fn open_g2(powers: &[G2Affine], coeffs: &[Scalar], z: &Scalar) -> G2Affine {
    let q = quotient(coeffs, z);
    curve::msm_g2(&powers[..q.len()], &q).to_affine()
}

/// The KZG opening in G1 of X^n · f(X) (`coeffs` = those of f, n = `coeffs.len()`) at `z`:
/// g^{q(s)} from the powers g^{s^i}, i < 2n − 1.
pub(crate) fn open_shifted_g1(powers: &[G1Affine], coeffs: &[Scalar], z: &Scalar) -> G1Affine {
    let n = coeffs.len();
    let mut shifted = vec![Scalar::ZERO; n];
    shifted.extend_from_slice(coeffs);
    let q = quotient(&shifted, z);
    curve::msm_g1(&powers[..q.len()], &q).to_affine()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: u64) -> Scalar {
        Scalar::from(x)
    }

    #[test]
    fn coefficients_match_evaluation() {
        let c = [s(3), s(5), s(7)];
        let coeffs = fold_coefficients(&c);
        assert_eq!(coeffs.len(), 8);
        // Round 0 multiplies the right half (bit 2), round 2 the odd indices (bit 0).
        assert_eq!(coeffs[4], s(3));
        assert_eq!(coeffs[1], s(7));
        assert_eq!(coeffs[7], s(105));
        let z = s(11);
        let direct = coeffs.iter().rev().fold(Scalar::ZERO, |acc, k| acc * z + k);
        assert_eq!(fold_eval(&c, &z), direct);
    }

    #[test]
    fn quotient_divides() {
        let f = [s(2), s(3), s(4), s(5)];
        let z = s(9);
        let q = quotient(&f, &z);
        let eval = |p: &[Scalar], x: Scalar| p.iter().rev().fold(Scalar::ZERO, |a, k| a * x + k);
        let x = s(1234);
        assert_eq!(eval(&f, x) - eval(&f, z), eval(&q, x) * (x - z));
    }
}
