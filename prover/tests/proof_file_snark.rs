//! Proof files with real 2 KiB PoSt SNARKs (parameters from the persistent cache, generated once
//! per machine): files read back as written, and an audit checks each file against its own
//! verifying key — grouped by (kind, proof type, key digest) — so a file naming another key is
//! rejected alone and never spoils the batch of valid files.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use strata_params::groth16_files::{ParamsStore, ProofKind};
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_prover::proof_file::{audit, prove_window, prove_winning, ProofFile, VerifyError};
use strata_prover::snark;

mod common;

fn pt() -> ProofType {
    ProofType::for_size(SectorSize::KIB2).unwrap()
}

fn store() -> ParamsStore {
    ParamsStore::new(ParamsStore::default_dir())
}

/// Two WindowPoSt files and one WinningPoSt file over sealed 2 KiB sectors (made once).
struct Files {
    _tmp: tempfile::TempDir,
    window_a: ProofFile,
    window_b: ProofFile,
    winning: ProofFile,
}

fn files() -> &'static Files {
    static F: OnceLock<Files> = OnceLock::new();
    F.get_or_init(|| {
        let store = store();
        for kind in [ProofKind::Window, ProofKind::Winning] {
            snark::load_or_generate_kind(&store, kind, &pt()).unwrap();
        }
        let tmp = tempfile::tempdir().unwrap();
        let dirs: Vec<PathBuf> = (1..=2)
            .map(|n| common::seal_2kib(tmp.path(), 20 + n, n as u8).0)
            .collect();
        Files {
            window_a: prove_window(&dirs, &[1; 32], &store).unwrap(),
            window_b: prove_window(&dirs[..1], &[2; 32], &store).unwrap(),
            winning: prove_winning(&dirs, &[3; 32], &store).unwrap(),
            _tmp: tmp,
        }
    })
}

#[test]
fn written_files_read_back_and_verify() {
    let f = files();
    let tmp = tempfile::tempdir().unwrap();
    for (i, file) in [&f.window_a, &f.window_b, &f.winning]
        .into_iter()
        .enumerate()
    {
        let path = tmp.path().join(format!("{i}.json"));
        file.write(&path).unwrap();
        let back = ProofFile::read(&path).unwrap();
        assert_eq!(&back, file);
        back.verify(&store()).unwrap();
    }
}

#[test]
fn audit_checks_two_kinds_each_against_its_own_key() {
    let f = files();
    let store = store();
    assert_ne!(f.window_a.vk_digest, f.winning.vk_digest);
    assert!(audit(&[&f.window_a, &f.winning, &f.window_b], &store).is_empty());

    // A WinningPoSt file naming the WindowPoSt key: it shares proof type and digest with the
    // window files but not their kind. Listed first, it must not take its group's key with it.
    let mut renamed = f.winning.clone();
    renamed.vk_digest = f.window_a.vk_digest.clone();
    let found = audit(&[&renamed, &f.window_a, &f.winning, &f.window_b], &store);
    assert_eq!(
        found.iter().map(|x| x.0).collect::<Vec<_>>(),
        vec![0],
        "{found:?}"
    );
    assert!(found[0].1.contains("no winning parameters"), "{found:?}");
    assert!(renamed.verify(&store).is_err());

    // A digest no key has, on one file of each kind.
    let mut w = f.window_b.clone();
    w.vk_digest = "00".repeat(32);
    let mut v = f.winning.clone();
    v.vk_digest = "11".repeat(32);
    let found = audit(&[&f.window_a, &w, &f.winning, &v], &store);
    assert_eq!(
        found.iter().map(|x| x.0).collect::<Vec<_>>(),
        vec![1, 3],
        "{found:?}"
    );
}

/// A copy of the parameter store whose manifest also lists the WinningPoSt parameters under the
/// WindowPoSt kind: a key that loads (its digest is right) but is not the window circuit's.
fn store_with_a_misfiled_key(dir: &Path) -> ParamsStore {
    let src = store();
    let mut manifest = src.manifest().unwrap();
    let winning_id = snark::kind_circuit_id(ProofKind::Winning, &pt()).unwrap();
    let window_id = snark::kind_circuit_id(ProofKind::Window, &pt()).unwrap();
    // Only the two PoSt files (the store may hold others, much larger).
    manifest
        .entries
        .retain(|e| e.circuit_digest == winning_id.digest || e.circuit_digest == window_id.digest);
    let mut misfiled = manifest
        .entries
        .iter()
        .find(|e| e.kind == ProofKind::Winning && e.circuit_digest == winning_id.digest)
        .unwrap()
        .clone();
    for e in &manifest.entries {
        std::fs::copy(src.dir().join(&e.file), dir.join(&e.file)).unwrap();
        if let Some(vk) = &e.vk_file {
            std::fs::copy(src.dir().join(vk), dir.join(vk)).unwrap();
        }
    }
    misfiled.kind = ProofKind::Window;
    manifest.entries.push(misfiled);
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string(&manifest).unwrap(),
    )
    .unwrap();
    ParamsStore::new(dir)
}

#[test]
fn a_file_naming_a_key_not_registered_for_its_circuit_is_rejected() {
    let f = files();
    let tmp = tempfile::tempdir().unwrap();
    let store = store_with_a_misfiled_key(tmp.path());
    let mut w = f.window_b.clone();
    w.vk_digest = f.winning.vk_digest.clone();
    assert!(matches!(
        w.verifying_key(&store),
        Err(VerifyError::WrongKey(d)) if d == f.winning.vk_digest
    ));
    let found = audit(&[&w, &f.window_a, &f.winning], &store);
    assert_eq!(
        found.iter().map(|x| x.0).collect::<Vec<_>>(),
        vec![0],
        "{found:?}"
    );
    assert!(
        found[0]
            .1
            .contains("is not the key of this proof's circuit"),
        "{found:?}"
    );
}
