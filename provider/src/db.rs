//! The provider's durable state in SQLite (rusqlite, bundled): deals taken in, sectors and the
//! pipeline step each is at (with the last error, attempts and when to retry), and a log of the
//! scheduler's decisions (why a post was skipped, late or missed). WAL with `synchronous=FULL`:
//! a transition reported done is on disk, so `kill -9` at any point resumes from the last one.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Mutex;
use strata_chain_client::types::{DealId, Epoch, SignedProposal};
use thiserror::Error;

/// A database failure.
#[derive(Debug, Error)]
#[error("provider database: {0}")]
pub struct DbError(#[from] rusqlite::Error);

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

    fn parse(s: &str) -> Step {
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
    /// Chain epoch.
    pub epoch: Epoch,
    /// What (`post`, `post_skipped`, `post_missed`, `fault_declared`, …).
    pub kind: String,
    /// Details.
    pub detail: String,
}

/// The database.
pub struct Db {
    conn: Mutex<Connection>,
}

fn sector_row(r: &rusqlite::Row) -> rusqlite::Result<SectorRow> {
    let deals: String = r.get(2)?;
    let proofs: Option<String> = r.get(6)?;
    Ok(SectorRow {
        number: r.get::<_, i64>(0)? as u64,
        step: Step::parse(&r.get::<_, String>(1)?),
        deals: serde_json::from_str(&deals).unwrap_or_default(),
        ticket_epoch: r.get(3)?,
        comm_r: r.get(4)?,
        comm_d: r.get(5)?,
        proofs: proofs.and_then(|p| serde_json::from_str(&p).ok()),
        error: r.get(7)?,
        attempts: r.get::<_, i64>(8)? as u32,
        retry_at: r.get(9)?,
    })
}

const SECTOR_COLS: &str =
    "number, step, deals, ticket_epoch, comm_r, comm_d, proofs, error, attempts, retry_at";

impl Db {
    /// Opens (creating) the database.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS deals (
                id INTEGER PRIMARY KEY, proposal TEXT NOT NULL, raw_len INTEGER NOT NULL,
                sector INTEGER);
             CREATE TABLE IF NOT EXISTS sectors (
                number INTEGER PRIMARY KEY, step TEXT NOT NULL, deals TEXT NOT NULL,
                ticket_epoch INTEGER, comm_r TEXT, comm_d TEXT, proofs TEXT, error TEXT,
                attempts INTEGER NOT NULL DEFAULT 0, retry_at INTEGER NOT NULL DEFAULT 0);
             CREATE TABLE IF NOT EXISTS log (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, epoch INTEGER NOT NULL, kind TEXT NOT NULL,
                detail TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS proof_times (
                op TEXT NOT NULL, seq INTEGER PRIMARY KEY AUTOINCREMENT, ms INTEGER NOT NULL);",
        )?;
        Ok(Db {
            conn: Mutex::new(conn),
        })
    }

    fn c(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records an accepted deal.
    pub fn insert_deal(
        &self,
        id: DealId,
        proposal: &SignedProposal,
        raw_len: u64,
    ) -> Result<(), DbError> {
        self.c().execute(
            "INSERT OR REPLACE INTO deals (id, proposal, raw_len, sector) VALUES (?1, ?2, ?3, NULL)",
            params![id as i64, serde_json::to_string(proposal).expect("serialises"), raw_len as i64],
        )?;
        Ok(())
    }

    /// All deals.
    pub fn deals(&self) -> Result<Vec<DealRow>, DbError> {
        let c = self.c();
        let mut st = c.prepare("SELECT id, proposal, raw_len, sector FROM deals ORDER BY id")?;
        let rows = st.query_map([], |r| {
            let p: String = r.get(1)?;
            Ok(DealRow {
                id: r.get::<_, i64>(0)? as u64,
                proposal: serde_json::from_str(&p).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        1,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })?,
                raw_len: r.get::<_, i64>(2)? as u64,
                sector: r.get::<_, Option<i64>>(3)?.map(|s| s as u64),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One deal.
    pub fn deal(&self, id: DealId) -> Result<Option<DealRow>, DbError> {
        Ok(self.deals()?.into_iter().find(|d| d.id == id))
    }

    /// Creates sector `number` holding `deals` (marking them packed), in one transaction.
    pub fn new_sector(&self, number: u64, deals: &[DealId]) -> Result<(), DbError> {
        let mut c = self.c();
        let tx = c.transaction()?;
        tx.execute(
            "INSERT INTO sectors (number, step, deals) VALUES (?1, 'sealing', ?2)",
            params![
                number as i64,
                serde_json::to_string(deals).expect("serialises")
            ],
        )?;
        for d in deals {
            tx.execute(
                "UPDATE deals SET sector = ?1 WHERE id = ?2",
                params![number as i64, *d as i64],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The next unused sector number.
    pub fn next_sector_number(&self) -> Result<u64, DbError> {
        let n: Option<i64> = self
            .c()
            .query_row("SELECT MAX(number) FROM sectors", [], |r| r.get(0))?;
        Ok(n.map(|n| n as u64 + 1).unwrap_or(1))
    }

    /// All sectors.
    pub fn sectors(&self) -> Result<Vec<SectorRow>, DbError> {
        let c = self.c();
        let mut st = c.prepare(&format!(
            "SELECT {SECTOR_COLS} FROM sectors ORDER BY number"
        ))?;
        let rows = st.query_map([], sector_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One sector.
    pub fn sector(&self, number: u64) -> Result<Option<SectorRow>, DbError> {
        Ok(self
            .c()
            .query_row(
                &format!("SELECT {SECTOR_COLS} FROM sectors WHERE number = ?1"),
                [number as i64],
                sector_row,
            )
            .optional()?)
    }

    /// Writes a sector's row back (step, results, error bookkeeping).
    pub fn update_sector(&self, s: &SectorRow) -> Result<(), DbError> {
        self.c().execute(
            "UPDATE sectors SET step = ?2, ticket_epoch = ?3, comm_r = ?4, comm_d = ?5, proofs = ?6,
                error = ?7, attempts = ?8, retry_at = ?9 WHERE number = ?1",
            params![
                s.number as i64,
                s.step.as_str(),
                s.ticket_epoch,
                s.comm_r,
                s.comm_d,
                s.proofs.as_ref().map(|p| serde_json::to_string(p).expect("serialises")),
                s.error,
                s.attempts as i64,
                s.retry_at
            ],
        )?;
        Ok(())
    }

    /// Logs a decision.
    pub fn log(&self, epoch: Epoch, kind: &str, detail: &str) -> Result<(), DbError> {
        self.c().execute(
            "INSERT INTO log (epoch, kind, detail) VALUES (?1, ?2, ?3)",
            params![epoch, kind, detail],
        )?;
        Ok(())
    }

    /// The last `n` log rows, oldest first.
    pub fn recent_log(&self, n: usize) -> Result<Vec<LogRow>, DbError> {
        let c = self.c();
        let mut st = c.prepare("SELECT epoch, kind, detail FROM log ORDER BY seq DESC LIMIT ?1")?;
        let mut rows: Vec<LogRow> = st
            .query_map([n as i64], |r| {
                Ok(LogRow {
                    epoch: r.get(0)?,
                    kind: r.get(1)?,
                    detail: r.get(2)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        rows.reverse();
        Ok(rows)
    }

    /// Records one measured duration of `op` (kept: the last [`TIMES_KEPT`] per op).
    pub fn record_time(&self, op: &str, ms: u64) -> Result<(), DbError> {
        let c = self.c();
        c.execute(
            "INSERT INTO proof_times (op, ms) VALUES (?1, ?2)",
            params![op, ms as i64],
        )?;
        c.execute(
            "DELETE FROM proof_times WHERE op = ?1 AND seq NOT IN \
             (SELECT seq FROM proof_times WHERE op = ?1 ORDER BY seq DESC LIMIT ?2)",
            params![op, TIMES_KEPT as i64],
        )?;
        Ok(())
    }

    /// The recent durations of `op` in milliseconds, oldest first.
    pub fn times(&self, op: &str) -> Result<Vec<u64>, DbError> {
        let c = self.c();
        let mut st = c.prepare("SELECT ms FROM proof_times WHERE op = ?1 ORDER BY seq")?;
        let rows = st
            .query_map([op], |r| r.get::<_, i64>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows.into_iter().map(|v| v.max(0) as u64).collect())
    }
}

/// Measured durations kept per operation.
pub const TIMES_KEPT: usize = 8;
