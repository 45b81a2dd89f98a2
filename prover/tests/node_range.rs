//! Node ranges: the vanilla verifiers require a value to be below 2^254 exactly where the circuits
//! decompose it into 254 bits, and accept any canonical field element elsewhere.
//!
//! The proofs here are forged in memory over chosen data and labels: a whole 2 KiB "sector"
//! (data, SDR labels with chosen overrides, tree_d, tree_c, tree_r_last) built with the sealer's
//! own label and column functions, so that every opening is valid and only the value under test
//! is out of range. The PoRep circuit is checked with the fast satisfaction checker.

use bellman::gadgets::test::TestConstraintSystem;
use bellman::Circuit;
use bls12_381::Scalar;
use strata_params::ProofType;
use strata_primitives::hash::hash_d;
use strata_primitives::merkle::{tree_root, MerkleProof, TreeShape};
use strata_primitives::node::{is_data_node, node_from_fr, node_to_fr, Node};
use strata_primitives::sizes::SectorSize;
use strata_prover::challenges::{porep_challenges, post_leaf_challenges};
use strata_prover::circuit::check::CheckCs;
use strata_prover::circuit::porep::{public_inputs, PorepCircuit};
use strata_prover::circuit::post::{public_inputs as post_public_inputs, PostCircuit};
use strata_prover::vanilla::porep::*;
use strata_prover::vanilla::post::*;
use strata_sealer::graph::{Graph, PARENTS};
use strata_sealer::labeling::label_reference;
use strata_sealer::seal::comm_r;
use strata_sealer::tree_c::column_hash;
use strata_sealer::SectorPaths;

mod common;

fn pt() -> ProofType {
    ProofType::for_size(SectorSize::KIB2).unwrap()
}

/// `n` moved into [2^254, r): its top bits become `01` and the next two zero (r starts 0x73).
fn high(n: &Node) -> Node {
    let mut x = *n;
    x[31] = 0x40 | (x[31] & 0x0f);
    assert!(!is_data_node(&x) && node_to_fr(&x).is_ok());
    x
}

/// Every level of a tree, leaves first.
fn levels(shape: &TreeShape, leaves: &[Node]) -> Vec<Vec<Node>> {
    let mut out = vec![leaves.to_vec()];
    for &a in &shape.arities {
        let next = out
            .last()
            .unwrap()
            .chunks(a)
            .map(|c| shape.hasher.hash_children(c).unwrap())
            .collect();
        out.push(next);
    }
    out
}

/// The opening of leaf `index` in a tree given by its levels.
fn open(shape: &TreeShape, levels: &[Vec<Node>], index: u64) -> MerkleProof {
    let mut idx = index as usize;
    let mut siblings = Vec::new();
    for (l, &a) in shape.arities.iter().enumerate() {
        let first = idx / a * a;
        siblings.push(
            (first..first + a)
                .filter(|&j| j != idx)
                .map(|j| levels[l][j])
                .collect(),
        );
        idx /= a;
    }
    MerkleProof {
        index,
        leaf: levels[0][index as usize],
        siblings,
    }
}

/// A sector as the verifier sees it, forged in memory.
struct Forged {
    public: SealPublicInputs,
    proof: SealPartitionProof,
    /// labels[layer − 1][node].
    labels: Vec<Vec<Node>>,
}

/// Honest-looking data: every node a data node.
fn honest_data() -> Vec<Node> {
    (0..pt().nodes())
        .map(|v| hash_d(&v.to_le_bytes()))
        .collect()
}

