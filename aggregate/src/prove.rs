//! The aggregator: commitments, the random linear combination, GIPA for TIPP and MIPP, and the
//! KZG openings of the folded keys.

use crate::curve::{self, G1Affine, G2Affine, Gt, Scalar};
use crate::kzg;
use crate::proof::{self, AggregateProof, FinalValues, GipaRound, Openings};
use crate::srs::ProverKey;
use crate::transcript::Transcript;
use crate::AggregateError;
use blstrs::MillerLoopResult;
use ff013::Field;
use group013::Curve;
use pairing023::MillerLoopResult as _;
use rayon::prelude::*;

/// Aggregates `proofs` (Groth16 proofs of one circuit) into one [`AggregateProof`].
///
/// `proofs.len()` must be a power of two ≥ 2 and equal to `pk.n()`; pad a shorter list with
/// [`pad_to_power_of_two`]. `transcript_context` must bind everything the verifier will check
/// the proofs against: the Groth16 verifying key, n and **all public inputs of all proofs** (see
/// [`crate::statement_context`]); the verifier must pass the same bytes.
///
/// The aggregator checks nothing about the proofs themselves: aggregating an invalid proof
/// yields an aggregate that does not verify (run [`crate::verify_each`] first to find it).
pub fn aggregate(
    pk: &ProverKey,
    transcript_context: &[u8],
    proofs: &[groth16::Proof<bls12_381::Bls12>],
) -> Result<AggregateProof, AggregateError> {
    let n = proofs.len();
    if n < 2 || !n.is_power_of_two() {
        return Err(AggregateError::ProofCount(n));
    }
    if n != pk.n {
        return Err(AggregateError::KeySize {
            supported: pk.n,
            asked: n,
        });
    }
    let a = proofs
        .par_iter()
        .map(|p| curve::g1_from_zk_unchecked(&p.a))
        .collect::<Result<Vec<_>, _>>()?;
    let b = proofs
        .par_iter()
        .map(|p| curve::g2_from_zk_unchecked(&p.b))
        .collect::<Result<Vec<_>, _>>()?;
    let c = proofs
        .par_iter()
        .map(|p| curve::g1_from_zk_unchecked(&p.c))
        .collect::<Result<Vec<_>, _>>()?;

    let (v1, v2) = (&pk.g2_a[..], &pk.g2_b[..]);
    let (w1, w2) = (&pk.g1_a[n..], &pk.g1_b[n..]);
    let (com_ab, com_c) = commit([v1, v2], [w1, w2], &a, &b, &c);

    let mut t = Transcript::new(transcript_context);
    let r = proof::absorb_commitments(&mut t, &pk.vk, n, &com_ab, &com_c);
    let r_inv = r.invert().unwrap_or(Scalar::ZERO); // challenges are never zero
    let r_pows = curve::powers(&r, n);
    let r_inv_pows = curve::powers(&r_inv, n);

    // Z_AB = Π e(A_i, B_i)^{r^i} = Π e(A_i, r^i·B_i): GIPA runs on B' = (r^i·B_i) with the key
    // w' = (r^{-i}·w_i), under which (A, B') has the same commitment as (A, B). Scaling B rather
    // than A keeps v the key of both A and C, so TIPP and MIPP share challenges and v-openings.
    let b_r = curve::scale_g2(&b, &r_pows);
    let w1_r = curve::scale_g1(w1, &r_inv_pows);
    let w2_r = curve::scale_g1(w2, &r_inv_pows);
    let z_ab = curve::pairing_product(&[(&a, &b_r)]);
    let z_c = curve::msm_g1(&c, &r_pows).to_affine();
    proof::absorb_inner_products(&mut t, &z_ab, &z_c);

    let state = Folding {
        a,
        b: b_r,
        c,
        r: r_pows,
        v1: v1.to_vec(),
        v2: v2.to_vec(),
        w1: w1_r,
        w2: w2_r,
    };
    let (rounds, xs, fin) = gipa(&mut t, state);

    let z = proof::absorb_final(&mut t, &fin);
    let x_invs: Vec<Scalar> = xs
        .iter()
        .map(|x| x.invert().unwrap_or(Scalar::ZERO))
        .collect();
    let v_coeffs = kzg::fold_coefficients(&x_invs);
    let w_coeffs: Vec<Scalar> = kzg::fold_coefficients(&xs)
        .iter()
        .zip(&r_inv_pows)
        .map(|(c, s)| *c * s)
        .collect();
    let ((v1_open, v2_open), (w1_open, w2_open)) = rayon::join(
        || {
            rayon::join(
                || kzg::open_g2(&pk.g2_a, &v_coeffs, &z),
                || kzg::open_g2(&pk.g2_b, &v_coeffs, &z),
            )
        },
        || {
            rayon::join(
                || kzg::open_shifted_g1(&pk.g1_a, &w_coeffs, &z),
                || kzg::open_shifted_g1(&pk.g1_b, &w_coeffs, &z),
            )
        },
    );
    Ok(AggregateProof {
        n,
        com_ab,
        com_c,
        z_ab,
        z_c,
        rounds,
        fin,
        openings: Openings {
            v1: v1_open,
            v2: v2_open,
            w1: w1_open,
            w2: w2_open,
        },
    })
}

