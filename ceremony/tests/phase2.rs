//! Phase 2 end to end on a tiny circuit: a three-party powers of tau closed by a beacon, then a
//! three-party phase 2, give parameters that prove and verify; a second ceremony of the same
//! circuit gives parameters under which the first one's proofs do not verify; and every kind of
//! tampering is rejected by `verify`, naming the file and the check.

use bellman::{Circuit, ConstraintSystem, SynthesisError};
use bls12_381::Scalar;
use std::fs;
use std::path::{Path, PathBuf};
use strata_ceremony::{phase1, phase2, CeremonyError, Quiet};
use strata_params::groth16_files::{CircuitId, Origin, ParamsStore, ProofKind};

/// Knows x with x³ + x + 5 = out (out public), in five constraints.
#[derive(Clone)]
struct Cubic(Option<u64>);

impl Circuit<Scalar> for Cubic {
    fn synthesize<CS: ConstraintSystem<Scalar>>(self, cs: &mut CS) -> Result<(), SynthesisError> {
        let xv = self.0.map(Scalar::from);
        let x = cs.alloc(|| "x", || xv.ok_or(SynthesisError::AssignmentMissing))?;
        let x2v = xv.map(|x| x * x);
        let x2 = cs.alloc(|| "x2", || x2v.ok_or(SynthesisError::AssignmentMissing))?;
        let x3v = x2v.zip(xv).map(|(a, b)| a * b);
        let x3 = cs.alloc(|| "x3", || x3v.ok_or(SynthesisError::AssignmentMissing))?;
        let outv = x3v.zip(xv).map(|(a, b)| a + b + Scalar::from(5u64));
        let out = cs.alloc_input(|| "out", || outv.ok_or(SynthesisError::AssignmentMissing))?;
        cs.enforce(|| "x2", |lc| lc + x, |lc| lc + x, |lc| lc + x2);
        cs.enforce(|| "x3", |lc| lc + x2, |lc| lc + x, |lc| lc + x3);
        cs.enforce(
            || "out",
            |lc| lc + x3 + x + (Scalar::from(5u64), CS::one()),
            |lc| lc + CS::one(),
            |lc| lc + out,
        );
        Ok(())
    }
}

/// Another circuit: knows x with x² = out.
#[derive(Clone)]
struct Square;

impl Circuit<Scalar> for Square {
    fn synthesize<CS: ConstraintSystem<Scalar>>(self, cs: &mut CS) -> Result<(), SynthesisError> {
        let x = cs.alloc(|| "x", || Ok(Scalar::from(3u64)))?;
        let out = cs.alloc_input(|| "out", || Ok(Scalar::from(9u64)))?;
        cs.enforce(|| "sq", |lc| lc + x, |lc| lc + x, |lc| lc + out);
        Ok(())
    }
}

fn id(name: &str) -> CircuitId {
    CircuitId {
        kind: ProofKind::Window,
        sector_size: 1,
        digest: blake3::hash(name.as_bytes()).to_hex().to_string(),
        constraints: 5,
    }
}

/// A closed three-party powers of tau of 2^4.
fn closed_tau(root: &Path) -> PathBuf {
    let dir = root.join("ptau");
    phase1::new(&dir, 4).unwrap();
    for who in ["ann", "ben", "cat"] {
        phase1::contribute(&dir, who, &Quiet).unwrap();
    }
    phase1::beacon(&dir, &[7; 32], 16, &Quiet).unwrap();
    dir
}

fn ceremony(root: &Path, tau: &Path, name: &str, parties: &[&str]) -> PathBuf {
    let dir = root.join(name);
    phase2::new(&dir, tau, &id("cubic"), Cubic(None), &Quiet).unwrap();
    for who in parties {
        phase2::contribute(&dir, who, &Quiet).unwrap();
    }
    dir
}

fn rng() -> rand_core::UnwrapErr<rand::rngs::SysRng> {
    rand_core::UnwrapErr(rand::rngs::SysRng)
}

fn proof_verifies(
    params: &groth16::Parameters<bls12_381::Bls12>,
    proof: &groth16::Proof<bls12_381::Bls12>,
    out: u64,
) -> bool {
    groth16::verify_proof(
        &groth16::prepare_verifying_key(&params.vk),
        proof,
        &[Scalar::from(out)],
    )
    .is_ok()
}

