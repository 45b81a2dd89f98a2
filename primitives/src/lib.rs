//! Strata's primitives: the field and node helpers, fr32 padding, `hash_d` (BLAKE3-254),
//! neptune-compatible Poseidon, and disk-backed Merkle trees. Nothing here knows about sectors'
//! life cycle, proofs or chains; see `../shared/DESIGN.md` §2–3.

pub mod fr32;
pub mod hash;
pub mod merkle;
pub mod node;
pub mod poseidon;
pub mod serde_hex;
pub mod sizes;

pub use hash::hash_d;
pub use node::{Node, NODE_SIZE};
