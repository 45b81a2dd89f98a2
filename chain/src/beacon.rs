//! The randomness beacon: a BLAKE3 hash chain from the genesis seed, one value per epoch, and
//! draws from it with a domain tag per purpose and the drawer's entropy (a miner id), so no two
//! purposes or miners ever share randomness.

use strata_chain_client::types::{Epoch, RandomnessTag};
use strata_primitives::node::Node;

/// The beacon value of epoch 0.
pub fn genesis_beacon(seed: &str) -> Node {
    let mut h = blake3::Hasher::new();
    h.update(b"strata-beacon-genesis-v1");
    h.update(seed.as_bytes());
    *h.finalize().as_bytes()
}

/// The beacon value of `epoch` from the previous one.
pub fn next_beacon(prev: &Node, epoch: Epoch) -> Node {
    let mut h = blake3::Hasher::new();
    h.update(b"strata-beacon-v1");
    h.update(prev);
    h.update(&epoch.to_be_bytes());
    *h.finalize().as_bytes()
}

/// Randomness for `tag` at `epoch` (whose beacon value is `beacon`) with `entropy`. The top two
/// bits are cleared so the value is also a canonical field element wherever one is needed.
pub fn draw(beacon: &Node, tag: RandomnessTag, epoch: Epoch, entropy: u64) -> Node {
    let mut h = blake3::Hasher::new();
    h.update(b"strata-rand-v1");
    h.update(&[tag.domain()]);
    h.update(beacon);
    h.update(&epoch.to_be_bytes());
    h.update(&entropy.to_be_bytes());
    let mut out = *h.finalize().as_bytes();
    out[31] &= 0x3f;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_differ_by_tag_epoch_and_entropy() {
        let b0 = genesis_beacon("x");
        let b1 = next_beacon(&b0, 1);
        assert_ne!(b0, b1);
        assert_ne!(b1, next_beacon(&b0, 2));
        assert_ne!(genesis_beacon("y"), b0);
        let d = draw(&b1, RandomnessTag::Ticket, 1, 1000);
        assert_eq!(d, draw(&b1, RandomnessTag::Ticket, 1, 1000));
        assert_ne!(d, draw(&b1, RandomnessTag::SealSeed, 1, 1000));
        assert_ne!(d, draw(&b1, RandomnessTag::Ticket, 1, 1001));
        assert_ne!(d, draw(&b0, RandomnessTag::Ticket, 1, 1000));
        assert_eq!(d[31] & 0xc0, 0);
    }
}
