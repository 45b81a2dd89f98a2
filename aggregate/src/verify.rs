//! The aggregate verifier, and the per-proof reference verifier.

use crate::curve::{self, G1Affine, G1Projective, G2Affine, Gt, Scalar};
use crate::kzg;
use crate::proof::{self, AggregateProof};
use crate::srs::VerifierKey;
use crate::transcript::Transcript;
use crate::AggregateError;
use ff013::Field;
use group013::Curve;
use pairing023::MillerLoopResult as _;

/// The Groth16 verifying key in the internal types.
struct GrothKey {
    alpha: G1Affine,
    beta: G2Affine,
    gamma: G2Affine,
    delta: G2Affine,
    ic: Vec<G1Affine>,
}

impl GrothKey {
    fn convert(vk: &groth16::VerifyingKey<bls12_381::Bls12>) -> Result<Self, AggregateError> {
        Ok(GrothKey {
            alpha: curve::g1_from_zk(&vk.alpha_g1, "Groth16 key alpha")?,
            beta: curve::g2_from_zk(&vk.beta_g2, "Groth16 key beta")?,
            gamma: curve::g2_from_zk(&vk.gamma_g2, "Groth16 key gamma")?,
            delta: curve::g2_from_zk(&vk.delta_g2, "Groth16 key delta")?,
            ic: vk
                .ic
                .iter()
                .map(|p| curve::g1_from_zk(p, "Groth16 key IC"))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// The challenges of one aggregate, replayed from the transcript.
struct Challenges {
    r: Scalar,
    xs: Vec<Scalar>,
    x_invs: Vec<Scalar>,
    z: Scalar,
    rho: Scalar,
}

fn replay(
    vk: &VerifierKey,
    context: &[u8],
    p: &AggregateProof,
) -> Result<Challenges, AggregateError> {
    let mut t = Transcript::new(context);
    let r = proof::absorb_commitments(&mut t, vk, p.n, &p.com_ab, &p.com_c);
    proof::absorb_inner_products(&mut t, &p.z_ab, &p.z_c);
    let xs: Vec<Scalar> = p
        .rounds
        .iter()
        .map(|round| proof::absorb_round(&mut t, round))
        .collect();
    let z = proof::absorb_final(&mut t, &p.fin);
    let rho = proof::absorb_openings(&mut t, &p.openings);
    let x_invs = xs
        .iter()
        .map(|x| Option::from(x.invert()))
        .collect::<Option<Vec<Scalar>>>()
        .ok_or(AggregateError::Invalid("zero challenge"))?;
    Ok(Challenges {
        r,
        xs,
        x_invs,
        z,
        rho,
    })
}

/// Verifies `proof` as the aggregate of n Groth16 proofs under `groth_vk`, proof i for the
/// public inputs `public_inputs[i]`, with the same `transcript_context` as the aggregator.
///
/// On `Ok(())` the aggregate proves (under the SRS's trust assumption, the q-ASDBP and KZG
/// assumptions, in the random-oracle model) that the prover knows n Groth16 proofs, one per
/// statement in order, that each satisfy the Groth16 equation except with negligible
/// probability over r; hence, by Groth16's soundness, that every statement is true.
///
/// It checks: the GIPA folding of the commitments to (A, B') and C down to the final values
/// (TIPP and MIPP), the KZG openings that show the folded keys are those of the SRS, and the
/// aggregated Groth16 equation Z_AB = e(α,β)^{Σr^i} · e(Σ r^i·S_i, γ) · e(Z_C, δ), where
/// S_i = IC_0 + Σ_j x_ij·IC_j. All pairing equations are batched into one product of Miller
/// loops and one final exponentiation with a random linear combination whose coefficients
/// (powers of ρ) are drawn from the transcript after the whole proof: a proof for which any one
/// equation fails passes with probability at most 11/r. The MIPP value Z_C is checked directly
/// in G1.
pub fn verify(
    vk_srs: &VerifierKey,
    groth_vk: &groth16::VerifyingKey<bls12_381::Bls12>,
    public_inputs: &[Vec<bls12_381::Scalar>],
    transcript_context: &[u8],
    proof: &AggregateProof,
) -> Result<(), AggregateError> {
    let n = proof.n;
    if n < 2 || !n.is_power_of_two() || proof.rounds.len() != n.trailing_zeros() as usize {
        return Err(AggregateError::ProofCount(n));
    }
    if n > vk_srs.max_proofs {
        return Err(AggregateError::KeySize {
            supported: vk_srs.max_proofs,
            asked: n,
        });
    }
    check_inputs(groth_vk, public_inputs, n)?;
    let gk = GrothKey::convert(groth_vk)?;
    let ch = replay(vk_srs, transcript_context, proof)?;

    // MIPP: Z_C folds to r_final · C_final.
    let r_final = kzg::fold_eval(&ch.x_invs, &ch.r);
    if fold_g1_claims(proof, &ch) != G1Projective::from(proof.fin.c) * r_final {
        return Err(AggregateError::Invalid("MIPP final value"));
    }

    let expected = batched_target(proof, &ch);
    let lhs = batched_pairings(vk_srs, &gk, public_inputs, proof, &ch);
    if curve::miller_loops_of(&lhs).final_exponentiation() != expected {
        return Err(AggregateError::Invalid("pairing check"));
    }
    Ok(())
}

fn check_inputs(
    groth_vk: &groth16::VerifyingKey<bls12_381::Bls12>,
    public_inputs: &[Vec<bls12_381::Scalar>],
    n: usize,
) -> Result<(), AggregateError> {
    if public_inputs.len() != n {
        return Err(AggregateError::PublicInputs(format!(
            "{} statements for {n} proofs",
            public_inputs.len()
        )));
    }
    let expected = groth_vk.ic.len().saturating_sub(1);
    if groth_vk.ic.is_empty() {
        return Err(AggregateError::PublicInputs(
            "verifying key without IC".into(),
        ));
    }
    if let Some((i, x)) = public_inputs
        .iter()
        .enumerate()
        .find(|(_, x)| x.len() != expected)
    {
        return Err(AggregateError::PublicInputs(format!(
            "statement {i} has {} inputs, the key expects {expected}",
            x.len()
        )));
    }
    Ok(())
}

/// Z_C + Σ_j (x_j·Z_C,L,j + x_j⁻¹·Z_C,R,j).
fn fold_g1_claims(p: &AggregateProof, ch: &Challenges) -> G1Projective {
    let mut points = vec![p.z_c];
    let mut scalars = vec![Scalar::ONE];
    for ((round, x), x_inv) in p.rounds.iter().zip(&ch.xs).zip(&ch.x_invs) {
        points.extend([round.z_c_l, round.z_c_r]);
        scalars.extend([*x, *x_inv]);
    }
    curve::msm_g1(&points, &scalars)
}

/// The G_T side of the batched check: T_f^{ρ⁰} U_f^{ρ¹} Z_f^{ρ²} TC_f^{ρ³} UC_f^{ρ⁴} Z_AB^{ρ⁹},
/// where each *_f is the commitment folded with the round challenges.
fn batched_target(p: &AggregateProof, ch: &Challenges) -> Gt {
    let rho = curve::powers(&ch.rho, 10);
    let mut bases = vec![p.com_ab[0], p.com_ab[1], p.z_ab, p.com_c[0], p.com_c[1]];
    let mut scalars = vec![rho[0], rho[1], rho[2] + rho[9], rho[3], rho[4]];
    for ((round, x), x_inv) in p.rounds.iter().zip(&ch.xs).zip(&ch.x_invs) {
        let pairs = [
            (round.ab_l[0], round.ab_r[0], rho[0]),
            (round.ab_l[1], round.ab_r[1], rho[1]),
            (round.z_ab_l, round.z_ab_r, rho[2]),
            (round.c_l[0], round.c_r[0], rho[3]),
            (round.c_l[1], round.c_r[1], rho[4]),
        ];
        for (left, right, weight) in pairs {
            bases.extend([left, right]);
            scalars.extend([weight * x, weight * x_inv]);
        }
    }
    curve::gt_msm(&bases, &scalars)
}

/// The pairing side of the batched check, weighted by powers of ρ:
/// TIPP (T: ρ⁰, U: ρ¹, Z: ρ²), MIPP (ρ³, ρ⁴), KZG of v1, v2, w1, w2 (ρ⁵…ρ⁸), Groth16 (ρ⁹).
fn batched_pairings(
    vk: &VerifierKey,
    gk: &GrothKey,
    inputs: &[Vec<bls12_381::Scalar>],
    p: &AggregateProof,
    ch: &Challenges,
) -> Vec<(G1Affine, G2Affine)> {
    let rho = curve::powers(&ch.rho, 10);
    let (f, o) = (&p.fin, &p.openings);
    let (g, z) = (vk.g, ch.z);
    let n = p.n as u64;
    // f_v(z) and f_w(z) for the folded keys v and w' (see `kzg`).
    let y_v = kzg::fold_eval(&ch.x_invs, &z);
    let r_inv = ch.r.invert().unwrap_or(Scalar::ZERO);
    let y_w = z.pow_vartime([n]) * kzg::fold_eval(&ch.xs, &(z * r_inv));
    let lin = |terms: &[(G1Affine, Scalar)]| {
        let (points, scalars): (Vec<G1Affine>, Vec<Scalar>) = terms.iter().copied().unzip();
        curve::msm_g1(&points, &scalars).to_affine()
    };
    let r_pows_sum = curve::powers(&ch.r, p.n).iter().sum::<Scalar>();
    let s = aggregated_input(gk, inputs, &ch.r, r_pows_sum);
    vec![
        // e(A_f, V1_f)^{ρ0}, e(C_f, V1_f)^{ρ3}, and e(g, V1_f)^{ρ5} from the v1 opening.
        (lin(&[(f.a, rho[0]), (f.c, rho[3]), (g, rho[5])]), f.v1),
        (lin(&[(f.a, rho[1]), (f.c, rho[4]), (g, rho[6])]), f.v2),
        // e(W1_f, B_f)^{ρ0} e(W2_f, B_f)^{ρ1} e(A_f, B_f)^{ρ2}.
        (lin(&[(f.w1, rho[0]), (f.w2, rho[1]), (f.a, rho[2])]), f.b),
        // Every term against h: −y_v·g (v openings), W_f − y_w·g + z·π_w (w openings).
        (
            lin(&[
                (g, -(rho[5] + rho[6]) * y_v - (rho[7] + rho[8]) * y_w),
                (f.w1, rho[7]),
                (f.w2, rho[8]),
                (o.w1, rho[7] * z),
                (o.w2, rho[8] * z),
            ]),
            vk.h,
        ),
        // e(−(g^a − z·g), π_v1)^{ρ5}, likewise for b.
        (lin(&[(vk.g_a, -rho[5]), (g, rho[5] * z)]), o.v1),
        (lin(&[(vk.g_b, -rho[6]), (g, rho[6] * z)]), o.v2),
        // e(−π_w1, h^a)^{ρ7}, e(−π_w2, h^b)^{ρ8}.
        (lin(&[(o.w1, -rho[7])]), vk.h_a),
        (lin(&[(o.w2, -rho[8])]), vk.h_b),
        // Groth16: e(α, β)^{Σr^i} e(S, γ) e(Z_C, δ), all weighted by ρ9.
        (lin(&[(gk.alpha, rho[9] * r_pows_sum)]), gk.beta),
        (lin(&[(s, rho[9])]), gk.gamma),
        (lin(&[(p.z_c, rho[9])]), gk.delta),
    ]
}

/// Σ_i r^i·S_i = (Σ r^i)·IC_0 + Σ_j (Σ_i r^i·x_ij)·IC_j.
fn aggregated_input(
    gk: &GrothKey,
    inputs: &[Vec<bls12_381::Scalar>],
    r: &Scalar,
    r_sum: Scalar,
) -> G1Affine {
    let r_zk = curve::scalar_to_zk(r);
    let m = gk.ic.len() - 1;
    let mut weights = vec![bls12_381::Scalar::zero(); m];
    let mut r_i = bls12_381::Scalar::one();
    for statement in inputs {
        for (w, x) in weights.iter_mut().zip(statement) {
            *w += r_i * x;
        }
        r_i *= r_zk;
    }
    let mut scalars = vec![r_sum];
    scalars.extend(weights.iter().map(curve::scalar_from_zk));
    curve::msm_g1(&gk.ic, &scalars).to_affine()
}

/// The reference verifier: checks every proof's own Groth16 equation (n pairing products).
/// `Ok(())` exactly when every proof verifies for its inputs; otherwise names the first that
/// does not.
pub fn verify_each(
    groth_vk: &groth16::VerifyingKey<bls12_381::Bls12>,
    public_inputs: &[Vec<bls12_381::Scalar>],
    proofs: &[groth16::Proof<bls12_381::Bls12>],
) -> Result<(), AggregateError> {
    check_inputs(groth_vk, public_inputs, proofs.len())?;
    let pvk = groth16::prepare_verifying_key(groth_vk);
    for (i, (proof, inputs)) in proofs.iter().zip(public_inputs).enumerate() {
        groth16::verify_proof(&pvk, proof, inputs).map_err(|_| AggregateError::InnerProof(i))?;
    }
    Ok(())
}
