//! The circuit's starting phase-2 parameters, computed from the final powers of tau without
//! knowing τ, α or β: its QAP evaluated in the exponent over the Lagrange basis, with δ = γ = 1
//! (BGM17 §4; γ = 1 as in Zcash's Sapling ceremony — the verifier's γ plays no part in
//! soundness once the IC query is fixed by phase 1).
//!
//! With `L_j` the Lagrange basis of the circuit's domain (size m) and `u_i, v_i, w_i` the A, B, C
//! columns of variable i:
//! `a_i = u_i(τ)·G1`, `b_g1_i = v_i(τ)·G1`, `b_g2_i = v_i(τ)·G2`,
//! `ic_i / l_i = (β·u_i + α·v_i + w_i)(τ)·G1` for inputs / auxiliary variables,
//! `h_i = τ^i·(τ^m − 1)·G1` for i < m − 1 — exactly what `groth16`'s generator computes for the
//! same τ, α, β with δ = γ = 1 (a test compares them byte for byte).

use crate::curve::{G1Affine, G1Projective, G2Affine, G2Projective, Scalar};
use crate::lagrange::{lagrange_basis, mul_small};
use crate::{CeremonyError, Progress};
use ff::Field as _;
use group013::prime::PrimeCurveAffine;
use group013::{Curve, Group};
use rayon::prelude::*;
use strata_params::generator::assembly::KeypairAssembly;

/// The phase-1 elements phase 2 reads (see [`crate::phase1::Accumulator`]).
pub struct Powers<'a> {
    /// τ^i·G1, i < 2n − 1.
    pub tau_g1: &'a [G1Affine],
    /// τ^i·G2, i < n.
    pub tau_g2: &'a [G2Affine],
    /// α·τ^i·G1, i < n.
    pub alpha_g1: &'a [G1Affine],
    /// β·τ^i·G1, i < n.
    pub beta_g1: &'a [G1Affine],
    /// β·G2.
    pub beta_g2: G2Affine,
}

/// A circuit's phase-2 starting point (δ = γ = 1), or any later state with its δ-dependent
/// parts (`h`, `l`) replaced by a contribution's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Initial {
    /// α·G1.
    pub alpha_g1: G1Affine,
    /// β·G1.
    pub beta_g1: G1Affine,
    /// β·G2.
    pub beta_g2: G2Affine,
    /// Per public input (constant one first): (β·u + α·v + w)(τ)·G1.
    pub ic: Vec<G1Affine>,
    /// τ^i·t(τ)·G1 (divided by δ after contributions).
    pub h: Vec<G1Affine>,
    /// Per auxiliary variable: (β·u + α·v + w)(τ)·G1 (divided by δ after contributions).
    pub l: Vec<G1Affine>,
    /// u(τ)·G1 of every variable whose u is not zero.
    pub a: Vec<G1Affine>,
    /// v(τ)·G1 of every variable whose v is not zero.
    pub b_g1: Vec<G1Affine>,
    /// v(τ)·G2, the same variables.
    pub b_g2: Vec<G2Affine>,
}

/// The circuit's domain: log₂ of the smallest power of two holding its constraints (input
/// constraints included), as `bellman`'s `EvaluationDomain` chooses it.
pub fn domain_log(constraints: usize) -> u32 {
    constraints.max(1).next_power_of_two().trailing_zeros()
}

/// Multi-scalar multiplication, for both groups.
pub trait Msm: Group + for<'a> std::ops::Mul<&'a Scalar, Output = Self> + Send + Sync {
    /// `Σ sᵢ·pᵢ` (blst's Pippenger).
    fn msm(points: &[Self], scalars: &[Scalar]) -> Self;
}

impl Msm for G1Projective {
    fn msm(points: &[Self], scalars: &[Scalar]) -> Self {
        G1Projective::multi_exp(points, scalars)
    }
}

impl Msm for G2Projective {
    fn msm(points: &[Self], scalars: &[Scalar]) -> Self {
        G2Projective::multi_exp(points, scalars)
    }
}

