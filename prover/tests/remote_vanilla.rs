//! Remote proving, vanilla half (no SNARK): per-sector vanilla results travel as JSON without
//! loss, and the checks the SNARK machine applies to them turn every kind of tampering — a
//! flipped byte in an opening, a wrong comm_r_last, a proof of another sector, a duplicated
//! sector, an unexpected sector — into a faulty (or set-aside) sector, never a healthy one.
//! Where a `prove_*_from_vanilla` call is made, the parameter store is empty: the vanilla checks
//! come first, so nothing here reaches a circuit.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use strata_params::groth16_files::{ParamsStore, ProofKind};
use strata_params::ProofType;
use strata_primitives::node::Node;
use strata_primitives::sizes::SectorSize;
use strata_prover::remote::*;
use strata_prover::vanilla::post::*;
use strata_prover::warm::ParamSource;
use strata_prover::ProofError;
use strata_sealer::SectorPaths;

mod common;

const RAND: Node = [0x3c; 32];

fn pt() -> ProofType {
    ProofType::for_size(SectorSize::KIB2).unwrap()
}

/// Sectors 1, 2 and 3 (the partition being proven) and sector 9 (not in it), sealed once.
struct Sectors {
    _tmp: tempfile::TempDir,
    dirs: Vec<PathBuf>,
    expected: Vec<PostSector>,
    other_dir: PathBuf,
}

fn sectors() -> &'static Sectors {
    static S: OnceLock<Sectors> = OnceLock::new();
    S.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let mut dirs = Vec::new();
        let mut expected = Vec::new();
        for n in 1..=3 {
            let (dir, meta) = common::seal_2kib(tmp.path(), n, 10 + n as u8);
            dirs.push(dir);
            expected.push(PostSector {
                sector_number: n,
                comm_r: meta.comm_r,
            });
        }
        let other_dir = common::seal_2kib(tmp.path(), 9, 19).0;
        Sectors {
            _tmp: tmp,
            dirs,
            expected,
            other_dir,
        }
    })
}

/// Honest vanilla results for sectors 1, 2, 3.
fn honest() -> Vec<SectorVanilla> {
    let s = sectors();
    s.expected
        .iter()
        .zip(&s.dirs)
        .map(|(e, d)| vanilla_window_sector(e.sector_number, d, &RAND))
        .collect()
}

fn proof_of(v: &mut SectorVanilla) -> &mut SectorPostProof {
    match v {
        SectorVanilla::Proven { proof, .. } => proof,
        SectorVanilla::Faulty(f) => panic!("sector {} is faulty: {}", f.sector_number, f.reason),
    }
}

fn check(sectors_in: Vec<SectorVanilla>) -> CheckedVanilla {
    check_vanilla(&pt(), &RAND, &sectors().expected, sectors_in).unwrap()
}

fn numbers<T>(items: &[T], n: impl Fn(&T) -> u64) -> Vec<u64> {
    items.iter().map(n).collect()
}

/// Checks that exactly sector 2 is faulty with a reason containing `why`, that sectors 1 and 3
/// are healthy and verify, and that nothing is set aside.
fn only_sector_2_faulty(c: &CheckedVanilla, why: &str) {
    assert_eq!(numbers(&c.healthy, |h| h.0.sector_number), vec![1, 3]);
    assert_eq!(numbers(&c.faulty, |f| f.sector_number), vec![2]);
    assert!(c.faulty[0].reason.contains(why), "{}", c.faulty[0].reason);
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    healthy_verify(c);
}

/// Every healthy sector's proof verifies against its expected public input, alone and in the
/// partitions the SNARK would prove.
fn healthy_verify(c: &CheckedVanilla) {
    let pt = pt();
    for (public, proof) in &c.healthy {
        assert!(sectors().expected.contains(public));
        verify_sector(&pt, &RAND, public, proof, pt.window_post_challenges).unwrap();
    }
    for (public, proofs) in window_partitions(&pt, &c.healthy) {
        verify_window_post_partition(&pt, &RAND, &public, &proofs).unwrap();
    }
}

