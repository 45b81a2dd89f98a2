//! The proving scheduler: for every deadline with sectors, prove each partition once its window
//! opens (healthy sectors proven, broken ones reported as skipped); ahead of each deadline's
//! fault cutoff, declare faulty the sectors whose files are broken and recovered the faulty ones
//! whose files are back; answer WinningPoSt when drawn. Every decision is logged with its reason.

use crate::metrics::{Metrics, Timed};
use crate::storage::VanillaKind;
use crate::Provider;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;
use strata_chain_client::types::{Epoch, Method, RandomnessTag};
use strata_chain_client::views::{DeadlineInfo, SectorStatus};
use strata_primitives::node::Node;
use strata_prover::vanilla::post::PostSector;

/// What the scheduler remembers between ticks (rebuilt from the chain after a restart).
#[derive(Default)]
pub struct SchedState {
    pub(crate) windows: HashMap<u64, Window>,
    /// Proofs computed at the challenge epoch, waiting for their window to open.
    pub(crate) ready: HashMap<(u64, Epoch, u64), crate::window_post::PartitionProof>,
    winning_tried: HashSet<Epoch>,
    last_winning: Option<Epoch>,
    declared: HashSet<(u64, Epoch)>,
    /// Permanent pieces a repair was last tried for, and when.
    pub(crate) repair_tried: HashMap<u64, Epoch>,
}

impl SchedState {
    /// Partitions with sectors in the fullest deadline seen.
    pub fn max_partitions(&self) -> usize {
        self.windows.values().map(|w| w.needed).max().unwrap_or(0)
    }
}

/// One deadline's current window: when it opened, how many partitions need a post, and which
/// have been posted (or given up on) by this daemon.
#[derive(Default)]
pub(crate) struct Window {
    pub(crate) open: Epoch,
    pub(crate) needed: usize,
    pub(crate) submitted: HashSet<u64>,
}

