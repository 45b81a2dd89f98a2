//! Nodes: 32-byte little-endian field elements, and conversions to and from `Fr`.

use bls12_381::Scalar;
use thiserror::Error;

/// Bytes in one node.
pub const NODE_SIZE: usize = 32;

/// A 32-byte node: the little-endian representation of an `Fr` element.
/// Data nodes (fr32-padded bytes, `hash_d` outputs) additionally have their top two bits zero.
pub type Node = [u8; NODE_SIZE];

/// A node that is not the canonical encoding of a field element.
#[derive(Debug, Error, PartialEq, Eq, Clone)]
#[error("bytes {} are not a canonical BLS12-381 scalar", hex::encode(.0))]
pub struct NonCanonicalNode(pub Node);

/// Decodes a node; fails if its value is not below the field modulus.
#[inline]
pub fn node_to_fr(node: &Node) -> Result<Scalar, NonCanonicalNode> {
    Option::<Scalar>::from(Scalar::from_bytes(node)).ok_or(NonCanonicalNode(*node))
}

/// Encodes a field element as a node.
#[inline]
pub fn node_from_fr(fr: &Scalar) -> Node {
    fr.to_bytes()
}

/// True if the node's top two bits are zero, as every data node's are.
#[inline]
pub fn is_data_node(node: &Node) -> bool {
    node[31] & 0xc0 == 0
}

/// Reinterprets a byte slice whose length is a multiple of 32 as nodes.
pub fn as_nodes(bytes: &[u8]) -> &[Node] {
    assert_eq!(
        bytes.len() % NODE_SIZE,
        0,
        "byte length is not a whole number of nodes"
    );
    // SAFETY: `Node` is `[u8; 32]`, alignment 1, and the length is a multiple of 32.
    unsafe { std::slice::from_raw_parts(bytes.as_ptr() as *const Node, bytes.len() / NODE_SIZE) }
}

/// Mutable counterpart of [`as_nodes`].
pub fn as_nodes_mut(bytes: &mut [u8]) -> &mut [Node] {
    assert_eq!(
        bytes.len() % NODE_SIZE,
        0,
        "byte length is not a whole number of nodes"
    );
    // SAFETY: as in `as_nodes`.
    unsafe {
        std::slice::from_raw_parts_mut(bytes.as_mut_ptr() as *mut Node, bytes.len() / NODE_SIZE)
    }
}

/// Views nodes as their bytes.
pub fn nodes_as_bytes(nodes: &[Node]) -> &[u8] {
    // SAFETY: a slice of `[u8; 32]` is contiguous bytes.
    unsafe { std::slice::from_raw_parts(nodes.as_ptr() as *const u8, nodes.len() * NODE_SIZE) }
}

/// Views nodes as mutable bytes.
pub fn nodes_as_bytes_mut(nodes: &mut [Node]) -> &mut [u8] {
    // SAFETY: a slice of `[u8; 32]` is contiguous bytes.
    unsafe {
        std::slice::from_raw_parts_mut(nodes.as_mut_ptr() as *mut u8, nodes.len() * NODE_SIZE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff::Field;

    #[test]
    fn modulus_is_rejected_and_small_values_accepted() {
        // r = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001, little-endian.
        let r = hex::decode("01000000fffffffffe5bfeff02a4bd5305d8a10908d83933487d9d2953a7ed73")
            .unwrap();
        let r: Node = r.try_into().unwrap();
        assert_eq!(node_to_fr(&r), Err(NonCanonicalNode(r)));
        let mut below = r;
        below[0] = 0;
        assert!(node_to_fr(&below).is_ok());
        assert_eq!(node_to_fr(&[0u8; 32]).unwrap(), Scalar::ZERO);
        assert_eq!(node_from_fr(&Scalar::ONE)[0], 1);
    }
}
