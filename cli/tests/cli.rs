//! The `strata` binary end to end: commands, JSON output, errors, and a seal killed with SIGKILL.

use std::fs;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::*;

const TICKET: &str = "0101010101010101010101010101010101010101010101010101010101010101";

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn seal_args<'a>(size: &'a str, out: &'a str, file: &'a str) -> Vec<&'a str> {
    vec![
        "seal",
        "--sector-size",
        size,
        "--prover-id",
        "5",
        "--sector-number",
        "9",
        "--ticket",
        TICKET,
        "--out",
        out,
        "--json",
        file,
    ]
}

#[test]
fn commp_seal_unseal_round_trip_with_json() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("parents");
    let file = tmp.path().join("data.bin");
    let data: Vec<u8> = (0..1500u32).map(|i| (i * 7 % 251) as u8).collect();
    fs::write(&file, &data).unwrap();
    let commp = json(&strata(
        &["client", "commp", file.to_str().unwrap(), "--json"],
        &cache,
    ));
    assert_eq!(commp["padded_size"], 2048);
    let out = tmp.path().join("sector");
    let sealed = json(&strata(
        &seal_args("2KiB", out.to_str().unwrap(), file.to_str().unwrap()),
        &cache,
    ));
    assert_eq!(sealed["pieces"][0]["comm_p"], commp["comm_p"]);
    // A single piece filling the sector: CommD is its CommP.
    assert_eq!(sealed["comm_d"], commp["comm_p"]);
    assert_eq!(sealed["comm_r"].as_str().unwrap().len(), 64);
    let back = tmp.path().join("back.bin");
    let r = strata(
        &[
            "unseal",
            out.to_str().unwrap(),
            "--out",
            back.to_str().unwrap(),
            "--piece",
            "0",
        ],
        &cache,
    );
    assert!(r.status.success());
    assert_eq!(fs::read(&back).unwrap(), data);
}

#[test]
fn bad_input_gives_one_line_errors_and_nonzero_exit() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("parents");
    let empty = tmp.path().join("empty");
    fs::write(&empty, b"").unwrap();
    let big = tmp.path().join("big");
    fs::write(&big, vec![7u8; 2100]).unwrap();
    let out = tmp.path().join("s");
    let o = out.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (seal_args("2KiB", o, empty.to_str().unwrap()), "is empty"),
        (seal_args("2KiB", o, big.to_str().unwrap()), "do not fit"),
        (
            seal_args("3KiB", o, big.to_str().unwrap()),
            "unknown sector size",
        ),
        (seal_args("2KiB", o, "/nonexistent/file"), "cannot open"),
        (
            vec![
                "seal",
                "--sector-size",
                "2KiB",
                "--prover-id",
                "1",
                "--sector-number",
                "1",
                "--ticket",
                "xyz",
                "--out",
                o,
                big.to_str().unwrap(),
            ],
            "bad 32-byte hex value",
        ),
        (
            seal_args("2KiB", tmp.path().to_str().unwrap(), big.to_str().unwrap()),
            "already exists",
        ),
        (vec!["unseal", "/nonexistent", "--out", o], "meta.json"),
        (vec!["client", "commp", empty.to_str().unwrap()], "is empty"),
    ];
    for (args, needle) in cases {
        let r = strata(&args, &cache);
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(!r.status.success(), "{args:?} succeeded");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} left {o}");
    }
}

#[test]
fn seal_killed_midway_leaves_nothing_complete_and_rerun_succeeds() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("parents");
    let file = tmp.path().join("data.bin");
    fs::write(
        &file,
        (0..3_000_000u32)
            .map(|i| (i % 253) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    // A clean reference seal (this also builds the parent cache).
    let reference = tmp.path().join("reference");
    let want = json(&strata(
        &seal_args("8MiB", reference.to_str().unwrap(), file.to_str().unwrap()),
        &cache,
    ));

    let out = tmp.path().join("sector");
    let work = tmp.path().join(".sector.sealing");
    for stage in [
        "cache/layer-1.dat.tmp",
        "cache/layer-2.dat.tmp",
        "sealed.tmp",
        "cache/tree-c.dat.tmp",
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(seal_args(
                "8MiB",
                out.to_str().unwrap(),
                file.to_str().unwrap(),
            ))
            .env("STRATA_PARENT_CACHE", &cache)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while !work.join(stage).exists() {
            assert!(
                child.try_wait().unwrap().is_none(),
                "seal finished before reaching {stage}"
            );
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "never reached {stage}"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert!(
            !out.exists(),
            "killed at {stage}, yet the sector directory exists"
        );
        assert!(work.exists());
    }
    let got = json(&strata(
        &seal_args("8MiB", out.to_str().unwrap(), file.to_str().unwrap()),
        &cache,
    ));
    assert!(!work.exists());
    assert_eq!(got["comm_r"], want["comm_r"]);
    assert_eq!(got["comm_d"], want["comm_d"]);
    assert_eq!(
        fs::read(out.join("sealed")).unwrap(),
        fs::read(reference.join("sealed")).unwrap()
    );
}

#[test]
fn demo_seals_unseals_proves_and_audits() {
    let tmp = tempfile::tempdir().unwrap();
    let keep = tmp.path().join("demo");
    let out = ok(&strata(
        &["demo", "--offline", "--keep", keep.to_str().unwrap()],
        &tmp.path().join("parents"),
    ));
    assert!(out.contains("round trip OK"), "{out}");
    assert!(out.contains("verifies offline (window proof)"), "{out}");
    assert!(out.contains("one bit flipped is rejected"), "{out}");
    // The proof file it left behind verifies with the auditor's command too.
    let v = ok(&strata(
        &["verify", keep.join("window-post.json").to_str().unwrap()],
        &tmp.path().join("parents"),
    ));
    assert!(v.contains(": valid"), "{v}");
}

/// `strata snap` puts deal data into a committed-capacity sector without resealing; `strata
/// unseal` gives the deal back; a sector holding data is refused with the reason.
#[test]
fn snap_updates_a_committed_capacity_sector_and_unseal_returns_the_deal() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("parents");
    let zeros = tmp.path().join("zeros.bin");
    fs::write(&zeros, vec![0u8; 2048 / 128 * 127]).unwrap();
    let cc = tmp.path().join("cc");
    let sealed = json(&strata(
        &seal_args("2KiB", cc.to_str().unwrap(), zeros.to_str().unwrap()),
        &cache,
    ));
    let deal = tmp.path().join("deal.bin");
    let data: Vec<u8> = (0..1000u32).map(|i| (i * 13 % 256) as u8).collect();
    fs::write(&deal, &data).unwrap();
    let up = tmp.path().join("updated");
    let snapped = json(&strata(
        &[
            "snap",
            cc.to_str().unwrap(),
            "--out",
            up.to_str().unwrap(),
            "--json",
            deal.to_str().unwrap(),
        ],
        &cache,
    ));
    assert_eq!(snapped["comm_r_old"], sealed["comm_r"]);
    assert_ne!(snapped["comm_r_new"], sealed["comm_r"]);
    let back = tmp.path().join("back.bin");
    let r = strata(
        &[
            "unseal",
            up.to_str().unwrap(),
            "--out",
            back.to_str().unwrap(),
            "--piece",
            "0",
        ],
        &cache,
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(fs::read(&back).unwrap(), data);
    // The sector that holds the deal is not committed capacity any more.
    let r = strata(
        &[
            "snap",
            up.to_str().unwrap(),
            "--out",
            tmp.path().join("again").to_str().unwrap(),
            deal.to_str().unwrap(),
        ],
        &cache,
    );
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("already updated"));
}
