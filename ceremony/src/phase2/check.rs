//! Checking an initial phase-2 file against the circuit and the powers of tau without
//! recomputing it: each query is compared under a random linear combination the verifier
//! draws, `Σ ρ_j·a_j`, with the same combination evaluated on the powers of tau —
//! `Σ_r (Σ_j ρ_j·A_rj)·L_r(τ)·G1 = Σ_i S_i·τ^i·G1` where `S` is the inverse FFT of the row sums
//! (scalars, cheap). A wrong point survives with probability ≤ 2⁻¹²⁸ per query. Cost: a few
//! multi-scalar multiplications of the domain's size, instead of the group FFTs and the
//! per-term multiplications that computing the file takes.

use super::qap::{merged_columns, Initial, Msm, Powers};
use crate::curve::{random_coefficients, G1Affine, G1Projective, G2Affine, G2Projective, Scalar};
use crate::CeremonyError;
use bellman::domain::{EvaluationDomain, Scalar as DomainScalar};
use bellman::multicore::Worker;
use rayon::prelude::*;
use strata_params::generator::assembly::KeypairAssembly;

fn zk(s: &Scalar) -> bls12_381::Scalar {
    Option::from(bls12_381::Scalar::from_bytes(&s.to_bytes_le())).expect("canonical")
}

fn from_zk(s: &bls12_381::Scalar) -> Scalar {
    Option::from(Scalar::from_bytes_le(&s.to_bytes())).expect("canonical")
}

/// `Σ_j ρ_j·column_j` on the domain's m rows, then its coefficients (inverse FFT).
fn combined_coefficients(
    cols: &[Vec<(u32, Scalar)>],
    rho: &[Scalar],
    m: usize,
) -> Result<Vec<Scalar>, CeremonyError> {
    let mut rows = vec![Scalar::from(0u64); m];
    for (col, r) in cols.iter().zip(rho) {
        for (row, c) in col {
            rows[*row as usize] += *c * r;
        }
    }
    let mut domain =
        EvaluationDomain::from_coeffs(rows.iter().map(|s| DomainScalar(zk(s))).collect())
            .map_err(|e| CeremonyError::Circuit(e.to_string()))?;
    domain.ifft(&Worker::new());
    Ok(domain.into_coeffs().iter().map(|s| from_zk(&s.0)).collect())
}

fn msm_affine<G, A>(points: &[A], scalars: &[Scalar]) -> G
where
    G: Msm + From<A>,
    A: Copy + Sync,
{
    let proj: Vec<G> = points.par_iter().map(|p| G::from(*p)).collect();
    G::msm(&proj, &scalars[..proj.len()])
}

/// The kept entries of a filtered query: ρ of the variables whose column is not zero.
fn kept(cols: &[Vec<(u32, Scalar)>], rho: &[Scalar]) -> Vec<Scalar> {
    cols.iter()
        .zip(rho)
        .filter(|(c, _)| !c.is_empty())
        .map(|(_, r)| *r)
        .collect()
}

/// Checks `init` is the initial phase-2 state of `assembly`'s circuit over `powers`; the error
/// names the query that differs.
pub fn check_initial(
    powers: &Powers<'_>,
    assembly: &KeypairAssembly,
    init: &Initial,
) -> Result<(), String> {
    let fail = |e: CeremonyError| e.to_string();
    let m = 1usize << super::qap::domain_log(assembly.num_constraints());
    if powers.tau_g2.len() < m || powers.tau_g1.len() < 2 * m - 1 {
        return Err(format!(
            "the powers of tau are too short for a domain of {m}"
        ));
    }
    if init.alpha_g1 != powers.alpha_g1[0]
        || init.beta_g1 != powers.beta_g1[0]
        || init.beta_g2 != powers.beta_g2
    {
        return Err("α or β differs from the powers of tau".into());
    }
    let [ca, cb, cc] = merged_columns(assembly).map_err(fail)?;
    let (vars, ni) = (ca.len(), assembly.num_inputs());
    let count = |cols: &[Vec<(u32, Scalar)>]| cols.iter().filter(|c| !c.is_empty()).count();
    if init.a.len() != count(&ca) || init.b_g1.len() != count(&cb) || init.b_g2.len() != count(&cb)
    {
        return Err("the A or B query has the wrong number of points".into());
    }
    if init.ic.len() != ni || init.l.len() != vars - ni || init.h.len() != m - 1 {
        return Err("the IC, L or H query has the wrong number of points".into());
    }
    if init
        .l
        .iter()
        .any(|p| bool::from(group013::prime::PrimeCurveAffine::is_identity(p)))
    {
        return Err("an auxiliary variable is unconstrained".into());
    }
    let tau1 = &powers.tau_g1[..m];
    // A query: u_j(τ)·G1.
    let rho = random_coefficients(vars).map_err(fail)?;
    let s = combined_coefficients(&ca, &rho, m).map_err(fail)?;
    if msm_affine::<G1Projective, G1Affine>(&init.a, &kept(&ca, &rho))
        != msm_affine::<G1Projective, G1Affine>(tau1, &s)
    {
        return Err("the A query is not the circuit's".into());
    }
    // B queries: v_j(τ) in G1 and G2.
    let rho = random_coefficients(vars).map_err(fail)?;
    let s = combined_coefficients(&cb, &rho, m).map_err(fail)?;
    let k = kept(&cb, &rho);
    if msm_affine::<G1Projective, G1Affine>(&init.b_g1, &k)
        != msm_affine::<G1Projective, G1Affine>(tau1, &s)
    {
        return Err("the B query in G1 is not the circuit's".into());
    }
    if msm_affine::<G2Projective, G2Affine>(&init.b_g2, &k)
        != msm_affine::<G2Projective, G2Affine>(&powers.tau_g2[..m], &s)
    {
        return Err("the B query in G2 is not the circuit's".into());
    }
    // IC and L: (β·u + α·v + w)(τ)·G1.
    let rho = random_coefficients(vars).map_err(fail)?;
    let (sa, sb, sc) = (
        combined_coefficients(&ca, &rho, m).map_err(fail)?,
        combined_coefficients(&cb, &rho, m).map_err(fail)?,
        combined_coefficients(&cc, &rho, m).map_err(fail)?,
    );
    let lhs = msm_affine::<G1Projective, G1Affine>(&init.ic, &rho[..ni])
        + msm_affine::<G1Projective, G1Affine>(&init.l, &rho[ni..]);
    let rhs = msm_affine::<G1Projective, G1Affine>(&powers.beta_g1[..m], &sa)
        + msm_affine::<G1Projective, G1Affine>(&powers.alpha_g1[..m], &sb)
        + msm_affine::<G1Projective, G1Affine>(tau1, &sc);
    if lhs != rhs {
        return Err("the IC or L query is not the circuit's".into());
    }
    // H: τ^i·(τ^m − 1)·G1.
    let rho = random_coefficients(m - 1).map_err(fail)?;
    let lhs = msm_affine::<G1Projective, G1Affine>(&init.h, &rho);
    let rhs = msm_affine::<G1Projective, G1Affine>(&powers.tau_g1[m..2 * m - 1], &rho)
        - msm_affine::<G1Projective, G1Affine>(&powers.tau_g1[..m - 1], &rho);
    if lhs != rhs {
        return Err("the H query is not τ^i·t(τ)".into());
    }
    Ok(())
}
