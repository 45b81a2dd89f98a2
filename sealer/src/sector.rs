//! The sector directory (DESIGN §5) and its `meta.json`.
//!
//! ```text
//! DIR/
//!   meta.json                 proof type, ids, ticket, commitments, pieces, state
//!   unsealed                  fr32-padded data, N nodes (tree_d's leaves)
//!   sealed                    the replica, N nodes (tree_r_last's leaves)
//!   cache/layer-<ℓ>.dat       labels of layer ℓ (may be deleted after the seal proof)
//!   cache/tree-d.dat          tree_d levels above the leaves
//!   cache/tree-c-leaves.dat   column hashes
//!   cache/tree-c.dat          tree_c levels above the leaves
//!   cache/tree-r-last.dat     tree_r_last levels above the leaves
//!   cache/p_aux               comm_c ‖ comm_r_last (64 bytes)
//! ```
//! A directory under its final name is always complete: sealing happens in a hidden sibling
//! (`.NAME.sealing`) that is renamed into place only after every file is fsync'd.

use crate::error::SealError;
use crate::pieces::PieceInfo;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use strata_params::ProofType;
use strata_primitives::hash::hash_d;
use strata_primitives::node::Node;
use strata_primitives::serde_hex;

/// Format version of `meta.json`.
pub const META_VERSION: u32 = 1;
/// Format version of the `meta.json` of an updated sector (one with `update`): older builds
/// refuse it rather than read the new replica as the old one.
pub const META_VERSION_UPDATED: u32 = 2;

/// Where a sealed sector stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SectorState {
    /// Replica, trees and CommR are complete.
    Sealed,
}

/// One piece's place in the sector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacedPiece {
    /// Commitment and sizes.
    #[serde(flatten)]
    pub info: PieceInfo,
    /// Offset in padded bytes.
    pub offset: u64,
}

/// `meta.json`: everything needed to prove, verify or unseal the sector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectorMeta {
    /// Format version.
    pub version: u32,
    /// Registered proof type id.
    pub proof_type: u64,
    /// Sector size in bytes.
    pub sector_size: u64,
    /// The miner's id.
    pub prover_id: u64,
    /// The sector number.
    pub sector_number: u64,
    /// Chain randomness the replica is bound to.
    #[serde(with = "serde_hex::node")]
    pub ticket: Node,
    /// The replica id derived from the fields above and comm_d.
    #[serde(with = "serde_hex::node")]
    pub replica_id: Node,
    /// CommD.
    #[serde(with = "serde_hex::node")]
    pub comm_d: Node,
    /// Root of tree_c.
    #[serde(with = "serde_hex::node")]
    pub comm_c: Node,
    /// Root of tree_r_last.
    #[serde(with = "serde_hex::node")]
    pub comm_r_last: Node,
    /// CommR = Poseidon_2(comm_c, comm_r_last).
    #[serde(with = "serde_hex::node")]
    pub comm_r: Node,
    /// The pieces, in sector order.
    pub pieces: Vec<PlacedPiece>,
    /// State.
    pub state: SectorState,
    /// The replica update (SnapDeals) this sector received, if any: then `comm_r_last` and
    /// `comm_r` are the updated replica's, while `comm_d`, `pieces` and `replica_id` stay the
    /// committed-capacity sector's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<Box<UpdateMeta>>,
}

/// What a replica update changed (see `update.rs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateMeta {
    /// CommR of the committed-capacity replica.
    #[serde(with = "serde_hex::node")]
    pub comm_r_old: Node,
    /// Its tree_r_last root.
    #[serde(with = "serde_hex::node")]
    pub comm_r_last_old: Node,
    /// CommD of the new data.
    #[serde(with = "serde_hex::node")]
    pub comm_d: Node,
    /// log₂ of the number of distinct ρ values.
    pub h: u32,
    /// The new pieces, in sector order.
    pub pieces: Vec<PlacedPiece>,
}

/// `prover_id` as 32 bytes: the miner id as a little-endian integer.
pub fn prover_id_bytes(prover_id: u64) -> Node {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&prover_id.to_le_bytes());
    b
}

