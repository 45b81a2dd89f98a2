//! The seal proof end to end at 2 KiB: `strata params generate` (once per machine; cached),
//! `strata prove seal`, `strata verify`, and one test per kind of tampering. The proof (tens of
//! seconds to make) is made once and shared by the tests of this file.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;

mod common;
use common::*;

const SEED: &str = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";

fn seal(tmp: &Path, cache: &Path, n: u8) -> PathBuf {
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

struct Fixture {
    tmp: tempfile::TempDir,
    cache: PathBuf,
    proof: serde_json::Value,
    other_sector_meta: serde_json::Value,
}

/// Parameters, two sealed sectors, and one seal proof of sector 1 that verifies.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
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
        let proof = serde_json::from_str(&fs::read_to_string(&proof).unwrap()).unwrap();
        let other_sector_meta =
            serde_json::from_str(&fs::read_to_string(b.join("meta.json")).unwrap()).unwrap();
        Fixture {
            tmp,
            cache,
            proof,
            other_sector_meta,
        }
    })
}

/// Writes `doc` to a fresh file and asserts `strata verify` reports it INVALID and exits ≠ 0.
fn rejected(doc: &serde_json::Value, what: &str) {
    let f = fixture();
    let file = f
        .tmp
        .path()
        .join(format!("{}.json", what.replace(' ', "_")));
    fs::write(&file, doc.to_string()).unwrap();
    let r = strata(&["verify", file.to_str().unwrap()], &f.cache);
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

fn with_input(field: &str, value: serde_json::Value) -> serde_json::Value {
    let mut d = fixture().proof.clone();
    d["public"]["inputs"][field] = value;
    d
}

fn flipped_input(field: &str) -> serde_json::Value {
    let v = fixture().proof["public"]["inputs"][field]
        .as_str()
        .unwrap()
        .to_string();
    with_input(field, flip_hex(&v, 0).into())
}

#[test]
fn valid_seal_proof_verifies() {
    let f = fixture();
    let file = f.tmp.path().join("copy.json");
    fs::write(&file, f.proof.to_string()).unwrap();
    let v = ok(&strata(
        &["verify", "--batch", file.to_str().unwrap()],
        &f.cache,
    ));
    assert!(v.contains(": valid"), "{v}");
}

#[test]
fn flipped_proof_bit_is_rejected() {
    let mut d = fixture().proof.clone();
    d["proofs"][0] = flip_hex(d["proofs"][0].as_str().unwrap(), 200).into();
    rejected(&d, "flipped bit");
}

#[test]
fn wrong_comm_r_is_rejected() {
    rejected(&flipped_input("comm_r"), "wrong comm_r");
}

#[test]
fn wrong_comm_d_is_rejected() {
    rejected(&flipped_input("comm_d"), "wrong comm_d");
}

#[test]
fn wrong_seed_is_rejected() {
    rejected(&flipped_input("seed"), "wrong seed");
}

#[test]
fn changed_public_input_is_rejected() {
    rejected(&flipped_input("ticket"), "changed ticket");
    rejected(
        &with_input("sector_number", 2.into()),
        "changed sector number",
    );
}

#[test]
fn proof_of_one_sector_for_another_is_rejected() {
    let f = fixture();
    let mut d = f.proof.clone();
    for k in ["sector_number", "ticket", "comm_d", "comm_r"] {
        d["public"]["inputs"][k] = f.other_sector_meta[k].clone();
    }
    rejected(&d, "another sector");
}

#[test]
fn params_of_another_circuit_are_rejected() {
    let f = fixture();
    let manifest_path =
        strata_params::groth16_files::ParamsStore::default_dir().join("manifest.json");
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(manifest_path).unwrap()).unwrap();
    let window_vk = manifest["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "window" && e["sector_size"] == 2048)
        .unwrap()["vk_digest"]
        .clone();
    let mut d = f.proof.clone();
    d["vk_digest"] = window_vk;
    rejected(&d, "another circuit's key");
}

#[test]
fn replica_byte_changed_at_a_challenged_leaf_cannot_be_proven() {
    let f = fixture();
    let dir = seal(f.tmp.path(), &f.cache, 3);
    let pt = ProofType::for_size(SectorSize::KIB2).unwrap();
    let meta: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    let replica_id: [u8; 32] = hex::decode(meta["replica_id"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let seed: [u8; 32] = hex::decode(SEED).unwrap().try_into().unwrap();
    let c = strata_prover::challenges::porep_challenges(&pt, &replica_id, &seed, 0)[0];
    let mut sealed = fs::read(dir.join("sealed")).unwrap();
    sealed[c as usize * 32 + 1] ^= 4;
    fs::write(dir.join("sealed"), &sealed).unwrap();
    let out = f.tmp.path().join("x.json");
    let r = strata(
        &[
            "prove",
            "seal",
            dir.to_str().unwrap(),
            "--seed",
            SEED,
            "--out",
            out.to_str().unwrap(),
        ],
        &f.cache,
    );
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        !r.status.success() && err.contains("vanilla proof rejected"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn malformed_proof_files_are_clear_errors() {
    let f = fixture();
    let file = f.tmp.path().join("malformed.json");
    for body in ["", "{", "{\"format\":\"strata-proof\"}", "[1,2,3]"] {
        fs::write(&file, body).unwrap();
        let r = strata(&["verify", file.to_str().unwrap()], &f.cache);
        let out = String::from_utf8_lossy(&r.stdout);
        assert!(
            !r.status.success() && out.contains("INVALID: malformed proof file"),
            "{body:?}: {out}"
        );
        assert!(!String::from_utf8_lossy(&r.stderr).contains("panicked"));
    }
}

/// `strata prove aggregate` packs the seal proofs of sectors 1 and 2 into one SnarkPack proof
/// that `strata verify` accepts offline; reordering its statements, dropping one, or flipping a
/// bit of the aggregate makes it INVALID.
#[test]
fn seal_proofs_aggregate_into_one_file_that_verifies_offline() {
    let f = fixture();
    let first = f.tmp.path().join("aggregate-in-1.json");
    fs::write(&first, f.proof.to_string()).unwrap();
    let second = f.tmp.path().join("aggregate-in-2.json");
    let sector2 = f.tmp.path().join("sector2");
    ok(&strata(
        &[
            "prove",
            "seal",
            sector2.to_str().unwrap(),
            "--seed",
            SEED,
            "--out",
            second.to_str().unwrap(),
        ],
        &f.cache,
    ));
    let agg = f.tmp.path().join("aggregate.json");
    let out: serde_json::Value = serde_json::from_str(&ok(&strata(
        &[
            "prove",
            "aggregate",
            "--json",
            "--out",
            agg.to_str().unwrap(),
            first.to_str().unwrap(),
            second.to_str().unwrap(),
        ],
        &f.cache,
    )))
    .unwrap();
    assert_eq!(out["statements"], 2, "{out}");
    let v = ok(&strata(&["verify", agg.to_str().unwrap()], &f.cache));
    assert!(v.contains(": valid"), "{v}");

    let doc: serde_json::Value = serde_json::from_str(&fs::read_to_string(&agg).unwrap()).unwrap();
    assert_eq!(doc["format"], "strata-aggregate");
    let mut swapped = doc.clone();
    swapped["statements"].as_array_mut().unwrap().swap(0, 1);
    rejected(&swapped, "aggregate statements swapped");
    let mut dropped = doc.clone();
    dropped["statements"].as_array_mut().unwrap().pop();
    rejected(&dropped, "aggregate statement dropped");
    let mut flipped = doc.clone();
    let hex = doc["aggregate"].as_str().unwrap();
    flipped["aggregate"] = flip_hex(hex, hex.len() / 2).into();
    rejected(&flipped, "aggregate bit flipped");
    // Aggregating a file that is not a seal proof of the same kind is refused with a reason.
    let junk = f.tmp.path().join("junk.json");
    fs::write(&junk, "{\"format\": \"strata-proof\"}").unwrap();
    let r = strata(
        &[
            "prove",
            "aggregate",
            "--out",
            f.tmp.path().join("never.json").to_str().unwrap(),
            first.to_str().unwrap(),
            junk.to_str().unwrap(),
        ],
        &f.cache,
    );
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("junk.json"));
    assert!(!f.tmp.path().join("never.json").exists());
}
