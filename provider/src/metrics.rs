//! Prometheus metrics: counters kept in memory, gauges read from the database and the chain at
//! scrape time, written in the text exposition format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters and duration sums.
#[derive(Default)]
pub struct Metrics {
    /// WindowPoSt partitions submitted.
    pub posts_submitted: AtomicU64,
    /// Deadline windows that closed without our post.
    pub posts_missed: AtomicU64,
    /// Sectors skipped in posts as faulty.
    pub sectors_skipped: AtomicU64,
    /// WinningPoSts submitted.
    pub winning_submitted: AtomicU64,
    /// Faults declared.
    pub faults_declared: AtomicU64,
    /// Recoveries declared.
    pub recoveries_declared: AtomicU64,
    /// Pipeline step failures.
    pub step_failures: AtomicU64,
    /// Duration sums and counts, milliseconds: seal, seal proof, WindowPoSt, WinningPoSt.
    pub durations: [(AtomicU64, AtomicU64); 4],
}

/// Which duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timed {
    /// Sealing (PC1 + PC2).
    Seal = 0,
    /// The seal proof (C1 + C2).
    SealProof = 1,
    /// One WindowPoSt partition.
    WindowPost = 2,
    /// One WinningPoSt.
    WinningPost = 3,
}

const TIMED: [&str; 4] = ["seal", "seal_proof", "window_post", "winning_post"];

impl Timed {
    /// Every timed operation.
    pub const ALL: [Timed; 4] = [
        Timed::Seal,
        Timed::SealProof,
        Timed::WindowPost,
        Timed::WinningPost,
    ];

    /// The name in metrics, the database and messages.
    pub fn as_str(self) -> &'static str {
        TIMED[self as usize]
    }
}

impl Metrics {
    /// Records a duration.
    pub fn time(&self, what: Timed, ms: u64) {
        let (sum, n) = &self.durations[what as usize];
        sum.fetch_add(ms, Ordering::Relaxed);
        n.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds one.
    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// The exposition text, with `gauges` (name, labels, value) appended.
    pub fn render(&self, gauges: &[(String, String, f64)]) -> String {
        let mut out = String::new();
        let counters = [
            (
                "strata_posts_submitted_total",
                &self.posts_submitted,
                "WindowPoSt partitions submitted",
            ),
            (
                "strata_posts_missed_total",
                &self.posts_missed,
                "deadline windows closed without our post",
            ),
            (
                "strata_sectors_skipped_total",
                &self.sectors_skipped,
                "sectors skipped as faulty in posts",
            ),
            (
                "strata_winning_posts_total",
                &self.winning_submitted,
                "WinningPoSts submitted",
            ),
            (
                "strata_faults_declared_total",
                &self.faults_declared,
                "sectors declared faulty",
            ),
            (
                "strata_recoveries_declared_total",
                &self.recoveries_declared,
                "sectors declared recovered",
            ),
            (
                "strata_step_failures_total",
                &self.step_failures,
                "pipeline step failures",
            ),
        ];
        for (name, c, help) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                c.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(out, "# HELP strata_proof_seconds time spent per operation\n# TYPE strata_proof_seconds summary");
        for (i, what) in TIMED.iter().enumerate() {
            let (sum, n) = &self.durations[i];
            let _ = writeln!(
                out,
                "strata_proof_seconds_sum{{op=\"{what}\"}} {}",
                sum.load(Ordering::Relaxed) as f64 / 1000.0
            );
            let _ = writeln!(
                out,
                "strata_proof_seconds_count{{op=\"{what}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        let mut last = String::new();
        for (name, labels, v) in gauges {
            if *name != last {
                let _ = writeln!(out, "# TYPE {name} gauge");
                last = name.clone();
            }
            if labels.is_empty() {
                let _ = writeln!(out, "{name} {v}");
            } else {
                let _ = writeln!(out, "{name}{{{labels}}} {v}");
            }
        }
        out
    }
}
