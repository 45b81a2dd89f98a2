//! Helpers shared by the criterion benchmarks in `benches/benches/`.

/// Deterministic pseudo-random bytes (xorshift), so runs are comparable.
pub fn sample_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}
