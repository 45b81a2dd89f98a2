//! Vanilla proofs: valid proofs verify; every kind of tampering is rejected.

use std::fs;
use std::path::PathBuf;
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_prover::challenges::{porep_challenges, post_leaf_challenges};
use strata_prover::vanilla::porep::*;
use strata_prover::vanilla::post::*;
use strata_sealer::*;

mod common;
use common::seal_2kib as seal_sector;

const SEED: [u8; 32] = [0x5e; 32];

#[test]
fn seal_proof_verifies_and_each_tampering_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, meta) = seal_sector(tmp.path(), 1, 3);
    let public = SealPublicInputs::for_sector(&meta, SEED);
    let proof = prove_seal_partition(&dir, &SEED, 0).unwrap();
    verify_seal_partition(&public, &proof).unwrap();
    // Survives a JSON round trip.
    let back: SealPartitionProof =
        serde_json::from_str(&serde_json::to_string(&proof).unwrap()).unwrap();
    assert_eq!(back, proof);

    // Wrong public inputs.
    let mut p = public.clone();
    p.comm_r[0] ^= 1;
    assert_eq!(verify_seal_partition(&p, &proof), Err(SealRejection::CommR));
    let mut p = public.clone();
    p.comm_d[0] ^= 1;
    assert!(verify_seal_partition(&p, &proof).is_err());
    let mut p = public.clone();
    p.seed[0] ^= 1;
    assert!(matches!(
        verify_seal_partition(&p, &proof),
        Err(SealRejection::Challenge { .. })
    ));
    let mut p = public.clone();
    p.ticket[0] ^= 1;
    assert!(verify_seal_partition(&p, &proof).is_err());
    let mut p = public.clone();
    p.prover_id += 1;
    assert!(verify_seal_partition(&p, &proof).is_err());

    // Tampered proof values.
    let mut q = proof.clone();
    q.challenges[0].column.labels[0][3] ^= 1;
    assert!(matches!(
        verify_seal_partition(&public, &q),
        Err(SealRejection::Opening { .. })
    ));
    let mut q = proof.clone();
    q.challenges[1].parents[9].labels[1][0] ^= 1;
    assert!(matches!(
        verify_seal_partition(&public, &q),
        Err(SealRejection::Opening { .. })
    ));
    let mut q = proof.clone();
    q.challenges[0].data.leaf[0] ^= 1;
    assert!(matches!(
        verify_seal_partition(&public, &q),
        Err(SealRejection::Opening { .. })
    ));
    let mut q = proof.clone();
    q.challenges[0].replica.siblings[1][2][5] ^= 1;
    assert!(matches!(
        verify_seal_partition(&public, &q),
        Err(SealRejection::Opening { .. })
    ));
    let mut q = proof.clone();
    q.challenges.swap(0, 1);
    assert!(verify_seal_partition(&public, &q).is_err());
    let mut q = proof.clone();
    q.challenges.pop();
    assert!(matches!(
        verify_seal_partition(&public, &q),
        Err(SealRejection::Shape(_))
    ));
    let mut q = proof.clone();
    q.partition = 1;
    assert!(matches!(
        verify_seal_partition(&public, &q),
        Err(SealRejection::Shape(_))
    ));

    // A replica byte changed at a challenged leaf: the proof made from it is rejected.
    let c = proof.challenges[0].challenge;
    let sealed = SectorPaths::new(&dir).sealed();
    let mut bytes = fs::read(&sealed).unwrap();
    bytes[c as usize * 32 + 7] ^= 0x10;
    fs::write(&sealed, &bytes).unwrap();
    let tampered = prove_seal_partition(&dir, &SEED, 0).unwrap();
    assert!(matches!(
        verify_seal_partition(&public, &tampered),
        Err(SealRejection::Opening { .. })
    ));
}

#[test]
fn the_proof_of_one_sector_does_not_verify_for_another() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, _) = seal_sector(tmp.path(), 1, 3);
    let (_, mb) = seal_sector(tmp.path(), 2, 3);
    let proof_a = prove_seal_partition(&a, &SEED, 0).unwrap();
    assert!(verify_seal_partition(&SealPublicInputs::for_sector(&mb, SEED), &proof_a).is_err());
}

#[test]
fn labels_are_checked_even_with_consistent_openings() {
    // A prover that re-committed to a wrong label (column and tree_c consistent) is caught by
    // recomputing the label from its parents: rebuild a sector's tree_c over a changed label.
    let tmp = tempfile::tempdir().unwrap();
    let (dir, meta) = seal_sector(tmp.path(), 1, 9);
    let pt = ProofType::for_id(meta.proof_type).unwrap();
    let c = porep_challenges(&pt, &meta.replica_id, &SEED, 0)[0];
    let paths = SectorPaths::new(&dir);
    let mut l1 = fs::read(paths.layer(1)).unwrap();
    l1[c as usize * 32] ^= 1;
    fs::write(paths.layer(1), &l1).unwrap();
    fs::remove_file(paths.tree_c_leaves()).unwrap();
    let comm_c = seal::build_tree_c(&paths, pt.layers, &pt.tree_r_shape(), &NoProgress).unwrap();
    let comm_r = seal::comm_r(&comm_c, &meta.comm_r_last);
    let mut m = meta.clone();
    m.comm_c = comm_c;
    m.comm_r = comm_r;
    fs::write(paths.meta(), serde_json::to_vec(&m).unwrap()).unwrap();
    let proof = prove_seal_partition(&dir, &SEED, 0).unwrap();
    let public = SealPublicInputs::for_sector(&m, SEED);
    assert!(matches!(
        verify_seal_partition(&public, &proof),
        Err(SealRejection::Label { layer: 1, .. }) | Err(SealRejection::Label { layer: 2, .. })
    ));
}

