//! Merkle trees over nodes: the binary `hash_d` tree (tree_d, CommP, CommD) and the arity-8
//! Poseidon tree (tree_c, tree_r_last).
//!
//! **On disk** a tree is two flat files: its *leaves* (the unsealed file for tree_d, the replica for
//! tree_r_last, the column hashes for tree_c — never duplicated) and its *upper levels*, every level
//! above the leaves concatenated bottom-up, rows contiguous, 32 bytes per node, root last.
//!
//! **Building** streams the leaves in subtree-aligned chunks (at most [`CHUNK_LEAVES`] nodes), hashes
//! each chunk's levels in parallel with rayon, and writes each level's slice at its offset; only the
//! few levels above the chunk roots are finished in memory. Memory stays bounded by the chunk size
//! whatever the sector size. The output is written to a temporary file, fsync'd and renamed.

mod build;
mod proof;

pub use build::{build_tree, tmp_path, tree_root, LeafSource, TreeError};
pub use proof::{MerkleProof, TreeReader};

use crate::hash::{hash_d_node, hash_d_pairs};
use crate::node::{Node, NonCanonicalNode};
use crate::poseidon::Poseidon;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Leaves per building chunk (8 MiB of nodes).
pub const CHUNK_LEAVES: usize = 1 << 18;

/// Which hash combines children into a parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TreeHasher {
    /// `hash_d(left ‖ right)`; arity 2 only.
    HashD,
    /// Poseidon with the Merkle domain tag, arity 2 or 8.
    Poseidon,
}

impl TreeHasher {
    /// Hashes one parent from its children (`children.len()` is the arity).
    pub fn hash_children(self, children: &[Node]) -> Result<Node, NonCanonicalNode> {
        match self {
            TreeHasher::HashD => {
                assert_eq!(children.len(), 2, "hash_d trees are binary");
                Ok(hash_d_node(&children[0], &children[1]))
            }
            TreeHasher::Poseidon => Poseidon::for_arity(children.len())
                .unwrap_or_else(|| panic!("no Poseidon constants for arity {}", children.len()))
                .hash_nodes(children),
        }
    }

    /// Hashes a whole level: `parents[i]` from `children[arity·i .. arity·(i+1)]`, in parallel.
    pub fn hash_level(
        self,
        arity: usize,
        children: &[Node],
        parents: &mut [Node],
    ) -> Result<(), NonCanonicalNode> {
        assert_eq!(children.len(), arity * parents.len(), "level size mismatch");
        match self {
            TreeHasher::HashD => {
                assert_eq!(arity, 2, "hash_d trees are binary");
                parents
                    .par_chunks_mut(1024)
                    .zip(children.par_chunks(2048))
                    .for_each(|(p, c)| hash_d_pairs(c, p));
                Ok(())
            }
            TreeHasher::Poseidon => {
                // Batched (eight hashes per pass where AVX-512 IFMA exists); 64 parents per task.
                let pos = Poseidon::for_arity(arity).expect("Poseidon tree arity is 2 or 8");
                parents
                    .par_chunks_mut(64)
                    .zip(children.par_chunks(64 * arity))
                    .try_for_each(|(p, c)| pos.hash_node_groups(c, p))
            }
        }
    }
}

/// The shape of a tree: hasher, leaf count and the arity of each level, bottom-up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeShape {
    /// How parents are hashed.
    pub hasher: TreeHasher,
    /// Number of leaves (a product of the arities).
    pub leaves: u64,
    /// Arity of each level above the leaves, bottom-up.
    pub arities: Vec<usize>,
}

impl TreeShape {
    /// A binary `hash_d` tree over `leaves` nodes (a power of two).
    pub fn binary(leaves: u64) -> Self {
        assert!(
            leaves.is_power_of_two(),
            "binary tree needs a power-of-two leaf count"
        );
        TreeShape {
            hasher: TreeHasher::HashD,
            leaves,
            arities: vec![2; leaves.trailing_zeros() as usize],
        }
    }

    /// An arity-8 Poseidon tree over `leaves` nodes (a power of two ≥ 8); when log2(leaves) is not a
    /// multiple of 3 the top level has arity 2 (or 4).
    pub fn oct(leaves: u64) -> Self {
        assert!(
            leaves.is_power_of_two() && leaves >= 8,
            "arity-8 tree needs a power-of-two leaf count ≥ 8"
        );
        let bits = leaves.trailing_zeros() as usize;
        let mut arities = vec![8; bits / 3];
        if !bits.is_multiple_of(3) {
            arities.push(1 << (bits % 3));
        }
        TreeShape {
            hasher: TreeHasher::Poseidon,
            leaves,
            arities,
        }
    }

    /// Nodes in level `l` (0 = leaves).
    pub fn level_len(&self, l: usize) -> u64 {
        self.arities[..l]
            .iter()
            .fold(self.leaves, |n, a| n / *a as u64)
    }

    /// Offset in nodes of level `l ≥ 1` inside the upper-levels file.
    pub fn level_offset(&self, l: usize) -> u64 {
        (1..l).map(|k| self.level_len(k)).sum()
    }

    /// Total nodes in the upper-levels file.
    pub fn upper_len(&self) -> u64 {
        self.level_offset(self.arities.len() + 1)
    }

    /// Number of levels above the leaves.
    pub fn height(&self) -> usize {
        self.arities.len()
    }
}

#[cfg(test)]
mod tests;
