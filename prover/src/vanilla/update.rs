//! The vanilla replica-update proof (SnapDeals, DESIGN §13; the encoding is in
//! `strata_sealer::update`): for each of [`update_challenge_count`] challenges drawn from
//! randomness fixed after the update, openings of the old replica, the new replica and the new
//! data at the challenged node, and the relation `new = old + data·ρ(high bits)` between them.
//! CommR_old and CommR' must commit to the same comm_c, so the update replaced only the replica
//! tree of the sector the chain knows. This verifier is the reference the circuit must agree
//! with.

use crate::challenges::update_challenge;
use serde::{Deserialize, Serialize};
use std::path::Path;
use strata_params::ProofType;
use strata_primitives::merkle::{MerkleProof, TreeReader};
use strata_primitives::node::{node_to_fr, Node};
use strata_primitives::serde_hex;
use strata_sealer::seal::comm_r;
use strata_sealer::update::{old_sealed, old_tree_r_last, Rhos};
use strata_sealer::{SectorMeta, SectorPaths};

/// Challenges per update proof: 32 below 32 GiB; Filecoin's 1,376 (16 partitions of 86) from 32 GiB.
pub fn update_challenge_count(pt: &ProofType) -> usize {
    if pt.sector_size.bytes() >= 32 << 30 {
        1376
    } else {
        32
    }
}

/// What an update proof proves: the sector's old CommR (on chain), the new data's CommD and
/// the new CommR, for the challenge randomness. Part of the proof-file document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateStatement {
    /// Sector number (for reports; the commitments are what is proven).
    pub sector_number: u64,
    /// CommR before the update.
    #[serde(with = "serde_hex::node")]
    pub comm_r_old: Node,
    /// CommD of the new data.
    #[serde(with = "serde_hex::node")]
    pub comm_d_new: Node,
    /// CommR after the update.
    #[serde(with = "serde_hex::node")]
    pub comm_r_new: Node,
    /// The challenge randomness.
    #[serde(with = "serde_hex::node")]
    pub randomness: Node,
}

/// One challenge's openings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateOpening {
    /// The old replica's leaf in the old tree_r_last.
    pub old: MerkleProof,
    /// The new replica's leaf in the new tree_r_last.
    pub new: MerkleProof,
    /// The new data's leaf in tree_d'.
    pub data: MerkleProof,
}

/// The vanilla update proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateProof {
    /// Root of tree_c (shared by both replicas).
    #[serde(with = "serde_hex::node")]
    pub comm_c: Node,
    /// Root of the old tree_r_last.
    #[serde(with = "serde_hex::node")]
    pub comm_r_last_old: Node,
    /// Root of the new tree_r_last.
    #[serde(with = "serde_hex::node")]
    pub comm_r_last_new: Node,
    /// One per challenge, in order.
    pub openings: Vec<UpdateOpening>,
}

/// Why an update proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateRejection {
    /// A commitment is not a field element, or the wrong number of openings.
    #[error("malformed update proof: {0}")]
    Malformed(String),
    /// CommR_old or CommR' does not commit to comm_c and the proof's tree_r_last roots.
    #[error("{0} does not commit to comm_c and its tree_r_last root")]
    CommR(&'static str),
    /// An opening is for another node than challenged, or does not verify.
    #[error("challenge {index}: the {which} opening is invalid")]
    Opening {
        /// Which challenge.
        index: usize,
        /// Which of the three openings.
        which: &'static str,
    },
    /// The three leaves do not satisfy `new = old + data·ρ`.
    #[error("challenge {0}: the new replica is not the old one plus the data times ρ")]
    Relation(usize),
}

