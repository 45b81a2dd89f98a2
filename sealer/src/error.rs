//! The sealer's error type: every failure names what went wrong and, for files, which file.

use std::io;
use std::path::PathBuf;
use strata_primitives::merkle::TreeError;
use thiserror::Error;

/// Why a sealing, unsealing or piece operation failed. Nothing half-written is left in place.
#[derive(Debug, Error)]
pub enum SealError {
    /// A file operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Reading piece data from its source failed.
    #[error("reading piece {index}: {source}")]
    PieceRead {
        /// Index of the piece.
        index: usize,
        /// The underlying error.
        source: io::Error,
    },
    /// A piece with no bytes.
    #[error("piece {index} is empty: a piece needs at least one byte")]
    EmptyPiece {
        /// Index of the piece.
        index: usize,
    },
    /// A piece source gave a different number of bytes than declared.
    #[error("piece {index}: expected {expected} bytes, the source gave {actual}")]
    PieceLength {
        /// Index of the piece.
        index: usize,
        /// Declared length.
        expected: u64,
        /// Bytes actually read (a lower bound if the source was longer).
        actual: u64,
    },
    /// The pieces do not fit in the sector.
    #[error("pieces do not fit: they need {needed} padded bytes with alignment, the {sector} sector holds {capacity}")]
    PiecesDoNotFit {
        /// Padded bytes the layout needs.
        needed: u64,
        /// Sector capacity in bytes.
        capacity: u64,
        /// The sector size, for the message.
        sector: String,
    },
    /// No pieces given.
    #[error("no pieces to seal")]
    NoPieces,
    /// The sectors given to one batch cannot be sealed together.
    #[error("cannot seal these sectors as one batch: {0}")]
    Batch(String),
    /// The output directory already exists.
    #[error(
        "output directory {0} already exists; choose a new one (Strata never overwrites a sector)"
    )]
    OutputExists(PathBuf),
    /// The parent cache failed its digest or content check.
    #[error("parent cache {path} is corrupt ({reason}); delete it and it will be regenerated")]
    CorruptParentCache {
        /// The cache file.
        path: PathBuf,
        /// What check failed.
        reason: String,
    },
    /// A sector directory's files are missing, malformed or inconsistent.
    #[error("sector {dir}: {reason}")]
    CorruptSector {
        /// The sector directory.
        dir: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A piece index that the sector does not have.
    #[error("sector has {count} pieces; piece {index} does not exist")]
    NoSuchPiece {
        /// Requested index.
        index: usize,
        /// Pieces in the sector.
        count: usize,
    },
    /// Building or reading a Merkle tree failed.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The proof type registry has no entry.
    #[error(transparent)]
    Registry(#[from] strata_params::RegistryError),
}

impl SealError {
    /// A closure mapping an `io::Error` to [`SealError::Io`] for `path`.
    pub(crate) fn io(
        what: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> SealError {
        let path = path.into();
        move |source| SealError::Io { what, path, source }
    }
}