/// A column's terms with the terms of one row summed (a linear combination may name a variable
/// twice) and zero sums dropped: the column's values on the domain, sparse.
pub fn merged(terms: &[(u32, bls12_381::Scalar)]) -> Vec<(u32, Scalar)> {
    let mut out: Vec<(u32, bls12_381::Scalar)> = Vec::with_capacity(terms.len());
    for &(row, c) in terms {
        match out.last_mut() {
            Some((r, sum)) if *r == row => *sum += c,
            _ => out.push((row, c)),
        }
    }
    out.into_iter()
        .filter(|(_, c)| !bool::from(c.is_zero()))
        .map(|(r, c)| (r, Scalar::from_bytes_le(&c.to_bytes()).expect("canonical")))
        .collect()
}

/// Whether `c` or `−c` fits in 32 bits (cheaper by double-and-add than by a full multiplication).
fn is_small(c: &Scalar) -> bool {
    let short = |s: &Scalar| s.to_bytes_le()[4..].iter().all(|b| *b == 0);
    short(c) || short(&-*c)
}

/// Σ coeff·basis[row] over a column's merged terms: ±1 and short coefficients by additions, the
/// rest in one multi-scalar multiplication.
fn combine<G: Msm>(terms: &[(u32, Scalar)], basis: &[G]) -> G {
    let mut acc = G::identity();
    let (mut points, mut scalars) = (Vec::new(), Vec::new());
    for (row, c) in terms {
        let p = &basis[*row as usize];
        if is_small(c) {
            acc += mul_small(p, c);
        } else {
            points.push(*p);
            scalars.push(*c);
        }
    }
    match points.len() {
        0 => acc,
        1 => acc + points[0] * &scalars[0],
        _ => acc + G::msm(&points, &scalars),
    }
}

fn affine_g1(v: &[G1Projective]) -> Vec<G1Affine> {
    let mut out = vec![G1Affine::identity(); v.len()];
    G1Projective::batch_normalize(v, &mut out);
    out
}

fn affine_g2(v: &[G2Projective]) -> Vec<G2Affine> {
    let mut out = vec![G2Affine::identity(); v.len()];
    G2Projective::batch_normalize(v, &mut out);
    out
}

/// One matrix by columns, merged (see [`merged`]).
pub type MergedColumns = Vec<Vec<(u32, Scalar)>>;

/// The A, B, C columns of every variable, merged (see [`merged`]).
pub fn merged_columns(assembly: &KeypairAssembly) -> Result<[MergedColumns; 3], CeremonyError> {
    let cols = assembly
        .columns()
        .map_err(|e| CeremonyError::Circuit(e.to_string()))?;
    Ok(cols.map(|m| m.par_iter().map(|c| merged(c)).collect()))
}

