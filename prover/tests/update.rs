//! The vanilla replica-update proof at 2 KiB: a committed-capacity sector updated with deal
//! data proves its update; a tampered new replica, a wrong CommD', a wrong old CommR, another
//! sector's proof, other randomness and altered openings are each rejected.

use std::path::Path;
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_prover::vanilla::update::{prove, verify, UpdateRejection};
use strata_sealer::*;

fn cc_then_update(root: &Path, number: u64, fill: u8) -> std::path::PathBuf {
    let cfg = SealConfig {
        proof_type: ProofType::for_size(SectorSize::KIB2).unwrap(),
        prover_id: 1000,
        sector_number: number,
        ticket: [number as u8; 32],
        parent_cache_dir: root.join("parents"),
    };
    let len = 2048 / 128 * 127;
    let cc = root.join(format!("cc{number}"));
    seal(
        &cfg,
        vec![PieceSource {
            reader: Box::new(std::io::Read::take(std::io::repeat(0), len)),
            len,
        }],
        &cc,
        &NoProgress,
    )
    .unwrap();
    let deal: Vec<u8> = (0..1200).map(|i| (i as u8) ^ fill).collect();
    let out = root.join(format!("updated{number}"));
    update::snap(
        &cc,
        vec![PieceSource {
            reader: Box::new(&deal[..]),
            len: deal.len() as u64,
        }],
        &out,
        &NoProgress,
    )
    .unwrap();
    out
}

#[test]
fn update_proof_verifies_and_every_tampering_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let pt = ProofType::for_size(SectorSize::KIB2).unwrap();
    let a = cc_then_update(tmp.path(), 1, 0x11);
    let b = cc_then_update(tmp.path(), 2, 0x22);
    let r = [7u8; 32];
    let (proof, s) = prove(&a, &r).unwrap();
    verify(&pt, &s, &proof).unwrap();
    let (proof_b, s_b) = prove(&b, &r).unwrap();
    verify(&pt, &s_b, &proof_b).unwrap();

    // Public inputs that are not this update's.
    let mut wrong = s;
    wrong.comm_d_new = s_b.comm_d_new;
    assert!(matches!(
        verify(&pt, &wrong, &proof),
        Err(UpdateRejection::Opening { which: "data", .. })
    ));
    let mut wrong = s;
    wrong.comm_r_old = s_b.comm_r_old;
    assert_eq!(
        verify(&pt, &wrong, &proof),
        Err(UpdateRejection::CommR("CommR_old"))
    );
    let mut wrong = s;
    wrong.comm_r_new = s_b.comm_r_new;
    assert_eq!(
        verify(&pt, &wrong, &proof),
        Err(UpdateRejection::CommR("CommR'"))
    );
    let mut wrong = s;
    wrong.randomness = [8u8; 32];
    assert!(matches!(
        verify(&pt, &wrong, &proof),
        Err(UpdateRejection::Opening { .. })
    ));
    // Another sector's proof for this sector's statement.
    assert!(verify(&pt, &s, &proof_b).is_err());

    // A tampered new replica leaf (its opening re-rooted consistently is impossible: the root
    // is bound by CommR'): the opening fails.
    let mut t = proof.clone();
    t.openings[3].new.leaf[0] ^= 1;
    assert!(matches!(
        verify(&pt, &s, &t),
        Err(UpdateRejection::Opening {
            index: 3,
            which: "new replica"
        })
    ));
    // A whole new replica that is not old + data·ρ: rebuild a proof over a replica whose leaf
    // differs, with its own tree — its CommR' no longer matches.
    let mut t = proof.clone();
    t.comm_r_last_new = proof_b.comm_r_last_new;
    assert_eq!(verify(&pt, &s, &t), Err(UpdateRejection::CommR("CommR'")));
    // Openings dropped, or reordered.
    let mut t = proof.clone();
    t.openings.pop();
    assert!(matches!(
        verify(&pt, &s, &t),
        Err(UpdateRejection::Malformed(_))
    ));
    let mut t = proof.clone();
    t.openings.swap(0, 1);
    if proof.openings[0].old.index != proof.openings[1].old.index {
        assert!(matches!(
            verify(&pt, &s, &t),
            Err(UpdateRejection::Opening { index: 0, .. })
        ));
    }

    // The new replica on disk altered: the provider's own prover refuses to make a proof.
    let sealed = a.join("sealed");
    let mut bytes = std::fs::read(&sealed).unwrap();
    bytes[100] ^= 4;
    std::fs::write(&sealed, &bytes).unwrap();
    assert!(prove(&a, &r).is_err());
    // A sector that was never updated has nothing to prove.
    assert!(prove(&tmp.path().join("cc1"), &r)
        .unwrap_err()
        .contains("not been updated"));
}

