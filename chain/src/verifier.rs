//! How the chain checks proofs. [`SnarkVerifier`] verifies Groth16 proofs against the
//! verifying keys in the local parameter store (the key of each kind and size is the one whose
//! manifest entry carries the circuit digest this build computes), kept in memory after the first
//! use. The chain derives every public input itself; the message carries only proof bytes.
//!
//! [`HashVerifier`] is a test double for rule tests that do not need real proofs: a "proof" is
//! BLAKE3 of the public inputs, so it is still rejected for a wrong sector, randomness or
//! commitment; an aggregate of seal "proofs" is BLAKE3 of their concatenated 32-byte hashes,
//! in the aggregate's order. It proves nothing about storage and is never used by
//! `strata devnet`.
//!
//! **Aggregates** ([`ProofVerifier::verify_aggregate`]): one proof for the seal proofs of several
//! sectors (Filecoin's SnarkPack). The chain derives every sector's public inputs, in ascending
//! sector order — the order the prover must aggregate the proofs in (every partition proof of
//! the first sector, then the next sector's: `strata_prover::aggregate_file::AggregateFile`
//! over the sectors' proof files in that order) — and the verifier checks the aggregate against
//! all of them at once, with the parameter store's SnarkPack verifier key.

use std::collections::HashMap;
use std::sync::Mutex;
use strata_params::groth16_files::{ParamsStore, ProofKind};
use strata_params::ProofType;
use strata_prover::proof_file::{ProofFile, PublicData, FORMAT, VERSION};
use strata_prover::{aggregate_file, snark};

/// Checks proofs for the chain.
pub trait ProofVerifier: Send + Sync {
    /// Verifies `proofs` (hex, one per partition) for `public` at proof type `pt`; returns the
    /// proof file an auditor can re-check, or why it failed.
    fn verify(
        &self,
        pt: &ProofType,
        public: PublicData,
        proofs: &[String],
    ) -> Result<ProofFile, String>;

    /// Verifies `aggregate_hex`, one aggregate of the seal proofs whose public inputs are
    /// `publics` (every one a [`PublicData::Porep`], in the aggregate's order), at proof type
    /// `pt`; returns what an auditor re-checks, or why it failed. Verifiers that know no
    /// aggregation scheme refuse every aggregate.
    fn verify_aggregate(
        &self,
        pt: &ProofType,
        publics: Vec<PublicData>,
        aggregate_hex: &str,
    ) -> Result<VerifiedAggregate, String> {
        let _ = (pt, publics, aggregate_hex);
        Err("aggregate proofs are not supported by this verifier".into())
    }
}

/// An aggregate the verifier accepted.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedAggregate {
    /// One proof file per sector, in the aggregate's order: its public inputs and the digest of
    /// the Groth16 key its proof was made for; `proofs` is empty (the proof is in the aggregate).
    pub files: Vec<ProofFile>,
    /// The digest of the aggregation parameters (SnarkPack's SRS) the aggregate was checked with.
    pub srs_digest: String,
}

fn kind_of(public: &PublicData) -> ProofKind {
    match public {
        PublicData::Porep { .. } => ProofKind::Porep,
        PublicData::Winning { .. } => ProofKind::Winning,
        PublicData::Window { .. } => ProofKind::Window,
    }
}

type Vk = groth16::VerifyingKey<bls12_381::Bls12>;
/// A cached key and its digest.
type CachedKey = (std::sync::Arc<Vk>, String);

/// Groth16 verification with keys from a parameter store.
pub struct SnarkVerifier {
    store: ParamsStore,
    keys: Mutex<HashMap<(u8, u64), CachedKey>>,
}

impl SnarkVerifier {
    /// A verifier over `store`.
    pub fn new(store: ParamsStore) -> Self {
        SnarkVerifier {
            store,
            keys: Mutex::new(HashMap::new()),
        }
    }

    fn key(&self, kind: ProofKind, pt: &ProofType) -> Result<CachedKey, String> {
        let k = (kind as u8, pt.id);
        if let Some(v) = self.keys.lock().expect("key cache").get(&k) {
            return Ok(v.clone());
        }
        let id = snark::kind_circuit_id(kind, pt).map_err(|e| e.to_string())?;
        let entry = self
            .store
            .manifest()
            .map_err(|e| e.to_string())?
            .entries
            .into_iter()
            .find(|e| e.circuit_digest == id.digest && e.kind == kind)
            .ok_or_else(|| {
                format!(
                    "no {} parameters for {} in {} (run `strata params generate`)",
                    kind.as_str(),
                    pt.sector_size,
                    self.store.dir().display()
                )
            })?;
        let (vk, entry) = self
            .store
            .load_vk(kind, pt.sector_size.bytes(), &entry.vk_digest)
            .map_err(|e| e.to_string())?;
        let v = (std::sync::Arc::new(vk), entry.vk_digest);
        self.keys.lock().expect("key cache").insert(k, v.clone());
        Ok(v)
    }
}