/// Computes the starting parameters of `assembly`'s circuit from `powers`.
pub fn initial(
    powers: &Powers<'_>,
    assembly: &KeypairAssembly,
    progress: &dyn Progress,
) -> Result<Initial, CeremonyError> {
    let constraints = assembly.num_constraints();
    let k = domain_log(constraints);
    let m = 1usize << k;
    let have = powers.tau_g2.len().max(1).trailing_zeros();
    if powers.tau_g2.len() < m
        || powers.tau_g1.len() < 2 * m - 1
        || powers.alpha_g1.len() < m
        || powers.beta_g1.len() < m
    {
        return Err(CeremonyError::TooFewPowers {
            have,
            need: k,
            constraints,
        });
    }
    let started = std::time::Instant::now();
    let lap = |what: &str| {
        tracing::debug!(
            stage = what,
            elapsed_s = started.elapsed().as_secs_f64(),
            "phase-2 initial"
        )
    };
    let proj1 = |v: &[G1Affine]| -> Vec<G1Projective> {
        v[..m].par_iter().map(G1Projective::from).collect()
    };
    progress.stage("lagrange basis (4 group FFTs)", 4);
    let basis = |v: Vec<G1Projective>| {
        let b = lagrange_basis(&v);
        progress.inc(1);
        b
    };
    let l_tau = basis(proj1(powers.tau_g1));
    let l_alpha = basis(proj1(powers.alpha_g1));
    let l_beta = basis(proj1(powers.beta_g1));
    let g2: Vec<G2Projective> = powers.tau_g2[..m]
        .par_iter()
        .map(G2Projective::from)
        .collect();
    let l_tau_g2 = lagrange_basis(&g2);
    progress.inc(1);
    lap("lagrange basis");

    let [ca, cb, cc] = merged_columns(assembly)?;
    let vars = ca.len();
    progress.stage("QAP in the exponent", vars as u64);
    let per_var: Vec<(G1Projective, G1Projective, G2Projective, G1Projective)> = (0..vars)
        .into_par_iter()
        .map(|j| {
            let a = combine(&ca[j], &l_tau);
            let b1 = combine(&cb[j], &l_tau);
            let b2 = combine(&cb[j], &l_tau_g2);
            let ext =
                combine(&ca[j], &l_beta) + combine(&cb[j], &l_alpha) + combine(&cc[j], &l_tau);
            if j % 4096 == 0 {
                progress.inc(4096.min(vars - j) as u64);
            }
            (a, b1, b2, ext)
        })
        .collect();
    lap("qap");
    let ni = assembly.num_inputs();
    let a: Vec<G1Projective> = per_var
        .iter()
        .map(|v| v.0)
        .filter(|p| !bool::from(p.is_identity()))
        .collect();
    let b1: Vec<G1Projective> = per_var
        .iter()
        .map(|v| v.1)
        .filter(|p| !bool::from(p.is_identity()))
        .collect();
    let b2: Vec<G2Projective> = per_var
        .iter()
        .map(|v| v.2)
        .filter(|p| !bool::from(p.is_identity()))
        .collect();
    let ext: Vec<G1Projective> = per_var.iter().map(|v| v.3).collect();
    if ext[ni..].iter().any(|p| bool::from(p.is_identity())) {
        return Err(CeremonyError::Circuit(
            "an auxiliary variable is unconstrained".into(),
        ));
    }
    let h: Vec<G1Projective> = (0..m - 1)
        .into_par_iter()
        .map(|i| G1Projective::from(powers.tau_g1[i + m]) - G1Projective::from(powers.tau_g1[i]))
        .collect();
    Ok(Initial {
        alpha_g1: powers.alpha_g1[0],
        beta_g1: powers.beta_g1[0],
        beta_g2: powers.beta_g2,
        ic: affine_g1(&ext[..ni]),
        l: affine_g1(&ext[ni..]),
        h: affine_g1(&h),
        a: affine_g1(&a),
        b_g1: affine_g1(&b1),
        b_g2: affine_g2(&b2),
    })
}

