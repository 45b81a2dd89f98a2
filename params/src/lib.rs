//! The registry of proof types (DESIGN §4): one row per sector size with its stable numeric id,
//! layer count, challenge counts, partitions and tree shapes; and the Groth16 parameter files
//! ([`groth16_files`]): naming, manifest, digest checks, loading, generation under a lock, a
//! verifying-key file beside each parameter file; and our own Groth16 parameter generator
//! ([`generator`]): the same parameters as `groth16`'s for the same secrets, with fixed-base
//! window tables and blst's assembly arithmetic, about 15× less CPU per constraint (BENCHMARKS).

pub mod generator;
pub mod groth16_files;

use serde::{Deserialize, Serialize};
use strata_primitives::merkle::TreeShape;
use strata_primitives::sizes::SectorSize;
use thiserror::Error;

/// A registered proof type. Its numbers are part of the on-chain and on-disk contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofType {
    /// Stable numeric id (enters `porep_id`).
    pub id: u64,
    /// Sector size in bytes.
    pub sector_size: SectorSize,
    /// SDR layers.
    pub layers: usize,
    /// PoRep challenges per partition.
    pub porep_challenges_per_partition: usize,
    /// PoRep partitions.
    pub porep_partitions: usize,
    /// WindowPoSt sectors per partition.
    pub window_post_sectors_per_partition: usize,
    /// WindowPoSt challenges per sector.
    pub window_post_challenges: usize,
    /// WinningPoSt challenges (one sector).
    pub winning_post_challenges: usize,
}

/// Base degree of the DRG (parents in the same layer, including v−1).
pub const BASE_DEGREE: usize = 6;
/// Expander parents in the previous layer.
pub const EXPANDER_DEGREE: usize = 8;
/// Parent labels hashed per label (6·6+1 in layer 1; 14+14+9 in later layers).
pub const LABEL_PARENTS: usize = 37;

/// Every registered proof type, smallest first.
pub const PROOF_TYPES: [ProofType; 5] = [
    row(1, SectorSize::KIB2, 2, 2, 1, 2),
    row(2, SectorSize::MIB8, 2, 2, 1, 2),
    row(3, SectorSize::MIB512, 2, 2, 1, 2),
    row(4, SectorSize::GIB32, 11, 18, 10, 2349),
    row(5, SectorSize::GIB64, 11, 18, 10, 2300),
];

const fn row(
    id: u64,
    sector_size: SectorSize,
    layers: usize,
    per_partition: usize,
    partitions: usize,
    window: usize,
) -> ProofType {
    ProofType {
        id,
        sector_size,
        layers,
        porep_challenges_per_partition: per_partition,
        porep_partitions: partitions,
        window_post_sectors_per_partition: window,
        window_post_challenges: 10,
        winning_post_challenges: 66,
    }
}

/// A lookup that found no registered proof type.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RegistryError {
    /// No proof type for this sector size.
    #[error("no registered proof type for sector size {0}")]
    UnknownSize(SectorSize),
    /// No proof type with this id.
    #[error("no registered proof type with id {0}")]
    UnknownId(u64),
}

impl ProofType {
    /// The proof type for a sector size.
    pub fn for_size(size: SectorSize) -> Result<ProofType, RegistryError> {
        PROOF_TYPES
            .iter()
            .copied()
            .find(|p| p.sector_size == size)
            .ok_or(RegistryError::UnknownSize(size))
    }

    /// The proof type with an id.
    pub fn for_id(id: u64) -> Result<ProofType, RegistryError> {
        PROOF_TYPES
            .iter()
            .copied()
            .find(|p| p.id == id)
            .ok_or(RegistryError::UnknownId(id))
    }

    /// Nodes per layer.
    pub fn nodes(&self) -> u64 {
        self.sector_size.nodes()
    }

    /// `porep_id = u64_le(id) ‖ u64_le(0) ‖ 16 zero bytes`.
    pub fn porep_id(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out[..8].copy_from_slice(&self.id.to_le_bytes());
        out
    }

    /// Total PoRep challenges.
    pub fn porep_challenges(&self) -> usize {
        self.porep_challenges_per_partition * self.porep_partitions
    }

    /// tree_d: binary `hash_d` tree over the unsealed sector.
    pub fn tree_d_shape(&self) -> TreeShape {
        TreeShape::binary(self.nodes())
    }

    /// tree_c and tree_r_last: arity-8 Poseidon trees (top arity 2 when log2 N is not a multiple of 3).
    pub fn tree_r_shape(&self) -> TreeShape {
        TreeShape::oct(self.nodes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_design() {
        let p = ProofType::for_size(SectorSize::KIB2).unwrap();
        assert_eq!((p.nodes(), p.layers, p.porep_challenges()), (64, 2, 2));
        assert_eq!(
            ProofType::for_size(SectorSize::MIB8).unwrap().nodes(),
            1 << 18
        );
        assert_eq!(
            ProofType::for_size(SectorSize::MIB512).unwrap().nodes(),
            1 << 24
        );
        let p32 = ProofType::for_size(SectorSize::GIB32).unwrap();
        assert_eq!(
            (p32.nodes(), p32.layers, p32.porep_challenges()),
            (1 << 30, 11, 180)
        );
        assert_eq!(p32.tree_r_shape().arities, vec![8; 10]);
        let p64 = ProofType::for_size(SectorSize::GIB64).unwrap();
        assert_eq!(p64.window_post_sectors_per_partition, 2300);
        assert_eq!(p64.tree_r_shape().arities.last(), Some(&2));
        let ids: std::collections::BTreeSet<u64> = PROOF_TYPES.iter().map(|p| p.id).collect();
        assert_eq!(ids.len(), PROOF_TYPES.len(), "ids are unique");
        assert_eq!(&p64.porep_id()[..8], &5u64.to_le_bytes());
        assert_eq!(&p64.porep_id()[8..], &[0u8; 24]);
        assert_eq!(ProofType::for_id(9), Err(RegistryError::UnknownId(9)));
        assert!(ProofType::for_size(SectorSize(4096)).is_err());
    }
}
