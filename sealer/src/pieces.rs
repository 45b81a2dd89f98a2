//! Pieces: CommP from a stream, the unsealed-sector layout (DESIGN §3), and CommD computed two
//! independent ways — from the sector's data (tree_d) and from the pieces' CommPs with zero
//! subtrees. The two must agree; the tests check they do.

use crate::error::SealError;
use crate::seal::SealSource;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::sync::OnceLock;
use strata_primitives::fr32::{self, read_full, PADDED_BLOCK, UNPADDED_BLOCK};
use strata_primitives::hash::hash_d_node;
use strata_primitives::merkle::{tree_root, TreeShape, CHUNK_LEAVES};
use strata_primitives::node::{nodes_as_bytes_mut, Node};
use strata_primitives::serde_hex;
use strata_primitives::sizes::{PaddedPieceSize, SectorSize, UnpaddedPieceSize};

/// A piece's commitment and sizes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PieceInfo {
    /// CommP: the `hash_d` tree root over the padded piece.
    #[serde(with = "serde_hex::node")]
    pub comm_p: Node,
    /// Padded piece size in bytes (`128 · 2^k`).
    pub padded_size: u64,
    /// Length of the original data in bytes (kept to unseal exactly those bytes).
    pub raw_len: u64,
}

impl PieceInfo {
    /// The padded size as a typed value.
    pub fn padded(&self) -> PaddedPieceSize {
        PaddedPieceSize::new(self.padded_size).expect("PieceInfo holds a valid padded size")
    }
}

/// `z_k`: the root of an all-zero binary `hash_d` tree of `2^k` leaves.
pub fn zero_root(k: u32) -> Node {
    static ZEROS: OnceLock<Vec<Node>> = OnceLock::new();
    let z = ZEROS.get_or_init(|| {
        let mut z = vec![[0u8; 32]];
        for i in 0..63 {
            let prev = z[i];
            z.push(hash_d_node(&prev, &prev));
        }
        z
    });
    z[k as usize]
}

/// Receives each padded chunk: (byte offset within the piece, padded bytes).
pub(crate) type PaddedSink<'a> = dyn FnMut(u64, &[u8]) -> Result<(), SealError> + 'a;

/// A leaf source that reads raw bytes from `reader`, fr32-pads them (zero-filling past the end
/// of the data), and optionally hands each padded chunk to `sink` before it is hashed.
pub(crate) struct PaddingSource<'a, R: Read> {
    reader: R,
    raw_len: u64,
    consumed: u64,
    /// Node offset of the subtree being filled within the piece.
    base: u64,
    index: usize,
    raw: Vec<u8>,
    sink: Option<&'a mut PaddedSink<'a>>,
}

impl<'a, R: Read> PaddingSource<'a, R> {
    pub(crate) fn new(
        reader: R,
        raw_len: u64,
        index: usize,
        sink: Option<&'a mut PaddedSink<'a>>,
    ) -> Self {
        PaddingSource {
            reader,
            raw_len,
            consumed: 0,
            base: 0,
            index,
            raw: Vec::new(),
            sink,
        }
    }

    /// Fills `out` with the padded leaves starting at node `base + start` of the piece.
    fn fill(&mut self, start: u64, out: &mut [Node]) -> Result<(), SealError> {
        let blocks = out.len() * 32 / PADDED_BLOCK;
        self.raw.resize(blocks * UNPADDED_BLOCK, 0);
        let want = (self.raw_len - self.consumed).min(self.raw.len() as u64) as usize;
        let got = read_full(&mut self.reader, &mut self.raw[..want]).map_err(|source| {
            SealError::PieceRead {
                index: self.index,
                source,
            }
        })?;
        if got < want {
            return Err(SealError::PieceLength {
                index: self.index,
                expected: self.raw_len,
                actual: self.consumed + got as u64,
            });
        }
        self.consumed += got as u64;
        self.raw[got..].fill(0);
        let bytes = nodes_as_bytes_mut(out);
        bytes
            .par_chunks_mut(PADDED_BLOCK * 1024)
            .zip(self.raw.par_chunks(UNPADDED_BLOCK * 1024))
            .for_each(|(o, i)| fr32::pad(i, o));
        if let Some(sink) = self.sink.as_mut() {
            sink((self.base + start) * 32, bytes)?;
        }
        Ok(())
    }

