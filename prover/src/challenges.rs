//! Challenge derivation (DESIGN §6). Prover, verifier and circuit all use these functions.

use strata_params::ProofType;
use strata_primitives::node::Node;
use strata_sealer::sector::prover_id_bytes;

/// `x mod m` for the 256-bit little-endian integer `x`.
fn u256_le_mod(x: &[u8; 32], m: u64) -> u64 {
    x.iter()
        .rev()
        .fold(0u128, |r, &b| ((r << 8) | b as u128) % m as u128) as u64
}

/// PoRep challenge `j`: `(u256_le(BLAKE3(replica_id ‖ seed ‖ u32_le(j))) mod (N−1)) + 1`,
/// so node 0 (which has no parents) is never challenged.
pub fn porep_challenge(replica_id: &Node, seed: &[u8; 32], j: u32, nodes: u64) -> u64 {
    let mut h = blake3::Hasher::new();
    h.update(replica_id).update(seed).update(&j.to_le_bytes());
    u256_le_mod(h.finalize().as_bytes(), nodes - 1) + 1
}

/// The challenges of one PoRep partition: `j = partition · per_partition + i`.
pub fn porep_challenges(
    pt: &ProofType,
    replica_id: &Node,
    seed: &[u8; 32],
    partition: usize,
) -> Vec<u64> {
    let per = pt.porep_challenges_per_partition;
    (0..per)
        .map(|i| porep_challenge(replica_id, seed, (partition * per + i) as u32, pt.nodes()))
        .collect()
}

/// WinningPoSt's sector draw `n`: `u64_le(BLAKE3(prover_id ‖ R ‖ u64_le(n))[..8]) mod sector_count`.
pub fn winning_post_sector_index(
    prover_id: u64,
    randomness: &[u8; 32],
    n: u64,
    sector_count: u64,
) -> u64 {
    let mut h = blake3::Hasher::new();
    h.update(&prover_id_bytes(prover_id))
        .update(randomness)
        .update(&n.to_le_bytes());
    first_u64(h.finalize().as_bytes()) % sector_count
}

/// PoSt leaf challenge `n` of a sector: `u64_le(BLAKE3(R ‖ u64_le(sector_id) ‖ u64_le(n))[..8]) mod N`.
pub fn post_leaf_challenge(randomness: &[u8; 32], sector_id: u64, n: u64, nodes: u64) -> u64 {
    let mut h = blake3::Hasher::new();
    h.update(randomness)
        .update(&sector_id.to_le_bytes())
        .update(&n.to_le_bytes());
    first_u64(h.finalize().as_bytes()) % nodes
}

/// All `count` leaf challenges of one sector.
pub fn post_leaf_challenges(
    randomness: &[u8; 32],
    sector_id: u64,
    count: usize,
    nodes: u64,
) -> Vec<u64> {
    (0..count as u64)
        .map(|n| post_leaf_challenge(randomness, sector_id, n, nodes))
        .collect()
}

/// Replica-update challenge `j`: `u64_le(BLAKE3("strata update" ‖ R ‖ CommR' ‖ u64_le(j))[..8]) mod N`,
/// with R drawn after the update was declared, so the new replica is fixed before its
/// challenges are known.
pub fn update_challenge(randomness: &[u8; 32], comm_r_new: &Node, j: u64, nodes: u64) -> u64 {
    let mut h = blake3::Hasher::new();
    h.update(b"strata update")
        .update(randomness)
        .update(comm_r_new)
        .update(&j.to_le_bytes());
    first_u64(h.finalize().as_bytes()) % nodes
}

fn first_u64(b: &[u8; 32]) -> u64 {
    u64::from_le_bytes(b[..8].try_into().unwrap())
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_primitives::sizes::SectorSize;

    #[test]
    fn reduction_matches_big_integer_arithmetic() {
        // x = 2^255 + 5: 2^255 mod 1000 = 968 (2^255 = ...819968), so x mod 1000 = 973.
        let mut x = [0u8; 32];
        x[31] = 0x80;
        x[0] = 5;
        assert_eq!(u256_le_mod(&x, 1000), 973);
        assert_eq!(u256_le_mod(&[0xff; 32], 1 << 20), (1 << 20) - 1);
    }

    #[test]
    fn challenges_are_in_range_and_depend_on_every_input() {
        let pt = ProofType::for_size(SectorSize::KIB2).unwrap();
        let (rid, seed) = ([1u8; 32], [2u8; 32]);
        for j in 0..500 {
            let c = porep_challenge(&rid, &seed, j, pt.nodes());
            assert!((1..pt.nodes()).contains(&c));
        }
        let a = porep_challenges(&pt, &rid, &seed, 0);
        assert_eq!(a.len(), 2);
        let many = |rid: [u8; 32], seed: [u8; 32]| {
            (0..64)
                .map(|j| porep_challenge(&rid, &seed, j, 1 << 30))
                .collect::<Vec<_>>()
        };
        assert_ne!(many(rid, seed), many([3; 32], seed));
        assert_ne!(many(rid, seed), many(rid, [3; 32]));
        let leaves = post_leaf_challenges(&seed, 7, 10, 64);
        assert!(leaves.iter().all(|&c| c < 64));
        assert_ne!(
            post_leaf_challenges(&seed, 7, 32, 1 << 30),
            post_leaf_challenges(&seed, 8, 32, 1 << 30)
        );
        assert!(winning_post_sector_index(1, &seed, 0, 5) < 5);
    }
}
