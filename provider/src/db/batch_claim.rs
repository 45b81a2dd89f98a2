//! Claiming seal tasks as a batch (DESIGN §10): sectors of one proof type sealed together cost
//! far less CPU each ([`strata_sealer::seal_batch`]), so a machine claims up to
//! [`BatchPolicy::max`] pending seal tasks at once, in one transaction (`FOR UPDATE SKIP LOCKED`
//! on PostgreSQL, as single claims).
//!
//! Who waits for whom: a sector with deals never waits (its deals have a start epoch); it is
//! claimed at once, oldest first, with whatever else of its proof type is pending. Committed-
//! capacity pledges are what batches are made of: while only they are pending, fewer than `max`
//! of them, and the oldest has waited less than [`BatchPolicy::wait_ms`], nothing is claimed so
//! batch-mates can arrive. The ticket ages meanwhile, so `wait_ms` must stay well below the
//! pipeline's ticket renewal age (the config documents it).

use super::cluster::{kind, task_row, TASK_COLS};
use super::engine::{DbError, V};
use super::Db;
use crate::db::cluster::Task;

/// How seal tasks are grouped into batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchPolicy {
    /// The most sectors sealed together (1: no batching).
    pub max: usize,
    /// The longest a committed-capacity pledge waits for batch-mates (ms).
    pub wait_ms: i64,
}

/// Candidates looked at per claim.
const SCAN: i64 = 1024;

/// What batching needs of a seal task's input, parsed once: (committed capacity?, proof type).
fn shape(t: &Task) -> (bool, Option<u64>) {
    let v = serde_json::from_str::<serde_json::Value>(&t.input).ok();
    let cc = v
        .as_ref()
        .and_then(|v| v.get("pieces")?.as_array().map(|a| a.is_empty()))
        .unwrap_or(false);
    let pt = v.as_ref().and_then(|v| v.get("proof_type")?.as_u64());
    (cc, pt)
}

impl Db {
    /// Claims up to `policy.max` pending seal tasks of one proof type for `machine` (the same
    /// affinity rules as [`Db::claim_task`]): sectors with deals first, oldest first, then
    /// committed capacity. Empty when nothing is pending, or while only committed capacity
    /// waits, fewer than `max` sectors, the oldest for less than `policy.wait_ms`.
    pub fn claim_seal_batch(
        &self,
        machine: i64,
        policy: BatchPolicy,
        dead_after_ms: i64,
    ) -> Result<Vec<Task>, DbError> {
        let max = policy.max.max(1);
        let now = self.engine.now_ms()?;
        self.engine.tx(move |t| {
            let lock = if t.is_postgres() {
                "FOR UPDATE SKIP LOCKED"
            } else {
                ""
            };
            let rows = t.query(
                &format!(
                    "SELECT {TASK_COLS} FROM tasks t WHERE state = 'pending' AND kind = $3 AND
                       (affinity IS NULL OR affinity = $1 OR NOT EXISTS
                         (SELECT 1 FROM machines m WHERE m.id = t.affinity AND m.heartbeat_at >= $2))
                     ORDER BY id LIMIT $4 {lock}"
                ),
                &[
                    V::i(machine),
                    V::i(now - dead_after_ms),
                    V::t(kind::SEAL),
                    V::i(SCAN),
                ],
            )?;
            let mut pending = rows
                .iter()
                .map(|r| task_row(r).map(|t| (shape(&t), t)))
                .collect::<Result<Vec<_>, _>>()?;
            // Deals first (stable: oldest first within each).
            pending.sort_by_key(|((cc, _), _)| *cc);
            let Some(&((_, pt), _)) = pending.first() else {
                return Ok(vec![]);
            };
            let batch: Vec<(bool, Task)> = pending
                .into_iter()
                .filter(|((_, p), _)| *p == pt)
                .take(max)
                .map(|((cc, _), t)| (cc, t))
                .collect();
            let oldest = batch.iter().map(|(_, t)| t.created_at).min().unwrap_or(now);
            let only_cc = batch.iter().all(|(cc, _)| *cc);
            if batch.len() < max && only_cc && now - oldest < policy.wait_ms {
                return Ok(vec![]);
            }
            let mut claimed = Vec::with_capacity(batch.len());
            for (_, task) in batch {
                // Only rows this transaction moved from pending are ours (never hand one out twice).
                let moved = t.exec(
                    "UPDATE tasks SET state = 'running', machine = $1, claimed_at = $2,
                        attempts = attempts + 1 WHERE id = $3 AND state = 'pending'",
                    &[V::i(machine), V::i(now), V::i(task.id)],
                )?;
                if moved == 0 {
                    continue;
                }
                let rows = t.query(
                    &format!("SELECT {TASK_COLS} FROM tasks WHERE id = $1"),
                    &[V::i(task.id)],
                )?;
                if let Some(r) = rows.first() {
                    claimed.push(task_row(r)?);
                }
            }
            Ok(claimed)
        })
    }
}
