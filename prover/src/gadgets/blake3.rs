//! The BLAKE3 gadget: the compression function on bellman's `UInt32`/`Boolean`, chained over
//! blocks and chunks exactly as BLAKE3 hashes inputs of up to two chunks (2,048 bytes), and the
//! `hash_d` truncation to 254 bits packed into a field element.
//!
//! Bits are little-endian throughout: byte i's bit j is bit 8i + j, and a message word is four
//! bytes little-endian, so a byte string's bits split into words in order.

use bellman::gadgets::boolean::{AllocatedBit, Boolean};
use bellman::gadgets::multieq::MultiEq;
use bellman::gadgets::num::AllocatedNum;
use bellman::gadgets::uint32::UInt32;
use bellman::{ConstraintSystem, LinearCombination, SynthesisError};
use bls12_381::Scalar;
use ff::{Field, PrimeFieldBits};

const IV: [u32; 8] = [
    0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
];
const CHUNK_START: u32 = 1;
const CHUNK_END: u32 = 2;
const PARENT: u32 = 4;
const ROOT: u32 = 8;
const PERMUTATION: [usize; 16] = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8];

/// Bytes in a BLAKE3 block and chunk.
pub const BLOCK_LEN: usize = 64;
/// Bytes in a BLAKE3 chunk.
pub const CHUNK_LEN: usize = 1024;

#[allow(clippy::too_many_arguments)]
fn g<CS, M>(
    cs: &mut M,
    v: &mut [UInt32],
    a: usize,
    b: usize,
    c: usize,
    d: usize,
    x: &UInt32,
    y: &UInt32,
) -> Result<(), SynthesisError>
where
    CS: ConstraintSystem<Scalar>,
    M: ConstraintSystem<Scalar, Root = MultiEq<Scalar, CS>>,
{
    v[a] = UInt32::addmany(
        cs.namespace(|| "a+b+x"),
        &[v[a].clone(), v[b].clone(), x.clone()],
    )?;
    v[d] = v[d].xor(cs.namespace(|| "d^a"), &v[a])?.rotr(16);
    v[c] = UInt32::addmany(cs.namespace(|| "c+d"), &[v[c].clone(), v[d].clone()])?;
    v[b] = v[b].xor(cs.namespace(|| "b^c"), &v[c])?.rotr(12);
    v[a] = UInt32::addmany(
        cs.namespace(|| "a+b+y"),
        &[v[a].clone(), v[b].clone(), y.clone()],
    )?;
    v[d] = v[d].xor(cs.namespace(|| "d^a 2"), &v[a])?.rotr(8);
    v[c] = UInt32::addmany(cs.namespace(|| "c+d 2"), &[v[c].clone(), v[d].clone()])?;
    v[b] = v[b].xor(cs.namespace(|| "b^c 2"), &v[c])?.rotr(7);
    Ok(())
}

/// One BLAKE3 compression; returns the 8-word chaining value (`state[i] ^ state[i+8]`), which is
/// also the first 32 bytes of a root output.
pub fn compress<CS: ConstraintSystem<Scalar>>(
    cs: CS,
    cv: &[UInt32],
    block: &[UInt32],
    counter: u64,
    block_len: u32,
    flags: u32,
) -> Result<Vec<UInt32>, SynthesisError> {
    assert_eq!((cv.len(), block.len()), (8, 16));
    let mut cs = MultiEq::new(cs);
    let mut v: Vec<UInt32> = cv.to_vec();
    v.extend(IV[..4].iter().map(|&w| UInt32::constant(w)));
    v.push(UInt32::constant(counter as u32));
    v.push(UInt32::constant((counter >> 32) as u32));
    v.push(UInt32::constant(block_len));
    v.push(UInt32::constant(flags));
    let mut m: Vec<UInt32> = block.to_vec();
    for r in 0..7 {
        let mut cs = cs.namespace(|| format!("round {r}"));
        g(
            &mut cs.namespace(|| "g0"),
            &mut v,
            0,
            4,
            8,
            12,
            &m[0],
            &m[1],
        )?;
        g(
            &mut cs.namespace(|| "g1"),
            &mut v,
            1,
            5,
            9,
            13,
            &m[2],
            &m[3],
        )?;
        g(
            &mut cs.namespace(|| "g2"),
            &mut v,
            2,
            6,
            10,
            14,
            &m[4],
            &m[5],
        )?;
        g(
            &mut cs.namespace(|| "g3"),
            &mut v,
            3,
            7,
            11,
            15,
            &m[6],
            &m[7],
        )?;
        g(
            &mut cs.namespace(|| "g4"),
            &mut v,
            0,
            5,
            10,
            15,
            &m[8],
            &m[9],
        )?;
        g(
            &mut cs.namespace(|| "g5"),
            &mut v,
            1,
            6,
            11,
            12,
            &m[10],
            &m[11],
        )?;
        g(
            &mut cs.namespace(|| "g6"),
            &mut v,
            2,
            7,
            8,
            13,
            &m[12],
            &m[13],
        )?;
        g(
            &mut cs.namespace(|| "g7"),
            &mut v,
            3,
            4,
            9,
            14,
            &m[14],
            &m[15],
        )?;
        m = PERMUTATION.iter().map(|&i| m[i].clone()).collect();
    }
    (0..8)
        .map(|i| v[i].xor(cs.namespace(|| format!("out {i}")), &v[i + 8]))
        .collect()
}

