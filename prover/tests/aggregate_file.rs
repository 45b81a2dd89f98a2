//! Aggregate proof files with real 2 KiB WindowPoSt SNARKs: three proofs of one circuit fold
//! into one SnarkPack proof that verifies offline, and every change to what it claims — the
//! statements' order, one statement dropped or replaced, a public input, any bit of the
//! aggregate, the SnarkPack key — is rejected.

use std::path::PathBuf;
use strata_params::groth16_files::{ParamsStore, ProofKind};
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_prover::aggregate_file::AggregateFile;
use strata_prover::proof_file::{prove_window, prove_winning, PublicData, VerifyError};
use strata_prover::snark;

mod common;

#[test]
fn window_posts_aggregate_and_every_tampering_is_rejected() {
    let store = ParamsStore::new(ParamsStore::default_dir());
    let pt = ProofType::for_size(SectorSize::KIB2).unwrap();
    for kind in [ProofKind::Window, ProofKind::Winning] {
        snark::load_or_generate_kind(&store, kind, &pt).unwrap();
    }
    let tmp = tempfile::tempdir().unwrap();
    let dirs: Vec<PathBuf> = (1..=2)
        .map(|n| common::seal_2kib(tmp.path(), 40 + n, n as u8).0)
        .collect();
    let files: Vec<_> = (1..=3u8)
        .map(|r| prove_window(&dirs, &[r; 32], &store).unwrap())
        .collect();
    let agg = AggregateFile::aggregate(&files, &store).unwrap();
    agg.verify(&store).expect("the aggregate verifies");
    assert_eq!(agg.statements.len(), 3);
    // Written and read back, it is the same file and still verifies.
    let path = tmp.path().join("agg.json");
    agg.write(&path).unwrap();
    let back = AggregateFile::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(back, agg);
    back.verify(&store).unwrap();

    let rejected = |f: &AggregateFile, what: &str| {
        assert!(f.verify(&store).is_err(), "{what} was accepted");
    };
    let mut swapped = agg.clone();
    swapped.statements.swap(0, 1);
    rejected(&swapped, "swapped statements");
    let mut dropped = agg.clone();
    dropped.statements.pop();
    rejected(&dropped, "a dropped statement");
    let mut replaced = agg.clone();
    replaced.statements[2] = prove_window(&dirs[..1], &[9; 32], &store).unwrap().public;
    rejected(&replaced, "a statement replaced by another proof's");
    let mut input = agg.clone();
    if let PublicData::Window { randomness, .. } = &mut input.statements[1] {
        randomness[0] ^= 1;
    }
    rejected(&input, "a changed public input");
    // Every 97th hex digit of the proof, changed: each must fail to parse or to verify.
    for i in (0..agg.aggregate.len()).step_by(97) {
        let mut t = agg.clone();
        let c = t.aggregate.as_bytes()[i];
        let flipped = if c == b'0' { '1' } else { '0' };
        t.aggregate.replace_range(i..=i, &flipped.to_string());
        rejected(&t, &format!("a change at hex digit {i}"));
    }
    let mut key = agg.clone();
    key.srs_digest = "00".repeat(32);
    assert!(matches!(key.verify(&store), Err(VerifyError::WrongKey(_))));
    // Only proofs of one circuit aggregate.
    let winning = prove_winning(&dirs, &[4; 32], &store).unwrap();
    let mixed = [files[0].clone(), winning];
    assert!(matches!(
        AggregateFile::aggregate(&mixed, &store),
        Err(VerifyError::Malformed(_))
    ));
    // A proof that does not verify is named, not folded in.
    let mut bad = files.clone();
    let mut p = hex::decode(&bad[1].proofs[0]).unwrap();
    p[100] ^= 1;
    bad[1].proofs[0] = hex::encode(p);
    assert!(AggregateFile::aggregate(&bad, &store).is_err());
}
