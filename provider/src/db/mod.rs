//! The provider's durable state, one schema on two engines ([`engine`]): SQLite by default (WAL,
//! `synchronous=FULL`, so a transition reported done is on disk and `kill -9` at any point
//! resumes from the last one) and PostgreSQL for a cluster. It holds the deals taken in, the
//! sectors and the pipeline step each is at (with the last error, attempts and when to retry), a
//! log of the scheduler's decisions, measured proof times, and for a cluster the tasks, machines,
//! file locations and the messages sent ([`cluster`]). The schema is versioned ([`migrations`]) and
//! brought up to date when the database is opened.

pub mod batch_claim;
pub mod cluster;
pub mod engine;
pub mod migrations;

pub use engine::{DbError, Engine, Row, RowExt, Sql, V};

use serde::{Deserialize, Serialize};
use std::path::Path;
use strata_chain_client::types::{DealId, Epoch, SignedProposal};

/// Pipeline steps, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// PC1 + PC2: labeling, encoding, trees, CommR.
    Sealing,
    /// Send the pre-commit.
    PreCommit,
    /// Wait for the seal seed.
    WaitSeed,
    /// C1 + C2: the seal proof.
    Proving,
    /// Send the prove-commit.
    ProveCommit,
    /// Wait until the chain has the sector active.
    WaitActive,
    /// Proving on chain (WindowPoSt by the scheduler).
    Active,
    /// Ended on chain (terminated, expired or pre-commit expired).
    Removed,
    /// Gave up after repeated failures; needs the operator.
    Failed,
}

impl Step {
    /// Every step, in pipeline order.
    pub const ALL: [Step; 9] = [
        Step::Sealing,
        Step::PreCommit,
        Step::WaitSeed,
        Step::Proving,
        Step::ProveCommit,
        Step::WaitActive,
        Step::Active,
        Step::Removed,
        Step::Failed,
    ];

    /// The name stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Sealing => "sealing",
            Step::PreCommit => "precommit",
            Step::WaitSeed => "wait_seed",
            Step::Proving => "proving",
            Step::ProveCommit => "prove_commit",
            Step::WaitActive => "wait_active",
            Step::Active => "active",
            Step::Removed => "removed",
            Step::Failed => "failed",
        }
    }

    /// The step stored as `s` (unknown names read as [`Step::Failed`]).
    pub fn parse(s: &str) -> Step {
        match s {
            "sealing" => Step::Sealing,
            "precommit" => Step::PreCommit,
            "wait_seed" => Step::WaitSeed,
            "proving" => Step::Proving,
            "prove_commit" => Step::ProveCommit,
            "wait_active" => Step::WaitActive,
            "active" => Step::Active,
            "removed" => Step::Removed,
            _ => Step::Failed,
        }
    }
}

/// A sector's row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectorRow {
    /// Sector number.
    pub number: u64,
    /// Current step.
    pub step: Step,
    /// Deals packed in it, in layout order.
    pub deals: Vec<DealId>,
    /// Ticket epoch (set when sealing starts).
    pub ticket_epoch: Option<Epoch>,
    /// CommR and CommD (hex), once sealed.
    pub comm_r: Option<String>,
    /// CommD (hex).
    pub comm_d: Option<String>,
    /// Seal proofs (hex), once proven.
    pub proofs: Option<Vec<String>>,
    /// The last error and the step it happened in.
    pub error: Option<String>,
    /// Failed attempts at the current step.
    pub attempts: u32,
    /// Retry not before this epoch.
    pub retry_at: Epoch,
}

/// A deal's row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DealRow {
    /// Deal id on chain.
    pub id: DealId,
    /// The signed proposal.
    pub proposal: SignedProposal,
    /// Piece bytes as uploaded.
    pub raw_len: u64,
    /// Sector it is packed into.
    pub sector: Option<u64>,
}

/// A logged scheduler or pipeline decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRow {
    /// Its position in the log (increasing).
    #[serde(default)]
    pub seq: i64,
    /// Chain epoch.
    pub epoch: Epoch,
    /// What (`post`, `post_skipped`, `post_missed`, `fault_declared`, …).
    pub kind: String,
    /// Details.
    pub detail: String,
    /// The deadline a proving decision concerns.
    #[serde(default)]
    pub deadline: Option<u64>,
    /// The partition, where one is concerned.
    #[serde(default)]
    pub partition: Option<u64>,
}

