//! Permanent replicas on the provider (DESIGN §12): taking a replica slot for a piece whose
//! data is here (a client's upload to `POST /permanent/{piece}`, or a repair), the repair loop
//! that re-stores lost replicas when `accept_repairs` is on, and the recall proof a win needs.
//!
//! A replica is an ordinary deal once claimed: its piece file goes where uploaded deals' files
//! go, the pipeline packs and seals it, and its sector lives as long as the chain allows
//! (replicas have no end; a longer sector means fewer repairs).

use crate::Provider;
use std::path::Path;
use std::sync::Arc;
use strata_chain_client::permanent::{RecallProof, RecallTarget, ReplicaStatus};
use strata_chain_client::types::{DealId, Method, SignedProposal};
use strata_primitives::merkle::TreeReader;
use strata_sealer::{PieceInfo, SectorMeta, SectorPaths};

impl Provider {
    /// Claims a replica slot of permanent piece `piece` for the data in `tmp` (`len` bytes whose
    /// CommP is `info`) and files it for sealing: the data must be the piece, the piece must fit
    /// a sector here, and this miner must not hold another replica of it. On success the file is
    /// moved into place and the deal id returned; on failure `tmp` is left to the caller.
    pub async fn take_replica(
        self: &Arc<Self>,
        piece: u64,
        tmp: &Path,
        len: u64,
        info: &PieceInfo,
    ) -> Result<DealId, String> {
        let p = self
            .chain
            .permanent_piece(piece)
            .await
            .map_err(|e| format!("permanent piece {piece}: {e}"))?;
        if info.comm_p != p.piece_cid || info.padded_size != p.piece_size {
            return Err(format!(
                "CommP mismatch: the data has {} ({} B padded), permanent piece {piece} is {} ({} B)",
                hex::encode(info.comm_p),
                info.padded_size,
                hex::encode(p.piece_cid),
                p.piece_size
            ));
        }
        if p.piece_size > self.proof_type.sector_size.bytes() {
            return Err(format!(
                "piece {piece} ({} B) does not fit a {} sector",
                p.piece_size, self.proof_type.sector_size
            ));
        }
        if p.replicas.iter().any(|r| r.miner == Some(self.miner())) {
            return Err(format!("m{} already stores piece {piece}", self.miner()));
        }
        if !p.replicas.iter().any(|r| r.status == ReplicaStatus::Open) {
            return Err(format!("piece {piece} has no open replica slot"));
        }
        let head = self.chain.head().await.map_err(|e| e.to_string())?.epoch;
        // The claim's start is a deadline, not a wait: the sector is sealed at once either way.
        // A replica has no end, so a generous deadline costs the client nothing, while a missed
        // one slashes this miner's collateral and re-offers the slot. Sealing here pauses for
        // every PoSt, so the measured estimate can be several times short on a busy miner:
        // claim four times it, at least a day (within the chain's claim limit).
        let earliest = self.earliest_start_now(head).await?;
        let c = &self.constants;
        let limit = head + c.permanent.max_claim_days * c.epochs_per_day;
        let start = (head + (4 * (earliest - head)).max(c.epochs_per_day))
            .min(limit)
            .max(earliest);
        let msg = self
            .send(Method::ClaimReplica {
                miner: self.miner(),
                piece,
                start_epoch: start,
            })
            .await
            .map_err(|e| format!("claiming a replica of piece {piece}: {e}"))?;
        let receipt = self.chain.receipt(msg).await.map_err(|e| e.to_string())?;
        let deal = receipt.result["deal"]
            .as_u64()
            .ok_or("the claim's receipt names no deal")?;
        std::fs::rename(tmp, self.piece_path(deal))
            .map_err(|e| format!("storing the piece: {e}"))?;
        if let Ok(d) = std::fs::File::open(self.home.join("pieces")) {
            let _ = d.sync_all();
        }
        let proposal = self
            .chain
            .deal(deal)
            .await
            .map_err(|e| e.to_string())?
            .proposal;
        // The chain made this deal: there is no client signature to keep.
        let sp = SignedProposal {
            proposal,
            public_key: String::new(),
            signature: String::new(),
        };
        self.db
            .insert_deal(deal, &sp, len)
            .map_err(|e| e.to_string())?;
        let _ = self.db.log(
            receipt.epoch.unwrap_or(head),
            "replica_claimed",
            &format!(
                "permanent piece {piece}: deal {deal}, {len} bytes, to activate by epoch {start}"
            ),
        );
        tracing::info!(piece, deal, "permanent replica claimed");
        Ok(deal)
    }

