//! The cluster's tables (DESIGN §11): tasks any machine may claim, the machines and their
//! heartbeats, where each sector's files are, the chain messages sent (recorded before they
//! are sent), and the cluster's shared secret.
//!
//! A task is identified by `(kind, sector, task_key)`, so asking for the same work twice finds
//! the first row ([`Db::ensure_task`]). A claim takes the oldest pending task of the kinds asked
//! for — with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent claimers never wait on or
//! take the same row; in one `BEGIN IMMEDIATE` transaction on SQLite — and records the machine. A
//! result is accepted only from the machine that holds the claim: a task released from a dead
//! machine and claimed elsewhere ignores the late answer of the first.

use super::engine::{DbError, Row, RowExt, Sql, V};
use super::Db;
use serde::{Deserialize, Serialize};

/// Task kinds.
pub mod kind {
    /// PC1 + PC2: label, encode, build the trees of one sector.
    pub const SEAL: &str = "seal";
    /// C1 + C2: the seal proof, where the sealed sector is.
    pub const SEAL_PROOF: &str = "seal_proof";
    /// Every kind a machine can run.
    pub const ALL: &[&str] = &[SEAL, SEAL_PROOF];
}

/// A task's state.
pub mod state {
    /// Waiting for a machine.
    pub const PENDING: &str = "pending";
    /// Claimed by a machine.
    pub const RUNNING: &str = "running";
    /// Finished; `result` holds the output.
    pub const DONE: &str = "done";
    /// Finished with an error; `error` says why.
    pub const FAILED: &str = "failed";
}

/// A task row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Row id.
    pub id: i64,
    /// What to do ([`kind`]).
    pub kind: String,
    /// The sector it is for.
    pub sector: u64,
    /// What makes it unique besides kind and sector (e.g. the ticket epoch and attempt).
    pub key: String,
    /// Inputs (JSON).
    pub input: String,
    /// [`state`].
    pub state: String,
    /// The machine that claimed it last.
    pub machine: Option<i64>,
    /// Only this machine may claim it while that machine is alive (its data is there).
    pub affinity: Option<i64>,
    /// Output (JSON), when done.
    pub result: Option<String>,
    /// Why it failed, when failed.
    pub error: Option<String>,
    /// Claims so far (more than one: a machine died or gave it back).
    pub attempts: u32,
    /// When it was created, claimed and finished (ms, database clock).
    pub created_at: i64,
    /// Claimed at.
    pub claimed_at: Option<i64>,
    /// Finished at.
    pub done_at: Option<i64>,
}

pub(super) const TASK_COLS: &str =
    "id, kind, sector, task_key, input, state, machine, affinity, result, \
                         error, attempts, created_at, claimed_at, done_at";

pub(super) fn task_row(r: &Row) -> Result<Task, DbError> {
    Ok(Task {
        id: r.int(0)?,
        kind: r.text(1)?,
        sector: r.int(2)? as u64,
        key: r.text(3)?,
        input: r.text(4)?,
        state: r.text(5)?,
        machine: r.opt_int(6)?,
        affinity: r.opt_int(7)?,
        result: r.opt_text(8)?,
        error: r.opt_text(9)?,
        attempts: r.int(10)? as u32,
        created_at: r.int(11)?,
        claimed_at: r.opt_int(12)?,
        done_at: r.opt_int(13)?,
    })
}

/// A machine of the cluster as it registered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machine {
    /// Row id.
    pub id: i64,
    /// Its unique name (host name by default).
    pub name: String,
    /// Where it serves its storage (`http://host:port`).
    pub http: String,
    /// Cores it offers.
    pub cores: u64,
    /// Memory it offers, bytes.
    pub memory: u64,
    /// Task kinds it runs.
    pub kinds: Vec<String>,
    /// Its storage paths.
    pub storage: Vec<String>,
    /// When it (last) started and last heartbeat (ms, database clock).
    pub started_at: i64,
    /// Last heartbeat.
    pub heartbeat_at: i64,
}

impl Machine {
    /// Whether it heartbeated within `dead_after_ms` of `now_ms`.
    pub fn alive(&self, now_ms: i64, dead_after_ms: i64) -> bool {
        self.heartbeat_at >= now_ms - dead_after_ms
    }
}

