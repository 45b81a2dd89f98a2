//! Aggregate proof files (DESIGN §13): many proof files of one circuit — seal proofs of many
//! sectors, WindowPoSt partitions of one deadline — folded into one SnarkPack proof
//! (`strata-aggregate`). An auditor checks it offline like any proof file, with the Groth16
//! verifying key and the SnarkPack verifier key from the parameter directory.
//!
//! The inner proofs are every partition of every statement, in file order. The aggregate's
//! transcript is bound to the verifying key, the proof type and kind, and every public input of
//! every inner proof (the chain derives these itself, so an aggregate cannot be replayed for
//! other sectors or reordered). The count is padded to a power of two by repeating the last
//! proof, as SnarkPack requires; the padding is implied, not stored.
//!
//! The SnarkPack structured reference string is generated once per parameter directory (two
//! powers of tau whose secrets this process draws and forgets): the same single-party trust as
//! the devnet's Groth16 parameters; a network's comes from the ceremony.

use crate::proof_file::{ProofFile, PublicData, VerifyError, FORMAT as PROOF_FORMAT, VERSION};
use bls12_381::Scalar;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use strata_aggregate::{AggregateProof, Srs, VerifierKey};
use strata_params::groth16_files::{ParamsError, ParamsStore};
use strata_params::ProofType;

/// The format tag of aggregate proof files.
pub const FORMAT: &str = "strata-aggregate";
/// The version this build writes and reads.
pub const AGG_VERSION: u32 = 1;
/// The most inner proofs one aggregate may hold (Filecoin's 819 sectors, padded).
pub const MAX_INNER_PROOFS: usize = 1024;

/// An aggregate proof file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregateFile {
    /// Always `strata-aggregate`.
    pub format: String,
    /// Format version.
    pub version: u32,
    /// Registered proof type id (all statements share it).
    pub proof_type: u64,
    /// BLAKE3 of the Groth16 verifying key (all statements share it).
    pub vk_digest: String,
    /// BLAKE3 of the SnarkPack verifier key, hex.
    pub srs_digest: String,
    /// The statements, in order; their partitions are the inner proofs.
    pub statements: Vec<PublicData>,
    /// The SnarkPack proof, hex.
    pub aggregate: String,
}

fn srs_path(store: &ParamsStore) -> PathBuf {
    store
        .dir()
        .join(format!("snarkpack-srs-v1-{MAX_INNER_PROOFS}.bin"))
}

