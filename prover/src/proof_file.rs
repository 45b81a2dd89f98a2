//! Proof files (DESIGN §6): what a provider publishes and an auditor verifies offline. A versioned
//! JSON document with the proof kind and type, every public input, one 192-byte Groth16 proof per
//! partition (hex), and the BLAKE3 digest of the verifying key. Verification needs only the file
//! and the parameter directory; the key must belong to the circuit of the file's kind and size.
//!
//! The document is strict: every field is required (no defaults) and an unknown field anywhere in
//! it is an error, so what an auditor reads is exactly what the prover wrote. The format tag and
//! version are checked first, so a file of another version is named as such rather than as a
//! field mismatch.

use crate::challenges::winning_post_sector_index;
use crate::circuit::porep::{public_inputs as porep_inputs, PorepCircuit};
use crate::circuit::post::public_inputs as post_inputs;
use crate::error::ProofError;
use crate::remote::{
    check_vanilla, prove_window_checked, prove_winning_from_vanilla, vanilla_window_sector,
    vanilla_winning_sector,
};
use crate::snark::{self, SnarkRejection};
use crate::vanilla::porep::{prove_seal_partition, verify_seal_partition, SealPublicInputs};
use crate::vanilla::post::{Faulty, PostSector};
use crate::warm::ParamSource;
use bls12_381::Scalar;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use strata_params::groth16_files::{ParamsError, ParamsStore, ProofKind};
use strata_params::ProofType;
use strata_primitives::node::Node;
use strata_primitives::serde_hex;
use strata_sealer::SectorMeta;
use thiserror::Error;

/// The format tag of proof files.
pub const FORMAT: &str = "strata-proof";
/// The version of the proof-file format this build writes and reads.
pub const VERSION: u32 = 1;

/// The public inputs of each kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PublicData {
    /// A seal proof of the listed partitions.
    Porep {
        /// The sector's public inputs.
        inputs: SealPublicInputs,
    },
    /// WinningPoSt over the miner's proving set.
    Winning {
        /// The miner.
        prover_id: u64,
        /// Chain randomness.
        #[serde(with = "serde_hex::node")]
        randomness: Node,
        /// The proving set the sector is drawn from, in order.
        sectors: Vec<PostSector>,
    },
    /// WindowPoSt partitions.
    Window {
        /// Chain randomness.
        #[serde(with = "serde_hex::node")]
        randomness: Node,
        /// The sectors of each partition (padded).
        partitions: Vec<Vec<PostSector>>,
        /// Sectors skipped as faulty (informational; the chain takes them as declared faults).
        /// Required, even when empty.
        faulty: Vec<Faulty>,
    },
}

/// A proof file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofFile {
    /// Always `strata-proof`.
    pub format: String,
    /// Format version.
    pub version: u32,
    /// Registered proof type id.
    pub proof_type: u64,
    /// BLAKE3 of the verifying key.
    pub vk_digest: String,
    /// Public inputs.
    pub public: PublicData,
    /// One proof per partition, hex.
    pub proofs: Vec<String>,
}

/// Why a proof file is invalid or could not be checked.
#[derive(Debug, Error)]
pub enum VerifyError {
    /// The file is not a proof file this build reads.
    #[error("malformed proof file: {0}")]
    Malformed(String),
    /// Parameters could not be found or loaded.
    #[error(transparent)]
    Params(#[from] ParamsError),
    /// The verifying key named is not the one for this kind and size.
    #[error("verifying key {0} is not the key of this proof's circuit")]
    WrongKey(String),
    /// An aggregate proof does not verify for its statements.
    #[error("aggregate proof does not verify: {0}")]
    Aggregate(String),
    /// A partition's proof does not verify.
    #[error("partition {partition}: {reason}")]
    Invalid {
        /// Which partition.
        partition: usize,
        /// Why.
        reason: SnarkRejection,
    },
}

/// Parses a JSON document tagged `format` at `version`: the tag and version first (another is
/// named as such), then the whole document strictly.
pub(crate) fn parse_versioned<T: serde::de::DeserializeOwned>(
    text: &str,
    format: &str,
    version: u32,
) -> Result<T, VerifyError> {
    let h: Header =
        serde_json::from_str(text).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    if h.format != format || h.version != version {
        return Err(VerifyError::Malformed(format!(
            "format {:?} version {} (this build reads {format} v{version})",
            h.format, h.version
        )));
    }
    serde_json::from_str(text).map_err(|e| VerifyError::Malformed(e.to_string()))
}

/// Writes `value` as pretty JSON to `path` atomically (temp file, fsync, rename).
pub(crate) fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let tmp = strata_primitives::merkle::tmp_path(path);
    std::fs::write(
        &tmp,
        serde_json::to_string_pretty(value).expect("proof documents serialise"),
    )?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// The format tag and version, read leniently before the strict document.
#[derive(Deserialize)]
struct Header {
    format: String,
    version: u32,
}

impl ProofFile {
    /// Reads and parses a proof file, with a clear error for anything malformed.
    pub fn read(path: &Path) -> Result<ProofFile, VerifyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| VerifyError::Malformed(format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text)
    }

