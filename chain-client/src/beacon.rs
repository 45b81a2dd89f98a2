//! The randomness beacon (DESIGN §8), drand-compatible: the entry of round `r` is the BLS
//! signature `σ_r = sk · H(SHA-256(u64_be(r)))` in G1 (RFC 9380 hash-to-curve, DST
//! [`DST`], drand's "quicknet" scheme `bls-unchained-g1-rfc9380`), the public key is in G2, an
//! entry verifies when `e(σ_r, g2) = e(H(m), pk)`, and the round's randomness is `SHA-256(σ_r)`.
//!
//! Why this is unpredictable and ungrindable: nobody without `sk` can compute `σ_r` for a round
//! not yet published (BLS is unforgeable), and BLS signatures are unique, so the key holder
//! cannot choose among several valid entries either. Anyone holding the public key can check an
//! entry; [`verify_entry`] is what every consumer runs before drawing from one.
//!
//! [`draw`] derives the randomness of one purpose (ticket, seal seed, …) for one drawer (a miner
//! id) at one epoch from an entry's randomness.

use crate::types::{Epoch, RandomnessTag};
use bls12_381::hash_to_curve::{ExpandMsgXmd, HashToCurve};
use bls12_381::{G1Affine, G1Projective, G2Affine, G2Prepared, G2Projective, Scalar};
use group::Group;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use strata_primitives::node::Node;

/// drand's name for the scheme.
pub const SCHEME: &str = "bls-unchained-g1-rfc9380";

/// The hash-to-curve domain separation tag of drand's G1 signatures.
pub const DST: &[u8] = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_";

/// Why an entry or key is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BeaconError {
    /// The bytes are not a compressed point of the right group (or are the identity).
    #[error("malformed beacon {0}: not a valid compressed BLS12-381 point")]
    Malformed(&'static str),
    /// The pairing check failed: not signed by the network's beacon key.
    #[error("beacon entry of round {round} is not signed by the network's beacon key")]
    BadSignature {
        /// The round.
        round: u64,
    },
    /// The entry is for another round than the epoch needs.
    #[error("beacon entry is for round {got}, epoch {epoch} needs round {expected}")]
    WrongRound {
        /// The epoch.
        epoch: Epoch,
        /// Its round.
        expected: u64,
        /// The entry's round.
        got: u64,
    },
    /// The epoch has no round (before the drand chain began, or negative).
    #[error("epoch {0} has no beacon round")]
    NoRound(Epoch),
}

macro_rules! hex_bytes {
    ($name:ident, $len:expr, $what:expr) => {
        /// Fixed-length bytes serialised as hex.
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// Parses hex of exactly the right length.
            pub fn from_hex(s: &str) -> Result<Self, String> {
                let b = hex::decode(s.trim()).map_err(|e| format!("{}: not hex ({e})", $what))?;
                let len = b.len();
                b.try_into().map(Self).map_err(|_| {
                    format!(
                        "{}: expected {} bytes ({} hex characters), got {len}",
                        $what,
                        $len,
                        2 * $len
                    )
                })
            }

            /// Lowercase hex.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.to_hex())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.to_hex())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_hex())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::from_hex(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

hex_bytes!(Signature, 48, "beacon signature");
hex_bytes!(BeaconPublicKey, 96, "beacon public key");

/// One beacon entry: a round and its signature. drand's HTTP API serves the same two fields
/// (plus `randomness`, which is derived and therefore not trusted from the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeaconEntry {
    /// The round.
    pub round: u64,
    /// `σ_round`, a compressed G1 point.
    pub signature: Signature,
}

impl BeaconEntry {
    /// The round's randomness: `SHA-256(σ)`, as drand defines it.
    pub fn randomness(&self) -> Node {
        Sha256::digest(self.signature.0).into()
    }
}

/// The signed message of a round: `SHA-256(u64_be(round))`.
pub fn round_message(round: u64) -> [u8; 32] {
    Sha256::digest(round.to_be_bytes()).into()
}

/// `H(m)` for a round: RFC 9380 hash-to-curve into G1 with [`DST`].
pub fn hash_round(round: u64) -> G1Projective {
    <G1Projective as HashToCurve<ExpandMsgXmd<Sha256>>>::hash_to_curve([round_message(round)], DST)
}

impl BeaconPublicKey {
    /// The key as a G2 point; the identity is refused (it would accept the identity signature).
    pub fn point(&self) -> Result<G2Affine, BeaconError> {
        let p: Option<G2Affine> = G2Affine::from_compressed(&self.0).into();
        p.filter(|p| !bool::from(p.is_identity()))
            .ok_or(BeaconError::Malformed("public key"))
    }
}

/// Checks that `entry` is the network key's signature of its round.
pub fn verify_entry(pk: &BeaconPublicKey, entry: &BeaconEntry) -> Result<(), BeaconError> {
    let pk = pk.point()?;
    let sig: Option<G1Affine> = G1Affine::from_compressed(&entry.signature.0).into();
    let sig = sig
        .filter(|p| !bool::from(p.is_identity()))
        .ok_or(BeaconError::Malformed("signature"))?;
    let h = G1Affine::from(hash_round(entry.round));
    // e(σ, −g2) · e(H(m), pk) = 1  ⇔  e(σ, g2) = e(H(m), pk)
    let neg_g2 = G2Prepared::from(-G2Affine::generator());
    let ok = bls12_381::multi_miller_loop(&[(&sig, &neg_g2), (&h, &G2Prepared::from(pk))])
        .final_exponentiation()
        .is_identity();
    if bool::from(ok) {
        Ok(())
    } else {
        Err(BeaconError::BadSignature { round: entry.round })
    }
}

/// Where a network's beacon entries come from, as its genesis says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum BeaconSource {
    /// The devnet signs round `e` at epoch `e` with its own key, made at first start inside its
    /// state directory (never in the genesis); the public key is published in the network
    /// info. Whoever runs the devnet can compute future entries: it is trusted for randomness.
    Devnet,
    /// Follow a drand chain (e.g. the League of Entropy's quicknet): epoch `e` uses the latest
    /// round published at or before the epoch's time `chain_genesis_time + e · block time`.
    Drand {
        /// The drand chain's public key (G2, compressed).
        public_key: BeaconPublicKey,
        /// The drand chain's genesis (unix seconds): round 1 is published then.
        genesis_time: u64,
        /// Seconds between rounds.
        period: u64,
        /// Unix seconds of this chain's epoch 0.
        chain_genesis_time: u64,
    },
}

