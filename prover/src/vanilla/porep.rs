//! The vanilla seal proof (DESIGN §6): for each challenged node c, Merkle openings and the values
//! they open — c's data leaf in tree_d, c's and its 14 parents' columns in tree_c, c's replica leaf
//! in tree_r_last — from which a verifier recomputes every label of c with plain hashing.
//!
//! **Node ranges.** The verifier accepts exactly what the PoRep circuit accepts, so it requires a
//! value to be below 2^254 (a data node, DESIGN §2) exactly where the circuit decomposes it into
//! 254 bits: the data leaf and every sibling on its tree_d path (each tree_d level decomposes both
//! children); every label that is a preimage part of a recomputed label — the 6 base parents'
//! labels in every layer and the 8 expander parents' labels in layers 1..L−1; and c's own labels
//! (the circuit equates each with a 254-bit `hash_d` output). An expander parent's layer-L label is
//! hashed by neither, only committed in its column, so like every other tree_c and tree_r_last
//! value it may be any canonical field element (below r), in the circuit as here.

use crate::challenges::porep_challenges;
use crate::error::ProofError;
use memmap2::Mmap;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::Path;
use strata_params::{ProofType, BASE_DEGREE};
use strata_primitives::merkle::{MerkleProof, TreeReader};
use strata_primitives::node::{as_nodes, is_data_node, node_to_fr, Node};
use strata_primitives::serde_hex;
use strata_sealer::graph::{Graph, PARENTS};
use strata_sealer::labeling::label_reference;
use strata_sealer::seal::comm_r;
use strata_sealer::sector::replica_id;
use strata_sealer::tree_c::column_hash;
use strata_sealer::{SectorMeta, SectorPaths};

/// A node's column: its label in every layer, opened in tree_c.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnProof {
    /// Labels of layers 1..=L.
    #[serde(with = "serde_hex::node_vec")]
    pub labels: Vec<Node>,
    /// Opening of the column hash in tree_c.
    pub opening: MerkleProof,
}

/// Everything proven about one challenged node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeProof {
    /// The challenged node.
    pub challenge: u64,
    /// Its data leaf in tree_d.
    pub data: MerkleProof,
    /// Its own column.
    pub column: ColumnProof,
    /// The columns of its 14 parents, in parent order (6 base, 8 expander).
    pub parents: Vec<ColumnProof>,
    /// Its replica leaf in tree_r_last.
    pub replica: MerkleProof,
}

/// The public inputs of a seal proof; the verifier derives replica_id and the challenges. Part of
/// the proof-file document, so unknown fields are refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealPublicInputs {
    /// Registered proof type id.
    pub proof_type: u64,
    /// The miner.
    pub prover_id: u64,
    /// The sector.
    pub sector_number: u64,
    /// The sealing ticket.
    #[serde(with = "serde_hex::node")]
    pub ticket: Node,
    /// The interactive seed drawn after pre-commit.
    #[serde(with = "serde_hex::node")]
    pub seed: Node,
    /// CommD.
    #[serde(with = "serde_hex::node")]
    pub comm_d: Node,
    /// CommR.
    #[serde(with = "serde_hex::node")]
    pub comm_r: Node,
}

impl SealPublicInputs {
    /// The public inputs of the sealed sector in `meta` for `seed`.
    pub fn for_sector(meta: &SectorMeta, seed: Node) -> Self {
        SealPublicInputs {
            proof_type: meta.proof_type,
            prover_id: meta.prover_id,
            sector_number: meta.sector_number,
            ticket: meta.ticket,
            seed,
            comm_d: meta.comm_d,
            comm_r: meta.comm_r,
        }
    }

    /// `replica_id` derived from these inputs.
    pub fn replica_id(&self, pt: &ProofType) -> Node {
        replica_id(
            self.prover_id,
            self.sector_number,
            &self.ticket,
            &self.comm_d,
            &pt.porep_id(),
        )
    }
}

/// The vanilla proof of one PoRep partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealPartitionProof {
    /// Partition index.
    pub partition: usize,
    /// Root of tree_c (private in the SNARK).
    #[serde(with = "serde_hex::node")]
    pub comm_c: Node,
    /// Root of tree_r_last (private in the SNARK).
    #[serde(with = "serde_hex::node")]
    pub comm_r_last: Node,
    /// One proof per challenge, in challenge order.
    pub challenges: Vec<ChallengeProof>,
}