impl Provider {
    /// One round of proving work.
    pub async fn scheduler_tick(self: &Arc<Self>) {
        if !self.lead() {
            return;
        }
        let (head, deadlines) = match (
            self.chain.head().await,
            self.chain.deadlines(self.miner()).await,
        ) {
            (Ok(h), Ok(d)) => (h, d),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(%e, "chain unreachable; scheduler waits");
                return;
            }
        };
        let now = head.epoch + 1;
        {
            // Forget what can no longer matter, so a long-running daemon's memory stays flat.
            let mut st = self.sched.lock().expect("sched");
            let horizon = head.epoch - 2 * self.constants.proving_period;
            st.winning_tried.retain(|e| *e > horizon);
            st.declared.retain(|(_, open)| *open > horizon);
        }
        let mut window_soon = false;
        for d in &deadlines {
            self.track_window(d, head.epoch);
            let t = &d.timing;
            let live = d
                .partitions
                .iter()
                .any(|p| !p.sectors.is_empty() && !p.proven);
            // Prove as soon as the challenge is drawn; submit once the window is open.
            if live && head.epoch >= t.challenge && now < t.close {
                self.prove_deadline(d, head.epoch, now >= t.open).await;
            }
            if live && t.challenge - head.epoch <= 8 && now < t.close {
                window_soon = true;
            }
            if now < t.fault_cutoff && t.fault_cutoff - now <= 2 * self.constants.deadline_window {
                self.declare(d, head.epoch, &head.beacon.randomness()).await;
            }
        }
        // WinningPoSt on its own task, one at a time, newest win first, and not when a
        // WindowPoSt is due within a few epochs: it must never hold up a deadline (a lone devnet
        // miner wins every epoch; most wins are simply let go).
        if !window_soon
            && !self
                .winning_busy
                .swap(true, std::sync::atomic::Ordering::AcqRel)
        {
            let p = self.clone();
            let h = tokio::spawn(async move {
                p.winning(head.epoch).await;
                p.winning_busy
                    .store(false, std::sync::atomic::Ordering::Release);
            });
            self.handles.lock().expect("handles").push(h);
        }
    }

    fn track_window(&self, d: &DeadlineInfo, head: Epoch) {
        let needed = d
            .partitions
            .iter()
            .filter(|p| !p.sectors.is_empty())
            .count();
        let mut st = self.sched.lock().expect("sched");
        let w = st.windows.entry(d.timing.index).or_default();
        if w.open != d.timing.open {
            if w.open != 0 && w.open <= head && w.submitted.len() < w.needed {
                Metrics::inc(&self.metrics.posts_missed);
                let msg = format!(
                    "deadline {} window {}..{} closed with {} of {} partitions proven",
                    d.timing.index,
                    w.open,
                    w.open + self.constants.deadline_window,
                    w.submitted.len(),
                    w.needed
                );
                tracing::warn!("{msg}");
                let _ = self
                    .db
                    .log_deadline(head, "post_missed", d.timing.index, None, &msg);
            }
            *w = Window {
                open: d.timing.open,
                needed,
                submitted: HashSet::new(),
            };
        } else {
            w.needed = needed;
        }
    }

    async fn declare(&self, d: &DeadlineInfo, head: Epoch, beacon: &Node) {
        let key = (d.timing.index, d.timing.open);
        if self.sched.lock().expect("sched").declared.contains(&key) {
            return;
        }
        let comm_rs = match self.chain_comm_rs().await {
            Ok(c) => c,
            Err(e) => return tracing::warn!(%e, "fault check waits for the chain"),
        };
        let mut faults = Vec::new();
        let mut recoveries = Vec::new();
        for p in &d.partitions {
            for n in &p.sectors {
                // A sector whose location cannot be read now (a database outage) is neither
                // declared faulty nor recovered: that is decided with facts, next time.
                if self.sector_at(*n, None).is_err() {
                    continue;
                }
                let healthy = match comm_rs.get(n) {
                    Some(c) => {
                        let s = PostSector {
                            sector_number: *n,
                            comm_r: *c,
                        };
                        self.sector_health(s, beacon).await
                    }
                    None => Err("the chain does not list the sector".to_string()),
                };
                let faulty = p.faulty.contains(n);
                let recovering = p.recovering.contains(n);
                match (&healthy, faulty, recovering) {
                    (Err(why), false, _) => faults.push((*n, why.clone())),
                    (Ok(()), true, false) => recoveries.push(*n),
                    _ => {}
                }
            }
        }
        if !faults.is_empty() {
            let numbers: Vec<u64> = faults.iter().map(|f| f.0).collect();
            match self
                .send(Method::DeclareFaults {
                    miner: self.miner(),
                    sectors: numbers.clone(),
                })
                .await
            {
                Ok(_) => {
                    for (n, why) in &faults {
                        Metrics::inc(&self.metrics.faults_declared);
                        let _ = self.db.log(
                            head,
                            "fault_declared",
                            &format!(
                                "sector {n} before deadline {}'s cutoff: {why}",
                                d.timing.index
                            ),
                        );
                    }
                }
                Err(e) => {
                    let _ = self.db.log(
                        head,
                        "fault_declaration_refused",
                        &format!("sectors {numbers:?}: {e}"),
                    );
                }
            }
        }
        if !recoveries.is_empty() {
            match self
                .send(Method::DeclareRecoveries {
                    miner: self.miner(),
                    sectors: recoveries.clone(),
                })
                .await
            {
                Ok(_) => {
                    for n in &recoveries {
                        Metrics::inc(&self.metrics.recoveries_declared);
                        let _ = self.db.log(
                            head,
                            "recovery_declared",
                            &format!("sector {n}: files healthy again"),
                        );
                    }
                }
                Err(e) => {
                    let _ = self.db.log(
                        head,
                        "recovery_refused",
                        &format!("sectors {recoveries:?}: {e}"),
                    );
                }
            }
        }
        self.sched.lock().expect("sched").declared.insert(key);
    }

    async fn winning(&self, head: Epoch) {
        let Ok(tickets) = self.chain.winning(self.miner()).await else {
            return;
        };
        let newest = tickets
            .into_iter()
            .filter(|t| !t.claimed && t.deadline > head)
            .max_by_key(|t| t.epoch);
        if let Some(t) = newest {
            {
                let mut st = self.sched.lock().expect("sched");
                if st
                    .last_winning
                    .is_some_and(|l| head - l < self.config.winning_min_interval)
                    || !st.winning_tried.insert(t.epoch)
                {
                    return;
                }
                st.last_winning = Some(head);
            }
            // The ticket's randomness must be the verified beacon's draw, never the node's word.
            match self
                .chain
                .randomness(RandomnessTag::WinningPost, t.epoch, self.miner())
                .await
            {
                Ok(r) if r == t.randomness => {}
                Ok(_) => {
                    return tracing::error!(
                        epoch = t.epoch,
                        "WinningPoSt ticket randomness is not the beacon's draw: not proving"
                    )
                }
                Err(e) => return tracing::warn!(%e, "WinningPoSt randomness not verified"),
            }
            let started = Instant::now();
            let post = self.gate.post_begin();
            let r = self.prove_winning(&t.sectors, &t.randomness).await;
            drop(post);
            match r {
                Ok(f) => {
                    self.measured(
                        Timed::WinningPost,
                        started.elapsed().as_millis() as u64,
                        head,
                    );
                    let recall = match &t.recall {
                        Some(target) => self.recall_for(target, head).await,
                        None => None,
                    };
                    let submit = |recall| Method::SubmitWinningPost {
                        miner: self.miner(),
                        epoch: t.epoch,
                        proof: f.proofs[0].clone(),
                        recall,
                    };
                    let had_recall = recall.is_some();
                    let mut sent = self.send(submit(recall)).await;
                    if had_recall
                        && matches!(&sent, Err(e) if e.message.starts_with("recall proof"))
                    {
                        // The recall share is lost; the rest of the reward is not.
                        let _ = self.db.log(
                            head,
                            "recall_refused",
                            &format!("epoch {}: {}", t.epoch, sent.as_ref().unwrap_err()),
                        );
                        sent = self.send(submit(None)).await;
                    }
                    match sent {
                        Ok(_) => {
                            Metrics::inc(&self.metrics.winning_submitted);
                            let _ = self.db.log(
                                head,
                                "winning_post",
                                &format!(
                                    "epoch {}: reward {}{}",
                                    t.epoch,
                                    t.reward,
                                    if had_recall {
                                        " with a recall proof"
                                    } else {
                                        ""
                                    }
                                ),
                            );
                        }
                        Err(e) => {
                            let _ = self.db.log(
                                head,
                                "winning_post_refused",
                                &format!("epoch {}: {e}", t.epoch),
                            );
                        }
                    }
                }
                Err(e) => {
                    let _ = self.db.log(
                        head,
                        "winning_post_failed",
                        &format!("epoch {}: {e}", t.epoch),
                    );
                }
            }
        }
    }
}

