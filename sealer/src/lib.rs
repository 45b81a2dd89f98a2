//! Strata's sealing engine (DESIGN §3, §5): pieces and their commitments, the SDR graph and its
//! parent cache, layer labeling, encoding, tree_c/tree_r_last, CommR, the sector directory, and
//! unsealing. It knows nothing of proofs, chains or daemons.
//!
//! # Design notes (where this crate fills in or departs from DESIGN.md, and why)
//!
//! - **Graph randomness** (DESIGN leaves the PRNG open): bucket sampling draws its words from a
//!   per-node keyed BLAKE3 XOF; the Feistel round function is keyed BLAKE3 truncated to the half
//!   width. Exact definitions in [`graph`]. Parents are format version 1 of the parent cache.
//! - **Parent cache is streamed, not mapped.** Labeling reads it strictly in order, so positioned
//!   reads of 16 Ki-node blocks cost nothing, and at 512 MiB it keeps the 940 MB cache out of the
//!   resident set, leaving room for the two layers that must be mapped (peak RSS ≈ 1 GiB).
//! - **Two-thread labeling.** Labels are sequential, but a label's 1,248-byte preimage is two
//!   BLAKE3 chunks; a helper thread hashes the tail chunk ahead of the main thread
//!   ([`labeling`] and `labeling_split`), cutting 4 of 21 compressions from the critical path. The
//!   single-thread loop remains (used on one core or with `STRATA_LABEL_THREADS=1`) and the tests
//!   check the two agree node for node.
//! - **Batch sealing** ([`batch`], DESIGN §10): B sectors labeled in one pass over an interleaved
//!   scratch layer (node v of every sector adjacent), one parent-cache row per node for all of
//!   them, and the B BLAKE3 label hashes in SIMD lanes; each sector's files are then written
//!   exactly as sealing it alone writes them (tested bit for bit).
//! - **Tree files hold only the levels above the leaves.** tree_d's leaves are the `unsealed`
//!   file, tree_r_last's the `sealed` file, tree_c's the column-hash file: nothing is stored twice.
//! - **Atomicity is per sector, not only per file.** Every file is written to a temp name, fsync'd
//!   and renamed, and the whole sector is built in a hidden `.NAME.sealing` directory that is
//!   renamed into place last; a directory under its final name is therefore always complete.
//! - **Unsealing regenerates labels** when the layer files were deleted (labels depend only on
//!   replica_id and the graph), and checks the decoded bytes against CommP/CommD as they stream.
//! - **CommP skips zero padding**: subtrees wholly past a piece's data use precomputed zero roots.

pub mod batch;
pub mod encoding;
pub mod error;
pub mod files;
pub mod graph;
pub mod labeling;
mod labeling_batch;
mod labeling_split;
pub mod parent_cache;
pub mod pieces;
pub mod progress;
pub mod seal;
pub mod sector;
pub mod tree_c;
pub mod unseal;
pub mod update;

pub use batch::{seal_batch, BatchItem};
pub use error::SealError;
pub use pieces::{comm_d_from_pieces, comm_p, PieceInfo};
pub use progress::{NoProgress, Progress};
pub use seal::{seal, PieceSource, SealConfig};
pub use sector::{SectorMeta, SectorPaths};
pub use unseal::{unseal_piece, unseal_sector};
pub use update::snap;
