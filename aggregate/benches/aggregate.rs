//! Aggregation and verification cost against n, with the tiny test circuit (two public inputs).
//!
//! Aggregation and aggregate verification do not depend on the circuit's size, only on n and
//! the number of public inputs, so the tiny circuit measures what a real one would cost.
//!
//! `cargo bench -p strata-aggregate --bench aggregate [-- N…]` (default 8 64 256 1024; add 8192
//! for the paper's size). For each n it prints: aggregation time, proof size, parse + verify
//! time of the aggregate, and three baselines over the same n proofs: `verify_each` (one
//! Groth16 check per proof), the `groth16` crate's batch verifier (`verify_multicore`, pure-Rust
//! `bls12_381`), and a batch verifier on the same `blst` backend as the aggregate verifier
//! (random 128-bit weights, one Miller loop per proof, Pippenger for C and the inputs).

#[path = "../tests/common/mod.rs"]
mod common;

use bls12_381::{Bls12, Scalar};
use ff013::PrimeField as _;
use groth16::Proof;
use group013::Curve;
use pairing023::{MillerLoopResult as _, MultiMillerLoop};
use rand_core::Rng;
use rayon::prelude::*;
use std::time::{Duration, Instant};
use strata_aggregate::{
    aggregate, statement_context, verify, verify_each, AggregateProof, Srs, VerifierKey,
};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<T>(reps: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut out = None;
    let samples = (0..reps)
        .map(|_| {
            let start = Instant::now();
            out = Some(f());
            start.elapsed()
        })
        .collect();
    (median(samples), out.expect("at least one rep"))
}

/// n proofs: 64 distinct statements, each proof re-randomised so all n are distinct.
fn make_proofs(n: usize) -> (Vec<Proof<Bls12>>, Vec<Vec<Scalar>>) {
    let (base, base_inputs) = common::proofs(0, n.min(64));
    let vk = &common::params().vk;
    (0..n)
        .into_par_iter()
        .map(|i| {
            let p = &base[i % base.len()];
            let (s, t) = (Scalar::from(i as u64 + 3), Scalar::from(i as u64 + 5));
            let t_inv = t.invert().unwrap();
            let proof = Proof {
                a: (p.a * t_inv).into(),
                b: (p.b * t + vk.delta_g2 * (s * t)).into(),
                c: (p.c + p.a * s).into(),
            };
            (proof, base_inputs[i % base.len()].clone())
        })
        .unzip()
}

/// Batch verification on blst: Σ z_i·(e(A_i, B_i) − e(α,β) − e(S_i, γ) − e(C_i, δ)) = 0.
fn blst_batch_verify(
    vk: &groth16::VerifyingKey<Bls12>,
    inputs: &[Vec<Scalar>],
    proofs: &[Proof<Bls12>],
) -> bool {
    use blstrs::{G1Affine, G1Projective, G2Affine, G2Prepared, Scalar as S};
    let g1 = |p: &bls12_381::G1Affine| {
        G1Affine::from_uncompressed_unchecked(&p.to_uncompressed()).unwrap()
    };
    let g2 = |p: &bls12_381::G2Affine| {
        G2Affine::from_uncompressed_unchecked(&p.to_uncompressed()).unwrap()
    };
    let s = |x: &Scalar| S::from_bytes_le(&x.to_bytes()).unwrap();
    let mut rng = rand_core::UnwrapErr(rand::rngs::SysRng);
    let z: Vec<S> = proofs
        .iter()
        .map(|_| S::from_u128(rng.next_u64() as u128 | ((rng.next_u64() as u128) << 64)))
        .collect();
    let ml = proofs
        .par_iter()
        .zip(&z)
        .map(|(p, z)| {
            let a = (G1Projective::from(g1(&p.a)) * z).to_affine();
            blstrs::Bls12::multi_miller_loop(&[(&a, &G2Prepared::from(g2(&p.b)))])
        })
        .reduce(blstrs::MillerLoopResult::default, |a, b| a + b);
    let c: Vec<G1Projective> = proofs
        .iter()
        .map(|p| G1Projective::from(g1(&p.c)))
        .collect();
    let sum_c = G1Projective::multi_exp(&c, &z);
    let mut weights = vec![S::from(0u64); vk.ic.len()];
    for (zi, x) in z.iter().zip(inputs) {
        weights[0] += zi;
        for (w, xj) in weights[1..].iter_mut().zip(x) {
            *w += *zi * s(xj);
        }
    }
    let ic: Vec<G1Projective> = vk.ic.iter().map(|p| G1Projective::from(g1(p))).collect();
    let sum_s = G1Projective::multi_exp(&ic, &weights);
    let alpha = G1Projective::from(g1(&vk.alpha_g1)) * weights[0];
    let terms = [
        ((-alpha).to_affine(), G2Prepared::from(g2(&vk.beta_g2))),
        ((-sum_s).to_affine(), G2Prepared::from(g2(&vk.gamma_g2))),
        ((-sum_c).to_affine(), G2Prepared::from(g2(&vk.delta_g2))),
    ];
    let refs: Vec<(&G1Affine, &G2Prepared)> = terms.iter().map(|(a, b)| (a, b)).collect();
    let total = ml + blstrs::Bls12::multi_miller_loop(&refs);
    bool::from(group013::Group::is_identity(&total.final_exponentiation()))
}

