//! Aggregation of real 2 KiB seal (PoRep) proofs.
//!
//! Two 2 KiB sectors are sealed and their seal proofs made with `prove_seal` (about 30 s each on
//! two cores, with the cached 2 KiB PoRep parameters in `~/.cache/strata/params`, generated on
//! first use). n = 2 aggregates those two proofs. **The aggregates of 8 and 64 are built from the
//! same two sectors**: each slot holds a Groth16 re-randomisation of one of the two real proofs
//! (A' = t⁻¹·A, B' = t·B + s·t·δ, C' = C + s·A, for fresh s, t), which is a distinct valid proof
//! of the same statement (e(A', B') = e(A, B)·e(A, δ)^s and e(C', δ) = e(C, δ)·e(A, δ)^s); slots
//! alternate between the two sectors. So they exercise aggregation of real proofs at those
//! sizes, over two distinct statements only.

use bls12_381::{Bls12, G1Affine, G1Projective, G2Affine, G2Projective, Scalar};
use groth16::{Proof, VerifyingKey};
use std::path::{Path, PathBuf};
use strata_aggregate::{
    aggregate, pad_to_power_of_two, statement_context, verify, verify_each, AggregateProof, Srs,
};
use strata_params::groth16_files::{ParamsStore, ProofKind};
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_prover::proof_file::prove_seal;
use strata_prover::snark;
use strata_sealer::{seal, NoProgress, PieceSource, SealConfig};

fn pt() -> ProofType {
    ProofType::for_size(SectorSize::KIB2).unwrap()
}

/// Seals a 2 KiB sector `number` of miner 1000 holding 2,000 bytes derived from `fill`.
fn seal_2kib(root: &Path, number: u64, fill: u8) -> PathBuf {
    let cfg = SealConfig {
        proof_type: pt(),
        prover_id: 1000,
        sector_number: number,
        ticket: [number as u8; 32],
        parent_cache_dir: root.join("parents"),
    };
    let data: Vec<u8> = (0..2000u32)
        .map(|i| (i as u8).wrapping_mul(fill) ^ fill)
        .collect();
    let out = root.join(format!("sector-{number}"));
    seal(
        &cfg,
        vec![PieceSource {
            reader: Box::new(&data[..]),
            len: data.len() as u64,
        }],
        &out,
        &NoProgress,
    )
    .unwrap();
    out
}

/// A pseudo-random scalar from a label and an index.
fn scalar(label: &str, i: usize) -> Scalar {
    let mut wide = [0u8; 64];
    blake3::Hasher::new_derive_key(label)
        .update(&(i as u64).to_le_bytes())
        .finalize_xof()
        .fill(&mut wide);
    Scalar::from_bytes_wide(&wide)
}

/// The Groth16 re-randomisation of `p` by (s, t).
fn rerandomize(p: &Proof<Bls12>, vk: &VerifyingKey<Bls12>, s: Scalar, t: Scalar) -> Proof<Bls12> {
    let t_inv = t.invert().unwrap();
    Proof {
        a: G1Affine::from(G1Projective::from(p.a) * t_inv),
        b: G2Affine::from(G2Projective::from(p.b) * t + G2Projective::from(vk.delta_g2) * (s * t)),
        c: G1Affine::from(G1Projective::from(p.c) + G1Projective::from(p.a) * s),
    }
}

/// n proofs alternating between the two sectors' (re-randomised) proofs, with their inputs.
fn slots(
    base: &[(Proof<Bls12>, Vec<Scalar>)],
    vk: &VerifyingKey<Bls12>,
    n: usize,
) -> (Vec<Proof<Bls12>>, Vec<Vec<Scalar>>) {
    (0..n)
        .map(|i| {
            let (proof, inputs) = &base[i % 2];
            let p = rerandomize(proof, vk, scalar("s", i), scalar("t", i));
            (p, inputs.clone())
        })
        .unzip()
}

