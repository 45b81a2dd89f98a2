//! Cross-crate checks: the registry, the sealer and the primitives agree on every shape.

use strata_params::PROOF_TYPES;
use strata_primitives::merkle::{tree_root, TreeShape};
use strata_primitives::node::Node;
use strata_sealer::pieces::{comm_d_from_data, comm_d_from_pieces, pad_bytes};
use strata_sealer::PieceInfo;

#[test]
fn every_proof_type_has_consistent_tree_shapes() {
    for pt in PROOF_TYPES {
        let d = pt.tree_d_shape();
        let r = pt.tree_r_shape();
        assert_eq!(d.leaves, pt.nodes());
        assert_eq!(r.leaves, pt.nodes());
        assert_eq!(
            d.arities.iter().map(|&a| a as u64).product::<u64>(),
            pt.nodes()
        );
        assert_eq!(
            r.arities.iter().map(|&a| a as u64).product::<u64>(),
            pt.nodes()
        );
        assert!(r.arities[..r.arities.len() - 1].iter().all(|&a| a == 8));
    }
}

#[test]
fn comm_d_from_pieces_equals_comm_d_of_the_laid_out_sector() {
    // A 4-node and a 16-node piece in a 64-node sector, placed by the layout rule (zeros between).
    let a = pad_bytes(&[1u8; 100]);
    let b = pad_bytes(&[2u8; 300]);
    let root = |n: &[Node]| {
        let mut s: &[Node] = n;
        tree_root(&TreeShape::binary(n.len() as u64), &mut s).unwrap()
    };
    let pieces = [
        PieceInfo {
            comm_p: root(&a),
            padded_size: a.len() as u64 * 32,
            raw_len: 100,
        },
        PieceInfo {
            comm_p: root(&b),
            padded_size: b.len() as u64 * 32,
            raw_len: 300,
        },
    ];
    let mut sector = vec![[0u8; 32]; 64];
    sector[..4].copy_from_slice(&a);
    sector[16..32].copy_from_slice(&b); // b is 16 nodes: aligned to 16
    let size = strata_primitives::sizes::SectorSize::KIB2;
    assert_eq!(
        comm_d_from_pieces(size, &pieces).unwrap(),
        comm_d_from_data(size, &sector).unwrap()
    );
}

#[test]
fn comm_d_of_an_all_zero_sector_is_the_zero_root() {
    let size = strata_primitives::sizes::SectorSize::KIB2;
    let zeros = vec![[0u8; 32]; 64];
    assert_eq!(
        comm_d_from_data(size, &zeros).unwrap(),
        strata_sealer::pieces::zero_root(6)
    );
}
