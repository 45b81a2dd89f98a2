//! Proofs of knowledge of a contribution's secret: a Schnorr proof, made non-interactive with
//! a BLAKE3 Fiat–Shamir challenge, that the contributor knows `x` with `image = x·base` in G1.
//!
//! The challenge binds the context (the digest of the file the contribution builds on and the
//! secret's name), so a proof cannot be replayed in another ceremony, at another position, or
//! for another secret. Knowledge of `x` is what makes a contribution sound (BGM17 §3): without
//! it a contributor could pick its update as a function of earlier ones and cancel them.
//! BGM17 uses a hash-to-G2 point for the same purpose; a Schnorr proof is the textbook
//! knowledge-sound alternative in the random-oracle model and needs no hash to curve.

use crate::curve::{
    decode_g1, decode_scalar, hash_to_scalar, os_seed, G1Affine, G1Projective, Scalar, G1_BYTES,
    SCALAR_BYTES,
};
use crate::CeremonyError;
use group013::prime::PrimeCurveAffine;
use group013::Curve;

/// Encoded size of a [`Pok`].
pub const POK_BYTES: usize = G1_BYTES + SCALAR_BYTES;

const DOMAIN: &str = "strata ceremony v1 schnorr proof of knowledge";

/// A Schnorr proof of knowledge of `x` with `image = x·base`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pok {
    /// The commitment `k·base`.
    pub r: G1Affine,
    /// The response `k + c·x`.
    pub s: Scalar,
}

fn challenge(context: &[u8], base: &G1Affine, image: &G1Affine, r: &G1Affine) -> Scalar {
    hash_to_scalar(
        DOMAIN,
        &[
            context,
            &base.to_uncompressed(),
            &image.to_uncompressed(),
            &r.to_uncompressed(),
        ],
    )
}

impl Pok {
    /// Proves knowledge of `x` (with `image = x·base`), bound to `context`. The nonce mixes OS
    /// randomness with `x`, so neither a weak RNG nor a repeated RNG state alone leaks `x`.
    pub fn prove(
        x: &Scalar,
        base: &G1Affine,
        image: &G1Affine,
        context: &[u8],
    ) -> Result<Pok, CeremonyError> {
        let seed = os_seed()?;
        let k = hash_to_scalar(DOMAIN, &[b"nonce", &seed, &x.to_bytes_le(), context]);
        let r = (G1Projective::from(base) * k).to_affine();
        let c = challenge(context, base, image, &r);
        Ok(Pok { r, s: k + c * x })
    }

    /// Whether this proves knowledge of `log_base(image)` in `context`. False for an identity
    /// base or image (a zero secret would erase everything before it).
    pub fn verify(&self, base: &G1Affine, image: &G1Affine, context: &[u8]) -> bool {
        if bool::from(base.is_identity()) || bool::from(image.is_identity()) {
            return false;
        }
        let c = challenge(context, base, image, &self.r);
        G1Projective::from(base) * self.s
            == G1Projective::from(self.r) + G1Projective::from(image) * c
    }

    /// The encoding: `r` uncompressed, then `s` little-endian.
    pub fn to_bytes(&self) -> [u8; POK_BYTES] {
        let mut out = [0u8; POK_BYTES];
        out[..G1_BYTES].copy_from_slice(&self.r.to_uncompressed());
        out[G1_BYTES..].copy_from_slice(&self.s.to_bytes_le());
        out
    }

    /// Decodes [`Pok::to_bytes`]; `None` if the point or the scalar is invalid.
    pub fn from_bytes(bytes: &[u8]) -> Option<Pok> {
        if bytes.len() != POK_BYTES {
            return None;
        }
        Some(Pok {
            r: decode_g1(&bytes[..G1_BYTES])?,
            s: decode_scalar(&bytes[G1_BYTES..])?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::random_scalar;
    use group013::Group;

    #[test]
    fn proves_and_rejects_other_contexts_images_and_tampering() {
        let base = (G1Projective::generator() * random_scalar().unwrap()).to_affine();
        let x = random_scalar().unwrap();
        let image = (G1Projective::from(base) * x).to_affine();
        let pok = Pok::prove(&x, &base, &image, b"ctx").unwrap();
        assert!(pok.verify(&base, &image, b"ctx"));
        assert_eq!(Pok::from_bytes(&pok.to_bytes()), Some(pok));
        assert!(!pok.verify(&base, &image, b"other ctx"));
        let other = (G1Projective::from(image) * x).to_affine();
        assert!(!pok.verify(&base, &other, b"ctx"));
        assert!(
            !pok.verify(&image, &other, b"ctx"),
            "a proof for one step is not one for the next"
        );
        let mut bad = pok;
        bad.s += Scalar::from(1u64);
        assert!(!bad.verify(&base, &image, b"ctx"));
        assert!(!pok.verify(&base, &G1Affine::identity(), b"ctx"));
        let mut bytes = pok.to_bytes();
        bytes[5] ^= 1;
        assert!(Pok::from_bytes(&bytes).is_none_or(|p| !p.verify(&base, &image, b"ctx")));
    }
}