/// Copies a ceremony directory (flat) to `to`.
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// Re-records file `i`'s digest in `ceremony.json`, as a forger would.
fn rerecord(dir: &Path, i: usize) {
    let path = dir.join("ceremony.json");
    let mut t: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    let file = t["files"][i]["file"].as_str().unwrap().to_string();
    t["files"][i]["digest"] = blake3::hash(&fs::read(dir.join(file)).unwrap())
        .to_hex()
        .to_string()
        .into();
    fs::write(&path, t.to_string()).unwrap();
}

fn bad_at(r: Result<phase2::Verified, CeremonyError>, index: usize, what: &str) {
    match r {
        Err(CeremonyError::BadContribution {
            index: i, reason, ..
        }) => {
            assert_eq!(i, index, "{reason}");
            assert!(reason.contains(what), "{reason}");
        }
        other => panic!("expected contribution {index} rejected ({what}), got {other:?}"),
    }
}

#[test]
fn three_party_ceremony_gives_parameters_that_prove_and_verify_and_tampering_is_rejected() {
    let root = tempfile::tempdir().unwrap();
    let tau = closed_tau(root.path());
    let dir = ceremony(root.path(), &tau, "one", &["alice", "bob", "carol"]);
    let v = phase2::verify(&dir, None, &id("cubic"), Cubic(None), &Quiet).unwrap();
    assert_eq!(
        (v.phase1.contributions, v.transcript.contributions()),
        (3, 3)
    );

    // Finalize into a store: the parameters prove and verify, and the manifest says how they
    // were made.
    let store = ParamsStore::new(root.path().join("params"));
    let entry = phase2::finalize(&dir, None, &id("cubic"), Cubic(None), &store, &Quiet).unwrap();
    assert_eq!(
        entry.origin,
        Some(Origin::Ceremony {
            phase1_contributions: 3,
            phase2_contributions: 3,
            transcript: v.final_digest.clone()
        })
    );
    let params = store.load(&id("cubic")).unwrap().params;
    let proof = groth16::create_random_proof(Cubic(Some(3)), &params, &mut rng()).unwrap();
    assert!(proof_verifies(&params, &proof, 35));
    assert!(
        !proof_verifies(&params, &proof, 36),
        "a wrong public input must not verify"
    );

    // A second ceremony of the same circuit: its own proofs verify under its key, the first
    // ceremony's do not (and the other way round).
    let two = ceremony(root.path(), &tau, "two", &["dan"]);
    let params2 = phase2::parameters(&two, &phase2::Transcript::read(&two).unwrap()).unwrap();
    let proof2 = groth16::create_random_proof(Cubic(Some(3)), &params2, &mut rng()).unwrap();
    assert!(proof_verifies(&params2, &proof2, 35));
    assert!(!proof_verifies(&params, &proof2, 35));
    assert!(!proof_verifies(&params2, &proof, 35));

    // Zero contributions: δ = 1 is public; finalize refuses.
    let zero = ceremony(root.path(), &tau, "zero", &[]);
    assert!(matches!(
        phase2::finalize(&zero, None, &id("cubic"), Cubic(None), &store, &Quiet),
        Err(CeremonyError::Transcript { .. })
    ));

    // A wrong proof of knowledge: contribution 2 carries contribution 3's proof.
    let t = root.path().join("pok");
    copy_dir(&dir, &t);
    let (b2, b3) = (
        fs::read(t.join("0002.phase2")).unwrap(),
        fs::read(t.join("0003.phase2")).unwrap(),
    );
    let mut forged = b2.clone();
    let n = forged.len();
    forged[n - 128..].copy_from_slice(&b3[b3.len() - 128..]);
    fs::write(t.join("0002.phase2"), &forged).unwrap();
    rerecord(&t, 2);
    bad_at(
        phase2::verify(&t, None, &id("cubic"), Cubic(None), &Quiet),
        2,
        "proof of knowledge",
    );

    // A tampered element: two points of h swapped in contribution 1 (both still valid points).
    let t = root.path().join("swap");
    copy_dir(&dir, &t);
    let mut b1 = fs::read(t.join("0001.phase2")).unwrap();
    let header = 8 + 4 + 4 + 1 + 32 + 2 + "alice".len();
    let h0 = header + 96 + 192 + 4;
    let (p, q) = (b1[h0..h0 + 96].to_vec(), b1[h0 + 96..h0 + 192].to_vec());
    b1[h0..h0 + 96].copy_from_slice(&q);
    b1[h0 + 96..h0 + 192].copy_from_slice(&p);
    fs::write(t.join("0001.phase2"), &b1).unwrap();
    rerecord(&t, 1);
    bad_at(
        phase2::verify(&t, None, &id("cubic"), Cubic(None), &Quiet),
        1,
        "h is not",
    );
    // A flipped byte in a point: not a point any more.
    b1[h0 + 10] ^= 0x40;
    fs::write(t.join("0001.phase2"), &b1).unwrap();
    rerecord(&t, 1);
    assert!(matches!(
        phase2::verify(&t, None, &id("cubic"), Cubic(None), &Quiet),
        Err(CeremonyError::InvalidPoint { .. })
    ));

    // The initial file altered (two IC points swapped, both valid): caught by the random
    // linear-combination check against the circuit and the powers of tau.
    let t = root.path().join("initial");
    copy_dir(&dir, &t);
    let mut b0 = fs::read(t.join("0000.phase2")).unwrap();
    let ic = (8 + 4 + 4 + 1 + 32 + 2 + "initial".len()) + (2 + 64) + 8 + 4 + 96 + 96 + 192 + 4;
    let (p, q) = (b0[ic..ic + 96].to_vec(), b0[ic + 96..ic + 192].to_vec());
    assert_ne!(p, q);
    b0[ic..ic + 96].copy_from_slice(&q);
    b0[ic + 96..ic + 192].copy_from_slice(&p);
    fs::write(t.join("0000.phase2"), &b0).unwrap();
    rerecord(&t, 0);
    bad_at(
        phase2::verify(&t, None, &id("cubic"), Cubic(None), &Quiet),
        0,
        "IC or L query",
    );

    // A skipped contribution: 0002 removed, 0003 renamed into its place.
    let t = root.path().join("skip");
    copy_dir(&dir, &t);
    fs::rename(t.join("0003.phase2"), t.join("0002.phase2")).unwrap();
    let path = t.join("ceremony.json");
    let mut j: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    j["files"].as_array_mut().unwrap().remove(3);
    fs::write(&path, j.to_string()).unwrap();
    rerecord(&t, 2);
    bad_at(
        phase2::verify(&t, None, &id("cubic"), Cubic(None), &Quiet),
        2,
        "contribution 3",
    );

    // A truncated file (its digest re-recorded): a named length error.
    let t = root.path().join("trunc");
    copy_dir(&dir, &t);
    let b = fs::read(t.join("0001.phase2")).unwrap();
    fs::write(t.join("0001.phase2"), &b[..b.len() - 50]).unwrap();
    assert!(
        matches!(
            phase2::verify(&t, None, &id("cubic"), Cubic(None), &Quiet),
            Err(CeremonyError::Transcript { .. })
        ),
        "the digest recorded no longer matches"
    );
    rerecord(&t, 1);
    assert!(matches!(
        phase2::verify(&t, None, &id("cubic"), Cubic(None), &Quiet),
        Err(CeremonyError::Length { .. })
    ));
    // An unlisted extra file.
    let t = root.path().join("extra");
    copy_dir(&dir, &t);
    fs::copy(t.join("0003.phase2"), t.join("0004.phase2")).unwrap();
    assert!(matches!(
        phase2::verify(&t, None, &id("cubic"), Cubic(None), &Quiet),
        Err(CeremonyError::Transcript { .. })
    ));

    // A transcript from another circuit: refused for this circuit by its record, and a
    // transcript whose record is rewritten to claim this circuit fails at the initial file.
    let sq = root.path().join("square");
    phase2::new(&sq, &tau, &id("square"), Square, &Quiet).unwrap();
    phase2::contribute(&sq, "eve", &Quiet).unwrap();
    assert!(matches!(
        phase2::verify(&sq, None, &id("cubic"), Cubic(None), &Quiet),
        Err(CeremonyError::Transcript { .. })
    ));
    let path = sq.join("ceremony.json");
    let mut j: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    j["circuit_digest"] = id("cubic").digest.into();
    fs::write(&path, j.to_string()).unwrap();
    bad_at(
        phase2::verify(&sq, None, &id("cubic"), Cubic(None), &Quiet),
        0,
        "initial file",
    );
    // Another phase 1 under the same ceremony: refused.
    let other_tau = {
        let r = root.path().join("other");
        fs::create_dir_all(&r).unwrap();
        closed_tau(&r)
    };
    assert!(matches!(
        phase2::verify(&dir, Some(&other_tau), &id("cubic"), Cubic(None), &Quiet),
        Err(CeremonyError::Transcript { .. })
    ));
}
