//! The PoSt circuit (WinningPoSt and WindowPoSt share it): for every sector, CommR (public) is
//! `Poseidon_2(comm_c, comm_r_last)`, and every challenged leaf (its index public) opens in
//! tree_r_last under comm_r_last.
//!
//! Public inputs, in order: for each sector, `comm_r`, then each challenge index as a field element.

use crate::challenges::post_leaf_challenges;
use crate::gadgets::merkle::{alloc_index_bits, index_bits, poseidon_tree_root};
use crate::gadgets::num::{alloc_num, alloc_rows, inputize_bits};
use crate::gadgets::poseidon::poseidon_hash;
use crate::vanilla::post::{PostSector, SectorPostProof};
use bellman::{Circuit, ConstraintSystem, SynthesisError};
use bls12_381::Scalar;
use strata_params::ProofType;
use strata_primitives::merkle::TreeShape;
use strata_primitives::node::{node_to_fr, Node};

/// One challenged leaf's witness.
#[derive(Clone, Debug)]
pub struct LeafWitness {
    /// Leaf index.
    pub index: Option<u64>,
    /// Leaf value.
    pub leaf: Option<Scalar>,
    /// Siblings per level.
    pub siblings: Vec<Vec<Option<Scalar>>>,
}

/// One sector's witness.
#[derive(Clone, Debug)]
pub struct SectorWitness {
    /// CommR (public).
    pub comm_r: Option<Scalar>,
    /// Root of tree_c.
    pub comm_c: Option<Scalar>,
    /// Root of tree_r_last.
    pub comm_r_last: Option<Scalar>,
    /// The challenged leaves.
    pub leaves: Vec<LeafWitness>,
}

/// The PoSt circuit over `sectors.len()` sectors with `challenges` leaves each.
#[derive(Clone, Debug)]
pub struct PostCircuit {
    /// tree_r_last's shape.
    pub shape: TreeShape,
    /// The sectors.
    pub sectors: Vec<SectorWitness>,
}

impl PostCircuit {
    /// The circuit's shape with no witness (for parameter generation and constraint counts).
    pub fn blank(pt: &ProofType, sectors: usize, challenges: usize) -> Self {
        let shape = pt.tree_r_shape();
        let leaf = LeafWitness {
            index: None,
            leaf: None,
            siblings: shape.arities.iter().map(|&a| vec![None; a - 1]).collect(),
        };
        let sector = SectorWitness {
            comm_r: None,
            comm_c: None,
            comm_r_last: None,
            leaves: vec![leaf; challenges],
        };
        PostCircuit {
            shape,
            sectors: vec![sector; sectors],
        }
    }

    /// The circuit for vanilla proofs. Values that are not field elements make the witness
    /// unassignable (`None`), so such a proof cannot be proven.
    pub fn from_vanilla(pt: &ProofType, public: &[PostSector], proofs: &[SectorPostProof]) -> Self {
        let fr = |n: &Node| node_to_fr(n).ok();
        let sectors = public
            .iter()
            .zip(proofs)
            .map(|(s, p)| SectorWitness {
                comm_r: fr(&s.comm_r),
                comm_c: fr(&p.comm_c),
                comm_r_last: fr(&p.comm_r_last),
                leaves: p
                    .openings
                    .iter()
                    .map(|o| LeafWitness {
                        index: Some(o.index),
                        leaf: fr(&o.leaf),
                        siblings: o
                            .siblings
                            .iter()
                            .map(|row| row.iter().map(fr).collect())
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        PostCircuit {
            shape: pt.tree_r_shape(),
            sectors,
        }
    }
}

/// The public inputs a verifier derives for `sectors` and `randomness`.
pub fn public_inputs(
    pt: &ProofType,
    randomness: &Node,
    sectors: &[PostSector],
    challenges: usize,
) -> Option<Vec<Scalar>> {
    let mut out = Vec::new();
    for s in sectors {
        out.push(node_to_fr(&s.comm_r).ok()?);
        out.extend(
            post_leaf_challenges(randomness, s.sector_number, challenges, pt.nodes())
                .into_iter()
                .map(Scalar::from),
        );
    }
    Some(out)
}

impl Circuit<Scalar> for PostCircuit {
    fn synthesize<CS: ConstraintSystem<Scalar>>(self, cs: &mut CS) -> Result<(), SynthesisError> {
        let nbits = index_bits(&self.shape);
        for (s, sector) in self.sectors.iter().enumerate() {
            let mut cs = cs.namespace(|| format!("sector {s}"));
            let comm_c = alloc_num(cs.namespace(|| "comm_c"), sector.comm_c)?;
            let comm_r_last = alloc_num(cs.namespace(|| "comm_r_last"), sector.comm_r_last)?;
            let comm_r = poseidon_hash(cs.namespace(|| "comm_r"), &[comm_c, comm_r_last.clone()])?;
            comm_r.inputize(cs.namespace(|| "comm_r public"))?;
            for (i, leaf) in sector.leaves.iter().enumerate() {
                let mut cs = cs.namespace(|| format!("challenge {i}"));
                let bits = alloc_index_bits(cs.namespace(|| "index"), leaf.index, nbits)?;
                inputize_bits(cs.namespace(|| "index public"), &bits)?;
                let value = alloc_num(cs.namespace(|| "leaf"), leaf.leaf)?;
                let siblings = alloc_rows(cs.namespace(|| "siblings"), &leaf.siblings)?;
                let root = poseidon_tree_root(
                    cs.namespace(|| "path"),
                    &self.shape,
                    &value,
                    &bits,
                    &siblings,
                )?;
                cs.enforce(
                    || "root is comm_r_last",
                    |lc| lc + root.get_variable(),
                    |lc| lc + CS::one(),
                    |lc| lc + comm_r_last.get_variable(),
                );
            }
        }
        Ok(())
    }
}