impl BeaconSource {
    /// The round epoch `epoch` uses. Devnet: the epoch itself. Drand: the latest round at the
    /// epoch's time.
    pub fn round(&self, epoch: Epoch, block_time_ms: u64) -> Result<u64, BeaconError> {
        let e = u64::try_from(epoch).map_err(|_| BeaconError::NoRound(epoch))?;
        match self {
            BeaconSource::Devnet => Ok(e),
            BeaconSource::Drand {
                genesis_time,
                period,
                chain_genesis_time,
                ..
            } => {
                let t_ms = u128::from(*chain_genesis_time) * 1000
                    + u128::from(e) * u128::from(block_time_ms);
                let g_ms = u128::from(*genesis_time) * 1000;
                if t_ms < g_ms || *period == 0 {
                    return Err(BeaconError::NoRound(epoch));
                }
                let r = (t_ms - g_ms) / (u128::from(*period) * 1000) + 1;
                u64::try_from(r).map_err(|_| BeaconError::NoRound(epoch))
            }
        }
    }
}

/// What a network publishes about its beacon: where entries come from and the key that signs
/// them (for a devnet, the key it generated; for drand, the drand chain's key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeaconInfo {
    /// The scheme, always [`SCHEME`].
    pub scheme: String,
    /// The key every entry must verify against.
    pub public_key: BeaconPublicKey,
    /// Where entries come from.
    pub source: BeaconSource,
    /// The chain's block time, which maps epochs to drand rounds.
    pub block_time_ms: u64,
}

impl BeaconInfo {
    /// Checks `entry` is the one epoch `epoch` must use: the right round, signed by the key.
    pub fn verify(&self, epoch: Epoch, entry: &BeaconEntry) -> Result<(), BeaconError> {
        let expected = self.source.round(epoch, self.block_time_ms)?;
        if entry.round != expected {
            return Err(BeaconError::WrongRound {
                epoch,
                expected,
                got: entry.round,
            });
        }
        verify_entry(&self.public_key, entry)
    }
}

/// Randomness for `tag` at `epoch` with `entropy` (a miner id, or 0), from the epoch's beacon
/// randomness. Each purpose and drawer gets its own value; the top two bits are cleared so the
/// value is also a canonical field element wherever one is needed.
pub fn draw(beacon_randomness: &Node, tag: RandomnessTag, epoch: Epoch, entropy: u64) -> Node {
    let mut h = blake3::Hasher::new();
    h.update(b"strata-rand-v2");
    h.update(&[tag.domain()]);
    h.update(beacon_randomness);
    h.update(&epoch.to_be_bytes());
    h.update(&entropy.to_be_bytes());
    let mut out = *h.finalize().as_bytes();
    out[31] &= 0x3f;
    out
}

/// A beacon secret key (a devnet's). Its `Debug` never prints the scalar.
#[derive(Clone)]
pub struct BeaconSecretKey(Scalar);

impl std::fmt::Debug for BeaconSecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BeaconSecretKey(public {})", self.public_key())
    }
}

impl BeaconSecretKey {
    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut wide = [0u8; 64];
        getrandom::fill(&mut wide)?;
        Ok(Self::from_wide(&wide))
    }

    /// A key derived from 64 uniform bytes (reduced mod r).
    pub fn from_wide(bytes: &[u8; 64]) -> Self {
        BeaconSecretKey(Scalar::from_bytes_wide(bytes))
    }

    /// The key from its 32-byte little-endian encoding; zero and non-canonical values refused.
    pub fn from_bytes(bytes: &[u8; 32]) -> Option<Self> {
        let s: Option<Scalar> = Scalar::from_bytes(bytes).into();
        s.filter(|s| !bool::from(ff::Field::is_zero(s)))
            .map(BeaconSecretKey)
    }

    /// The 32-byte little-endian encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public key `sk · g2`.
    pub fn public_key(&self) -> BeaconPublicKey {
        BeaconPublicKey(G2Affine::from(G2Projective::generator() * self.0).to_compressed())
    }

    /// The entry of `round`.
    pub fn sign(&self, round: u64) -> BeaconEntry {
        BeaconEntry {
            round,
            signature: Signature(G1Affine::from(hash_round(round) * self.0).to_compressed()),
        }
    }
}

#[cfg(test)]
mod tests;
