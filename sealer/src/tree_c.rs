//! Column hashes: tree_c's leaf v is `Poseidon_L(label_1[v], …, label_L[v])`.

use rayon::prelude::*;
use strata_primitives::node::{Node, NonCanonicalNode};
use strata_primitives::poseidon::Poseidon;

/// Columns per parallel task; a multiple of the widest batch (eight hashes per pass).
const COLUMNS_PER_TASK: usize = 256;

/// Hashes columns: `layers[ℓ][i]` is node i of layer ℓ+1; `out[i]` gets column i's hash.
///
/// # Panics
/// If the layer count is not a Poseidon arity (2 or 11) or a layer is shorter than `out`.
pub fn hash_columns(layers: &[Vec<Node>], out: &mut [Node]) -> Result<(), NonCanonicalNode> {
    let pos = Poseidon::for_arity(layers.len()).expect("column arity is the layer count: 2 or 11");
    out.par_chunks_mut(COLUMNS_PER_TASK)
        .enumerate()
        .try_for_each(|(c, o)| pos.hash_node_columns(layers, c * COLUMNS_PER_TASK, o))
}

/// The column hash of one node from its labels (reference and vanilla-proof form).
///
/// # Panics
/// If the label count is not a Poseidon arity (2 or 11).
pub fn column_hash(labels: &[Node]) -> Result<Node, NonCanonicalNode> {
    Poseidon::for_arity(labels.len())
        .unwrap_or_else(|| panic!("no Poseidon constants for arity {}", labels.len()))
        .hash_nodes(labels)
}
