//! fr32 padding: user bytes packed 254 bits per node.
//!
//! Each 127-byte block is read as one little-endian 1016-bit integer and cut into four 254-bit
//! limbs, lowest first; each limb becomes a 32-byte little-endian node with its top two bits zero.
//! 127 unpadded bytes ↔ 128 padded bytes. Streaming adapters work on any `Read` / `Write` and never
//! hold more than one buffer of input.

use std::io::{self, Read, Write};

/// Unpadded bytes per block.
pub const UNPADDED_BLOCK: usize = 127;
/// Padded bytes per block.
pub const PADDED_BLOCK: usize = 128;

/// Bit offsets of the four limbs inside a block.
const LIMB_BITS: usize = 254;

/// Pads one 127-byte block into 128 bytes (four data nodes).
#[inline]
pub fn pad_block(input: &[u8; UNPADDED_BLOCK], out: &mut [u8; PADDED_BLOCK]) {
    let mut words = [0u64; 17];
    let mut bytes = [0u8; 128];
    bytes[..UNPADDED_BLOCK].copy_from_slice(input);
    for (w, c) in words.iter_mut().zip(bytes.chunks_exact(8)) {
        *w = u64::from_le_bytes(c.try_into().unwrap());
    }
    for limb in 0..4 {
        let bit = limb * LIMB_BITS;
        let (ws, bs) = (bit / 64, bit % 64);
        for j in 0..4 {
            let lo = words[ws + j] >> bs;
            let hi = if bs == 0 {
                0
            } else {
                words[ws + j + 1] << (64 - bs)
            };
            let mut w = lo | hi;
            if j == 3 {
                w &= (1u64 << 62) - 1;
            }
            out[limb * 32 + j * 8..limb * 32 + j * 8 + 8].copy_from_slice(&w.to_le_bytes());
        }
    }
}

/// Unpads 128 bytes (four nodes) into the 127-byte block they encode. The top two bits of each
/// node are ignored; callers that need them zero check with [`crate::node::is_data_node`].
#[inline]
pub fn unpad_block(input: &[u8; PADDED_BLOCK], out: &mut [u8; UNPADDED_BLOCK]) {
    let mut words = [0u64; 17];
    for limb in 0..4 {
        let mut l = [0u64; 4];
        for (j, w) in l.iter_mut().enumerate() {
            *w = u64::from_le_bytes(
                input[limb * 32 + j * 8..limb * 32 + j * 8 + 8]
                    .try_into()
                    .unwrap(),
            );
        }
        l[3] &= (1u64 << 62) - 1;
        let bit = limb * LIMB_BITS;
        let (ws, bs) = (bit / 64, bit % 64);
        for j in 0..4 {
            words[ws + j] |= l[j] << bs;
            if bs != 0 {
                words[ws + j + 1] |= l[j] >> (64 - bs);
            }
        }
    }
    let mut bytes = [0u8; 136];
    for (c, w) in bytes.chunks_exact_mut(8).zip(words.iter()) {
        c.copy_from_slice(&w.to_le_bytes());
    }
    out.copy_from_slice(&bytes[..UNPADDED_BLOCK]);
}

/// Pads `input` (a whole number of 127-byte blocks) into `out` (the same number of 128-byte blocks).
pub fn pad(input: &[u8], out: &mut [u8]) {
    assert_eq!(
        input.len() % UNPADDED_BLOCK,
        0,
        "fr32 pad: input is not whole 127-byte blocks"
    );
    assert_eq!(
        out.len(),
        input.len() / UNPADDED_BLOCK * PADDED_BLOCK,
        "fr32 pad: output size"
    );
    for (i, o) in input
        .chunks_exact(UNPADDED_BLOCK)
        .zip(out.chunks_exact_mut(PADDED_BLOCK))
    {
        pad_block(i.try_into().unwrap(), o.try_into().unwrap());
    }
}

/// Unpads `input` (whole 128-byte blocks) into `out` (127-byte blocks).
pub fn unpad(input: &[u8], out: &mut [u8]) {
    assert_eq!(
        input.len() % PADDED_BLOCK,
        0,
        "fr32 unpad: input is not whole 128-byte blocks"
    );
    assert_eq!(
        out.len(),
        input.len() / PADDED_BLOCK * UNPADDED_BLOCK,
        "fr32 unpad: output size"
    );
    for (i, o) in input
        .chunks_exact(PADDED_BLOCK)
        .zip(out.chunks_exact_mut(UNPADDED_BLOCK))
    {
        unpad_block(i.try_into().unwrap(), o.try_into().unwrap());
    }
}

/// Blocks per streaming buffer (≈ 1 MiB).
const STREAM_BLOCKS: usize = 8192;

