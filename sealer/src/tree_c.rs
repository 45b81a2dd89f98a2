//! Column hashes: tree_c's leaf v is `Poseidon_L(label_1[v], …, label_L[v])`.

use rayon::prelude::*;
use strata_primitives::node::{node_from_fr, node_to_fr, Node, NonCanonicalNode};
use strata_primitives::poseidon::Poseidon;

/// Hashes columns: `layers[ℓ][i]` is node i of layer ℓ+1; `out[i]` gets column i's hash.
pub fn hash_columns(layers: &[Vec<Node>], out: &mut [Node]) -> Result<(), NonCanonicalNode> {
    let pos = Poseidon::for_arity(layers.len()).expect("column arity is the layer count: 2 or 11");
    out.par_iter_mut()
        .enumerate()
        .with_min_len(64)
        .try_for_each(|(i, o)| {
            let mut col = [bls12_381::Scalar::zero(); 16];
            for (c, layer) in col.iter_mut().zip(layers) {
                *c = node_to_fr(&layer[i])?;
            }
            *o = node_from_fr(&pos.hash(&col[..layers.len()]));
            Ok(())
        })
}

/// The column hash of one node from its labels (reference and vanilla-proof form).
pub fn column_hash(labels: &[Node]) -> Result<Node, NonCanonicalNode> {
    let frs = labels
        .iter()
        .map(node_to_fr)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(node_from_fr(&strata_primitives::poseidon::hash(&frs)))
}
