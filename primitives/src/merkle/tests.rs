use super::*;
use crate::hash::hash_d;
use crate::node::node_from_fr;

fn data_leaves(n: u64, salt: u8) -> Vec<Node> {
    (0..n)
        .map(|i| hash_d(&[&i.to_le_bytes()[..], &[salt]].concat()))
        .collect()
}

/// Level-by-level in-memory reference (no chunking, no files).
fn reference_root(shape: &TreeShape, leaves: &[Node]) -> Node {
    let mut cur = leaves.to_vec();
    for &a in &shape.arities {
        cur = cur
            .chunks(a)
            .map(|c| shape.hasher.hash_children(c).unwrap())
            .collect();
    }
    cur[0]
}

#[test]
fn shapes() {
    let s = TreeShape::oct(1 << 18);
    assert_eq!(s.arities, vec![8; 6]);
    let s = TreeShape::oct(1 << 31);
    assert_eq!(s.arities.last(), Some(&2));
    assert_eq!(s.height(), 11);
    let b = TreeShape::binary(64);
    assert_eq!(b.height(), 6);
    assert_eq!(b.upper_len(), 63);
    assert_eq!(b.level_offset(1), 0);
    assert_eq!(b.level_offset(2), 32);
}

#[test]
fn chunked_build_matches_reference_across_chunk_boundaries() {
    // 2^20 leaves spans four chunks of the binary tree; 2^19 spans two of the arity-8 tree.
    for (shape, n) in [
        (TreeShape::binary(1 << 20), 1u64 << 20),
        (TreeShape::binary(64), 64),
    ] {
        let leaves = data_leaves(n, 1);
        let mut src: &[Node] = &leaves;
        assert_eq!(
            tree_root(&shape, &mut src).unwrap(),
            reference_root(&shape, &leaves)
        );
    }
    let shape = TreeShape::oct(1 << 19); // two chunks, top level arity 2
    let leaves = data_leaves(1 << 19, 2);
    let mut src: &[Node] = &leaves;
    let root = tree_root(&shape, &mut src).unwrap();
    assert_eq!(root, reference_root(&shape, &leaves));
}

#[test]
fn binary_root_matches_rs_merkle_with_hash_d() {
    #[derive(Clone)]
    struct HashD;
    impl rs_merkle::Hasher for HashD {
        type Hash = [u8; 32];
        fn hash(data: &[u8]) -> [u8; 32] {
            hash_d(data)
        }
    }
    for n in [2u64, 8, 64, 1024] {
        let leaves = data_leaves(n, 3);
        let rs = rs_merkle::MerkleTree::<HashD>::from_leaves(&leaves)
            .root()
            .unwrap();
        let mut src: &[Node] = &leaves;
        assert_eq!(
            tree_root(&TreeShape::binary(n), &mut src).unwrap(),
            rs,
            "n = {n}"
        );
    }
}

fn write_leaves(dir: &std::path::Path, leaves: &[Node]) -> std::path::PathBuf {
    let p = dir.join("leaves");
    std::fs::write(&p, crate::node::nodes_as_bytes(leaves)).unwrap();
    p
}

#[test]
fn stored_tree_proofs_verify_and_every_tampering_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    for (shape, name) in [
        (TreeShape::binary(256), "bin"),
        (TreeShape::oct(512), "oct"),
        (TreeShape::oct(1024), "oct2"),
    ] {
        let leaves: Vec<Node> = if shape.hasher == TreeHasher::Poseidon {
            (0..shape.leaves)
                .map(|i| node_from_fr(&bls12_381::Scalar::from(i * 7 + 1)))
                .collect()
        } else {
            data_leaves(shape.leaves, 4)
        };
        let lp = write_leaves(dir.path(), &leaves);
        let up = dir.path().join(name);
        let mut src: &[Node] = &leaves;
        let root = build_tree(&shape, &mut src, &up).unwrap();
        assert_eq!(root, reference_root(&shape, &leaves));
        assert!(!dir.path().join(format!("{name}.tmp")).exists());
        let tree = TreeReader::open(shape.clone(), &lp, &up).unwrap();
        assert_eq!(tree.root(), root);
        assert_eq!(tree.recompute_root().unwrap(), root);
        for index in [0, 1, shape.leaves / 2 + 3, shape.leaves - 1] {
            let p = tree.prove(index);
            assert!(p.verify(&shape, &root), "{name} {index}");
            // wrong root
            let mut bad_root = root;
            bad_root[0] ^= 1;
            assert!(!p.verify(&shape, &bad_root));
            // tampered leaf
            let mut q = p.clone();
            q.leaf[0] ^= 1;
            assert!(!q.verify(&shape, &root));
            // wrong index (claims another position)
            let mut q = p.clone();
            q.index = (index + 1) % shape.leaves;
            assert!(!q.verify(&shape, &root));
            // out-of-range index
            let mut q = p.clone();
            q.index = shape.leaves + index;
            assert!(!q.verify(&shape, &root));
            // every sibling at every level
            for l in 0..p.siblings.len() {
                for s in 0..p.siblings[l].len() {
                    let mut q = p.clone();
                    q.siblings[l][s][1] ^= 0x10;
                    assert!(!q.verify(&shape, &root), "{name} level {l} sibling {s}");
                }
            }
            // truncated path and a missing sibling
            let mut q = p.clone();
            q.siblings.pop();
            assert!(!q.verify(&shape, &root));
            let mut q = p.clone();
            q.siblings[0].pop();
            assert!(!q.verify(&shape, &root));
        }
    }
}

#[test]
fn wrong_size_files_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let leaves = data_leaves(64, 5);
    let lp = write_leaves(dir.path(), &leaves);
    let up = dir.path().join("upper");
    let mut src: &[Node] = &leaves;
    build_tree(&TreeShape::binary(64), &mut src, &up).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&up).unwrap();
    f.set_len(100).unwrap();
    match TreeReader::open(TreeShape::binary(64), &lp, &up) {
        Err(TreeError::WrongSize {
            expected, actual, ..
        }) => assert_eq!((expected, actual), (63 * 32, 100)),
        other => panic!("expected WrongSize, got {:?}", other.err()),
    }
}

#[test]
fn non_canonical_leaf_is_a_typed_error() {
    let mut leaves: Vec<Node> = (0..64u64)
        .map(|i| node_from_fr(&bls12_381::Scalar::from(i)))
        .collect();
    leaves[9] = [0xff; 32];
    let mut src: &[Node] = &leaves;
    let err = tree_root(&TreeShape::oct(64), &mut src).unwrap_err();
    assert!(
        matches!(err, TreeError::NonCanonical { level: 0, .. }),
        "{err}"
    );
}
