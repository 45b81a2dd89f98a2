//! Aggregates of tiny-circuit proofs: they verify, and every tampering is rejected.

mod common;

use bls12_381::{Bls12, Scalar};
use common::{other_params, params, proofs, srs, vk};
use groth16::Proof;
use strata_aggregate::{
    aggregate, pad_to_power_of_two, proof_size, statement_context, verify, verify_each,
    AggregateError, AggregateProof, Srs,
};

/// n proofs of statements first.., their inputs, the context binding them, and their aggregate.
struct Case {
    proofs: Vec<Proof<Bls12>>,
    inputs: Vec<Vec<Scalar>>,
    ctx: [u8; 32],
    agg: AggregateProof,
}

fn case(first: u64, n: usize) -> Case {
    let (proofs, inputs) = proofs(first, n);
    let ctx = statement_context(&params().vk, &inputs, b"test");
    let (pk, _) = srs().specialize(n).expect("specialize");
    let agg = aggregate(&pk, &ctx, &proofs).expect("aggregate");
    Case {
        proofs,
        inputs,
        ctx,
        agg,
    }
}

/// Aggregates `proofs` for the context of `inputs` (what a dishonest aggregator would send).
fn aggregate_for(proofs: &[Proof<Bls12>], inputs: &[Vec<Scalar>]) -> AggregateProof {
    let ctx = statement_context(&params().vk, inputs, b"test");
    let (pk, _) = srs().specialize(proofs.len()).expect("specialize");
    aggregate(&pk, &ctx, proofs).expect("aggregate")
}

fn check(inputs: &[Vec<Scalar>], agg: &AggregateProof) -> Result<(), AggregateError> {
    let ctx = statement_context(&params().vk, inputs, b"test");
    verify(&vk(), &params().vk, inputs, &ctx, agg)
}

#[test]
fn aggregates_of_2_8_64_256_verify_and_round_trip() {
    for n in [2usize, 8, 64, 256] {
        let c = case(0, n);
        verify_each(&params().vk, &c.inputs, &c.proofs).expect("inner proofs verify");
        verify(&vk(), &params().vk, &c.inputs, &c.ctx, &c.agg).expect("aggregate verifies");
        let bytes = c.agg.to_bytes();
        assert_eq!(bytes.len(), proof_size(n.trailing_zeros() as usize));
        let parsed = AggregateProof::from_bytes(&bytes).expect("parses");
        assert_eq!(parsed, c.agg);
        assert_eq!(parsed.n(), n);
        verify(&vk(), &params().vk, &c.inputs, &c.ctx, &parsed).expect("parsed verifies");
    }
}

#[test]
fn swapped_proofs_are_rejected() {
    let c = case(0, 8);
    let mut swapped = c.proofs.clone();
    swapped.swap(2, 5);
    assert!(verify_each(&params().vk, &c.inputs, &swapped).is_err());
    let agg = aggregate_for(&swapped, &c.inputs);
    assert_eq!(
        check(&c.inputs, &agg),
        Err(AggregateError::Invalid("pairing check"))
    );
}

#[test]
fn a_dropped_proof_is_rejected() {
    let c = case(0, 8);
    let (mut proofs, mut inputs) = (c.proofs[..7].to_vec(), c.inputs[..7].to_vec());
    assert_eq!(pad_to_power_of_two(&mut proofs, &mut inputs), Ok(8));
    // Honest about what it holds: the padded aggregate verifies for the padded statements…
    let agg = aggregate_for(&proofs, &inputs);
    check(&inputs, &agg).expect("padded aggregate verifies for its own statements");
    // …but not for the eight original ones.
    assert!(check(&c.inputs, &agg).is_err());
    assert!(verify_each(&params().vk, &c.inputs, &proofs).is_err());
}

#[test]
fn a_proof_of_another_statement_is_rejected() {
    let c = case(0, 8);
    let (other, _) = proofs(100, 1);
    let mut mixed = c.proofs.clone();
    mixed[3] = other[0].clone();
    assert_eq!(
        verify_each(&params().vk, &c.inputs, &mixed),
        Err(AggregateError::InnerProof(3))
    );
    let agg = aggregate_for(&mixed, &c.inputs);
    assert!(check(&c.inputs, &agg).is_err());
}

#[test]
fn a_changed_public_input_is_rejected() {
    let c = case(0, 8);
    let mut changed = c.inputs.clone();
    changed[6][1] += Scalar::one();
    // With the original context…
    assert!(verify(&vk(), &params().vk, &changed, &c.ctx, &c.agg).is_err());
    // …and with a context recomputed from the changed inputs.
    assert!(check(&changed, &c.agg).is_err());
    assert!(verify_each(&params().vk, &changed, &c.proofs).is_err());
}

#[test]
fn moving_value_between_inputs_is_rejected() {
    // The attack the context prevents: with r known, shift δ from statement 1 to statement 2
    // so that Σ rⁱ·xᵢ is unchanged. The context (computed from the new inputs) changes r.
    let c = case(0, 8);
    let mut shifted = c.inputs.clone();
    shifted[1][0] += Scalar::from(7u64);
    shifted[2][0] -= Scalar::from(7u64);
    assert!(check(&shifted, &c.agg).is_err());
}

