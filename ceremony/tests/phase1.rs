//! Phase 1 (powers of tau): a full ceremony verifies, known secrets give the exact powers, and
//! every kind of tampering is rejected with the right error naming the right file.

use ff013::Field;
use group013::prime::PrimeCurveAffine;
use group013::{Curve, Group};
use std::path::{Path, PathBuf};
use strata_ceremony::phase1::{self, StepKind, Transcript};
use strata_ceremony::pok::{Pok, POK_BYTES};
use strata_ceremony::{
    pairing_eq, random_scalar, CeremonyError, G1Affine, G1Projective, G2Affine, G2Projective,
    Quiet, Scalar, G1_BYTES, G2_BYTES,
};

const POWER: u32 = 4;
const N: usize = 1 << POWER;

fn ceremony(contributions: usize) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    phase1::new(tmp.path(), POWER).unwrap();
    for k in 0..contributions {
        phase1::contribute(tmp.path(), &format!("contributor {k}"), &Quiet).unwrap();
    }
    tmp
}

fn path(dir: &Path, index: u32) -> PathBuf {
    dir.join(phase1::file_name(index))
}

/// Byte offset of the first point (`tau_g1[0]`) of a file.
fn points_at(bytes: &[u8]) -> usize {
    55 + u16::from_le_bytes([bytes[53], bytes[54]]) as usize
}

/// Byte offset of the proof section.
fn proof_at(bytes: &[u8]) -> usize {
    points_at(bytes) + (2 * N - 1) * G1_BYTES + N * G2_BYTES + 2 * N * G1_BYTES + G2_BYTES
}

/// Rewrites transcript.json so it records the file's current digest, as a forger controlling
/// the whole directory would.
fn record(dir: &Path, index: u32) {
    let mut t = Transcript::read(dir).unwrap();
    let bytes = std::fs::read(path(dir, index)).unwrap();
    t.files[index as usize].digest = blake3::hash(&bytes).to_hex().to_string();
    write_transcript(dir, &t);
}

fn write_transcript(dir: &Path, t: &Transcript) {
    std::fs::write(dir.join("transcript.json"), serde_json::to_vec(t).unwrap()).unwrap();
}

fn edit(dir: &Path, index: u32, f: impl FnOnce(&mut Vec<u8>)) {
    let p = path(dir, index);
    let mut bytes = std::fs::read(&p).unwrap();
    f(&mut bytes);
    std::fs::write(&p, bytes).unwrap();
    record(dir, index);
}

fn context(prev: &[u8; 32], index: u32, what: &[u8]) -> Vec<u8> {
    [&b"strata ptau v1"[..], prev, &index.to_le_bytes(), what].concat()
}

#[track_caller]
fn assert_bad(err: CeremonyError, index: usize, needle: &str) {
    match err {
        CeremonyError::BadContribution {
            index: i,
            path,
            reason,
        } => {
            assert_eq!(i, index, "{reason}");
            assert!(path.ends_with(phase1::file_name(index as u32)), "{path:?}");
            assert!(reason.contains(needle), "{reason:?} lacks {needle:?}");
        }
        other => panic!("expected BadContribution at {index}, got {other}"),
    }
}

#[track_caller]
fn assert_transcript(err: CeremonyError, needle: &str) {
    match err {
        CeremonyError::Transcript { reason, .. } => {
            assert!(reason.contains(needle), "{reason:?} lacks {needle:?}")
        }
        other => panic!("expected a Transcript error, got {other}"),
    }
}