/// Reads all of `reader`, zero-fills it to `unpadded_len` bytes (a multiple of 127), pads it, and
/// writes the padded bytes to `writer`. Returns the number of raw bytes read.
///
/// Fails with `InvalidInput` if the reader yields more than `unpadded_len` bytes.
pub fn pad_stream<R: Read, W: Write>(
    reader: &mut R,
    writer: &mut W,
    unpadded_len: u64,
) -> io::Result<u64> {
    assert_eq!(
        unpadded_len % UNPADDED_BLOCK as u64,
        0,
        "unpadded length is not whole blocks"
    );
    let mut inbuf = vec![0u8; STREAM_BLOCKS * UNPADDED_BLOCK];
    let mut outbuf = vec![0u8; STREAM_BLOCKS * PADDED_BLOCK];
    let mut read_total = 0u64;
    let mut remaining = unpadded_len;
    let mut source_done = false;
    while remaining > 0 {
        let take = remaining.min(inbuf.len() as u64) as usize;
        let got = if source_done {
            0
        } else {
            read_full(reader, &mut inbuf[..take])?
        };
        if got < take {
            source_done = true;
            inbuf[got..take].fill(0);
        }
        read_total += got as u64;
        let blocks = take / UNPADDED_BLOCK;
        pad(&inbuf[..take], &mut outbuf[..blocks * PADDED_BLOCK]);
        writer.write_all(&outbuf[..blocks * PADDED_BLOCK])?;
        remaining -= take as u64;
    }
    if !source_done {
        let mut probe = [0u8; 1];
        if read_full(reader, &mut probe)? > 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "input is longer than the space reserved for it",
            ));
        }
    }
    Ok(read_total)
}

/// Reads `padded_len` padded bytes from `reader`, unpads them and writes the first `raw_len`
/// unpadded bytes to `writer`.
pub fn unpad_stream<R: Read, W: Write>(
    reader: &mut R,
    writer: &mut W,
    padded_len: u64,
    raw_len: u64,
) -> io::Result<()> {
    assert_eq!(
        padded_len % PADDED_BLOCK as u64,
        0,
        "padded length is not whole blocks"
    );
    let mut inbuf = vec![0u8; STREAM_BLOCKS * PADDED_BLOCK];
    let mut outbuf = vec![0u8; STREAM_BLOCKS * UNPADDED_BLOCK];
    let mut remaining = padded_len;
    let mut to_write = raw_len;
    while remaining > 0 && to_write > 0 {
        let take = remaining.min(inbuf.len() as u64) as usize;
        reader.read_exact(&mut inbuf[..take])?;
        let blocks = take / PADDED_BLOCK;
        unpad(&inbuf[..take], &mut outbuf[..blocks * UNPADDED_BLOCK]);
        let n = to_write.min((blocks * UNPADDED_BLOCK) as u64) as usize;
        writer.write_all(&outbuf[..n])?;
        to_write -= n as u64;
        remaining -= take as u64;
    }
    Ok(())
}

/// Like `read_exact`, but returns how much was read when the source ends early.
pub fn read_full<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{as_nodes, is_data_node};
    use proptest::prelude::*;

    /// Bit-by-bit reference: bit i of the 1016-bit input lands at bit (i % 254) of node i / 254.
    fn pad_reference(input: &[u8; 127]) -> [u8; 128] {
        let mut out = [0u8; 128];
        for i in 0..1016 {
            if input[i / 8] >> (i % 8) & 1 == 1 {
                let (node, bit) = (i / 254, i % 254);
                out[node * 32 + bit / 8] |= 1 << (bit % 8);
            }
        }
        out
    }

    proptest! {
        #[test]
        fn block_matches_bitwise_reference_and_round_trips(data in proptest::collection::vec(any::<u8>(), 127)) {
            let block: [u8; 127] = data.clone().try_into().unwrap();
            let mut padded = [0u8; 128];
            pad_block(&block, &mut padded);
            prop_assert_eq!(padded, pad_reference(&block));
            prop_assert!(as_nodes(&padded).iter().all(is_data_node));
            let mut back = [0u8; 127];
            unpad_block(&padded, &mut back);
            prop_assert_eq!(&back[..], &data[..]);
        }

        #[test]
        fn streams_round_trip_any_length(data in proptest::collection::vec(any::<u8>(), 0..3000)) {
            let unpadded_len = (data.len() as u64).div_ceil(127).max(1) * 127;
            let mut padded = Vec::new();
            let n = pad_stream(&mut &data[..], &mut padded, unpadded_len).unwrap();
            prop_assert_eq!(n, data.len() as u64);
            prop_assert_eq!(padded.len() as u64, unpadded_len / 127 * 128);
            let mut back = Vec::new();
            unpad_stream(&mut &padded[..], &mut back, padded.len() as u64, data.len() as u64).unwrap();
            prop_assert_eq!(back, data);
        }
    }

    #[test]
    fn all_ones_set_exactly_254_bits_per_node() {
        let mut out = [0u8; 128];
        pad_block(&[0xff; 127], &mut out);
        for node in as_nodes(&out) {
            assert_eq!(node[..31], [0xff; 31]);
            assert_eq!(node[31], 0x3f);
        }
    }

    #[test]
    fn too_long_input_is_an_error() {
        let data = [1u8; 128];
        let err = pad_stream(&mut &data[..], &mut Vec::new(), 127).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
