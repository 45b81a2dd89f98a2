//! Vanilla proofs of spacetime (DESIGN §6): for each challenged sector, CommR's two halves and an
//! opening of every challenged leaf of tree_r_last. A sector whose files are missing or corrupt is
//! reported by number as faulty and skipped — one bad sector never fails the rest.

use crate::challenges::{post_leaf_challenges, winning_post_sector_index};
use crate::error::ProofError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use strata_params::ProofType;
use strata_primitives::merkle::{MerkleProof, TreeReader};
use strata_primitives::node::{node_to_fr, Node};
use strata_primitives::serde_hex;
use strata_sealer::seal::comm_r;
use strata_sealer::{SectorMeta, SectorPaths};

/// A sector as the chain knows it: its number and CommR. Part of the proof-file document, so
/// unknown fields are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostSector {
    /// Sector number.
    pub sector_number: u64,
    /// CommR.
    #[serde(with = "serde_hex::node")]
    pub comm_r: Node,
}

/// The vanilla PoSt proof of one sector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectorPostProof {
    /// Sector number.
    pub sector_number: u64,
    /// Root of tree_c.
    #[serde(with = "serde_hex::node")]
    pub comm_c: Node,
    /// Root of tree_r_last.
    #[serde(with = "serde_hex::node")]
    pub comm_r_last: Node,
    /// One opening per leaf challenge, in challenge order.
    pub openings: Vec<MerkleProof>,
}

/// A sector that could not be proven, and why. Part of the proof-file document, so unknown
/// fields are refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faulty {
    /// Sector number (or the directory's position if its meta.json is unreadable).
    pub sector_number: u64,
    /// The directory.
    pub dir: PathBuf,
    /// What is wrong.
    pub reason: String,
}

/// Proves one sector for `randomness` with `count` leaf challenges, checking every opening it
/// produces; any missing file, size mismatch or failed opening makes the sector faulty.
pub fn prove_sector(
    dir: &Path,
    randomness: &Node,
    count: usize,
) -> Result<(SectorPostProof, PostSector), String> {
    let meta = SectorMeta::load(dir).map_err(|e| e.to_string())?;
    let pt = meta.proof_type_checked().map_err(|e| e.to_string())?;
    let paths = SectorPaths::new(dir);
    let p_aux = std::fs::read(paths.p_aux()).map_err(|e| format!("p_aux unreadable: {e}"))?;
    if p_aux.len() != 64 || p_aux[..32] != meta.comm_c || p_aux[32..] != meta.comm_r_last {
        return Err("p_aux does not match meta.json".into());
    }
    if comm_r(&meta.comm_c, &meta.comm_r_last) != meta.comm_r {
        return Err("comm_r does not commit to comm_c and comm_r_last".into());
    }
    let tree = TreeReader::open(pt.tree_r_shape(), &paths.sealed(), &paths.tree_r_last())
        .map_err(|e| e.to_string())?;
    if tree.root() != meta.comm_r_last {
        return Err("tree_r_last root differs from comm_r_last".into());
    }
    let shape = pt.tree_r_shape();
    let mut openings = Vec::with_capacity(count);
    for c in post_leaf_challenges(randomness, meta.sector_number, count, pt.nodes()) {
        let p = tree.prove(c);
        if !p.verify(&shape, &meta.comm_r_last) {
            return Err(format!(
                "challenged leaf {c} does not verify: the replica or tree_r_last is corrupt"
            ));
        }
        openings.push(p);
    }
    let proof = SectorPostProof {
        sector_number: meta.sector_number,
        comm_c: meta.comm_c,
        comm_r_last: meta.comm_r_last,
        openings,
    };
    Ok((
        proof,
        PostSector {
            sector_number: meta.sector_number,
            comm_r: meta.comm_r,
        },
    ))
}

/// Why a vanilla PoSt was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostRejection {
    /// Wrong number of sectors or challenges, or an unknown proof type.
    #[error("{0}")]
    Shape(String),
    /// The proof is for another sector than the public input names.
    #[error("proof is for sector {got}, expected sector {want}")]
    WrongSector {
        /// In the proof.
        got: u64,
        /// Expected.
        want: u64,
    },
    /// CommR does not commit to the proof's comm_c and comm_r_last.
    #[error("sector {0}: comm_r does not commit to comm_c and comm_r_last")]
    CommR(u64),
    /// An opening does not verify, or opens a leaf that was not challenged.
    #[error("sector {sector}: opening {index} is invalid")]
    Opening {
        /// Sector number.
        sector: u64,
        /// Which opening.
        index: usize,
    },
}

/// Verifies one sector's proof against its public CommR. Replica leaves, siblings, comm_c and
/// comm_r_last may be any canonical field element (below r, not necessarily below 2^254): the
/// circuit only feeds them to Poseidon, and an encoded node `data + label` is often ≥ 2^254.
pub fn verify_sector(
    pt: &ProofType,
    randomness: &Node,
    public: &PostSector,
    proof: &SectorPostProof,
    count: usize,
) -> Result<(), PostRejection> {
    if proof.sector_number != public.sector_number {
        return Err(PostRejection::WrongSector {
            got: proof.sector_number,
            want: public.sector_number,
        });
    }
    if node_to_fr(&proof.comm_c).is_err()
        || node_to_fr(&proof.comm_r_last).is_err()
        || comm_r(&proof.comm_c, &proof.comm_r_last) != public.comm_r
    {
        return Err(PostRejection::CommR(public.sector_number));
    }
    if proof.openings.len() != count {
        return Err(PostRejection::Shape(format!(
            "sector {}: {} openings, expected {count}",
            public.sector_number,
            proof.openings.len()
        )));
    }
    let shape = pt.tree_r_shape();
    for (index, (o, c)) in proof
        .openings
        .iter()
        .zip(post_leaf_challenges(
            randomness,
            public.sector_number,
            count,
            pt.nodes(),
        ))
        .enumerate()
    {
        if o.index != c || !o.verify(&shape, &proof.comm_r_last) {
            return Err(PostRejection::Opening {
                sector: public.sector_number,
                index,
            });
        }
    }
    Ok(())
}

