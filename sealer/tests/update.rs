//! Replica update (SnapDeals) at 2 KiB and 8 MiB: a committed-capacity sector receives deal
//! data without resealing; the new replica is checked against an independent recomputation of
//! the construction, unsealing returns the deal data (with and without the layer files), and
//! bad inputs are refused without leaving anything behind.

use std::fs;
use std::path::Path;
use strata_params::ProofType;
use strata_primitives::merkle::TreeReader;
use strata_primitives::node::{as_nodes, node_from_fr, node_to_fr};
use strata_primitives::poseidon;
use strata_primitives::sizes::SectorSize;
use strata_sealer::pieces::pad_bytes;
use strata_sealer::seal::comm_r;
use strata_sealer::*;

fn config(size: SectorSize, cache: &Path) -> SealConfig {
    SealConfig {
        proof_type: ProofType::for_size(size).unwrap(),
        prover_id: 1000,
        sector_number: 9,
        ticket: [5; 32],
        parent_cache_dir: cache.to_path_buf(),
    }
}

fn source(bytes: &[u8]) -> PieceSource<'_> {
    PieceSource {
        reader: Box::new(bytes),
        len: bytes.len() as u64,
    }
}

/// Seals a committed-capacity sector (zeros) as the provider does.
fn seal_cc(cfg: &SealConfig, out: &Path) -> SectorMeta {
    let len = cfg.proof_type.sector_size.bytes() / 128 * 127;
    seal(
        cfg,
        vec![PieceSource {
            reader: Box::new(std::io::Read::take(std::io::repeat(0), len)),
            len,
        }],
        out,
        &NoProgress,
    )
    .unwrap()
}

fn round_trip(size: SectorSize, len: usize) {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(size, &tmp.path().join("parents"));
    let cc = tmp.path().join("cc");
    let cc_meta = seal_cc(&cfg, &cc);
    let deal: Vec<u8> = (0..len).map(|i| (i * 7 + (i >> 9)) as u8).collect();
    let out = tmp.path().join("updated");
    let meta = update::snap(&cc, vec![source(&deal)], &out, &NoProgress).unwrap();
    let u = *meta.update.clone().unwrap();

    // Independent recomputation: R' = R + D'·ρ(high bits), CommR' = Poseidon(comm_c, root(R')).
    let pt = cfg.proof_type;
    let n = pt.nodes();
    let old = fs::read(cc.join("sealed")).unwrap();
    let new = fs::read(out.join("sealed")).unwrap();
    let data = fs::read(out.join("unsealed")).unwrap();
    let h = update::h_for(n);
    let phi = poseidon::hash(&[
        node_to_fr(&u.comm_d).unwrap(),
        node_to_fr(&cc_meta.comm_r).unwrap(),
    ]);
    for (i, ((o, d), r)) in as_nodes(&old)
        .iter()
        .zip(as_nodes(&data))
        .zip(as_nodes(&new))
        .enumerate()
        .step_by(97)
    {
        let k = (i as u64) >> (n.trailing_zeros() - h);
        let rho = poseidon::hash(&[phi, bls12_381::Scalar::from(k)]);
        let expect = node_to_fr(o).unwrap() + node_to_fr(d).unwrap() * rho;
        assert_eq!(node_from_fr(&expect), *r, "node {i}");
    }
    let tree = TreeReader::open(
        pt.tree_r_shape(),
        &out.join("sealed"),
        &SectorPaths::new(&out).tree_r_last(),
    )
    .unwrap();
    assert_eq!(tree.root(), meta.comm_r_last);
    assert_eq!(meta.comm_r, comm_r(&cc_meta.comm_c, &meta.comm_r_last));
    assert_eq!(
        (u.comm_r_old, u.comm_r_last_old),
        (cc_meta.comm_r, cc_meta.comm_r_last)
    );
    assert_eq!(meta.comm_c, cc_meta.comm_c);
    assert_eq!(
        u.comm_d,
        comm_d_from_pieces(size, &[u.pieces[0].info.clone()]).unwrap()
    );
    assert_ne!(meta.comm_r, cc_meta.comm_r);

    // Unsealing gives the deal back, byte for byte, and the whole padded sector too.
    let piece = tmp.path().join("piece");
    unseal_piece(&out, 0, &piece, &cfg.parent_cache_dir, &NoProgress).unwrap();
    assert_eq!(fs::read(&piece).unwrap(), deal);
    let whole = tmp.path().join("whole");
    unseal_sector(&out, &whole, &cfg.parent_cache_dir, &NoProgress).unwrap();
    let mut padded = pad_bytes(&deal);
    padded.resize((size.bytes() / 32) as usize, [0u8; 32]);
    assert!(fs::read(&whole).unwrap() == padded.concat());
    // … also once the layer files are gone (the labels are regenerated).
    for l in 1..=pt.layers {
        let _ = fs::remove_file(SectorPaths::new(&out).layer(l));
    }
    let again = tmp.path().join("again");
    unseal_piece(&out, 0, &again, &cfg.parent_cache_dir, &NoProgress).unwrap();
    assert_eq!(fs::read(&again).unwrap(), deal);
}

