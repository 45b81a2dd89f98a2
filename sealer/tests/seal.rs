//! Sealing and unsealing at 2 KiB and 8 MiB, checked against independent recomputation.

use proptest::prelude::*;
use std::fs;
use std::path::Path;
use strata_params::ProofType;
use strata_primitives::merkle::{tree_root, TreeReader};
use strata_primitives::node::{as_nodes, node_to_fr, Node};
use strata_primitives::sizes::SectorSize;
use strata_sealer::graph::{Graph, PARENTS};
use strata_sealer::labeling::label_reference;
use strata_sealer::pieces::{comm_d_from_data, comm_d_from_pieces, pad_bytes};
use strata_sealer::*;

fn config(size: SectorSize, prover_id: u64, ticket: u8, cache: &Path) -> SealConfig {
    SealConfig {
        proof_type: ProofType::for_size(size).unwrap(),
        prover_id,
        sector_number: 7,
        ticket: [ticket; 32],
        parent_cache_dir: cache.to_path_buf(),
    }
}

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
        .collect()
}

fn seal_bytes(cfg: &SealConfig, pieces: &[&[u8]], out: &Path) -> Result<SectorMeta, SealError> {
    let sources = pieces
        .iter()
        .map(|p| PieceSource {
            reader: Box::new(*p),
            len: p.len() as u64,
        })
        .collect();
    seal(cfg, sources, out, &NoProgress)
}

fn read_nodes(p: &Path) -> Vec<Node> {
    as_nodes(&fs::read(p).unwrap()).to_vec()
}

#[test]
fn seal_2kib_matches_the_construction_node_by_node() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(SectorSize::KIB2, 1000, 9, &tmp.path().join("parents"));
    let (a, b) = (data(300, 1), data(1000, 2));
    let out = tmp.path().join("s");
    let meta = seal_bytes(&cfg, &[&a, &b], &out).unwrap();
    let paths = SectorPaths::new(&out);
    let pt = cfg.proof_type;

    // Layout: 300 bytes → 512 padded at 0; 1000 bytes → 1024 padded at 1024.
    assert_eq!(
        meta.pieces
            .iter()
            .map(|p| (p.offset, p.info.padded_size))
            .collect::<Vec<_>>(),
        vec![(0, 512), (1024, 1024)]
    );
    let infos: Vec<PieceInfo> = meta.pieces.iter().map(|p| p.info.clone()).collect();
    assert_eq!(
        comm_d_from_pieces(pt.sector_size, &infos).unwrap(),
        meta.comm_d
    );
    let unsealed = read_nodes(&paths.unsealed());
    assert_eq!(
        comm_d_from_data(pt.sector_size, &unsealed).unwrap(),
        meta.comm_d
    );
    assert_eq!(&unsealed[..pad_bytes(&a).len()], &pad_bytes(&a)[..]);

    // Every label equals the reference formula over its parents.
    let graph = Graph::new(&pt.porep_id(), pt.nodes());
    let l1 = read_nodes(&paths.layer(1));
    let l2 = read_nodes(&paths.layer(2));
    let mut p = [0u32; PARENTS];
    for v in 0..pt.nodes() {
        graph.parents(v, &mut p);
        let base: Vec<Node> = p[..6].iter().map(|&i| l1[i as usize]).collect();
        assert_eq!(
            l1[v as usize],
            label_reference(&meta.replica_id, 1, v, &base),
            "layer 1 node {v}"
        );
        let mut all: Vec<Node> = p[..6].iter().map(|&i| l2[i as usize]).collect();
        all.extend(p[6..].iter().map(|&i| l1[i as usize]));
        assert_eq!(
            l2[v as usize],
            label_reference(&meta.replica_id, 2, v, &all),
            "layer 2 node {v}"
        );
    }

    // replica = data + label_L, and the trees' roots recompute from their leaves.
    let sealed = read_nodes(&paths.sealed());
    for v in 0..pt.nodes() as usize {
        assert_eq!(
            node_to_fr(&sealed[v]).unwrap(),
            node_to_fr(&unsealed[v]).unwrap() + node_to_fr(&l2[v]).unwrap()
        );
    }
    let cols: Vec<Node> = (0..pt.nodes() as usize)
        .map(|v| tree_c::column_hash(&[l1[v], l2[v]]).unwrap())
        .collect();
    assert_eq!(read_nodes(&paths.tree_c_leaves()), cols);
    let mut src: &[Node] = &cols;
    assert_eq!(
        tree_root(&pt.tree_r_shape(), &mut src).unwrap(),
        meta.comm_c
    );
    let tr = TreeReader::open(pt.tree_r_shape(), &paths.sealed(), &paths.tree_r_last()).unwrap();
    assert_eq!(tr.recompute_root().unwrap(), meta.comm_r_last);
    assert_eq!(tr.root(), meta.comm_r_last);
    assert_eq!(seal::comm_r(&meta.comm_c, &meta.comm_r_last), meta.comm_r);
    assert_eq!(
        fs::read(paths.p_aux()).unwrap(),
        [meta.comm_c, meta.comm_r_last].concat()
    );
    assert_eq!(SectorMeta::load(&out).unwrap(), meta);

    // Unseal each piece to exactly its bytes, and the whole sector to the unsealed file.
    for (i, want) in [&a, &b].into_iter().enumerate() {
        let o = tmp.path().join(format!("piece{i}"));
        unseal_piece(&out, i, &o, &cfg.parent_cache_dir, &NoProgress).unwrap();
        assert_eq!(&fs::read(&o).unwrap(), want);
    }
    let whole = tmp.path().join("whole");
    unseal_sector(&out, &whole, &cfg.parent_cache_dir, &NoProgress).unwrap();
    assert_eq!(
        fs::read(&whole).unwrap(),
        fs::read(paths.unsealed()).unwrap()
    );
}

