//! The PoRep (seal-commit) circuit for one partition (DESIGN §6). Per challenge c it proves:
//! c's data leaf opens in tree_d under comm_d; the columns of c and of its 14 parents open in
//! tree_c under comm_c; every layer's label of c recomputes (BLAKE3) from its parents' labels;
//! `replica = data + label_L` opens in tree_r_last under comm_r_last; and
//! `comm_r = Poseidon_2(comm_c, comm_r_last)`.
//!
//! Public inputs, in order: replica_id, comm_d, comm_r; then per challenge: c, and the index of
//! each of its 14 parents (the verifier computes them from the graph).

use crate::challenges::porep_challenges;
use crate::gadgets::blake3::{constant_bits, hash_d, node_bits_254};
use crate::gadgets::merkle::{alloc_index_bits, hash_d_tree_root, index_bits, poseidon_tree_root};
use crate::gadgets::num::{alloc_num, alloc_nums, alloc_rows, inputize_bits};
use crate::gadgets::poseidon::poseidon_hash;
use crate::vanilla::porep::{ColumnProof, SealPartitionProof, SealPublicInputs};
use bellman::gadgets::boolean::Boolean;
use bellman::gadgets::num::AllocatedNum;
use bellman::{Circuit, ConstraintSystem, SynthesisError};
use bls12_381::Scalar;
use strata_params::{ProofType, BASE_DEGREE};
use strata_primitives::merkle::MerkleProof;
use strata_primitives::node::{node_to_fr, Node};
use strata_sealer::graph::{Graph, PARENTS};

/// A Merkle opening's witness: index, leaf and siblings, each possibly unknown (blank circuits).
#[derive(Clone, Debug)]
pub struct PathWitness {
    /// Leaf index.
    pub index: Option<u64>,
    /// Siblings per level.
    pub siblings: Vec<Vec<Option<Scalar>>>,
}

/// A column: its labels and its tree_c path.
#[derive(Clone, Debug)]
pub struct ColumnWitness {
    /// Labels of layers 1..=L.
    pub labels: Vec<Option<Scalar>>,
    /// Opening in tree_c.
    pub path: PathWitness,
}

/// Everything about one challenge.
#[derive(Clone, Debug)]
pub struct ChallengeWitness {
    /// The data leaf.
    pub data: Option<Scalar>,
    /// Its tree_d opening (binary: one sibling per level).
    pub data_path: PathWitness,
    /// c's own column.
    pub column: ColumnWitness,
    /// The 14 parents' columns.
    pub parents: Vec<ColumnWitness>,
    /// The replica leaf's tree_r_last opening (the leaf itself is computed in-circuit).
    pub replica_path: PathWitness,
}

/// The PoRep circuit of one partition.
#[derive(Clone, Debug)]
pub struct PorepCircuit {
    /// The proof type.
    pub proof_type: ProofType,
    /// replica_id.
    pub replica_id: Option<Scalar>,
    /// CommD.
    pub comm_d: Option<Scalar>,
    /// Root of tree_c.
    pub comm_c: Option<Scalar>,
    /// Root of tree_r_last.
    pub comm_r_last: Option<Scalar>,
    /// One per challenge.
    pub challenges: Vec<ChallengeWitness>,
}

fn path(p: &MerkleProof) -> PathWitness {
    PathWitness {
        index: Some(p.index),
        siblings: p
            .siblings
            .iter()
            .map(|row| row.iter().map(|n| node_to_fr(n).ok()).collect())
            .collect(),
    }
}

fn column(c: &ColumnProof) -> ColumnWitness {
    ColumnWitness {
        labels: c.labels.iter().map(|n| node_to_fr(n).ok()).collect(),
        path: path(&c.opening),
    }
}

impl PorepCircuit {
    /// The circuit's shape with no witness.
    pub fn blank(pt: &ProofType) -> Self {
        let r = pt.tree_r_shape();
        let blank_path = |arities: &[usize]| PathWitness {
            index: None,
            siblings: arities.iter().map(|&a| vec![None; a - 1]).collect(),
        };
        let col = ColumnWitness {
            labels: vec![None; pt.layers],
            path: blank_path(&r.arities),
        };
        let ch = ChallengeWitness {
            data: None,
            data_path: blank_path(&pt.tree_d_shape().arities),
            column: col.clone(),
            parents: vec![col; PARENTS],
            replica_path: blank_path(&r.arities),
        };
        PorepCircuit {
            proof_type: *pt,
            replica_id: None,
            comm_d: None,
            comm_c: None,
            comm_r_last: None,
            challenges: vec![ch; pt.porep_challenges_per_partition],
        }
    }

