//! The SRS: generation, specialisation, strict serialisation, construction from external
//! powers of tau, and the verifier key's encoding and digest.

mod common;

use bls12_381::{G1Affine, G1Projective, G2Affine, G2Projective, Scalar};
use strata_aggregate::{AggregateError, Srs, VerifierKey};

fn small() -> Srs {
    Srs::generate_devnet(8, &mut common::rng(7)).expect("srs")
}

/// Powers of tau in `bls12_381`: g^{s^i} (i < 2n) and h^{s^i} (i < n).
fn powers(s: u64, n: usize) -> (Vec<G1Affine>, Vec<G2Affine>) {
    let s = Scalar::from(s);
    let mut x = Scalar::one();
    let (mut g1, mut g2) = (Vec::new(), Vec::new());
    for i in 0..2 * n {
        g1.push(G1Affine::from(G1Projective::generator() * x));
        if i < n {
            g2.push(G2Affine::from(G2Projective::generator() * x));
        }
        x *= s;
    }
    (g1, g2)
}

#[test]
fn serialisation_round_trips() {
    let srs = small();
    assert_eq!(srs.max_proofs(), 8);
    let bytes = srs.to_bytes();
    assert_eq!(Srs::from_bytes(&bytes).expect("parses"), srs);
    let vk = srs.verifier_key();
    assert_eq!(
        VerifierKey::from_bytes(&vk.to_bytes()).expect("vk parses"),
        vk
    );
    assert_eq!(vk.to_bytes().len(), VerifierKey::BYTES);
    assert_eq!(vk.max_proofs(), 8);
}

#[test]
fn truncated_extended_or_altered_files_are_errors() {
    let bytes = small().to_bytes();
    for len in [0, 10, 25, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            matches!(
                Srs::from_bytes(&bytes[..len]),
                Err(AggregateError::Malformed { .. })
            ),
            "{len}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(Srs::from_bytes(&longer).is_err());
    // A flipped bit in a coordinate: off the curve (or, rarely, another point: not a power).
    for at in [30, 25 + 96 * 3 + 50, bytes.len() - 7] {
        let mut altered = bytes.clone();
        altered[at] ^= 0x10;
        assert!(Srs::from_bytes(&altered).is_err(), "byte {at}");
    }
    // Two valid points swapped: every point checks out, the sequence does not.
    let mut swapped = bytes.clone();
    let (p, q) = (25 + 96 * 3, 25 + 96 * 4);
    let tmp: Vec<u8> = swapped[p..q].to_vec();
    swapped.copy_within(q..q + 96, p);
    swapped[q..q + 96].copy_from_slice(&tmp);
    assert!(matches!(
        Srs::from_bytes(&swapped),
        Err(AggregateError::InvalidSrs(_))
    ));
    // Another magic, version or size.
    for (at, value) in [(0, b'x'), (20, 2), (21, 3)] {
        let mut altered = bytes.clone();
        altered[at] = value;
        assert!(Srs::from_bytes(&altered).is_err(), "header byte {at}");
    }
}

#[test]
fn from_powers_accepts_two_transcripts_and_checks_them() {
    let (g1_a, g2_a) = powers(5, 4);
    let (g1_b, g2_b) = powers(11, 4);
    let srs = Srs::from_powers(&g1_a, &g2_a, &g1_b, &g2_b).expect("valid powers");
    assert_eq!(srs.max_proofs(), 4);
    assert_eq!(Srs::from_bytes(&srs.to_bytes()).expect("parses"), srs);

    // The same secret twice.
    assert!(Srs::from_powers(&g1_a, &g2_a, &g1_a, &g2_a).is_err());
    // G1 and G2 halves from different secrets.
    assert!(Srs::from_powers(&g1_a, &g2_b, &g1_b, &g2_a).is_err());
    // One power wrong.
    let mut bad = g1_a.clone();
    bad[5] = G1Affine::generator();
    assert!(matches!(
        Srs::from_powers(&bad, &g2_a, &g1_b, &g2_b),
        Err(AggregateError::InvalidSrs(_))
    ));
    // Wrong lengths, a trivial secret, not a power of two.
    assert!(Srs::from_powers(&g1_a[..7], &g2_a, &g1_b, &g2_b).is_err());
    let (g1_one, g2_one) = powers(1, 4);
    assert!(Srs::from_powers(&g1_one, &g2_one, &g1_b, &g2_b).is_err());
    let (g1_3, g2_3) = powers(5, 3);
    let (g1_3b, g2_3b) = powers(11, 3);
    assert!(Srs::from_powers(&g1_3, &g2_3, &g1_3b, &g2_3b).is_err());
}

#[test]
fn specialise_and_digest() {
    let srs = small();
    let (pk, vk) = srs.specialize(4).expect("specialize");
    assert_eq!(pk.n(), 4);
    assert_eq!(pk.verifier_key(), &vk);
    assert_eq!(vk, srs.verifier_key(), "one verifier key for every n");
    assert!(matches!(
        srs.specialize(16),
        Err(AggregateError::KeySize {
            supported: 8,
            asked: 16
        })
    ));
    assert_eq!(
        srs.specialize(1).unwrap_err(),
        AggregateError::ProofCount(1)
    );
    assert!(Srs::generate_devnet(6, &mut common::rng(1)).is_err());

    let other = Srs::generate_devnet(8, &mut common::rng(8)).expect("srs");
    assert_eq!(vk.digest(), srs.verifier_key().digest());
    assert_ne!(vk.digest(), other.verifier_key().digest());
}

#[test]
fn altered_verifier_keys_are_errors() {
    let bytes = small().verifier_key().to_bytes();
    assert!(VerifierKey::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    for at in 0..bytes.len() {
        let mut altered = bytes.clone();
        altered[at] ^= 0x04;
        assert!(VerifierKey::from_bytes(&altered).is_err(), "byte {at}");
    }
}
