//! WindowPoSt for one deadline: prove each live partition once the challenge is drawn (cached
//! until the window opens), then post them — up to `posted_partitions_max` partitions in one
//! `SubmitWindowPostBatch`, a lone partition as `SubmitWindowPost`. A batch the chain refuses is
//! retried partition by partition, so one bad partition never costs the others their window.

use crate::metrics::{Metrics, Timed};
use crate::storage::VanillaKind;
use crate::Provider;
use std::sync::Arc;
use std::time::Instant;
use strata_chain_client::types::{Epoch, Method, PartitionPost, RandomnessTag};
use strata_chain_client::views::{DeadlineInfo, DeadlineTiming, PartitionInfo};
use strata_primitives::node::Node;

/// A partition's WindowPoSt: the proof (none if every sector is skipped), the skipped sectors,
/// and how many were proven.
pub(crate) type PartitionProof = (Option<String>, Vec<u64>, usize);

/// A partition ready to post, and how many of its sectors it proves.
struct Ready {
    post: PartitionPost,
    proven: usize,
}

impl Provider {
    /// Proves the deadline's partitions that still need a post and, when `submit` (its window is
    /// open), posts them in batches of at most `posted_partitions_max`.
    pub(crate) async fn prove_deadline(
        self: &Arc<Self>,
        d: &DeadlineInfo,
        head: Epoch,
        submit: bool,
    ) {
        let t = &d.timing;
        let randomness = match self
            .chain
            .randomness(RandomnessTag::WindowPost, t.challenge, self.miner())
            .await
        {
            Ok(r) => r,
            Err(e) => return tracing::warn!(%e, "no WindowPoSt randomness yet"),
        };
        let pending: Vec<&PartitionInfo> = {
            let st = self.sched.lock().expect("sched");
            let done = st.windows.get(&t.index);
            d.partitions
                .iter()
                .filter(|p| {
                    !p.sectors.is_empty()
                        && !p.proven
                        && !done.is_some_and(|w| w.submitted.contains(&p.index))
                })
                .collect()
        };
        // Proving and posting go a batch at a time, so the first partitions are posted while
        // later ones are still being proven.
        let per_message = self.constants.posted_partitions_max.max(1) as usize;
        for chunk in pending.chunks(per_message) {
            let mut ready = Vec::new();
            for p in chunk {
                let key = (t.index, t.open, p.index);
                let cached = self.sched.lock().expect("sched").ready.get(&key).cloned();
                let (proof, skipped, proven) = match cached {
                    Some(c) => c,
                    None => {
                        let c = self.prove_partition(d, p, &randomness, head).await;
                        self.sched
                            .lock()
                            .expect("sched")
                            .ready
                            .insert(key, c.clone());
                        c
                    }
                };
                if !submit {
                    continue;
                }
                if proof.is_none() {
                    // The chain refuses a post that proves nothing ("declare faults instead"):
                    // the partition is left unproven, its sectors go faulty when the window closes.
                    let msg = format!(
                        "deadline {} partition {}: nothing to prove (skipped {skipped:?}); no post \
                         submitted, the sectors go faulty at the window's close",
                        t.index, p.index
                    );
                    tracing::warn!("{msg}");
                    let _ = self.db.log_deadline(
                        head,
                        "post_not_submitted",
                        t.index,
                        Some(p.index),
                        &msg,
                    );
                    self.mark_submitted(t.index, p.index);
                    continue;
                }
                ready.push(Ready {
                    post: PartitionPost {
                        partition: p.index,
                        skipped,
                        proof,
                    },
                    proven,
                });
            }
            if !submit {
                continue;
            }
            self.sched
                .lock()
                .expect("sched")
                .ready
                .retain(|k, _| k.1 >= t.open);
            if ready.len() > 1 && self.post_batch(t, head, &ready).await {
                continue;
            }
            for r in ready {
                self.post_single(t, head, r).await;
            }
        }
    }

    fn mark_submitted(&self, deadline: u64, partition: u64) {
        if let Some(w) = self.sched.lock().expect("sched").windows.get_mut(&deadline) {
            w.submitted.insert(partition);
        }
    }

    /// Posts several partitions in one `SubmitWindowPostBatch`. False if the chain refused it
    /// (the caller then posts them one by one).
    async fn post_batch(&self, t: &DeadlineTiming, head: Epoch, ready: &[Ready]) -> bool {
        let indices: Vec<u64> = ready.iter().map(|r| r.post.partition).collect();
        let call = Method::SubmitWindowPostBatch {
            miner: self.miner(),
            deadline: t.index,
            partitions: ready.iter().map(|r| r.post.clone()).collect(),
        };
        let list: Vec<String> = indices.iter().map(u64::to_string).collect();
        let msg_key = format!("post:{}:{}:{}", t.index, t.open, list.join("+"));
        match self.send_once(&msg_key, call).await {
            Ok(id) => {
                for r in ready {
                    Metrics::inc(&self.metrics.posts_submitted);
                    let msg = format!(
                        "deadline {} partition {}: {} sectors proven, skipped {:?} (batch of \
                         partitions {indices:?}, message {id})",
                        t.index, r.post.partition, r.proven, r.post.skipped
                    );
                    tracing::info!("{msg}");
                    let _ =
                        self.db
                            .log_deadline(head, "post", t.index, Some(r.post.partition), &msg);
                    self.mark_submitted(t.index, r.post.partition);
                }
                true
            }
            Err(e) => {
                tracing::warn!(%e, deadline = t.index, "WindowPoSt batch refused; posting partitions one by one");
                let _ = self.db.log_deadline(
                    head,
                    "post_refused",
                    t.index,
                    None,
                    &format!(
                        "deadline {} partitions {indices:?} as one batch: {e}; posting them one by one",
                        t.index
                    ),
                );
                false
            }
        }
    }

