use super::fast::{Backend, LANES};
use super::*;
use crate::node::{node_from_fr, node_to_fr, Node, NonCanonicalNode};

fn vectors() -> Vec<(Vec<Scalar>, Scalar)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/poseidon.jsonl");
    let text = std::fs::read_to_string(path)
        .expect("primitives/testdata/poseidon.jsonl (vendored from the shared neptune vectors)");
    let parse = |h: &str| {
        let b: [u8; 32] = hex::decode(h).unwrap().try_into().unwrap();
        Option::<Scalar>::from(Scalar::from_bytes(&b)).expect("canonical element")
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let inputs: Vec<Scalar> = v["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| parse(x.as_str().unwrap()))
                .collect();
            assert_eq!(inputs.len() as u64, v["arity"].as_u64().unwrap());
            (inputs, parse(v["output"].as_str().unwrap()))
        })
        .collect()
}

#[test]
fn neptune_vectors_reproduce_reference_and_optimised() {
    let vs = vectors();
    assert!(vs.len() >= 12, "expected the shared vectors");
    let mut arities = std::collections::BTreeSet::new();
    for (inputs, expected) in vs {
        let p = Poseidon::for_arity(inputs.len()).unwrap();
        arities.insert(inputs.len());
        assert_eq!(
            p.hash_reference(&inputs),
            expected,
            "reference, arity {}",
            inputs.len()
        );
        assert_eq!(
            p.hash(&inputs),
            expected,
            "optimised, arity {}",
            inputs.len()
        );
    }
    assert_eq!(arities.into_iter().collect::<Vec<_>>(), vec![2, 8, 11]);
}

#[test]
fn optimised_equals_reference_on_random_inputs() {
    let mut seed = [7u8; 32];
    for arity in SUPPORTED_ARITIES {
        let p = Poseidon::for_arity(arity).unwrap();
        for round in 0..20u8 {
            seed[0] = round;
            let inputs: Vec<Scalar> = (0..arity)
                .map(|i| {
                    seed[1] = i as u8;
                    node_to_fr(&crate::hash::hash_d(&seed)).unwrap()
                })
                .collect();
            assert_eq!(p.hash(&inputs), p.hash_reference(&inputs));
        }
    }
}

#[test]
fn constant_counts_and_round_numbers() {
    for (arity, r_p) in [(2, 55), (8, 57), (11, 57)] {
        let p = Poseidon::for_arity(arity).unwrap();
        assert_eq!(p.partial_rounds, r_p);
        assert_eq!(p.round_constants.len(), (8 + r_p) * (arity + 1));
        assert_eq!(p.sparse.len(), r_p);
    }
    assert!(Poseidon::for_arity(3).is_none());
}

#[test]
fn output_round_trips_through_node_bytes() {
    let out = hash(&[Scalar::ONE, Scalar::ZERO]);
    assert_eq!(node_to_fr(&node_from_fr(&out)).unwrap(), out);
}

// ---- The fast (blst) path against the `Scalar` ones. ----

/// r − 1, little-endian.
const R_MINUS_1: Node = {
    let mut r = R;
    r[0] = 0;
    r
};
/// The modulus r, little-endian.
const R: Node = [
    0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x5b, 0xfe, 0xff, 0x02, 0xa4, 0xbd, 0x53,
    0x05, 0xd8, 0xa1, 0x09, 0x08, 0xd8, 0x39, 0x33, 0x48, 0x7d, 0x9d, 0x29, 0x53, 0xa7, 0xed, 0x73,
];

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Random bytes, values spread over the whole 256-bit range.
    fn bytes(&mut self) -> Node {
        let mut n = [0u8; 32];
        for c in n.chunks_exact_mut(8) {
            c.copy_from_slice(&self.next().to_le_bytes());
        }
        n
    }

    /// A random canonical node, often ≥ 2^254 (top byte up to 0x73) and sometimes near r.
    fn canonical(&mut self) -> Node {
        loop {
            let mut n = self.bytes();
            match self.next() % 4 {
                0 => n[31] &= 0x3f,                     // a data node
                1 => n[..24].copy_from_slice(&R[..24]), // close to r
                _ => n[31] %= 0x74,
            }
            if node_to_fr(&n).is_ok() {
                return n;
            }
        }
    }
}

fn reference_node(p: &Poseidon, nodes: &[Node]) -> Node {
    let frs: Vec<Scalar> = nodes.iter().map(|n| node_to_fr(n).unwrap()).collect();
    node_from_fr(&p.hash_reference(&frs))
}

