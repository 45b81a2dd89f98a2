//! Remote proving: the vanilla/SNARK split of WindowPoSt and WinningPoSt (what rust-fil-proofs
//! exposes as `generate_single_vanilla_proof` and `generate_window_post_with_vanilla`).
//!
//! A sector's vanilla proof (its Merkle openings) must be computed where the sector's files live:
//! [`vanilla_window_sector`] and [`vanilla_winning_sector`] run there and return a
//! [`SectorVanilla`], which travels as JSON. The SNARK can be computed anywhere:
//! [`prove_window_from_vanilla`] and [`prove_winning_from_vanilla`] take those results and write
//! the same [`ProofFile`] the local [`prove_window`](crate::proof_file::prove_window) and
//! [`prove_winning`](crate::proof_file::prove_winning) write — those are this module's functions
//! run on one machine.
//!
//! Vanilla proofs that arrive over the network are not trusted: each is verified against the
//! CommR the caller expects for its sector ([`check_vanilla`]) before it reaches a circuit. A bad
//! proof, a missing one, a duplicated one or one for another sector makes that sector faulty in a
//! WindowPoSt; it never fails the other sectors and never yields a proof file for a bad witness.

use crate::challenges::winning_post_sector_index;
use crate::circuit::post::PostCircuit;
use crate::error::ProofError;
use crate::proof_file::{hex_proofs, synth_err, ProofFile, PublicData, FORMAT, VERSION};
use crate::snark;
use crate::vanilla::post::{
    prove_sector, verify_sector, verify_window_post_partition, verify_winning_post,
    window_partitions, Faulty, PostSector, SectorPostProof,
};
use crate::warm::ParamSource;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use strata_params::groth16_files::ProofKind;
use strata_params::ProofType;
use strata_primitives::node::Node;
use strata_sealer::SectorMeta;

/// One sector's vanilla PoSt result, as the machine holding the sector sends it to the machine
/// that computes the SNARK. Serialises to JSON losslessly (`{"proven": {...}}` or
/// `{"faulty": {...}}`); unknown fields are refused. Nothing in it is trusted by the receiver.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SectorVanilla {
    /// The sector was proven: its public input as the prover's files record it, and the proof.
    Proven {
        /// Sector number and CommR as recorded in the sector's meta.json.
        public: PostSector,
        /// The openings of every challenged leaf.
        proof: SectorPostProof,
    },
    /// The sector could not be proven, and why.
    Faulty(Faulty),
}

impl SectorVanilla {
    /// The sector number this entry claims to be for (`public.sector_number` of a proven one).
    pub fn sector_number(&self) -> u64 {
        match self {
            SectorVanilla::Proven { public, .. } => public.sector_number,
            SectorVanilla::Faulty(f) => f.sector_number,
        }
    }
}

/// Proves sector `sector_number`, stored in `dir`, with `count(pt)` leaf challenges, where `pt`
/// is the proof type its meta.json records. Every failure is a `Faulty` entry naming
/// `sector_number` (the caller's name for the sector, so even a sector whose meta.json is
/// unreadable is reported under the right number).
fn vanilla_sector(
    sector_number: u64,
    dir: &Path,
    randomness: &Node,
    count: fn(&ProofType) -> usize,
) -> SectorVanilla {
    let faulty = |reason: String| {
        SectorVanilla::Faulty(Faulty {
            sector_number,
            dir: dir.to_path_buf(),
            reason,
        })
    };
    let meta = match SectorMeta::load(dir) {
        Ok(m) => m,
        Err(e) => return faulty(e.to_string()),
    };
    if meta.sector_number != sector_number {
        return faulty(format!(
            "the directory holds sector {}, not sector {sector_number}",
            meta.sector_number
        ));
    }
    let pt = match meta.proof_type_checked() {
        Ok(pt) => pt,
        Err(e) => return faulty(e.to_string()),
    };
    match prove_sector(dir, randomness, count(&pt)) {
        Ok((proof, public)) => SectorVanilla::Proven { public, proof },
        Err(reason) => faulty(reason),
    }
}

