//! Groth16 parameter generation for BLS12-381 (single-party setup), producing the same
//! [`groth16::Parameters`] as `groth16::generate_parameters` with the standard generators, but
//! several times faster.
//!
//! What it computes (Groth16 over the circuit's QAP, with `u_j, v_j, w_j` the A, B, C
//! polynomials of variable `j` in the Lagrange basis of the smallest power-of-two domain holding
//! the constraints, and `t` that domain's vanishing polynomial), for random α, β, γ, δ, τ:
//!
//! * `vk`: α·G1, β·G1, β·G2, γ·G2, δ·G1, δ·G2 and, per public input, IC = (β·u + α·v + w)(τ)/γ·G1;
//! * `l`: (β·u + α·v + w)(τ)/δ·G1 per auxiliary variable (an unconstrained one is an error);
//! * `a`, `b_g1`, `b_g2`: u(τ)·G1, v(τ)·G1, v(τ)·G2 per variable, dropping the zero ones (the
//!   prover skips those variables through its density trackers);
//! * `h`: τ^i·t(τ)/δ·G1 for i < domain size − 1.
//!
//! Why it is faster than `groth16`'s generator:
//!
//! * every point is a multiple of one fixed generator, so instead of a wNAF per scalar (≈ 255
//!   doublings each) it multiplies with precomputed signed-window tables: about 16 mixed
//!   additions per scalar and no doubling ([`fixed_base`]);
//! * the point arithmetic is blst's (assembly, ADX) rather than portable Rust;
//! * the R1CS is recorded in flat row-major arrays instead of three vectors per variable, and
//!   the QAP evaluation at τ is a single pass over them;
//! * everything that scales with the circuit runs on the rayon pool.
//!
//! Points are converted to `bls12_381` through the uncompressed encoding without the subgroup
//! check (they are blst multiples of the generator); the tests read the output back checked.

pub mod assembly;
mod fixed_base;

use assembly::KeypairAssembly;
use bellman::domain::{EvaluationDomain, Scalar as DomainScalar};
use bellman::multicore::Worker;
use bellman::{Circuit, SynthesisError};
use bls12_381::{Bls12, Scalar};
use ff::Field;
use fixed_base::{window_for, FixedBase, G1, G2};
use groth16::{Parameters, VerifyingKey};
use rand_core::Rng;
use rayon::prelude::*;
use std::sync::Arc;
use std::time::Instant;

/// Powers of τ computed per task (each task starts with one exponentiation).
const POWERS_CHUNK: usize = 1 << 14;

/// The secret ("toxic waste") of a Groth16 setup. Whoever knows it can forge proofs: a
/// production setup draws it from the OS and drops it, as [`generate_parameters`] does.
// No `Debug`: the trapdoor must not end up in logs.
#[derive(Clone, Copy)]
pub struct Trapdoor {
    /// α.
    pub alpha: Scalar,
    /// β.
    pub beta: Scalar,
    /// γ (must be non-zero).
    pub gamma: Scalar,
    /// δ (must be non-zero).
    pub delta: Scalar,
    /// τ, the QAP evaluation point (must not be a root of unity of the domain).
    pub tau: Scalar,
}

impl Trapdoor {
    /// Draws the five scalars from `rng`.
    pub fn random<R: Rng + ?Sized>(rng: &mut R) -> Self {
        Trapdoor {
            alpha: Scalar::random(&mut *rng),
            beta: Scalar::random(&mut *rng),
            gamma: Scalar::random(&mut *rng),
            delta: Scalar::random(&mut *rng),
            tau: Scalar::random(&mut *rng),
        }
    }
}

/// Generates Groth16 parameters for `circuit` with a fresh trapdoor drawn from `rng` (use an
/// OS-backed generator), usable with `groth16::create_random_proof` and `groth16::verify_proof`
/// and serialisable with `Parameters::write`. A drop-in replacement for
/// `groth16::generate_random_parameters::<Bls12, _, _>`.
///
/// Errors: the circuit's own synthesis errors; [`SynthesisError::UnconstrainedVariable`] for an
/// auxiliary variable in no constraint; [`SynthesisError::PolynomialDegreeTooLarge`] beyond
/// 2^31 constraints; [`SynthesisError::UnexpectedIdentity`] for a degenerate trapdoor.
pub fn generate_parameters<C, R>(
    circuit: C,
    rng: &mut R,
) -> Result<Parameters<Bls12>, SynthesisError>
where
    C: Circuit<Scalar>,
    R: Rng + ?Sized,
{
    generate_parameters_with_trapdoor(circuit, &Trapdoor::random(rng))
}

