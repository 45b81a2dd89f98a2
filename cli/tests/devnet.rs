//! `strata devnet`, `strata wallet` and `strata chain` as a user runs them: a devnet process,
//! transfers between keys, reads with --json, and `kill -9` in the middle.

mod common;
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Devnet {
    child: Child,
    rpc: String,
}

impl Devnet {
    fn start(home: &Path, port: u16, extra: &[&str]) -> Devnet {
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(["devnet", "run", "--rpc", &addr])
            .args(extra)
            .env("STRATA_HOME", home)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let d = Devnet {
            child,
            rpc: format!("http://{addr}"),
        };
        let t = Instant::now();
        while !d.run(home, &["chain", "head"]).status.success() {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "devnet did not come up"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        d
    }

    fn run(&self, home: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(args)
            .env("STRATA_HOME", home)
            .env("STRATA_RPC", &self.rpc)
            .output()
            .unwrap()
    }

    fn json(&self, home: &Path, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        serde_json::from_str(&common::ok(&self.run(home, &a))).unwrap()
    }

    fn kill9(mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn wallet_transfers_chain_reads_and_kill_9_loses_nothing() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let port = port();
    let net = Devnet::start(h, port, &["--manual"]);
    let alice = net.json(h, &["wallet", "new", "alice"]);
    let alice_addr = alice["address"].as_str().unwrap().to_string();
    net.json(h, &["wallet", "new", "bob"]);
    common::ok(&net.run(h, &["wallet", "send", "--from", "faucet", "alice", "10"]));
    net.json(h, &["devnet", "step", "2"]);
    common::ok(&net.run(h, &["wallet", "send", "--from", "alice", "bob", "2.5"]));
    net.json(h, &["devnet", "step"]);
    let bal = net.json(h, &["wallet", "balance", "alice"]);
    assert_eq!(bal[0]["balance"], "7500000000000000000");
    let events = net.json(h, &["chain", "events", "--who", "bob"]);
    assert_eq!(events.as_array().unwrap().len(), 1);
    assert_eq!(events[0]["why"], "transfer");
    // Errors name the problem and exit non-zero.
    let o = net.run(h, &["wallet", "send", "--from", "bob", &alice_addr, "1000"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("InsufficientFunds"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = net.run(h, &["chain", "miner", "m4242"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not exist"));

    // A message accepted but not applied, then kill -9.
    common::ok(&net.run(h, &["wallet", "send", "--from", "alice", "bob", "1"]));
    let before = net.json(h, &["chain", "head"]);
    assert_eq!(before["head"]["pending_messages"], 1);
    net.kill9();
    let net = Devnet::start(h, port, &["--manual"]);
    let after = net.json(h, &["chain", "head"]);
    assert_eq!(after["head"]["epoch"], before["head"]["epoch"]);
    assert_eq!(after["head"]["state_root"], before["head"]["state_root"]);
    assert_eq!(
        after["head"]["pending_messages"], 1,
        "the accepted message survived"
    );
    net.json(h, &["devnet", "step"]);
    assert_eq!(
        net.json(h, &["wallet", "balance", "bob"])[0]["balance"],
        "3500000000000000000"
    );

    // The beacon: the key made at first start is owner-only and kept across the restart; every
    // entry verifies, and against another key it does not.
    use std::os::unix::fs::PermissionsExt;
    let key = h.join("devnet").join("beacon.key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let b = net.json(h, &["chain", "beacon", "1"]);
    assert_eq!(
        (b["round"].as_u64(), b["verified"].as_bool()),
        (Some(1), Some(true))
    );
    let head = net.json(h, &["chain", "head"]);
    assert_eq!(head["network"]["beacon"]["public_key"], b["public_key"]);
    let b2 = net.json(h, &["chain", "beacon"]);
    assert_eq!(b2["epoch"], head["head"]["epoch"]);
    assert_eq!(b2["signature"], head["head"]["beacon"]["signature"]);
    let quicknet_key = "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a";
    let o = net.run(h, &["chain", "beacon", "1", "--public-key", quicknet_key]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("refused"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A devnet following drand's quicknet from a relay file of real published rounds: the entries
/// it uses are drand's own, verified against drand's key.
#[test]
fn a_devnet_follows_drand_quicknet_from_a_relay_file() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let doc: Value =
        serde_json::from_str(include_str!("../../chain-client/testdata/quicknet.json")).unwrap();
    let info = &doc["info"];
    let (g, period) = (
        info["genesis_time"].as_u64().unwrap(),
        info["period"].as_u64().unwrap(),
    );
    let relay = h.join("relay.json");
    std::fs::write(&relay, doc["rounds"].to_string()).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["devnet", "genesis"])
        .output()
        .unwrap();
    let genesis = common::ok(&o)
        .replace(
            "kind = \"devnet\"",
            &format!(
                "kind = \"drand\"\npublic_key = {}\ngenesis_time = {g}\nperiod = {period}\nchain_genesis_time = {}",
                info["public_key"],
                g + period
            ),
        )
        .replace("block_time_ms = 1000", "block_time_ms = 3000");
    let gfile = h.join("genesis.toml");
    std::fs::write(&gfile, genesis).unwrap();
    let net = Devnet::start(
        h,
        port(),
        &[
            "--manual",
            "--genesis",
            gfile.to_str().unwrap(),
            "--drand-relay",
            relay.to_str().unwrap(),
        ],
    );
    net.json(h, &["devnet", "step"]);
    let b = net.json(h, &["chain", "beacon", "1"]);
    assert_eq!(b["round"], 3);
    assert_eq!(b["signature"], doc["rounds"][1]["signature"]);
    assert_eq!(b["public_key"], info["public_key"]);
    assert!(!h.join("devnet").join("beacon.key").exists());
    // Round 4 is not in the relay: stepping fails and says why.
    let o = net.run(h, &["devnet", "step"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("round 4"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn epochs_advance_on_the_clock_and_step_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let net = Devnet::start(h, port(), &["--block-time-ms", "50"]);
    let t = Instant::now();
    while net.json(h, &["chain", "head"])["head"]["epoch"]
        .as_i64()
        .unwrap()
        < 5
    {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "epochs do not advance"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = net.run(h, &["devnet", "step"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("Forbidden"));
    let o = net.run(h, &["devnet", "run", "--genesis", "/nonexistent.toml"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read genesis file"));
}
