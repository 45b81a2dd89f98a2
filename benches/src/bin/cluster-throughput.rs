//! Sealing throughput of a cluster with 1, 2 and 3 `strata worker` processes, and the latency
//! of claiming a task, on a private PostgreSQL server (or `$STRATA_TEST_PG`).
//!
//! ```sh
//! cargo build --release -p strata-cli
//! cargo run --release -p strata-benches --bin cluster-throughput -- 3 target/release/strata
//! ```
//!
//! For each worker count N, queues `sectors` committed-capacity 2 KiB seal tasks straight into
//! the database, starts N workers, and times until every sector is sealed and then until every
//! sector's seal proof (a task bound to the sector's machine) is done. Then times 200
//! claim-and-finish round trips of one machine on an otherwise idle queue.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use strata_provider::db::cluster::{kind, state};
use strata_provider::db::Db;
use strata_provider::tasks::{ProofInput, SealInput, SealOutput};

fn port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_done(db: &Db, kind: &str, n: usize) {
    loop {
        let done = db
            .tasks(10_000)
            .unwrap()
            .iter()
            .filter(|t| t.kind == kind && t.state == state::DONE)
            .count();
        if done >= n {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sectors: u64 = args
        .first()
        .map_or(3, |a| a.parse().expect("a sector count"));
    let exe = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "target/release/strata".into());
    println!("| workers | {sectors} seals | {sectors} seal proofs | sectors per hour |");
    println!("|---|---|---|---|");
    for workers in 1..=3u64 {
        let tdb = strata_provider::pg_server::test_database("throughput").unwrap();
        let db = Db::open_location(&tdb.url).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for n in 1..=sectors {
            let input = SealInput {
                proof_type: 1,
                miner: 1000,
                ticket_epoch: 1,
                ticket: [n as u8; 32],
                pieces: vec![],
            };
            db.ensure_task(
                kind::SEAL,
                n,
                "bench",
                &serde_json::to_string(&input).unwrap(),
                None,
            )
            .unwrap();
        }
        let started = Instant::now();
        let mut procs: Vec<Child> = (0..workers)
            .map(|i| {
                Command::new(&exe)
                    .args(["worker", "run", "--db", &tdb.url, "--storage"])
                    .arg(dir.path().join(format!("w{i}")))
                    .args(["--listen", &format!("127.0.0.1:{}", port())])
                    .args(["--name", &format!("w{i}")])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("the strata binary")
            })
            .collect();
        wait_done(&db, kind::SEAL, sectors as usize);
        let sealed = started.elapsed();
        for t in db.tasks(10_000).unwrap() {
            if t.kind != kind::SEAL {
                continue;
            }
            let out: SealOutput = serde_json::from_str(t.result.as_deref().unwrap()).unwrap();
            let input = ProofInput {
                seed: [t.sector as u8 ^ 0x5a; 32],
                comm_r: out.comm_r,
                path: out.path,
            };
            db.ensure_task(
                kind::SEAL_PROOF,
                t.sector,
                "bench",
                &serde_json::to_string(&input).unwrap(),
                t.machine,
            )
            .unwrap();
        }
        let proving = Instant::now();
        wait_done(&db, kind::SEAL_PROOF, sectors as usize);
        let proved = proving.elapsed();
        let total = started.elapsed();
        for p in &mut procs {
            let _ = p.kill();
            let _ = p.wait();
        }
        println!(
            "| {workers} | {:.1} s | {:.1} s | {:.0} |",
            sealed.as_secs_f64(),
            proved.as_secs_f64(),
            sectors as f64 * 3600.0 / total.as_secs_f64()
        );
    }

    // Claim latency: one machine claiming and finishing tasks one by one.
    for engine in ["SQLite", "PostgreSQL"] {
        let tdb;
        let file = tempfile::tempdir().unwrap();
        let location = if engine == "SQLite" {
            file.path().join("db.sqlite").display().to_string()
        } else {
            tdb = strata_provider::pg_server::test_database("claims").unwrap();
            tdb.url.clone()
        };
        let db = Db::open_location(&location).unwrap();
        let spec = strata_provider::cluster::machine_spec(
            "bench".into(),
            "http://127.0.0.1:1".into(),
            &[kind::SEAL],
            vec![],
        );
        let me = db.register_machine(&spec).unwrap();
        let rounds = 200u64;
        for n in 0..rounds {
            db.ensure_task(kind::SEAL, n, "k", "{}", None).unwrap();
        }
        let mut claims = Vec::new();
        for _ in 0..rounds {
            let t = Instant::now();
            let task = db.claim_task(me, &[kind::SEAL], 30_000).unwrap().unwrap();
            claims.push(t.elapsed());
            db.finish_task(task.id, me, Ok("{}".into()), |_| Ok(()))
                .unwrap();
        }
        claims.sort();
        println!(
            "claim latency on {engine}: median {:.2} ms, p99 {:.2} ms ({rounds} claims, 200 tasks queued)",
            claims[claims.len() / 2].as_secs_f64() * 1e3,
            claims[claims.len() * 99 / 100].as_secs_f64() * 1e3
        );
    }
}
