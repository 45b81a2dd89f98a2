//! The PoRep circuit is satisfied, with the verifier's public inputs, exactly when the vanilla
//! verifier accepts. Checked with the fast satisfaction checker (no parameters needed).

use bellman::Circuit;
use std::path::Path;
use strata_params::ProofType;
use strata_prover::circuit::check::CheckCs;
use strata_prover::circuit::porep::{public_inputs, PorepCircuit};
use strata_prover::circuit::shape::circuit_shape;
use strata_prover::vanilla::porep::*;
use strata_sealer::*;

mod common;

fn seal_sector(root: &Path) -> (std::path::PathBuf, SectorMeta) {
    common::seal_2kib(root, 4, 11)
}

fn circuit_accepts(
    pt: &ProofType,
    public: &SealPublicInputs,
    proof: &SealPartitionProof,
) -> (bool, usize) {
    let mut cs = CheckCs::default();
    if PorepCircuit::from_vanilla(pt, public, proof)
        .synthesize(&mut cs)
        .is_err()
    {
        return (false, 0);
    }
    let inputs = public_inputs(pt, public, proof.partition);
    (
        cs.is_satisfied() && inputs.as_deref() == Some(cs.inputs()),
        cs.num_constraints(),
    )
}

#[test]
fn porep_circuit_agrees_with_the_vanilla_verifier() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, meta) = seal_sector(tmp.path());
    let pt = ProofType::for_id(meta.proof_type).unwrap();
    let seed = [0x0d; 32];
    let public = SealPublicInputs::for_sector(&meta, seed);
    let proof = prove_seal_partition(&dir, &seed, 0).unwrap();

    let mut cases: Vec<(&str, SealPublicInputs, SealPartitionProof)> =
        vec![("valid", public.clone(), proof.clone())];
    let mut p = public.clone();
    p.comm_r[1] ^= 1;
    cases.push(("wrong comm_r", p, proof.clone()));
    let mut p = public.clone();
    p.comm_d[1] ^= 1;
    cases.push(("wrong comm_d", p, proof.clone()));
    let mut p = public.clone();
    p.seed[1] ^= 1;
    cases.push(("wrong seed", p, proof.clone()));
    let mut q = proof.clone();
    q.challenges[0].parents[3].labels[0][2] ^= 1;
    cases.push(("tampered parent label", public.clone(), q));
    let mut q = proof.clone();
    q.challenges[1].replica.leaf[0] ^= 1;
    q.challenges[1].replica.siblings[0][0][0] ^= 1;
    cases.push(("tampered replica path", public.clone(), q));
    let mut q = proof.clone();
    q.challenges[0].data.siblings[2][0][4] ^= 1;
    cases.push(("tampered data path", public.clone(), q));

    let shape = circuit_shape(PorepCircuit::blank(&pt)).unwrap();
    for (name, public, proof) in cases {
        let vanilla = verify_seal_partition(&public, &proof).is_ok();
        let (circuit, constraints) = circuit_accepts(&pt, &public, &proof);
        assert_eq!(vanilla, circuit, "{name}");
        assert_eq!(vanilla, name == "valid", "{name}");
        if name == "valid" {
            assert_eq!(constraints, shape.constraints);
            assert!(
                constraints <= 1_600_000,
                "PoRep 2 KiB target: {constraints}"
            );
            eprintln!(
                "PoRep 2 KiB partition: {constraints} constraints, {} public inputs",
                shape.inputs
            );
        }
    }
}