#[test]
fn real_seal_proofs_aggregate_and_tampering_is_rejected() {
    let store = ParamsStore::new(ParamsStore::default_dir());
    snark::load_or_generate_kind(&store, ProofKind::Porep, &pt()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut base = Vec::new();
    let mut vk = None;
    for (number, fill) in [(1u64, 3u8), (2, 7)] {
        let dir = seal_2kib(tmp.path(), number, fill);
        let file = prove_seal(&dir, &[number as u8 + 40; 32], &store).unwrap();
        let inputs = file.partition_inputs().unwrap();
        let proofs = file.proof_bytes().unwrap();
        assert_eq!(
            (inputs.len(), proofs.len()),
            (1, 1),
            "one partition at 2 KiB"
        );
        let proof = snark::parse_proof(&proofs[0]).unwrap();
        base.push((proof, inputs[0].clone()));
        vk = Some(file.verifying_key(&store).unwrap());
    }
    let vk = vk.unwrap();
    assert_ne!(base[0].1, base[1].1, "two distinct statements");

    let srs = Srs::generate_devnet(
        64,
        &mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(5),
    )
    .unwrap();
    let srs_vk = srs.verifier_key();
    let agg_for = |proofs: &[Proof<Bls12>], inputs: &[Vec<Scalar>]| {
        let (pk, _) = srs.specialize(proofs.len()).unwrap();
        aggregate(&pk, &statement_context(&vk, inputs, b"real"), proofs).unwrap()
    };
    let check = |inputs: &[Vec<Scalar>], agg: &AggregateProof| {
        verify(
            &srs_vk,
            &vk,
            inputs,
            &statement_context(&vk, inputs, b"real"),
            agg,
        )
    };

    // n = 2: the two real proofs.
    let (proofs2, inputs2): (Vec<_>, Vec<_>) = base.iter().cloned().unzip();
    verify_each(&vk, &inputs2, &proofs2).unwrap();
    let agg2 = agg_for(&proofs2, &inputs2);
    check(&inputs2, &agg2).unwrap();
    // Swapped order.
    let swapped = vec![proofs2[1].clone(), proofs2[0].clone()];
    assert!(check(&inputs2, &agg_for(&swapped, &inputs2)).is_err());
    // One dropped (the other padded in its place).
    let (mut dropped, mut dropped_inputs) = (vec![proofs2[0].clone()], vec![inputs2[0].clone()]);
    pad_to_power_of_two(&mut dropped, &mut dropped_inputs).unwrap();
    check(&dropped_inputs, &agg_for(&dropped, &dropped_inputs)).unwrap();
    assert!(check(&inputs2, &agg_for(&dropped, &inputs2)).is_err());

    // n = 8 and 64: re-randomised real proofs.
    for n in [8usize, 64] {
        let (proofs, inputs) = slots(&base, &vk, n);
        assert_ne!(proofs[0], proofs[2], "re-randomised proofs are distinct");
        verify_each(&vk, &inputs, &proofs).unwrap();
        let agg = agg_for(&proofs, &inputs);
        check(&inputs, &agg).unwrap();
        let parsed = AggregateProof::from_bytes(&agg.to_bytes()).unwrap();
        check(&inputs, &parsed).unwrap();
    }

    let (proofs, inputs) = slots(&base, &vk, 8);
    // Swapped: slots 2 and 3 hold proofs of different sectors.
    let mut swapped = proofs.clone();
    swapped.swap(2, 3);
    assert!(verify_each(&vk, &inputs, &swapped).is_err());
    assert!(check(&inputs, &agg_for(&swapped, &inputs)).is_err());
    // Dropped: seven proofs padded to eight, checked against the eight statements.
    let (mut seven, mut seven_inputs) = (proofs[..7].to_vec(), inputs[..7].to_vec());
    pad_to_power_of_two(&mut seven, &mut seven_inputs).unwrap();
    assert!(check(&inputs, &agg_for(&seven, &inputs)).is_err());
    // A valid proof of the other sector in slot 4 (a sector-1 slot).
    let mut other = proofs.clone();
    other[4] = rerandomize(&base[1].0, &vk, scalar("s", 100), scalar("t", 100));
    assert!(verify_each(&vk, &inputs, &other).is_err());
    assert!(check(&inputs, &agg_for(&other, &inputs)).is_err());
    // A changed public input (with the original context, and with a recomputed one).
    let agg = agg_for(&proofs, &inputs);
    let mut changed = inputs.clone();
    changed[5][0] += Scalar::one();
    assert!(verify(
        &srs_vk,
        &vk,
        &changed,
        &statement_context(&vk, &inputs, b"real"),
        &agg
    )
    .is_err());
    assert!(check(&changed, &agg).is_err());
}