#[test]
fn fast_path_reproduces_neptune_vectors() {
    for (inputs, expected) in vectors() {
        let p = Poseidon::for_arity(inputs.len()).unwrap();
        assert_eq!(p.hash_scalar(&inputs), expected);
        let nodes: Vec<Node> = inputs.iter().map(node_from_fr).collect();
        assert_eq!(p.hash_nodes(&nodes).unwrap(), node_from_fr(&expected));
        let mut out = [[0u8; 32]; 1];
        p.hash_node_groups(&nodes, &mut out).unwrap();
        assert_eq!(out[0], node_from_fr(&expected));
        let layers: Vec<Vec<Node>> = nodes.iter().map(|n| vec![[0u8; 32], *n]).collect();
        p.hash_node_columns(&layers, 1, &mut out).unwrap();
        assert_eq!(out[0], node_from_fr(&expected));
    }
}

#[test]
fn fast_path_equals_reference_on_random_inputs() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for arity in SUPPORTED_ARITIES {
        let p = Poseidon::for_arity(arity).unwrap();
        for _ in 0..100 {
            let nodes: Vec<Node> = (0..arity).map(|_| rng.canonical()).collect();
            let expected = reference_node(p, &nodes);
            assert_eq!(p.hash_nodes(&nodes).unwrap(), expected, "arity {arity}");
            let frs: Vec<Scalar> = nodes.iter().map(|n| node_to_fr(n).unwrap()).collect();
            assert_eq!(node_from_fr(&p.hash(&frs)), expected);
            assert_eq!(node_from_fr(&p.hash_scalar(&frs)), expected);
        }
    }
}

#[test]
fn fast_path_edge_values() {
    let mut one = [0u8; 32];
    one[0] = 1;
    let mut r_minus_2 = R_MINUS_1;
    r_minus_2[0] = 0xff;
    r_minus_2[4] = 0xfe; // r − 1 − 1 borrows through the zero low limb
    r_minus_2[..4].fill(0xff);
    assert!(node_to_fr(&r_minus_2).is_ok());
    let top = {
        let mut n = [0xffu8; 32];
        n[31] = 0x3f; // 2^254 − 1: canonical
        n
    };
    let edges = [[0u8; 32], one, R_MINUS_1, r_minus_2, top];
    for arity in SUPPORTED_ARITIES {
        let p = Poseidon::for_arity(arity).unwrap();
        for a in &edges {
            for b in &edges {
                let nodes: Vec<Node> = (0..arity)
                    .map(|i| if i % 2 == 0 { *a } else { *b })
                    .collect();
                assert_eq!(p.hash_nodes(&nodes).unwrap(), reference_node(p, &nodes));
            }
        }
    }
}

#[test]
fn fast_path_rejects_exactly_the_non_canonical_nodes() {
    let mut r_plus_1 = R;
    r_plus_1[0] = 2;
    let mut bad = vec![R, r_plus_1, [0xff; 32]];
    let mut n = [0xffu8; 32];
    n[31] = 0x7f; // 2^255 − 1
    bad.push(n);
    n[31] = 0x74; // just above r's top byte
    bad.push(n);
    let mut r_high_limbs = [0u8; 32];
    r_high_limbs[8..].copy_from_slice(&R[8..]); // equal top limbs, smaller low limb: canonical
    assert!(node_to_fr(&r_high_limbs).is_ok());
    for arity in SUPPORTED_ARITIES {
        let p = Poseidon::for_arity(arity).unwrap();
        for b in &bad {
            assert!(node_to_fr(b).is_err());
            for pos in [0, arity / 2, arity - 1] {
                let mut nodes = vec![r_high_limbs; arity];
                nodes[pos] = *b;
                assert_eq!(p.hash_nodes(&nodes), Err(NonCanonicalNode(*b)));
            }
        }
        // The check agrees with `node_to_fr` on random bytes near and far from r.
        let mut rng = Rng(arity as u64 * 1_000_003);
        for i in 0..2000 {
            let mut n = rng.bytes();
            if i % 2 == 0 {
                // Share r's top bytes from a random position: values just below and above r.
                let k = (rng.next() % 32) as usize;
                n[k..].copy_from_slice(&R[k..]);
            }
            let mut nodes = vec![[0u8; 32]; arity];
            nodes[i % arity] = n;
            match node_to_fr(&n) {
                Ok(_) => assert_eq!(p.hash_nodes(&nodes).unwrap(), reference_node(p, &nodes)),
                Err(e) => assert_eq!(p.hash_nodes(&nodes), Err(e)),
            }
        }
    }
}

/// The batch backends this CPU can run.
fn backends() -> Vec<Backend> {
    let mut b = vec![Backend::Blst];
    if Backend::best() != Backend::Blst {
        b.push(Backend::best());
    }
    b
}

#[test]
fn fast_batches_equal_single_hashes_and_report_the_first_bad_node() {
    let mut rng = Rng(42);
    for backend in backends() {
        for arity in SUPPORTED_ARITIES {
            let p = Poseidon::for_arity(arity).unwrap();
            for n in [1, LANES, 2 * LANES + 1, 7, 8, 9, 17] {
                batch_case(p, backend, n, &mut rng);
            }
        }
    }
}