/// Groth16 parameters from a phase-2 state: the circuit's fixed parts from `initial`, and δ
/// with the δ-divided `h` and `l` from the last contribution.
pub fn to_parameters(
    initial: &Initial,
    delta_g1: &G1Affine,
    delta_g2: &G2Affine,
    h: &[G1Affine],
    l: &[G1Affine],
) -> groth16::Parameters<bls12_381::Bls12> {
    use std::sync::Arc;
    // Points cross to `bls12_381` through the shared uncompressed encoding; they were checked
    // (curve and subgroup) when read or computed here.
    let g1 = |p: &G1Affine| {
        Option::from(bls12_381::G1Affine::from_uncompressed_unchecked(
            &p.to_uncompressed(),
        ))
        .expect("a blst point is a bls12_381 point")
    };
    let g2 = |p: &G2Affine| {
        Option::from(bls12_381::G2Affine::from_uncompressed_unchecked(
            &p.to_uncompressed(),
        ))
        .expect("a blst point is a bls12_381 point")
    };
    let v1 = |v: &[G1Affine]| -> Vec<bls12_381::G1Affine> { v.par_iter().map(g1).collect() };
    groth16::Parameters {
        vk: groth16::VerifyingKey {
            alpha_g1: g1(&initial.alpha_g1),
            beta_g1: g1(&initial.beta_g1),
            beta_g2: g2(&initial.beta_g2),
            gamma_g2: bls12_381::G2Affine::generator(),
            delta_g1: g1(delta_g1),
            delta_g2: g2(delta_g2),
            ic: v1(&initial.ic),
        },
        h: Arc::new(v1(h)),
        l: Arc::new(v1(l)),
        a: Arc::new(v1(&initial.a)),
        b_g1: Arc::new(v1(&initial.b_g1)),
        b_g2: Arc::new(initial.b_g2.par_iter().map(g2).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::{G1Projective, G2Projective};
    use crate::Quiet;
    use bellman::{Circuit, ConstraintSystem, SynthesisError};
    use ff013::Field;

    /// x³ + x + 5 = out, out public; plus a coefficient that is neither small nor ±1.
    #[derive(Clone)]
    struct Cubic;
    impl Circuit<bls12_381::Scalar> for Cubic {
        fn synthesize<CS: ConstraintSystem<bls12_381::Scalar>>(
            self,
            cs: &mut CS,
        ) -> Result<(), SynthesisError> {
            use bls12_381::Scalar as S;
            let x = cs.alloc(|| "x", || Ok(S::from(3u64)))?;
            let x2 = cs.alloc(|| "x2", || Ok(S::from(9u64)))?;
            let x3 = cs.alloc(|| "x3", || Ok(S::from(27u64)))?;
            let out = cs.alloc_input(|| "out", || Ok(S::from(35u64)))?;
            cs.enforce(|| "x2", |lc| lc + x, |lc| lc + x, |lc| lc + x2);
            cs.enforce(|| "x3", |lc| lc + x2, |lc| lc + x, |lc| lc + x3);
            let big = S::from(0xdead_beef_u64).pow_vartime(&[9, 0, 0, 0]);
            cs.enforce(
                || "out",
                |lc| lc + x3 + x + (S::from(5u64), CS::one()) + (big, x) - (big, x),
                |lc| lc + CS::one(),
                |lc| lc + out,
            );
            Ok(())
        }
    }

    fn zk(s: &Scalar) -> bls12_381::Scalar {
        bls12_381::Scalar::from_bytes(&s.to_bytes_le()).unwrap()
    }

    /// With known τ, α, β the computed parameters equal the single-party generator's for the
    /// same τ, α, β and γ = δ = 1, byte for byte.
    #[test]
    fn equals_the_generator_with_the_same_secrets() {
        let (tau, alpha, beta) = (
            Scalar::from(7u64).pow_vartime([77u64]),
            Scalar::from(11u64),
            Scalar::from(13u64).square(),
        );
        let n = 8usize;
        let pw = |i: usize| tau.pow_vartime([i as u64]);
        let tau_g1: Vec<G1Affine> = (0..2 * n - 1)
            .map(|i| (G1Projective::generator() * pw(i)).to_affine())
            .collect();
        let tau_g2: Vec<G2Affine> = (0..n)
            .map(|i| (G2Projective::generator() * pw(i)).to_affine())
            .collect();
        let alpha_g1: Vec<G1Affine> = (0..n)
            .map(|i| (G1Projective::generator() * (alpha * pw(i))).to_affine())
            .collect();
        let beta_g1: Vec<G1Affine> = (0..n)
            .map(|i| (G1Projective::generator() * (beta * pw(i))).to_affine())
            .collect();
        let beta_g2 = (G2Projective::generator() * beta).to_affine();
        let powers = Powers {
            tau_g1: &tau_g1,
            tau_g2: &tau_g2,
            alpha_g1: &alpha_g1,
            beta_g1: &beta_g1,
            beta_g2,
        };
        let asm = KeypairAssembly::synthesize(Cubic).unwrap();
        let init = initial(&powers, &asm, &Quiet).unwrap();
        let ours = to_parameters(
            &init,
            &G1Affine::generator(),
            &G2Affine::generator(),
            &init.h,
            &init.l,
        );
        let theirs = strata_params::generator::generate_parameters_with_trapdoor(
            Cubic,
            &strata_params::generator::Trapdoor {
                alpha: zk(&alpha),
                beta: zk(&beta),
                gamma: bls12_381::Scalar::one(),
                delta: bls12_381::Scalar::one(),
                tau: zk(&tau),
            },
        )
        .unwrap();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        ours.write(&mut a).unwrap();
        theirs.write(&mut b).unwrap();
        assert!(a == b, "phase-2 start differs from the generator");
        // Too few powers for the domain is a named error.
        let short = Powers {
            tau_g1: &tau_g1[..3],
            tau_g2: &tau_g2[..2],
            alpha_g1: &alpha_g1[..2],
            beta_g1: &beta_g1[..2],
            beta_g2,
        };
        assert!(matches!(
            initial(&short, &asm, &Quiet),
            Err(CeremonyError::TooFewPowers { need: 3, .. })
        ));
    }
}
