//! The Fiat–Shamir transcript: every challenge of the aggregation is a hash of everything the
//! prover committed to before it.
//!
//! The transcript is one running BLAKE3 state, keyed by the protocol's domain
//! ([`DOMAIN`]). Every message is absorbed as `label ‖ u64_le(len) ‖ bytes` (labels are fixed
//! ASCII strings, written with their own length), so no two different sequences of messages
//! absorb the same bytes. A challenge is read by hashing the state with a challenge label into
//! 64 bytes that are reduced modulo the group order, and is then absorbed back, so every later
//! challenge depends on every earlier one. Challenges are never zero (the aggregation inverts
//! them).

use crate::curve::{self, G1Affine, G2Affine, Gt, Scalar};
use ff013::Field;
use group013::GroupEncoding;

/// The protocol's domain separator: a transcript of another protocol, or of another version of
/// this one, never yields the same challenges.
pub const DOMAIN: &str = "strata-snarkpack-v1";

/// A Fiat–Shamir transcript (see the module documentation).
///
/// Two transcripts that absorbed the same messages in the same order yield the same challenges;
/// any difference in a label, a message, their order or the context yields unrelated ones.
#[derive(Clone)]
pub struct Transcript {
    state: blake3::Hasher,
}

impl Transcript {
    /// A transcript for one aggregate, bound to the caller's `context` (see the crate
    /// documentation for what it must contain).
    pub fn new(context: &[u8]) -> Self {
        let mut t = Transcript {
            state: blake3::Hasher::new_derive_key(DOMAIN),
        };
        t.append_bytes(b"context", context);
        t
    }

    /// Absorbs `bytes` under `label`.
    pub fn append_bytes(&mut self, label: &'static [u8], bytes: &[u8]) {
        self.state.update(&(label.len() as u64).to_le_bytes());
        self.state.update(label);
        self.state.update(&(bytes.len() as u64).to_le_bytes());
        self.state.update(bytes);
    }

    /// Absorbs an integer under `label`.
    pub fn append_u64(&mut self, label: &'static [u8], value: u64) {
        self.append_bytes(label, &value.to_le_bytes());
    }

    /// Absorbs a scalar (canonical 32 bytes, little-endian) under `label`.
    pub fn append_scalar(&mut self, label: &'static [u8], x: &bls12_381::Scalar) {
        self.append_bytes(label, &x.to_bytes());
    }

    /// Absorbs a G1 point (compressed) under `label`.
    pub(crate) fn append_g1(&mut self, label: &'static [u8], p: &G1Affine) {
        self.append_bytes(label, p.to_bytes().as_ref());
    }

    /// Absorbs a G2 point (compressed) under `label`.
    pub(crate) fn append_g2(&mut self, label: &'static [u8], p: &G2Affine) {
        self.append_bytes(label, p.to_bytes().as_ref());
    }

    /// Absorbs a G_T element (its 288-byte encoding) under `label`.
    pub(crate) fn append_gt(&mut self, label: &'static [u8], x: &Gt) {
        self.append_bytes(label, &curve::gt_to_bytes(x));
    }

    /// A non-zero challenge scalar, which is then absorbed into the transcript.
    pub fn challenge(&mut self, label: &'static [u8]) -> bls12_381::Scalar {
        curve::scalar_to_zk(&self.challenge_scalar(label))
    }

    /// [`Transcript::challenge`] in the internal scalar type.
    pub(crate) fn challenge_scalar(&mut self, label: &'static [u8]) -> Scalar {
        let mut counter = 0u64;
        loop {
            let mut h = self.state.clone();
            h.update(b"challenge");
            h.update(&(label.len() as u64).to_le_bytes());
            h.update(label);
            h.update(&counter.to_le_bytes());
            let mut wide = [0u8; 64];
            h.finalize_xof().fill(&mut wide);
            let x = curve::scalar_from_wide(&wide);
            if !bool::from(x.is_zero()) {
                self.append_bytes(b"challenge-value", &x.to_bytes_le());
                return x;
            }
            // Unreachable but for a 2^-255 event; a new counter gives a fresh draw.
            counter += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_lengths_are_framed() {
        let mut a = Transcript::new(b"ctx");
        a.append_bytes(b"m", b"ab");
        a.append_bytes(b"m", b"c");
        let mut b = Transcript::new(b"ctx");
        b.append_bytes(b"m", b"a");
        b.append_bytes(b"m", b"bc");
        assert_ne!(a.challenge(b"x"), b.challenge(b"x"));
    }
}
