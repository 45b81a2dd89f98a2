//! The Fiat–Shamir transcript, without any circuit: deterministic, and separated by domain,
//! context, label, message and order.

use strata_aggregate::transcript::{Transcript, DOMAIN};

fn challenge(context: &[u8], messages: &[(&'static [u8], &[u8])]) -> [u8; 32] {
    let mut t = Transcript::new(context);
    for (label, bytes) in messages {
        t.append_bytes(label, bytes);
    }
    t.challenge(b"c").to_bytes()
}

#[test]
fn the_domain_is_pinned() {
    assert_eq!(DOMAIN, "strata-snarkpack-v1");
}

#[test]
fn challenges_are_deterministic_and_pinned() {
    let a = challenge(b"ctx", &[(b"m", b"hello")]);
    assert_eq!(a, challenge(b"ctx", &[(b"m", b"hello")]));
    // Pinned: a change to the framing, the domain or the reduction changes every aggregate.
    assert_eq!(hex(&a), PINNED);
}

const PINNED: &str = "d1b1aed6c2acbfcf1d156bbc8a9b4ed5b0826c24a29065a8c0ce8f4ca9bc9748";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn everything_absorbed_separates() {
    let base = challenge(b"ctx", &[(b"m", b"hello")]);
    assert_ne!(base, challenge(b"ctx2", &[(b"m", b"hello")]), "context");
    assert_ne!(base, challenge(b"", &[(b"m", b"hello")]), "empty context");
    assert_ne!(base, challenge(b"ctx", &[(b"n", b"hello")]), "label");
    assert_ne!(base, challenge(b"ctx", &[(b"m", b"hellp")]), "message");
    assert_ne!(
        base,
        challenge(b"ctx", &[(b"m", b"hello"), (b"m", b"")]),
        "an empty message"
    );
    assert_ne!(
        challenge(b"ctx", &[(b"a", b"1"), (b"b", b"2")]),
        challenge(b"ctx", &[(b"b", b"2"), (b"a", b"1")]),
        "order"
    );
    // Framing: moving bytes between the context, labels and messages is seen.
    assert_ne!(
        challenge(b"ctxm", &[(b"", b"hello")]),
        challenge(b"ctx", &[(b"m", b"hello")])
    );
}

#[test]
fn successive_challenges_differ_and_chain() {
    let mut t = Transcript::new(b"ctx");
    let c1 = t.challenge(b"c");
    let c2 = t.challenge(b"c");
    assert_ne!(c1, c2, "a challenge is absorbed before the next");
    let mut u = Transcript::new(b"ctx");
    assert_eq!(u.challenge(b"c"), c1);
    assert_ne!(u.challenge(b"d"), c2, "challenge labels separate");
    let mut v = Transcript::new(b"ctx");
    v.append_u64(b"n", 8);
    let mut w = Transcript::new(b"ctx");
    w.append_u64(b"n", 16);
    assert_ne!(v.challenge(b"c"), w.challenge(b"c"));
    assert_ne!(
        Transcript::new(b"ctx").challenge(b"c"),
        bls12_381::Scalar::zero()
    );
}
