//! The vanilla replica-update proof at 2 KiB: a committed-capacity sector updated with deal
//! data proves its update; a tampered new replica, a wrong CommD', a wrong old CommR, another
//! sector's proof, other randomness and altered openings are each rejected.

use std::path::Path;
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_prover::vanilla::update::{prove, verify, UpdateRejection};
use strata_sealer::*;

fn cc_then_update(root: &Path, number: u64, fill: u8) -> std::path::PathBuf {
    let cfg = SealConfig {
        proof_type: ProofType::for_size(SectorSize::KIB2).unwrap(),
        prover_id: 1000,
        sector_number: number,
        ticket: [number as u8; 32],
        parent_cache_dir: root.join("parents"),
    };
    let len = 2048 / 128 * 127;
    let cc = root.join(format!("cc{number}"));
    seal(
        &cfg,
        vec![PieceSource {
            reader: Box::new(std::io::Read::take(std::io::repeat(0), len)),
            len,
        }],
        &cc,
        &NoProgress,
    )
    .unwrap();
    let deal: Vec<u8> = (0..1200).map(|i| (i as u8) ^ fill).collect();
    let out = root.join(format!("updated{number}"));
    update::snap(
        &cc,
        vec![PieceSource {
            reader: Box::new(&deal[..]),
            len: deal.len() as u64,
        }],
        &out,
        &NoProgress,
    )
    .unwrap();
    out
}

#[test]
fn update_proof_verifies_and_every_tampering_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let pt = ProofType::for_size(SectorSize::KIB2).unwrap();
    let a = cc_then_update(tmp.path(), 1, 0x11);
    let b = cc_then_update(tmp.path(), 2, 0x22);
    let r = [7u8; 32];
    let (proof, s) = prove(&a, &r).unwrap();
    verify(&pt, &s, &proof).unwrap();
    let (proof_b, s_b) = prove(&b, &r).unwrap();
    verify(&pt, &s_b, &proof_b).unwrap();

    // Public inputs that are not this update's.
    let mut wrong = s;
    wrong.comm_d_new = s_b.comm_d_new;
    assert!(matches!(
        verify(&pt, &wrong, &proof),
        Err(UpdateRejection::Opening { which: "data", .. })
    ));
    let mut wrong = s;
    wrong.comm_r_old = s_b.comm_r_old;
    assert_eq!(
        verify(&pt, &wrong, &proof),
        Err(UpdateRejection::CommR("CommR_old"))
    );
    let mut wrong = s;
    wrong.comm_r_new = s_b.comm_r_new;
    assert_eq!(
        verify(&pt, &wrong, &proof),
        Err(UpdateRejection::CommR("CommR'"))
    );
    let mut wrong = s;
    wrong.randomness = [8u8; 32];
    assert!(matches!(
        verify(&pt, &wrong, &proof),
        Err(UpdateRejection::Opening { .. })
    ));
    // Another sector's proof for this sector's statement.
    assert!(verify(&pt, &s, &proof_b).is_err());

    // A tampered new replica leaf (its opening re-rooted consistently is impossible: the root
    // is bound by CommR'): the opening fails.
    let mut t = proof.clone();
    t.openings[3].new.leaf[0] ^= 1;
    assert!(matches!(
        verify(&pt, &s, &t),
        Err(UpdateRejection::Opening {
            index: 3,
            which: "new replica"
        })
    ));
    // A whole new replica that is not old + data·ρ: rebuild a proof over a replica whose leaf
    // differs, with its own tree — its CommR' no longer matches.
    let mut t = proof.clone();
    t.comm_r_last_new = proof_b.comm_r_last_new;
    assert_eq!(verify(&pt, &s, &t), Err(UpdateRejection::CommR("CommR'")));
    // Openings dropped, or reordered.
    let mut t = proof.clone();
    t.openings.pop();
    assert!(matches!(
        verify(&pt, &s, &t),
        Err(UpdateRejection::Malformed(_))
    ));
    let mut t = proof.clone();
    t.openings.swap(0, 1);
    if proof.openings[0].old.index != proof.openings[1].old.index {
        assert!(matches!(
            verify(&pt, &s, &t),
            Err(UpdateRejection::Opening { index: 0, .. })
        ));
    }

    // The new replica on disk altered: the provider's own prover refuses to make a proof.
    let sealed = a.join("sealed");
    let mut bytes = std::fs::read(&sealed).unwrap();
    bytes[100] ^= 4;
    std::fs::write(&sealed, &bytes).unwrap();
    assert!(prove(&a, &r).is_err());
    // A sector that was never updated has nothing to prove.
    assert!(prove(&tmp.path().join("cc1"), &r)
        .unwrap_err()
        .contains("not been updated"));
}
