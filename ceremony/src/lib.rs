//! A multi-party trusted setup for Strata's Groth16 circuits, sound as long as one contributor
//! was honest and destroyed their secret (DESIGN §13).
//!
//! * [`phase1`] — powers of tau: a chain of contributions, each multiplying in secret τ, α, β
//!   with a proof of knowledge, closed by a public beacon.
//! * [`phase2`] — per circuit (Bowe–Gabizon–Miers 2017): the circuit's QAP evaluated in the
//!   exponent from the final powers (Lagrange basis by FFT over the group), then a chain of δ
//!   contributions; the result is an ordinary Groth16 parameter file.
//!
//! Every file is written atomically (temporary file, fsync, rename) and names the digest of the
//! file it builds on, so a transcript is a hash chain; verification re-derives everything from
//! the files and names the file and the check that fails.
//!
//! # Design notes (where this crate fills in or departs from DESIGN §13 and BGM17, and why)
//!
//! * **Proofs of knowledge are Schnorr proofs** ([`pok`]) of the update's discrete log relative
//!   to the previous file's point, with a BLAKE3 Fiat–Shamir challenge bound to the previous
//!   digest, the position and the secret's name. BGM17 (and Zcash's powersoftau) instead publish
//!   `r^x` for a hash-to-G2 point `r`; both give knowledge soundness in the random-oracle model,
//!   the Schnorr proof needs no hash to curve and is 128 bytes.
//! * **γ = 1** (`gamma_g2` is the generator), as in Zcash's Sapling MPC: the IC query is then
//!   fixed by phase 1 alone and only δ is updated in phase 2.
//! * **The initial phase-2 file is checked, not recomputed** ([`phase2::check`]): each query is
//!   compared under a random linear combination with the same combination evaluated on the
//!   powers of tau (a scalar inverse FFT of the combined rows, then one multi-scalar
//!   multiplication). Computing the file costs four group FFTs (m/2·log₂ m point
//!   multiplications each) plus one multiplication per R1CS term; checking it costs a few
//!   MSMs of size m. Soundness error 2⁻¹²⁸ per query, the verifier's coefficients being private.
//! * **The beacon value is supplied by the operator** (`strata ceremony tau beacon --beacon HEX`),
//!   e.g. the randomness of a drand round announced before the last contribution, iterated
//!   through BLAKE3 to delay grinding; the command does not fetch it from a chain itself.
//! * **Own file formats.** Phase-1 files are Strata's, not Zcash's `powersoftau` or snarkjs'
//!   `.ptau`; importing an existing public transcript (Zcash/Filecoin's) would need a converter.
//! * **Memory.** Phase-1 contribution and verification stream in chunks (O(chunk)); a phase-2
//!   start holds the circuit's domain of points (O(m)), as does its verification.

mod curve;
mod error;
pub mod files;
pub mod lagrange;
pub mod phase1;
pub mod phase2;
pub mod pok;

pub use curve::*;
pub use error::CeremonyError;

/// Where a long computation stands, for progress bars. Implementations must be cheap: `inc` is
/// called from worker threads once per chunk of points.
pub trait Progress: Sync {
    /// A new stage begins with `total` units of work.
    fn stage(&self, name: &str, total: u64);
    /// `n` more units are done.
    fn inc(&self, n: u64);
}

/// No progress reporting.
pub struct Quiet;

impl Progress for Quiet {
    fn stage(&self, _: &str, _: u64) {}
    fn inc(&self, _: u64) {}
}