fn log_row(r: &Row) -> Result<LogRow, DbError> {
    Ok(LogRow {
        seq: r.int(0)?,
        epoch: r.int(1)?,
        kind: r.text(2)?,
        detail: r.text(3)?,
        deadline: r.opt_int(4)?.map(|d| d as u64),
        partition: r.opt_int(5)?.map(|d| d as u64),
    })
}

const LOG_COLS: &str = "seq, epoch, kind, detail, deadline, part";

/// The database.
pub struct Db {
    /// The engine (for the cluster's own statements).
    pub engine: Engine,
}

fn sector_row(r: &Row) -> Result<SectorRow, DbError> {
    let deals = r.text(2)?;
    let proofs = r.opt_text(6)?;
    Ok(SectorRow {
        number: r.int(0)? as u64,
        step: Step::parse(&r.text(1)?),
        deals: serde_json::from_str(&deals)
            .map_err(|e| DbError::Corrupt(format!("sector deals {deals:?}: {e}")))?,
        ticket_epoch: r.opt_int(3)?,
        comm_r: r.opt_text(4)?,
        comm_d: r.opt_text(5)?,
        proofs: match proofs {
            Some(p) => Some(
                serde_json::from_str(&p)
                    .map_err(|e| DbError::Corrupt(format!("sector proofs: {e}")))?,
            ),
            None => None,
        },
        error: r.opt_text(7)?,
        attempts: r.int(8)? as u32,
        retry_at: r.int(9)?,
    })
}

const SECTOR_COLS: &str =
    "number, step, deals, ticket_epoch, comm_r, comm_d, proofs, error, attempts, retry_at";

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serialises")
}

