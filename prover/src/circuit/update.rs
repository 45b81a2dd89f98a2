//! The replica-update circuit: the statement [`crate::vanilla::update::verify`] checks, as R1CS.
//! CommR_old and CommR' are `Poseidon_2(comm_c, ·)` of the old and new tree_r_last roots (one
//! private comm_c for both); φ = `Poseidon_2(CommD', CommR_old)`; for every challenge, its
//! index bits open the old replica and the new replica in tree_r_last (Poseidon paths) and the
//! data in tree_d' (BLAKE3 paths), ρ = `Poseidon_2(φ, high h bits of the index)`, and
//! `data · ρ = new − old`.
//!
//! Public inputs, in order: CommR_old, CommD', CommR', then each challenge index.
//!
//! Not wired to parameters, proof files or the chain yet (see the replica-update issue): the
//! tree_d paths cost 15,217 constraints per level (BLAKE3), so the challenge count per
//! partition is still to be settled.

use crate::challenges::update_challenge;
use crate::gadgets::merkle::{alloc_index_bits, hash_d_tree_root, index_bits, poseidon_tree_root};
use crate::gadgets::num::{alloc_num, alloc_nums, alloc_rows, inputize_bits, pack_bits};
use crate::gadgets::poseidon::poseidon_hash;
use crate::vanilla::update::{UpdateProof, UpdateStatement};
use bellman::{Circuit, ConstraintSystem, SynthesisError};
use bls12_381::Scalar;
use strata_params::ProofType;
use strata_primitives::merkle::TreeShape;
use strata_primitives::node::{node_to_fr, Node};
use strata_sealer::update::h_for;

/// One challenge's witness: the index and the three openings.
#[derive(Clone, Debug)]
pub struct ChallengeWitness {
    /// The challenged node.
    pub index: Option<u64>,
    /// The old replica's leaf and its tree_r_last siblings.
    pub old: (Option<Scalar>, Vec<Vec<Option<Scalar>>>),
    /// The new replica's leaf and its tree_r_last siblings.
    pub new: (Option<Scalar>, Vec<Vec<Option<Scalar>>>),
    /// The data leaf and its tree_d siblings (one per level).
    pub data: (Option<Scalar>, Vec<Option<Scalar>>),
}

/// The replica-update circuit.
#[derive(Clone, Debug)]
pub struct UpdateCircuit {
    /// tree_r_last's shape.
    pub r_shape: TreeShape,
    /// log₂ of the number of distinct ρ.
    pub h: u32,
    /// CommR before the update (public).
    pub comm_r_old: Option<Scalar>,
    /// CommD of the new data (public).
    pub comm_d_new: Option<Scalar>,
    /// CommR after the update (public).
    pub comm_r_new: Option<Scalar>,
    /// Root of tree_c.
    pub comm_c: Option<Scalar>,
    /// Root of the old tree_r_last.
    pub comm_r_last_old: Option<Scalar>,
    /// Root of the new tree_r_last.
    pub comm_r_last_new: Option<Scalar>,
    /// The challenges.
    pub challenges: Vec<ChallengeWitness>,
}

impl UpdateCircuit {
    /// The circuit's shape with `challenges` challenges and no witness.
    pub fn blank(pt: &ProofType, challenges: usize) -> Self {
        let r_shape = pt.tree_r_shape();
        let d_levels = pt.tree_d_shape().height();
        let rows = |s: &TreeShape| s.arities.iter().map(|&a| vec![None; a - 1]).collect();
        let c = ChallengeWitness {
            index: None,
            old: (None, rows(&r_shape)),
            new: (None, rows(&r_shape)),
            data: (None, vec![None; d_levels]),
        };
        UpdateCircuit {
            h: h_for(pt.nodes()),
            r_shape,
            comm_r_old: None,
            comm_d_new: None,
            comm_r_new: None,
            comm_c: None,
            comm_r_last_old: None,
            comm_r_last_new: None,
            challenges: vec![c; challenges],
        }
    }

    /// The circuit for a vanilla proof. Values that are not field elements leave the witness
    /// unassigned, so such a proof cannot be proven.
    pub fn from_vanilla(pt: &ProofType, s: &UpdateStatement, p: &UpdateProof) -> Self {
        let fr = |n: &Node| node_to_fr(n).ok();
        let rows = |r: &[Vec<Node>]| r.iter().map(|row| row.iter().map(fr).collect()).collect();
        let challenges = p
            .openings
            .iter()
            .map(|o| ChallengeWitness {
                index: Some(o.new.index),
                old: (fr(&o.old.leaf), rows(&o.old.siblings)),
                new: (fr(&o.new.leaf), rows(&o.new.siblings)),
                data: (
                    fr(&o.data.leaf),
                    o.data
                        .siblings
                        .iter()
                        .map(|row| row.first().and_then(fr))
                        .collect(),
                ),
            })
            .collect();
        UpdateCircuit {
            r_shape: pt.tree_r_shape(),
            h: h_for(pt.nodes()),
            comm_r_old: fr(&s.comm_r_old),
            comm_d_new: fr(&s.comm_d_new),
            comm_r_new: fr(&s.comm_r_new),
            comm_c: fr(&p.comm_c),
            comm_r_last_old: fr(&p.comm_r_last_old),
            comm_r_last_new: fr(&p.comm_r_last_new),
            challenges,
        }
    }
}

