//! Groth16 PoSt at 2 KiB: valid proofs verify; tampering, wrong inputs and wrong parameters are
//! rejected. Parameters live in the persistent cache (`$STRATA_PARAMS` or
//! `~/.cache/strata/params`), generated once per machine and keyed by circuit digest.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use strata_params::groth16_files::{ParamsError, ParamsStore, ProofKind};
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_prover::circuit::post::{public_inputs, PostCircuit};
use strata_prover::snark::{self, SnarkRejection};
use strata_prover::vanilla::post::*;
use strata_sealer::*;

mod common;

fn seal_sector(root: &Path, number: u64) -> PathBuf {
    common::seal_2kib(root, number, 3 + number as u8).0
}

fn pt() -> ProofType {
    ProofType::for_size(SectorSize::KIB2).unwrap()
}

fn store() -> ParamsStore {
    ParamsStore::new(ParamsStore::default_dir())
}

fn cached_params(kind: ProofKind) -> &'static groth16::Parameters<bls12_381::Bls12> {
    static WINDOW: OnceLock<groth16::Parameters<bls12_381::Bls12>> = OnceLock::new();
    static WINNING: OnceLock<groth16::Parameters<bls12_381::Bls12>> = OnceLock::new();
    let cell = if kind == ProofKind::Window {
        &WINDOW
    } else {
        &WINNING
    };
    cell.get_or_init(|| {
        snark::load_or_generate(&store(), kind, &pt(), snark::blank_post(kind, &pt()))
            .unwrap()
            .params
    })
}

const RAND: [u8; 32] = [0x42; 32];

/// Four sealed sectors, their WindowPoSt partitions, and one SNARK per partition (made once).
struct Window {
    _tmp: tempfile::TempDir,
    partitions: Vec<(Vec<PostSector>, Vec<SectorPostProof>)>,
    items: Vec<(Vec<bls12_381::Scalar>, Vec<u8>)>,
}

fn window() -> &'static Window {
    static W: OnceLock<Window> = OnceLock::new();
    W.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let dirs: Vec<PathBuf> = (1..=4).map(|n| seal_sector(tmp.path(), n)).collect();
        let pt = pt();
        let out = prove_window_post(&pt, &dirs, &RAND);
        assert!(out.faulty.is_empty());
        let params = cached_params(ProofKind::Window);
        let items = out
            .partitions
            .iter()
            .map(|(public, proofs)| {
                let proof =
                    snark::prove(params, PostCircuit::from_vanilla(&pt, public, proofs)).unwrap();
                (
                    public_inputs(&pt, &RAND, public, pt.window_post_challenges).unwrap(),
                    proof.to_vec(),
                )
            })
            .collect();
        Window {
            _tmp: tmp,
            partitions: out.partitions,
            items,
        }
    })
}

fn vk() -> &'static groth16::VerifyingKey<bls12_381::Bls12> {
    &cached_params(ProofKind::Window).vk
}

#[test]
fn window_post_snarks_verify_singly_and_in_a_batch() {
    let w = window();
    for (inputs, proof) in &w.items {
        snark::verify(vk(), inputs, proof).unwrap();
    }
    snark::batch_verify(vk(), &w.items).unwrap();
}

#[test]
fn window_post_flipped_proof_bit_is_rejected() {
    let (inputs, proof) = &window().items[0];
    for bit in [0usize, 7, 300, 777, 1535] {
        let mut p = proof.clone();
        p[bit / 8] ^= 1 << (bit % 8);
        assert!(snark::verify(vk(), inputs, &p).is_err(), "bit {bit}");
    }
    assert!(matches!(
        snark::verify(vk(), inputs, &proof[..100]),
        Err(SnarkRejection::Malformed(_))
    ));
}

#[test]
fn window_post_wrong_randomness_is_rejected() {
    let w = window();
    let mut r = RAND;
    r[3] ^= 1;
    let inputs = public_inputs(&pt(), &r, &w.partitions[0].0, pt().window_post_challenges).unwrap();
    assert_eq!(
        snark::verify(vk(), &inputs, &w.items[0].1),
        Err(SnarkRejection::Invalid)
    );
}

#[test]
fn window_post_wrong_comm_r_and_every_changed_public_input_are_rejected() {
    let (inputs, proof) = &window().items[0];
    for i in 0..inputs.len() {
        let mut changed = inputs.clone();
        changed[i] += bls12_381::Scalar::one();
        assert_eq!(
            snark::verify(vk(), &changed, proof),
            Err(SnarkRejection::Invalid),
            "input {i}"
        );
    }
}