fn empty_store() -> (tempfile::TempDir, ParamsStore) {
    let tmp = tempfile::tempdir().unwrap();
    let store = ParamsStore::new(tmp.path().to_path_buf());
    (tmp, store)
}

#[test]
fn honest_vanilla_results_are_all_healthy() {
    let c = check(honest());
    assert_eq!(numbers(&c.healthy, |h| h.0.sector_number), vec![1, 2, 3]);
    assert!(c.faulty.is_empty() && c.rejected.is_empty());
    healthy_verify(&c);
    // In the order expected, whatever order they arrive in.
    let mut shuffled = honest();
    shuffled.reverse();
    assert_eq!(check(shuffled), c);
    // The same partitions the local path builds.
    let out = prove_window_post(&pt(), &sectors().dirs, &RAND);
    assert_eq!(window_partitions(&pt(), &c.healthy), out.partitions);
}

#[test]
fn json_round_trip_is_lossless() {
    let mut all = honest();
    all.push(vanilla_window_sector(
        4,
        Path::new("/no/such/sector"),
        &RAND,
    ));
    all.push(vanilla_winning_sector(1, &sectors().dirs[0], &RAND));
    for v in &all {
        let text = serde_json::to_string(v).unwrap();
        let back: SectorVanilla = serde_json::from_str(&text).unwrap();
        assert_eq!(&back, v);
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
        let pretty: SectorVanilla =
            serde_json::from_str(&serde_json::to_string_pretty(v).unwrap()).unwrap();
        assert_eq!(&pretty, v);
    }
    // A list, as one message.
    let text = serde_json::to_string(&all).unwrap();
    assert_eq!(
        serde_json::from_str::<Vec<SectorVanilla>>(&text).unwrap(),
        all
    );
    // Unknown fields are refused.
    let mut v: serde_json::Value = serde_json::to_value(&all[0]).unwrap();
    v["proven"]["extra"] = 1.into();
    assert!(serde_json::from_value::<SectorVanilla>(v).is_err());
    let mut v: serde_json::Value = serde_json::to_value(&all[3]).unwrap();
    v["faulty"]["extra"] = 1.into();
    assert!(serde_json::from_value::<SectorVanilla>(v).is_err());
}

#[test]
fn vanilla_sector_failures_name_the_requested_sector() {
    let s = sectors();
    // No meta.json.
    match vanilla_window_sector(7, Path::new("/no/such/sector"), &RAND) {
        SectorVanilla::Faulty(f) => assert_eq!(f.sector_number, 7),
        v => panic!("{v:?}"),
    }
    // The directory holds another sector.
    match vanilla_window_sector(2, &s.dirs[0], &RAND) {
        SectorVanilla::Faulty(f) => {
            assert_eq!(f.sector_number, 2);
            assert!(f.reason.contains("holds sector 1"), "{}", f.reason);
        }
        v => panic!("{v:?}"),
    }
    // Window and winning proofs have their own challenge counts.
    let mut w = vanilla_window_sector(1, &s.dirs[0], &RAND);
    let mut x = vanilla_winning_sector(1, &s.dirs[0], &RAND);
    assert_eq!(proof_of(&mut w).openings.len(), pt().window_post_challenges);
    assert_eq!(
        proof_of(&mut x).openings.len(),
        pt().winning_post_challenges
    );
    // A winning proof is not a window proof.
    let mut v = honest();
    v[1] = vanilla_winning_sector(2, &s.dirs[1], &RAND);
    only_sector_2_faulty(&check(v), "openings");
}

