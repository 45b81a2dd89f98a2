//! The PoSt circuit is satisfied, with the verifier's public inputs, exactly when the vanilla
//! verifier accepts.

use bellman::gadgets::test::TestConstraintSystem;
use bellman::Circuit;
use std::path::{Path, PathBuf};
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_prover::circuit::post::{public_inputs, PostCircuit};
use strata_prover::vanilla::post::*;
use strata_sealer::*;

mod common;

fn seal_sector(root: &Path, number: u64) -> PathBuf {
    common::seal_2kib(root, number, number as u8).0
}

/// Circuit verdict: the witness synthesizes, all constraints hold, and the public inputs are the
/// ones the verifier derives from `randomness` and `public`.
fn circuit_accepts(
    pt: &ProofType,
    randomness: &[u8; 32],
    public: &[PostSector],
    proofs: &[SectorPostProof],
    challenges: usize,
) -> (bool, usize) {
    let mut cs = TestConstraintSystem::new();
    if PostCircuit::from_vanilla(pt, public, proofs)
        .synthesize(&mut cs)
        .is_err()
    {
        return (false, 0);
    }
    let Some(inputs) = public_inputs(pt, randomness, public, challenges) else {
        return (false, cs.num_constraints());
    };
    (
        cs.is_satisfied() && cs.verify(&inputs),
        cs.num_constraints(),
    )
}

const RAND: [u8; 32] = [0x31; 32];

/// A named case: randomness, public sectors, proofs.
type Case = (
    &'static str,
    [u8; 32],
    Vec<PostSector>,
    Vec<SectorPostProof>,
);

#[test]
fn window_post_circuit_agrees_with_the_vanilla_verifier() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs: Vec<PathBuf> = (1..=2).map(|n| seal_sector(tmp.path(), n)).collect();
    let pt = ProofType::for_size(SectorSize::KIB2).unwrap();
    let out = prove_window_post(&pt, &dirs, &RAND);
    let (public, proofs) = out.partitions[0].clone();
    let n = pt.window_post_challenges;

    let mut cases: Vec<Case> = vec![("valid", RAND, public.clone(), proofs.clone())];
    let mut r = RAND;
    r[0] ^= 1;
    cases.push(("wrong randomness", r, public.clone(), proofs.clone()));
    let mut p = public.clone();
    p[0].comm_r[2] ^= 1;
    cases.push(("wrong comm_r", RAND, p, proofs.clone()));
    let mut q = proofs.clone();
    q[1].openings[4].siblings[0][3][1] ^= 1;
    cases.push(("flipped sibling", RAND, public.clone(), q));
    let mut q = proofs.clone();
    q[0].openings[0].leaf[0] ^= 1;
    cases.push(("changed leaf", RAND, public.clone(), q));
    let mut q = proofs.clone();
    q[0].openings[1].index ^= 1;
    cases.push(("moved leaf", RAND, public.clone(), q));
    let mut q = proofs.clone();
    q[0].comm_c[0] ^= 1;
    cases.push(("wrong comm_c", RAND, public.clone(), q));
    let mut q = proofs.clone();
    q.swap(0, 1);
    for o in q.iter_mut() {
        o.sector_number = 0; // the circuit does not see sector numbers; only CommR and challenges bind
    }
    cases.push(("proofs of the other sector", RAND, public.clone(), q));

    for (name, rand, public, proofs) in cases {
        let vanilla = verify_window_post_partition(&pt, &rand, &public, &proofs).is_ok();
        let (circuit, constraints) = circuit_accepts(&pt, &rand, &public, &proofs, n);
        assert_eq!(
            vanilla, circuit,
            "{name}: vanilla {vanilla}, circuit {circuit}"
        );
        assert_eq!(vanilla, name == "valid", "{name}");
        if name == "valid" {
            // 2 sectors × (Poseidon-2 238 + 1 public + 10 × (2 levels × 417 + packing 1 + root 1)).
            assert_eq!(constraints, 2 * (239 + 10 * (834 + 2)));
            assert_eq!(constraints, 17_198);
        }
    }
}

#[test]
fn blank_circuits_have_the_expected_size() {
    use strata_prover::circuit::shape::circuit_shape;
    let pt = ProofType::for_size(SectorSize::KIB2).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dirs: Vec<(PostSector, PathBuf)> = (1..=1)
        .map(|n| {
            let d = seal_sector(tmp.path(), n);
            let m = SectorMeta::load(&d).unwrap();
            (
                PostSector {
                    sector_number: n,
                    comm_r: m.comm_r,
                },
                d,
            )
        })
        .collect();
    let proof = prove_winning_post(&pt, 1000, &RAND, &dirs).unwrap();
    let mut cs = TestConstraintSystem::new();
    PostCircuit::from_vanilla(&pt, &[dirs[0].0], &[proof])
        .synthesize(&mut cs)
        .unwrap();
    assert!(cs.is_satisfied());
    assert_eq!(cs.num_constraints(), 239 + 66 * 836);
    assert!(cs.num_constraints() <= 90_750, "WinningPoSt 2 KiB target");
    // The blank circuit has the same shape as the witnessed one: same counts and digest.
    let blank = circuit_shape(PostCircuit::blank(&pt, 1, 66)).unwrap();
    let full = circuit_shape(PostCircuit::from_vanilla(
        &pt,
        &[dirs[0].0],
        &[prove_winning_post(&pt, 1000, &RAND, &dirs).unwrap()],
    ))
    .unwrap();
    assert_eq!(blank, full);
    assert_eq!(blank.constraints, 239 + 66 * 836);
    assert_eq!(blank.inputs, 1 + 66);
    let window = circuit_shape(PostCircuit::blank(&pt, 2, 10)).unwrap();
    assert_eq!(window.constraints, 17_198);
    assert_ne!(window.digest, blank.digest);
}