fn words(bits: &[Boolean]) -> Vec<UInt32> {
    bits.chunks(32).map(UInt32::from_bits).collect()
}

fn chunk_cv<CS: ConstraintSystem<Scalar>>(
    mut cs: CS,
    bytes_bits: &[Boolean],
    counter: u64,
    root: bool,
) -> Result<Vec<UInt32>, SynthesisError> {
    let len = bytes_bits.len() / 8;
    let blocks = len.div_ceil(BLOCK_LEN).max(1);
    let mut cv: Vec<UInt32> = IV.iter().map(|&w| UInt32::constant(w)).collect();
    for b in 0..blocks {
        let start = b * BLOCK_LEN * 8;
        let end = ((b + 1) * BLOCK_LEN * 8).min(bytes_bits.len());
        let mut block: Vec<Boolean> = bytes_bits[start..end].to_vec();
        block.resize(BLOCK_LEN * 8, Boolean::constant(false));
        let mut flags = 0;
        if b == 0 {
            flags |= CHUNK_START;
        }
        if b + 1 == blocks {
            flags |= CHUNK_END;
            if root {
                flags |= ROOT;
            }
        }
        cv = compress(
            cs.namespace(|| format!("block {b}")),
            &cv,
            &words(&block),
            counter,
            ((end - start) / 8) as u32,
            flags,
        )?;
    }
    Ok(cv)
}

/// BLAKE3 of a byte string given as little-endian bits (at most 2 chunks); 256 output bits.
pub fn blake3<CS: ConstraintSystem<Scalar>>(
    mut cs: CS,
    bytes_bits: &[Boolean],
) -> Result<Vec<Boolean>, SynthesisError> {
    assert_eq!(bytes_bits.len() % 8, 0, "whole bytes");
    let len = bytes_bits.len() / 8;
    assert!(len <= 2 * CHUNK_LEN, "the gadget hashes at most two chunks");
    let out = if len <= CHUNK_LEN {
        chunk_cv(cs.namespace(|| "chunk 0"), bytes_bits, 0, true)?
    } else {
        let left = chunk_cv(
            cs.namespace(|| "chunk 0"),
            &bytes_bits[..CHUNK_LEN * 8],
            0,
            false,
        )?;
        let right = chunk_cv(
            cs.namespace(|| "chunk 1"),
            &bytes_bits[CHUNK_LEN * 8..],
            1,
            false,
        )?;
        let iv: Vec<UInt32> = IV.iter().map(|&w| UInt32::constant(w)).collect();
        let block: Vec<UInt32> = left.into_iter().chain(right).collect();
        compress(
            cs.namespace(|| "parent"),
            &iv,
            &block,
            0,
            BLOCK_LEN as u32,
            PARENT | ROOT,
        )?
    };
    Ok(out.into_iter().flat_map(|w| w.into_bits()).collect())
}

/// `hash_d`: BLAKE3 truncated to 254 bits, packed into a field element (one more constraint).
pub fn hash_d<CS: ConstraintSystem<Scalar>>(
    mut cs: CS,
    bytes_bits: &[Boolean],
) -> Result<(AllocatedNum<Scalar>, Vec<Boolean>), SynthesisError> {
    let mut bits = blake3(cs.namespace(|| "blake3"), bytes_bits)?;
    bits.truncate(254);
    let num = pack_bits(cs.namespace(|| "pack"), &bits)?;
    bits.extend([Boolean::constant(false), Boolean::constant(false)]);
    Ok((num, bits))
}

pub use super::num::pack_bits;