fn batch_case(p: &Poseidon, backend: Backend, n: usize, rng: &mut Rng) {
    let arity = p.arity();
    let children: Vec<Node> = (0..arity * n).map(|_| rng.canonical()).collect();
    let expected: Vec<Node> = children
        .chunks(arity)
        .map(|c| reference_node(p, c))
        .collect();
    let mut out = vec![[0u8; 32]; n];
    p.hash_node_groups_with(backend, &children, &mut out)
        .unwrap();
    assert_eq!(out, expected, "groups, {backend:?}, arity {arity}, n {n}");

    // The same inputs as columns, shifted by `start` inside longer layers.
    let start = 3;
    let mut layers: Vec<Vec<Node>> = (0..arity)
        .map(|l| {
            let mut layer = vec![R; start]; // never read
            layer.extend((0..n).map(|c| children[c * arity + l]));
            layer.push(R);
            layer
        })
        .collect();
    let mut cols = vec![[0u8; 32]; n];
    p.hash_node_columns_with(backend, &layers, start, &mut cols)
        .unwrap();
    assert_eq!(cols, expected, "columns, {backend:?}, arity {arity}, n {n}");

    // Two bad nodes: the first in (output, input) order is reported.
    let mut bad1 = R;
    bad1[0] = 7;
    let mut bad2 = R;
    bad2[0] = 9;
    let mut broken = children.clone();
    broken[arity * (n - 1) + arity - 1] = bad2;
    broken[arity * (n / 2) + arity / 2] = bad1;
    assert_eq!(
        p.hash_node_groups_with(backend, &broken, &mut out),
        Err(NonCanonicalNode(bad1))
    );
    layers[arity - 1][start + n - 1] = bad2;
    layers[arity / 2][start + n / 2] = bad1;
    assert_eq!(
        p.hash_node_columns_with(backend, &layers, start, &mut cols),
        Err(NonCanonicalNode(bad1))
    );
}

#[test]
fn batch_backends_equal_reference_on_random_and_edge_inputs() {
    let mut rng = Rng(0x5eed);
    let mut edges = [[0u8; 32], R_MINUS_1, [0xff; 32]];
    edges[2][31] = 0x3f; // 2^254 − 1
    for backend in backends() {
        for arity in SUPPORTED_ARITIES {
            let p = Poseidon::for_arity(arity).unwrap();
            // 64 random groups, then groups made of edge values only.
            let mut children: Vec<Node> = (0..64 * arity).map(|_| rng.canonical()).collect();
            for g in 0..3 * 3 {
                children.extend((0..arity).map(|i| edges[(g + i * (g / 3)) % 3]));
            }
            let mut out = vec![[0u8; 32]; children.len() / arity];
            p.hash_node_groups_with(backend, &children, &mut out)
                .unwrap();
            for (o, c) in out.iter().zip(children.chunks(arity)) {
                assert_eq!(*o, reference_node(p, c), "{backend:?}, arity {arity}");
            }
        }
    }
}

#[test]
fn oct_tree_root_equals_reference_levels() {
    use crate::merkle::{tree_root, TreeError, TreeShape};
    let mut rng = Rng(8);
    let p = Poseidon::for_arity(8).unwrap();
    let leaves: Vec<Node> = (0..8 * 8 * 8 * 8).map(|_| rng.canonical()).collect();
    let mut level = leaves.clone();
    while level.len() > 1 {
        level = level.chunks(8).map(|c| reference_node(p, c)).collect();
    }
    let shape = TreeShape::oct(leaves.len() as u64);
    assert_eq!(tree_root(&shape, &mut &leaves[..]).unwrap(), level[0]);

    let mut bad = leaves;
    bad[1000] = R;
    match tree_root(&shape, &mut &bad[..]) {
        Err(TreeError::NonCanonical {
            level: 0, source, ..
        }) => {
            assert_eq!(source, NonCanonicalNode(R))
        }
        other => panic!("expected a non-canonical leaf error, got {other:?}"),
    }
}

#[test]
fn batch_backends_agree_on_many_random_inputs() {
    let backends = backends();
    if backends.len() < 2 {
        return; // no second backend on this CPU
    }
    let mut rng = Rng(0xb10c);
    for arity in SUPPORTED_ARITIES {
        let p = Poseidon::for_arity(arity).unwrap();
        let children: Vec<Node> = (0..1024 * arity).map(|_| rng.canonical()).collect();
        let outs: Vec<Vec<Node>> = backends
            .iter()
            .map(|b| {
                let mut out = vec![[0u8; 32]; 1024];
                p.hash_node_groups_with(*b, &children, &mut out).unwrap();
                out
            })
            .collect();
        assert!(outs.windows(2).all(|w| w[0] == w[1]), "arity {arity}");
    }
}
