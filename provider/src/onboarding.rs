//! Onboarding at scale (DESIGN §13): sectors that reach the pre-commit or prove-commit step
//! together go to the chain in one message — a `PreCommitSectorBatch` (one deposit check), a
//! `ProveCommitAggregate` (every seal proof folded into one SnarkPack proof, made here from
//! the proofs the seal-proof tasks returned and the public inputs the chain will derive).
//!
//! A lone sector goes alone, as before. Batching may wait (`[onboarding] max_wait_epochs`) for
//! more sectors, never past a sector's own deadline (ticket age for a pre-commit, the
//! prove-commit window), and a refused batch falls back to single messages so that one bad
//! sector is named and retried alone instead of holding back the others.

use crate::config::DEADLINE_MARGIN_EPOCHS;
use crate::db::{SectorRow, Step};
use crate::Provider;
use std::collections::HashSet;
use std::sync::Arc;
use strata_chain_client::types::{Epoch, Method, RandomnessTag};
use strata_chain_client::views::SectorStatus;
use strata_prover::aggregate_file::AggregateFile;
use strata_prover::proof_file::{ProofFile, PublicData, FORMAT, VERSION};
use strata_prover::vanilla::porep::SealPublicInputs;

/// When each sector was first seen ready at a step (in memory: after a restart a sector waits
/// at most `max_wait_epochs` again).
#[derive(Default)]
pub struct Waiting {
    since: std::collections::HashMap<(&'static str, u64), Epoch>,
}

impl Provider {
    /// Sends the batched messages for sectors ready at `PreCommit` and `ProveCommit`; returns
    /// the sectors it took care of (sent, or held back to wait for batch-mates), which the
    /// per-sector loop then skips.
    pub(crate) async fn onboarding_tick(
        self: &Arc<Self>,
        sectors: &[SectorRow],
        head: Epoch,
    ) -> HashSet<u64> {
        let mut handled = HashSet::new();
        if self.config.onboarding.batch_size < 2 {
            return handled;
        }
        handled.extend(self.precommit_batch(sectors, head).await);
        handled.extend(self.prove_commit_aggregate(sectors, head).await);
        handled
    }

    /// The sectors at `step` ready now, and whether to send them now (false: wait for more).
    fn ready_batch(
        &self,
        sectors: &[SectorRow],
        step: Step,
        head: Epoch,
        urgent: impl Fn(&SectorRow) -> bool,
    ) -> (Vec<SectorRow>, bool) {
        let ready: Vec<SectorRow> = sectors
            .iter()
            .filter(|s| s.step == step && s.retry_at <= head)
            .cloned()
            .collect();
        let mut w = self.waiting.lock().expect("waiting");
        w.since
            .retain(|(st, n), _| *st != step.as_str() || ready.iter().any(|s| s.number == *n));
        let oldest = ready
            .iter()
            .map(|s| *w.since.entry((step.as_str(), s.number)).or_insert(head))
            .min()
            .unwrap_or(head);
        let cfg = &self.config.onboarding;
        let go = ready.len() >= cfg.batch_size
            || head - oldest >= cfg.max_wait_epochs
            || ready.iter().any(urgent);
        (ready, go)
    }

    async fn precommit_batch(self: &Arc<Self>, sectors: &[SectorRow], head: Epoch) -> Vec<u64> {
        let c = &self.constants;
        let (ready, go) = self.ready_batch(sectors, Step::PreCommit, head, |s| {
            s.ticket_epoch
                .is_some_and(|t| t + c.max_ticket_age - DEADLINE_MARGIN_EPOCHS <= head)
        });
        if !go {
            // Held for batch-mates (a lone sector too): the per-sector loop leaves them.
            return ready.iter().map(|s| s.number).collect();
        }
        if ready.len() < 2 {
            return vec![];
        }
        let mut entries = Vec::new();
        let mut rows = Vec::new();
        for s in ready {
            // Already on chain (a batch sent before a crash): the single path advances it.
            if self.chain.sector(self.miner(), s.number).await.is_ok() {
                continue;
            }
            if let Ok(e) = self.precommit_entry(&s, head) {
                entries.push(e);
                rows.push(s);
            }
        }
        let size = self
            .config
            .onboarding
            .batch_size
            .min(c.max_precommit_batch as usize)
            .max(2);
        let mut sent = Vec::new();
        for (entries, rows) in entries.chunks(size).zip(rows.chunks(size)) {
            if entries.len() < 2 {
                continue;
            }
            let numbers: Vec<u64> = rows.iter().map(|s| s.number).collect();
            let key = format!(
                "precommitbatch:{}",
                &blake3::hash(format!("{entries:?}").as_bytes()).to_hex()[..16]
            );
            let call = Method::PreCommitSectorBatch {
                miner: self.miner(),
                sectors: entries.to_vec(),
            };
            match self.send_once(&key, call).await {
                Ok(id) => {
                    let _ = self.db.log(
                        head,
                        "precommit_batch",
                        &format!("sectors {numbers:?} in one message {id}"),
                    );
                    for s in rows {
                        if self.advance(s.clone(), Step::WaitSeed).is_ok() {
                            sent.push(s.number);
                        }
                    }
                }
                Err(e) => {
                    let _ = self.db.log(
                        head,
                        "precommit_batch_refused",
                        &format!("sectors {numbers:?}: {e}; sending them one by one"),
                    );
                }
            }
        }
        sent
    }