/// Pads `proofs` and their `inputs` to the next power of two (at least 2) by repeating the last
/// proof and its inputs; returns the new length.
///
/// A repeated proof proves the same statement again, so the padded list is valid exactly when
/// the original is. The verifier must be given the padded inputs, and the transcript context
/// must be computed from them.
pub fn pad_to_power_of_two(
    proofs: &mut Vec<groth16::Proof<bls12_381::Bls12>>,
    inputs: &mut Vec<Vec<bls12_381::Scalar>>,
) -> Result<usize, AggregateError> {
    if proofs.is_empty() {
        return Err(AggregateError::ProofCount(0));
    }
    if proofs.len() != inputs.len() {
        return Err(AggregateError::PublicInputs(format!(
            "{} proofs but {} input lists",
            proofs.len(),
            inputs.len()
        )));
    }
    let target = proofs.len().next_power_of_two().max(2);
    let (last_proof, last_inputs) = (
        proofs[proofs.len() - 1].clone(),
        inputs[inputs.len() - 1].clone(),
    );
    proofs.resize(target, last_proof);
    inputs.resize(target, last_inputs);
    Ok(target)
}

/// The Miller loops behind a pairing commitment: (A, C) against v1 and against v2, and each
/// vector of `with_b` against B, computed together so that every G2 point is prepared once.
struct Loops {
    a_v1: MillerLoopResult,
    c_v1: MillerLoopResult,
    a_v2: MillerLoopResult,
    c_v2: MillerLoopResult,
    with_b: Vec<MillerLoopResult>,
}

fn loops(
    a: &[G1Affine],
    c: &[G1Affine],
    v: [&[G2Affine]; 2],
    with_b: &[&[G1Affine]],
    b: &[G2Affine],
) -> Loops {
    let (v1, (v2, with_b)) = rayon::join(
        || curve::miller_loops_shared(&[a, c], v[0]),
        || {
            rayon::join(
                || curve::miller_loops_shared(&[a, c], v[1]),
                || curve::miller_loops_shared(with_b, b),
            )
        },
    );
    Loops {
        a_v1: v1[0],
        c_v1: v1[1],
        a_v2: v2[0],
        c_v2: v2[1],
        with_b,
    }
}

/// Final exponentiations, in parallel.
fn finalize<const K: usize>(loops: [MillerLoopResult; K]) -> [Gt; K] {
    let gts: Vec<Gt> = loops.par_iter().map(|m| m.final_exponentiation()).collect();
    std::array::from_fn(|i| gts[i])
}

/// The pairing commitments to (A, B) under (v, w) and to C under v:
/// ([e(A, v1)·e(w1, B), e(A, v2)·e(w2, B)], [e(C, v1), e(C, v2)]).
fn commit(
    v: [&[G2Affine]; 2],
    w: [&[G1Affine]; 2],
    a: &[G1Affine],
    b: &[G2Affine],
    c: &[G1Affine],
) -> ([Gt; 2], [Gt; 2]) {
    let l = loops(a, c, v, &w, b);
    let [t, u, tc, uc] = finalize([l.a_v1 + l.with_b[0], l.a_v2 + l.with_b[1], l.c_v1, l.c_v2]);
    ([t, u], [tc, uc])
}

/// The vectors and keys GIPA folds, all of one length.
struct Folding {
    a: Vec<G1Affine>,
    b: Vec<G2Affine>,
    c: Vec<G1Affine>,
    r: Vec<Scalar>,
    v1: Vec<G2Affine>,
    v2: Vec<G2Affine>,
    w1: Vec<G1Affine>,
    w2: Vec<G1Affine>,
}