/// The WindowPoSt vanilla proof of sector `sector_number` stored in `dir`, for `randomness`:
/// `window_post_challenges` openings of the proof type its meta.json records, each checked
/// against the sector's recorded commitments before it is returned. Run on the machine holding
/// the sector. Never fails: a missing or corrupt file, a directory holding another sector or an
/// opening that does not verify gives `SectorVanilla::Faulty` naming `sector_number` and why.
pub fn vanilla_window_sector(sector_number: u64, dir: &Path, randomness: &Node) -> SectorVanilla {
    vanilla_sector(sector_number, dir, randomness, |pt| {
        pt.window_post_challenges
    })
}

/// The WinningPoSt vanilla proof of sector `sector_number` stored in `dir`, for `randomness`:
/// as [`vanilla_window_sector`] with `winning_post_challenges` openings. The sector to prove is
/// the one [`winning_sector`] draws.
pub fn vanilla_winning_sector(sector_number: u64, dir: &Path, randomness: &Node) -> SectorVanilla {
    vanilla_sector(sector_number, dir, randomness, |pt| {
        pt.winning_post_challenges
    })
}

/// WindowPoSt vanilla results sorted out against the sectors the chain expects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckedVanilla {
    /// Expected sectors whose proof verified against their expected CommR, in `expected` order,
    /// each with the expected public input.
    pub healthy: Vec<(PostSector, SectorPostProof)>,
    /// Every other expected sector, once each, in `expected` order, with why it is faulty.
    /// `healthy` and `faulty` together name each expected sector exactly once.
    pub faulty: Vec<Faulty>,
    /// Entries naming a sector that is not expected, in the order received, with why they were
    /// set aside. They are not faults of the partition (the chain refuses a skip list naming a
    /// sector outside it), so they are reported here rather than in `faulty`.
    pub rejected: Vec<Faulty>,
}

/// Checks WindowPoSt vanilla results received from elsewhere against `expected` (the sectors
/// the chain says are being proven, with their CommR), trusting none of them. A sector is
/// healthy only if exactly one entry names it, that entry is a proof, the proof's CommR is the
/// expected one, and [`verify_sector`] accepts it for `randomness` with `window_post_challenges`
/// challenges of `pt`. An expected sector with no entry, several entries, a `Faulty` entry or a
/// proof that does not verify is faulty (a `Faulty` entry's own reason is kept); an entry naming
/// an unexpected sector is rejected. Fails only if `expected` names a sector twice.
pub fn check_vanilla(
    pt: &ProofType,
    randomness: &Node,
    expected: &[PostSector],
    sectors: Vec<SectorVanilla>,
) -> Result<CheckedVanilla, ProofError> {
    let mut index = HashMap::with_capacity(expected.len());
    for (i, s) in expected.iter().enumerate() {
        if index.insert(s.sector_number, i).is_some() {
            return Err(ProofError::BadRequest(format!(
                "sector {} is expected twice",
                s.sector_number
            )));
        }
    }
    let mut received: Vec<Vec<SectorVanilla>> = vec![Vec::new(); expected.len()];
    let mut rejected = Vec::new();
    for entry in sectors {
        let n = entry.sector_number();
        match index.get(&n) {
            Some(&i) => received[i].push(entry),
            None => {
                let (dir, what) = match entry {
                    SectorVanilla::Proven { .. } => (PathBuf::new(), "a proof".to_string()),
                    SectorVanilla::Faulty(f) => (f.dir, format!("a fault ({})", f.reason)),
                };
                let reason = format!("{what} was received for sector {n}, which is not expected");
                tracing::warn!(sector = n, %reason, "vanilla PoSt entry set aside");
                rejected.push(Faulty {
                    sector_number: n,
                    dir,
                    reason,
                });
            }
        }
    }
    let checked: Vec<Result<(PostSector, SectorPostProof), Faulty>> = expected
        .par_iter()
        .zip(received.into_par_iter())
        .map(|(want, mut got)| {
            let faulty = |dir: PathBuf, reason: String| Faulty {
                sector_number: want.sector_number,
                dir,
                reason,
            };
            if got.len() > 1 {
                return Err(faulty(
                    PathBuf::new(),
                    format!("{} vanilla proofs received for the sector", got.len()),
                ));
            }
            match got.pop() {
                None => Err(faulty(
                    PathBuf::new(),
                    "no vanilla proof received".to_string(),
                )),
                Some(SectorVanilla::Faulty(f)) => Err(faulty(f.dir, f.reason)),
                Some(SectorVanilla::Proven { public, proof }) => {
                    if public.comm_r != want.comm_r {
                        return Err(faulty(
                            PathBuf::new(),
                            format!(
                                "the prover's CommR {} is not the expected {}",
                                hex::encode(public.comm_r),
                                hex::encode(want.comm_r)
                            ),
                        ));
                    }
                    verify_sector(pt, randomness, want, &proof, pt.window_post_challenges)
                        .map(|()| (*want, proof))
                        .map_err(|e| faulty(PathBuf::new(), format!("vanilla proof rejected: {e}")))
                }
            }
        })
        .collect();
    let mut out = CheckedVanilla {
        rejected,
        ..Default::default()
    };
    for c in checked {
        match c {
            Ok(h) => out.healthy.push(h),
            Err(f) => {
                tracing::warn!(sector = f.sector_number, dir = %f.dir.display(), reason = %f.reason, "sector is faulty; skipped in WindowPoSt");
                out.faulty.push(f);
            }
        }
    }
    Ok(out)
}

