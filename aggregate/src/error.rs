//! The one error type of the crate.

/// Why an SRS, an aggregation or a verification was refused.
///
/// Every variant is returned, never panicked on: malformed bytes, wrong sizes and invalid proofs
/// are all ordinary inputs here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AggregateError {
    /// The number of proofs is not a power of two of at least 2.
    #[error("aggregation needs a power of two of at least 2 proofs, got {0}")]
    ProofCount(usize),
    /// The SRS (or the key specialised from it) does not fit this number of proofs.
    #[error("the key supports {supported} proofs, asked for {asked}")]
    KeySize {
        /// What the key supports (exactly, for a prover key; at most, for an SRS or verifier key).
        supported: usize,
        /// What was asked.
        asked: usize,
    },
    /// The statements do not match the proofs or the Groth16 verifying key.
    #[error("public inputs: {0}")]
    PublicInputs(String),
    /// A point given by the caller is not a valid curve point of the prime-order subgroup.
    #[error("invalid curve point: {0}")]
    InvalidPoint(&'static str),
    /// Powers of tau that are not powers of one secret, or an SRS whose two secrets coincide.
    #[error("invalid SRS: {0}")]
    InvalidSrs(String),
    /// Bytes that do not parse (wrong magic, version or length; a point off the curve or outside
    /// the prime-order subgroup; a non-canonical encoding).
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being parsed.
        what: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// An inner Groth16 proof does not verify (from [`crate::verify_each`]).
    #[error("proof {0} does not verify")]
    InnerProof(usize),
    /// The aggregate proof is well formed but does not verify.
    #[error("aggregate proof does not verify: {0}")]
    Invalid(&'static str),
}

impl AggregateError {
    pub(crate) fn malformed(what: &'static str, reason: impl Into<String>) -> Self {
        AggregateError::Malformed {
            what,
            reason: reason.into(),
        }
    }
}
