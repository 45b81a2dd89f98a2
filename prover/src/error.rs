//! The prover's error type.

use strata_primitives::merkle::TreeError;
use strata_sealer::SealError;
use thiserror::Error;

/// Why a proof could not be produced.
#[derive(Debug, Error)]
pub enum ProofError {
    /// A sector's files are missing, malformed or inconsistent.
    #[error(transparent)]
    Sector(#[from] SealError),
    /// A tree file could not be opened or read.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The sector's data does not match its recorded commitments.
    #[error("sector {sector}: {reason}")]
    Inconsistent {
        /// Sector number.
        sector: u64,
        /// What does not match.
        reason: String,
    },
    /// A request that cannot be served (wrong partition, empty sector set, …).
    #[error("{0}")]
    BadRequest(String),
}