    /// The circuit for a vanilla proof and its public inputs.
    pub fn from_vanilla(
        pt: &ProofType,
        public: &SealPublicInputs,
        proof: &SealPartitionProof,
    ) -> Self {
        let fr = |n: &Node| node_to_fr(n).ok();
        PorepCircuit {
            proof_type: *pt,
            replica_id: fr(&public.replica_id(pt)),
            comm_d: fr(&public.comm_d),
            comm_c: fr(&proof.comm_c),
            comm_r_last: fr(&proof.comm_r_last),
            challenges: proof
                .challenges
                .iter()
                .map(|c| ChallengeWitness {
                    data: fr(&c.data.leaf),
                    data_path: path(&c.data),
                    column: column(&c.column),
                    parents: c.parents.iter().map(column).collect(),
                    replica_path: path(&c.replica),
                })
                .collect(),
        }
    }
}

/// The public inputs a verifier derives for `partition`.
pub fn public_inputs(
    pt: &ProofType,
    public: &SealPublicInputs,
    partition: usize,
) -> Option<Vec<Scalar>> {
    let rid = public.replica_id(pt);
    let mut out = vec![
        node_to_fr(&rid).ok()?,
        node_to_fr(&public.comm_d).ok()?,
        node_to_fr(&public.comm_r).ok()?,
    ];
    let graph = Graph::new(&pt.porep_id(), pt.nodes());
    for c in porep_challenges(pt, &rid, &public.seed, partition) {
        out.push(Scalar::from(c));
        let mut p = [0u32; PARENTS];
        graph.parents(c, &mut p);
        out.extend(p.iter().map(|&x| Scalar::from(x as u64)));
    }
    Some(out)
}

fn enforce_equal<CS: ConstraintSystem<Scalar>>(
    mut cs: CS,
    a: &AllocatedNum<Scalar>,
    b: &AllocatedNum<Scalar>,
) {
    cs.enforce(
        || "equal",
        |l| l + a.get_variable(),
        |l| l + CS::one(),
        |l| l + b.get_variable(),
    );
}

/// A column in-circuit: its label nums, and its path checked under comm_c.
fn check_column<CS: ConstraintSystem<Scalar>>(
    mut cs: CS,
    pt: &ProofType,
    col: &ColumnWitness,
    bits: &[Boolean],
    comm_c: &AllocatedNum<Scalar>,
) -> Result<Vec<AllocatedNum<Scalar>>, SynthesisError> {
    let labels = alloc_nums(cs.namespace(|| "labels"), &col.labels)?;
    let leaf = poseidon_hash(cs.namespace(|| "column hash"), &labels)?;
    let siblings = alloc_rows(cs.namespace(|| "siblings"), &col.path.siblings)?;
    let root = poseidon_tree_root(
        cs.namespace(|| "path"),
        &pt.tree_r_shape(),
        &leaf,
        bits,
        &siblings,
    )?;
    enforce_equal(cs.namespace(|| "root is comm_c"), &root, comm_c);
    Ok(labels)
}