/// The circuit accepts exactly what the vanilla verifier accepts, on the first challenges of a
/// real update (the full 32 take ~3 M constraints): satisfied with the statement's public
/// inputs; a changed leaf, a changed public input or another sector's openings are not.
#[test]
fn update_circuit_agrees_with_the_vanilla_verifier() {
    use bellman::gadgets::test::TestConstraintSystem;
    use bellman::Circuit;
    use strata_prover::circuit::update::{public_inputs, UpdateCircuit};
    let tmp = tempfile::tempdir().unwrap();
    let pt = ProofType::for_size(SectorSize::KIB2).unwrap();
    let a = cc_then_update(tmp.path(), 1, 0x31);
    let b = cc_then_update(tmp.path(), 2, 0x42);
    let r = [9u8; 32];
    let (mut proof, s) = prove(&a, &r).unwrap();
    let (mut proof_b, _) = prove(&b, &r).unwrap();
    proof.openings.truncate(2);
    proof_b.openings.truncate(2);
    let inputs = public_inputs(&pt, &s, 2).unwrap();
    let check = |c: UpdateCircuit, inputs: &[bls12_381::Scalar]| {
        let mut cs = TestConstraintSystem::new();
        c.synthesize(&mut cs).unwrap();
        cs.is_satisfied() && cs.verify(inputs)
    };
    assert!(check(UpdateCircuit::from_vanilla(&pt, &s, &proof), &inputs));

    let mut t = proof.clone();
    t.openings[1].new.leaf[0] ^= 1;
    assert!(!check(UpdateCircuit::from_vanilla(&pt, &s, &t), &inputs));
    let mut t = proof.clone();
    t.openings[0].data.leaf[1] ^= 1;
    assert!(!check(UpdateCircuit::from_vanilla(&pt, &s, &t), &inputs));
    let mut wrong = inputs.clone();
    wrong[1] += bls12_381::Scalar::from(1u64);
    assert!(!check(UpdateCircuit::from_vanilla(&pt, &s, &proof), &wrong));
    let mut wrong = inputs.clone();
    wrong[3] += bls12_381::Scalar::from(1u64);
    assert!(!check(UpdateCircuit::from_vanilla(&pt, &s, &proof), &wrong));
    assert!(!check(
        UpdateCircuit::from_vanilla(&pt, &s, &proof_b),
        &inputs
    ));

    // Pinned size: 3 Poseidon_2 (both CommRs and φ) plus, per challenge, 6 index bits, the
    // public index, the high-bit packing, ρ, two tree_r_last paths, six BLAKE3 tree_d levels and
    // four equalities.
    use strata_prover::circuit::shape::circuit_shape;
    let one = circuit_shape(UpdateCircuit::blank(&pt, 1)).unwrap();
    let two = circuit_shape(UpdateCircuit::blank(&pt, 2)).unwrap();
    assert_eq!(two.inputs - one.inputs, 1, "one public index per challenge");
    let (one, per) = (one.constraints, two.constraints - one.constraints);
    use strata_prover::gadgets::merkle::HASH_D_LEVEL_CONSTRAINTS;
    assert_eq!(
        one - per,
        3 * 238 + 3,
        "fixed part: three Poseidon_2 and three public inputs"
    );
    // Two arity-8 levels of 417 each, which count their 3 index bits (allocated once here).
    let tree_r_path = 2 * 417 - 6;
    assert_eq!(
        per,
        6 + 1 + 1 + 238 + 2 * tree_r_path + 6 * HASH_D_LEVEL_CONSTRAINTS + 4,
        "per challenge"
    );
    assert_eq!(per, 93_208);
}