#[test]
fn a_changed_context_is_rejected() {
    let c = case(0, 8);
    let mut ctx = c.ctx;
    ctx[0] ^= 1;
    assert!(verify(&vk(), &params().vk, &c.inputs, &ctx, &c.agg).is_err());
    assert!(verify(&vk(), &params().vk, &c.inputs, b"", &c.agg).is_err());
}

#[test]
fn the_wrong_keys_are_rejected() {
    let c = case(0, 8);
    assert!(verify(&vk(), &other_params().vk, &c.inputs, &c.ctx, &c.agg).is_err());
    let other_srs = Srs::generate_devnet(8, &mut common::rng(99)).expect("srs");
    assert!(verify(
        &other_srs.verifier_key(),
        &params().vk,
        &c.inputs,
        &c.ctx,
        &c.agg
    )
    .is_err());
}

#[test]
fn other_statements_are_rejected() {
    let c = case(0, 8);
    let (_, other_inputs) = proofs(50, 8);
    assert!(verify(&vk(), &params().vk, &other_inputs, &c.ctx, &c.agg).is_err());
    assert!(check(&other_inputs, &c.agg).is_err());
}

#[test]
fn every_sampled_bit_flip_is_rejected() {
    let c = case(0, 8);
    let bytes = c.agg.to_bytes();
    // Every bit of the header, then bits spread over the whole proof (a stride coprime to 8
    // walks through every bit position within a byte).
    let positions = (0..40).chain((40..bytes.len() * 8).step_by(61));
    let mut tried = 0;
    for bit in positions {
        let mut altered = bytes.clone();
        altered[bit / 8] ^= 1 << (bit % 8);
        if let Ok(parsed) = AggregateProof::from_bytes(&altered) {
            assert!(
                verify(&vk(), &params().vk, &c.inputs, &c.ctx, &parsed).is_err(),
                "flipping bit {bit} gave a proof that verifies"
            );
        }
        tried += 1;
    }
    assert!(tried > 300, "{tried} positions");
}

#[test]
fn truncated_and_extended_proofs_do_not_parse() {
    let c = case(0, 2);
    let bytes = c.agg.to_bytes();
    for len in [0, 1, 4, 5, bytes.len() - 1] {
        assert!(matches!(
            AggregateProof::from_bytes(&bytes[..len]),
            Err(AggregateError::Malformed { .. })
        ));
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(AggregateProof::from_bytes(&longer).is_err());
    let mut bad_n = bytes.clone();
    bad_n[1] = 3;
    assert!(AggregateProof::from_bytes(&bad_n).is_err());
}

#[test]
fn sizes_and_counts_are_checked() {
    let (proofs, inputs) = proofs(0, 8);
    let (pk8, _) = srs().specialize(8).expect("specialize");
    assert_eq!(
        aggregate(&pk8, b"", &proofs[..4]).unwrap_err(),
        AggregateError::KeySize {
            supported: 8,
            asked: 4
        }
    );
    assert_eq!(
        aggregate(&pk8, b"", &proofs[..3]).unwrap_err(),
        AggregateError::ProofCount(3)
    );
    assert_eq!(
        aggregate(&pk8, b"", &proofs[..1]).unwrap_err(),
        AggregateError::ProofCount(1)
    );
    assert!(srs().specialize(512).is_err());
    assert!(srs().specialize(6).is_err());
    let agg = aggregate(&pk8, b"", &proofs).expect("aggregate");
    assert!(matches!(
        verify(&vk(), &params().vk, &inputs[..4], b"", &agg),
        Err(AggregateError::PublicInputs(_))
    ));
    let mut short = inputs.clone();
    short[0].pop();
    assert!(matches!(
        verify(&vk(), &params().vk, &short, b"", &agg),
        Err(AggregateError::PublicInputs(_))
    ));
    verify(&vk(), &params().vk, &inputs, b"", &agg).expect("an empty context is allowed");
}

#[test]
fn padding_repeats_the_last_proof() {
    let (mut proofs, mut inputs) = proofs(0, 5);
    assert_eq!(pad_to_power_of_two(&mut proofs, &mut inputs), Ok(8));
    assert_eq!(inputs[7], inputs[4]);
    let agg = aggregate_for(&proofs, &inputs);
    check(&inputs, &agg).expect("padded aggregate verifies");

    let (mut one, mut one_inputs) = common::proofs(0, 1);
    assert_eq!(pad_to_power_of_two(&mut one, &mut one_inputs), Ok(2));
    assert_eq!(
        pad_to_power_of_two(&mut Vec::new(), &mut Vec::new()),
        Err(AggregateError::ProofCount(0))
    );
    let (mut p, _) = common::proofs(0, 2);
    assert!(pad_to_power_of_two(&mut p, &mut vec![vec![]]).is_err());
}
