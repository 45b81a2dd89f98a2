//! What can go wrong in a ceremony, each case naming the file and the check that failed.

use std::path::PathBuf;
use thiserror::Error;

/// A ceremony error.
#[derive(Debug, Error)]
pub enum CeremonyError {
    /// A file could not be read, written, created or renamed.
    #[error("{what} {path}: {source}")]
    Io {
        /// The operation.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not of the expected kind or version (bad magic, header or trailer).
    #[error("{path}: not a valid {expected} file: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What it should have been.
        expected: &'static str,
        /// Why it is not.
        reason: String,
    },
    /// The file is shorter or longer than its header says.
    #[error("{path}: {got} bytes where its header implies {expected} (truncated or padded)")]
    Length {
        /// The file.
        path: PathBuf,
        /// Its length.
        got: u64,
        /// The length its header implies.
        expected: u64,
    },
    /// A curve point is not on the curve or not in the prime-order subgroup.
    #[error("{path}: {what} is not a valid curve point (altered or corrupt)")]
    InvalidPoint {
        /// The file.
        path: PathBuf,
        /// Which point.
        what: String,
    },
    /// A contribution fails a check: its proof of knowledge, a pairing check, the chain of
    /// digests, or the beacon.
    #[error("contribution {index} ({path}): {reason}")]
    BadContribution {
        /// Its position in the transcript (1 = first contribution).
        index: usize,
        /// The file.
        path: PathBuf,
        /// The check that failed.
        reason: String,
    },
    /// The transcript as a whole is wrong: a missing or extra file, a wrong order, a record
    /// that disagrees with the files, a transcript of another circuit or another phase 1.
    #[error("transcript {dir}: {reason}")]
    Transcript {
        /// The ceremony directory.
        dir: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The phase-1 transcript has too few powers for the circuit.
    #[error("the powers of tau hold 2^{have} powers; this circuit needs 2^{need} ({constraints} constraints with its inputs)")]
    TooFewPowers {
        /// log2 of the powers available.
        have: u32,
        /// log2 of the powers needed.
        need: u32,
        /// Constraints, input constraints included.
        constraints: usize,
    },
    /// The circuit could not be synthesised.
    #[error("synthesising the circuit: {0}")]
    Circuit(String),
    /// The operating system gave no randomness.
    #[error("no randomness from the operating system: {0}")]
    Randomness(String),
    /// Writing the final parameters into the parameter store failed.
    #[error(transparent)]
    Params(#[from] strata_params::groth16_files::ParamsError),
}
