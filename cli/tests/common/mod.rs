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

/// A free TCP port on loopback.
#[allow(dead_code)]
pub fn port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `strata` environment: a home, a chain RPC URL, and any other variables its commands get.
#[allow(dead_code)]
pub struct Env {
    /// `$STRATA_HOME`.
    pub home: tempfile::TempDir,
    /// `$STRATA_RPC`.
    pub rpc: String,
    /// More variables (`STRATA_DB`, …).
    pub vars: Vec<(String, String)>,
}

#[allow(dead_code)]
impl Env {
    /// `strata ARGS` in this environment.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_strata"));
        c.args(args)
            .env("STRATA_HOME", self.home.path())
            .env("STRATA_RPC", &self.rpc);
        for (k, v) in &self.vars {
            c.env(k, v);
        }
        c
    }
    /// Runs it.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }
    /// Runs it, asserting success; stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        ok(&self.run(args))
    }
    /// Runs it with `--json`, asserting success; the parsed output.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        serde_json::from_str(&self.ok(&a)).unwrap()
    }
    /// Starts it in the background, its log (at `info`) in `log`.
    pub fn spawn(&self, args: &[&str], log: &Path) -> std::process::Child {
        self.cmd(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .env("STRATA_LOG", "info")
            .spawn()
            .unwrap()
    }
    /// Polls `f` until it holds, failing after `secs` seconds.
    pub fn wait(&self, what: &str, secs: u64, mut f: impl FnMut() -> bool) {
        let t = std::time::Instant::now();
        while !f() {
            assert!(
                t.elapsed() < std::time::Duration::from_secs(secs),
                "{what}: not within {secs} s"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
}

/// A child process killed (SIGKILL) and reaped when dropped.
#[allow(dead_code)]
pub struct Kill(pub std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A daemon's `GET /metrics`, over a bare HTTP/1.0 request ("" if nothing answers).
#[allow(dead_code)]
pub fn scrape(listen: &str) -> String {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(listen) else {
        return String::new();
    };
    let _ = write!(s, "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[allow(dead_code)]
impl Env {
    /// Starts a devnet on `port` with `block_ms` epochs (its log in the home), waits for it, and
    /// funds two new keys from the faucet: `owner` (500) and `client` (100).
    pub fn devnet_with_owner_and_client(&self, port: u16, block_ms: u64) -> Kill {
        let chain = Kill(self.spawn(
            &[
                "devnet",
                "run",
                "--rpc",
                &format!("127.0.0.1:{port}"),
                "--block-time-ms",
                &block_ms.to_string(),
            ],
            &self.home.path().join("chain.log"),
        ));
        self.wait("devnet up", 30, || {
            self.run(&["chain", "head"]).status.success()
        });
        for (who, amount) in [("owner", "500"), ("client", "100")] {
            self.ok(&["wallet", "new", who]);
            self.ok(&["wallet", "send", "--from", "faucet", who, amount, "--wait"]);
        }
        chain
    }
}