/// The public inputs a verifier derives from the statement, for `count` challenges.
pub fn public_inputs(pt: &ProofType, s: &UpdateStatement, count: usize) -> Option<Vec<Scalar>> {
    let mut out = vec![
        node_to_fr(&s.comm_r_old).ok()?,
        node_to_fr(&s.comm_d_new).ok()?,
        node_to_fr(&s.comm_r_new).ok()?,
    ];
    out.extend((0..count as u64).map(|j| {
        Scalar::from(update_challenge(
            &s.randomness,
            &s.comm_r_new,
            j,
            pt.nodes(),
        ))
    }));
    Some(out)
}

/// Enforces `a = b`.
fn equal<CS: ConstraintSystem<Scalar>>(
    mut cs: CS,
    a: &bellman::gadgets::num::AllocatedNum<Scalar>,
    b: &bellman::gadgets::num::AllocatedNum<Scalar>,
) {
    cs.enforce(
        || "equal",
        |lc| lc + a.get_variable(),
        |lc| lc + CS::one(),
        |lc| lc + b.get_variable(),
    );
}

impl Circuit<Scalar> for UpdateCircuit {
    fn synthesize<CS: ConstraintSystem<Scalar>>(self, cs: &mut CS) -> Result<(), SynthesisError> {
        let nbits = index_bits(&self.r_shape);
        let comm_c = alloc_num(cs.namespace(|| "comm_c"), self.comm_c)?;
        let last_old = alloc_num(cs.namespace(|| "comm_r_last_old"), self.comm_r_last_old)?;
        let last_new = alloc_num(cs.namespace(|| "comm_r_last_new"), self.comm_r_last_new)?;
        let comm_r_old = poseidon_hash(
            cs.namespace(|| "comm_r_old"),
            &[comm_c.clone(), last_old.clone()],
        )?;
        comm_r_old.inputize(cs.namespace(|| "comm_r_old public"))?;
        let comm_d_new = alloc_num(cs.namespace(|| "comm_d_new"), self.comm_d_new)?;
        comm_d_new.inputize(cs.namespace(|| "comm_d_new public"))?;
        let comm_r_new = poseidon_hash(cs.namespace(|| "comm_r_new"), &[comm_c, last_new.clone()])?;
        comm_r_new.inputize(cs.namespace(|| "comm_r_new public"))?;
        let phi = poseidon_hash(cs.namespace(|| "phi"), &[comm_d_new.clone(), comm_r_old])?;
        for (i, c) in self.challenges.iter().enumerate() {
            let mut cs = cs.namespace(|| format!("challenge {i}"));
            let bits = alloc_index_bits(cs.namespace(|| "index"), c.index, nbits)?;
            inputize_bits(cs.namespace(|| "index public"), &bits)?;
            let k = pack_bits(
                cs.namespace(|| "high bits"),
                &bits[nbits - self.h as usize..],
            )?;
            let rho = poseidon_hash(cs.namespace(|| "rho"), &[phi.clone(), k])?;

            let old = alloc_num(cs.namespace(|| "old leaf"), c.old.0)?;
            let sibs = alloc_rows(cs.namespace(|| "old siblings"), &c.old.1)?;
            let root = poseidon_tree_root(
                cs.namespace(|| "old path"),
                &self.r_shape,
                &old,
                &bits,
                &sibs,
            )?;
            equal(cs.namespace(|| "old root"), &root, &last_old);

            let new = alloc_num(cs.namespace(|| "new leaf"), c.new.0)?;
            let sibs = alloc_rows(cs.namespace(|| "new siblings"), &c.new.1)?;
            let root = poseidon_tree_root(
                cs.namespace(|| "new path"),
                &self.r_shape,
                &new,
                &bits,
                &sibs,
            )?;
            equal(cs.namespace(|| "new root"), &root, &last_new);

            let data = alloc_num(cs.namespace(|| "data leaf"), c.data.0)?;
            let sibs = alloc_nums(cs.namespace(|| "data siblings"), &c.data.1)?;
            let root = hash_d_tree_root(cs.namespace(|| "data path"), &data, &bits, &sibs)?;
            equal(cs.namespace(|| "data root"), &root, &comm_d_new);

            cs.enforce(
                || "new = old + data * rho",
                |lc| lc + data.get_variable(),
                |lc| lc + rho.get_variable(),
                |lc| lc + new.get_variable() - old.get_variable(),
            );
        }
        Ok(())
    }
}