#[test]
fn a_corrupt_replica_is_reported_by_the_remote_and_kept_faulty() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, meta) = common::seal_2kib(tmp.path(), 2, 12);
    let c = strata_prover::challenges::post_leaf_challenges(
        &RAND,
        2,
        pt().window_post_challenges,
        pt().nodes(),
    )[0];
    let sealed = SectorPaths::new(&dir).sealed();
    let mut bytes = fs::read(&sealed).unwrap();
    bytes[c as usize * 32] ^= 1;
    fs::write(&sealed, &bytes).unwrap();
    let mut v = honest();
    v[1] = vanilla_window_sector(2, &dir, &RAND);
    assert_eq!(meta.comm_r, sectors().expected[1].comm_r);
    only_sector_2_faulty(&check(v), "does not verify");
}

#[test]
fn a_flipped_byte_in_an_opening_makes_the_sector_faulty() {
    let h = honest();
    // A sibling, the leaf, and the index of an opening.
    let mut v = h.clone();
    proof_of(&mut v[1]).openings[3].siblings[0][0][0] ^= 1;
    only_sector_2_faulty(&check(v), "opening 3 is invalid");
    let mut v = h.clone();
    proof_of(&mut v[1]).openings[0].leaf[5] ^= 0x10;
    only_sector_2_faulty(&check(v), "opening 0 is invalid");
    let mut v = h.clone();
    let o = &mut proof_of(&mut v[1]).openings[9];
    o.index = (o.index + 1) % pt().nodes();
    only_sector_2_faulty(&check(v), "opening 9 is invalid");
    // Every byte of one opening's siblings and leaf, one at a time.
    let rows: Vec<usize> = {
        let mut v = h.clone();
        proof_of(&mut v[1]).openings[1]
            .siblings
            .iter()
            .map(Vec::len)
            .collect()
    };
    for (level, &n) in rows.iter().enumerate() {
        for (sibling, byte) in (0..n).flat_map(|s| (0..32).map(move |b| (s, b))) {
            let mut v = h.clone();
            proof_of(&mut v[1]).openings[1].siblings[level][sibling][byte] ^= 0x80;
            only_sector_2_faulty(&check(v), "opening 1 is invalid");
        }
    }
    for byte in 0..32 {
        let mut v = h.clone();
        proof_of(&mut v[1]).openings[1].leaf[byte] ^= 1;
        only_sector_2_faulty(&check(v), "opening 1 is invalid");
    }
    // A missing or an extra opening.
    let mut v = h.clone();
    proof_of(&mut v[1]).openings.pop();
    only_sector_2_faulty(&check(v), "openings");
    let mut v = h;
    let p = proof_of(&mut v[1]);
    p.openings.push(p.openings[0].clone());
    only_sector_2_faulty(&check(v), "openings");
}

#[test]
fn a_wrong_comm_r_last_or_comm_c_makes_the_sector_faulty() {
    let h = honest();
    let mut v = h.clone();
    proof_of(&mut v[1]).comm_r_last[0] ^= 1;
    only_sector_2_faulty(&check(v), "comm_r does not commit");
    // Another sector's comm_r_last (a field element, with openings that match it).
    let mut v = h.clone();
    let other = proof_of(&mut v[2]).clone();
    proof_of(&mut v[1]).comm_r_last = other.comm_r_last;
    only_sector_2_faulty(&check(v), "comm_r does not commit");
    // Not a field element at all.
    let mut v = h.clone();
    proof_of(&mut v[1]).comm_r_last = [0xff; 32];
    only_sector_2_faulty(&check(v), "comm_r does not commit");
    let mut v = h;
    proof_of(&mut v[1]).comm_c[31] ^= 1;
    only_sector_2_faulty(&check(v), "comm_r does not commit");
}