    /// The seal proof file of a sector ready to prove-commit, with the public inputs the chain
    /// will derive (its ticket, seed and commitments as the chain has them).
    async fn seal_proof_file(&self, s: &SectorRow, vk_digest: &str) -> Result<ProofFile, String> {
        let info = self
            .chain
            .sector(self.miner(), s.number)
            .await
            .map_err(|e| e.to_string())?;
        if info.status != SectorStatus::Precommitted {
            return Err(format!("sector {} is {:?} on chain", s.number, info.status));
        }
        let seed = self
            .chain
            .randomness(RandomnessTag::SealSeed, info.seed_epoch, self.miner())
            .await
            .map_err(|e| e.to_string())?;
        Ok(ProofFile {
            format: FORMAT.into(),
            version: VERSION,
            proof_type: self.proof_type.id,
            vk_digest: vk_digest.into(),
            public: PublicData::Porep {
                inputs: SealPublicInputs {
                    proof_type: self.proof_type.id,
                    prover_id: self.miner(),
                    sector_number: s.number,
                    ticket: info.ticket,
                    seed,
                    comm_d: info.comm_d,
                    comm_r: info.comm_r,
                },
            },
            proofs: s.proofs.clone().ok_or("no seal proof recorded")?,
        })
    }

    async fn prove_commit_aggregate(
        self: &Arc<Self>,
        sectors: &[SectorRow],
        head: Epoch,
    ) -> Vec<u64> {
        let c = &self.constants;
        let mut seed_epochs = std::collections::HashMap::new();
        for s in sectors.iter().filter(|s| s.step == Step::ProveCommit) {
            if let Ok(i) = self.chain.sector(self.miner(), s.number).await {
                seed_epochs.insert(s.number, i.seed_epoch);
            }
        }
        let (mut ready, go) = self.ready_batch(sectors, Step::ProveCommit, head, |s| {
            seed_epochs
                .get(&s.number)
                .is_some_and(|e| e + c.max_prove_commit - DEADLINE_MARGIN_EPOCHS <= head)
        });
        if !go {
            // Held for batch-mates (a lone sector too): the per-sector loop leaves them.
            return ready.iter().map(|s| s.number).collect();
        }
        if ready.len() < 2 {
            return vec![];
        }
        ready.sort_by_key(|s| s.number);
        let Some(vk_digest) = self.porep_vk_digest() else {
            return vec![];
        };
        let mut files = Vec::new();
        let mut rows = Vec::new();
        for s in ready {
            if let Ok(f) = self.seal_proof_file(&s, &vk_digest).await {
                files.push(f);
                rows.push(s);
            }
        }
        let size = self
            .config
            .onboarding
            .batch_size
            .min(c.max_aggregate_sectors as usize)
            .max(2);
        let mut sent = Vec::new();
        for (files, rows) in files.chunks(size).zip(rows.chunks(size)) {
            if files.len() < 2 {
                continue;
            }
            let numbers: Vec<u64> = rows.iter().map(|s| s.number).collect();
            let (store, batch) = (self.params.clone(), files.to_vec());
            let started = std::time::Instant::now();
            // On the sealing pool (low priority, off the cores reserved for PoSt): aggregating
            // hundreds of proofs takes seconds of every core it is given.
            let pool = self.runner.sealing.clone();
            let agg = tokio::task::spawn_blocking(move || {
                pool.install(|| AggregateFile::aggregate(&batch, &store))
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
            let agg = match agg {
                Ok(a) => a,
                Err(e) => {
                    let _ = self.db.log(
                        head,
                        "provecommit_aggregate_refused",
                        &format!(
                            "sectors {numbers:?}: aggregating failed: {e}; proving them one by one"
                        ),
                    );
                    continue;
                }
            };
            let key = format!(
                "provecommitagg:{}",
                &blake3::hash(agg.aggregate.as_bytes()).to_hex()[..16]
            );
            let call = Method::ProveCommitAggregate {
                miner: self.miner(),
                sector_numbers: numbers.clone(),
                aggregate: agg.aggregate.clone(),
            };
            match self.send_once(&key, call).await {
                Ok(id) => {
                    let _ = self.db.log(
                        head,
                        "provecommit_aggregate",
                        &format!(
                            "sectors {numbers:?}: one {}-byte SnarkPack proof (aggregated in {} ms), message {id}",
                            agg.aggregate.len() / 2,
                            started.elapsed().as_millis()
                        ),
                    );
                    for s in rows {
                        if self.advance(s.clone(), Step::WaitActive).is_ok() {
                            sent.push(s.number);
                        }
                    }
                }
                Err(e) => {
                    let _ = self.db.log(
                        head,
                        "provecommit_aggregate_refused",
                        &format!("sectors {numbers:?}: {e}; sending them one by one"),
                    );
                }
            }
        }
        sent
    }

    /// The digest of this machine's PoRep verifying key for the provider's sector size.
    fn porep_vk_digest(&self) -> Option<String> {
        self.params
            .manifest()
            .ok()?
            .entries
            .into_iter()
            .rev()
            .find(|e| {
                e.kind == strata_params::groth16_files::ProofKind::Porep
                    && e.sector_size == self.proof_type.sector_size.bytes()
            })
            .map(|e| e.vk_digest)
    }
}
