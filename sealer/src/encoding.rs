//! Encoding and decoding (DESIGN §5): `replica[v] = data[v] + label_L[v]` in Fr; decoding subtracts.

use rayon::prelude::*;
use strata_primitives::node::{is_data_node, node_from_fr, node_to_fr, Node, NonCanonicalNode};

/// Encodes a block: `out[i] = data[i] + key[i]`.
pub fn encode(data: &[Node], key: &[Node], out: &mut [Node]) -> Result<(), NonCanonicalNode> {
    out.par_iter_mut()
        .with_min_len(1024)
        .zip(data.par_iter().zip(key))
        .try_for_each(|(o, (d, k))| {
            *o = node_from_fr(&(node_to_fr(d)? + node_to_fr(k)?));
            Ok(())
        })
}

/// Why a replica node did not decode to data.
#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The replica node is not a field element.
    NonCanonical(NonCanonicalNode),
    /// The decoded value is not a data node (top bits set): the replica or key is wrong.
    NotData {
        /// Index inside the block.
        index: usize,
    },
}

/// Decodes a block: `out[i] = replica[i] − key[i]`, checking every result is a data node.
pub fn decode(replica: &[Node], key: &[Node], out: &mut [Node]) -> Result<(), DecodeError> {
    out.par_iter_mut()
        .enumerate()
        .with_min_len(1024)
        .zip(replica.par_iter().zip(key))
        .try_for_each(|((i, o), (r, k))| {
            let r = node_to_fr(r).map_err(DecodeError::NonCanonical)?;
            let k = node_to_fr(k).map_err(DecodeError::NonCanonical)?;
            *o = node_from_fr(&(r - k));
            if is_data_node(o) {
                Ok(())
            } else {
                Err(DecodeError::NotData { index: i })
            }
        })
}