#[test]
fn a_proof_of_another_sector_makes_the_sector_faulty() {
    let h = honest();
    let p2 = sectors().expected[1];
    let p3 = (sectors().expected[2], proof_of(&mut h.clone()[2]).clone());
    // Sector 3's proof sent as sector 2's, as it is.
    let mut v = h.clone();
    v[1] = SectorVanilla::Proven {
        public: p2,
        proof: p3.1.clone(),
    };
    only_sector_2_faulty(&check(v), "proof is for sector 3, expected sector 2");
    // Relabelled as sector 2.
    let mut v = h.clone();
    let mut q = p3.1.clone();
    q.sector_number = 2;
    v[1] = SectorVanilla::Proven {
        public: p2,
        proof: q,
    };
    only_sector_2_faulty(&check(v), "vanilla proof rejected");
    // Relabelled, claiming sector 3's CommR too.
    let mut v = h.clone();
    let mut q = p3.1.clone();
    q.sector_number = 2;
    v[1] = SectorVanilla::Proven {
        public: PostSector {
            sector_number: 2,
            comm_r: p3.0.comm_r,
        },
        proof: q,
    };
    only_sector_2_faulty(&check(v), "is not the expected");
    // Sector 2's own proof under another randomness.
    let mut v = h;
    let mut r = RAND;
    r[0] ^= 1;
    v[1] = vanilla_window_sector(2, &sectors().dirs[1], &r);
    only_sector_2_faulty(&check(v), "vanilla proof rejected");
}

#[test]
fn the_chain_s_comm_r_is_the_one_checked() {
    // The chain expects another CommR for sector 2 than the remote's files hold.
    let mut expected = sectors().expected.clone();
    expected[1].comm_r = expected[2].comm_r;
    let c = check_vanilla(&pt(), &RAND, &expected, honest()).unwrap();
    assert_eq!(numbers(&c.healthy, |h| h.0.sector_number), vec![1, 3]);
    assert_eq!(numbers(&c.faulty, |f| f.sector_number), vec![2]);
    assert!(c.faulty[0].reason.contains("is not the expected"));
    // Even if the remote reports the CommR the chain expects, the proof must open it.
    let mut v = honest();
    if let SectorVanilla::Proven { public, .. } = &mut v[1] {
        public.comm_r = expected[1].comm_r;
    }
    let c = check_vanilla(&pt(), &RAND, &expected, v).unwrap();
    assert_eq!(numbers(&c.faulty, |f| f.sector_number), vec![2]);
    assert!(c.faulty[0].reason.contains("comm_r does not commit"));
}

#[test]
fn a_duplicated_sector_is_faulty_even_if_both_copies_verify() {
    let mut v = honest();
    v.push(v[1].clone());
    only_sector_2_faulty(&check(v), "2 vanilla proofs received");
    // A proof and a fault for the same sector.
    let mut v = honest();
    v.push(vanilla_window_sector(
        2,
        Path::new("/no/such/sector"),
        &RAND,
    ));
    only_sector_2_faulty(&check(v), "2 vanilla proofs received");
    // A duplicated expected sector is the caller's error.
    let mut expected = sectors().expected.clone();
    expected.push(expected[0]);
    assert!(matches!(
        check_vanilla(&pt(), &RAND, &expected, honest()),
        Err(ProofError::BadRequest(m)) if m.contains("expected twice")
    ));
}

#[test]
fn an_unexpected_sector_is_set_aside_and_a_missing_one_is_faulty() {
    let s = sectors();
    let mut v = honest();
    v.push(vanilla_window_sector(9, &s.other_dir, &RAND));
    v.push(vanilla_window_sector(
        8,
        Path::new("/no/such/sector"),
        &RAND,
    ));
    let c = check(v);
    assert_eq!(numbers(&c.healthy, |h| h.0.sector_number), vec![1, 2, 3]);
    assert!(c.faulty.is_empty());
    assert_eq!(numbers(&c.rejected, |f| f.sector_number), vec![9, 8]);
    assert!(c.rejected[0].reason.contains("not expected"));
    healthy_verify(&c);
    // Sector 2's entry missing, sector 9's in its place.
    let mut v = honest();
    v[1] = vanilla_window_sector(9, &s.other_dir, &RAND);
    let c = check(v);
    assert_eq!(numbers(&c.faulty, |f| f.sector_number), vec![2]);
    assert_eq!(c.faulty[0].reason, "no vanilla proof received");
    assert_eq!(numbers(&c.rejected, |f| f.sector_number), vec![9]);
    // Nothing received: all faulty.
    let c = check(vec![]);
    assert!(c.healthy.is_empty());
    assert_eq!(numbers(&c.faulty, |f| f.sector_number), vec![1, 2, 3]);
}