/// The 256 little-endian bits of a node known to be below 2^254 (a label, replica_id): 254
/// allocated bits and two constant zeros, bound to `num` (255 constraints). Because 2^254 < r the
/// decomposition is unique, so this also proves `num < 2^254`.
pub fn node_bits_254<CS: ConstraintSystem<Scalar>>(
    mut cs: CS,
    num: &AllocatedNum<Scalar>,
) -> Result<Vec<Boolean>, SynthesisError> {
    let value_bits: Option<Vec<bool>> = num
        .get_value()
        .map(|v| v.to_le_bits().iter().take(254).map(|b| *b).collect());
    let mut bits = Vec::with_capacity(256);
    let mut lc = LinearCombination::zero();
    let mut coeff = Scalar::ONE;
    for i in 0..254 {
        let bit = AllocatedBit::alloc(
            cs.namespace(|| format!("bit {i}")),
            value_bits.as_ref().map(|b| b[i]),
        )?;
        lc = lc + (coeff, bit.get_variable());
        coeff = coeff.double();
        bits.push(Boolean::from(bit));
    }
    cs.enforce(
        || "bits pack to the node",
        |l| l + &lc,
        |l| l + CS::one(),
        |l| l + num.get_variable(),
    );
    bits.extend([Boolean::constant(false), Boolean::constant(false)]);
    Ok(bits)
}

/// Constant little-endian bits of bytes.
pub fn constant_bits(bytes: &[u8]) -> Vec<Boolean> {
    bytes
        .iter()
        .flat_map(|b| (0..8).map(move |i| Boolean::constant((b >> i) & 1 == 1)))
        .collect()
}

/// Constraints of BLAKE3 over one 64-byte block (one compression from the IV), pinned by a test.
pub const HASH_64_CONSTRAINTS: usize = 14_704;
/// Constraints of BLAKE3 over a 1,248-byte label preimage, pinned by a test.
pub const HASH_1248_CONSTRAINTS: usize = 311_088;

#[cfg(test)]
mod tests {
    use super::*;
    use bellman::gadgets::test::TestConstraintSystem;

    fn alloc_bytes(cs: &mut TestConstraintSystem<Scalar>, bytes: &[u8]) -> Vec<Boolean> {
        bytes
            .iter()
            .enumerate()
            .flat_map(|(i, b)| (0..8).map(move |j| (i, j, (b >> j) & 1 == 1)))
            .map(|(i, j, v)| {
                Boolean::from(
                    AllocatedBit::alloc(cs.namespace(|| format!("in {i}.{j}")), Some(v)).unwrap(),
                )
            })
            .collect()
    }

    fn to_bytes(bits: &[Boolean]) -> Vec<u8> {
        bits.chunks(8)
            .map(|c| {
                c.iter().enumerate().fold(0u8, |acc, (i, b)| {
                    acc | ((b.get_value().unwrap() as u8) << i)
                })
            })
            .collect()
    }

    #[test]
    fn agrees_with_the_blake3_crate_for_every_chunk_layout() {
        for len in [1usize, 32, 64, 65, 100, 1024, 1025, 1248, 2048] {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8 ^ 0xa5).collect();
            let mut cs = TestConstraintSystem::new();
            let bits = alloc_bytes(&mut cs, &data);
            let out = blake3(cs.namespace(|| "h"), &bits).unwrap();
            assert!(cs.is_satisfied(), "len {len}");
            assert_eq!(
                to_bytes(&out),
                blake3::hash(&data).as_bytes().to_vec(),
                "len {len}"
            );
        }
    }

    #[test]
    fn compression_count_is_pinned() {
        // One 64-byte message = one compression (+ the input bits themselves).
        let mut cs = TestConstraintSystem::new();
        let bits = alloc_bytes(&mut cs, &[7u8; 64]);
        let before = cs.num_constraints();
        blake3(cs.namespace(|| "h"), &bits).unwrap();
        assert_eq!(cs.num_constraints() - before, HASH_64_CONSTRAINTS);
        // A label preimage: 1,248 bytes, 21 compressions (16 + 4 chained, 1 parent).
        let mut cs = TestConstraintSystem::new();
        let bits = alloc_bytes(&mut cs, &[9u8; 1248]);
        let before = cs.num_constraints();
        blake3(cs.namespace(|| "h"), &bits).unwrap();
        assert_eq!(cs.num_constraints() - before, HASH_1248_CONSTRAINTS);
    }

    #[test]
    fn hash_d_matches_native_and_bits_bind_the_node() {
        let data = [3u8; 64];
        let mut cs = TestConstraintSystem::new();
        let bits = alloc_bytes(&mut cs, &data);
        let (num, out_bits) = hash_d(cs.namespace(|| "h"), &bits).unwrap();
        let native = strata_primitives::hash::hash_d(&data);
        assert_eq!(
            num.get_value().unwrap(),
            strata_primitives::node::node_to_fr(&native).unwrap()
        );
        assert_eq!(to_bytes(&out_bits), native.to_vec());
        let back = node_bits_254(cs.namespace(|| "bits"), &num).unwrap();
        assert_eq!(to_bytes(&back), native.to_vec());
        assert!(cs.is_satisfied());
    }
}
