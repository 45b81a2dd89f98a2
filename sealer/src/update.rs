//! Replica update (Filecoin's SnapDeals, DESIGN §13): deal data goes into a committed-capacity
//! sector without resealing. With `D'` the new data (fr32-padded, CommD' its tree_d root) and
//! `R` the CC sector's replica:
//!
//! ```text
//! φ        = Poseidon_2(CommD', CommR_old)
//! ρ(k)     = Poseidon_2(φ, k)                       for k < 2^h
//! R'[i]    = R[i] + D'[i] · ρ(i >> (log₂ n − h))    in Fr
//! CommR'   = Poseidon_2(comm_c, root of tree_r_last over R')
//! ```
//!
//! ρ depends on the new data and the old replica's commitment, so the provider cannot choose the
//! data after seeing ρ; the high bits of i (h of them, [`h_for`]) give 2^h distinct values, as
//! Filecoin's construction does, so a proof needs only h bits of each challenge to find its ρ.
//! tree_c and comm_c are unchanged; WindowPoSt proves the new replica against CommR' exactly as
//! it proved the old one. Decoding: `D'[i] = (R'[i] − R[i]) / ρ`, with R the CC replica, which is
//! the last layer's labels (CC data is zero) — regenerable from the replica id, so nothing of
//! the old replica has to be kept for retrieval.
//!
//! Directory of an updated sector: the CC sector's files with `unsealed`, `sealed`,
//! `cache/tree-d.dat`, `cache/tree-r-last.dat` and `cache/p_aux` replaced by the new ones, and the
//! old replica's tree kept in `cache/update/` until the update is proven (its proof opens both).
//! `meta.json` (version 2) keeps the CC sector's CommD and pieces (the replica id commits to
//! them) and records the update in `update`; `comm_r_last` and `comm_r` are the new ones.

use crate::error::SealError;
use crate::files;
use crate::progress::Progress;
use crate::seal::{
    build_tree_r_last, combine_files, comm_r, complete_work_dir, prepare, start_work_dir, Layout,
    PieceSource, SealConfig,
};
use crate::sector::{PlacedPiece, SectorMeta, SectorPaths, UpdateMeta, META_VERSION_UPDATED};
use bls12_381::Scalar;
use ff::Field;
use rayon::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};
use strata_primitives::node::{is_data_node, node_from_fr, node_to_fr, Node, NonCanonicalNode};
use strata_primitives::poseidon;

/// log₂ of the number of distinct ρ values for a sector of `nodes` nodes: 6 (64 values), or
/// fewer for sectors of fewer than 64 nodes.
pub fn h_for(nodes: u64) -> u32 {
    nodes.trailing_zeros().min(6)
}

/// The ρ values of one update, and their inverses.
#[derive(Clone, Debug)]
pub struct Rhos {
    shift: u32,
    values: Vec<Scalar>,
    inverses: Vec<Scalar>,
}

impl Rhos {
    /// The ρ values for new data with `comm_d_new` into the replica with `comm_r_old`, for a
    /// sector of `nodes` nodes. Errors on a commitment that is not a field element.
    pub fn new(comm_d_new: &Node, comm_r_old: &Node, nodes: u64) -> Result<Rhos, NonCanonicalNode> {
        let h = h_for(nodes);
        let phi = poseidon::hash(&[node_to_fr(comm_d_new)?, node_to_fr(comm_r_old)?]);
        let values: Vec<Scalar> = (0..1u64 << h)
            .map(|k| poseidon::hash(&[phi, Scalar::from(k)]))
            .collect();
        // ρ = 0 has probability 2⁻²⁵⁴ per value; it would make the data unrecoverable, so it is
        // mapped to 1 rather than left to divide by zero.
        let inverses = values
            .iter()
            .map(|v| Option::from(v.invert()).unwrap_or(Scalar::ONE))
            .collect();
        Ok(Rhos {
            shift: nodes.trailing_zeros() - h,
            values,
            inverses,
        })
    }

    /// h: log₂ of the number of distinct values.
    pub fn h(&self) -> u32 {
        self.values.len().trailing_zeros()
    }