/// The SNARK half of WindowPoSt: checks `sectors` (vanilla results from wherever the sectors
/// live) against `expected` with [`check_vanilla`], then proves the healthy sectors in
/// partitions of `window_post_sectors_per_partition` (in `expected` order, the last padded by
/// repeating its last sector), verifying each partition before proving it. The file lists as
/// faulty exactly the expected sectors that were not proven, so it verifies with
/// [`ProofFile::verify`] for `randomness` and those partitions, and no received proof that fails
/// verification reaches a circuit. Entries for unexpected sectors are logged and left out.
/// Fails if `expected` is empty or names a sector twice, if no sector is healthy, or if the
/// parameters cannot be loaded or proving fails.
pub fn prove_window_from_vanilla<P: ParamSource + ?Sized>(
    pt: &ProofType,
    randomness: &Node,
    expected: &[PostSector],
    sectors: Vec<SectorVanilla>,
    store: &P,
) -> Result<ProofFile, ProofError> {
    if expected.is_empty() {
        return Err(ProofError::BadRequest("no sectors given".into()));
    }
    let checked = check_vanilla(pt, randomness, expected, sectors)?;
    prove_window_checked(pt, randomness, &checked.healthy, checked.faulty, store)
}

/// Proves WindowPoSt over sectors already checked: `healthy` in partition order, `faulty` as
/// the file will list them. Each partition is verified again before it is proven.
pub(crate) fn prove_window_checked<P: ParamSource + ?Sized>(
    pt: &ProofType,
    randomness: &Node,
    healthy: &[(PostSector, SectorPostProof)],
    faulty: Vec<Faulty>,
    store: &P,
) -> Result<ProofFile, ProofError> {
    if healthy.is_empty() {
        let list: Vec<String> = faulty
            .iter()
            .map(|f| format!("{} ({})", f.sector_number, f.reason))
            .collect();
        return Err(ProofError::BadRequest(format!(
            "every sector is faulty: {}",
            list.join("; ")
        )));
    }
    let params = store
        .params(ProofKind::Window, pt)
        .map_err(|e| ProofError::BadRequest(e.to_string()))?;
    let mut proofs = Vec::new();
    let mut partitions = Vec::new();
    for (public, vanilla) in window_partitions(pt, healthy) {
        verify_window_post_partition(pt, randomness, &public, &vanilla)
            .map_err(|e| ProofError::BadRequest(format!("vanilla proof rejected: {e}")))?;
        proofs.push(
            snark::prove(
                &params.params,
                PostCircuit::from_vanilla(pt, &public, &vanilla),
            )
            .map_err(synth_err)?,
        );
        partitions.push(public);
    }
    Ok(ProofFile {
        format: FORMAT.into(),
        version: VERSION,
        proof_type: pt.id,
        vk_digest: params.entry.vk_digest.clone(),
        public: PublicData::Window {
            randomness: *randomness,
            partitions,
            faulty,
        },
        proofs: hex_proofs(proofs),
    })
}