#[test]
fn same_inputs_same_comm_r_and_identity_changes_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("parents");
    let d = data(2032, 5);
    let seal_with = |prover, ticket, name: &str| {
        let out = tmp.path().join(name);
        let m = seal_bytes(
            &config(SectorSize::KIB2, prover, ticket, &cache),
            &[&d],
            &out,
        )
        .unwrap();
        (m, fs::read(out.join("sealed")).unwrap())
    };
    let (m1, r1) = seal_with(1, 1, "a");
    let (m2, r2) = seal_with(1, 1, "b");
    assert_eq!((m1.comm_r, &r1), (m2.comm_r, &r2));
    let (m3, r3) = seal_with(2, 1, "c");
    let (m4, r4) = seal_with(1, 2, "d");
    assert_eq!(m1.comm_d, m3.comm_d);
    for (m, r) in [(&m3, &r3), (&m4, &r4)] {
        assert_ne!(m.comm_r, m1.comm_r);
        assert_ne!(m.replica_id, m1.replica_id);
        assert_ne!(r, &r1);
        let same = r
            .chunks(32)
            .zip(r1.chunks(32))
            .filter(|(x, y)| x == y)
            .count();
        assert!(same <= 1, "{same} replica nodes coincide");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn seal_unseal_round_trip(lens in proptest::collection::vec(1usize..700, 1..4), seed in any::<u8>()) {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = config(SectorSize::KIB2, 3, seed, &tmp.path().join("parents"));
        let pieces: Vec<Vec<u8>> = lens.iter().enumerate().map(|(i, &l)| data(l, seed.wrapping_add(i as u8))).collect();
        let refs: Vec<&[u8]> = pieces.iter().map(|p| &p[..]).collect();
        let out = tmp.path().join("s");
        match seal_bytes(&cfg, &refs, &out) {
            Ok(meta) => {
                let infos: Vec<PieceInfo> = meta.pieces.iter().map(|p| p.info.clone()).collect();
                prop_assert_eq!(comm_d_from_pieces(SectorSize::KIB2, &infos).unwrap(), meta.comm_d);
                for (i, p) in pieces.iter().enumerate() {
                    let o = tmp.path().join(format!("u{i}"));
                    unseal_piece(&out, i, &o, &cfg.parent_cache_dir, &NoProgress).unwrap();
                    prop_assert_eq!(&fs::read(&o).unwrap(), p);
                }
            }
            Err(SealError::PiecesDoNotFit { needed, .. }) => {
                prop_assert!(needed > 2048);
                prop_assert!(!out.exists());
                prop_assert!(!seal::work_dir(&out).exists());
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }
}

#[test]
fn seal_8mib_round_trip_and_unseal_without_layers() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(SectorSize::MIB8, 42, 3, &tmp.path().join("parents"));
    let a = data(3_000_000, 7);
    let b = data(1_000_000, 8);
    let out = tmp.path().join("s");
    let meta = seal_bytes(&cfg, &[&a, &b], &out).unwrap();
    let infos: Vec<PieceInfo> = meta.pieces.iter().map(|p| p.info.clone()).collect();
    assert_eq!(
        comm_d_from_pieces(SectorSize::MIB8, &infos).unwrap(),
        meta.comm_d
    );
    assert_eq!(infos[0], comm_p(&a[..], a.len() as u64).unwrap());
    // Delete the layers (as after the seal proof); unsealing regenerates the labels.
    for l in 1..=2 {
        fs::remove_file(SectorPaths::new(&out).layer(l)).unwrap();
    }
    let o = tmp.path().join("b.out");
    unseal_piece(&out, 1, &o, &cfg.parent_cache_dir, &NoProgress).unwrap();
    assert_eq!(fs::read(&o).unwrap(), b);
    assert!(fs::read_dir(SectorPaths::new(&out).cache())
        .unwrap()
        .all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("unseal-")));
}

