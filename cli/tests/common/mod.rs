//! Shared helpers for the binary's tests.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `strata` with `args`, its parent cache in `cache`.
#[allow(dead_code)]
pub fn strata(args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .env("STRATA_PARENT_CACHE", cache)
        .output()
        .unwrap()
}

/// Asserts success and returns stdout.
#[allow(dead_code)]
pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "stderr: {}\nstdout: {}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A CPU hog: one busy thread per core at normal priority, in the test's own process, until it
/// is dropped or `limit` has passed (so a failing test never leaves it running).
#[allow(dead_code)]
pub struct CpuHog {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<u64>>,
}

#[allow(dead_code)]
impl CpuHog {
    /// Starts the hog on every core.
    pub fn start(limit: std::time::Duration) -> CpuHog {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = (0..n)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let t = std::time::Instant::now();
                    let mut x = 0u64;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) && t.elapsed() < limit {
                        for i in 0..100_000u64 {
                            x = std::hint::black_box(x.wrapping_mul(6364136223846793005) ^ i);
                        }
                    }
                    x
                })
            })
            .collect();
        CpuHog { stop, threads }
    }
}

impl Drop for CpuHog {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