fn file(pt: &ProofType, vk_digest: String, public: PublicData, proofs: &[String]) -> ProofFile {
    ProofFile {
        format: FORMAT.into(),
        version: VERSION,
        proof_type: pt.id,
        vk_digest,
        public,
        proofs: proofs.to_vec(),
    }
}

impl ProofVerifier for SnarkVerifier {
    fn verify(
        &self,
        pt: &ProofType,
        public: PublicData,
        proofs: &[String],
    ) -> Result<ProofFile, String> {
        let (vk, digest) = self.key(kind_of(&public), pt)?;
        let f = file(pt, digest, public, proofs);
        let inputs = f.partition_inputs().map_err(|e| e.to_string())?;
        let bytes = f.proof_bytes().map_err(|e| e.to_string())?;
        if inputs.len() != bytes.len() {
            return Err(format!(
                "{} proofs for {} partitions",
                bytes.len(),
                inputs.len()
            ));
        }
        for (p, (i, b)) in inputs.iter().zip(&bytes).enumerate() {
            snark::verify(&vk, i, b).map_err(|e| format!("partition {p}: {e}"))?;
        }
        Ok(f)
    }

    /// SnarkPack over every partition proof of every sector, in order, checked with the
    /// store's Groth16 PoRep key and its SnarkPack verifier key
    /// ([`strata_prover::aggregate_file::verify_aggregate`], the auditor's check too: the
    /// transcript binds the key, the proof type and every public input).
    fn verify_aggregate(
        &self,
        pt: &ProofType,
        publics: Vec<PublicData>,
        aggregate_hex: &str,
    ) -> Result<VerifiedAggregate, String> {
        if let Some(i) = publics
            .iter()
            .position(|p| !matches!(p, PublicData::Porep { .. }))
        {
            return Err(format!("statement {i} of the aggregate is not a seal"));
        }
        let (vk, digest) = self.key(ProofKind::Porep, pt)?;
        let srs = aggregate_file::load_srs_vk(&self.store).map_err(|e| {
            format!("{e} (the SnarkPack verifier key is made with the parameters' SRS)")
        })?;
        let bytes =
            hex::decode(aggregate_hex).map_err(|e| format!("the aggregate is not hex: {e}"))?;
        aggregate_file::verify_aggregate(&vk, &srs, pt.id, &digest, &publics, &bytes)
            .map_err(|e| e.to_string())?;
        Ok(VerifiedAggregate {
            files: publics
                .into_iter()
                .map(|p| file(pt, digest.clone(), p, &[]))
                .collect(),
            srs_digest: hex::encode(srs.digest()),
        })
    }
}

/// Test double: a proof is BLAKE3 of the public inputs (see the module docs).
pub struct HashVerifier;

impl HashVerifier {
    /// The "proof" this verifier accepts for `public`.
    pub fn proof_for(public: &PublicData) -> String {
        Self::hash(public).to_hex().to_string()
    }

    fn hash(public: &PublicData) -> blake3::Hash {
        blake3::hash(&serde_json::to_vec(public).expect("public data serialises"))
    }

    /// The aggregate this verifier accepts for `publics`: BLAKE3 over the concatenated 32-byte
    /// per-proof hashes ([`HashVerifier::proof_for`] before hex), in the given order, as hex.
    pub fn aggregate_for(publics: &[PublicData]) -> String {
        let mut h = blake3::Hasher::new();
        for p in publics {
            h.update(Self::hash(p).as_bytes());
        }
        h.finalize().to_hex().to_string()
    }
}

impl ProofVerifier for HashVerifier {
    fn verify(
        &self,
        pt: &ProofType,
        public: PublicData,
        proofs: &[String],
    ) -> Result<ProofFile, String> {
        let expect = Self::proof_for(&public);
        if proofs.len() != 1 || proofs[0] != expect {
            return Err("proof does not verify".into());
        }
        Ok(file(pt, "test-hash-verifier".into(), public, proofs))
    }

    fn verify_aggregate(
        &self,
        pt: &ProofType,
        publics: Vec<PublicData>,
        aggregate_hex: &str,
    ) -> Result<VerifiedAggregate, String> {
        if publics.is_empty() || aggregate_hex != Self::aggregate_for(&publics) {
            return Err("aggregate proof does not verify".into());
        }
        Ok(VerifiedAggregate {
            files: publics
                .into_iter()
                .map(|p| file(pt, "test-hash-verifier".into(), p, &[]))
                .collect(),
            srs_digest: "test-hash-verifier".into(),
        })
    }
}