/// Runs GIPA for TIPP (A, B' under v, w') and MIPP (C, r under v) with shared challenges:
/// returns the rounds, their challenges and the folded values.
fn gipa(t: &mut Transcript, mut s: Folding) -> (Vec<GipaRound>, Vec<Scalar>, FinalValues) {
    let mut rounds = Vec::new();
    let mut xs = Vec::new();
    while s.a.len() > 1 {
        let round = cross_terms(&s);
        let x = proof::absorb_round(t, &round);
        let x_inv = x.invert().unwrap_or(Scalar::ZERO); // challenges are never zero
        s = fold(&s, &x, &x_inv);
        rounds.push(round);
        xs.push(x);
    }
    let fin = FinalValues {
        a: s.a[0],
        b: s.b[0],
        c: s.c[0],
        v1: s.v1[0],
        v2: s.v2[0],
        w1: s.w1[0],
        w2: s.w2[0],
    };
    (rounds, xs, fin)
}

/// The cross terms of one round (left half L, right half R).
fn cross_terms(s: &Folding) -> GipaRound {
    let m = s.a.len() / 2;
    let (a_l, a_r) = s.a.split_at(m);
    let (b_l, b_r) = s.b.split_at(m);
    let (c_l, c_r) = s.c.split_at(m);
    let (r_l, r_r) = s.r.split_at(m);
    let (v1_l, v1_r) = s.v1.split_at(m);
    let (v2_l, v2_r) = s.v2.split_at(m);
    let (w1_l, w1_r) = s.w1.split_at(m);
    let (w2_l, w2_r) = s.w2.split_at(m);
    // The cross terms pair the right halves of A, C, w with the left halves of v, B (and the
    // other way round): the same layout as a commitment, plus e(A, B) for Z.
    let (l, (r, (z_c_l, z_c_r))) = rayon::join(
        || loops(a_r, c_r, [v1_l, v2_l], &[w1_r, w2_r, a_r], b_l),
        || {
            rayon::join(
                || loops(a_l, c_l, [v1_r, v2_r], &[w1_l, w2_l, a_l], b_r),
                || {
                    let msm = |c, r| curve::msm_g1(c, r).to_affine();
                    (msm(c_r, r_l), msm(c_l, r_r))
                },
            )
        },
    );
    let gts = finalize([
        l.a_v1 + l.with_b[0],
        l.a_v2 + l.with_b[1],
        r.a_v1 + r.with_b[0],
        r.a_v2 + r.with_b[1],
        l.with_b[2],
        r.with_b[2],
        l.c_v1,
        l.c_v2,
        r.c_v1,
        r.c_v2,
    ]);
    GipaRound {
        ab_l: [gts[0], gts[1]],
        ab_r: [gts[2], gts[3]],
        z_ab_l: gts[4],
        z_ab_r: gts[5],
        c_l: [gts[6], gts[7]],
        c_r: [gts[8], gts[9]],
        z_c_l,
        z_c_r,
    }
}

/// Folds every vector in half: A, C and w with x on the right half; B, v and r with x⁻¹.
fn fold(s: &Folding, x: &Scalar, x_inv: &Scalar) -> Folding {
    let m = s.a.len() / 2;
    let g1 = |v: &[G1Affine], k: &Scalar| curve::fold_g1(&v[..m], &v[m..], k);
    let g2 = |v: &[G2Affine], k: &Scalar| curve::fold_g2(&v[..m], &v[m..], k);
    let ((a, c), (w1, w2)) = rayon::join(
        || rayon::join(|| g1(&s.a, x), || g1(&s.c, x)),
        || rayon::join(|| g1(&s.w1, x), || g1(&s.w2, x)),
    );
    let (b, (v1, v2)) = rayon::join(
        || g2(&s.b, x_inv),
        || rayon::join(|| g2(&s.v1, x_inv), || g2(&s.v2, x_inv)),
    );
    let r = s.r[..m]
        .iter()
        .zip(&s.r[m..])
        .map(|(l, r)| *l + *r * x_inv)
        .collect();
    Folding {
        a,
        b,
        c,
        r,
        v1,
        v2,
        w1,
        w2,
    }
}