    /// ρ for node `i`.
    pub fn rho(&self, i: u64) -> Scalar {
        self.values[(i >> self.shift) as usize]
    }

    /// ρ⁻¹ for node `i`.
    pub fn rho_inverse(&self, i: u64) -> Scalar {
        self.inverses[(i >> self.shift) as usize]
    }
}

/// Encodes a block starting at node `first`: `out[j] = old[j] + data[j]·ρ(first + j)`.
pub fn encode_update(
    old: &[Node],
    data: &[Node],
    first: u64,
    rhos: &Rhos,
    out: &mut [Node],
) -> Result<(), NonCanonicalNode> {
    out.par_iter_mut()
        .enumerate()
        .with_min_len(1024)
        .zip(old.par_iter().zip(data))
        .try_for_each(|((j, o), (r, d))| {
            let v = node_to_fr(r)? + node_to_fr(d)? * rhos.rho(first + j as u64);
            *o = node_from_fr(&v);
            Ok(())
        })
}

/// Decodes a block starting at node `first`: `out[j] = (new[j] − old[j])·ρ⁻¹`, checking every
/// result is a data node; `Err(Some(j))` names the first node that is not, `Err(None)` a node
/// that is not a field element.
pub fn decode_update(
    new: &[Node],
    old: &[Node],
    first: u64,
    rhos: &Rhos,
    out: &mut [Node],
) -> Result<(), Option<usize>> {
    out.par_iter_mut()
        .enumerate()
        .with_min_len(1024)
        .zip(new.par_iter().zip(old))
        .try_for_each(|((j, o), (n, r))| {
            let n = node_to_fr(n).map_err(|_| None)?;
            let r = node_to_fr(r).map_err(|_| None)?;
            *o = node_from_fr(&((n - r) * rhos.rho_inverse(first + j as u64)));
            if is_data_node(o) {
                Ok(())
            } else {
                Err(Some(j))
            }
        })
}

/// Where the old replica's tree is kept until the update is proven.
pub fn old_dir(paths: &SectorPaths) -> PathBuf {
    paths.cache().join("update")
}

/// The old replica, kept beside the new one until the update is proven.
pub fn old_sealed(paths: &SectorPaths) -> PathBuf {
    old_dir(paths).join("sealed-old")
}

/// The old replica's tree_r_last levels above the leaves.
pub fn old_tree_r_last(paths: &SectorPaths) -> PathBuf {
    old_dir(paths).join("tree-r-last-old.dat")
}

