//! Vanilla proofs: Merkle openings and the values they open, checkable with plain hashing. Their
//! verifiers are the reference that every circuit must agree with.

pub mod porep;
pub mod post;
pub mod update;