/// The outcome of proving a WindowPoSt: partitions of healthy sectors and the faulty ones.
#[derive(Clone, Debug)]
pub struct WindowPostOutcome {
    /// Partitions, each exactly `window_post_sectors_per_partition` long (short ones padded by
    /// repeating their last sector), with their public sectors.
    pub partitions: Vec<(Vec<PostSector>, Vec<SectorPostProof>)>,
    /// Sectors that could not be proven.
    pub faulty: Vec<Faulty>,
}

/// Proves WindowPoSt over the sectors in `dirs`, skipping and reporting faulty ones.
pub fn prove_window_post(pt: &ProofType, dirs: &[PathBuf], randomness: &Node) -> WindowPostOutcome {
    let mut healthy = Vec::new();
    let mut faulty = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        match prove_sector(dir, randomness, pt.window_post_challenges) {
            Ok((proof, public)) => healthy.push((public, proof)),
            Err(reason) => {
                let sector_number = SectorMeta::load(dir)
                    .map(|m| m.sector_number)
                    .unwrap_or(i as u64);
                tracing::warn!(sector = sector_number, dir = %dir.display(), %reason, "sector is faulty; skipped in WindowPoSt");
                faulty.push(Faulty {
                    sector_number,
                    dir: dir.clone(),
                    reason,
                });
            }
        }
    }
    WindowPostOutcome {
        partitions: window_partitions(pt, &healthy),
        faulty,
    }
}

/// Splits healthy sectors, in the order given, into WindowPoSt partitions: chunks of
/// `window_post_sectors_per_partition`, the last one padded by repeating its last sector. Every
/// partition returned has exactly that many sectors; no sectors give no partitions.
pub fn window_partitions(
    pt: &ProofType,
    healthy: &[(PostSector, SectorPostProof)],
) -> Vec<(Vec<PostSector>, Vec<SectorPostProof>)> {
    healthy
        .chunks(pt.window_post_sectors_per_partition)
        .map(|chunk| {
            let mut part: Vec<(PostSector, SectorPostProof)> = chunk.to_vec();
            while part.len() < pt.window_post_sectors_per_partition {
                part.push(chunk[chunk.len() - 1].clone());
            }
            part.into_iter().unzip()
        })
        .collect()
}

/// Verifies one WindowPoSt partition.
pub fn verify_window_post_partition(
    pt: &ProofType,
    randomness: &Node,
    public: &[PostSector],
    proofs: &[SectorPostProof],
) -> Result<(), PostRejection> {
    let n = pt.window_post_sectors_per_partition;
    if public.len() != n || proofs.len() != n {
        return Err(PostRejection::Shape(format!(
            "a partition has {n} sectors; got {} public and {} proofs",
            public.len(),
            proofs.len()
        )));
    }
    public
        .iter()
        .zip(proofs)
        .try_for_each(|(s, p)| verify_sector(pt, randomness, s, p, pt.window_post_challenges))
}

/// Proves WinningPoSt: draws the sector from `sectors` (the miner's proving set, in order) and
/// proves it. Fails if the drawn sector is faulty — a miner cannot win with a broken sector.
pub fn prove_winning_post(
    pt: &ProofType,
    prover_id: u64,
    randomness: &Node,
    sectors: &[(PostSector, PathBuf)],
) -> Result<SectorPostProof, ProofError> {
    if sectors.is_empty() {
        return Err(ProofError::BadRequest("no sectors to draw from".into()));
    }
    let i = winning_post_sector_index(prover_id, randomness, 0, sectors.len() as u64) as usize;
    let (public, dir) = &sectors[i];
    let (proof, found) =
        prove_sector(dir, randomness, pt.winning_post_challenges).map_err(|reason| {
            ProofError::Inconsistent {
                sector: public.sector_number,
                reason,
            }
        })?;
    if found != *public {
        return Err(ProofError::Inconsistent {
            sector: public.sector_number,
            reason: "sector directory holds another sector".into(),
        });
    }
    Ok(proof)
}

/// Verifies WinningPoSt against the miner's proving set.
pub fn verify_winning_post(
    pt: &ProofType,
    prover_id: u64,
    randomness: &Node,
    sectors: &[PostSector],
    proof: &SectorPostProof,
) -> Result<(), PostRejection> {
    if sectors.is_empty() {
        return Err(PostRejection::Shape("empty proving set".into()));
    }
    let i = winning_post_sector_index(prover_id, randomness, 0, sectors.len() as u64) as usize;
    verify_sector(
        pt,
        randomness,
        &sectors[i],
        proof,
        pt.winning_post_challenges,
    )
}