/// What a machine registers.
#[derive(Clone, Debug)]
pub struct MachineSpec {
    /// Unique name.
    pub name: String,
    /// Storage URL.
    pub http: String,
    /// Cores.
    pub cores: u64,
    /// Memory, bytes.
    pub memory: u64,
    /// Task kinds.
    pub kinds: Vec<String>,
    /// Storage paths.
    pub storage: Vec<String>,
}

/// A chain message as recorded before and after sending.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRow {
    /// What it is for (`post:3:120:0`, `precommit:5:40`, …): one message per key.
    pub key: String,
    /// The method's name.
    pub method: String,
    /// `sending` (recorded, outcome unknown), `sent` (the chain took it), `failed` (refused).
    pub state: String,
    /// The chain's message id, once sent.
    pub msg_id: Option<String>,
    /// The chain's refusal, if refused.
    pub error: Option<String>,
    /// The machine that sent it.
    pub machine: String,
    /// When (ms, database clock).
    pub at: i64,
}

fn kinds_in(kinds: &[&str], first: usize) -> String {
    (0..kinds.len())
        .map(|i| format!("${}", first + i))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Db {
    /// The task `(kind, sector, key)`, created pending with `input` and `affinity` if it does not
    /// exist yet (an existing one is returned as it is).
    pub fn ensure_task(
        &self,
        kind: &str,
        sector: u64,
        key: &str,
        input: &str,
        affinity: Option<i64>,
    ) -> Result<Task, DbError> {
        let now = self.engine.now_ms()?;
        let (kind, key, input) = (kind.to_string(), key.to_string(), input.to_string());
        self.engine.tx(move |t| {
            t.exec(
                "INSERT INTO tasks (kind, sector, task_key, input, state, affinity, attempts,
                    created_at) VALUES ($1, $2, $3, $4, 'pending', $5, 0, $6)
                 ON CONFLICT (kind, sector, task_key) DO NOTHING",
                &[
                    V::t(&kind),
                    V::i(sector),
                    V::t(&key),
                    V::t(&input),
                    V::I(affinity),
                    V::i(now),
                ],
            )?;
            let rows = t.query(
                &format!(
                    "SELECT {TASK_COLS} FROM tasks WHERE kind = $1 AND sector = $2 AND task_key = $3"
                ),
                &[V::t(&kind), V::i(sector), V::t(&key)],
            )?;
            rows.first()
                .map(task_row)
                .transpose()?
                .ok_or_else(|| DbError::Corrupt("a task just inserted is missing".into()))
        })
    }

    /// The task `(kind, sector, key)`, if any.
    pub fn task(&self, kind: &str, sector: u64, key: &str) -> Result<Option<Task>, DbError> {
        self.engine
            .query(
                &format!(
                    "SELECT {TASK_COLS} FROM tasks WHERE kind = $1 AND sector = $2 AND task_key = $3"
                ),
                &[V::t(kind), V::i(sector), V::t(key)],
            )?
            .first()
            .map(task_row)
            .transpose()
    }

    /// Every task, newest first, at most `limit`.
    pub fn tasks(&self, limit: usize) -> Result<Vec<Task>, DbError> {
        self.engine
            .query(
                &format!("SELECT {TASK_COLS} FROM tasks ORDER BY id DESC LIMIT $1"),
                &[V::i(limit)],
            )?
            .iter()
            .map(task_row)
            .collect()
    }

    /// Tasks counted by (kind, state).
    pub fn task_counts(&self) -> Result<Vec<(String, String, u64)>, DbError> {
        self.engine
            .query(
                "SELECT kind, state, COUNT(*) FROM tasks GROUP BY kind, state ORDER BY kind, state",
                &[],
            )?
            .iter()
            .map(|r| Ok((r.text(0)?, r.text(1)?, r.int(2)? as u64)))
            .collect()
    }

    /// Claims a pending task of `kinds` for `machine`: one that has no affinity, or whose
    /// affinity is `machine`, or whose affinity machine has not heartbeated within
    /// `dead_after_ms` — seals first (their ticket ages while they wait; a seal proof has weeks),
    /// then the oldest. Never hands one task to two claimers.
    pub fn claim_task(
        &self,
        machine: i64,
        kinds: &[&str],
        dead_after_ms: i64,
    ) -> Result<Option<Task>, DbError> {
        if kinds.is_empty() {
            return Ok(None);
        }
        let now = self.engine.now_ms()?;
        let kinds: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
        self.engine.tx(move |t| {
            let lock = if t.is_postgres() {
                "FOR UPDATE SKIP LOCKED"
            } else {
                ""
            };
            let mut args = vec![V::i(machine), V::i(now - dead_after_ms)];
            args.extend(kinds.iter().map(V::t));
            let ks: Vec<&str> = kinds.iter().map(|s| s.as_str()).collect();
            let pick = t.query(
                &format!(
                    "SELECT id FROM tasks t WHERE state = 'pending' AND kind IN ({}) AND
                       (affinity IS NULL OR affinity = $1 OR NOT EXISTS
                         (SELECT 1 FROM machines m WHERE m.id = t.affinity AND m.heartbeat_at >= $2))
                     ORDER BY CASE WHEN kind = 'seal' THEN 0 ELSE 1 END, id LIMIT 1 {lock}",
                    kinds_in(&ks, 3)
                ),
                &args,
            )?;
            let Some(id) = pick.first().map(|r| r.int(0)).transpose()? else {
                return Ok(None);
            };
            t.exec(
                "UPDATE tasks SET state = 'running', machine = $1, claimed_at = $2,
                    attempts = attempts + 1 WHERE id = $3 AND state = 'pending'",
                &[V::i(machine), V::i(now), V::i(id)],
            )?;
            let rows = t.query(
                &format!("SELECT {TASK_COLS} FROM tasks WHERE id = $1"),
                &[V::i(id)],
            )?;
            rows.first().map(task_row).transpose()
        })
    }

    /// Records a task's outcome, if `machine` still holds its claim (true), and runs `also` in
    /// the same transaction (e.g. where the sector's files now are). A stale claim's answer is
    /// dropped (false): the task was released and someone else has it.
    pub fn finish_task(
        &self,
        id: i64,
        machine: i64,
        outcome: Result<String, String>,
        also: impl FnOnce(&mut dyn Sql) -> Result<(), DbError> + Send,
    ) -> Result<bool, DbError> {
        let now = self.engine.now_ms()?;
        self.engine.tx(move |t| {
            let (st, result, error) = match outcome {
                Ok(r) => (state::DONE, Some(r), None),
                Err(e) => (state::FAILED, None, Some(e)),
            };
            let n = t.exec(
                "UPDATE tasks SET state = $1, result = $2, error = $3, done_at = $4
                 WHERE id = $5 AND state = 'running' AND machine = $6",
                &[
                    V::t(st),
                    V::T(result),
                    V::T(error),
                    V::i(now),
                    V::i(id),
                    V::i(machine),
                ],
            )?;
            if n == 1 && st == state::DONE {
                also(t)?;
            }
            Ok(n == 1)
        })
    }

    /// Puts back to pending every running task whose machine has not heartbeated within
    /// `dead_after_ms` (or no longer exists); how many.
    pub fn release_dead(&self, dead_after_ms: i64) -> Result<u64, DbError> {
        let now = self.engine.now_ms()?;
        self.engine.exec(
            "UPDATE tasks SET state = 'pending', machine = NULL WHERE state = 'running' AND
               NOT EXISTS (SELECT 1 FROM machines m WHERE m.id = tasks.machine AND m.heartbeat_at >= $1)",
            &[V::i(now - dead_after_ms)],
        )
    }

    /// Puts back to pending the running tasks `machine` holds (it restarted, so it runs none).
    pub fn release_own(&self, machine: i64) -> Result<u64, DbError> {
        self.engine.exec(
            "UPDATE tasks SET state = 'pending', machine = NULL WHERE state = 'running' AND machine = $1",
            &[V::i(machine)],
        )
    }

    /// Deletes a finished task (so the same work can be asked for again, e.g. after a failure).
    pub fn delete_task(&self, id: i64) -> Result<(), DbError> {
        self.engine.exec(
            "DELETE FROM tasks WHERE id = $1 AND state IN ('done', 'failed')",
            &[V::i(id)],
        )?;
        Ok(())
    }

    /// Withdraws a task no machine has claimed yet; whether it was (a claimed one is left to
    /// finish).
    pub fn withdraw_task(&self, id: i64) -> Result<bool, DbError> {
        Ok(self.engine.exec(
            "DELETE FROM tasks WHERE id = $1 AND state = 'pending'",
            &[V::i(id)],
        )? > 0)
    }

    /// Registers (or re-registers, by name) a machine; its id.
    pub fn register_machine(&self, m: &MachineSpec) -> Result<i64, DbError> {
        let now = self.engine.now_ms()?;
        let m = m.clone();
        self.engine.tx(move |t| {
            let args = [
                V::t(&m.name),
                V::t(&m.http),
                V::i(m.cores),
                V::i(m.memory),
                V::t(m.kinds.join(",")),
                V::t(serde_json::to_string(&m.storage).expect("strings serialise")),
                V::i(now),
            ];
            t.exec(
                "INSERT INTO machines (name, http, cores, memory, kinds, storage, started_at,
                    heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
                 ON CONFLICT (name) DO UPDATE SET http = excluded.http, cores = excluded.cores,
                    memory = excluded.memory, kinds = excluded.kinds, storage = excluded.storage,
                    started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at",
                &args,
            )?;
            t.query_int("SELECT id FROM machines WHERE name = $1", &[V::t(&m.name)])?
                .ok_or_else(|| DbError::Corrupt("a machine just registered is missing".into()))
        })
    }

    /// Records that `machine` is alive now.
    pub fn heartbeat(&self, machine: i64) -> Result<(), DbError> {
        let now = self.engine.now_ms()?;
        let n = self.engine.exec(
            "UPDATE machines SET heartbeat_at = $1 WHERE id = $2",
            &[V::i(now), V::i(machine)],
        )?;
        if n == 0 {
            return Err(DbError::Corrupt(format!(
                "machine {machine} is not registered"
            )));
        }
        Ok(())
    }

    /// Every machine.
    pub fn machines(&self) -> Result<Vec<Machine>, DbError> {
        self.engine
            .query(
                "SELECT id, name, http, cores, memory, kinds, storage, started_at, heartbeat_at
                 FROM machines ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| {
                let kinds = r.text(5)?;
                Ok(Machine {
                    id: r.int(0)?,
                    name: r.text(1)?,
                    http: r.text(2)?,
                    cores: r.int(3)? as u64,
                    memory: r.int(4)? as u64,
                    kinds: kinds
                        .split(',')
                        .filter(|k| !k.is_empty())
                        .map(str::to_string)
                        .collect(),
                    storage: serde_json::from_str(&r.text(6)?)
                        .map_err(|e| DbError::Corrupt(format!("machine storage: {e}")))?,
                    started_at: r.int(7)?,
                    heartbeat_at: r.int(8)?,
                })
            })
            .collect()
    }

    /// One machine.
    pub fn machine(&self, id: i64) -> Result<Option<Machine>, DbError> {
        Ok(self.machines()?.into_iter().find(|m| m.id == id))
    }

    /// Where sector `n`'s files are: the machine and its path there.
    pub fn sector_location(&self, n: u64) -> Result<Option<(i64, String)>, DbError> {
        self.engine
            .query(
                "SELECT machine, path FROM sector_files WHERE sector = $1",
                &[V::i(n)],
            )?
            .first()
            .map(|r| Ok((r.int(0)?, r.text(1)?)))
            .transpose()
    }

    /// Every sector's location: (sector, machine, path).
    pub fn sector_locations(&self) -> Result<Vec<(u64, i64, String)>, DbError> {
        self.engine
            .query(
                "SELECT sector, machine, path FROM sector_files ORDER BY sector",
                &[],
            )?
            .iter()
            .map(|r| Ok((r.int(0)? as u64, r.int(1)?, r.text(2)?)))
            .collect()
    }

    /// The cluster's shared secret (machines present it to each other's storage endpoints),
    /// created at random the first time it is asked for.
    pub fn cluster_secret(&self) -> Result<String, DbError> {
        let fresh = {
            let mut b = [0u8; 32];
            getrandom::fill(&mut b)
                .map_err(|e| DbError::Corrupt(format!("no randomness for the secret: {e}")))?;
            hex::encode(b)
        };
        self.engine.tx(move |t| {
            t.exec(
                "INSERT INTO cluster_meta (name, value) VALUES ('secret', $1)
                 ON CONFLICT (name) DO NOTHING",
                &[V::t(fresh)],
            )?;
            t.query("SELECT value FROM cluster_meta WHERE name = 'secret'", &[])?
                .first()
                .map(|r| r.text(0))
                .transpose()?
                .ok_or_else(|| DbError::Corrupt("the cluster secret is missing".into()))
        })
    }

    /// Records that the message `key` is about to be sent by `machine`. `Some(row)` if a message
    /// for `key` was already sent (the caller must not send it again); `None` to go ahead.
    pub fn message_begin(
        &self,
        key: &str,
        method: &str,
        machine: &str,
    ) -> Result<Option<MessageRow>, DbError> {
        let now = self.engine.now_ms()?;
        let (key, method, machine) = (key.to_string(), method.to_string(), machine.to_string());
        self.engine.tx(move |t| {
            if let Some(m) = message_row(t, &key)? {
                if m.state == "sent" {
                    return Ok(Some(m));
                }
            }
            t.exec(
                "INSERT INTO messages (msg_key, method, state, msg_id, error, machine, at)
                 VALUES ($1, $2, 'sending', NULL, NULL, $3, $4)
                 ON CONFLICT (msg_key) DO UPDATE SET method = excluded.method, state = 'sending',
                    msg_id = NULL, error = NULL, machine = excluded.machine, at = excluded.at",
                &[V::t(&key), V::t(&method), V::t(&machine), V::i(now)],
            )?;
            Ok(None)
        })
    }

    /// Records the chain's answer to the message `key`.
    pub fn message_end(&self, key: &str, outcome: Result<&str, &str>) -> Result<(), DbError> {
        let now = self.engine.now_ms()?;
        let (st, id, err) = match outcome {
            Ok(id) => ("sent", Some(id.to_string()), None),
            Err(e) => ("failed", None, Some(e.to_string())),
        };
        self.engine.exec(
            "UPDATE messages SET state = $1, msg_id = $2, error = $3, at = $4 WHERE msg_key = $5",
            &[V::t(st), V::T(id), V::T(err), V::i(now), V::t(key)],
        )?;
        Ok(())
    }

    /// The message recorded for `key`.
    pub fn message(&self, key: &str) -> Result<Option<MessageRow>, DbError> {
        let key = key.to_string();
        self.engine.tx(move |t| message_row(t, &key))
    }

    /// Every recorded message, oldest first.
    pub fn messages(&self) -> Result<Vec<MessageRow>, DbError> {
        self.engine
            .query(
                "SELECT msg_key, method, state, msg_id, error, machine, at FROM messages ORDER BY at, msg_key",
                &[],
            )?
            .iter()
            .map(message_from)
            .collect()
    }
}

/// Records where sector `n`'s files are (inside a transaction, e.g. [`Db::finish_task`]'s).
pub fn set_sector_location(
    t: &mut dyn Sql,
    n: u64,
    machine: i64,
    path: &str,
    now_ms: i64,
) -> Result<(), DbError> {
    t.exec(
        "INSERT INTO sector_files (sector, machine, path, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (sector) DO UPDATE SET machine = excluded.machine, path = excluded.path,
            updated_at = excluded.updated_at",
        &[V::i(n), V::i(machine), V::t(path), V::i(now_ms)],
    )?;
    Ok(())
}

fn message_from(r: &Row) -> Result<MessageRow, DbError> {
    Ok(MessageRow {
        key: r.text(0)?,
        method: r.text(1)?,
        state: r.text(2)?,
        msg_id: r.opt_text(3)?,
        error: r.opt_text(4)?,
        machine: r.text(5)?,
        at: r.int(6)?,
    })
}

fn message_row(t: &mut dyn Sql, key: &str) -> Result<Option<MessageRow>, DbError> {
    t.query(
        "SELECT msg_key, method, state, msg_id, error, machine, at FROM messages WHERE msg_key = $1",
        &[V::t(key)],
    )?
    .first()
    .map(message_from)
    .transpose()
}
