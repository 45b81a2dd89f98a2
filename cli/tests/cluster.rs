//! A storage provider on several machines, as operators run it, on a real PostgreSQL server of
//! the test's own (it is stopped and started again mid-test): a devnet, a daemon that runs no
//! tasks itself, three `strata worker` processes sealing and proving, a standby daemon.
//!
//! - Six sectors (one deal, five committed-capacity) are sealed and proven by the workers; one
//!   worker is SIGKILLed while it holds a task, which another worker finishes; no sector is lost
//!   and none is sealed twice.
//! - The daemon is SIGKILLed; the standby takes the signing role within seconds and a whole
//!   proving period passes with no deadline missed (no sector faulty, no fault fee).
//! - The database is stopped for ten seconds and started again: every process carries on — the
//!   workers heartbeat again, the leader keeps proving, a new sector is sealed and activated.
//!
//! Needs PostgreSQL's server binaries (Debian `postgresql`, which `.ci/run` installs).

mod common;
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use strata_provider::pg_server::PgServer;

fn port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Env {
    home: tempfile::TempDir,
    rpc: String,
    db: String,
}

impl Env {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_strata"));
        c.args(args)
            .env("STRATA_HOME", self.home.path())
            .env("STRATA_RPC", &self.rpc)
            .env("STRATA_DB", &self.db);
        c
    }
    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }
    fn ok(&self, args: &[&str]) -> String {
        common::ok(&self.run(args))
    }
    fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        serde_json::from_str(&self.ok(&a)).unwrap()
    }
    /// `json`, or `Null` while the command fails (the database is down, say).
    fn try_json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        let o = self.run(&a);
        if !o.status.success() {
            return Value::Null;
        }
        serde_json::from_slice(&o.stdout).unwrap_or(Value::Null)
    }
    fn spawn(&self, args: &[&str], log: &Path) -> Child {
        self.cmd(args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .env("STRATA_LOG", "info")
            .spawn()
            .unwrap()
    }
    fn wait(&self, what: &str, secs: u64, mut f: impl FnMut() -> bool) {
        let t = Instant::now();
        while !f() {
            assert!(
                t.elapsed() < Duration::from_secs(secs),
                "{what}: not within {secs} s; tasks: {}",
                self.ok(&["cluster", "tasks"])
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    /// The chain's view of m1000's sectors: (active, faulty).
    fn sectors(&self) -> (u64, u64) {
        let m = self.json(&["chain", "miner", "m1000"]);
        (
            m["sectors"]["active"].as_u64().unwrap(),
            m["sectors"]["faulty"].as_u64().unwrap(),
        )
    }
    /// Fault fees charged to m1000 so far.
    fn fault_fees(&self) -> usize {
        self.json(&["chain", "events", "--who", "m1000"])
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["why"].as_str().unwrap_or("").contains("fault"))
            .count()
    }
    fn tasks(&self) -> Vec<Value> {
        self.json(&["cluster", "tasks", "--limit", "1000"])
            .as_array()
            .unwrap()
            .clone()
    }
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A daemon's `GET /metrics`, over a bare HTTP/1.0 request ("" if it does not answer).
fn scrape(listen: &str) -> String {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(listen) else {
        return String::new();
    };
    let _ = write!(s, "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn leads(listen: &str) -> bool {
    scrape(listen).contains("\nstrata_leader 1\n")
}

#[test]
fn workers_seal_through_a_killed_worker_a_standby_takeover_and_a_database_restart() {
    let pg = PgServer::start().expect("PostgreSQL server binaries (apt-get install postgresql)");
    let (chain_port, a_port, b_port) = (port(), port(), port());
    let env = Env {
        home: tempfile::tempdir().unwrap(),
        rpc: format!("http://127.0.0.1:{chain_port}"),
        db: pg.url("postgres"),
    };
    let h = env.home.path().to_path_buf();
    let _chain = Kill(env.spawn(
        &[
            "devnet",
            "run",
            "--rpc",
            &format!("127.0.0.1:{chain_port}"),
            "--block-time-ms",
            "1500",
        ],
        &h.join("chain.log"),
    ));
    env.wait("devnet up", 30, || {
        env.run(&["chain", "head"]).status.success()
    });
    env.ok(&["wallet", "new", "owner"]);
    env.ok(&["wallet", "new", "client"]);
    env.ok(&[
        "wallet", "send", "--from", "faucet", "owner", "500", "--wait",
    ]);
    env.ok(&[
        "wallet", "send", "--from", "faucet", "client", "100", "--wait",
    ]);
    let (a, b) = (format!("127.0.0.1:{a_port}"), format!("127.0.0.1:{b_port}"));
    env.ok(&[
        "miner",
        "init",
        "--owner",
        "owner",
        "--listen",
        &a,
        "--min-start-delay",
        "40",
        "--db",
        &env.db,
    ]);
    // The daemon seals nothing itself: every task goes to the workers.
    let daemon_a = Kill(env.spawn(
        &["miner", "run", "--tasks", "none", "--name", "daemon-a"],
        &h.join("daemon-a.log"),
    ));
    let mut workers: Vec<Option<Kill>> = (1..=3)
        .map(|i| {
            let listen = format!("127.0.0.1:{}", port());
            let storage = h.join(format!("w{i}"));
            Some(Kill(env.spawn(
                &[
                    "worker",
                    "run",
                    "--storage",
                    storage.to_str().unwrap(),
                    "--listen",
                    &listen,
                    "--name",
                    &format!("w{i}"),
                    // Workers share this machine with the daemon: they seal at the lowest
                    // priority, as an operator co-locating them would run them.
                    "--nice",
                    "19",
                ],
                &h.join(format!("w{i}.log")),
            )))
        })
        .collect();
    env.wait("endpoint up and four machines registered", 60, || {
        std::net::TcpStream::connect(&a).is_ok()
            && env
                .try_json(&["cluster", "machines"])
                .as_array()
                .map(|m| m.len())
                == Some(4)
    });
    let machines = env.json(&["cluster", "machines"]);
    let id_of = |name: &str| {
        machines
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let daemon_id = id_of("daemon-a");

    // One deal (its piece is fetched from the daemon by whichever worker seals it), then five
    // committed-capacity sectors.
    let file = h.join("hello.txt");
    std::fs::write(&file, "hello, cluster — ".repeat(80)).unwrap();
    let d = env.json(&[
        "client",
        "deal",
        "--miner",
        "m1000",
        "--price-per-epoch",
        "1000000atto",
        "--from",
        "client",
        file.to_str().unwrap(),
    ]);
    assert_eq!(d["status"], "published", "{d}");
    let deal = d["id"].as_u64().unwrap();
    env.wait("the deal's sector", 60, || {
        env.json(&["miner", "sectors", "list"])
            .as_array()
            .is_some_and(|s| !s.is_empty())
    });
    for _ in 0..5 {
        env.ok(&["miner", "pledge"]);
    }

    // A worker holding a task is killed with SIGKILL; another one finishes the task.
    let mut victim = None;
    env.wait("a worker running a task", 300, || {
        victim = env.tasks().into_iter().find(|t| {
            t["state"] == "running" && t["machine"].as_i64().is_some_and(|m| m != daemon_id)
        });
        victim.is_some()
    });
    let victim = victim.unwrap();
    let (task_id, holder) = (
        victim["id"].as_i64().unwrap(),
        victim["machine"].as_i64().unwrap(),
    );
    let w = (1..=3).find(|i| id_of(&format!("w{i}")) == holder).unwrap();
    drop(workers[w - 1].take());
    env.wait("the killed worker's task finished elsewhere", 400, || {
        env.tasks().iter().any(|t| {
            t["id"] == task_id
                && t["state"] == "done"
                && t["machine"].as_i64() != Some(holder)
                && t["attempts"].as_u64() >= Some(2)
        })
    });
    env.wait("six sectors active", 600, || env.sectors().0 == 6);
    // Nothing lost, nothing sealed twice: one finished seal per sector, no failed one, and
    // every sector's files on a worker.
    let tasks = env.tasks();
    for n in 1..=6u64 {
        let seals: Vec<&Value> = tasks
            .iter()
            .filter(|t| t["kind"] == "seal" && t["sector"] == n)
            .collect();
        assert_eq!(seals.len(), 1, "sector {n}: {seals:?}");
        assert_eq!(seals[0]["state"], "done", "sector {n}: {seals:?}");
    }
    let storage = env.json(&["cluster", "storage"]);
    let storage = storage.as_array().unwrap();
    assert_eq!(storage.len(), 6, "{storage:?}");
    assert!(
        storage.iter().all(|s| s["machine"] != daemon_id),
        "{storage:?}"
    );
    // The deal's data comes back, unsealed by the worker holding its sector.
    let back = h.join("back.txt");
    env.ok(&[
        "client",
        "retrieve",
        &deal.to_string(),
        "--out",
        back.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(&file).unwrap());

    // A standby daemon of the same miner waits while the first one leads.
    let daemon_b = Kill(env.spawn(
        &[
            "miner", "run", "--tasks", "none", "--name", "daemon-b", "--listen", &b,
        ],
        &h.join("daemon-b.log"),
    ));
    env.wait("standby up", 60, || scrape(&b).contains("strata_leader 0"));
    assert!(leads(&a));
    let windows_before = env.json(&["audit", "miner", "m1000"])["window"]
        .as_u64()
        .unwrap();
    let fees_before = env.fault_fees();
    drop(daemon_a);
    env.wait("the standby leads", 20, || leads(&b));
    // A whole proving period (60 epochs of 1.5 s) and then some: every deadline comes round
    // once. A missed deadline makes its sectors faulty for at least a period: sampling sees it.
    let until = Instant::now() + Duration::from_secs(100);
    while Instant::now() < until {
        assert_eq!(
            env.sectors(),
            (6, 0),
            "a sector went faulty after the handover"
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    assert_eq!(env.fault_fees(), fees_before, "a deadline was missed");
    let windows_after = env.json(&["audit", "miner", "m1000"])["window"]
        .as_u64()
        .unwrap();
    assert!(
        windows_after >= windows_before + 6,
        "{windows_before} → {windows_after} WindowPoSts"
    );

    // The database is stopped for ten seconds and started again.
    pg.stop().unwrap();
    let down = Instant::now();
    while down.elapsed() < Duration::from_secs(10) {
        assert_eq!(env.sectors(), (6, 0), "a sector went faulty with the database down");
        std::thread::sleep(Duration::from_millis(500));
    }
    pg.start_again().unwrap();
    env.wait("every live machine heartbeating again", 60, || {
        let m = env.try_json(&["cluster", "machines"]);
        m.as_array().is_some_and(|ms| {
            ms.iter()
                .filter(|m| m["name"] != "daemon-a" && m["name"] != format!("w{w}"))
                .all(|m| m["alive"] == true && m["heartbeat_age_ms"].as_i64() < Some(5_000))
        })
    });
    for (i, wk) in workers.iter_mut().enumerate() {
        if let Some(k) = wk {
            assert!(
                k.0.try_wait().unwrap().is_none(),
                "worker w{} exited",
                i + 1
            );
        }
    }
    let mut daemon_b = daemon_b;
    assert!(
        daemon_b.0.try_wait().unwrap().is_none(),
        "the daemon exited"
    );
    env.wait("the daemon leads again", 30, || leads(&b));
    // Work goes on: a new sector is sealed by the workers and activated, and no deadline is
    // missed across the outage (no sector faulty at any sample).
    env.ok(&["miner", "pledge"]);
    env.wait("a seventh sector active", 400, || {
        let (active, faulty) = env.sectors();
        assert_eq!(faulty, 0, "a sector went faulty across the database restart");
        active == 7
    });
    assert_eq!(env.fault_fees(), fees_before, "a deadline was missed");
    let metrics = scrape(&b);
    assert!(
        metrics.contains("strata_tasks{kind=\"seal\",state=\"done\"} 7"),
        "{metrics}"
    );
    assert!(
        metrics.contains("strata_machines{state=\"dead\"} 2"),
        "{metrics}"
    );
}