/// Copies the committed-capacity sector in `cc_dir` to `out` with `pieces` encoded into it (see
/// the module docs). `out` appears only when complete. Refused for a sector that holds data or
/// was already updated.
pub fn snap(
    cc_dir: &Path,
    pieces: Vec<PieceSource<'_>>,
    out: &Path,
    progress: &dyn Progress,
) -> Result<SectorMeta, SealError> {
    let old = SectorMeta::load(cc_dir)?;
    let corrupt = |reason: String| SealError::CorruptSector {
        dir: cc_dir.to_path_buf(),
        reason,
    };
    if old.update.is_some() {
        return Err(corrupt("the sector was already updated".into()));
    }
    let pt = old.proof_type_checked()?;
    if old.comm_d != crate::pieces::zero_root(pt.nodes().trailing_zeros()) {
        return Err(corrupt(
            "the sector holds data: only committed-capacity sectors (all zeros) can be updated"
                .into(),
        ));
    }
    let config = SealConfig {
        proof_type: pt,
        prover_id: old.prover_id,
        sector_number: old.sector_number,
        ticket: old.ticket,
        parent_cache_dir: PathBuf::new(),
    };
    let layout = Layout::check(&config, &pieces, out)?;
    let work = start_work_dir(out)?;
    let result = (|| {
        let src = SectorPaths::new(cc_dir);
        let dst = SectorPaths::new(&work);
        fs::create_dir_all(old_dir(&dst)).map_err(SealError::io("creating", old_dir(&dst)))?;
        // The CC replica and its tree move aside; tree_c and the layers come along unchanged.
        copy(&src.sealed(), &old_sealed(&dst))?;
        copy(&src.tree_r_last(), &old_tree_r_last(&dst))?;
        copy(&src.tree_c(), &dst.tree_c())?;
        copy(&src.tree_c_leaves(), &dst.tree_c_leaves())?;
        for l in 1..=pt.layers {
            if src.layer(l).exists() {
                copy(&src.layer(l), &dst.layer(l))?;
            }
        }
        // New data → unsealed, tree_d', CommD' (checked against the pieces').
        let prepared = prepare(&config, pieces, &layout, &work, progress)?;
        let rhos = Rhos::new(&prepared.comm_d, &old.comm_r, pt.nodes())
            .map_err(|e| corrupt(format!("CommD' or CommR is not a field element: {e}")))?;
        let n = pt.nodes();
        progress.start("encoding the update", n);
        encode_file(
            &old_sealed(&dst),
            &dst.unsealed(),
            &dst.sealed(),
            n,
            &rhos,
            progress,
        )?;
        progress.finish();
        let comm_r_last = build_tree_r_last(&dst, &pt, progress)?;
        let comm_r_new = comm_r(&old.comm_c, &comm_r_last);
        files::write_atomic(&dst.p_aux(), &[old.comm_c, comm_r_last].concat())?;
        let meta = SectorMeta {
            version: META_VERSION_UPDATED,
            comm_r_last,
            comm_r: comm_r_new,
            update: Some(Box::new(UpdateMeta {
                comm_r_old: old.comm_r,
                comm_r_last_old: old.comm_r_last,
                comm_d: prepared.comm_d,
                h: rhos.h(),
                pieces: prepared
                    .infos
                    .into_iter()
                    .zip(prepared.offsets)
                    .map(|(info, offset)| PlacedPiece { info, offset })
                    .collect(),
            })),
            ..old.clone()
        };
        files::write_atomic(
            &dst.meta(),
            serde_json::to_string_pretty(&meta)
                .expect("meta serialises")
                .as_bytes(),
        )?;
        Ok(meta)
    })();
    complete_work_dir(result, &work, out)
}

fn copy(from: &Path, to: &Path) -> Result<(), SealError> {
    fs::copy(from, to).map_err(SealError::io("copying", from))?;
    Ok(())
}

fn encode_file(
    old: &Path,
    data: &Path,
    out: &Path,
    n: u64,
    rhos: &Rhos,
    progress: &dyn Progress,
) -> Result<(), SealError> {
    combine_files(old, data, out, n, progress, &|start, o, d, w| {
        encode_update(o, d, start, rhos, w).map_err(|e| SealError::CorruptSector {
            dir: out.parent().unwrap_or(out).to_path_buf(),
            reason: format!("encoding the update at node {start}: {e}"),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_decode_is_the_identity_and_rho_follows_the_high_bits() {
        let n = 1u64 << 8;
        let rhos = Rhos::new(&[3u8; 32], &[4u8; 32], n).unwrap();
        assert_eq!(rhos.h(), 6);
        assert_eq!(rhos.rho(0), rhos.rho(3));
        assert_ne!(rhos.rho(3), rhos.rho(4));
        let old: Vec<Node> = (0..n)
            .map(|i| node_from_fr(&Scalar::from(i * 7 + 1)))
            .collect();
        let data: Vec<Node> = (0..n)
            .map(|i| node_from_fr(&Scalar::from(i ^ 0x55)))
            .collect();
        let mut new = vec![[0u8; 32]; n as usize];
        encode_update(&old, &data, 0, &rhos, &mut new).unwrap();
        let mut back = vec![[0u8; 32]; n as usize];
        decode_update(&new, &old, 0, &rhos, &mut back).unwrap();
        assert_eq!(back, data);
        // A block decoded at the wrong offset (wrong ρ) is not data.
        assert!(decode_update(&new[4..], &old[4..], 0, &rhos, &mut back[4..]).is_err());
        // Other commitments give other ρ.
        let other = Rhos::new(&[3u8; 32], &[5u8; 32], n).unwrap();
        assert_ne!(other.rho(0), rhos.rho(0));
    }
}