/// Produces the vanilla proof of `partition` for the sealed sector in `dir`. Needs the layer files.
pub fn prove_seal_partition(
    dir: &Path,
    seed: &Node,
    partition: usize,
) -> Result<SealPartitionProof, ProofError> {
    let meta = SectorMeta::load(dir)?;
    let pt = meta
        .proof_type_checked()
        .map_err(strata_sealer::SealError::from)?;
    if partition >= pt.porep_partitions {
        return Err(ProofError::BadRequest(format!(
            "proof type {} has {} PoRep partitions; {partition} requested",
            pt.id, pt.porep_partitions
        )));
    }
    let paths = SectorPaths::new(dir);
    let tree_d = TreeReader::open(pt.tree_d_shape(), &paths.unsealed(), &paths.tree_d())?;
    let tree_c = TreeReader::open(pt.tree_r_shape(), &paths.tree_c_leaves(), &paths.tree_c())?;
    let tree_r = TreeReader::open(pt.tree_r_shape(), &paths.sealed(), &paths.tree_r_last())?;
    let inconsistent = |reason: &str| ProofError::Inconsistent {
        sector: meta.sector_number,
        reason: reason.to_string(),
    };
    if tree_d.root() != meta.comm_d
        || tree_c.root() != meta.comm_c
        || tree_r.root() != meta.comm_r_last
    {
        return Err(inconsistent("a stored tree root differs from meta.json"));
    }
    let layers: Vec<Mmap> = (1..=pt.layers)
        .map(|l| {
            let p = paths.layer(l);
            let f = File::open(&p).map_err(|e| {
                inconsistent(&format!(
                    "layer file {} unavailable ({e}); seal proofs need the layers",
                    p.display()
                ))
            })?;
            // SAFETY: layer files are never modified after being renamed into place.
            let m = unsafe { Mmap::map(&f) }
                .map_err(|e| inconsistent(&format!("mapping {}: {e}", p.display())))?;
            if m.len() as u64 != pt.nodes() * 32 {
                return Err(inconsistent(&format!(
                    "layer file {} has the wrong size",
                    p.display()
                )));
            }
            Ok(m)
        })
        .collect::<Result<_, _>>()?;
    let column = |v: u64| ColumnProof {
        labels: layers.iter().map(|m| as_nodes(m)[v as usize]).collect(),
        opening: tree_c.prove(v),
    };
    let graph = Graph::new(&pt.porep_id(), pt.nodes());
    let rid = meta.replica_id;
    let challenges = porep_challenges(&pt, &rid, seed, partition)
        .into_iter()
        .map(|c| {
            let mut p = [0u32; PARENTS];
            graph.parents(c, &mut p);
            ChallengeProof {
                challenge: c,
                data: tree_d.prove(c),
                column: column(c),
                parents: p.iter().map(|&q| column(q as u64)).collect(),
                replica: tree_r.prove(c),
            }
        })
        .collect();
    Ok(SealPartitionProof {
        partition,
        comm_c: meta.comm_c,
        comm_r_last: meta.comm_r_last,
        challenges,
    })
}

/// Which opened column a label belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnRef {
    /// The challenged node's own column.
    Own,
    /// The column of parent `k` (0..6 base, 6..14 expander).
    Parent(usize),
}

impl std::fmt::Display for ColumnRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ColumnRef::Own => write!(f, "own column"),
            ColumnRef::Parent(k) => write!(f, "parent {k} column"),
        }
    }
}

/// Why a vanilla seal proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealRejection {
    /// Unknown proof type or partition.
    #[error("{0}")]
    Shape(String),
    /// comm_r is not Poseidon(comm_c, comm_r_last).
    #[error("comm_r does not commit to comm_c and comm_r_last")]
    CommR,
    /// A challenge is not the one derived from the public inputs.
    #[error("challenge {index} is {got}, the public inputs derive {want}")]
    Challenge {
        /// Position.
        index: usize,
        /// In the proof.
        got: u64,
        /// Derived.
        want: u64,
    },
    /// An opening does not verify or opens the wrong leaf.
    #[error("challenge {challenge}: {what} opening is invalid")]
    Opening {
        /// The challenged node.
        challenge: u64,
        /// Which opening.
        what: String,
    },
    /// A recomputed label differs from the column's label.
    #[error("challenge {challenge}: label of layer {layer} does not recompute from its parents")]
    Label {
        /// The challenged node.
        challenge: u64,
        /// The layer.
        layer: usize,
    },
    /// replica ≠ data + label_L.
    #[error("challenge {challenge}: replica leaf is not data + last label")]
    Encoding {
        /// The challenged node.
        challenge: u64,
    },
    /// The data leaf is not a data node (≥ 2^254); the circuit packs it into 254 bits.
    #[error("challenge {challenge}: data leaf is not below 2^254")]
    DataLeafRange {
        /// The challenged node.
        challenge: u64,
    },
    /// A sibling on the data leaf's tree_d path is ≥ 2^254; the circuit packs every tree_d child
    /// into 254 bits.
    #[error("challenge {challenge}: tree_d sibling at level {level} is not below 2^254")]
    DataPathRange {
        /// The challenged node.
        challenge: u64,
        /// The level (0 = the leaves).
        level: usize,
    },
    /// A label the circuit packs into 254 bits (a hashed parent label, or an own label, which
    /// must equal a `hash_d` output) is ≥ 2^254.
    #[error("challenge {challenge}: {column} label of layer {layer} is not below 2^254")]
    LabelRange {
        /// The challenged node.
        challenge: u64,
        /// Whose column.
        column: ColumnRef,
        /// The label's layer (1-based).
        layer: usize,
    },
}