const RAND: [u8; 32] = [0x77; 32];

#[test]
fn window_post_proves_healthy_sectors_and_reports_faulty_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs: Vec<PathBuf> = (1..=5)
        .map(|n| seal_sector(tmp.path(), n, n as u8).0)
        .collect();
    let pt = ProofType::for_size(SectorSize::KIB2).unwrap();
    // Sector 2: replica corrupted at a challenged leaf. Sector 4: replica deleted.
    let c = post_leaf_challenges(&RAND, 2, pt.window_post_challenges, pt.nodes())[3];
    let sealed = SectorPaths::new(&dirs[1]).sealed();
    let mut bytes = fs::read(&sealed).unwrap();
    bytes[c as usize * 32] ^= 1;
    fs::write(&sealed, &bytes).unwrap();
    fs::remove_file(SectorPaths::new(&dirs[3]).sealed()).unwrap();

    let out = prove_window_post(&pt, &dirs, &RAND);
    let faulty: Vec<u64> = out.faulty.iter().map(|f| f.sector_number).collect();
    assert_eq!(faulty, vec![2, 4]);
    assert!(
        out.faulty[0].reason.contains("does not verify"),
        "{}",
        out.faulty[0].reason
    );
    // Three healthy sectors → two partitions of two, the second padded with its last sector.
    assert_eq!(out.partitions.len(), 2);
    let numbers: Vec<Vec<u64>> = out
        .partitions
        .iter()
        .map(|(p, _)| p.iter().map(|s| s.sector_number).collect())
        .collect();
    assert_eq!(numbers, vec![vec![1, 3], vec![5, 5]]);
    for (public, proofs) in &out.partitions {
        verify_window_post_partition(&pt, &RAND, public, proofs).unwrap();
    }

    let (public, proofs) = &out.partitions[0];
    // Wrong randomness.
    let mut r = RAND;
    r[0] ^= 1;
    assert!(verify_window_post_partition(&pt, &r, public, proofs).is_err());
    // One sector's proof presented for another.
    let mut swapped = proofs.clone();
    swapped.swap(0, 1);
    assert!(matches!(
        verify_window_post_partition(&pt, &RAND, public, &swapped),
        Err(PostRejection::WrongSector { .. })
    ));
    let mut relabelled = proofs.clone();
    relabelled[0].sector_number = public[1].sector_number;
    let mut pub2 = public.clone();
    pub2[0] = public[1];
    assert!(verify_window_post_partition(&pt, &RAND, &pub2, &relabelled).is_err());
    // Wrong comm_r, a flipped sibling, a leaf moved to another index.
    let mut bad = public.clone();
    bad[1].comm_r[4] ^= 1;
    assert_eq!(
        verify_window_post_partition(&pt, &RAND, &bad, proofs),
        Err(PostRejection::CommR(bad[1].sector_number))
    );
    let mut q = proofs.clone();
    q[0].openings[2].siblings[0][0][0] ^= 1;
    assert!(matches!(
        verify_window_post_partition(&pt, &RAND, public, &q),
        Err(PostRejection::Opening { index: 2, .. })
    ));
    let mut q = proofs.clone();
    q[1].openings[0].index = (q[1].openings[0].index + 1) % pt.nodes();
    assert!(verify_window_post_partition(&pt, &RAND, public, &q).is_err());
    let mut q = proofs.clone();
    q[1].openings.pop();
    assert!(matches!(
        verify_window_post_partition(&pt, &RAND, public, &q),
        Err(PostRejection::Shape(_))
    ));
}

#[test]
fn winning_post_draws_a_sector_and_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let sectors: Vec<(PostSector, PathBuf)> = (1..=3)
        .map(|n| {
            let (dir, m) = seal_sector(tmp.path(), n, 7);
            (
                PostSector {
                    sector_number: n,
                    comm_r: m.comm_r,
                },
                dir,
            )
        })
        .collect();
    let set: Vec<PostSector> = sectors.iter().map(|s| s.0).collect();
    let pt = ProofType::for_size(SectorSize::KIB2).unwrap();
    let proof = prove_winning_post(&pt, 1000, &RAND, &sectors).unwrap();
    assert_eq!(proof.openings.len(), 66);
    verify_winning_post(&pt, 1000, &RAND, &set, &proof).unwrap();
    // The prover id enters only through the sector draw: another id is rejected exactly when it
    // draws another sector.
    for other in 1001..1011u64 {
        let same = strata_prover::challenges::winning_post_sector_index(other, &RAND, 0, 3)
            == strata_prover::challenges::winning_post_sector_index(1000, &RAND, 0, 3);
        assert_eq!(
            verify_winning_post(&pt, other, &RAND, &set, &proof).is_ok(),
            same,
            "prover {other}"
        );
    }
    let mut r = RAND;
    r[0] ^= 1;
    assert!(verify_winning_post(&pt, 1000, &r, &set, &proof).is_err());
}