/// Seals `data` in memory for miner 1000, sector `number`, ticket `number` repeated — as
/// `common::seal_2kib` would — with `overrides` (layer, node, label) replacing computed labels
/// (later labels are computed from the replaced ones); proves partition 0 for `seed`.
fn forge(number: u64, data: &[Node], seed: Node, overrides: &[(usize, u64, Node)]) -> Forged {
    let pt = pt();
    let n = pt.nodes();
    let comm_d = tree_root(&pt.tree_d_shape(), &mut &data[..]).unwrap();
    let mut public = SealPublicInputs {
        proof_type: pt.id,
        prover_id: 1000,
        sector_number: number,
        ticket: [number as u8; 32],
        seed,
        comm_d,
        comm_r: [0; 32],
    };
    let rid = public.replica_id(&pt);
    let graph = Graph::new(&pt.porep_id(), n);
    let mut labels: Vec<Vec<Node>> = Vec::new();
    for layer in 1..=pt.layers {
        let mut cur: Vec<Node> = Vec::with_capacity(n as usize);
        for v in 0..n {
            let mut p = [0u32; PARENTS];
            graph.parents(v, &mut p);
            let mut ps: Vec<Node> = p[..6]
                .iter()
                .map(|&q| cur.get(q as usize).copied().unwrap_or_default())
                .collect();
            if layer > 1 {
                ps.extend(p[6..].iter().map(|&q| labels[layer - 2][q as usize]));
            }
            let mut label = label_reference(&rid, layer as u32, v, if v == 0 { &[] } else { &ps });
            if let Some(o) = overrides.iter().find(|o| o.0 == layer && o.1 == v) {
                label = o.2;
            }
            cur.push(label);
        }
        labels.push(cur);
    }
    let last = &labels[pt.layers - 1];
    let replica: Vec<Node> = data
        .iter()
        .zip(last)
        .map(|(d, k)| node_from_fr(&(node_to_fr(d).unwrap() + node_to_fr(k).unwrap())))
        .collect();
    let columns: Vec<Vec<Node>> = (0..n as usize)
        .map(|v| labels.iter().map(|l| l[v]).collect())
        .collect();
    let col_hashes: Vec<Node> = columns.iter().map(|c| column_hash(c).unwrap()).collect();
    let (d_shape, r_shape) = (pt.tree_d_shape(), pt.tree_r_shape());
    let tree_d = levels(&d_shape, data);
    let tree_c = levels(&r_shape, &col_hashes);
    let tree_r = levels(&r_shape, &replica);
    let comm_c = tree_c.last().unwrap()[0];
    let comm_r_last = tree_r.last().unwrap()[0];
    public.comm_r = comm_r(&comm_c, &comm_r_last);
    let column = |v: u64| ColumnProof {
        labels: columns[v as usize].clone(),
        opening: open(&r_shape, &tree_c, v),
    };
    let challenges = porep_challenges(&pt, &rid, &seed, 0)
        .into_iter()
        .map(|c| {
            let mut p = [0u32; PARENTS];
            graph.parents(c, &mut p);
            ChallengeProof {
                challenge: c,
                data: open(&d_shape, &tree_d, c),
                column: column(c),
                parents: p.iter().map(|&q| column(q as u64)).collect(),
                replica: open(&r_shape, &tree_r, c),
            }
        })
        .collect();
    Forged {
        public,
        proof: SealPartitionProof {
            partition: 0,
            comm_c,
            comm_r_last,
            challenges,
        },
        labels,
    }
}

/// The PoRep circuit's verdict: it synthesizes, every constraint holds, and its public inputs
/// are the verifier's.
fn circuit_accepts(public: &SealPublicInputs, proof: &SealPartitionProof) -> bool {
    let pt = pt();
    let mut cs = CheckCs::default();
    if PorepCircuit::from_vanilla(&pt, public, proof)
        .synthesize(&mut cs)
        .is_err()
    {
        return false;
    }
    cs.is_satisfied() && public_inputs(&pt, public, proof.partition).as_deref() == Some(cs.inputs())
}

fn parents_of(c: u64) -> [u32; PARENTS] {
    let mut p = [0u32; PARENTS];
    Graph::new(&pt().porep_id(), pt().nodes()).parents(c, &mut p);
    p
}

const SEED: Node = [0x2b; 32];

#[test]
fn forged_sectors_match_the_sealer_and_verify() {
    // The forging is the sealer's computation: same commitments and proof as a real seal.
    let tmp = tempfile::tempdir().unwrap();
    let (dir, meta) = common::seal_2kib(tmp.path(), 6, 5);
    let unsealed = std::fs::read(SectorPaths::new(&dir).unsealed()).unwrap();
    let data: Vec<Node> = unsealed.chunks(32).map(|c| c.try_into().unwrap()).collect();
    let f = forge(6, &data, SEED, &[]);
    assert_eq!(f.public, SealPublicInputs::for_sector(&meta, SEED));
    assert_eq!(f.proof, prove_seal_partition(&dir, &SEED, 0).unwrap());

    let f = forge(1, &honest_data(), SEED, &[]);
    verify_seal_partition(&f.public, &f.proof).unwrap();
    assert!(circuit_accepts(&f.public, &f.proof));
}