#[test]
fn a_remote_fault_keeps_its_reason() {
    let mut v = honest();
    v[1] = SectorVanilla::Faulty(Faulty {
        sector_number: 2,
        dir: "/remote/sector-2".into(),
        reason: "disk gone".into(),
    });
    let c = check(v);
    only_sector_2_faulty(&c, "disk gone");
    assert_eq!(c.faulty[0].dir, PathBuf::from("/remote/sector-2"));
}

#[test]
fn no_proof_file_without_a_healthy_sector() {
    let (_tmp, store) = empty_store();
    let mut v = honest();
    for e in &mut v {
        proof_of(e).openings[0].leaf[0] ^= 1;
    }
    v.push(vanilla_window_sector(9, &sectors().other_dir, &RAND));
    let err = prove_window_from_vanilla(&pt(), &RAND, &sectors().expected, v, &store)
        .unwrap_err()
        .to_string();
    assert!(err.contains("every sector is faulty"), "{err}");
    assert!(
        !err.contains("9 ("),
        "an unexpected sector is no fault: {err}"
    );
    assert!(prove_window_from_vanilla(&pt(), &RAND, &[], honest(), &store).is_err());
}

#[test]
fn winning_vanilla_is_checked_before_the_snark() {
    let (_tmp, store) = empty_store();
    let s = sectors();
    let set = &s.expected;
    let drawn = winning_sector(1000, &RAND, set).unwrap();
    assert!(winning_sector(1000, &RAND, &[]).is_none());
    let i = set.iter().position(|x| *x == drawn).unwrap();
    let good = vanilla_winning_sector(drawn.sector_number, &s.dirs[i], &RAND);
    let prove = |v: SectorVanilla| {
        prove_winning_from_vanilla(&pt(), 1000, &RAND, set, v, &store)
            .unwrap_err()
            .to_string()
    };
    // The honest proof passes the checks and fails only for want of parameters.
    let missing = store
        .params(ProofKind::Winning, &pt())
        .err()
        .expect("the store is empty")
        .to_string();
    assert_eq!(prove(good.clone()), missing);
    // Tampered: a flipped sibling, a wrong comm_r_last.
    let mut v = good.clone();
    proof_of(&mut v).openings[10].siblings[1][2][3] ^= 1;
    assert!(prove(v).contains("vanilla proof rejected"));
    let mut v = good.clone();
    proof_of(&mut v).comm_r_last[1] ^= 1;
    assert!(prove(v).contains("vanilla proof rejected"));
    // Another sector's proof, and a window proof of the drawn sector.
    let j = (i + 1) % set.len();
    let other = vanilla_winning_sector(set[j].sector_number, &s.dirs[j], &RAND);
    assert!(prove(other).contains("not the drawn sector"));
    let window = vanilla_window_sector(drawn.sector_number, &s.dirs[i], &RAND);
    assert!(prove(window).contains("vanilla proof rejected"));
    // A fault.
    let f = vanilla_winning_sector(drawn.sector_number, Path::new("/no/such"), &RAND);
    assert!(matches!(
        prove_winning_from_vanilla(&pt(), 1000, &RAND, set, f, &store),
        Err(ProofError::Inconsistent { sector, .. }) if sector == drawn.sector_number
    ));
    assert!(prove_winning_from_vanilla(&pt(), 1000, &RAND, &[], good, &store).is_err());
}
