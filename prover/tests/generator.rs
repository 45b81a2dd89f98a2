//! Parameters from `strata_params::generator` (the fast generator) prove and verify a real 2 KiB
//! WindowPoSt partition with `groth16`, and reject wrong public inputs and foreign keys.

use std::path::PathBuf;
use strata_params::generator::generate_parameters;
use strata_params::groth16_files::ProofKind;
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_prover::circuit::post::{public_inputs, PostCircuit};
use strata_prover::snark::{self, SnarkRejection};
use strata_prover::vanilla::post::prove_window_post;

mod common;

const RAND: [u8; 32] = [0x5a; 32];

fn rng() -> rand_core::UnwrapErr<rand::rngs::SysRng> {
    rand_core::UnwrapErr(rand::rngs::SysRng)
}

#[test]
fn window_post_2kib_proves_and_verifies_with_fast_parameters() {
    let pt = ProofType::for_size(SectorSize::KIB2).unwrap();
    let blank = snark::blank_post(ProofKind::Window, &pt);
    let params = generate_parameters(blank.clone(), &mut rng()).unwrap();
    // Same shape as `groth16` would give: one IC point per public input plus the constant.
    let shape = strata_prover::circuit::shape::circuit_shape(blank).unwrap();
    assert_eq!(params.vk.ic.len(), shape.inputs + 1);
    assert_eq!(params.l.len(), shape.aux);

    let tmp = tempfile::tempdir().unwrap();
    let dirs: Vec<PathBuf> = (1..=pt.window_post_sectors_per_partition as u64)
        .map(|n| common::seal_2kib(tmp.path(), n, 7 + n as u8).0)
        .collect();
    let out = prove_window_post(&pt, &dirs, &RAND);
    assert!(out.faulty.is_empty());
    let (public, proofs) = &out.partitions[0];
    let proof = snark::prove(&params, PostCircuit::from_vanilla(&pt, public, proofs)).unwrap();
    let inputs = public_inputs(&pt, &RAND, public, pt.window_post_challenges).unwrap();
    snark::verify(&params.vk, &inputs, &proof).unwrap();

    let mut wrong = RAND;
    wrong[0] ^= 1;
    let wrong_inputs = public_inputs(&pt, &wrong, public, pt.window_post_challenges).unwrap();
    assert_eq!(
        snark::verify(&params.vk, &wrong_inputs, &proof),
        Err(SnarkRejection::Invalid)
    );
    let mut bumped = inputs.clone();
    bumped[0] += bls12_381::Scalar::from(1u64);
    assert_eq!(
        snark::verify(&params.vk, &bumped, &proof),
        Err(SnarkRejection::Invalid)
    );

    // A key from another setup of the same circuit does not accept the proof.
    let other = generate_parameters(snark::blank_post(ProofKind::Window, &pt), &mut rng()).unwrap();
    assert_eq!(
        snark::verify(&other.vk, &inputs, &proof),
        Err(SnarkRejection::Invalid)
    );
}
