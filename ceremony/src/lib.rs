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
