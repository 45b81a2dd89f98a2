//! The seal proof end to end at 2 KiB: `strata params generate` (once per machine; cached),
//! `strata prove seal`, `strata verify`, and rejection of every tampering.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;

fn strata(args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .env("STRATA_PARENT_CACHE", cache)
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const SEED: &str = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";

fn seal(tmp: &Path, cache: &Path, n: u8) -> std::path::PathBuf {
    let file = tmp.join(format!("piece{n}"));
    fs::write(
        &file,
        (0..1700u32)
            .map(|i| (i as u8).wrapping_mul(n))
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let dir = tmp.join(format!("sector{n}"));
    let ticket = format!("{:02x}", n).repeat(32);
    ok(&strata(
        &[
            "seal",
            "--sector-size",
            "2KiB",
            "--prover-id",
            "77",
            "--sector-number",
            &n.to_string(),
            "--ticket",
            &ticket,
            "--out",
            dir.to_str().unwrap(),
            file.to_str().unwrap(),
        ],
        cache,
    ));
    dir
}

fn verify_fails(file: &Path, doc: &serde_json::Value, cache: &Path, what: &str) {
    fs::write(file, doc.to_string()).unwrap();
    let r = strata(&["verify", file.to_str().unwrap()], cache);
    let out = String::from_utf8_lossy(&r.stdout);
    assert!(
        !r.status.success() && out.contains("INVALID"),
        "{what}: {out}"
    );
}

fn flip_hex(s: &str, at: usize) -> String {
    let mut c: Vec<char> = s.chars().collect();
    c[at] = if c[at] == '0' { '1' } else { '0' };
    c.into_iter().collect()
}

#[test]
fn seal_proof_file_verifies_and_every_tampering_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("parents");
    ok(&strata(
        &[
            "params",
            "generate",
            "--sector-size",
            "2KiB",
            "--kind",
            "all",
        ],
        &cache,
    ));
    let a = seal(tmp.path(), &cache, 1);
    let b = seal(tmp.path(), &cache, 2);
    let proof = tmp.path().join("seal.json");
    ok(&strata(
        &[
            "prove",
            "seal",
            a.to_str().unwrap(),
            "--seed",
            SEED,
            "--out",
            proof.to_str().unwrap(),
        ],
        &cache,
    ));
    let v = ok(&strata(&["verify", proof.to_str().unwrap()], &cache));
    assert!(v.contains(": valid"), "{v}");

    let doc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&proof).unwrap()).unwrap();
    let bad = tmp.path().join("bad.json");
    let mut d = doc.clone();
    d["proofs"][0] = flip_hex(doc["proofs"][0].as_str().unwrap(), 200).into();
    verify_fails(&bad, &d, &cache, "flipped proof bit");
    for field in ["comm_r", "comm_d", "seed", "ticket"] {
        let mut d = doc.clone();
        d["public"]["inputs"][field] =
            flip_hex(doc["public"]["inputs"][field].as_str().unwrap(), 0).into();
        verify_fails(&bad, &d, &cache, field);
    }
    let mut d = doc.clone();
    d["public"]["inputs"]["sector_number"] = 2.into();
    verify_fails(&bad, &d, &cache, "sector number");
    // The proof of sector 1 presented with sector 2's public inputs.
    let meta_b: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(b.join("meta.json")).unwrap()).unwrap();
    let mut d = doc.clone();
    for (k, m) in [
        ("sector_number", "sector_number"),
        ("ticket", "ticket"),
        ("comm_d", "comm_d"),
        ("comm_r", "comm_r"),
    ] {
        d["public"]["inputs"][k] = meta_b[m].clone();
    }
    verify_fails(&bad, &d, &cache, "another sector");
    // Parameters from another circuit: the WindowPoSt key named instead.
    let manifest: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(
            strata_params::groth16_files::ParamsStore::default_dir().join("manifest.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let window_vk = manifest["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "window" && e["sector_size"] == 2048)
        .unwrap()["vk_digest"]
        .clone();
    let mut d = doc.clone();
    d["vk_digest"] = window_vk;
    verify_fails(&bad, &d, &cache, "another circuit's key");

    // A replica byte changed at a challenged leaf: proving refuses, naming the failed check.
    let pt = ProofType::for_size(SectorSize::KIB2).unwrap();
    let meta_a: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(a.join("meta.json")).unwrap()).unwrap();
    let replica_id: [u8; 32] = hex::decode(meta_a["replica_id"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let seed: [u8; 32] = hex::decode(SEED).unwrap().try_into().unwrap();
    let c = strata_prover::challenges::porep_challenges(&pt, &replica_id, &seed, 0)[0];
    let mut sealed = fs::read(a.join("sealed")).unwrap();
    sealed[c as usize * 32 + 1] ^= 4;
    fs::write(a.join("sealed"), &sealed).unwrap();
    let r = strata(
        &[
            "prove",
            "seal",
            a.to_str().unwrap(),
            "--seed",
            SEED,
            "--out",
            tmp.path().join("x.json").to_str().unwrap(),
        ],
        &cache,
    );
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        !r.status.success() && err.contains("vanilla proof rejected"),
        "{err}"
    );
    assert!(!tmp.path().join("x.json").exists());
}
