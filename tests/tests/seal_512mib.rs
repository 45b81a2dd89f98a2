//! The 512 MiB seal: too slow for CI (several minutes on 2 cores), so ignored by default.
//! Run: `cargo test --release -p strata-tests --test seal_512mib -- --ignored --nocapture`

use std::fs;
use strata_params::ProofType;
use strata_primitives::merkle::TreeReader;
use strata_primitives::sizes::SectorSize;
use strata_sealer::*;

#[test]
#[ignore = "512 MiB seal takes minutes; run explicitly"]
fn seal_and_unseal_512mib() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = SealConfig {
        proof_type: ProofType::for_size(SectorSize::MIB512).unwrap(),
        prover_id: 77,
        sector_number: 3,
        ticket: [9; 32],
        parent_cache_dir: tmp.path().join("parents"),
    };
    let len = 300_000_000u64;
    let data = move || (0..len).map(|i| (i.wrapping_mul(2654435761) >> 7) as u8);
    let file = tmp.path().join("piece");
    fs::write(&file, data().collect::<Vec<u8>>()).unwrap();
    let out = tmp.path().join("sector");
    let f = fs::File::open(&file).unwrap();
    let start = std::time::Instant::now();
    let meta = seal(
        &cfg,
        vec![PieceSource {
            reader: Box::new(std::io::BufReader::new(f)),
            len,
        }],
        &out,
        &NoProgress,
    )
    .unwrap();
    eprintln!("sealed 512 MiB in {:.1?}", start.elapsed());
    let infos: Vec<PieceInfo> = meta.pieces.iter().map(|p| p.info.clone()).collect();
    assert_eq!(
        comm_d_from_pieces(cfg.proof_type.sector_size, &infos).unwrap(),
        meta.comm_d
    );
    let paths = SectorPaths::new(&out);
    let tr = TreeReader::open(
        cfg.proof_type.tree_r_shape(),
        &paths.sealed(),
        &paths.tree_r_last(),
    )
    .unwrap();
    let p = tr.prove(123_456_789 % cfg.proof_type.nodes());
    assert!(p.verify(&cfg.proof_type.tree_r_shape(), &meta.comm_r_last));
    let back = tmp.path().join("back");
    unseal_piece(&out, 0, &back, &cfg.parent_cache_dir, &NoProgress).unwrap();
    assert!(fs::read(&back).unwrap().into_iter().eq(data()));
}
