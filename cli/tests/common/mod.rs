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
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}
