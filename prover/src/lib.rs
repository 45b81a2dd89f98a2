//! Strata's prover (DESIGN §6): challenge derivation, vanilla proofs with their reference
//! verifiers, and (in progress) the bellman gadgets and circuits proving the same statements.
//!
//! The split follows rust-fil-proofs: a *vanilla* proof is plain Merkle openings an auditor can
//! check by hand; a *circuit* proves the same statement in zero knowledge; a thin layer joins them.

pub mod challenges;
pub mod circuit;
pub mod error;
pub mod gadgets;
pub mod proof_file;
pub mod snark;
pub mod vanilla;

pub use error::ProofError;
