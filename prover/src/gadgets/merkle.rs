//! Merkle inclusion in the Poseidon trees (tree_c, tree_r_last): arity 8, with an arity-2 top
//! level when the height is not a multiple of 3.
//!
//! Per arity-8 level: the 3 index bits (3 constraints), the 8 one-hot position selectors (12), the
//! insertion of the current node among the 7 siblings (14), and Poseidon-8 (388): 417. An arity-2
//! level: 1 bit, the two ordered children (2), Poseidon-2 (238): 241.

use super::poseidon::poseidon_hash;
use bellman::gadgets::boolean::Boolean;
use bellman::gadgets::num::AllocatedNum;
use bellman::{ConstraintSystem, LinearCombination, SynthesisError};
use bls12_381::Scalar;
use ff::Field;
use strata_primitives::merkle::TreeShape;

/// Constraints of one opening in a tree of `shape`, index bits included.
pub fn constraint_count(shape: &TreeShape) -> usize {
    shape
        .arities
        .iter()
        .map(|&a| if a == 8 { 417 } else { 241 })
        .sum()
}

/// Number of index bits for `shape` (3 per arity-8 level, 1 per arity-2 level).
pub fn index_bits(shape: &TreeShape) -> usize {
    shape
        .arities
        .iter()
        .map(|&a| a.trailing_zeros() as usize)
        .sum()
}

fn lc_of<CS: ConstraintSystem<Scalar>>(b: &Boolean) -> LinearCombination<Scalar> {
    b.lc(CS::one(), Scalar::ONE)
}

/// `child = base + sel·(x − base)`, or with an extra `extra` term: one constraint, one variable.
fn select<CS: ConstraintSystem<Scalar>>(
    mut cs: CS,
    base: &AllocatedNum<Scalar>,
    sel: &Boolean,
    x: &AllocatedNum<Scalar>,
    extra: Option<&AllocatedNum<Scalar>>,
) -> Result<AllocatedNum<Scalar>, SynthesisError> {
    let value = match (base.get_value(), sel.get_value(), x.get_value()) {
        (Some(b), Some(s), Some(v)) => {
            Some(if s { v } else { b } + extra.and_then(|e| e.get_value()).unwrap_or(Scalar::ZERO))
        }
        _ => None,
    };
    let child = AllocatedNum::alloc(cs.namespace(|| "child"), || {
        value.ok_or(SynthesisError::AssignmentMissing)
    })?;
    let sel_lc = lc_of::<CS>(sel);
    cs.enforce(
        || "select",
        |lc| lc + &sel_lc,
        |lc| lc + x.get_variable() - base.get_variable(),
        |lc| {
            let lc = lc + child.get_variable() - base.get_variable();
            match extra {
                Some(e) => lc - e.get_variable(),
                None => lc,
            }
        },
    );
    Ok(child)
}

/// `g · (a − b)` as a new variable (one constraint), for an LC-valued boolean sum `g`.
fn product<CS: ConstraintSystem<Scalar>>(
    mut cs: CS,
    g: &[Boolean],
    a: &AllocatedNum<Scalar>,
    b: &AllocatedNum<Scalar>,
) -> Result<AllocatedNum<Scalar>, SynthesisError> {
    let gv = g
        .iter()
        .try_fold(false, |acc, x| x.get_value().map(|v| acc | v));
    let value = gv
        .zip(a.get_value())
        .zip(b.get_value())
        .map(|((g, a), b)| if g { a - b } else { Scalar::ZERO });
    let out = AllocatedNum::alloc(cs.namespace(|| "product"), || {
        value.ok_or(SynthesisError::AssignmentMissing)
    })?;
    let g_lc = g
        .iter()
        .fold(LinearCombination::zero(), |acc, x| acc + &lc_of::<CS>(x));
    cs.enforce(
        || "g*(a-b)",
        |lc| lc + &g_lc,
        |lc| lc + a.get_variable() - b.get_variable(),
        |lc| lc + out.get_variable(),
    );
    Ok(out)
}

