//! The sealing pipeline: deals are packed into sectors, and each sector walks
//! sealing → precommit → wait_seed → proving → prove_commit → wait_active → active, one durable
//! step at a time (see the crate's design notes).

use crate::db::cluster::{kind, state};
use crate::db::{SectorRow, Step};
use crate::metrics::{Metrics, Timed};
use crate::tasks::{expected_comm_d, ProofInput, ProofOutput, SealInput, SealOutput, TaskPiece};
use crate::{Provider, MAX_ATTEMPTS};
use std::sync::Arc;
use strata_chain_client::types::{Epoch, Method, PreCommitEntry, RandomnessTag};
use strata_chain_client::views::SectorStatus;
use strata_chain_client::ErrorKind;
use strata_primitives::serde_hex::parse_node;

impl Provider {
    /// One round: pack new deals, then advance every sector whose retry time has come.
    pub async fn pipeline_tick(self: &Arc<Self>) {
        self.cluster_tick();
        if !self.lead() {
            // A standby advances nothing, but works tasks like any machine.
            self.run_local_tasks();
            return;
        }
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
        let batched = self.onboarding_tick(&sectors, head).await;
        for s in sectors {
            if s.retry_at > head
                || matches!(s.step, Step::Removed | Step::Failed)
                || batched.contains(&s.number)
            {
                continue;
            }
            let r = match s.step {
                Step::Sealing => self.sealing(s.clone(), head).await,
                Step::Proving => self.proving(s.clone(), head).await,
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
        self.run_local_tasks();
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

    pub(crate) fn advance(&self, mut s: SectorRow, step: Step) -> Result<(), String> {
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

    /// The sealing step: asks for a seal task (any machine that takes seal tasks runs it —
    /// this daemon too, see [`Provider::run_local_tasks`]) and advances once its result is in.
    async fn sealing(&self, mut s: SectorRow, head: Epoch) -> Result<(), String> {
        // A fresh ticket unless the recorded one can still be pre-committed with: the seal may
        // wait in the task queue behind other machines' work, so the ticket is kept until only
        // a margin of its age is left, and the task of a ticket given up is withdrawn if no
        // machine has started it (a running one finishes and is ignored).
        let max_age = self.constants.max_ticket_age;
        let margin = (max_age / 8).max(4);
        let young = s.ticket_epoch.is_some_and(|t| head - t < max_age - margin);
        if !young {
            if let Some(old) = s.ticket_epoch {
                let stale = format!("t{old}a{}", s.attempts);
                if let Ok(Some(t)) = self.db.task(kind::SEAL, s.number, &stale) {
                    let _ = self.db.withdraw_task(t.id);
                }
            }
            s.ticket_epoch = Some(head);
            self.db.update_sector(&s).map_err(|e| e.to_string())?;
        }
        let te = s.ticket_epoch.expect("set");
        let key = format!("t{te}a{}", s.attempts);
        let task = match self
            .db
            .task(kind::SEAL, s.number, &key)
            .map_err(|e| e.to_string())?
        {
            Some(t) => t,
            None => {
                let ticket = self
                    .chain
                    .randomness(RandomnessTag::Ticket, te, self.miner())
                    .await
                    .map_err(|e| e.to_string())?;
                let input = SealInput {
                    proof_type: self.proof_type.id,
                    miner: self.miner(),
                    ticket_epoch: te,
                    ticket,
                    pieces: self.task_pieces(&s)?,
                };
                let input = serde_json::to_string(&input).expect("serialises");
                self.db
                    .ensure_task(kind::SEAL, s.number, &key, &input, None)
                    .map_err(|e| e.to_string())?
            }
        };
        match task.state.as_str() {
            state::DONE => {
                let out: SealOutput = serde_json::from_str(task.result.as_deref().unwrap_or(""))
                    .map_err(|e| format!("seal task {}: unreadable result: {e}", task.id))?;
                let input: SealInput = serde_json::from_str(&task.input)
                    .map_err(|e| format!("seal task {}: unreadable input: {e}", task.id))?;
                // Checked again here: the machine that sealed is not trusted to have checked.
                let expect = expected_comm_d(&self.proof_type, &input.pieces)?;
                if expect != out.comm_d {
                    return Err("the sealed data's CommD differs from the deals' pieces".into());
                }
                self.measured(Timed::Seal, out.ms, head);
                s.comm_r = Some(hex::encode(out.comm_r));
                s.comm_d = Some(hex::encode(out.comm_d));
                self.advance(s, Step::PreCommit)
            }
            state::FAILED => Err(task.error.unwrap_or_else(|| "seal task failed".into())),
            _ => Ok(()),
        }
    }

    /// The deals of sector `s` as a seal task's pieces, in layout order.
    fn task_pieces(&self, s: &SectorRow) -> Result<Vec<TaskPiece>, String> {
        s.deals
            .iter()
            .map(|d| {
                let deal = self
                    .db
                    .deal(*d)
                    .map_err(|e| e.to_string())?
                    .ok_or(format!("deal {d} missing"))?;
                Ok(TaskPiece {
                    deal: deal.id,
                    raw_len: deal.raw_len,
                    padded_size: deal.proposal.proposal.piece_size,
                    comm_p: deal.proposal.proposal.piece_cid,
                })
            })
            .collect()
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
        let entry = self.precommit_entry(&s, head)?;
        let ticket_epoch = entry.ticket_epoch;
        let call = Method::PreCommit {
            miner: self.miner(),
            sector_number: entry.sector_number,
            comm_r: entry.comm_r,
            comm_d: entry.comm_d,
            ticket_epoch,
            expiration: entry.expiration,
            deals: entry.deals,
        };
        let key = format!("precommit:{}:{ticket_epoch}", s.number);
        match self.send_once(&key, call).await {
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
                let mut s = s;
                s.ticket_epoch = None;
                self.advance(s, Step::Sealing)
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// What a sealed sector's pre-commit says: its commitments, ticket, deals and an expiration
    /// that outlives its deals (or the minimum lifetime).
    pub(crate) fn precommit_entry(
        &self,
        s: &SectorRow,
        head: Epoch,
    ) -> Result<PreCommitEntry, String> {
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
        let ticket_epoch = s.ticket_epoch.ok_or("no ticket epoch")?;
        Ok(PreCommitEntry {
            sector_number: s.number,
            comm_r: node(&s.comm_r)?,
            comm_d: node(&s.comm_d)?,
            ticket_epoch,
            expiration,
            deals: s.deals.clone(),
        })
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

    /// The proving step: asks for a seal-proof task on the machine that holds the sealed sector
    /// and advances once its result is in.
    async fn proving(&self, mut s: SectorRow, head: Epoch) -> Result<(), String> {
        let info = self
            .chain
            .sector(self.miner(), s.number)
            .await
            .map_err(|e| e.to_string())?;
        let key = format!("s{}a{}", info.seed_epoch, s.attempts);
        let task = match self
            .db
            .task(kind::SEAL_PROOF, s.number, &key)
            .map_err(|e| e.to_string())?
        {
            Some(t) => t,
            None => {
                let seed = self
                    .chain
                    .randomness(RandomnessTag::SealSeed, info.seed_epoch, self.miner())
                    .await
                    .map_err(|e| e.to_string())?;
                let (machine, path) = self.sector_home(s.number)?;
                let input = ProofInput {
                    seed,
                    comm_r: parse_node(s.comm_r.as_deref().unwrap_or_default())?,
                    path,
                };
                let input = serde_json::to_string(&input).expect("serialises");
                self.db
                    .ensure_task(kind::SEAL_PROOF, s.number, &key, &input, Some(machine))
                    .map_err(|e| e.to_string())?
            }
        };
        match task.state.as_str() {
            state::DONE => {
                let out: ProofOutput =
                    serde_json::from_str(task.result.as_deref().unwrap_or(""))
                        .map_err(|e| format!("proof task {}: unreadable result: {e}", task.id))?;
                self.measured(Timed::SealProof, out.ms, head);
                s.proofs = Some(out.proofs);
                self.advance(s, Step::ProveCommit)
            }
            state::FAILED => Err(task
                .error
                .unwrap_or_else(|| "seal proof task failed".into())),
            _ => Ok(()),
        }
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
        let key = format!(
            "provecommit:{}:{}",
            s.number,
            &blake3::hash(proofs.concat().as_bytes()).to_hex()[..16]
        );
        match self
            .send_once(
                &key,
                Method::ProveCommit {
                    miner: self.miner(),
                    sector_number: s.number,
                    proofs,
                },
            )
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