#[test]
fn window_post_proof_of_other_sectors_is_rejected() {
    let w = window();
    let other = public_inputs(
        &pt(),
        &RAND,
        &w.partitions[1].0,
        pt().window_post_challenges,
    )
    .unwrap();
    assert_eq!(
        snark::verify(vk(), &other, &w.items[0].1),
        Err(SnarkRejection::Invalid)
    );
}

#[test]
fn window_post_params_of_another_circuit_are_rejected() {
    let (inputs, proof) = &window().items[0];
    assert!(snark::verify(&cached_params(ProofKind::Winning).vk, inputs, proof).is_err());
}

#[test]
fn one_bad_proof_fails_the_batch() {
    let mut bad = window().items.clone();
    bad[1].0[0] += bls12_381::Scalar::one();
    assert!(snark::batch_verify(vk(), &bad).is_err());
}

#[test]
fn winning_post_snark_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let pt = pt();
    let sectors: Vec<(PostSector, PathBuf)> = (1..=2)
        .map(|n| {
            let d = seal_sector(tmp.path(), n);
            (
                PostSector {
                    sector_number: n,
                    comm_r: SectorMeta::load(&d).unwrap().comm_r,
                },
                d,
            )
        })
        .collect();
    let proof = prove_winning_post(&pt, 1000, &RAND, &sectors).unwrap();
    let chosen = sectors
        .iter()
        .find(|s| s.0.sector_number == proof.sector_number)
        .unwrap()
        .0;
    let params = cached_params(ProofKind::Winning);
    let snark_proof = snark::prove(
        params,
        PostCircuit::from_vanilla(&pt, &[chosen], std::slice::from_ref(&proof)),
    )
    .unwrap();
    let inputs = public_inputs(&pt, &RAND, &[chosen], pt.winning_post_challenges).unwrap();
    snark::verify(&params.vk, &inputs, &snark_proof).unwrap();
    let other = sectors
        .iter()
        .find(|s| s.0.sector_number != proof.sector_number)
        .unwrap()
        .0;
    let wrong = public_inputs(&pt, &RAND, &[other], pt.winning_post_challenges).unwrap();
    assert_eq!(
        snark::verify(&params.vk, &wrong, &snark_proof),
        Err(SnarkRejection::Invalid)
    );
}

#[test]
fn corrupt_or_truncated_parameter_files_are_named_errors() {
    let _ = cached_params(ProofKind::Window);
    let src = store();
    let id = snark::circuit_id(
        ProofKind::Window,
        &pt(),
        snark::blank_post(ProofKind::Window, &pt()),
    )
    .unwrap();
    let entry = src.load(&id).unwrap().entry;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(
        src.dir().join("manifest.json"),
        tmp.path().join("manifest.json"),
    )
    .unwrap();
    let file = tmp.path().join(&entry.file);
    let bytes = std::fs::read(src.dir().join(&entry.file)).unwrap();
    let copy = ParamsStore::new(tmp.path());
    std::fs::write(&file, &bytes).unwrap();
    assert!(copy.load(&id).is_ok());
    let mut altered = bytes.clone();
    altered[bytes.len() / 2] ^= 1;
    std::fs::write(&file, &altered).unwrap();
    let err = copy.load(&id).err().unwrap();
    assert!(
        matches!(err, ParamsError::Corrupt { .. }) && err.to_string().contains(&entry.file),
        "{err}"
    );
    std::fs::write(&file, &bytes[..bytes.len() - 10]).unwrap();
    let err = copy.load(&id).err().unwrap();
    assert!(
        matches!(err, ParamsError::Corrupt { .. }) && err.to_string().contains("bytes"),
        "{err}"
    );
    std::fs::remove_file(&file).unwrap();
    assert!(matches!(copy.load(&id), Err(ParamsError::Io { .. })));
    // A circuit the manifest has no entry for.
    let mut other = id.clone();
    other.digest = "00".repeat(32);
    assert!(matches!(
        copy.load(&other),
        Err(ParamsError::Missing { .. })
    ));
}

#[test]
fn audit_batches_and_names_the_one_bad_file() {
    use strata_prover::proof_file::{audit, prove_window};
    let tmp = tempfile::tempdir().unwrap();
    let dirs: Vec<PathBuf> = (1..=2).map(|n| seal_sector(tmp.path(), 10 + n)).collect();
    cached_params(ProofKind::Window);
    let store = store();
    let a = prove_window(&dirs, &[1; 32], &store).unwrap();
    let b = prove_window(&dirs[..1], &[2; 32], &store).unwrap();
    assert!(audit(&[&a, &b], &store).is_empty());
    let mut bad = b.clone();
    let mut bytes = hex::decode(&bad.proofs[0]).unwrap();
    bytes[20] ^= 1;
    bad.proofs[0] = hex::encode(bytes);
    let found = audit(&[&a, &bad, &b], &store);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, 1);
}