    /// Posts one partition with `SubmitWindowPost`.
    async fn post_single(&self, t: &DeadlineTiming, head: Epoch, r: Ready) {
        let Ready { post, proven } = r;
        let (partition, skipped) = (post.partition, post.skipped.clone());
        let call = Method::SubmitWindowPost {
            miner: self.miner(),
            deadline: t.index,
            partition,
            skipped: post.skipped,
            proof: post.proof,
        };
        let msg_key = format!("post:{}:{}:{}", t.index, t.open, partition);
        match self.send_once(&msg_key, call).await {
            Ok(id) => {
                Metrics::inc(&self.metrics.posts_submitted);
                let msg = format!(
                    "deadline {} partition {partition}: {proven} sectors proven, skipped \
                     {skipped:?} (message {id})",
                    t.index
                );
                tracing::info!("{msg}");
                let _ = self
                    .db
                    .log_deadline(head, "post", t.index, Some(partition), &msg);
                self.mark_submitted(t.index, partition);
            }
            Err(e) => {
                tracing::error!(%e, deadline = t.index, "WindowPoSt refused");
                let _ = self.db.log_deadline(
                    head,
                    "post_refused",
                    t.index,
                    Some(partition),
                    &format!("deadline {} partition {partition}: {e}", t.index),
                );
                self.sched
                    .lock()
                    .expect("sched")
                    .ready
                    .remove(&(t.index, t.open, partition));
            }
        }
    }

    /// Proves one partition: the proof (if any sector is healthy), the skipped sectors, and how
    /// many were proven.
    async fn prove_partition(
        &self,
        d: &DeadlineInfo,
        p: &PartitionInfo,
        randomness: &Node,
        head: Epoch,
    ) -> PartitionProof {
        let t = &d.timing;
        let randomness = *randomness;
        {
            let proving: Vec<u64> = p
                .sectors
                .iter()
                .copied()
                .filter(|n| !p.faulty.contains(n))
                .collect();
            let started = Instant::now();
            let r = if proving.is_empty() {
                Err("every sector in it is already faulty on chain".to_string())
            } else {
                match self.chain_comm_rs().await {
                    Err(e) => Err(format!("the chain's CommRs are unavailable: {e}")),
                    Ok(comm_rs) => {
                        // Sealing pauses and the seal-proof process stops until this proof is done.
                        let _post = self.gate.post_begin();
                        let expected = Self::post_sectors(&proving, &comm_rs);
                        let vanilla = self
                            .post_vanilla(&expected, &randomness, VanillaKind::Window)
                            .await;
                        let params = self.warm.clone();
                        let pt = self.proof_type;
                        tokio::task::spawn_blocking(move || {
                            strata_prover::remote::prove_window_from_vanilla(
                                &pt,
                                &randomness,
                                &expected,
                                vanilla,
                                &params,
                            )
                            .map_err(|e| e.to_string())
                        })
                        .await
                        .unwrap_or_else(|e| Err(e.to_string()))
                    }
                }
            };
            let (proof, skipped) = match r {
                Ok(f) => {
                    self.measured(
                        Timed::WindowPost,
                        started.elapsed().as_millis() as u64,
                        head,
                    );
                    if let strata_prover::proof_file::PublicData::Window { faulty, .. } = &f.public
                    {
                        for x in faulty {
                            let msg = format!(
                                "deadline {} sector {} skipped: {}",
                                t.index, x.sector_number, x.reason
                            );
                            let _ = self.db.log_deadline(
                                head,
                                "post_skipped",
                                t.index,
                                Some(p.index),
                                &msg,
                            );
                        }
                    }
                    (Some(f.proofs[0].clone()), f.faulty_sectors())
                }
                Err(e) => {
                    let _ = self.db.log_deadline(
                        head,
                        "post_skipped",
                        t.index,
                        Some(p.index),
                        &format!(
                            "deadline {} partition {}: nothing proven: {e}",
                            t.index, p.index
                        ),
                    );
                    (None, proving.clone())
                }
            };
            for _ in &skipped {
                Metrics::inc(&self.metrics.sectors_skipped);
            }
            let n = proving.len() - skipped.len();
            (proof, skipped, n)
        }
    }
}
