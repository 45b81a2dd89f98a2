//! Time budgets: what the daemon measured against what the chain allows.
//!
//! Every seal, seal proof, WindowPoSt partition and WinningPoSt is timed and the last
//! [`TIMES_KEPT`](crate::db::TIMES_KEPT) durations of each are kept in the database, so the
//! figures survive a restart and `strata miner info` can read them without the daemon.
//!
//! - **PoSt budgets.** A deadline's WindowPoSt can start at its challenge epoch and must land
//!   before its window closes: `challenge_lookback + deadline_window − 1` epochs, one left for the
//!   message to be included. A WinningPoSt has `winning_post_window` epochs. A budget is *tight*
//!   when the slowest recent proof (times the deadline's partitions) times [`POST_MARGIN`] does
//!   not fit: the daemon then warns in its log, its metrics and `strata miner info`.
//! - **Deal intake.** A deal must start after its sector can be sealed, pre-committed, wait the
//!   seed delay, be proven and prove-committed. [`earliest_start`] estimates that from the
//!   slowest recent seal and seal proof, the sectors queued ahead and the parallel job slots,
//!   with [`START_MARGIN`]; before anything is measured it uses a prior from the circuit size,
//!   divided by the share of the sealing cores a sealing thread gets right now (a short probe,
//!   [`crate::os::cpu_share`]: on a machine another process saturates, sealing gets half the
//!   CPU and the prior doubles — the load average would only notice a minute later).

use crate::db::{Db, Step};
use crate::metrics::Timed;
use strata_chain_client::types::Epoch;
use strata_chain_client::views::Constants;
use strata_params::ProofType;

/// A PoSt budget is tight when the measured time × this does not fit.
pub const POST_MARGIN: f64 = 2.0;
/// Sealing and proving estimates are stretched by this before a deal start is promised.
pub const START_MARGIN: f64 = 1.5;
/// Epochs added to every deal start for messages (publish, pre-commit, prove-commit) to land.
pub const MESSAGE_EPOCHS: i64 = 6;

/// One PoSt kind's budget against its measurements.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct BudgetCheck {
    /// `window_post` or `winning_post`.
    pub op: &'static str,
    /// Wall time from challenge to the last useful epoch, in milliseconds.
    pub budget_ms: u64,
    /// The slowest recent proof (times partitions for WindowPoSt), if any was measured.
    pub measured_ms: Option<u64>,
    /// How many proofs were measured.
    pub samples: usize,
    /// `measured × POST_MARGIN > budget`.
    pub tight: bool,
}

impl BudgetCheck {
    /// A one-line account for logs and `strata miner info`.
    pub fn describe(&self) -> String {
        let name = match self.op {
            "window_post" => "WindowPoSt",
            _ => "WinningPoSt",
        };
        match self.measured_ms {
            None => format!(
                "{name}: budget {:.1} s, not measured yet",
                self.budget_ms as f64 / 1000.0
            ),
            Some(m) => format!(
                "{name}: slowest of {} recent {:.1} s against a budget of {:.1} s — {}",
                self.samples,
                m as f64 / 1000.0,
                self.budget_ms as f64 / 1000.0,
                if self.tight {
                    format!(
                        "TIGHT (less than {POST_MARGIN}× margin: lengthen epochs, reserve proving \
                         cores or seal less at once)"
                    )
                } else {
                    "ok".to_string()
                }
            ),
        }
    }
}

/// The slowest of the recent durations of `op`, and how many there are.
pub fn worst(db: &Db, op: Timed) -> (Option<u64>, usize) {
    let t = db.times(op.as_str()).unwrap_or_default();
    (t.iter().copied().max(), t.len())
}

/// The WindowPoSt and WinningPoSt budgets for `partitions` partitions in the fullest deadline.
pub fn post_budgets(c: &Constants, db: &Db, partitions: usize) -> Vec<BudgetCheck> {
    let epoch = c.block_time_ms;
    let window_epochs = (c.challenge_lookback + c.deadline_window - 1).max(1) as u64;
    let mut out = Vec::new();
    for (op, budget_epochs, times) in [
        (Timed::WindowPost, window_epochs, partitions.max(1) as u64),
        (Timed::WinningPost, c.winning_post_window.max(1) as u64, 1),
    ] {
        let (m, samples) = worst(db, op);
        let budget_ms = budget_epochs * epoch;
        let measured_ms = m.map(|m| m * times);
        out.push(BudgetCheck {
            op: op.as_str(),
            budget_ms,
            measured_ms,
            samples,
            tight: measured_ms.is_some_and(|m| m as f64 * POST_MARGIN > budget_ms as f64),
        });
    }
    out
}

/// A prior for an unmeasured seal: 1 s plus 0.6 s per MiB (BENCHMARKS: 512 MiB in 276 s).
pub fn prior_seal_ms(pt: &ProofType) -> u64 {
    1000 + pt.sector_size.bytes() * 600 / (1 << 20)
}

