//! Shared test helpers: sealing small sectors.

use std::path::{Path, PathBuf};
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_sealer::*;

/// Seals a 2 KiB sector numbered `number` for miner 1000 (ticket = `number` repeated) holding
/// 2,000 bytes derived from `fill`, into `root/sector-<number>`; parent caches in `root/parents`.
#[allow(dead_code)]
pub fn seal_2kib(root: &Path, number: u64, fill: u8) -> (PathBuf, SectorMeta) {
    let cfg = SealConfig {
        proof_type: ProofType::for_size(SectorSize::KIB2).unwrap(),
        prover_id: 1000,
        sector_number: number,
        ticket: [number as u8; 32],
        parent_cache_dir: root.join("parents"),
    };
    let data: Vec<u8> = (0..2000u32)
        .map(|i| (i as u8).wrapping_mul(fill) ^ fill)
        .collect();
    let out = root.join(format!("sector-{number}"));
    let meta = seal(
        &cfg,
        vec![PieceSource {
            reader: Box::new(&data[..]),
            len: data.len() as u64,
        }],
        &out,
        &NoProgress,
    )
    .unwrap();
    (out, meta)
}