    /// One round of repairs (when `accept_repairs` is on): the first permanent piece with an
    /// open slot this miner can store is fetched from a surviving replica's retrieval endpoint,
    /// checked against its CommP, claimed and filed for sealing. Pieces that failed are retried
    /// after a while, not every round.
    pub async fn repair_tick(self: &Arc<Self>) {
        if !self.config.accept_repairs {
            return;
        }
        let Ok(pieces) = self.chain.permanent_pieces().await else {
            return;
        };
        let Ok(head) = self.chain.head().await.map(|h| h.epoch) else {
            return;
        };
        for p in pieces {
            let open = p.replicas.iter().any(|r| r.status == ReplicaStatus::Open);
            let ours = p.replicas.iter().any(|r| r.miner == Some(self.miner()));
            if !open || ours || p.piece_size > self.proof_type.sector_size.bytes() {
                continue;
            }
            {
                let mut st = self.sched.lock().expect("sched");
                if st
                    .repair_tried
                    .get(&p.id)
                    .is_some_and(|t| head < t + self.constants.proving_period)
                {
                    continue;
                }
                st.repair_tried.insert(p.id, head);
            }
            match self.repair(&p).await {
                Ok(deal) => {
                    let _ = self.db.log(
                        head,
                        "repair",
                        &format!(
                            "permanent piece {}: fetched, checked, claimed as deal {deal}",
                            p.id
                        ),
                    );
                    return;
                }
                Err(e) => {
                    tracing::warn!(piece = p.id, %e, "repair failed");
                    let _ = self.db.log(
                        head,
                        "repair_failed",
                        &format!("permanent piece {}: {e}", p.id),
                    );
                }
            }
        }
    }

