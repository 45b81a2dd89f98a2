//! The provider as operators and clients run it, as separate processes: a devnet, `strata miner
//! init` and `run`, `strata client deal`; the daemon killed with SIGKILL in the middle of the
//! sealing pipeline and started again, and the sector still reaching the chain; then retrieval,
//! the client's and miner's views, and an audit of every posted proof.

mod common;
use common::{port, scrape, Env, Kill};
use std::time::Duration;

fn step(env: &Env, n: u64) -> String {
    env.json(&["miner", "sectors", "list"])
        .as_array()
        .and_then(|a| a.get(n as usize - 1).cloned())
        .map(|s| s["local"]["step"].as_str().unwrap_or("").to_string())
        .unwrap_or_default()
}

#[test]
fn deal_through_a_daemon_killed_mid_pipeline_then_retrieve_and_audit() {
    let (chain_port, miner_port) = (port(), port());
    let env = Env {
        home: tempfile::tempdir().unwrap(),
        rpc: format!("http://127.0.0.1:{chain_port}"),
        vars: vec![],
    };
    let h = env.home.path().to_path_buf();
    let _chain = env.devnet_with_owner_and_client(chain_port, 1000);
    let listen = format!("127.0.0.1:{miner_port}");
    let out = env.ok(&[
        "miner",
        "init",
        "--owner",
        "owner",
        "--listen",
        &listen,
        "--min-start-delay",
        "40",
    ]);
    assert!(out.contains("m1000"), "{out}");
    // Unreachable provider: a clear client error.
    let file = h.join("hello.txt");
    std::fs::write(&file, "hello, strata — ".repeat(80)).unwrap();
    let deal = [
        "client",
        "deal",
        "--miner",
        "m1000",
        "--price-per-epoch",
        "1000000atto",
        // No --duration or --provider-collateral: the chain's minimums (180 days; 1% of supply
        // by power share, plus 10%). No --start-in: the provider's ask names the earliest start
        // it can meet on this machine as loaded now.
        "--from",
        "client",
    ];
    let o = env.run(&[&deal[..], &[file.to_str().unwrap()]].concat());
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("unreachable"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let daemon = Kill(env.spawn(&["miner", "run"], &h.join("miner-1.log")));
    env.wait("endpoint up", 60, || {
        std::net::TcpStream::connect(&listen).is_ok()
    });
    let d = env.json(&[&deal[..], &[file.to_str().unwrap()]].concat());
    assert_eq!(d["status"], "published");
    let id = d["id"].as_u64().unwrap();

    // SIGKILL in the middle of the pipeline (the seal proof), then run again.
    env.wait("seal proof under way", 120, || step(&env, 1) == "proving");
    std::thread::sleep(Duration::from_secs(2));
    drop(daemon);
    assert_eq!(step(&env, 1), "proving", "the step survived the kill");
    let _daemon = Kill(env.spawn(&["miner", "run"], &h.join("miner-2.log")));
    env.wait("sector active on chain", 300, || {
        env.json(&["chain", "sector", "m1000", "1"])["status"] == "active"
    });
    let info = env.json(&["miner", "info"]);
    assert_eq!(info["miner"]["raw_power"], 2048);
    assert_ne!(info["miner"]["balances"]["locked_pledge"], "0");
    assert_eq!(
        env.json(&["client", "deals", "--from", "client"])[0]["status"],
        "active"
    );
    assert!(env.ok(&["miner", "deals"]).contains(&format!("deal {id}")));

    // Retrieval, checked against CommP.
    let back = h.join("back.txt");
    env.ok(&[
        "client",
        "retrieve",
        &id.to_string(),
        "--out",
        back.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(&file).unwrap());

    // A WindowPoSt lands, then the audit re-verifies everything posted.
    env.wait("a WindowPoSt", 180, || {
        env.json(&["audit", "miner", "m1000"])["window"]
            .as_u64()
            .unwrap_or(0)
            >= 1
    });
    let audit = env.json(&["audit", "miner", "m1000"]);
    assert_eq!(audit["seal"], 1);
    // The daemon timed its proofs; `miner info` sets them against the deadline budgets.
    let info = env.json(&["miner", "info"]);
    let window = &info["budgets"][0];
    assert_eq!(window["op"], "window_post", "{info}");
    assert!(window["samples"].as_u64().unwrap() >= 1, "{info}");
    assert!(window["measured_ms"].as_u64().unwrap() > 0, "{info}");
    assert_eq!(window["budget_ms"], 6000, "{info}");
    assert!(
        !info["times_ms"]["seal_proof"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{info}"
    );
    assert!(env
        .ok(&["miner", "info"])
        .contains("WindowPoSt: slowest of"));
    assert_eq!(audit["invalid"].as_array().unwrap().len(), 0);
    let checked = audit["seal"].as_u64().unwrap()
        + audit["window"].as_u64().unwrap()
        + audit["winning"].as_u64().unwrap();
    assert_eq!(audit["beacon_checked"].as_u64(), Some(checked));
    let metrics = scrape(&listen);
    assert!(
        metrics.contains("strata_sectors{state=\"active\"} 1"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("strata_posts_submitted_total 0"),
        "{metrics}"
    );

    // Permanent storage from the CLI: refusals first, nothing paid for them.
    let archive = h.join("archive.txt");
    std::fs::write(&archive, "kept for ever. ".repeat(60)).unwrap();
    let a = archive.to_str().unwrap();
    let o = env.run(&["client", "store", a, "--from", "client"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--permanent"));
    let o = env.run(&[
        "client",
        "store",
        "--permanent",
        a,
        "--max-fee",
        "1atto",
        "--from",
        "client",
    ]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("above max_fee"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(env.json(&["chain", "endowment"])["pieces"], 0);
    // Two replicas wanted, one miner: it takes one, the other slot stays open for repairs.
    let r = env.json(&[
        "client",
        "store",
        "--permanent",
        a,
        "--replicas",
        "2",
        "--from",
        "client",
    ]);
    assert_eq!(r["replicas"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["replicas"][0][0], 1000, "{r}");
    // The provider's claim is a message: it lands in the next block.
    env.wait("the claim on chain", 60, || {
        env.json(&["chain", "endowment"])["replicas_claimed"] == 1
    });
    let e = env.json(&["chain", "endowment"]);
    assert_eq!(e["pieces"], 1, "{e}");
    assert_eq!(e["pool"], r["quote"]["endowment"], "{e} {r}");
    assert_eq!(e["replicas_claimed"], 1, "{e}");
    assert_eq!(e["replicas_open"], 1, "{e}");
    let text = env.ok(&["chain", "endowment", "--pieces"]);
    assert!(text.contains("slot 1: Open"), "{text}");
    // `miner info` and /metrics show the replica claimed (its sealing is the provider test's).
    let info = env.json(&["miner", "info"]);
    assert_eq!(info["permanent"]["replicas_claimed"], 1, "{info}");
    assert_eq!(info["permanent"]["replicas_held"], 0, "{info}");
    let text = env.ok(&["miner", "info"]);
    assert!(
        text.contains("permanent storage: 0 replicas held (0 B), 1 claimed"),
        "{text}"
    );
    let metrics = scrape(&listen);
    assert!(
        metrics.contains("strata_permanent_replicas{state=\"claimed\"} 1"),
        "{metrics}"
    );
}