#[test]
fn a_full_ceremony_verifies_and_is_a_consistent_accumulator() {
    let tmp = ceremony(3);
    let dir = tmp.path();
    phase1::beacon(dir, &[42; 32], 1000, &Quiet).unwrap();
    let v = phase1::verify(dir, &Quiet).unwrap();
    assert_eq!((v.power, v.contributions, v.finalized), (POWER, 3, true));
    assert_eq!(v.entries.len(), 5);
    assert_eq!(v.entries[4].kind, StepKind::Beacon);
    assert_eq!(v.entries[1].name, "contributor 0");
    assert_eq!(v.final_digest, v.entries[4].digest);

    let (acc, entry) = phase1::read_latest(dir).unwrap();
    assert_eq!(entry, v.entries[4]);
    assert_eq!(acc.tau_g1.len(), 2 * N - 1);
    assert_eq!(
        (acc.tau_g2.len(), acc.alpha_g1.len(), acc.beta_g1.len()),
        (N, N, N)
    );
    let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
    assert_eq!((acc.tau_g1[0], acc.tau_g2[0]), (g1, g2));
    for i in 0..N - 1 {
        assert!(pairing_eq(
            &acc.tau_g1[i + 1],
            &g2,
            &acc.tau_g1[i],
            &acc.tau_g2[1]
        ));
        assert!(pairing_eq(
            &acc.alpha_g1[i + 1],
            &g2,
            &acc.alpha_g1[i],
            &acc.tau_g2[1]
        ));
        assert!(pairing_eq(
            &acc.beta_g1[i + 1],
            &g2,
            &acc.beta_g1[i],
            &acc.tau_g2[1]
        ));
        assert!(pairing_eq(
            &acc.tau_g1[i],
            &acc.tau_g2[1],
            &g1,
            &acc.tau_g2[i + 1]
        ));
    }
    assert!(pairing_eq(&acc.beta_g1[0], &g2, &g1, &acc.beta_g2));
    assert_ne!(acc.alpha_g1[0], g1);

    assert_transcript(
        phase1::contribute(dir, "late", &Quiet).unwrap_err(),
        "closed",
    );
    assert_transcript(
        phase1::beacon(dir, &[1; 32], 0, &Quiet).unwrap_err(),
        "closed",
    );
    assert!(!path(dir, 5).exists());
    phase1::verify(dir, &Quiet).unwrap();
}

#[test]
fn known_secrets_give_exactly_the_powers() {
    let tmp = ceremony(0);
    let dir = tmp.path();
    let s1: Vec<Scalar> = (0..3).map(|_| random_scalar().unwrap()).collect();
    let s2: Vec<Scalar> = (0..3).map(|_| random_scalar().unwrap()).collect();
    for (k, s) in [&s1, &s2].into_iter().enumerate() {
        let e =
            phase1::contribute_with_secrets(dir, &format!("dev {k}"), &s[0], &s[1], &s[2], &Quiet)
                .unwrap();
        assert_eq!(e.file, phase1::file_name(k as u32 + 1));
    }
    let v = phase1::verify(dir, &Quiet).unwrap();
    assert_eq!((v.contributions, v.finalized), (2, false));
    let (acc, _) = phase1::read_latest(dir).unwrap();
    let (tau, alpha, beta) = (s1[0] * s2[0], s1[1] * s2[1], s1[2] * s2[2]);
    let g1 = |x: Scalar| (G1Projective::generator() * x).to_affine();
    let mut power = Scalar::ONE;
    for i in 0..2 * N - 1 {
        assert_eq!(acc.tau_g1[i], g1(power), "tau_g1[{i}]");
        if i < N {
            assert_eq!(
                acc.tau_g2[i],
                (G2Projective::generator() * power).to_affine()
            );
            assert_eq!(acc.alpha_g1[i], g1(alpha * power));
            assert_eq!(acc.beta_g1[i], g1(beta * power));
        }
        power *= tau;
    }
    assert_eq!(acc.beta_g2, (G2Projective::generator() * beta).to_affine());
    let zero = Scalar::ZERO;
    let err = phase1::contribute_with_secrets(dir, "zero", &zero, &s1[1], &s1[2], &Quiet);
    assert_bad(err.unwrap_err(), 3, "non-zero");
}

