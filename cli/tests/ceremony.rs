//! `strata ceremony` end to end with the real 2 KiB circuits: a three-party powers of tau closed
//! by a beacon, a three-party phase 2, `finalize` into a parameter directory, then `strata prove`
//! with those parameters and `strata verify` accepting the proof — while a proof made with the
//! parameters of another ceremony of the same circuit is rejected.
//!
//! The WindowPoSt ceremony (2^15) runs in the suite (about 4 minutes on 2 cores). The
//! WinningPoSt one (2^16: its phase-2 start alone takes ~4 minutes of group FFTs) is ignored by
//! default: `cargo test -p strata-cli --test ceremony -- --ignored`.

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const RAND: &str = "3333333333333333333333333333333333333333333333333333333333333333";
const BEACON: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// Runs `strata` with its parameters in `params` and its parent cache in `cache`.
fn strata(args: &[&str], params: &Path, cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .env("STRATA_PARAMS", params)
        .env("STRATA_PARENT_CACHE", cache)
        .output()
        .unwrap()
}

fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "stderr: {}\nstdout: {}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(o: Output) -> Value {
    serde_json::from_str(ok(o).trim()).unwrap()
}

struct Setup {
    tmp: tempfile::TempDir,
    cache: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let cache = tmp.path().join("parents");
        Setup { tmp, cache }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn run(&self, args: &[&str], params: &Path) -> Output {
        strata(args, params, &self.cache)
    }

    /// A closed three-party powers of tau of 2^power.
    fn tau(&self, power: u32) -> PathBuf {
        let dir = self.path("ptau");
        let p = self.path("unused-params");
        let d = dir.to_str().unwrap();
        ok(self.run(
            &[
                "ceremony",
                "tau",
                "new",
                "--power",
                &power.to_string(),
                "--out",
                d,
            ],
            &p,
        ));
        for who in ["ann", "ben", "cat"] {
            ok(self.run(&["ceremony", "tau", "contribute", d, "--name", who], &p));
        }
        ok(self.run(
            &[
                "ceremony",
                "tau",
                "beacon",
                d,
                "--beacon",
                BEACON,
                "--iterations",
                "1000",
            ],
            &p,
        ));
        let v = json(self.run(&["ceremony", "tau", "verify", d, "--json"], &p));
        assert_eq!(
            (v["contributions"].as_u64(), v["finalized"].as_bool()),
            (Some(3), Some(true)),
            "{v}"
        );
        dir
    }

    /// Seals two 2 KiB sectors; returns their directories.
    fn sectors(&self) -> Vec<String> {
        let p = self.path("unused-params");
        (1..=2u8)
            .map(|n| {
                let file = self.path(&format!("data{n}"));
                fs::write(&file, vec![n; 1500]).unwrap();
                let dir = self.path(&format!("sector{n}"));
                ok(self.run(
                    &[
                        "seal",
                        "--sector-size",
                        "2KiB",
                        "--prover-id",
                        "5",
                        "--sector-number",
                        &n.to_string(),
                        "--ticket",
                        &format!("{n:02x}").repeat(32),
                        "--out",
                        dir.to_str().unwrap(),
                        file.to_str().unwrap(),
                    ],
                    &p,
                ));
                dir.to_str().unwrap().to_string()
            })
            .collect()
    }
}

/// Proves `kind` over the sectors with the parameters in `params`; returns the proof file.
fn prove(s: &Setup, kind: &str, sectors: &[String], params: &Path, out: &str) -> PathBuf {
    let file = s.path(out);
    let cmd = format!("{kind}-post");
    let mut args = vec![
        "prove",
        cmd.as_str(),
        "--randomness",
        RAND,
        "--out",
        file.to_str().unwrap(),
    ];
    args.extend(sectors.iter().map(String::as_str));
    ok(s.run(&args, params));
    file
}