/// The reference verifier: accepts exactly the valid proofs of `partition` for `public`, and
/// exactly what the PoRep circuit accepts (node ranges as in the module docs).
pub fn verify_seal_partition(
    public: &SealPublicInputs,
    proof: &SealPartitionProof,
) -> Result<(), SealRejection> {
    let pt =
        ProofType::for_id(public.proof_type).map_err(|e| SealRejection::Shape(e.to_string()))?;
    if proof.partition >= pt.porep_partitions {
        return Err(SealRejection::Shape(format!(
            "partition {} out of range",
            proof.partition
        )));
    }
    if node_to_fr(&proof.comm_c).is_err()
        || node_to_fr(&proof.comm_r_last).is_err()
        || comm_r(&proof.comm_c, &proof.comm_r_last) != public.comm_r
    {
        return Err(SealRejection::CommR);
    }
    let rid = public.replica_id(&pt);
    let want = porep_challenges(&pt, &rid, &public.seed, proof.partition);
    if proof.challenges.len() != want.len() {
        return Err(SealRejection::Shape(format!(
            "{} challenge proofs, expected {}",
            proof.challenges.len(),
            want.len()
        )));
    }
    let graph = Graph::new(&pt.porep_id(), pt.nodes());
    let (d_shape, r_shape) = (pt.tree_d_shape(), pt.tree_r_shape());
    for (index, (cp, &c)) in proof.challenges.iter().zip(&want).enumerate() {
        if cp.challenge != c {
            return Err(SealRejection::Challenge {
                index,
                got: cp.challenge,
                want: c,
            });
        }
        let bad = |what: &str| SealRejection::Opening {
            challenge: c,
            what: what.to_string(),
        };
        if cp.data.index != c || !cp.data.verify(&d_shape, &public.comm_d) {
            return Err(bad("data (tree_d)"));
        }
        if !is_data_node(&cp.data.leaf) {
            return Err(SealRejection::DataLeafRange { challenge: c });
        }
        if let Some(level) = cp
            .data
            .siblings
            .iter()
            .position(|row| !row.iter().all(is_data_node))
        {
            return Err(SealRejection::DataPathRange {
                challenge: c,
                level,
            });
        }
        if cp.replica.index != c || !cp.replica.verify(&r_shape, &proof.comm_r_last) {
            return Err(bad("replica (tree_r_last)"));
        }
        let column_ok = |col: &ColumnProof, v: u64| {
            col.labels.len() == pt.layers
                && col.opening.index == v
                && column_hash(&col.labels).ok() == Some(col.opening.leaf)
                && col.opening.verify(&r_shape, &proof.comm_c)
        };
        if !column_ok(&cp.column, c) {
            return Err(bad("own column (tree_c)"));
        }
        let mut parents = [0u32; PARENTS];
        graph.parents(c, &mut parents);
        if cp.parents.len() != PARENTS {
            return Err(bad("parent columns count"));
        }
        for (k, (col, &p)) in cp.parents.iter().zip(&parents).enumerate() {
            if !column_ok(col, p as u64) {
                return Err(bad(&format!("parent {k} column (tree_c)")));
            }
        }
        for layer in 1..=pt.layers {
            // The preimage's parent labels: base parents in this layer, expanders in the previous.
            let used: Vec<(usize, usize)> = (0..BASE_DEGREE)
                .map(|k| (k, layer))
                .chain(
                    (BASE_DEGREE..PARENTS)
                        .filter(|_| layer > 1)
                        .map(|k| (k, layer - 1)),
                )
                .collect();
            if let Some(&(k, l)) = used
                .iter()
                .find(|&&(k, l)| !is_data_node(&cp.parents[k].labels[l - 1]))
            {
                return Err(SealRejection::LabelRange {
                    challenge: c,
                    column: ColumnRef::Parent(k),
                    layer: l,
                });
            }
            if !is_data_node(&cp.column.labels[layer - 1]) {
                return Err(SealRejection::LabelRange {
                    challenge: c,
                    column: ColumnRef::Own,
                    layer,
                });
            }
            let labels: Vec<Node> = used
                .iter()
                .map(|&(k, l)| cp.parents[k].labels[l - 1])
                .collect();
            if label_reference(&rid, layer as u32, c, &labels) != cp.column.labels[layer - 1] {
                return Err(SealRejection::Label {
                    challenge: c,
                    layer,
                });
            }
        }
        let (Ok(d), Ok(k), Ok(r)) = (
            node_to_fr(&cp.data.leaf),
            node_to_fr(&cp.column.labels[pt.layers - 1]),
            node_to_fr(&cp.replica.leaf),
        ) else {
            return Err(SealRejection::Encoding { challenge: c });
        };
        if d + k != r {
            return Err(SealRejection::Encoding { challenge: c });
        }
    }
    Ok(())
}