#[test]
fn a_wrong_proof_of_knowledge_is_rejected() {
    let tmp = ceremony(2);
    let dir = tmp.path();
    // The response of the alpha proof moved by one.
    edit(dir, 2, |b| {
        let at = proof_at(b) + POK_BYTES;
        let mut pok = Pok::from_bytes(&b[at..at + POK_BYTES]).unwrap();
        pok.s += Scalar::ONE;
        b[at..at + POK_BYTES].copy_from_slice(&pok.to_bytes());
    });
    assert_bad(
        phase1::verify(dir, &Quiet).unwrap_err(),
        2,
        "proof of knowledge of alpha",
    );

    // The proofs of contribution 1 copied into contribution 2.
    let tmp = ceremony(2);
    let dir = tmp.path();
    let first = std::fs::read(path(dir, 1)).unwrap();
    edit(dir, 2, |b| {
        let (from, to) = (proof_at(&first), proof_at(b));
        b[to..].copy_from_slice(&first[from..]);
    });
    assert_bad(
        phase1::verify(dir, &Quiet).unwrap_err(),
        2,
        "proof of knowledge of tau",
    );
}

#[test]
fn a_tampered_point_is_rejected() {
    // A flipped byte: not a curve point.
    let tmp = ceremony(2);
    let dir = tmp.path();
    edit(dir, 1, |b| {
        let at = points_at(b) + 7 * G1_BYTES + 50;
        b[at] ^= 0x10;
    });
    match phase1::verify(dir, &Quiet).unwrap_err() {
        CeremonyError::InvalidPoint { path, what } => {
            assert!(path.ends_with("0001.ptau"));
            assert_eq!(what, "tau_g1[7]");
        }
        other => panic!("expected InvalidPoint, got {other}"),
    }
    // Contributing on top of it is refused too: the digest no longer matches the record.
    let tmp = ceremony(1);
    let dir = tmp.path();
    let p = path(dir, 1);
    let mut bytes = std::fs::read(&p).unwrap();
    let at = points_at(&bytes) + 3 * G1_BYTES + 10;
    bytes[at] ^= 1;
    std::fs::write(&p, &bytes).unwrap();
    assert_transcript(phase1::contribute(dir, "x", &Quiet).unwrap_err(), "digest");

    // Two valid points swapped.
    let tmp = ceremony(2);
    let dir = tmp.path();
    edit(dir, 2, |b| {
        let (x, y) = (points_at(b) + 3 * G1_BYTES, points_at(b) + 5 * G1_BYTES);
        let p3 = b[x..x + G1_BYTES].to_vec();
        b.copy_within(y..y + G1_BYTES, x);
        b[y..y + G1_BYTES].copy_from_slice(&p3);
    });
    assert_bad(phase1::verify(dir, &Quiet).unwrap_err(), 2, "tau_g1");

    // beta_g2 replaced by another valid point.
    let tmp = ceremony(1);
    let dir = tmp.path();
    edit(dir, 1, |b| {
        let at = proof_at(b) - G2_BYTES;
        b[at..at + G2_BYTES].copy_from_slice(&G2Affine::generator().to_uncompressed());
    });
    assert_bad(phase1::verify(dir, &Quiet).unwrap_err(), 1, "beta_g2");
}

#[test]
fn a_skipped_contribution_is_rejected() {
    let tmp = ceremony(3);
    let dir = tmp.path();
    std::fs::remove_file(path(dir, 2)).unwrap();
    std::fs::rename(path(dir, 3), path(dir, 2)).unwrap();
    let mut t = Transcript::read(dir).unwrap();
    t.files.remove(2);
    t.files[2].file = phase1::file_name(2);
    write_transcript(dir, &t);
    assert_bad(phase1::verify(dir, &Quiet).unwrap_err(), 2, "index 3");
    // With the index in its header fixed too, the chain of digests still breaks.
    edit(dir, 2, |b| b[16..20].copy_from_slice(&2u32.to_le_bytes()));
    assert_bad(
        phase1::verify(dir, &Quiet).unwrap_err(),
        2,
        "previous file's digest",
    );
}

