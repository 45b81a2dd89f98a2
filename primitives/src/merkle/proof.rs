//! Inclusion proofs: opening a stored tree and verifying an opening with plain hashing.

use super::{TreeError, TreeShape};
use crate::node::{as_nodes, Node};
use memmap2::Mmap;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};

/// An opening of one leaf: the leaf, its index, and the siblings at every level, bottom-up
/// (`arity − 1` per level, in child order with the opened node left out).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerkleProof {
    /// Index of the leaf.
    pub index: u64,
    /// The leaf's value.
    #[serde(with = "crate::serde_hex::node")]
    pub leaf: Node,
    /// Siblings per level, bottom-up.
    #[serde(with = "crate::serde_hex::node_rows")]
    pub siblings: Vec<Vec<Node>>,
}

impl MerkleProof {
    /// The root this opening hashes up to, if it has the shape's form and every node is valid.
    pub fn compute_root(&self, shape: &TreeShape) -> Option<Node> {
        if self.index >= shape.leaves || self.siblings.len() != shape.height() {
            return None;
        }
        let mut cur = self.leaf;
        let mut idx = self.index;
        let mut children = [[0u8; 32]; 16];
        for (sibs, &arity) in self.siblings.iter().zip(&shape.arities) {
            if sibs.len() != arity - 1 {
                return None;
            }
            let pos = (idx % arity as u64) as usize;
            children[..pos].copy_from_slice(&sibs[..pos]);
            children[pos] = cur;
            children[pos + 1..arity].copy_from_slice(&sibs[pos..]);
            cur = shape.hasher.hash_children(&children[..arity]).ok()?;
            idx /= arity as u64;
        }
        Some(cur)
    }

    /// True exactly when this opening proves `leaf` at `index` under `root` in a tree of `shape`.
    pub fn verify(&self, shape: &TreeShape, root: &Node) -> bool {
        self.compute_root(shape).as_ref() == Some(root)
    }
}

/// A stored tree opened for reading: leaves and upper levels, both memory-mapped.
pub struct TreeReader {
    shape: TreeShape,
    leaves: Mmap,
    upper: Mmap,
}

impl TreeReader {
    /// Opens a tree; fails with a typed error naming the file if either file has the wrong size.
    pub fn open(
        shape: TreeShape,
        leaves_path: &Path,
        upper_path: &Path,
    ) -> Result<Self, TreeError> {
        let leaves = map_exact(leaves_path, shape.leaves * 32)?;
        let upper = map_exact(upper_path, shape.upper_len() * 32)?;
        Ok(TreeReader {
            shape,
            leaves,
            upper,
        })
    }

    /// The tree's shape.
    pub fn shape(&self) -> &TreeShape {
        &self.shape
    }

    /// The stored root.
    pub fn root(&self) -> Node {
        let u = as_nodes(&self.upper);
        u[u.len() - 1]
    }

    /// Leaf `i`.
    pub fn leaf(&self, i: u64) -> Node {
        as_nodes(&self.leaves)[i as usize]
    }

    fn level(&self, l: usize) -> &[Node] {
        if l == 0 {
            return as_nodes(&self.leaves);
        }
        let start = self.shape.level_offset(l) as usize;
        &as_nodes(&self.upper)[start..start + self.shape.level_len(l) as usize]
    }

    /// The opening of leaf `index` (must be `< leaves`).
    pub fn prove(&self, index: u64) -> MerkleProof {
        assert!(index < self.shape.leaves, "leaf index out of range");
        let mut siblings = Vec::with_capacity(self.shape.height());
        let mut idx = index as usize;
        for (l, &arity) in self.shape.arities.iter().enumerate() {
            let level = self.level(l);
            let first = idx / arity * arity;
            siblings.push(
                (first..first + arity)
                    .filter(|&j| j != idx)
                    .map(|j| level[j])
                    .collect(),
            );
            idx /= arity;
        }
        MerkleProof {
            index,
            leaf: self.leaf(index),
            siblings,
        }
    }

    /// Recomputes the root from the stored leaves (a full integrity check of the leaves file).
    pub fn recompute_root(&self) -> Result<Node, TreeError> {
        let mut leaves: &[Node] = as_nodes(&self.leaves);
        super::tree_root(&self.shape, &mut leaves)
    }
}

fn map_exact(path: &Path, expected: u64) -> Result<Mmap, TreeError> {
    let io = |what| {
        move |source| TreeError::Io {
            what,
            path: PathBuf::from(path),
            source,
        }
    };
    let file = File::open(path).map_err(io("opening"))?;
    let actual = file.metadata().map_err(io("reading metadata of"))?.len();
    if actual != expected {
        return Err(TreeError::WrongSize {
            path: path.to_path_buf(),
            expected,
            actual,
        });
    }
    // SAFETY: the file is opened read-only; Strata never modifies tree or sector files in place
    // (they are replaced by rename), so the mapping stays valid and unchanged while held.
    unsafe { Mmap::map(&file) }.map_err(io("mapping"))
}
