//! The sealing pipeline: deals are packed into sectors, and each sector walks
//! sealing → precommit → wait_seed → proving → prove_commit → wait_active → active, one durable
//! step at a time (see the crate's design notes).

use crate::db::{SectorRow, Step};
use crate::metrics::{Metrics, Timed};
use crate::priority::YieldToProving;
use crate::seal_prover::SealProofRun;
use crate::{Provider, MAX_ATTEMPTS};
use std::sync::Arc;
use std::time::Instant;
use strata_chain_client::types::{Epoch, Method, RandomnessTag};
use strata_chain_client::views::SectorStatus;
use strata_chain_client::ErrorKind;
use strata_primitives::serde_hex::parse_node;
use strata_sealer::{seal, PieceInfo, PieceSource, SealConfig, SectorMeta};

impl Provider {
    /// One round: pack new deals, then advance every sector whose retry time has come.
    pub async fn pipeline_tick(self: &Arc<Self>) {
        let head = match self.chain.head().await {
            Ok(h) => h.epoch,
            Err(e) => {
                tracing::warn!(%e, "chain unreachable; pipeline waits");
                return;
            }
        };
        self.repair_tick().await;
        if let Err(e) = self.pack() {
            tracing::error!(%e, "packing deals failed");
        }
        let sectors = match self.db.sectors() {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(%e, "reading sectors failed");
                return;
            }
        };
        for s in sectors {
            if s.retry_at > head || matches!(s.step, Step::Removed | Step::Failed) {
                continue;
            }
            let r = match s.step {
                Step::Sealing | Step::Proving => {
                    self.spawn_job(s.number);
                    Ok(())
                }
                Step::PreCommit => self.precommit(s.clone(), head).await,
                Step::WaitSeed => self.wait_seed(s.clone(), head).await,
                Step::ProveCommit => self.prove_commit(s.clone()).await,
                Step::WaitActive | Step::Active => self.follow_chain(s.clone()).await,
                Step::Removed | Step::Failed => Ok(()),
            };
            if let Err(e) = r {
                self.fail(s, head, e);
            }
        }
    }

    /// Packs deals not yet in a sector, largest first, into as few sectors as fit.
    fn pack(&self) -> Result<(), crate::db::DbError> {
        let mut todo: Vec<_> = self
            .db
            .deals()?
            .into_iter()
            .filter(|d| d.sector.is_none())
            .collect();
        if todo.is_empty() {
            return Ok(());
        }
        todo.sort_by_key(|d| std::cmp::Reverse(d.proposal.proposal.piece_size));
        let size = self.proof_type.sector_size;
        let mut groups: Vec<Vec<(u64, u64)>> = Vec::new();
        for d in todo {
            let piece = d.proposal.proposal.piece_size;
            let fits = |g: &Vec<(u64, u64)>| {
                let sizes: Vec<_> = g
                    .iter()
                    .map(|x| x.1)
                    .chain([piece])
                    .filter_map(|p| strata_primitives::sizes::PaddedPieceSize::new(p).ok())
                    .collect();
                strata_sealer::pieces::layout(size, &sizes).is_ok()
            };
            match groups.iter_mut().find(|g| fits(g)) {
                Some(g) => g.push((d.id, piece)),
                None => groups.push(vec![(d.id, piece)]),
            }
        }
        for g in groups {
            let n = self.db.next_sector_number()?;
            let ids: Vec<u64> = g.iter().map(|x| x.0).collect();
            self.db.new_sector(n, &ids)?;
            let _ = self
                .db
                .log(0, "packed", &format!("sector {n}: deals {ids:?}"));
            tracing::info!(sector = n, deals = ?ids, "deals packed into a sector");
        }
        Ok(())
    }

    /// Records a failure: backoff, or park in `failed` after too many attempts.
    fn fail(&self, mut s: SectorRow, head: Epoch, err: String) {
        Metrics::inc(&self.metrics.step_failures);
        s.attempts += 1;
        s.error = Some(format!("{}: {err}", s.step.as_str()));
        s.retry_at = head + (1i64 << s.attempts.min(6));
        tracing::warn!(sector = s.number, step = s.step.as_str(), attempt = s.attempts, %err, "pipeline step failed");
        let _ = self.db.log(
            head,
            "step_failed",
            &format!(
                "sector {} {}: {err} (attempt {})",
                s.number,
                s.step.as_str(),
                s.attempts
            ),
        );
        if s.attempts >= MAX_ATTEMPTS {
            s.step = Step::Failed;
        }
        if let Err(e) = self.db.update_sector(&s) {
            tracing::error!(%e, "recording a failure failed");
        }
    }

    fn advance(&self, mut s: SectorRow, step: Step) -> Result<(), String> {
        tracing::info!(
            sector = s.number,
            from = s.step.as_str(),
            to = step.as_str(),
            "sector advanced"
        );
        s.step = step;
        s.error = None;
        s.attempts = 0;
        s.retry_at = 0;
        self.db.update_sector(&s).map_err(|e| e.to_string())
    }

    /// Starts the sector's CPU-heavy step on the bounded pool, unless it is already running.
    fn spawn_job(self: &Arc<Self>, n: u64) {
        if !self.in_flight.lock().expect("in flight").insert(n) {
            return;
        }
        let p = self.clone();
        let h = tokio::spawn(async move {
            let permit = p
                .jobs
                .clone()
                .acquire_owned()
                .await
                .expect("semaphore open");
            let head = p.chain.head().await.map(|h| h.epoch).unwrap_or(0);
            if let Ok(Some(s)) = p.db.sector(n) {
                let r = match s.step {
                    Step::Sealing => p.seal_job(s.clone(), head).await,
                    Step::Proving => p.proof_job(s.clone()).await,
                    _ => Ok(()),
                };
                if let Err(e) = r {
                    p.fail(s, head, e);
                }
            }
            drop(permit);
            p.in_flight.lock().expect("in flight").remove(&n);
        });
        self.handles.lock().expect("handles").push(h);
    }

    async fn seal_job(self: &Arc<Self>, mut s: SectorRow, head: Epoch) -> Result<(), String> {
        let dir = self.sector_dir(s.number);
        // A fresh ticket unless the recorded one is still young enough to pre-commit with.
        let young = s
            .ticket_epoch
            .is_some_and(|t| head - t < self.constants.max_ticket_age / 2);
        if !young {
            s.ticket_epoch = Some(head);
            self.db.update_sector(&s).map_err(|e| e.to_string())?;
        }
        let te = s.ticket_epoch.expect("set");
        let ticket = self
            .chain
            .randomness(RandomnessTag::Ticket, te, self.miner())
            .await
            .map_err(|e| e.to_string())?;
        let deals: Vec<_> = s
            .deals
            .iter()
            .map(|d| {
                self.db
                    .deal(*d)
                    .map_err(|e| e.to_string())?
                    .ok_or(format!("deal {d} missing"))
            })
            .collect::<Result<_, _>>()?;
        let cfg = SealConfig {
            proof_type: self.proof_type,
            prover_id: self.miner(),
            sector_number: s.number,
            ticket,
            parent_cache_dir: self.parent_cache(),
        };
        let pieces: Vec<(std::path::PathBuf, u64)> = deals
            .iter()
            .map(|d| (self.piece_path(d.id), d.raw_len))
            .collect();
        // Committed capacity: one piece of zeros filling the sector.
        let cc_len = if deals.is_empty() {
            self.proof_type.sector_size.bytes() / 128 * 127
        } else {
            0
        };
        let started = Instant::now();
        let d2 = dir.clone();
        let (pool, gate) = (self.sealing.clone(), self.gate.clone());
        let meta = tokio::task::spawn_blocking(move || -> Result<SectorMeta, String> {
            if let Ok(m) = SectorMeta::load(&d2) {
                if m.ticket == ticket {
                    return Ok(m); // sealed before a restart
                }
                std::fs::remove_dir_all(&d2)
                    .map_err(|e| format!("removing a stale sector: {e}"))?;
            }
            // On the low-priority sealing pool, pausing at each progress point while a PoSt
            // is being proven.
            pool.install(|| {
                let mut readers = pieces
                    .iter()
                    .map(|(p, len)| {
                        let f = std::fs::File::open(p)
                            .map_err(|e| format!("piece {}: {e}", p.display()))?;
                        Ok(PieceSource {
                            reader: Box::new(std::io::BufReader::new(f)),
                            len: *len,
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                if cc_len > 0 {
                    use std::io::Read;
                    readers.push(PieceSource {
                        reader: Box::new(std::io::repeat(0).take(cc_len)),
                        len: cc_len,
                    });
                }
                seal(&cfg, readers, &d2, &YieldToProving(&gate)).map_err(|e| e.to_string())
            })
        })
        .await
        .map_err(|e| format!("seal job: {e}"))??;
        self.measured(Timed::Seal, started.elapsed().as_millis() as u64, head);
        let infos: Vec<PieceInfo> = deals
            .iter()
            .map(|d| PieceInfo {
                comm_p: d.proposal.proposal.piece_cid,
                padded_size: d.proposal.proposal.piece_size,
                raw_len: 0,
            })
            .collect();
        let expect = if infos.is_empty() {
            let leaves = self.proof_type.sector_size.bytes() / 32;
            strata_sealer::pieces::zero_root(leaves.trailing_zeros())
        } else {
            strata_sealer::comm_d_from_pieces(self.proof_type.sector_size, &infos)
                .map_err(|e| e.to_string())?
        };
        if expect != meta.comm_d {
            return Err("the sealed data's CommD differs from the deals' pieces".into());
        }
        s.comm_r = Some(hex::encode(meta.comm_r));
        s.comm_d = Some(hex::encode(meta.comm_d));
        self.advance(s, Step::PreCommit)
    }

    async fn precommit(&self, s: SectorRow, head: Epoch) -> Result<(), String> {
        if let Ok(info) = self.chain.sector(self.miner(), s.number).await {
            if info.status == SectorStatus::Precommitted {
                return self.advance(s, Step::WaitSeed);
            }
            return Err(format!(
                "the chain already has sector {} as {:?}",
                s.number, info.status
            ));
        }
        let c = &self.constants;
        let ends: Vec<Epoch> = s
            .deals
            .iter()
            .filter_map(|d| self.db.deal(*d).ok().flatten())
            .map(|d| d.proposal.proposal.end_epoch)
            .collect();
        let deal_end = ends
            .iter()
            .copied()
            .filter(|e| *e < Epoch::MAX)
            .max()
            .unwrap_or(0);
        // A permanent replica (no end) lives as long as the chain lets its sector: the longest
        // life, less a period of slack for the pre-commit's inclusion.
        let floor = if ends.contains(&Epoch::MAX) {
            head + c.max_sector_lifetime - c.proving_period
        } else {
            head + 1 + c.min_sector_lifetime + c.proving_period
        };
        let expiration = deal_end.max(floor);
        let node = |h: &Option<String>| parse_node(h.as_deref().unwrap_or_default());
        let call = Method::PreCommit {
            miner: self.miner(),
            sector_number: s.number,
            comm_r: node(&s.comm_r)?,
            comm_d: node(&s.comm_d)?,
            ticket_epoch: s.ticket_epoch.ok_or("no ticket epoch")?,
            expiration,
            deals: s.deals.clone(),
        };
        match self.send(call).await {
            Ok(id) => {
                let _ = self.db.log(
                    head,
                    "precommit",
                    &format!("sector {}: message {id}", s.number),
                );
                self.advance(s, Step::WaitSeed)
            }
            Err(e) if e.kind == ErrorKind::TooLate && e.message.contains("ticket") => {
                // The ticket aged out while waiting: seal again with a new one.
                let _ = self
                    .db
                    .log(head, "reseal", &format!("sector {}: {e}", s.number));
                let _ = std::fs::remove_dir_all(self.sector_dir(s.number));
                let mut s = s;
                s.ticket_epoch = None;
                self.advance(s, Step::Sealing)
            }
            Err(e) => Err(e.to_string()),
        }
    }

    async fn wait_seed(&self, s: SectorRow, head: Epoch) -> Result<(), String> {
        let info = self
            .chain
            .sector(self.miner(), s.number)
            .await
            .map_err(|e| e.to_string())?;
        match info.status {
            SectorStatus::Precommitted if head >= info.seed_epoch => self.advance(s, Step::Proving),
            SectorStatus::Precommitted => Ok(()),
            SectorStatus::PrecommitExpired => self.advance(s, Step::Removed),
            other => Err(format!(
                "sector is {other:?} on chain while waiting for the seed"
            )),
        }
    }

    async fn proof_job(&self, mut s: SectorRow) -> Result<(), String> {
        let info = self
            .chain
            .sector(self.miner(), s.number)
            .await
            .map_err(|e| e.to_string())?;
        let seed = self
            .chain
            .randomness(RandomnessTag::SealSeed, info.seed_epoch, self.miner())
            .await
            .map_err(|e| e.to_string())?;
        let dir = self.sector_dir(s.number);
        let params = self.params.clone();
        let (gate, plan, nice) = (
            self.gate.clone(),
            self.plan.clone(),
            self.config.sealing_nice,
        );
        let prover = self.seal_prover.clone();
        let started = Instant::now();
        let file = tokio::task::spawn_blocking(move || {
            prover.prove(&SealProofRun {
                dir: &dir,
                seed,
                params: &params,
                gate: &gate,
                plan: &plan,
                nice,
            })
        })
        .await
        .map_err(|e| format!("proof job: {e}"))??;
        let head = self.chain.head().await.map_or(0, |h| h.epoch);
        self.measured(Timed::SealProof, started.elapsed().as_millis() as u64, head);
        s.proofs = Some(file.proofs);
        self.advance(s, Step::ProveCommit)
    }

    async fn prove_commit(&self, s: SectorRow) -> Result<(), String> {
        let info = self
            .chain
            .sector(self.miner(), s.number)
            .await
            .map_err(|e| e.to_string())?;
        if info.status != SectorStatus::Precommitted {
            return self.advance(s, Step::WaitActive);
        }
        let proofs = s.proofs.clone().ok_or("no seal proof recorded")?;
        match self
            .send(Method::ProveCommit {
                miner: self.miner(),
                sector_number: s.number,
                proofs,
            })
            .await
        {
            Ok(_) => self.advance(s, Step::WaitActive),
            Err(e) if e.kind == ErrorKind::InvalidProof => {
                // Prove again (a corrupt replica then shows up in the vanilla self-check).
                let _ = self
                    .db
                    .log(0, "reprove", &format!("sector {}: {e}", s.number));
                let mut s = s;
                s.proofs = None;
                s.attempts += 1;
                if s.attempts >= MAX_ATTEMPTS {
                    s.step = Step::Failed;
                    s.error = Some(format!("prove_commit: {e}"));
                    return self.db.update_sector(&s).map_err(|e| e.to_string());
                }
                s.step = Step::Proving;
                self.db.update_sector(&s).map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        }
    }

    async fn follow_chain(&self, s: SectorRow) -> Result<(), String> {
        let info = self
            .chain
            .sector(self.miner(), s.number)
            .await
            .map_err(|e| e.to_string())?;
        match (s.step, info.status) {
            (Step::WaitActive, SectorStatus::Active) => self.advance(s, Step::Active),
            (
                _,
                SectorStatus::Terminated | SectorStatus::Expired | SectorStatus::PrecommitExpired,
            ) => self.advance(s, Step::Removed),
            _ => Ok(()),
        }
    }
}