#[test]
fn a_truncated_file_is_rejected() {
    let tmp = ceremony(2);
    let dir = tmp.path();
    let p = path(dir, 2);
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() - 100]).unwrap();
    for err in [
        phase1::verify(dir, &Quiet).unwrap_err(),
        phase1::contribute(dir, "x", &Quiet).unwrap_err(),
        phase1::read_latest(dir).unwrap_err(),
    ] {
        match err {
            CeremonyError::Length {
                path,
                got,
                expected,
            } => {
                assert!(path.ends_with("0002.ptau"));
                assert_eq!(got + 100, expected);
            }
            other => panic!("expected Length, got {other}"),
        }
    }
}

#[test]
fn a_beacon_that_does_not_match_its_value_is_rejected() {
    let tmp = ceremony(1);
    let dir = tmp.path();
    phase1::beacon(dir, &[7; 32], 10, &Quiet).unwrap();
    phase1::verify(dir, &Quiet).unwrap();
    edit(dir, 2, |b| {
        let at = proof_at(b);
        b[at] ^= 1;
    });
    assert_bad(phase1::verify(dir, &Quiet).unwrap_err(), 2, "beacon");
    // The iteration count is part of it too.
    let tmp = ceremony(1);
    let dir = tmp.path();
    phase1::beacon(dir, &[7; 32], 10, &Quiet).unwrap();
    edit(dir, 2, |b| {
        let at = proof_at(b) + 32;
        b[at..at + 4].copy_from_slice(&11u32.to_le_bytes());
    });
    assert_bad(phase1::verify(dir, &Quiet).unwrap_err(), 2, "11 iterations");
}

#[test]
fn the_transcript_must_match_the_directory() {
    let tmp = ceremony(2);
    let dir = tmp.path();
    let mut t = Transcript::read(dir).unwrap();
    let good = t.clone();
    t.files[1].digest = "00".repeat(32);
    write_transcript(dir, &t);
    assert_transcript(
        phase1::verify(dir, &Quiet).unwrap_err(),
        "0001.ptau: digest",
    );

    // A file not listed.
    write_transcript(dir, &good);
    std::fs::copy(path(dir, 2), path(dir, 3)).unwrap();
    assert_transcript(
        phase1::verify(dir, &Quiet).unwrap_err(),
        "0003.ptau is in the directory",
    );
    assert_transcript(phase1::contribute(dir, "x", &Quiet).unwrap_err(), "not in");
    std::fs::remove_file(path(dir, 3)).unwrap();
    phase1::verify(dir, &Quiet).unwrap();

    // A listed file missing.
    std::fs::rename(path(dir, 2), dir.join("elsewhere")).unwrap();
    assert_transcript(phase1::verify(dir, &Quiet).unwrap_err(), "missing");
    std::fs::rename(dir.join("elsewhere"), path(dir, 2)).unwrap();

    // A skipped index in the record.
    let mut t = good.clone();
    t.files[2].file = phase1::file_name(3);
    write_transcript(dir, &t);
    assert_transcript(
        phase1::verify(dir, &Quiet).unwrap_err(),
        "0002.ptau belongs",
    );

    // A name that differs from the header's.
    let mut t = good.clone();
    t.files[1].name = "someone else".into();
    write_transcript(dir, &t);
    assert_transcript(phase1::verify(dir, &Quiet).unwrap_err(), "the header says");

    // A second new ceremony in the same directory is refused.
    write_transcript(dir, &good);
    assert_transcript(phase1::new(dir, POWER).unwrap_err(), "not empty");
    phase1::verify(dir, &Quiet).unwrap();
}

#[test]
fn an_altered_initial_file_is_rejected() {
    let tmp = ceremony(0);
    let dir = tmp.path();
    edit(dir, 0, |b| {
        let at = points_at(b) + 3 * G1_BYTES;
        let two = (G1Projective::generator().double()).to_affine();
        b[at..at + G1_BYTES].copy_from_slice(&two.to_uncompressed());
    });
    // Contributing only checks the latest file's record, so this builds; verification refuses.
    phase1::contribute(dir, "victim", &Quiet).unwrap();
    assert_bad(
        phase1::verify(dir, &Quiet).unwrap_err(),
        0,
        "tau_g1[3] is not the generator",
    );
}