/// `replica_id = hash_d(prover_id[32] ‖ u64_be(sector_number) ‖ ticket ‖ comm_d ‖ porep_id)`.
pub fn replica_id(
    prover_id: u64,
    sector_number: u64,
    ticket: &Node,
    comm_d: &Node,
    porep_id: &[u8; 32],
) -> Node {
    let mut pre = Vec::with_capacity(136);
    pre.extend_from_slice(&prover_id_bytes(prover_id));
    pre.extend_from_slice(&sector_number.to_be_bytes());
    pre.extend_from_slice(ticket);
    pre.extend_from_slice(comm_d);
    pre.extend_from_slice(porep_id);
    hash_d(&pre)
}

/// Paths inside a sector directory.
#[derive(Clone, Debug)]
pub struct SectorPaths {
    /// The directory.
    pub dir: PathBuf,
}

impl SectorPaths {
    /// Paths for `dir`.
    pub fn new(dir: &Path) -> Self {
        SectorPaths {
            dir: dir.to_path_buf(),
        }
    }
    /// `meta.json`.
    pub fn meta(&self) -> PathBuf {
        self.dir.join("meta.json")
    }
    /// The unsealed (padded) data.
    pub fn unsealed(&self) -> PathBuf {
        self.dir.join("unsealed")
    }
    /// The replica.
    pub fn sealed(&self) -> PathBuf {
        self.dir.join("sealed")
    }
    /// `cache/`.
    pub fn cache(&self) -> PathBuf {
        self.dir.join("cache")
    }
    /// Labels of layer `l` (1-based).
    pub fn layer(&self, l: usize) -> PathBuf {
        self.cache().join(format!("layer-{l}.dat"))
    }
    /// tree_d upper levels.
    pub fn tree_d(&self) -> PathBuf {
        self.cache().join("tree-d.dat")
    }
    /// tree_c leaves (column hashes).
    pub fn tree_c_leaves(&self) -> PathBuf {
        self.cache().join("tree-c-leaves.dat")
    }
    /// tree_c upper levels.
    pub fn tree_c(&self) -> PathBuf {
        self.cache().join("tree-c.dat")
    }
    /// tree_r_last upper levels.
    pub fn tree_r_last(&self) -> PathBuf {
        self.cache().join("tree-r-last.dat")
    }
    /// `p_aux`: comm_c ‖ comm_r_last.
    pub fn p_aux(&self) -> PathBuf {
        self.cache().join("p_aux")
    }
}

impl SectorMeta {
    /// Reads and checks `meta.json` of the sector in `dir`.
    pub fn load(dir: &Path) -> Result<SectorMeta, SealError> {
        let corrupt = |reason: String| SealError::CorruptSector {
            dir: dir.to_path_buf(),
            reason,
        };
        let path = SectorPaths::new(dir).meta();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| corrupt(format!("cannot read meta.json: {e}")))?;
        let meta: SectorMeta = serde_json::from_str(&text)
            .map_err(|e| corrupt(format!("malformed meta.json: {e}")))?;
        let expected = if meta.update.is_some() {
            META_VERSION_UPDATED
        } else {
            META_VERSION
        };
        if meta.version != expected {
            return Err(corrupt(format!(
                "meta.json version {} (this build reads {META_VERSION}, and {META_VERSION_UPDATED} for updated sectors)",
                meta.version
            )));
        }
        let pt = meta
            .proof_type_checked()
            .map_err(|e| corrupt(e.to_string()))?;
        if pt.sector_size.bytes() != meta.sector_size {
            return Err(corrupt(format!(
                "sector size {} does not match proof type {}",
                meta.sector_size, pt.id
            )));
        }
        let expect = replica_id(
            meta.prover_id,
            meta.sector_number,
            &meta.ticket,
            &meta.comm_d,
            &pt.porep_id(),
        );
        if expect != meta.replica_id {
            return Err(corrupt(
                "replica_id does not match prover id, sector number, ticket and comm_d".into(),
            ));
        }
        Ok(meta)
    }

    /// The data the sector holds now: CommD and pieces of the update if there was one, else
    /// the sealed ones.
    pub fn data(&self) -> (Node, &[PlacedPiece]) {
        match &self.update {
            Some(u) => (u.comm_d, &u.pieces),
            None => (self.comm_d, &self.pieces),
        }
    }

    /// The registered proof type.
    pub fn proof_type_checked(&self) -> Result<ProofType, strata_params::RegistryError> {
        ProofType::for_id(self.proof_type)
    }
}