/// Places `cur` at position `bits` (little-endian) among `sibs` (arity − 1 of them).
fn insert<CS: ConstraintSystem<Scalar>>(
    mut cs: CS,
    cur: &AllocatedNum<Scalar>,
    bits: &[Boolean],
    sibs: &[AllocatedNum<Scalar>],
) -> Result<Vec<AllocatedNum<Scalar>>, SynthesisError> {
    if sibs.len() == 1 {
        // Arity 2: child0 = cur + b·(sib − cur); child1 = cur + sib − child0.
        let c0 = select(cs.namespace(|| "left"), cur, &bits[0], &sibs[0], None)?;
        let v1 = cur
            .get_value()
            .zip(sibs[0].get_value())
            .zip(c0.get_value())
            .map(|((a, b), c)| a + b - c);
        let c1 = AllocatedNum::alloc(cs.namespace(|| "right"), || {
            v1.ok_or(SynthesisError::AssignmentMissing)
        })?;
        cs.enforce(
            || "right = cur + sib - left",
            |lc| lc + cur.get_variable() + sibs[0].get_variable() - c0.get_variable(),
            |lc| lc + CS::one(),
            |lc| lc + c1.get_variable(),
        );
        return Ok(vec![c0, c1]);
    }
    assert_eq!(sibs.len(), 7, "Poseidon trees have arity 2 or 8");
    // One-hot selectors e_k = [pos == k] from the 3 bits: 4 + 8 ANDs.
    let (b0, b1, b2) = (&bits[0], &bits[1], &bits[2]);
    let mut hi = Vec::with_capacity(4);
    for k in 0..4usize {
        let x1 = if k & 1 == 1 { b1.clone() } else { b1.not() };
        let x2 = if k & 2 == 2 { b2.clone() } else { b2.not() };
        hi.push(Boolean::and(cs.namespace(|| format!("hi {k}")), &x1, &x2)?);
    }
    let mut e = Vec::with_capacity(8);
    for k in 0..8usize {
        let x0 = if k & 1 == 1 { b0.clone() } else { b0.not() };
        e.push(Boolean::and(
            cs.namespace(|| format!("e {k}")),
            &x0,
            &hi[k >> 1],
        )?);
    }
    // child_k = sib[k-1] + [pos > k]·(sib[k] − sib[k-1]) + [pos == k]·(cur − sib[k-1]).
    let mut children = Vec::with_capacity(8);
    children.push(select(
        cs.namespace(|| "child 0"),
        &sibs[0],
        &e[0],
        cur,
        None,
    )?);
    for k in 1..7 {
        let g = product(
            cs.namespace(|| format!("shift {k}")),
            &e[k + 1..],
            &sibs[k],
            &sibs[k - 1],
        )?;
        children.push(select(
            cs.namespace(|| format!("child {k}")),
            &sibs[k - 1],
            &e[k],
            cur,
            Some(&g),
        )?);
    }
    children.push(select(
        cs.namespace(|| "child 7"),
        &sibs[6],
        &e[7],
        cur,
        None,
    )?);
    Ok(children)
}

/// The root of the opening of `leaf` at the index whose little-endian bits are `bits`, with
/// `siblings[level]` the `arity − 1` siblings of each level.
pub fn poseidon_tree_root<CS: ConstraintSystem<Scalar>>(
    mut cs: CS,
    shape: &TreeShape,
    leaf: &AllocatedNum<Scalar>,
    bits: &[Boolean],
    siblings: &[Vec<AllocatedNum<Scalar>>],
) -> Result<AllocatedNum<Scalar>, SynthesisError> {
    assert_eq!(
        bits.len(),
        index_bits(shape),
        "index bits for the tree shape"
    );
    assert_eq!(siblings.len(), shape.height(), "one sibling row per level");
    let mut cur = leaf.clone();
    let mut offset = 0;
    for (l, (&arity, sibs)) in shape.arities.iter().zip(siblings).enumerate() {
        let n = arity.trailing_zeros() as usize;
        let children = insert(
            cs.namespace(|| format!("level {l} insert")),
            &cur,
            &bits[offset..offset + n],
            sibs,
        )?;
        cur = poseidon_hash(cs.namespace(|| format!("level {l} hash")), &children)?;
        offset += n;
    }
    Ok(cur)
}