    async fn repair(
        self: &Arc<Self>,
        p: &strata_chain_client::permanent::PermanentPieceInfo,
    ) -> Result<DealId, String> {
        let mut last = format!("no surviving replica of piece {} to fetch from", p.id);
        for (deal, miner) in p.holders() {
            let endpoint = match self.chain.miner(miner).await {
                Ok(m) if !m.deal_endpoint.is_empty() => m.deal_endpoint,
                _ => continue,
            };
            let url = format!("{}/deals/{deal}/data", endpoint.trim_end_matches('/'));
            let tmp = self
                .home
                .join("pieces")
                .join(format!(".repair-{}-{deal}.tmp", p.id));
            match fetch_piece(&url, &tmp, p.piece_size).await {
                Ok((len, info)) => match self.take_replica(p.id, &tmp, len, &info).await {
                    Ok(d) => return Ok(d),
                    Err(e) => {
                        let _ = std::fs::remove_file(&tmp);
                        // A holder serving other bytes is skipped; the claim's own failure ends.
                        if !e.starts_with("CommP mismatch") {
                            return Err(e);
                        }
                        last = format!("m{miner} served data that is not the piece: {e}");
                    }
                },
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    last = format!("fetching {url}: {e}");
                }
            }
        }
        Err(last)
    }

    /// The recall proof of `target` from this miner's sector holding the piece, or why there is
    /// none. The tree reads run on a blocking thread (a sector's data tree may be large).
    pub async fn recall_proof(
        &self,
        target: &RecallTarget,
        deal: DealId,
    ) -> Result<RecallProof, String> {
        let n = self
            .db
            .deal(deal)
            .map_err(|e| e.to_string())?
            .and_then(|d| d.sector)
            .ok_or_else(|| format!("deal {deal} is in no sector here"))?;
        let dir = match self.sector_at(n, None)? {
            crate::cluster::SectorAt::Local(dir) => dir,
            crate::cluster::SectorAt::Remote { path, .. } if path.join("meta.json").exists() => {
                path
            }
            crate::cluster::SectorAt::Remote { machine, .. } => {
                return Err(format!(
                    "sector {n} is on machine {machine}; recall proofs are made only from \
                     sectors readable by the daemon (a shared storage path)"
                ))
            }
        };
        let index = self
            .db
            .sector(n)
            .map_err(|e| e.to_string())?
            .and_then(|s| s.deals.iter().position(|d| *d == deal))
            .ok_or_else(|| format!("sector {n} does not list deal {deal}"))?;
        let (pt, target) = (self.proof_type, *target);
        tokio::task::spawn_blocking(move || {
            let meta = SectorMeta::load(&dir).map_err(|e| e.to_string())?;
            recall_from_sector(&dir, &pt, &meta, index, &target)
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

/// The recall proof of `target` from the sector in `dir` (its meta already loaded) whose
/// `index`-th piece is the target's piece: the chunk's nodes from the unsealed data and their
/// path up the sector's data tree to CommD.
pub fn recall_from_sector(
    dir: &Path,
    proof_type: &strata_params::ProofType,
    meta: &SectorMeta,
    index: usize,
    target: &RecallTarget,
) -> Result<RecallProof, String> {
    let placed = meta
        .pieces
        .get(index)
        .ok_or_else(|| format!("sector {}'s meta has no piece {index}", meta.sector_number))?;
    if !target.chunk_bytes.is_power_of_two()
        || target.chunk_bytes < 32
        || (target.chunk + 1) * target.chunk_bytes > placed.info.padded_size
    {
        return Err(format!(
            "chunk {} of {} B lies outside the {}-byte piece",
            target.chunk, target.chunk_bytes, placed.info.padded_size
        ));
    }
    let paths = SectorPaths::new(dir);
    let tree = TreeReader::open(
        proof_type.tree_d_shape(),
        &paths.unsealed(),
        &paths.tree_d(),
    )
    .map_err(|e| e.to_string())?;
    let nodes = target.chunk_bytes / 32;
    let first = (placed.offset + target.chunk * target.chunk_bytes) / 32;
    let opening = tree.prove(first);
    let skip = nodes.trailing_zeros() as usize;
    Ok(RecallProof {
        sector: meta.sector_number,
        chunk: (first..first + nodes).map(|i| tree.leaf(i)).collect(),
        path: opening.siblings[skip..].iter().map(|s| s[0]).collect(),
    })
}

/// Streams `url` into `tmp` (at most the piece's unpadded size) and computes its CommP.
async fn fetch_piece(url: &str, tmp: &Path, piece_size: u64) -> Result<(u64, PieceInfo), String> {
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    let resp = reqwest::Client::new()
        .get(url)
        .timeout(std::time::Duration::from_secs(600))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!(
            "{}: {}",
            resp.status(),
            resp.text().await.unwrap_or_default()
        ));
    }
    let max = piece_size / 128 * 127;
    let mut f = tokio::fs::File::create(tmp)
        .await
        .map_err(|e| e.to_string())?;
    let mut len = 0u64;
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("cut off after {len} bytes: {e}"))?;
        len += chunk.len() as u64;
        if len > max {
            return Err(format!(
                "more than {max} bytes for a {piece_size}-byte piece"
            ));
        }
        f.write_all(&chunk).await.map_err(|e| e.to_string())?;
    }
    f.sync_all().await.map_err(|e| e.to_string())?;
    drop(f);
    if len == 0 {
        return Err("empty response".into());
    }
    let t = tmp.to_path_buf();
    let info = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&t).map_err(|e| e.to_string())?;
        strata_sealer::comm_p(std::io::BufReader::new(file), len).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())??;
    Ok((len, info))
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_chain_client::permanent::verify_recall;

    /// A recall proof read from a really sealed 2 KiB sector verifies against its CommD and the
    /// piece's CommP for every chunk; a chunk past the piece is refused, not a panic.
    #[test]
    fn recall_from_a_sealed_sector_verifies() {
        let tmp = tempfile::tempdir().unwrap();
        let pt =
            strata_params::ProofType::for_size(strata_primitives::sizes::SectorSize::KIB2).unwrap();
        let data: Vec<u8> = (0..2000u32).map(|i| (i * 13 % 251) as u8).collect();
        let info = strata_sealer::comm_p(&data[..], data.len() as u64).unwrap();
        let dir = tmp.path().join("sector");
        let cfg = strata_sealer::SealConfig {
            proof_type: pt,
            prover_id: 1000,
            sector_number: 3,
            ticket: [7; 32],
            parent_cache_dir: tmp.path().join("parents"),
        };
        strata_sealer::seal(
            &cfg,
            vec![strata_sealer::PieceSource {
                reader: Box::new(std::io::Cursor::new(data.clone())),
                len: data.len() as u64,
            }],
            &dir,
            &strata_sealer::NoProgress,
        )
        .unwrap();
        let meta = SectorMeta::load(&dir).unwrap();
        for chunk in 0..4 {
            let target = RecallTarget {
                weave_offset: chunk * 512 + 5,
                piece: 0,
                chunk,
                chunk_bytes: 512,
            };
            let proof = recall_from_sector(&dir, &pt, &meta, 0, &target).unwrap();
            assert_eq!(proof.sector, 3);
            verify_recall(
                &target,
                &proof,
                &info.comm_p,
                info.padded_size,
                meta.pieces[0].offset,
                &meta.comm_d,
                pt.sector_size.bytes(),
            )
            .unwrap_or_else(|e| panic!("chunk {chunk}: {e}"));
        }
        let past = RecallTarget {
            weave_offset: 0,
            piece: 0,
            chunk: 4,
            chunk_bytes: 512,
        };
        assert!(recall_from_sector(&dir, &pt, &meta, 0, &past).is_err());
        assert!(recall_from_sector(&dir, &pt, &meta, 1, &past).is_err());
    }
}