#[test]
fn a_data_leaf_at_or_above_2_254_is_rejected_by_both() {
    // Every data node moved above 2^254 (still a field element): whatever is challenged, its
    // leaf is out of range, yet every opening and the encoding are valid.
    let data: Vec<Node> = honest_data().iter().map(high).collect();
    let f = forge(1, &data, SEED, &[]);
    let c = f.proof.challenges[0].challenge;
    assert_eq!(
        verify_seal_partition(&f.public, &f.proof),
        Err(SealRejection::DataLeafRange { challenge: c })
    );
    assert!(!circuit_accepts(&f.public, &f.proof));
}

#[test]
fn a_tree_d_sibling_at_or_above_2_254_is_rejected_by_both() {
    // Odd data nodes above 2^254: an even challenge has a data leaf in range and an out-of-range
    // sibling at level 0. Find a seed whose first challenge is even.
    let data: Vec<Node> = honest_data()
        .iter()
        .enumerate()
        .map(|(v, d)| if v % 2 == 1 { high(d) } else { *d })
        .collect();
    let f = (0..=255u8)
        .map(|s| forge(1, &data, [s; 32], &[]))
        .find(|f| f.proof.challenges[0].challenge % 2 == 0)
        .expect("some seed draws an even challenge");
    let c = f.proof.challenges[0].challenge;
    assert!(is_data_node(&f.proof.challenges[0].data.leaf));
    assert_eq!(
        verify_seal_partition(&f.public, &f.proof),
        Err(SealRejection::DataPathRange {
            challenge: c,
            level: 0
        })
    );
    assert!(!circuit_accepts(&f.public, &f.proof));
}

/// Forges with the label of `node` in `layer` moved above 2^254.
fn with_high_label(layer: usize, node: u64) -> Forged {
    let honest = forge(1, &honest_data(), SEED, &[]);
    let x = high(&honest.labels[layer - 1][node as usize]);
    let f = forge(1, &honest_data(), SEED, &[(layer, node, x)]);
    assert_eq!(f.labels[layer - 1][node as usize], x);
    f
}

/// The first challenge and its parents, with an expander parent that is not also a base parent
/// of any challenge nor a challenge itself.
fn first_challenge() -> (u64, [u32; PARENTS], u64) {
    let f = forge(1, &honest_data(), SEED, &[]);
    let challenges: Vec<u64> = f.proof.challenges.iter().map(|c| c.challenge).collect();
    let c = challenges[0];
    let p = parents_of(c);
    let base_anywhere: Vec<u32> = challenges
        .iter()
        .flat_map(|&d| parents_of(d)[..6].to_vec())
        .collect();
    let e = p[6..]
        .iter()
        .map(|&q| q as u64)
        .find(|q| !base_anywhere.contains(&(*q as u32)) && !challenges.contains(q))
        .expect("an expander parent used only as an expander");
    (c, p, e)
}

#[test]
fn base_parent_labels_at_or_above_2_254_are_rejected_by_both_in_every_layer() {
    let (c, p, _) = first_challenge();
    let q = p[1] as u64;
    for layer in 1..=pt().layers {
        let f = with_high_label(layer, q);
        let got = verify_seal_partition(&f.public, &f.proof);
        assert!(
            matches!(
                got,
                Err(SealRejection::LabelRange { challenge, column: ColumnRef::Parent(k), layer: l })
                    if challenge == c && l == layer && p[k] as u64 == q
            ),
            "layer {layer}: {got:?}"
        );
        assert!(!circuit_accepts(&f.public, &f.proof), "layer {layer}");
    }
}

#[test]
fn expander_parent_labels_below_the_last_layer_are_range_checked_by_both() {
    let (c, p, e) = first_challenge();
    for layer in 1..pt().layers {
        let f = with_high_label(layer, e);
        let got = verify_seal_partition(&f.public, &f.proof);
        assert!(
            matches!(
                got,
                Err(SealRejection::LabelRange { challenge, column: ColumnRef::Parent(k), layer: l })
                    if challenge == c && l == layer && k >= 6 && p[k] as u64 == e
            ),
            "layer {layer}: {got:?}"
        );
        assert!(!circuit_accepts(&f.public, &f.proof), "layer {layer}");
    }
}