#[test]
fn bad_input_is_a_typed_error_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(SectorSize::KIB2, 1, 1, &tmp.path().join("parents"));
    let out = tmp.path().join("s");
    assert!(matches!(
        seal_bytes(&cfg, &[], &out),
        Err(SealError::NoPieces)
    ));
    assert!(matches!(
        seal_bytes(&cfg, &[b""], &out),
        Err(SealError::EmptyPiece { index: 0 })
    ));
    let big = data(2033, 1);
    assert!(matches!(
        seal_bytes(&cfg, &[&big], &out),
        Err(SealError::PiecesDoNotFit { .. })
    ));
    // A source shorter than declared.
    let short = data(100, 1);
    let r = seal(
        &cfg,
        vec![PieceSource {
            reader: Box::new(&short[..]),
            len: 200,
        }],
        &out,
        &NoProgress,
    );
    assert!(
        matches!(
            r,
            Err(SealError::PieceLength {
                index: 0,
                expected: 200,
                actual: 100
            })
        ),
        "{r:?}"
    );
    // And longer.
    let r = seal(
        &cfg,
        vec![PieceSource {
            reader: Box::new(&short[..]),
            len: 50,
        }],
        &out,
        &NoProgress,
    );
    assert!(
        matches!(r, Err(SealError::PieceLength { index: 0, .. })),
        "{r:?}"
    );
    assert!(!out.exists() && !seal::work_dir(&out).exists());
    // Existing output directory is untouched.
    fs::create_dir(&out).unwrap();
    fs::write(out.join("keep"), b"x").unwrap();
    assert!(matches!(
        seal_bytes(&cfg, &[&short], &out),
        Err(SealError::OutputExists(_))
    ));
    assert_eq!(fs::read(out.join("keep")).unwrap(), b"x");
}

#[test]
fn corrupt_parent_cache_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(SectorSize::KIB2, 1, 1, &tmp.path().join("parents"));
    let d = data(500, 1);
    seal_bytes(&cfg, &[&d], &tmp.path().join("a")).unwrap();
    let cache =
        strata_sealer::parent_cache::ParentCache::path_for(&cfg.parent_cache_dir, &cfg.proof_type);
    let mut bytes = fs::read(&cache).unwrap();
    bytes[100] ^= 1;
    fs::write(&cache, &bytes).unwrap();
    let err = seal_bytes(&cfg, &[&d], &tmp.path().join("b")).unwrap_err();
    assert!(matches!(err, SealError::CorruptParentCache { .. }), "{err}");
    assert!(err.to_string().contains("delete it"), "{err}");
    assert!(!tmp.path().join("b").exists());
    // Truncated: also caught.
    fs::write(&cache, &bytes[..1000]).unwrap();
    assert!(matches!(
        seal_bytes(&cfg, &[&d], &tmp.path().join("c")),
        Err(SealError::CorruptParentCache { .. })
    ));
    // Deleting it regenerates it and sealing works again, with the same CommR.
    fs::remove_file(&cache).unwrap();
    let m = seal_bytes(&cfg, &[&d], &tmp.path().join("d")).unwrap();
    assert_eq!(
        m.comm_r,
        SectorMeta::load(&tmp.path().join("a")).unwrap().comm_r
    );
}

#[test]
fn corrupt_replica_fails_to_unseal_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(SectorSize::KIB2, 1, 1, &tmp.path().join("parents"));
    let d = data(2000, 3);
    let out = tmp.path().join("s");
    seal_bytes(&cfg, &[&d], &out).unwrap();
    let sealed = SectorPaths::new(&out).sealed();
    let good = fs::read(&sealed).unwrap();
    let target = tmp.path().join("o");
    // A changed byte: decodes to wrong data (CommP mismatch) or a non-data node.
    let mut bad = good.clone();
    bad[5 * 32 + 3] ^= 0x40;
    fs::write(&sealed, &bad).unwrap();
    let err = unseal_piece(&out, 0, &target, &cfg.parent_cache_dir, &NoProgress).unwrap_err();
    assert!(matches!(err, SealError::CorruptSector { .. }), "{err}");
    assert!(!target.exists() && !strata_sealer::files::tmp_path(&target).exists());
    // Truncated replica.
    fs::write(&sealed, &good[..1000]).unwrap();
    let err = unseal_piece(&out, 0, &target, &cfg.parent_cache_dir, &NoProgress).unwrap_err();
    assert!(err.to_string().contains("replica has 1000 bytes"), "{err}");
    // Missing piece index, malformed meta.
    fs::write(&sealed, &good).unwrap();
    assert!(matches!(
        unseal_piece(&out, 3, &target, &cfg.parent_cache_dir, &NoProgress),
        Err(SealError::NoSuchPiece { index: 3, count: 1 })
    ));
    fs::write(out.join("meta.json"), b"{not json").unwrap();
    let err = unseal_piece(&out, 0, &target, &cfg.parent_cache_dir, &NoProgress).unwrap_err();
    assert!(err.to_string().contains("malformed meta.json"), "{err}");
}
