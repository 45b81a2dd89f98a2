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
use common::{port, scrape, Env, Kill};
use serde_json::Value;
use std::time::{Duration, Instant};
use strata_provider::pg_server::PgServer;

/// `env`'s JSON output, or `Null` while the command fails (the database is down, say).
fn try_json(env: &Env, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    let o = env.run(&a);
    if !o.status.success() {
        return Value::Null;
    }
    serde_json::from_slice(&o.stdout).unwrap_or(Value::Null)
}

/// The chain's view of m1000's sectors: (active, faulty).
fn sectors(env: &Env) -> (u64, u64) {
    let m = env.json(&["chain", "miner", "m1000"]);
    (
        m["sectors"]["active"].as_u64().unwrap(),
        m["sectors"]["faulty"].as_u64().unwrap(),
    )
}

/// Fault fees charged to m1000 so far.
fn fault_fees(env: &Env) -> usize {
    env.json(&["chain", "events", "--who", "m1000"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["why"].as_str().unwrap_or("").contains("fault"))
        .count()
}

/// Every task of the cluster.
fn tasks(env: &Env) -> Vec<Value> {
    env.json(&["cluster", "tasks", "--limit", "1000"])
        .as_array()
        .unwrap()
        .clone()
}

fn leads(listen: &str) -> bool {
    scrape(listen).contains("\nstrata_leader 1\n")
}

#[test]
fn workers_seal_through_a_killed_worker_a_standby_takeover_and_a_database_restart() {
    let pg = PgServer::start().expect("PostgreSQL server binaries (apt-get install postgresql)");
    let (chain_port, a_port, b_port) = (port(), port(), port());
    let db = pg.url("postgres");
    let env = Env {
        home: tempfile::tempdir().unwrap(),
        rpc: format!("http://127.0.0.1:{chain_port}"),
        vars: vec![("STRATA_DB".into(), db.clone())],
    };
    let h = env.home.path().to_path_buf();
    let _chain = env.devnet_with_owner_and_client(chain_port, 1500);
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
        &db,
    ]);
    // A lone devnet miner wins every epoch: answering one WinningPoSt in ten epochs leaves the
    // two cores to the workers' seal proofs and the WindowPoSts this test is about.
    let config = h.join("miner").join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("winning_min_interval = 0"), "{text}");
    std::fs::write(
        &config,
        text.replace("winning_min_interval = 0", "winning_min_interval = 10"),
    )
    .unwrap();
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
            && try_json(&env, &["cluster", "machines"])
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
        // Far enough ahead that the worker killed below (its task released 30 s later) cannot
        // make the provider miss the start: a client sealing with a cluster leaves that margin.
        "--start-in",
        "300",
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
        victim = tasks(&env).into_iter().find(|t| {
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
    // Its work is finished by another machine: the task itself once released (attempt 2), or —
    // if the sector's ticket aged out while the task waited, and the daemon withdrew it for a
    // fresh one — the same kind of task for the same sector.
    let (kind, sector) = (victim["kind"].clone(), victim["sector"].clone());
    env.wait("the killed worker's work finished elsewhere", 600, || {
        tasks(&env).iter().any(|t| {
            t["state"] == "done"
                && t["machine"].as_i64() != Some(holder)
                && ((t["id"] == task_id && t["attempts"].as_u64() >= Some(2))
                    || (t["id"] != task_id && t["kind"] == kind && t["sector"] == sector))
        })
    });
    env.wait("six sectors active", 900, || sectors(&env).0 == 6);
    // Nothing lost, nothing sealed twice: one finished seal per sector, no failed one, and
    // every sector's files on a worker.
    let tasks = tasks(&env);
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
    // It signs nothing: a deal sent to it is refused before any data is read.
    let refused = {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(&b).unwrap();
        write!(
            c,
            "POST /deals HTTP/1.0\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        out
    };
    assert!(
        refused.lines().next().is_some_and(|l| l.contains(" 503 ")) && refused.contains("standby"),
        "{refused}"
    );
    let windows_before = env.json(&["audit", "miner", "m1000"])["window"]
        .as_u64()
        .unwrap();
    let fees_before = fault_fees(&env);
    drop(daemon_a);
    env.wait("the standby leads", 20, || leads(&b));
    // A whole proving period (60 epochs of 1.5 s) and then some: every deadline comes round
    // once. A missed deadline makes its sectors faulty for at least a period: sampling sees it.
    let until = Instant::now() + Duration::from_secs(100);
    while Instant::now() < until {
        assert_eq!(
            sectors(&env),
            (6, 0),
            "a sector went faulty after the handover"
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    assert_eq!(fault_fees(&env), fees_before, "a deadline was missed");
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
        assert_eq!(
            sectors(&env),
            (6, 0),
            "a sector went faulty with the database down"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    pg.start_again().unwrap();
    env.wait("every live machine heartbeating again", 60, || {
        let m = try_json(&env, &["cluster", "machines"]);
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
        let (active, faulty) = sectors(&env);
        assert_eq!(
            faulty, 0,
            "a sector went faulty across the database restart"
        );
        active == 7
    });
    assert_eq!(fault_fees(&env), fees_before, "a deadline was missed");
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