#[test]
fn an_expander_parent_last_layer_label_is_hashed_by_neither_so_both_accept_it() {
    // The last layer's label of an expander parent enters no label preimage, only its column
    // hash (Poseidon over field elements): the circuit does not range-check it, so neither does
    // the vanilla verifier.
    let (_, p, e) = first_challenge();
    let l = pt().layers;
    let f = with_high_label(l, e);
    let k = (6..PARENTS).find(|&k| p[k] as u64 == e).unwrap();
    assert!(!is_data_node(
        &f.proof.challenges[0].parents[k].labels[l - 1]
    ));
    assert_eq!(verify_seal_partition(&f.public, &f.proof), Ok(()));
    assert!(circuit_accepts(&f.public, &f.proof));
}

#[test]
fn an_own_label_at_or_above_2_254_is_rejected_by_both() {
    let (c, _, _) = first_challenge();
    for layer in 1..=pt().layers {
        let f = with_high_label(layer, c);
        assert_eq!(
            verify_seal_partition(&f.public, &f.proof),
            Err(SealRejection::LabelRange {
                challenge: c,
                column: ColumnRef::Own,
                layer
            }),
            "layer {layer}"
        );
        assert!(!circuit_accepts(&f.public, &f.proof), "layer {layer}");
    }
}

#[test]
fn rejection_messages_name_the_value() {
    let e = SealRejection::LabelRange {
        challenge: 9,
        column: ColumnRef::Parent(7),
        layer: 1,
    };
    assert_eq!(
        e.to_string(),
        "challenge 9: parent 7 column label of layer 1 is not below 2^254"
    );
    assert!(SealRejection::DataLeafRange { challenge: 3 }
        .to_string()
        .contains("data leaf"));
}

/// A forged sector for PoSt: replica leaves `leaves`, comm_c fixed.
fn post_sector(number: u64, leaves: &[Node], count: usize) -> (PostSector, SectorPostProof) {
    let shape = pt().tree_r_shape();
    let tree = levels(&shape, leaves);
    let comm_c = node_from_fr(&Scalar::from(77u64));
    let comm_r_last = tree.last().unwrap()[0];
    let openings = post_leaf_challenges(&RAND, number, count, pt().nodes())
        .into_iter()
        .map(|c| open(&shape, &tree, c))
        .collect();
    (
        PostSector {
            sector_number: number,
            comm_r: comm_r(&comm_c, &comm_r_last),
        },
        SectorPostProof {
            sector_number: number,
            comm_c,
            comm_r_last,
            openings,
        },
    )
}

const RAND: Node = [0x19; 32];

fn post_circuit_accepts(public: &[PostSector], proofs: &[SectorPostProof], count: usize) -> bool {
    let pt = pt();
    let mut cs = TestConstraintSystem::new();
    if PostCircuit::from_vanilla(&pt, public, proofs)
        .synthesize(&mut cs)
        .is_err()
    {
        return false;
    }
    let inputs = post_public_inputs(&pt, &RAND, public, count).unwrap();
    cs.is_satisfied() && cs.verify(&inputs)
}

#[test]
fn post_replica_leaves_may_be_any_field_element_in_both() {
    // Encoded nodes `data + label` are often ≥ 2^254: PoSt leaves are range-checked by neither
    // the circuit nor the vanilla verifier, only required to be field elements.
    let pt = pt();
    let leaves: Vec<Node> = honest_data().iter().map(high).collect();
    let count = pt.window_post_challenges;
    let (s1, p1) = post_sector(1, &leaves, count);
    let (s2, p2) = post_sector(2, &honest_data(), count);
    let (public, proofs) = (vec![s1, s2], vec![p1, p2]);
    assert!(proofs[0].openings.iter().all(|o| !is_data_node(&o.leaf)));
    assert_eq!(
        verify_window_post_partition(&pt, &RAND, &public, &proofs),
        Ok(())
    );
    assert!(post_circuit_accepts(&public, &proofs, count));

    // A leaf that is not a field element at all is refused by both.
    let mut q = proofs.clone();
    q[0].openings[0].leaf = [0xff; 32];
    assert!(matches!(
        verify_window_post_partition(&pt, &RAND, &public, &q),
        Err(PostRejection::Opening { index: 0, .. })
    ));
    assert!(!post_circuit_accepts(&public, &q, count));

    // WinningPoSt: same rule.
    let count = pt.winning_post_challenges;
    let (s, p) = post_sector(1, &leaves, count);
    assert_eq!(verify_winning_post(&pt, 1000, &RAND, &[s], &p), Ok(()));
    assert!(post_circuit_accepts(&[s], &[p], count));
}