impl Db {
    /// Opens (creating) a SQLite database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        Self::with_engine(Engine::sqlite(path)?)
    }

    /// Opens `location` — a `postgres://` URL or a SQLite file — and brings its schema up to
    /// date.
    pub fn open_location(location: &str) -> Result<Db, DbError> {
        Self::with_engine(Engine::open(location)?)
    }

    /// Wraps an open engine, applying any migration it lacks.
    pub fn with_engine(engine: Engine) -> Result<Db, DbError> {
        migrations::apply(&engine)?;
        Ok(Db { engine })
    }

    /// Records an accepted deal (again: the same id replaces the row, unpacked).
    pub fn insert_deal(
        &self,
        id: DealId,
        proposal: &SignedProposal,
        raw_len: u64,
    ) -> Result<(), DbError> {
        self.engine.exec(
            "INSERT INTO deals (id, proposal, raw_len, sector) VALUES ($1, $2, $3, NULL)
             ON CONFLICT (id) DO UPDATE SET proposal = excluded.proposal,
                raw_len = excluded.raw_len, sector = NULL",
            &[V::i(id), V::t(json(proposal)), V::i(raw_len)],
        )?;
        Ok(())
    }

    fn deal_rows(&self, filter: &str, args: &[V]) -> Result<Vec<DealRow>, DbError> {
        self.deal_rows_ordered(&format!("{filter} ORDER BY id"), args)
    }

    fn deal_rows_ordered(&self, tail: &str, args: &[V]) -> Result<Vec<DealRow>, DbError> {
        self.engine
            .query(
                &format!("SELECT id, proposal, raw_len, sector FROM deals {tail}"),
                args,
            )?
            .iter()
            .map(|r| {
                let p = r.text(1)?;
                Ok(DealRow {
                    id: r.int(0)? as u64,
                    proposal: serde_json::from_str(&p)
                        .map_err(|e| DbError::Corrupt(format!("deal proposal: {e}")))?,
                    raw_len: r.int(2)? as u64,
                    sector: r.opt_int(3)?.map(|s| s as u64),
                })
            })
            .collect()
    }

    /// All deals.
    pub fn deals(&self) -> Result<Vec<DealRow>, DbError> {
        self.deal_rows("", &[])
    }

    /// One deal.
    pub fn deal(&self, id: DealId) -> Result<Option<DealRow>, DbError> {
        Ok(self
            .deal_rows("WHERE id = $1", &[V::i(id)])?
            .into_iter()
            .next())
    }

    /// Creates sector `number` holding `deals` (marking them packed), in one transaction.
    pub fn new_sector(&self, number: u64, deals: &[DealId]) -> Result<(), DbError> {
        let deals = deals.to_vec();
        self.engine.tx(move |t| {
            t.exec(
                "INSERT INTO sectors (number, step, deals, attempts, retry_at)
                 VALUES ($1, 'sealing', $2, 0, 0)",
                &[V::i(number), V::t(json(&deals))],
            )?;
            for d in &deals {
                t.exec(
                    "UPDATE deals SET sector = $1 WHERE id = $2",
                    &[V::i(number), V::i(*d)],
                )?;
            }
            Ok(())
        })
    }

    /// The next unused sector number.
    pub fn next_sector_number(&self) -> Result<u64, DbError> {
        let n = self
            .engine
            .query_int("SELECT MAX(number) FROM sectors", &[])?;
        Ok(n.map(|n| n as u64 + 1).unwrap_or(1))
    }

    /// All sectors.
    pub fn sectors(&self) -> Result<Vec<SectorRow>, DbError> {
        self.engine
            .query(
                &format!("SELECT {SECTOR_COLS} FROM sectors ORDER BY number"),
                &[],
            )?
            .iter()
            .map(sector_row)
            .collect()
    }

    /// One sector.
    pub fn sector(&self, number: u64) -> Result<Option<SectorRow>, DbError> {
        self.engine
            .query(
                &format!("SELECT {SECTOR_COLS} FROM sectors WHERE number = $1"),
                &[V::i(number)],
            )?
            .first()
            .map(sector_row)
            .transpose()
    }

    /// Writes a sector's row back (step, results, error bookkeeping).
    pub fn update_sector(&self, s: &SectorRow) -> Result<(), DbError> {
        self.engine.exec(
            "UPDATE sectors SET step = $2, ticket_epoch = $3, comm_r = $4, comm_d = $5, proofs = $6,
                error = $7, attempts = $8, retry_at = $9 WHERE number = $1",
            &[
                V::i(s.number),
                V::t(s.step.as_str()),
                V::I(s.ticket_epoch),
                V::T(s.comm_r.clone()),
                V::T(s.comm_d.clone()),
                V::T(s.proofs.as_ref().map(json)),
                V::T(s.error.clone()),
                V::i(s.attempts),
                V::i(s.retry_at),
            ],
        )?;
        Ok(())
    }

    /// Logs a decision.
    pub fn log(&self, epoch: Epoch, kind: &str, detail: &str) -> Result<(), DbError> {
        self.engine.exec(
            "INSERT INTO log (epoch, kind, detail) VALUES ($1, $2, $3)",
            &[V::i(epoch), V::t(kind), V::t(detail)],
        )?;
        Ok(())
    }

    /// Logs a proving decision about `deadline` (and `partition`, if one).
    pub fn log_deadline(
        &self,
        epoch: Epoch,
        kind: &str,
        deadline: u64,
        partition: Option<u64>,
        detail: &str,
    ) -> Result<(), DbError> {
        self.engine.exec(
            "INSERT INTO log (epoch, kind, detail, deadline, part) VALUES ($1, $2, $3, $4, $5)",
            &[
                V::i(epoch),
                V::t(kind),
                V::t(detail),
                V::i(deadline),
                V::I(partition.map(|p| p as i64)),
            ],
        )?;
        Ok(())
    }

    /// The last `n` log rows, oldest first.
    pub fn recent_log(&self, n: usize) -> Result<Vec<LogRow>, DbError> {
        let mut rows = self.log_page(None, 0, n as u64)?;
        rows.reverse();
        Ok(rows)
    }

    /// Log rows newest first, of `kind` if given: `limit` rows after skipping `offset`.
    pub fn log_page(
        &self,
        kind: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<LogRow>, DbError> {
        let rows = match kind {
            Some(k) => self.engine.query(
                &format!(
                    "SELECT {LOG_COLS} FROM log WHERE kind = $1 ORDER BY seq DESC LIMIT $2 OFFSET $3"
                ),
                &[V::t(k), V::i(limit), V::i(offset)],
            )?,
            None => self.engine.query(
                &format!("SELECT {LOG_COLS} FROM log ORDER BY seq DESC LIMIT $1 OFFSET $2"),
                &[V::i(limit), V::i(offset)],
            )?,
        };
        rows.iter().map(log_row).collect()
    }

    /// Log rows, of `kind` if given.
    pub fn log_count(&self, kind: Option<&str>) -> Result<u64, DbError> {
        let n = match kind {
            Some(k) => self
                .engine
                .query_int("SELECT COUNT(*) FROM log WHERE kind = $1", &[V::t(k)])?,
            None => self.engine.query_int("SELECT COUNT(*) FROM log", &[])?,
        };
        Ok(n.unwrap_or(0).max(0) as u64)
    }

    /// Proving log rows per deadline and kind: (deadline, kind, rows).
    pub fn deadline_counts(&self) -> Result<Vec<(u64, String, u64)>, DbError> {
        self.engine
            .query(
                "SELECT deadline, kind, COUNT(*) FROM log WHERE deadline IS NOT NULL \
                 GROUP BY deadline, kind",
                &[],
            )?
            .iter()
            .map(|r| Ok((r.int(0)? as u64, r.text(1)?, r.int(2)?.max(0) as u64)))
            .collect()
    }

    /// The latest `limit` proving log rows about `deadline`, newest first.
    pub fn deadline_log(&self, deadline: u64, limit: u64) -> Result<Vec<LogRow>, DbError> {
        self.engine
            .query(
                &format!(
                    "SELECT {LOG_COLS} FROM log WHERE deadline = $1 ORDER BY seq DESC LIMIT $2"
                ),
                &[V::i(deadline), V::i(limit)],
            )?
            .iter()
            .map(log_row)
            .collect()
    }

    /// Sectors by number, at `step` if given: `limit` rows after skipping `offset`.
    pub fn sector_page(
        &self,
        step: Option<Step>,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<SectorRow>, DbError> {
        let rows = match step {
            Some(s) => self.engine.query(
                &format!(
                    "SELECT {SECTOR_COLS} FROM sectors WHERE step = $1 ORDER BY number \
                     LIMIT $2 OFFSET $3"
                ),
                &[V::t(s.as_str()), V::i(limit), V::i(offset)],
            )?,
            None => self.engine.query(
                &format!("SELECT {SECTOR_COLS} FROM sectors ORDER BY number LIMIT $1 OFFSET $2"),
                &[V::i(limit), V::i(offset)],
            )?,
        };
        rows.iter().map(sector_row).collect()
    }

    /// Sectors per pipeline step.
    pub fn sector_counts(&self) -> Result<Vec<(Step, u64)>, DbError> {
        self.engine
            .query("SELECT step, COUNT(*) FROM sectors GROUP BY step", &[])?
            .iter()
            .map(|r| Ok((Step::parse(&r.text(0)?), r.int(1)?.max(0) as u64)))
            .collect()
    }

    /// Deals by id: `limit` rows after skipping `offset`.
    pub fn deal_page(&self, offset: u64, limit: u64) -> Result<Vec<DealRow>, DbError> {
        self.deal_rows_ordered(
            "ORDER BY id DESC LIMIT $1 OFFSET $2",
            &[V::i(limit), V::i(offset)],
        )
    }

    /// Deals taken in.
    pub fn deal_count(&self) -> Result<u64, DbError> {
        Ok(self
            .engine
            .query_int("SELECT COUNT(*) FROM deals", &[])?
            .unwrap_or(0)
            .max(0) as u64)
    }

    /// Records one measured duration of `op` (kept: the last [`TIMES_KEPT`] per op).
    pub fn record_time(&self, op: &str, ms: u64) -> Result<(), DbError> {
        let op = op.to_string();
        self.engine.tx(move |t| {
            t.exec(
                "INSERT INTO proof_times (op, ms) VALUES ($1, $2)",
                &[V::t(&op), V::i(ms)],
            )?;
            t.exec(
                "DELETE FROM proof_times WHERE op = $1 AND seq NOT IN \
                 (SELECT seq FROM proof_times WHERE op = $1 ORDER BY seq DESC LIMIT $2)",
                &[V::t(&op), V::i(TIMES_KEPT)],
            )?;
            Ok(())
        })
    }

    /// The recent durations of `op` in milliseconds, oldest first.
    pub fn times(&self, op: &str) -> Result<Vec<u64>, DbError> {
        self.engine
            .query(
                "SELECT ms FROM proof_times WHERE op = $1 ORDER BY seq",
                &[V::t(op)],
            )?
            .iter()
            .map(|r| Ok(r.int(0)?.max(0) as u64))
            .collect()
    }
}

/// Measured durations kept per operation.
pub const TIMES_KEPT: usize = 8;