fn main() {
    let mut sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if sizes.is_empty() {
        sizes = vec![8, 64, 256, 1024];
    }
    let max = sizes.iter().copied().max().unwrap_or(8).next_power_of_two();
    eprintln!("rayon threads: {}", rayon::current_num_threads());
    let (srs_time, srs) = time(1, || {
        Srs::generate_devnet(max, &mut common::rng(1)).unwrap()
    });
    eprintln!(
        "devnet SRS for {max} proofs: {:.2} s",
        srs_time.as_secs_f64()
    );
    let vk = &common::params().vk;
    println!("| n | aggregate | proof bytes | parse + verify | verify_each | groth16 batch (zkcrypto) | batch (blst) | verify / blst batch |");
    println!("|---|---|---|---|---|---|---|---|");
    for n in sizes {
        let (proofs, inputs) = make_proofs(n);
        let ctx = statement_context(vk, &inputs, b"bench");
        let (pk, srs_vk): (_, VerifierKey) = srs.specialize(n).unwrap();
        let agg_reps = if n >= 4096 {
            1
        } else if n >= 1024 {
            3
        } else {
            5
        };
        let (agg_time, agg) = time(agg_reps, || aggregate(&pk, &ctx, &proofs).unwrap());
        let bytes = agg.to_bytes();
        let (verify_time, ()) = time(11, || {
            let parsed = AggregateProof::from_bytes(&bytes).unwrap();
            verify(&srs_vk, vk, &inputs, &ctx, &parsed).unwrap()
        });
        let (each_time, ()) = time(1, || verify_each(vk, &inputs, &proofs).unwrap());
        let (zk_batch_time, ()) = time(3, || {
            let mut v = groth16::batch::Verifier::<Bls12>::new();
            for (p, x) in proofs.iter().zip(&inputs) {
                v.queue((p.clone(), x.clone()));
            }
            v.verify_multicore(vk).unwrap()
        });
        let (blst_batch_time, ok) = time(3, || blst_batch_verify(vk, &inputs, &proofs));
        assert!(ok, "blst batch verification");
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "| {n} | {:.3} s | {} ({:.1}× smaller) | {:.1} ms | {:.0} ms | {:.0} ms | {:.0} ms | {:.2} |",
            agg_time.as_secs_f64(),
            bytes.len(),
            (n * 192) as f64 / bytes.len() as f64,
            ms(verify_time),
            ms(each_time),
            ms(zk_batch_time),
            ms(blst_batch_time),
            ms(verify_time) / ms(blst_batch_time),
        );
    }
}
