//! Remote proving with real 2 KiB PoSt SNARKs (parameters from the persistent cache, generated
//! once per machine): vanilla proofs made per sector, sent as JSON and SNARKed elsewhere give
//! proof files that verify and match the local path; tampered vanilla proofs become faulty
//! sectors of a file that still verifies, never part of a proven partition.

use std::path::PathBuf;
use std::sync::OnceLock;
use strata_params::groth16_files::{ParamsStore, ProofKind};
use strata_params::ProofType;
use strata_primitives::node::Node;
use strata_primitives::sizes::SectorSize;
use strata_prover::proof_file::{prove_window, prove_winning, PublicData};
use strata_prover::remote::*;
use strata_prover::snark;
use strata_prover::vanilla::post::PostSector;

mod common;

const RAND: Node = [0x5a; 32];

fn pt() -> ProofType {
    ProofType::for_size(SectorSize::KIB2).unwrap()
}

fn store() -> ParamsStore {
    ParamsStore::new(ParamsStore::default_dir())
}

/// Sectors 1, 2, 3 and 9, sealed once, with the PoSt parameters in the cache.
struct Sectors {
    _tmp: tempfile::TempDir,
    dirs: Vec<PathBuf>,
    public: Vec<PostSector>,
}

fn sectors() -> &'static Sectors {
    static S: OnceLock<Sectors> = OnceLock::new();
    S.get_or_init(|| {
        for kind in [ProofKind::Window, ProofKind::Winning] {
            snark::load_or_generate_kind(&store(), kind, &pt()).unwrap();
        }
        let tmp = tempfile::tempdir().unwrap();
        let (dirs, public) = [1u64, 2, 3, 9]
            .into_iter()
            .map(|n| {
                let (dir, meta) = common::seal_2kib(tmp.path(), n, 30 + n as u8);
                (
                    dir,
                    PostSector {
                        sector_number: n,
                        comm_r: meta.comm_r,
                    },
                )
            })
            .unzip();
        Sectors {
            _tmp: tmp,
            dirs,
            public,
        }
    })
}

/// Sector `i`'s WindowPoSt vanilla result, after a trip through JSON (as over the network).
fn remote(i: usize) -> SectorVanilla {
    let s = sectors();
    let v = vanilla_window_sector(s.public[i].sector_number, &s.dirs[i], &RAND);
    serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap()
}

fn window_parts(f: &strata_prover::proof_file::ProofFile) -> Vec<Vec<u64>> {
    match &f.public {
        PublicData::Window { partitions, .. } => partitions
            .iter()
            .map(|p| p.iter().map(|s| s.sector_number).collect())
            .collect(),
        _ => panic!("not a WindowPoSt file"),
    }
}

#[test]
fn vanilla_then_snark_verifies_and_matches_the_local_path() {
    let s = sectors();
    let expected = &s.public[..3];
    let f = prove_window_from_vanilla(
        &pt(),
        &RAND,
        expected,
        (0..3).map(remote).collect(),
        &store(),
    )
    .unwrap();
    f.verify(&store()).unwrap();
    assert!(f.faulty_sectors().is_empty());
    assert_eq!(window_parts(&f), vec![vec![1, 2], vec![3, 3]]);
    // The local path writes the same public data (the proofs are randomised).
    let local = prove_window(&s.dirs[..3], &RAND, &store()).unwrap();
    local.verify(&store()).unwrap();
    assert_eq!(local.public, f.public);
    assert_eq!(local.vk_digest, f.vk_digest);
}

#[test]
fn tampered_vanilla_proofs_become_faulty_sectors_of_a_valid_file() {
    let s = sectors();
    let mut expected = s.public[..3].to_vec();
    // Sector 4 is expected but nothing is received for it.
    expected.push(PostSector {
        sector_number: 4,
        comm_r: s.public[0].comm_r,
    });
    let mut flipped = remote(1);
    if let SectorVanilla::Proven { proof, .. } = &mut flipped {
        proof.openings[4].siblings[0][1][7] ^= 1;
    }
    let received = vec![
        remote(0),
        flipped,
        remote(2),
        remote(2), // duplicated
        remote(3), // sector 9: not expected
    ];
    let f = prove_window_from_vanilla(&pt(), &RAND, &expected, received, &store()).unwrap();
    f.verify(&store()).unwrap();
    assert_eq!(window_parts(&f), vec![vec![1, 1]]);
    assert_eq!(f.faulty_sectors(), vec![2, 3, 4]);

    // With every expected sector tampered, no file at all.
    let mut bad = remote(0);
    if let SectorVanilla::Proven { proof, .. } = &mut bad {
        proof.comm_r_last = s.public[1].comm_r;
    }
    let e = prove_window_from_vanilla(&pt(), &RAND, &s.public[..1], vec![bad, remote(3)], &store())
        .unwrap_err();
    assert!(e.to_string().contains("every sector is faulty"), "{e}");
}

#[test]
fn winning_vanilla_then_snark_verifies_and_matches_the_local_path() {
    let s = sectors();
    let set = &s.public[..3];
    let drawn = winning_sector(1000, &RAND, set).unwrap();
    let i = set.iter().position(|x| *x == drawn).unwrap();
    let v = vanilla_winning_sector(drawn.sector_number, &s.dirs[i], &RAND);
    let v: SectorVanilla = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
    let f = prove_winning_from_vanilla(&pt(), 1000, &RAND, set, v, &store()).unwrap();
    f.verify(&store()).unwrap();
    let local = prove_winning(&s.dirs[..3], &RAND, &store()).unwrap();
    local.verify(&store()).unwrap();
    assert_eq!(local.public, f.public);
}
