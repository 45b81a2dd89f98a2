//! Progress bars on a terminal (hidden automatically when stderr is not one).

use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Mutex;
use strata_sealer::Progress;

/// One bar per phase, drawn on stderr.
pub struct Bars {
    current: Mutex<Option<ProgressBar>>,
    quiet: bool,
}

impl Bars {
    /// Bars unless `quiet` (e.g. `--json`).
    pub fn new(quiet: bool) -> Self {
        Bars {
            current: Mutex::new(None),
            quiet,
        }
    }
}

impl Progress for Bars {
    fn start(&self, phase: &str, total: u64) {
        if self.quiet {
            return;
        }
        let bar = ProgressBar::new(total.max(1));
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:>22} [{bar:40}] {percent:>3}% {elapsed_precise} eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message(phase.to_string());
        if let Some(old) = self.current.lock().unwrap().replace(bar) {
            old.finish_and_clear();
        }
    }
    fn advance(&self, n: u64) {
        if let Some(b) = self.current.lock().unwrap().as_ref() {
            b.inc(n);
        }
    }
    fn finish(&self) {
        if let Some(b) = self.current.lock().unwrap().take() {
            b.set_position(b.length().unwrap_or(0));
            b.finish();
        }
    }
}
