//! Proof files are strict documents: every field is required, an unknown field anywhere is an
//! error naming it, the format and version are checked, and what this build writes reads back.
//! No parameters needed: only parsing is exercised.

use serde_json::Value;
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_prover::proof_file::{ProofFile, PublicData, VerifyError, FORMAT, VERSION};
use strata_prover::vanilla::porep::SealPublicInputs;
use strata_prover::vanilla::post::{Faulty, PostSector};

fn pt() -> ProofType {
    ProofType::for_size(SectorSize::KIB2).unwrap()
}

fn file(public: PublicData, partitions: usize) -> ProofFile {
    ProofFile {
        format: FORMAT.into(),
        version: VERSION,
        proof_type: pt().id,
        vk_digest: "ab".repeat(32),
        public,
        proofs: vec!["00".repeat(192); partitions],
    }
}

fn sector(n: u64) -> PostSector {
    PostSector {
        sector_number: n,
        comm_r: [n as u8; 32],
    }
}

/// One file of each kind, with every optional-looking list non-empty.
fn files() -> Vec<ProofFile> {
    vec![
        file(
            PublicData::Porep {
                inputs: SealPublicInputs {
                    proof_type: pt().id,
                    prover_id: 1000,
                    sector_number: 4,
                    ticket: [1; 32],
                    seed: [2; 32],
                    comm_d: [3; 32],
                    comm_r: [4; 32],
                },
            },
            1,
        ),
        file(
            PublicData::Winning {
                prover_id: 1000,
                randomness: [5; 32],
                sectors: vec![sector(1), sector(2)],
            },
            1,
        ),
        file(
            PublicData::Window {
                randomness: [6; 32],
                partitions: vec![vec![sector(1), sector(3)], vec![sector(5), sector(5)]],
                faulty: vec![Faulty {
                    sector_number: 2,
                    dir: "/sectors/sector-2".into(),
                    reason: "p_aux unreadable".into(),
                }],
            },
            2,
        ),
    ]
}

fn malformed(text: &str) -> String {
    match ProofFile::parse(text) {
        Err(e @ VerifyError::Malformed(_)) => {
            let s = e.to_string();
            assert!(s.starts_with("malformed proof file: "), "{s}");
            s
        }
        other => panic!("expected a malformed-file error, got {other:?}"),
    }
}

/// Every object in `v` (itself included), as a JSON pointer.
fn objects(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            out.push(at.clone());
            for (k, x) in m {
                objects(x, format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                objects(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn files_this_build_writes_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, f) in files().iter().enumerate() {
        let path = tmp.path().join(format!("{i}.json"));
        f.write(&path).unwrap();
        assert_eq!(&ProofFile::read(&path).unwrap(), f);
        assert_eq!(
            &ProofFile::parse(&serde_json::to_string(f).unwrap()).unwrap(),
            f
        );
    }
}

#[test]
fn a_deleted_faulty_list_is_refused() {
    let f = &files()[2];
    let mut v = serde_json::to_value(f).unwrap();
    v["public"].as_object_mut().unwrap().remove("faulty");
    let e = malformed(&v.to_string());
    assert!(e.contains("missing field `faulty`"), "{e}");
    // An empty list is fine: the field is required, not its entries.
    let mut v = serde_json::to_value(f).unwrap();
    v["public"]["faulty"] = Value::Array(vec![]);
    assert!(ProofFile::parse(&v.to_string()).is_ok());
}

#[test]
fn every_missing_field_anywhere_is_named() {
    for f in files() {
        let doc = serde_json::to_value(&f).unwrap();
        let mut at = Vec::new();
        objects(&doc, String::new(), &mut at);
        let mut checked = 0;
        for ptr in at {
            let keys: Vec<String> = doc
                .pointer(&ptr)
                .unwrap()
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            for key in keys {
                let mut v = doc.clone();
                v.pointer_mut(&ptr)
                    .unwrap()
                    .as_object_mut()
                    .unwrap()
                    .remove(&key);
                let e = malformed(&v.to_string());
                assert!(
                    e.contains(&format!("missing field `{key}`")),
                    "{:?} without {ptr}/{key}: {e}",
                    f.kind()
                );
                checked += 1;
            }
        }
        assert!(checked >= 10, "{checked} fields");
    }
}

#[test]
fn an_unknown_field_anywhere_is_named() {
    for f in files() {
        let doc = serde_json::to_value(&f).unwrap();
        let mut at = Vec::new();
        objects(&doc, String::new(), &mut at);
        assert!(at.len() >= 3, "{at:?}");
        for ptr in at {
            let mut v = doc.clone();
            v.pointer_mut(&ptr)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .insert("surplus".into(), Value::from(1));
            let e = malformed(&v.to_string());
            assert!(
                e.contains("unknown field `surplus`"),
                "{:?} with {ptr}/surplus: {e}",
                f.kind()
            );
        }
    }
}

#[test]
fn format_and_version_are_checked_first() {
    let doc = serde_json::to_value(&files()[0]).unwrap();
    let mut v = doc.clone();
    v["version"] = Value::from(VERSION + 1);
    // A later version may have fields this build does not know: named as a version mismatch.
    v["added_in_v2"] = Value::from(true);
    let e = malformed(&v.to_string());
    assert!(e.contains(&format!("version {}", VERSION + 1)), "{e}");
    let mut v = doc.clone();
    v["format"] = Value::from("other");
    let e = malformed(&v.to_string());
    assert!(e.contains("\"other\""), "{e}");
    let e = malformed("not json");
    assert!(e.contains("expected"), "{e}");
}

#[test]
fn a_file_on_disk_with_an_extra_field_is_refused_by_read() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("f.json");
    let mut v = serde_json::to_value(&files()[1]).unwrap();
    v["public"]["sectors"][1]["note"] = Value::from("hi");
    std::fs::write(&path, v.to_string()).unwrap();
    let e = ProofFile::read(&path).unwrap_err().to_string();
    assert!(
        e.starts_with("malformed proof file: ") && e.contains("unknown field `note`"),
        "{e}"
    );
}