#[test]
fn a_contribution_ignoring_the_previous_one_is_rejected() {
    let tmp = ceremony(1);
    let dir = tmp.path();
    // The attacker's own chain from the initial accumulator, with secrets it knows.
    let other = tempfile::tempdir().unwrap();
    phase1::new(other.path(), POWER).unwrap();
    let s: Vec<Scalar> = (0..3).map(|_| random_scalar().unwrap()).collect();
    phase1::contribute_with_secrets(other.path(), "mallory", &s[0], &s[1], &s[2], &Quiet).unwrap();
    let mut forged = std::fs::read(path(other.path(), 1)).unwrap();
    // Re-labelled as 0002 on top of 0001, with proofs valid for its own base (the generator)
    // and for this position.
    let prev = *blake3::hash(&std::fs::read(path(dir, 1)).unwrap()).as_bytes();
    forged[16..20].copy_from_slice(&2u32.to_le_bytes());
    forged[21..53].copy_from_slice(&prev);
    let at = proof_at(&forged);
    let g = G1Affine::generator();
    for (k, (x, what)) in s.iter().zip([&b"tau"[..], b"alpha", b"beta"]).enumerate() {
        let image = (G1Projective::generator() * x).to_affine();
        let pok = Pok::prove(x, &g, &image, &context(&prev, 2, what)).unwrap();
        assert!(pok.verify(&g, &image, &context(&prev, 2, what)));
        forged[at + k * POK_BYTES..at + (k + 1) * POK_BYTES].copy_from_slice(&pok.to_bytes());
    }
    std::fs::write(path(dir, 2), &forged).unwrap();
    let mut t = Transcript::read(dir).unwrap();
    let mut e = t.files[1].clone();
    e.file = phase1::file_name(2);
    e.name = "mallory".into();
    t.files.push(e);
    write_transcript(dir, &t);
    record(dir, 2);
    assert_bad(
        phase1::verify(dir, &Quiet).unwrap_err(),
        2,
        "proof of knowledge of tau",
    );
}

#[test]
fn bad_arguments_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    assert_transcript(phase1::new(tmp.path(), 0).unwrap_err(), "power");
    assert_transcript(phase1::new(tmp.path(), 29).unwrap_err(), "power");
    phase1::new(tmp.path(), 1).unwrap();
    let long = "x".repeat(257);
    assert!(matches!(
        phase1::contribute(tmp.path(), &long, &Quiet),
        Err(CeremonyError::Format { .. })
    ));
    phase1::contribute(tmp.path(), &"é".repeat(128), &Quiet).unwrap();
    assert_eq!(phase1::verify(tmp.path(), &Quiet).unwrap().contributions, 1);
}

/// This process's CPU time (user + system) in seconds, from `/proc/self/stat` (0 elsewhere).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, the 12th and 13th after the name.
    let field = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok());
    field(11)
        .zip(field(12))
        .map_or(0.0, |(u, s)| (u + s) / 100.0)
}

/// Timings (wall and CPU, so a loaded machine can be accounted for):
/// `cargo test --release -p strata-ceremony --test phase1 -- --ignored --nocapture`.
#[test]
#[ignore]
fn timings() {
    for power in [10u32, 12, 16] {
        let tmp = tempfile::tempdir().unwrap();
        phase1::new(tmp.path(), power).unwrap();
        let (t, c) = (std::time::Instant::now(), cpu_seconds());
        phase1::contribute(tmp.path(), "bench", &Quiet).unwrap();
        let contribute = (t.elapsed(), cpu_seconds() - c);
        let (t, c) = (std::time::Instant::now(), cpu_seconds());
        phase1::verify(tmp.path(), &Quiet).unwrap();
        let verify = (t.elapsed(), cpu_seconds() - c);
        println!(
            "2^{power}: contribute {:.2?} wall, {:.1} s CPU; verify (initial + 1 contribution) {:.2?} wall, {:.1} s CPU",
            contribute.0, contribute.1, verify.0, verify.1
        );
    }
}