/// The sector WinningPoSt draws from the proving set `sectors` (in order) for `prover_id` and
/// `randomness` — the one whose vanilla proof [`prove_winning_from_vanilla`] needs. `None` for
/// an empty set.
pub fn winning_sector(
    prover_id: u64,
    randomness: &Node,
    sectors: &[PostSector],
) -> Option<PostSector> {
    if sectors.is_empty() {
        return None;
    }
    let i = winning_post_sector_index(prover_id, randomness, 0, sectors.len() as u64) as usize;
    sectors.get(i).copied()
}

/// The SNARK half of WinningPoSt: checks `vanilla` (the drawn sector's result, from wherever it
/// lives) with [`verify_winning_post`] against the proving set `sectors`, then proves it. The
/// file verifies with [`ProofFile::verify`]; a vanilla proof that does not verify never reaches
/// the circuit. Fails — a miner cannot win with a broken sector — if the set is empty, if
/// `vanilla` is a fault or is not for the drawn sector with its CommR, if it does not verify, or
/// if the parameters cannot be loaded or proving fails.
pub fn prove_winning_from_vanilla<P: ParamSource + ?Sized>(
    pt: &ProofType,
    prover_id: u64,
    randomness: &Node,
    sectors: &[PostSector],
    vanilla: SectorVanilla,
    store: &P,
) -> Result<ProofFile, ProofError> {
    let drawn = winning_sector(prover_id, randomness, sectors)
        .ok_or_else(|| ProofError::BadRequest("no sectors to draw from".into()))?;
    let proof = match vanilla {
        SectorVanilla::Faulty(f) => {
            return Err(ProofError::Inconsistent {
                sector: drawn.sector_number,
                reason: if f.sector_number == drawn.sector_number {
                    f.reason
                } else {
                    format!("a fault of sector {} was received instead", f.sector_number)
                },
            })
        }
        SectorVanilla::Proven { public, proof } => {
            if public != drawn {
                return Err(ProofError::Inconsistent {
                    sector: drawn.sector_number,
                    reason: format!(
                        "the vanilla proof is for sector {} with CommR {}, not the drawn sector \
                         with CommR {}",
                        public.sector_number,
                        hex::encode(public.comm_r),
                        hex::encode(drawn.comm_r)
                    ),
                });
            }
            proof
        }
    };
    verify_winning_post(pt, prover_id, randomness, sectors, &proof)
        .map_err(|e| ProofError::BadRequest(format!("vanilla proof rejected: {e}")))?;
    let params = store
        .params(ProofKind::Winning, pt)
        .map_err(|e| ProofError::BadRequest(e.to_string()))?;
    let snark = snark::prove(
        &params.params,
        PostCircuit::from_vanilla(pt, &[drawn], &[proof]),
    )
    .map_err(synth_err)?;
    Ok(ProofFile {
        format: FORMAT.into(),
        version: VERSION,
        proof_type: pt.id,
        vk_digest: params.entry.vk_digest.clone(),
        public: PublicData::Winning {
            prover_id,
            randomness: *randomness,
            sectors: sectors.to_vec(),
        },
        proofs: hex_proofs(vec![snark]),
    })
}