/// A prior for an unmeasured seal proof on `threads` idle threads: 45 µs of CPU per constraint
/// (BENCHMARKS measured 31), `constraints` per partition, plus 2 s to load the parameters.
pub fn prior_seal_proof_ms(pt: &ProofType, constraints: usize, threads: usize) -> u64 {
    let cpu_ms = constraints as u64 * 45 / 1000 * pt.porep_partitions as u64;
    cpu_ms / threads.max(1) as u64 + 2000
}

/// What a deal start must leave room for.
pub struct StartInputs {
    /// The slowest recent (or prior) seal, ms.
    pub seal_ms: u64,
    /// The slowest recent (or prior) seal proof, ms.
    pub seal_proof_ms: u64,
    /// Sectors and unpacked deals ahead of the new deal.
    pub ahead: usize,
    /// Sealing jobs that run at once.
    pub parallel: usize,
    /// The configured floor (`min_start_delay`).
    pub min_delay: i64,
}

/// The earliest start epoch a deal arriving at `head` can be promised.
pub fn earliest_start(c: &Constants, head: Epoch, i: &StartInputs) -> Epoch {
    let rounds = (i.ahead / i.parallel.max(1) + 1) as f64;
    let ms = rounds * (i.seal_ms + i.seal_proof_ms) as f64 * START_MARGIN;
    let epochs = (ms / c.block_time_ms.max(1) as f64).ceil() as i64 + c.seed_delay + MESSAGE_EPOCHS;
    head + epochs.max(i.min_delay)
}

/// Sectors still to be sealed or proven, and deals not yet in a sector.
pub fn queue_ahead(db: &Db) -> usize {
    let sectors = db
        .sectors()
        .unwrap_or_default()
        .into_iter()
        .filter(|s| {
            matches!(
                s.step,
                Step::Sealing | Step::PreCommit | Step::WaitSeed | Step::Proving
            )
        })
        .count();
    let deals = db
        .deals()
        .unwrap_or_default()
        .into_iter()
        .filter(|d| d.sector.is_none())
        .count();
    sectors + deals
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constants() -> Constants {
        let mut c = strata_chain::config::devnet_constants();
        c.block_time_ms = 1000;
        c
    }

    #[test]
    fn budgets_turn_tight_with_slow_proofs() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("p.sqlite")).unwrap();
        let c = constants();
        let b = post_budgets(&c, &db, 1);
        // Challenge 2 epochs before a 5-epoch window, one epoch left for inclusion: 6 s.
        assert_eq!(b[0].budget_ms, 6000);
        assert_eq!(b[0].measured_ms, None);
        assert!(!b[0].tight);
        assert_eq!(b[1].budget_ms, c.winning_post_window as u64 * 1000);
        db.record_time("window_post", 2900).unwrap();
        assert!(!post_budgets(&c, &db, 1)[0].tight);
        // Two partitions in the fullest deadline double what must fit.
        assert!(post_budgets(&c, &db, 2)[0].tight);
        db.record_time("window_post", 3100).unwrap();
        let b = post_budgets(&c, &db, 1);
        assert!(b[0].tight, "{}", b[0].describe());
        assert!(b[0].describe().contains("TIGHT"));
        // Only the recent ones count: after enough fast proofs the slow ones fall out.
        for _ in 0..crate::db::TIMES_KEPT {
            db.record_time("window_post", 1000).unwrap();
        }
        let b = post_budgets(&c, &db, 1);
        assert_eq!(b[0].measured_ms, Some(1000));
        assert_eq!(b[0].samples, crate::db::TIMES_KEPT);
        assert!(!b[0].tight);
    }

    #[test]
    fn deal_starts_leave_room_for_the_queue() {
        let c = constants();
        let one = StartInputs {
            seal_ms: 1000,
            seal_proof_ms: 29_000,
            ahead: 0,
            parallel: 1,
            min_delay: 10,
        };
        // 30 s × 1.5 = 45 epochs + seed delay + message epochs.
        assert_eq!(
            earliest_start(&c, 100, &one),
            100 + 45 + c.seed_delay + MESSAGE_EPOCHS
        );
        let queued = StartInputs { ahead: 2, ..one };
        assert_eq!(
            earliest_start(&c, 100, &queued),
            100 + 135 + c.seed_delay + MESSAGE_EPOCHS
        );
        let parallel = StartInputs {
            ahead: 2,
            parallel: 3,
            ..one
        };
        assert_eq!(
            earliest_start(&c, 100, &parallel),
            earliest_start(&c, 100, &one)
        );
        let floor = StartInputs {
            min_delay: 1000,
            ..one
        };
        assert_eq!(earliest_start(&c, 100, &floor), 1100);
    }
}