fn srs_vk_path(store: &ParamsStore) -> PathBuf {
    store
        .dir()
        .join(format!("snarkpack-vk-v1-{MAX_INNER_PROOFS}.bin"))
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ParamsError {
    let path = path.to_path_buf();
    move |source| ParamsError::Io { what, path, source }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ParamsError> {
    let tmp = strata_primitives::merkle::tmp_path(path);
    std::fs::write(&tmp, bytes).map_err(io("writing", &tmp))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io("syncing", &tmp))?;
    std::fs::rename(&tmp, path).map_err(io("renaming", path))
}

/// The SnarkPack SRS of `store`, generated (devnet: single party) on first use under the store's
/// lock, with its verifier key written beside it.
pub fn load_or_generate_srs(store: &ParamsStore) -> Result<Srs, ParamsError> {
    let path = srs_path(store);
    let bad = |e: strata_aggregate::AggregateError| ParamsError::Corrupt {
        path: srs_path(store),
        reason: e.to_string(),
    };
    if let Ok(bytes) = std::fs::read(&path) {
        return Srs::from_bytes(&bytes).map_err(bad);
    }
    std::fs::create_dir_all(store.dir()).map_err(io("creating", store.dir()))?;
    let lock_path = store.dir().join(".lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io("opening", &lock_path))?;
    lock.lock().map_err(io("locking", &lock_path))?;
    if let Ok(bytes) = std::fs::read(&path) {
        return Srs::from_bytes(&bytes).map_err(bad);
    }
    tracing::warn!(
        "generating the SnarkPack SRS for up to {MAX_INNER_PROOFS} proofs in {}: single-party, \
         devnet only",
        store.dir().display()
    );
    let mut rng = rand_core::UnwrapErr(rand::rngs::SysRng);
    let srs = Srs::generate_devnet(MAX_INNER_PROOFS, &mut rng).map_err(bad)?;
    write_atomic(&srs_vk_path(store), &srs.verifier_key().to_bytes())?;
    write_atomic(&path, &srs.to_bytes())?;
    drop(lock);
    Ok(srs)
}

/// The SnarkPack verifier key of `store` (all an auditor needs besides the Groth16 key).
pub fn load_srs_vk(store: &ParamsStore) -> Result<VerifierKey, ParamsError> {
    let path = srs_vk_path(store);
    let bytes = std::fs::read(&path).map_err(io("reading", &path))?;
    VerifierKey::from_bytes(&bytes).map_err(|e| ParamsError::Corrupt {
        path,
        reason: e.to_string(),
    })
}

/// The inner statements' public inputs, one list per partition, in order (as a verifier
/// derives them), and the proof type they share.
fn inner_inputs(
    proof_type: u64,
    vk_digest: &str,
    statements: &[PublicData],
) -> Result<Vec<Vec<Scalar>>, VerifyError> {
    let mut out = Vec::new();
    for s in statements {
        let shell = ProofFile {
            format: PROOF_FORMAT.into(),
            version: VERSION,
            proof_type,
            vk_digest: vk_digest.into(),
            public: s.clone(),
            proofs: vec![],
        };
        out.extend(shell.partition_inputs()?);
    }
    Ok(out)
}

/// The transcript context: the statements' key, kind, proof type and every public input
/// (padded), so the aggregate cannot stand for any other statements.
fn context(
    vk: &groth16::VerifyingKey<bls12_381::Bls12>,
    proof_type: u64,
    inputs: &[Vec<Scalar>],
) -> [u8; 32] {
    strata_aggregate::statement_context(
        vk,
        inputs,
        format!("strata aggregate v{AGG_VERSION} proof type {proof_type}").as_bytes(),
    )
}

fn pad_inputs(mut inputs: Vec<Vec<Scalar>>) -> Vec<Vec<Scalar>> {
    let target = inputs.len().next_power_of_two().max(2);
    while inputs.len() < target {
        let last = inputs.last().cloned().unwrap_or_default();
        inputs.push(last);
    }
    inputs
}

/// Checks an aggregate over `statements` (all of `proof_type`, proven with `vk`): the chain's
/// path (it derives the statements itself) and the auditor's ([`AggregateFile::verify`]).
pub fn verify_aggregate(
    vk: &groth16::VerifyingKey<bls12_381::Bls12>,
    srs: &VerifierKey,
    proof_type: u64,
    vk_digest: &str,
    statements: &[PublicData],
    aggregate: &[u8],
) -> Result<(), VerifyError> {
    if statements.is_empty() {
        return Err(VerifyError::Malformed("an aggregate of nothing".into()));
    }
    let kind = |s: &PublicData| std::mem::discriminant(s);
    if statements.iter().any(|s| kind(s) != kind(&statements[0])) {
        return Err(VerifyError::Malformed(
            "an aggregate mixes proof kinds".into(),
        ));
    }
    let inputs = inner_inputs(proof_type, vk_digest, statements)?;
    if inputs.len() > MAX_INNER_PROOFS {
        return Err(VerifyError::Malformed(format!(
            "{} inner proofs, at most {MAX_INNER_PROOFS}",
            inputs.len()
        )));
    }
    let inputs = pad_inputs(inputs);
    let proof = AggregateProof::from_bytes(aggregate)
        .map_err(|e| VerifyError::Malformed(format!("aggregate proof: {e}")))?;
    if proof.n() != inputs.len() {
        return Err(VerifyError::Malformed(format!(
            "the aggregate holds {} proofs, the statements need {}",
            proof.n(),
            inputs.len()
        )));
    }
    strata_aggregate::verify(srs, vk, &inputs, &context(vk, proof_type, &inputs), &proof)
        .map_err(|e| VerifyError::Aggregate(e.to_string()))
}

impl AggregateFile {
    /// Aggregates `files` (same proof type, kind and key; every proof valid — each is checked
    /// first, so a bad one is named rather than folded into an aggregate that fails).
    pub fn aggregate(
        files: &[ProofFile],
        store: &ParamsStore,
    ) -> Result<AggregateFile, VerifyError> {
        let first = files
            .first()
            .ok_or_else(|| VerifyError::Malformed("nothing to aggregate".into()))?;
        for (i, f) in files.iter().enumerate() {
            if f.proof_type != first.proof_type
                || f.vk_digest != first.vk_digest
                || f.kind() != first.kind()
            {
                return Err(VerifyError::Malformed(format!(
                    "file {i} is of another proof type, kind or key than file 0"
                )));
            }
            f.verify(store)?;
        }
        let vk = first.verifying_key(store)?;
        let statements: Vec<PublicData> = files.iter().map(|f| f.public.clone()).collect();
        let mut proofs = Vec::new();
        for f in files {
            for p in f.proof_bytes()? {
                proofs.push(
                    groth16::Proof::<bls12_381::Bls12>::read(&p[..])
                        .map_err(|e| VerifyError::Malformed(format!("proof: {e}")))?,
                );
            }
        }
        let inputs = inner_inputs(first.proof_type, &first.vk_digest, &statements)?;
        if inputs.len() > MAX_INNER_PROOFS {
            return Err(VerifyError::Malformed(format!(
                "{} inner proofs, at most {MAX_INNER_PROOFS}",
                inputs.len()
            )));
        }
        let mut inputs = inputs;
        let n = strata_aggregate::pad_to_power_of_two(&mut proofs, &mut inputs)
            .map_err(|e| VerifyError::Malformed(e.to_string()))?;
        let srs = load_or_generate_srs(store)?;
        let (pk, svk) = srs
            .specialize(n)
            .map_err(|e| VerifyError::Malformed(e.to_string()))?;
        let agg =
            strata_aggregate::aggregate(&pk, &context(&vk, first.proof_type, &inputs), &proofs)
                .map_err(|e| VerifyError::Malformed(format!("aggregating: {e}")))?;
        Ok(AggregateFile {
            format: FORMAT.into(),
            version: AGG_VERSION,
            proof_type: first.proof_type,
            vk_digest: first.vk_digest.clone(),
            srs_digest: hex::encode(svk.digest()), // the SRS's key: one for every n
            statements,
            aggregate: hex::encode(agg.to_bytes()),
        })
    }

    /// Parses an aggregate file strictly (format and version first).
    pub fn parse(text: &str) -> Result<AggregateFile, VerifyError> {
        crate::proof_file::parse_versioned(text, FORMAT, AGG_VERSION)
    }

    /// Writes the file atomically.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        crate::proof_file::write_json_atomic(path, self)
    }

    /// Verifies offline with the keys in `store`: the Groth16 key the file names (checked to be
    /// its circuit's) and the store's SnarkPack verifier key (checked against `srs_digest`).
    pub fn verify(&self, store: &ParamsStore) -> Result<(), VerifyError> {
        let first = self
            .statements
            .first()
            .ok_or_else(|| VerifyError::Malformed("an aggregate of nothing".into()))?;
        let shell = ProofFile {
            format: PROOF_FORMAT.into(),
            version: VERSION,
            proof_type: self.proof_type,
            vk_digest: self.vk_digest.clone(),
            public: first.clone(),
            proofs: vec![],
        };
        let vk = shell.verifying_key(store)?;
        let srs = load_srs_vk(store)?;
        if hex::encode(srs.digest()) != self.srs_digest {
            return Err(VerifyError::WrongKey(format!(
                "SnarkPack key {} (this store has {})",
                self.srs_digest,
                hex::encode(srs.digest())
            )));
        }
        let bytes = hex::decode(&self.aggregate)
            .map_err(|e| VerifyError::Malformed(format!("aggregate is not hex: {e}")))?;
        verify_aggregate(
            &vk,
            &srs,
            self.proof_type,
            &self.vk_digest,
            &self.statements,
            &bytes,
        )
    }
}

/// Proof type of an aggregate's statements, for callers that need the sizes.
pub fn proof_type_of(file: &AggregateFile) -> Result<ProofType, VerifyError> {
    ProofType::for_id(file.proof_type).map_err(|e| VerifyError::Malformed(e.to_string()))
}