impl Provider {
    /// WinningPoSt over the proving set `numbers` for `randomness`: the drawn sector's vanilla
    /// proof from wherever it lives, checked against the chain's CommR, then the SNARK here.
    async fn prove_winning(
        &self,
        numbers: &[u64],
        randomness: &Node,
    ) -> Result<strata_prover::proof_file::ProofFile, String> {
        let comm_rs = self.chain_comm_rs().await?;
        let set = Self::post_sectors(numbers, &comm_rs);
        if set.len() != numbers.len() {
            return Err("the chain does not list every sector of the proving set".into());
        }
        let drawn = strata_prover::remote::winning_sector(self.miner(), randomness, &set)
            .ok_or("the proving set is empty")?;
        let vanilla = self
            .post_vanilla(&[drawn], randomness, VanillaKind::Winning)
            .await
            .pop()
            .ok_or("no vanilla proof")?;
        let params = self.warm.clone();
        let pt = self.proof_type;
        let miner = self.miner();
        let r = *randomness;
        tokio::task::spawn_blocking(move || {
            strata_prover::remote::prove_winning_from_vanilla(
                &pt, miner, &r, &set, vanilla, &params,
            )
            .map_err(|e| e.to_string())
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string()))
    }

    /// The recall proof of a win's target, if this miner holds the recalled piece.
    async fn recall_for(
        &self,
        target: &strata_chain_client::permanent::RecallTarget,
        head: Epoch,
    ) -> Option<strata_chain_client::permanent::RecallProof> {
        let piece = self.chain.permanent_piece(target.piece).await.ok()?;
        let (deal, _) = piece.holders().find(|h| h.1 == self.miner())?;
        let r = self.recall_proof(target, deal).await;
        match r {
            Ok(proof) => Some(proof),
            Err(why) => {
                let _ = self.db.log(
                    head,
                    "recall_failed",
                    &format!("piece {} chunk {}: {why}", target.piece, target.chunk),
                );
                None
            }
        }
    }
}

/// Sectors the chain has as faulty (for display).
pub fn is_faulty(s: SectorStatus) -> bool {
    matches!(s, SectorStatus::Faulty | SectorStatus::Recovering)
}
