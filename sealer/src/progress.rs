//! Progress reporting for long work, kept free of any terminal library: the CLI draws bars,
//! the daemon logs, tests ignore it.

/// Receives progress of a long operation. Implementations must be cheap and thread-safe.
pub trait Progress: Sync {
    /// A new phase begins with `total` units of work.
    fn start(&self, phase: &str, total: u64);
    /// `n` more units are done.
    fn advance(&self, n: u64);
    /// The current phase is done.
    fn finish(&self);
}

/// Ignores progress.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}