fn ceremony_end_to_end(kind: &str, power: u32) {
    let s = Setup::new();
    let tau = s.tau(power);
    let sectors = s.sectors();
    let params_a = s.path("params-a");
    let cdir = s.path(&format!("{kind}-a"));
    let c = cdir.to_str().unwrap();
    let started = json(s.run(
        &[
            "ceremony",
            "new",
            "--kind",
            kind,
            "--sector-size",
            "2KiB",
            "--tau",
            tau.to_str().unwrap(),
            "--out",
            c,
            "--json",
        ],
        &params_a,
    ));
    assert_eq!(started["kind"], kind, "{started}");
    // A second ceremony of the same circuit starts from the same initial file, with other
    // contributors.
    let cdir_b = s.path(&format!("{kind}-b"));
    fs::create_dir_all(&cdir_b).unwrap();
    for f in ["0000.phase2", "ceremony.json"] {
        fs::copy(cdir.join(f), cdir_b.join(f)).unwrap();
    }
    // Finalizing before anyone contributed is refused: δ would still be 1.
    let early = s.run(&["ceremony", "finalize", c], &params_a);
    assert!(!early.status.success());
    assert!(String::from_utf8_lossy(&early.stderr).contains("no contribution"));
    for who in ["alice", "bob", "carol"] {
        ok(s.run(&["ceremony", "contribute", c, "--name", who], &params_a));
    }
    let fin = json(s.run(&["ceremony", "finalize", c, "--json"], &params_a));
    assert_eq!(fin["origin"]["phase2_contributions"], 3, "{fin}");
    assert_eq!(fin["origin"]["phase1_contributions"], 3, "{fin}");
    let list = ok(s.run(&["params", "list"], &params_a));
    assert!(
        list.contains("ceremony: 3 phase-1 + 3 phase-2 contributions"),
        "{list}"
    );
    ok(s.run(&["params", "verify", "--transcript", c], &params_a));

    // Proofs made with the ceremony's parameters verify offline.
    let proof_a = prove(&s, kind, &sectors, &params_a, "proof-a.json");
    let v = ok(s.run(&["verify", proof_a.to_str().unwrap()], &params_a));
    assert!(v.contains(": valid"), "{v}");

    // The other ceremony: its proofs do not verify against the first one's parameters — not
    // under its own key name (unknown there), nor passed off as made with the first one's key.
    let params_b = s.path("params-b");
    let b = cdir_b.to_str().unwrap();
    ok(s.run(
        &["ceremony", "contribute", b, "--name", "mallory"],
        &params_b,
    ));
    ok(s.run(&["ceremony", "finalize", b], &params_b));
    let proof_b = prove(&s, kind, &sectors, &params_b, "proof-b.json");
    assert!(ok(s.run(&["verify", proof_b.to_str().unwrap()], &params_b)).contains(": valid"));
    let r = s.run(&["verify", proof_b.to_str().unwrap()], &params_a);
    assert!(
        !r.status.success(),
        "{}",
        String::from_utf8_lossy(&r.stdout)
    );
    let mut forged: Value = serde_json::from_str(&fs::read_to_string(&proof_b).unwrap()).unwrap();
    let a_doc: Value = serde_json::from_str(&fs::read_to_string(&proof_a).unwrap()).unwrap();
    forged["vk_digest"] = a_doc["vk_digest"].clone();
    let forged_path = s.path("forged.json");
    fs::write(&forged_path, forged.to_string()).unwrap();
    let r = s.run(&["verify", forged_path.to_str().unwrap()], &params_a);
    let out = String::from_utf8_lossy(&r.stdout);
    assert!(!r.status.success() && out.contains("INVALID"), "{out}");

    // `params verify --transcript` notices parameters that are not the ceremony's result.
    let r = s.run(&["params", "verify", "--transcript", b], &params_a);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("not this ceremony's result"));
}

#[test]
fn window_post_ceremony_gives_parameters_that_prove_and_verify() {
    ceremony_end_to_end("window", 15);
}

#[test]
#[ignore = "slow: ~10 minutes on 2 cores; run with --ignored"]
fn winning_post_ceremony_gives_parameters_that_prove_and_verify() {
    ceremony_end_to_end("winning", 16);
}
