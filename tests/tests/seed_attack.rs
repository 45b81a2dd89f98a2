//! The known-seed attack (see `strata_tests::cheat`): if a miner learns the PoRep seed before it
//! pre-commits, a replica whose labels are computed only at the challenged nodes passes the vanilla
//! seal verifier for that seed — and fails for any other seed. This is why the chain must draw the
//! seed after pre-commit, unpredictably.

use std::fs;
use strata_params::ProofType;
use strata_primitives::node::{as_nodes, Node};
use strata_primitives::sizes::SectorSize;
use strata_prover::challenges::porep_challenges;
use strata_prover::vanilla::porep::{
    prove_seal_partition, verify_seal_partition, SealPublicInputs, SealRejection,
};
use strata_sealer::{seal, NoProgress, PieceSource, SealConfig, SectorMeta, SectorPaths};
use strata_tests::cheat::cheat_seal;

#[test]
fn known_seed_lets_a_sparse_replica_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let pt = ProofType::for_size(SectorSize::KIB2).unwrap();
    let n = pt.nodes() as usize;
    let config = SealConfig {
        proof_type: pt,
        prover_id: 1001,
        sector_number: 7,
        ticket: [0x17; 32],
        parent_cache_dir: tmp.path().join("parents"),
    };
    // A full sector of non-zero data (2032 raw bytes pad to the 2 KiB sector).
    let data: Vec<u8> = (0..2032u32).map(|i| (i * 37 % 251) as u8 + 1).collect();
    let seed: Node = [0x5e; 32];

    // The cheat, with the seed known in advance.
    let cheat = cheat_seal(&config, &[&data], &seed, &tmp.path().join("cheat")).unwrap();
    assert_eq!(
        cheat.challenged.len(),
        2,
        "two distinct challenges at 2 KiB"
    );
    assert_eq!(
        cheat.label_hashes, 4,
        "2 challenges × 2 layers, instead of 126"
    );
    let meta = SectorMeta::load(&cheat.dir).unwrap();
    assert_eq!(meta, cheat.meta);
    assert_eq!((meta.comm_r, meta.comm_d), (cheat.comm_r, cheat.comm_d));

    // The sparse structure: every label is zero outside the challenged nodes, so the replica is
    // the data there.
    let paths = SectorPaths::new(&cheat.dir);
    for l in 1..=pt.layers {
        let layer = fs::read(paths.layer(l)).unwrap();
        let nonzero: Vec<u64> = (0..n as u64)
            .filter(|&v| as_nodes(&layer)[v as usize] != [0u8; 32])
            .collect();
        assert_eq!(nonzero, cheat.challenged, "layer {l}");
    }
    let unsealed = fs::read(paths.unsealed()).unwrap();
    let cheat_replica = fs::read(paths.sealed()).unwrap();
    for v in 0..n {
        let is_challenged = cheat.challenged.contains(&(v as u64));
        assert_eq!(
            as_nodes(&cheat_replica)[v] == as_nodes(&unsealed)[v],
            !is_challenged,
            "node {v}"
        );
    }

    // The attack works: the vanilla prover and verifier accept it for the predicted seed.
    let public = SealPublicInputs::for_sector(&meta, seed);
    for partition in 0..pt.porep_partitions {
        let proof = prove_seal_partition(&cheat.dir, &seed, partition).unwrap();
        assert_eq!(verify_seal_partition(&public, &proof), Ok(()));
    }

    // An honest seal of the same data and ticket: same CommD, different CommR, and a replica that
    // differs from the cheat's at (almost) every node.
    let honest_dir = tmp.path().join("honest");
    let honest = seal(
        &config,
        vec![PieceSource {
            reader: Box::new(&data[..]),
            len: data.len() as u64,
        }],
        &honest_dir,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(honest.comm_d, cheat.comm_d);
    assert_eq!(honest.replica_id, meta.replica_id);
    assert_ne!(honest.comm_r, cheat.comm_r);
    let honest_replica = fs::read(SectorPaths::new(&honest_dir).sealed()).unwrap();
    let differing = (0..n)
        .filter(|&v| as_nodes(&honest_replica)[v] != as_nodes(&cheat_replica)[v])
        .count();
    assert!(
        differing >= n - cheat.challenged.len(),
        "only {differing} of {n} replica nodes differ"
    );

    // Any other seed: the cheat is caught. The honest sector proves fine with it.
    let mut other = seed;
    other[0] ^= 1;
    let honest_proof = prove_seal_partition(&honest_dir, &other, 0).unwrap();
    let honest_public = SealPublicInputs::for_sector(&honest, other);
    assert_eq!(verify_seal_partition(&honest_public, &honest_proof), Ok(()));

    let other_challenges = porep_challenges(&pt, &meta.replica_id, &other, 0);
    // The first challenge whose labels the cheat never computed (its stored layer-1 label is 0).
    let caught = *other_challenges
        .iter()
        .find(|c| !cheat.challenged.contains(c))
        .expect("a flipped seed challenges a node the cheat skipped");
    let want = SealRejection::Label {
        challenge: caught,
        layer: 1,
    };
    let public = SealPublicInputs::for_sector(&meta, other);
    match prove_seal_partition(&cheat.dir, &other, 0) {
        Ok(proof) => assert_eq!(verify_seal_partition(&public, &proof), Err(want)),
        // A prover that checks its own proof refuses, for the same reason.
        Err(e) => assert!(
            e.to_string().contains(&want.to_string()),
            "prover refused for another reason: {e}"
        ),
    }
}
