//! Strata's prover (DESIGN §6): challenge derivation, vanilla proofs with their reference
//! verifiers, the bellman gadgets and circuits proving the same statements, Groth16 proving and
//! (batch) verification, and the proof files auditors verify offline.
//!
//! The split follows rust-fil-proofs: a *vanilla* proof ([`vanilla`]) is plain Merkle openings an
//! auditor can check by hand; a *circuit* ([`circuit`]) proves the same statement; a thin layer
//! ([`snark`], [`proof_file`]) joins them. Tests check, for the valid witness and each kind of
//! tampering, that a circuit is satisfied with the verifier's public inputs exactly when the
//! vanilla verifier accepts. [`remote`] splits PoSt in two, as rust-fil-proofs does: vanilla
//! proofs where the sectors live, the SNARK anywhere, with every received proof checked first.
//!
//! # Design notes
//!
//! - **Public inputs.** PoRep: replica_id, comm_d, comm_r, then per challenge its index and the
//!   indices of its 14 parents (the verifier computes them from the graph, as rust-fil-proofs does).
//!   PoSt: per sector comm_r and each challenge index. comm_c and comm_r_last stay private.
//! - **One PoSt circuit** serves WinningPoSt (1 sector, 66 challenges) and WindowPoSt (a
//!   partition of sectors, 10 challenges each; short partitions repeat their last sector).
//! - **Poseidon in R1CS** follows the native optimised schedule, so linear layers are free and
//!   only S-boxes cost (3 each): 238 / 388 / 460 constraints for arities 2 / 8 / 11.
//! - **Merkle insertion** for arity 8 uses one-hot position selectors: 29 constraints per level on
//!   top of Poseidon-8 (417 per level in all).
//! - **BLAKE3** is bellman's `UInt32` arithmetic: 14,704 constraints per compression, 311,088 per
//!   label (21 compressions), 15,217 per tree_d level. Labels dominate the PoRep circuit.
//! - **Circuit identity** is the BLAKE3 digest of the R1CS recorded by [`circuit::shape`] from the
//!   blank circuit; parameter files are stored and looked up under it, and a proof file's verifying
//!   key must belong to the digest of its kind and size, so parameters of another circuit are
//!   rejected even if a manifest lists them. The digests of the circuits this build proves are
//!   pinned in [`snark::KNOWN_CIRCUITS`] (a test re-synthesises each and fails on any change), so a
//!   verifier compares instead of synthesising the blank circuit — seconds for PoRep — in every
//!   process; `strata params verify` re-synthesises. 32/64 GiB circuits are synthesised once per
//!   process (minutes; not worth a test).
//! - **Verifying keys live in their own files** (`*.vk`, a few KB, digest = the `vk_digest` proof
//!   files name): `strata verify` reads only those, so verifying one proof file takes
//!   milliseconds whatever the parameter file's size, and `strata params export-keys` gives an
//!   auditor a directory of keys alone.
//! - **Fast satisfaction checking** ([`circuit::check`]) evaluates constraints as they are enforced
//!   and stores none, so the 1.47 M-constraint 2 KiB PoRep circuit checks in about a second.

pub mod aggregate_file;
pub mod challenges;
pub mod circuit;
pub mod error;
pub mod gadgets;
pub mod proof_file;
pub mod remote;
pub mod snark;
pub mod vanilla;
pub mod warm;

pub use error::ProofError;