    /// After the tree is built: the source must be exhausted (not longer than declared).
    pub(crate) fn finish(mut self) -> Result<(), SealError> {
        let mut probe = [0u8; 1];
        let extra =
            read_full(&mut self.reader, &mut probe).map_err(|source| SealError::PieceRead {
                index: self.index,
                source,
            })?;
        if extra > 0 {
            return Err(SealError::PieceLength {
                index: self.index,
                expected: self.raw_len,
                actual: self.raw_len + 1,
            });
        }
        Ok(())
    }
}

/// Computes CommP of `raw_len` bytes read from `reader` (streamed; the reader must yield exactly
/// `raw_len` bytes). The piece is zero-padded to the smallest `127·2^k` ≥ `raw_len`.
pub fn comm_p<R: Read>(reader: R, raw_len: u64) -> Result<PieceInfo, SealError> {
    comm_p_indexed(reader, raw_len, 0, None)
}

pub(crate) fn comm_p_indexed<'s, R: Read>(
    reader: R,
    raw_len: u64,
    index: usize,
    sink: Option<&'s mut PaddedSink<'s>>,
) -> Result<PieceInfo, SealError> {
    if raw_len == 0 {
        return Err(SealError::EmptyPiece { index });
    }
    let padded = UnpaddedPieceSize::for_data_len(raw_len).padded();
    let total = padded.nodes();
    // Hash the piece in aligned subtrees; those wholly past the data are zero subtrees whose
    // roots are known, so the zero padding of a piece costs nothing to commit to.
    let chunk = total.min(CHUNK_LEAVES as u64);
    let data_nodes = raw_len.div_ceil(UNPADDED_BLOCK as u64) * (PADDED_BLOCK as u64 / 32);
    let shape = TreeShape::binary(chunk);
    let mut src = PaddingSource::new(reader, raw_len, index, sink);
    let mut stack = SubtreeStack::default();
    for c in 0..total / chunk {
        if c * chunk >= data_nodes {
            stack.push(chunk.trailing_zeros(), zero_root(chunk.trailing_zeros()));
            continue;
        }
        src.base = c * chunk;
        let mut leaves = SealSource::new(|start, out: &mut [Node]| src.fill(start, out));
        let root = tree_root(&shape, &mut leaves).map_err(|e| leaves.error(e))?;
        stack.push(chunk.trailing_zeros(), root);
    }
    src.finish()?;
    Ok(PieceInfo {
        comm_p: stack.root(),
        padded_size: padded.bytes(),
        raw_len,
    })
}

/// Roots of consecutive aligned subtrees, left to right; two of equal height merge into their
/// parent, so after the last push one root remains for a complete tree.
#[derive(Default)]
struct SubtreeStack(Vec<(u32, Node)>);

impl SubtreeStack {
    fn push(&mut self, height: u32, root: Node) {
        self.0.push((height, root));
        while self.0.len() >= 2 && self.0[self.0.len() - 1].0 == self.0[self.0.len() - 2].0 {
            let (h, right) = self.0.pop().unwrap();
            let (_, left) = self.0.pop().unwrap();
            self.0.push((h + 1, hash_d_node(&left, &right)));
        }
    }

    /// Pushes zero subtrees covering nodes `from .. to`, largest aligned blocks first.
    fn push_zeros(&mut self, mut from: u64, to: u64) {
        while from < to {
            let align = if from == 0 { 63 } else { from.trailing_zeros() };
            let fit = 63 - (to - from).leading_zeros();
            let h = align.min(fit);
            self.push(h, zero_root(h));
            from += 1 << h;
        }
    }

    fn root(&self) -> Node {
        debug_assert_eq!(self.0.len(), 1, "subtrees do not form one complete tree");
        self.0[0].1
    }
}