/// Allocates the `n` little-endian bits of `index` (3 constraints per arity-8 level).
pub fn alloc_index_bits<CS: ConstraintSystem<Scalar>>(
    mut cs: CS,
    index: Option<u64>,
    n: usize,
) -> Result<Vec<Boolean>, SynthesisError> {
    (0..n)
        .map(|i| {
            let bit = bellman::gadgets::boolean::AllocatedBit::alloc(
                cs.namespace(|| format!("bit {i}")),
                index.map(|x| (x >> i) & 1 == 1),
            )?;
            Ok(Boolean::from(bit))
        })
        .collect()
}

/// Constraints per level of a tree_d path (order 2, two 255-constraint decompositions, one
/// BLAKE3 compression of 14,704, packing 1), pinned by a test.
pub const HASH_D_LEVEL_CONSTRAINTS: usize = 15_217;

/// The root of an opening in the binary `hash_d` tree (tree_d): per level, the node and its
/// sibling are ordered by the index bit, decomposed to bits and hashed with the BLAKE3 gadget.
/// `leaf` must be a data node (< 2^254); the decomposition enforces it.
pub fn hash_d_tree_root<CS: ConstraintSystem<Scalar>>(
    mut cs: CS,
    leaf: &AllocatedNum<Scalar>,
    bits: &[Boolean],
    siblings: &[AllocatedNum<Scalar>],
) -> Result<AllocatedNum<Scalar>, SynthesisError> {
    use super::blake3::{hash_d, node_bits_254};
    assert_eq!(bits.len(), siblings.len(), "one index bit per level");
    let mut cur = leaf.clone();
    for (l, (bit, sib)) in bits.iter().zip(siblings).enumerate() {
        let mut cs = cs.namespace(|| format!("level {l}"));
        let (left, right) =
            AllocatedNum::conditionally_reverse(cs.namespace(|| "order"), &cur, sib, bit)?;
        let mut input = node_bits_254(cs.namespace(|| "left bits"), &left)?;
        input.extend(node_bits_254(cs.namespace(|| "right bits"), &right)?);
        cur = hash_d(cs.namespace(|| "hash"), &input)?.0;
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bellman::gadgets::test::TestConstraintSystem;
    use strata_primitives::merkle::{tree_root, MerkleProof, TreeShape};
    use strata_primitives::node::{node_from_fr, node_to_fr, Node};

    fn tree(shape: &TreeShape) -> (Vec<Node>, Node) {
        let leaves: Vec<Node> = (0..shape.leaves)
            .map(|i| node_from_fr(&Scalar::from(i * i + 11)))
            .collect();
        let mut src: &[Node] = &leaves;
        let root = tree_root(shape, &mut src).unwrap();
        (leaves, root)
    }

    /// An opening computed natively (same as TreeReader::prove, without files).
    fn open(shape: &TreeShape, leaves: &[Node], index: u64) -> MerkleProof {
        let mut levels = vec![leaves.to_vec()];
        for &a in &shape.arities {
            let prev = levels.last().unwrap();
            levels.push(
                prev.chunks(a)
                    .map(|c| shape.hasher.hash_children(c).unwrap())
                    .collect(),
            );
        }
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
            leaf: leaves[index as usize],
            siblings,
        }
    }

    fn synth(shape: &TreeShape, p: &MerkleProof) -> (TestConstraintSystem<Scalar>, Scalar) {
        let mut cs = TestConstraintSystem::new();
        let leaf =
            AllocatedNum::alloc(cs.namespace(|| "leaf"), || Ok(node_to_fr(&p.leaf).unwrap()))
                .unwrap();
        let bits =
            alloc_index_bits(cs.namespace(|| "index"), Some(p.index), index_bits(shape)).unwrap();
        let sibs: Vec<Vec<AllocatedNum<Scalar>>> = p
            .siblings
            .iter()
            .enumerate()
            .map(|(l, row)| {
                row.iter()
                    .enumerate()
                    .map(|(j, s)| {
                        AllocatedNum::alloc(cs.namespace(|| format!("sib {l} {j}")), || {
                            Ok(node_to_fr(s).unwrap())
                        })
                        .unwrap()
                    })
                    .collect()
            })
            .collect();
        let root = poseidon_tree_root(cs.namespace(|| "path"), shape, &leaf, &bits, &sibs).unwrap();
        (cs, root.get_value().unwrap())
    }

    #[test]
    fn roots_match_native_for_every_position_and_counts_are_pinned() {
        for shape in [TreeShape::oct(64), TreeShape::oct(16), TreeShape::oct(512)] {
            let (leaves, root) = tree(&shape);
            let step = (shape.leaves / 37).max(1);
            for index in (0..shape.leaves)
                .step_by(step as usize)
                .chain([shape.leaves - 1])
            {
                let p = open(&shape, &leaves, index);
                assert!(p.verify(&shape, &root));
                let (cs, got) = synth(&shape, &p);
                assert!(cs.is_satisfied(), "{:?} {index}", shape.arities);
                assert_eq!(node_from_fr(&got), root, "{:?} {index}", shape.arities);
                assert_eq!(cs.num_constraints(), constraint_count(&shape));
            }
        }
        assert_eq!(constraint_count(&TreeShape::oct(64)), 834);
        assert_eq!(constraint_count(&TreeShape::oct(16)), 658);
    }

    #[test]
    fn hash_d_tree_path_matches_native_and_count_is_pinned() {
        use strata_primitives::hash::hash_d;
        let shape = TreeShape::binary(8);
        let leaves: Vec<Node> = (0..8u8).map(|i| hash_d(&[i])).collect();
        let (_, root) = {
            let mut src: &[Node] = &leaves;
            (0, tree_root(&shape, &mut src).unwrap())
        };
        for index in [0u64, 5, 7] {
            let p = open(&shape, &leaves, index);
            let mut cs = TestConstraintSystem::new();
            let leaf =
                AllocatedNum::alloc(cs.namespace(|| "leaf"), || Ok(node_to_fr(&p.leaf).unwrap()))
                    .unwrap();
            let bits = alloc_index_bits(cs.namespace(|| "index"), Some(index), 3).unwrap();
            let sibs: Vec<AllocatedNum<Scalar>> = p
                .siblings
                .iter()
                .enumerate()
                .map(|(l, s)| {
                    AllocatedNum::alloc(cs.namespace(|| format!("sib {l}")), || {
                        Ok(node_to_fr(&s[0]).unwrap())
                    })
                    .unwrap()
                })
                .collect();
            let before = cs.num_constraints();
            let got = hash_d_tree_root(cs.namespace(|| "path"), &leaf, &bits, &sibs).unwrap();
            assert!(cs.is_satisfied());
            assert_eq!(node_from_fr(&got.get_value().unwrap()), root);
            assert_eq!(cs.num_constraints() - before, 3 * HASH_D_LEVEL_CONSTRAINTS);
        }
    }

    #[test]
    fn a_wrong_index_or_sibling_gives_another_root() {
        let shape = TreeShape::oct(64);
        let (leaves, root) = tree(&shape);
        let p = open(&shape, &leaves, 13);
        let mut q = p.clone();
        q.index = 12;
        assert_ne!(node_from_fr(&synth(&shape, &q).1), root);
        let mut q = p.clone();
        q.siblings[1][3] = node_from_fr(&Scalar::from(5u64));
        assert_ne!(node_from_fr(&synth(&shape, &q).1), root);
    }
}