impl Circuit<Scalar> for PorepCircuit {
    fn synthesize<CS: ConstraintSystem<Scalar>>(self, cs: &mut CS) -> Result<(), SynthesisError> {
        let pt = self.proof_type;
        let r_shape = pt.tree_r_shape();
        let nbits_r = index_bits(&r_shape);
        let nbits_d = pt.tree_d_shape().height();

        let replica_id = alloc_num(cs.namespace(|| "replica_id"), self.replica_id)?;
        replica_id.inputize(cs.namespace(|| "replica_id public"))?;
        let rid_bits = node_bits_254(cs.namespace(|| "replica_id bits"), &replica_id)?;
        let comm_d = alloc_num(cs.namespace(|| "comm_d"), self.comm_d)?;
        comm_d.inputize(cs.namespace(|| "comm_d public"))?;
        let comm_c = alloc_num(cs.namespace(|| "comm_c"), self.comm_c)?;
        let comm_r_last = alloc_num(cs.namespace(|| "comm_r_last"), self.comm_r_last)?;
        let comm_r = poseidon_hash(
            cs.namespace(|| "comm_r"),
            &[comm_c.clone(), comm_r_last.clone()],
        )?;
        comm_r.inputize(cs.namespace(|| "comm_r public"))?;

        for (i, ch) in self.challenges.iter().enumerate() {
            let mut cs = cs.namespace(|| format!("challenge {i}"));
            // The challenge index: one set of bits serves tree_d, tree_c, tree_r_last and the label.
            let c_bits = alloc_index_bits(cs.namespace(|| "index"), ch.column.path.index, nbits_r)?;
            inputize_bits(cs.namespace(|| "index public"), &c_bits)?;
            assert_eq!(
                nbits_d, nbits_r,
                "tree_d and tree_r_last index the same nodes"
            );

            let data = alloc_num(cs.namespace(|| "data"), ch.data)?;
            let d_sibs = ch
                .data_path
                .siblings
                .iter()
                .map(|row| row[0])
                .collect::<Vec<_>>();
            let d_sibs = alloc_nums(cs.namespace(|| "data siblings"), &d_sibs)?;
            let root_d = hash_d_tree_root(cs.namespace(|| "data path"), &data, &c_bits, &d_sibs)?;
            enforce_equal(cs.namespace(|| "root is comm_d"), &root_d, &comm_d);

            let own = check_column(
                cs.namespace(|| "own column"),
                &pt,
                &ch.column,
                &c_bits,
                &comm_c,
            )?;
            let mut parent_labels = Vec::with_capacity(PARENTS);
            for (k, col) in ch.parents.iter().enumerate() {
                let mut cs = cs.namespace(|| format!("parent {k}"));
                let bits = alloc_index_bits(cs.namespace(|| "index"), col.path.index, nbits_r)?;
                inputize_bits(cs.namespace(|| "index public"), &bits)?;
                parent_labels.push(check_column(
                    cs.namespace(|| "column"),
                    &pt,
                    col,
                    &bits,
                    &comm_c,
                )?);
            }

            // Labels: the preimage prefix is replica_id ‖ u32_be(layer) ‖ u64_be(c) ‖ 0^20.
            let mut c_be = Vec::with_capacity(64);
            for k in 0..8 {
                for j in 0..8 {
                    let bit = 8 * (7 - k) + j;
                    c_be.push(c_bits.get(bit).cloned().unwrap_or(Boolean::constant(false)));
                }
            }
            let mut bits_cache: Vec<Vec<Option<Vec<Boolean>>>> =
                vec![vec![None; pt.layers]; PARENTS];
            for layer in 1..=pt.layers {
                let mut cs = cs.namespace(|| format!("layer {layer}"));
                let mut parents_bits: Vec<Vec<Boolean>> = Vec::with_capacity(PARENTS);
                let used = if layer == 1 { BASE_DEGREE } else { PARENTS };
                for k in 0..used {
                    let l = if k < BASE_DEGREE {
                        layer - 1
                    } else {
                        layer - 2
                    };
                    if bits_cache[k][l].is_none() {
                        bits_cache[k][l] = Some(node_bits_254(
                            cs.namespace(|| format!("parent {k} label bits")),
                            &parent_labels[k][l],
                        )?);
                    }
                    parents_bits.push(bits_cache[k][l].clone().unwrap());
                }
                let mut pre = rid_bits.clone();
                pre.extend(constant_bits(&(layer as u32).to_be_bytes()));
                pre.extend(c_be.iter().cloned());
                pre.extend(constant_bits(&[0u8; 20]));
                let order: Vec<usize> = if layer == 1 {
                    (0..36).map(|j| j % 6).chain([0]).collect()
                } else {
                    (0..28).map(|j| j % 14).chain(0..9).collect()
                };
                for k in order {
                    pre.extend(parents_bits[k].iter().cloned());
                }
                let (label, _) = hash_d(cs.namespace(|| "label"), &pre)?;
                enforce_equal(
                    cs.namespace(|| "label is the column's"),
                    &label,
                    &own[layer - 1],
                );
            }

            // replica = data + label_L, opened in tree_r_last.
            let key = &own[pt.layers - 1];
            let rv = data.get_value().zip(key.get_value()).map(|(d, k)| d + k);
            let replica = alloc_num(cs.namespace(|| "replica"), rv)?;
            cs.enforce(
                || "encoding",
                |l| l + data.get_variable() + key.get_variable(),
                |l| l + CS::one(),
                |l| l + replica.get_variable(),
            );
            let r_sibs = alloc_rows(
                cs.namespace(|| "replica siblings"),
                &ch.replica_path.siblings,
            )?;
            let root_r = poseidon_tree_root(
                cs.namespace(|| "replica path"),
                &r_shape,
                &replica,
                &c_bits,
                &r_sibs,
            )?;
            enforce_equal(
                cs.namespace(|| "root is comm_r_last"),
                &root_r,
                &comm_r_last,
            );
        }
        Ok(())
    }
}
