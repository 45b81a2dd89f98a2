//! Round constants from the Grain LFSR in self-shrinking mode (Poseidon paper, appendix F),
//! parameterised exactly as neptune does for BLS12-381: field = 1 (prime), S-box = 1 (x^5),
//! field size 255 bits, width t, R_F, R_P.

use bls12_381::Scalar;
use ff::PrimeField;

/// An 80-bit Grain LFSR. Bits are kept in a `u128` window: bit i of the state is bit i of `state`.
struct Grain {
    state: u128,
}

impl Grain {
    fn new(field: u8, sbox: u8, field_size: u16, t: u16, r_f: u16, r_p: u16) -> Self {
        let mut bits: Vec<bool> = Vec::with_capacity(80);
        let mut push = |n: usize, v: u128| {
            for i in (0..n).rev() {
                bits.push((v >> i) & 1 == 1);
            }
        };
        push(2, field as u128);
        push(4, sbox as u128);
        push(12, field_size as u128);
        push(12, t as u128);
        push(10, r_f as u128);
        push(10, r_p as u128);
        push(30, (1u128 << 30) - 1);
        let state = bits
            .iter()
            .enumerate()
            .fold(0u128, |acc, (i, &b)| acc | ((b as u128) << i));
        let mut g = Grain { state };
        for _ in 0..160 {
            g.step();
        }
        g
    }

    /// b_{i+80} = b_{i+62} ^ b_{i+51} ^ b_{i+38} ^ b_{i+23} ^ b_{i+13} ^ b_i; shifts the window by one.
    fn step(&mut self) -> bool {
        let s = self.state;
        let bit = ((s >> 62) ^ (s >> 51) ^ (s >> 38) ^ (s >> 23) ^ (s >> 13) ^ s) & 1 == 1;
        self.state = (s >> 1) | ((bit as u128) << 79);
        bit
    }

    /// Self-shrinking output: draw pairs; if the first bit is 1, output the second.
    fn next_bit(&mut self) -> bool {
        loop {
            let first = self.step();
            let second = self.step();
            if first {
                return second;
            }
        }
    }

    /// Draws `n_bits` bits, most significant first, as a big-endian integer in 32 bytes.
    fn next_be_bytes(&mut self, n_bits: usize) -> [u8; 32] {
        let mut out = [0u8; 32];
        let skip = 256 - n_bits;
        for pos in skip..256 {
            if self.next_bit() {
                out[pos / 8] |= 0x80 >> (pos % 8);
            }
        }
        out
    }
}

/// `(R_F + R_P) · t` round constants for width `t`, in round order, candidates ≥ r rejected.
pub fn round_constants(t: usize, r_f: usize, r_p: usize) -> Vec<Scalar> {
    let field_size = Scalar::NUM_BITS as u16; // 255
    let mut grain = Grain::new(1, 1, field_size, t as u16, r_f as u16, r_p as u16);
    let n = (r_f + r_p) * t;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let mut bytes = grain.next_be_bytes(field_size as usize);
        bytes.reverse();
        if let Some(s) = Option::<Scalar>::from(Scalar::from_repr(bytes)) {
            out.push(s);
        }
    }
    out
}