/// [`generate_parameters`] with a given trapdoor: deterministic, and equal to
/// `groth16::generate_parameters::<Bls12, _>(circuit, G1::generator(), G2::generator(), α, β, γ,
/// δ, τ)`. For tests and reproducible devnets only: the trapdoor must stay secret.
pub fn generate_parameters_with_trapdoor<C>(
    circuit: C,
    trapdoor: &Trapdoor,
) -> Result<Parameters<Bls12>, SynthesisError>
where
    C: Circuit<Scalar>,
{
    let Trapdoor {
        alpha,
        beta,
        gamma,
        delta,
        tau,
    } = *trapdoor;
    let gamma_inverse =
        Option::<Scalar>::from(gamma.invert()).ok_or(SynthesisError::UnexpectedIdentity)?;
    let delta_inverse =
        Option::<Scalar>::from(delta.invert()).ok_or(SynthesisError::UnexpectedIdentity)?;

    let started = Instant::now();
    let phase = |name: &str| {
        tracing::debug!(
            phase = name,
            elapsed_s = started.elapsed().as_secs_f64(),
            "groth16 parameter generation"
        )
    };
    let assembly = KeypairAssembly::synthesize(circuit)?;
    phase("synthesis");
    let (num_inputs, num_aux) = (assembly.num_inputs(), assembly.num_aux());

    // Powers of τ over the evaluation domain; the H scalars τ^i·t(τ)/δ; then, by inverse FFT,
    // the Lagrange basis at τ.
    let mut domain = EvaluationDomain::from_coeffs(vec![
        DomainScalar(Scalar::ZERO);
        assembly.num_constraints()
    ])?;
    domain
        .as_mut()
        .par_chunks_mut(POWERS_CHUNK)
        .enumerate()
        .for_each(|(i, chunk)| {
            let mut power = tau.pow_vartime(&[(i * POWERS_CHUNK) as u64, 0, 0, 0]);
            for p in chunk {
                p.0 = power;
                power *= tau;
            }
        });
    let t_tau = domain.z(&tau);
    if bool::from(t_tau.is_zero()) {
        return Err(SynthesisError::UnexpectedIdentity);
    }
    let h_coeff = t_tau * delta_inverse;
    let powers = domain.as_ref();
    let h_scalars: Vec<Scalar> = powers[..powers.len() - 1]
        .par_iter()
        .map(|p| p.0 * h_coeff)
        .collect();
    domain.ifft(&Worker::new());
    let lagrange: Vec<Scalar> = domain.into_coeffs().into_iter().map(|s| s.0).collect();

    phase("lagrange basis");
    let qap = assembly.evaluate(&lagrange)?;
    phase("qap at tau");
    drop(lagrange);

    // (β·u + α·v + w)(τ), divided by γ for inputs (IC) and by δ for auxiliary variables (L).
    let ext =
        |j: usize, inverse: &Scalar| (beta * qap.a[j] + alpha * qap.b[j] + qap.c[j]) * inverse;
    let ic_scalars: Vec<Scalar> = (0..num_inputs)
        .into_par_iter()
        .map(|j| ext(j, &gamma_inverse))
        .collect();
    let l_scalars: Vec<Scalar> = (num_inputs..num_inputs + num_aux)
        .into_par_iter()
        .map(|j| ext(j, &delta_inverse))
        .collect();
    if l_scalars.par_iter().any(|s| bool::from(s.is_zero())) {
        return Err(SynthesisError::UnconstrainedVariable);
    }
    let nonzero = |v: &[Scalar]| -> Vec<Scalar> {
        v.iter()
            .copied()
            .filter(|s| !bool::from(s.is_zero()))
            .collect()
    };
    let a_scalars = nonzero(&qap.a);
    let b_scalars = nonzero(&qap.b);
    drop(qap);
    let vk_g1_scalars = [alpha, beta, delta];
    let vk_g2_scalars = [beta, gamma, delta];

    let g1_count = h_scalars.len()
        + ic_scalars.len()
        + l_scalars.len()
        + a_scalars.len()
        + b_scalars.len()
        + vk_g1_scalars.len();
    phase("scalars");
    let g1 = FixedBase::<G1>::new(window_for(g1_count));
    phase("g1 table");
    let h = g1.mul_vec(&h_scalars)?;
    drop(h_scalars);
    let ic = g1.mul_vec(&ic_scalars)?;
    let l = g1.mul_vec(&l_scalars)?;
    drop(l_scalars);
    let a = g1.mul_vec(&a_scalars)?;
    drop(a_scalars);
    let b_g1 = g1.mul_vec(&b_scalars)?;
    let vk_g1 = g1.mul_vec(&vk_g1_scalars)?;
    drop(g1);
    phase("g1 points");

    let g2 = FixedBase::<G2>::new(window_for(b_scalars.len() + vk_g2_scalars.len()));
    phase("g2 table");
    let b_g2 = g2.mul_vec(&b_scalars)?;
    let vk_g2 = g2.mul_vec(&vk_g2_scalars)?;
    drop(g2);
    phase("g2 points");

    let vk = VerifyingKey::<Bls12> {
        alpha_g1: vk_g1[0],
        beta_g1: vk_g1[1],
        beta_g2: vk_g2[0],
        gamma_g2: vk_g2[1],
        delta_g1: vk_g1[2],
        delta_g2: vk_g2[2],
        ic,
    };
    Ok(Parameters {
        vk,
        h: Arc::new(h),
        l: Arc::new(l),
        a: Arc::new(a),
        b_g1: Arc::new(b_g1),
        b_g2: Arc::new(b_g2),
    })
}