/// Proves the update of the sector in `dir` for `randomness`, checking every opening it makes.
/// Needs the old replica and tree (`cache/update/`), kept until the update is proven.
pub fn prove(dir: &Path, randomness: &Node) -> Result<(UpdateProof, UpdateStatement), String> {
    let meta = SectorMeta::load(dir).map_err(|e| e.to_string())?;
    let u = meta
        .update
        .as_deref()
        .ok_or("the sector has not been updated (no `update` in meta.json)")?;
    let pt = meta.proof_type_checked().map_err(|e| e.to_string())?;
    let paths = SectorPaths::new(dir);
    let open = |leaves: &Path, upper: &Path, shape, root: &Node, what: &str| {
        let t = TreeReader::open(shape, leaves, upper).map_err(|e| format!("{what}: {e}"))?;
        if t.root() != *root {
            return Err(format!("{what}: its root differs from meta.json"));
        }
        Ok(t)
    };
    let old = open(
        &old_sealed(&paths),
        &old_tree_r_last(&paths),
        pt.tree_r_shape(),
        &u.comm_r_last_old,
        "the old replica",
    )?;
    let new = open(
        &paths.sealed(),
        &paths.tree_r_last(),
        pt.tree_r_shape(),
        &meta.comm_r_last,
        "the new replica",
    )?;
    let data = open(
        &paths.unsealed(),
        &paths.tree_d(),
        pt.tree_d_shape(),
        &u.comm_d,
        "the new data",
    )?;
    let statement = UpdateStatement {
        sector_number: meta.sector_number,
        comm_r_old: u.comm_r_old,
        comm_d_new: u.comm_d,
        comm_r_new: meta.comm_r,
        randomness: *randomness,
    };
    let openings = (0..update_challenge_count(&pt) as u64)
        .map(|j| {
            let c = update_challenge(randomness, &meta.comm_r, j, pt.nodes());
            UpdateOpening {
                old: old.prove(c),
                new: new.prove(c),
                data: data.prove(c),
            }
        })
        .collect();
    let proof = UpdateProof {
        comm_c: meta.comm_c,
        comm_r_last_old: u.comm_r_last_old,
        comm_r_last_new: meta.comm_r_last,
        openings,
    };
    verify(&pt, &statement, &proof)
        .map_err(|e| format!("the sector's own files do not prove its update: {e}"))?;
    Ok((proof, statement))
}

/// Verifies an update proof against its statement.
pub fn verify(
    pt: &ProofType,
    s: &UpdateStatement,
    proof: &UpdateProof,
) -> Result<(), UpdateRejection> {
    let count = update_challenge_count(pt);
    if proof.openings.len() != count {
        return Err(UpdateRejection::Malformed(format!(
            "{} openings, {count} expected",
            proof.openings.len()
        )));
    }
    for n in [
        &proof.comm_c,
        &proof.comm_r_last_old,
        &proof.comm_r_last_new,
    ] {
        node_to_fr(n).map_err(|e| UpdateRejection::Malformed(e.to_string()))?;
    }
    if comm_r(&proof.comm_c, &proof.comm_r_last_old) != s.comm_r_old {
        return Err(UpdateRejection::CommR("CommR_old"));
    }
    if comm_r(&proof.comm_c, &proof.comm_r_last_new) != s.comm_r_new {
        return Err(UpdateRejection::CommR("CommR'"));
    }
    let rhos = Rhos::new(&s.comm_d_new, &s.comm_r_old, pt.nodes())
        .map_err(|e| UpdateRejection::Malformed(e.to_string()))?;
    let (r_shape, d_shape) = (pt.tree_r_shape(), pt.tree_d_shape());
    for (index, o) in proof.openings.iter().enumerate() {
        let c = update_challenge(&s.randomness, &s.comm_r_new, index as u64, pt.nodes());
        let bad = |which| UpdateRejection::Opening { index, which };
        if o.old.index != c || !o.old.verify(&r_shape, &proof.comm_r_last_old) {
            return Err(bad("old replica"));
        }
        if o.new.index != c || !o.new.verify(&r_shape, &proof.comm_r_last_new) {
            return Err(bad("new replica"));
        }
        if o.data.index != c || !o.data.verify(&d_shape, &s.comm_d_new) {
            return Err(bad("data"));
        }
        let fr = |n: &Node| node_to_fr(n).map_err(|e| UpdateRejection::Malformed(e.to_string()));
        if fr(&o.new.leaf)? != fr(&o.old.leaf)? + fr(&o.data.leaf)? * rhos.rho(c) {
            return Err(UpdateRejection::Relation(index));
        }
    }
    Ok(())
}
