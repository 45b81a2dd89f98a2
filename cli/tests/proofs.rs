//! `strata params`, `strata prove` and `strata verify` end to end with PoSt proofs at 2 KiB.

use std::fs;
use std::path::Path;

mod common;
use common::*;

const RAND: &str = "2222222222222222222222222222222222222222222222222222222222222222";

#[test]
fn window_post_proof_files_verify_and_tampering_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("parents");
    ok(&strata(
        &[
            "params",
            "generate",
            "--sector-size",
            "2KiB",
            "--kind",
            "window",
        ],
        &cache,
    ));
    let list = ok(&strata(&["params", "list"], &cache));
    assert!(list.contains("window"), "{list}");
    ok(&strata(&["params", "verify"], &cache));

    let mut dirs = Vec::new();
    for n in 1..=3u8 {
        let file = tmp.path().join(format!("d{n}"));
        fs::write(&file, vec![n; 1000 + n as usize]).unwrap();
        let dir = tmp.path().join(format!("s{n}"));
        let ticket = format!("{:02x}", n).repeat(32);
        ok(&strata(
            &[
                "seal",
                "--sector-size",
                "2KiB",
                "--prover-id",
                "9",
                "--sector-number",
                &n.to_string(),
                "--ticket",
                &ticket,
                "--out",
                dir.to_str().unwrap(),
                file.to_str().unwrap(),
            ],
            &cache,
        ));
        dirs.push(dir.to_str().unwrap().to_string());
    }
    // Sector 3's replica goes missing: it is reported faulty, the others are proven.
    fs::remove_file(Path::new(&dirs[2]).join("sealed")).unwrap();
    let proof = tmp.path().join("window.json");
    let mut args = vec![
        "prove",
        "window-post",
        "--randomness",
        RAND,
        "--out",
        proof.to_str().unwrap(),
        "--json",
    ];
    args.extend(dirs.iter().map(|s| s.as_str()));
    let out: serde_json::Value = serde_json::from_str(&ok(&strata(&args, &cache))).unwrap();
    assert_eq!(out["partitions"], 1);
    assert_eq!(out["faulty"][0]["sector_number"], 3);

    let v = ok(&strata(&["verify", proof.to_str().unwrap()], &cache));
    assert!(v.contains("valid") && !v.contains("INVALID"), "{v}");

    // WinningPoSt over the two healthy sectors, verified offline too.
    ok(&strata(
        &[
            "params",
            "generate",
            "--sector-size",
            "2KiB",
            "--kind",
            "winning",
        ],
        &cache,
    ));
    let win = tmp.path().join("winning.json");
    ok(&strata(
        &[
            "prove",
            "winning-post",
            "--randomness",
            RAND,
            "--out",
            win.to_str().unwrap(),
            &dirs[0],
            &dirs[1],
        ],
        &cache,
    ));
    let v = ok(&strata(
        &["verify", win.to_str().unwrap(), proof.to_str().unwrap()],
        &cache,
    ));
    assert_eq!(v.matches(": valid").count(), 2, "{v}");
    // An auditor's directory holds the verifying keys only (a few KB each), and suffices.
    let keys = tmp.path().join("keys");
    ok(&strata(
        &["params", "export-keys", "--out", keys.to_str().unwrap()],
        &cache,
    ));
    assert!(fs::read_dir(&keys).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".params")));
    let auditor = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(args)
            .env("STRATA_PARAMS", &keys)
            .output()
            .unwrap()
    };
    let v = ok(&auditor(&[
        "verify",
        win.to_str().unwrap(),
        proof.to_str().unwrap(),
    ]));
    assert_eq!(v.matches(": valid").count(), 2, "{v}");
    let checked = ok(&auditor(&["params", "verify"]));
    assert!(checked.contains("verifying key only"), "{checked}");
    let mut w: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&win).unwrap()).unwrap();
    w["public"]["randomness"] =
        "3333333333333333333333333333333333333333333333333333333333333333".into();
    fs::write(&win, w.to_string()).unwrap();
    let r = strata(&["verify", win.to_str().unwrap()], &cache);
    assert!(!r.status.success() && String::from_utf8_lossy(&r.stdout).contains("INVALID"));
    let v = ok(&strata(
        &[
            "verify",
            "--batch",
            proof.to_str().unwrap(),
            proof.to_str().unwrap(),
        ],
        &cache,
    ));
    assert_eq!(v.matches(": valid").count(), 2, "{v}");

    // A flipped proof bit, a changed public input, a malformed file: each INVALID, exit ≠ 0.
    let text = fs::read_to_string(&proof).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let p = doc["proofs"][0].as_str().unwrap().to_string();
    let flipped = format!("{}{}", if &p[..1] == "a" { "b" } else { "a" }, &p[1..]);
    let mut d1 = doc.clone();
    d1["proofs"][0] = serde_json::Value::String(flipped);
    let f1 = tmp.path().join("flipped.json");
    fs::write(&f1, d1.to_string()).unwrap();
    let c = doc["public"]["partitions"][0][0]["comm_r"]
        .as_str()
        .unwrap()
        .to_string();
    let changed = format!("{}{}", if &c[..1] == "1" { "2" } else { "1" }, &c[1..]);
    doc["public"]["partitions"][0][0]["comm_r"] = serde_json::Value::String(changed);
    let f2 = tmp.path().join("changed.json");
    fs::write(&f2, doc.to_string()).unwrap();
    let f3 = tmp.path().join("malformed.json");
    fs::write(&f3, &text[..text.len() / 2]).unwrap();
    for (f, batch) in [(&f1, false), (&f2, false), (&f3, false), (&f1, true)] {
        let mut a = vec!["verify"];
        if batch {
            a.push("--batch");
        }
        a.extend([proof.to_str().unwrap(), f.to_str().unwrap()]);
        let r = strata(&a, &cache);
        let out = String::from_utf8_lossy(&r.stdout);
        assert!(!r.status.success(), "{f:?} verified");
        assert_eq!(out.matches("INVALID").count(), 1, "{out}");
        assert!(
            out.contains(&format!("{}: valid", proof.display())),
            "batch failure must still name the good file: {out}"
        );
    }
}