/// Where each piece goes: its offset in padded bytes (a multiple of its own padded size).
/// Fails if the pieces do not fit in `sector`.
pub fn layout(sector: SectorSize, pieces: &[PaddedPieceSize]) -> Result<Vec<u64>, SealError> {
    if pieces.is_empty() {
        return Err(SealError::NoPieces);
    }
    let mut offsets = Vec::with_capacity(pieces.len());
    let mut cursor = 0u64;
    for p in pieces {
        let off = cursor.next_multiple_of(p.bytes());
        offsets.push(off);
        cursor = off + p.bytes();
    }
    if cursor > sector.bytes() {
        return Err(SealError::PiecesDoNotFit {
            needed: cursor,
            capacity: sector.bytes(),
            sector: sector.to_string(),
        });
    }
    Ok(offsets)
}

/// CommD from the pieces' CommPs alone: the sector's tree_d root with every gap a zero subtree.
pub fn comm_d_from_pieces(sector: SectorSize, pieces: &[PieceInfo]) -> Result<Node, SealError> {
    let sizes: Vec<PaddedPieceSize> = pieces.iter().map(PieceInfo::padded).collect();
    let offsets = layout(sector, &sizes)?;
    let mut stack = SubtreeStack::default();
    let mut cursor = 0u64;
    for (p, off) in pieces.iter().zip(offsets) {
        let start = off / 32;
        stack.push_zeros(cursor, start);
        let nodes = p.padded().nodes();
        stack.push(nodes.trailing_zeros(), p.comm_p);
        cursor = start + nodes;
    }
    stack.push_zeros(cursor, sector.nodes());
    Ok(stack.root())
}

/// CommD from the sector's padded data (tree_d root over all N nodes).
pub fn comm_d_from_data(sector: SectorSize, unsealed: &[Node]) -> Result<Node, SealError> {
    let mut src: &[Node] = unsealed;
    Ok(tree_root(&TreeShape::binary(sector.nodes()), &mut src)?)
}

/// Pads a whole in-memory byte string into nodes (tests and small tools).
pub fn pad_bytes(data: &[u8]) -> Vec<Node> {
    let unpadded = UnpaddedPieceSize::for_data_len(data.len() as u64).bytes() as usize;
    let mut raw = data.to_vec();
    raw.resize(unpadded, 0);
    let mut out = vec![[0u8; 32]; unpadded / UNPADDED_BLOCK * 4];
    fr32::pad(&raw, nodes_as_bytes_mut(&mut out));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_root(data: &[u8]) -> Node {
        let nodes = pad_bytes(data);
        let mut src: &[Node] = &nodes;
        tree_root(&TreeShape::binary(nodes.len() as u64), &mut src).unwrap()
    }

    #[test]
    fn comm_p_with_skipped_zero_chunks_equals_hashing_everything() {
        // 4 chunks of 2^18 leaves; the data ends inside the third, the fourth is all zeros.
        let len = 127 * (1 << 17) + 1000;
        let data: Vec<u8> = (0..len).map(|i| (i % 241) as u8 ^ 0x5a).collect();
        let info = comm_p(&data[..], len as u64).unwrap();
        assert_eq!(info.padded_size, 32 << 20);
        assert_eq!(info.comm_p, full_root(&data));
        // Small pieces (one chunk) and exact fits.
        for len in [1usize, 126, 127, 128, 4064, 127 * 64] {
            let d: Vec<u8> = (0..len).map(|i| i as u8).collect();
            assert_eq!(
                comm_p(&d[..], len as u64).unwrap().comm_p,
                full_root(&d),
                "len {len}"
            );
        }
    }

    #[test]
    fn zero_roots_chain() {
        assert_eq!(zero_root(0), [0u8; 32]);
        assert_eq!(zero_root(1), hash_d_node(&[0; 32], &[0; 32]));
        assert_eq!(zero_root(5), full_root(&[0u8; 127 * 8]));
    }
}