#[test]
fn update_at_2kib_encodes_as_specified_and_unseals_to_the_deal() {
    round_trip(SectorSize::KIB2, 1500);
}

#[test]
fn update_at_8mib_encodes_as_specified_and_unseals_to_the_deal() {
    round_trip(SectorSize::MIB8, 3 << 20);
}

#[test]
fn bad_updates_are_refused_and_a_corrupt_replica_does_not_unseal() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(SectorSize::KIB2, &tmp.path().join("parents"));
    let cc = tmp.path().join("cc");
    seal_cc(&cfg, &cc);
    let with_data = tmp.path().join("with-data");
    seal(&cfg, vec![source(&[1u8; 100])], &with_data, &NoProgress).unwrap();
    let out = tmp.path().join("out");
    let deal = vec![9u8; 800];
    // A sector that holds data is not committed capacity.
    let e = update::snap(&with_data, vec![source(&deal)], &out, &NoProgress).unwrap_err();
    assert!(e.to_string().contains("committed-capacity"), "{e}");
    assert!(!out.exists());
    // Too much data, or none.
    assert!(update::snap(&cc, vec![source(&[1u8; 4096])], &out, &NoProgress).is_err());
    assert!(update::snap(&cc, vec![source(&[])], &out, &NoProgress).is_err());
    assert!(!out.exists() && !strata_sealer::seal::work_dir(&out).exists());
    // Updated once; not twice; and not into an existing directory.
    update::snap(&cc, vec![source(&deal)], &out, &NoProgress).unwrap();
    let e = update::snap(
        &out,
        vec![source(&deal)],
        &tmp.path().join("twice"),
        &NoProgress,
    )
    .unwrap_err();
    assert!(e.to_string().contains("already updated"), "{e}");
    assert!(update::snap(&cc, vec![source(&deal)], &out, &NoProgress).is_err());
    // A flipped replica node is reported, and no output file is left.
    let sealed = out.join("sealed");
    let mut r = fs::read(&sealed).unwrap();
    r[64] ^= 1;
    fs::write(&sealed, &r).unwrap();
    let piece = tmp.path().join("piece");
    assert!(unseal_piece(&out, 0, &piece, &cfg.parent_cache_dir, &NoProgress).is_err());
    assert!(!piece.exists());
    // An older build's reader refuses an updated meta.json written as version 1.
    let meta_path = out.join("meta.json");
    let text = fs::read_to_string(&meta_path)
        .unwrap()
        .replace("\"version\": 2", "\"version\": 1");
    fs::write(&meta_path, text).unwrap();
    assert!(SectorMeta::load(&out).is_err());
}