    /// Parses a proof file's text: first its format tag and version (another version is named as
    /// such), then the whole document strictly — a missing or unknown field is an error naming it.
    pub fn parse(text: &str) -> Result<ProofFile, VerifyError> {
        parse_versioned(text, FORMAT, VERSION)
    }

    /// Writes the file atomically.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        write_json_atomic(path, self)
    }

    /// Sector numbers a WindowPoSt skipped as faulty (empty for other kinds): what the
    /// provider reports to the chain as skipped.
    pub fn faulty_sectors(&self) -> Vec<u64> {
        match &self.public {
            PublicData::Window { faulty, .. } => faulty.iter().map(|f| f.sector_number).collect(),
            _ => vec![],
        }
    }

    /// The proof kind.
    pub fn kind(&self) -> ProofKind {
        match self.public {
            PublicData::Porep { .. } => ProofKind::Porep,
            PublicData::Winning { .. } => ProofKind::Winning,
            PublicData::Window { .. } => ProofKind::Window,
        }
    }

    fn proof_type(&self) -> Result<ProofType, VerifyError> {
        ProofType::for_id(self.proof_type).map_err(|e| VerifyError::Malformed(e.to_string()))
    }

    /// The public inputs of each partition, derived as a verifier does.
    pub fn partition_inputs(&self) -> Result<Vec<Vec<Scalar>>, VerifyError> {
        let pt = self.proof_type()?;
        let bad = |what: &str| VerifyError::Malformed(what.to_string());
        let inputs = match &self.public {
            PublicData::Porep { inputs } => {
                if inputs.proof_type != pt.id {
                    return Err(bad("public inputs name another proof type"));
                }
                (0..pt.porep_partitions)
                    .map(|p| {
                        porep_inputs(&pt, inputs, p)
                            .ok_or_else(|| bad("a commitment is not a field element"))
                    })
                    .collect::<Result<_, _>>()?
            }
            PublicData::Winning {
                prover_id,
                randomness,
                sectors,
            } => {
                if sectors.is_empty() {
                    return Err(bad("empty proving set"));
                }
                let i = winning_post_sector_index(*prover_id, randomness, 0, sectors.len() as u64)
                    as usize;
                vec![
                    post_inputs(&pt, randomness, &sectors[i..=i], pt.winning_post_challenges)
                        .ok_or_else(|| bad("comm_r is not a field element"))?,
                ]
            }
            PublicData::Window { partitions, .. } if partitions.is_empty() => {
                return Err(bad("a WindowPoSt with no partitions proves nothing"))
            }
            PublicData::Window {
                randomness,
                partitions,
                ..
            } => partitions
                .iter()
                .map(|s| {
                    if s.len() != pt.window_post_sectors_per_partition {
                        return Err(bad("a partition has the wrong number of sectors"));
                    }
                    post_inputs(&pt, randomness, s, pt.window_post_challenges)
                        .ok_or_else(|| bad("comm_r is not a field element"))
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(inputs)
    }

    /// The proofs' bytes.
    pub fn proof_bytes(&self) -> Result<Vec<Vec<u8>>, VerifyError> {
        self.proofs
            .iter()
            .map(|h| {
                hex::decode(h).map_err(|e| VerifyError::Malformed(format!("proof is not hex: {e}")))
            })
            .collect()
    }

    /// Loads the verifying key this file names, checking it is the key of the file's circuit.
    pub fn verifying_key(
        &self,
        store: &ParamsStore,
    ) -> Result<groth16::VerifyingKey<bls12_381::Bls12>, VerifyError> {
        let pt = self.proof_type()?;
        let (vk, entry) = store.load_vk(self.kind(), pt.sector_size.bytes(), &self.vk_digest)?;
        let id = snark::kind_circuit_id(self.kind(), &pt)?;
        if entry.circuit_digest != id.digest {
            return Err(VerifyError::WrongKey(self.vk_digest.clone()));
        }
        Ok(vk)
    }

    /// Verifies every partition's proof offline.
    pub fn verify(&self, store: &ParamsStore) -> Result<(), VerifyError> {
        let inputs = self.partition_inputs()?;
        let proofs = self.proof_bytes()?;
        if inputs.len() != proofs.len() {
            return Err(VerifyError::Malformed(format!(
                "{} proofs for {} partitions",
                proofs.len(),
                inputs.len()
            )));
        }
        let vk = self.verifying_key(store)?;
        for (partition, (i, p)) in inputs.iter().zip(&proofs).enumerate() {
            snark::verify(&vk, i, p)
                .map_err(|reason| VerifyError::Invalid { partition, reason })?;
        }
        Ok(())
    }
}

pub(crate) fn hex_proofs(proofs: Vec<[u8; snark::PROOF_BYTES]>) -> Vec<String> {
    proofs.iter().map(hex::encode).collect()
}

pub(crate) fn synth_err(e: bellman::SynthesisError) -> ProofError {
    ProofError::BadRequest(format!("proving failed: {e}"))
}

/// Proves the seal of the sector in `dir` for `seed`: vanilla proof, its own check, then the SNARK.
pub fn prove_seal<P: ParamSource + ?Sized>(
    dir: &Path,
    seed: &Node,
    store: &P,
) -> Result<ProofFile, ProofError> {
    let meta = SectorMeta::load(dir)?;
    let pt = meta
        .proof_type_checked()
        .map_err(strata_sealer::SealError::from)?;
    let public = SealPublicInputs::for_sector(&meta, *seed);
    let params = store
        .params(ProofKind::Porep, &pt)
        .map_err(|e| ProofError::BadRequest(e.to_string()))?;
    let mut proofs = Vec::new();
    for partition in 0..pt.porep_partitions {
        let vanilla = prove_seal_partition(dir, seed, partition)?;
        verify_seal_partition(&public, &vanilla).map_err(|e| ProofError::Inconsistent {
            sector: meta.sector_number,
            reason: format!("vanilla proof rejected: {e}"),
        })?;
        proofs.push(
            snark::prove(
                &params.params,
                PorepCircuit::from_vanilla(&pt, &public, &vanilla),
            )
            .map_err(synth_err)?,
        );
    }
    Ok(ProofFile {
        format: FORMAT.into(),
        version: VERSION,
        proof_type: pt.id,
        vk_digest: params.entry.vk_digest.clone(),
        public: PublicData::Porep { inputs: public },
        proofs: hex_proofs(proofs),
    })
}

fn common_type(dirs: &[PathBuf]) -> Result<(ProofType, Vec<SectorMeta>), ProofError> {
    let metas = dirs
        .iter()
        .map(|d| SectorMeta::load(d))
        .collect::<Result<Vec<_>, _>>()?;
    let first = metas
        .first()
        .ok_or_else(|| ProofError::BadRequest("no sectors given".into()))?;
    if metas
        .iter()
        .any(|m| m.proof_type != first.proof_type || m.prover_id != first.prover_id)
    {
        return Err(ProofError::BadRequest(
            "sectors of different proof types or miners".into(),
        ));
    }
    let pt = first
        .proof_type_checked()
        .map_err(strata_sealer::SealError::from)?;
    Ok((pt, metas))
}

/// Proves WinningPoSt over the proving set `dirs` (in order): the sector drawn is proven here
/// with [`vanilla_winning_sector`] and SNARKed with [`prove_winning_from_vanilla`]. Fails if any
/// meta.json is unreadable, the sectors are of different types or miners, or the drawn sector
/// is faulty.
pub fn prove_winning<P: ParamSource + ?Sized>(
    dirs: &[PathBuf],
    randomness: &Node,
    store: &P,
) -> Result<ProofFile, ProofError> {
    let (pt, metas) = common_type(dirs)?;
    let prover_id = metas[0].prover_id;
    let sectors: Vec<PostSector> = metas
        .iter()
        .map(|m| PostSector {
            sector_number: m.sector_number,
            comm_r: m.comm_r,
        })
        .collect();
    let i = winning_post_sector_index(prover_id, randomness, 0, sectors.len() as u64) as usize;
    let vanilla = vanilla_winning_sector(sectors[i].sector_number, &dirs[i], randomness);
    prove_winning_from_vanilla(&pt, prover_id, randomness, &sectors, vanilla, store)
}

/// Proves WindowPoSt over `dirs`; faulty sectors are skipped and listed in the file, in the
/// order of `dirs`. Each sector is proven with [`vanilla_window_sector`] and the results go
/// through the checks of [`check_vanilla`], the expected CommR of each sector being the one its
/// meta.json records; a directory whose meta.json is unreadable is listed as faulty under its
/// position in `dirs`. Fails if no sector is readable or healthy, or the readable ones are of
/// different types or miners.
pub fn prove_window<P: ParamSource + ?Sized>(
    dirs: &[PathBuf],
    randomness: &Node,
    store: &P,
) -> Result<ProofFile, ProofError> {
    // Sectors whose meta.json is unreadable cannot even name their type: they are faulty too.
    let mut readable = Vec::new();
    let mut faulty: Vec<(usize, Faulty)> = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        match SectorMeta::load(dir) {
            Ok(_) => readable.push((i, dir.clone())),
            Err(e) => {
                let reason = e.to_string();
                tracing::warn!(sector = i, dir = %dir.display(), %reason, "sector is faulty; skipped in WindowPoSt");
                faulty.push((
                    i,
                    Faulty {
                        sector_number: i as u64,
                        dir: dir.clone(),
                        reason,
                    },
                ));
            }
        }
    }
    let readable_dirs: Vec<PathBuf> = readable.iter().map(|r| r.1.clone()).collect();
    let (pt, metas) = common_type(&readable_dirs)?;
    let expected: Vec<PostSector> = metas
        .iter()
        .map(|m| PostSector {
            sector_number: m.sector_number,
            comm_r: m.comm_r,
        })
        .collect();
    let vanilla = expected
        .iter()
        .zip(&readable_dirs)
        .map(|(s, dir)| vanilla_window_sector(s.sector_number, dir, randomness))
        .collect();
    let checked = check_vanilla(&pt, randomness, &expected, vanilla)?;
    // List the faulty in the order of `dirs`. `expected` names each sector once (checked), so
    // each faulty sector has one position.
    let position: std::collections::HashMap<u64, usize> = expected
        .iter()
        .zip(&readable)
        .map(|(s, r)| (s.sector_number, r.0))
        .collect();
    faulty.extend(checked.faulty.into_iter().map(|f| {
        let i = position
            .get(&f.sector_number)
            .copied()
            .unwrap_or(dirs.len());
        (i, f)
    }));
    faulty.sort_by_key(|f| f.0);
    let faulty = faulty.into_iter().map(|f| f.1).collect();
    prove_window_checked(&pt, randomness, &checked.healthy, faulty, store)
}

/// Verifies many proof files as an auditor does: one batch verification per (proof kind, proof
/// type, verifying-key digest) — much cheaper per proof — and only when a batch fails, each of its
/// files alone to name the bad ones. Every file in a group names the same key for the same
/// circuit, so each is checked against its own key, which must be the registered one for its
/// circuit; a file naming another kind's key never shares (or spoils) that kind's batch.
/// Returns the index of every invalid file with the reason; empty means all valid.
pub fn audit(files: &[&ProofFile], store: &ParamsStore) -> Vec<(usize, String)> {
    let mut groups: std::collections::BTreeMap<(&'static str, u64, String), Vec<usize>> =
        Default::default();
    for (i, f) in files.iter().enumerate() {
        groups
            .entry((f.kind().as_str(), f.proof_type, f.vk_digest.clone()))
            .or_default()
            .push(i);
    }
    let mut invalid = Vec::new();
    for (_, idx) in groups {
        let vk = match files[idx[0]].verifying_key(store) {
            Ok(vk) => vk,
            Err(e) => {
                invalid.extend(idx.iter().map(|i| (*i, e.to_string())));
                continue;
            }
        };
        let mut items = Vec::new();
        let mut shape_ok = true;
        for i in &idx {
            match (files[*i].partition_inputs(), files[*i].proof_bytes()) {
                (Ok(inp), Ok(b)) if inp.len() == b.len() => items.extend(inp.into_iter().zip(b)),
                _ => shape_ok = false,
            }
        }
        if shape_ok && snark::batch_verify(&vk, &items).is_ok() {
            continue;
        }
        for i in idx {
            if let Err(e) = files[i].verify(store) {
                invalid.push((i, e.to_string()));
            }
        }
    }
    invalid.sort_by_key(|x| x.0);
    invalid
}
