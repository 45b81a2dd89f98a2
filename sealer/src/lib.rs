//! Strata's sealing engine (DESIGN §3, §5): pieces and their commitments, the SDR graph and its
//! parent cache, layer labeling, encoding, tree_c/tree_r_last, CommR, the sector directory, and
//! unsealing. It knows nothing of proofs, chains or daemons.

pub mod encoding;
pub mod error;
pub mod files;
pub mod graph;
pub mod labeling;
mod labeling_split;
pub mod parent_cache;
pub mod pieces;
pub mod progress;
pub mod seal;
pub mod sector;
pub mod tree_c;
pub mod unseal;

pub use error::SealError;
pub use pieces::{comm_d_from_pieces, comm_p, PieceInfo};
pub use progress::{NoProgress, Progress};
pub use seal::{seal, PieceSource, SealConfig};
pub use sector::{SectorMeta, SectorPaths};
pub use unseal::{unseal_piece, unseal_sector};
