//! Pieces: CommP from a stream, the unsealed-sector layout (DESIGN §3), and CommD computed two
//! independent ways — from the sector's data (tree_d) and from the pieces' CommPs with zero
//! subtrees. The two must agree; the tests check they do.

use crate::error::SealError;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::sync::OnceLock;
use strata_primitives::fr32::{self, read_full, PADDED_BLOCK, UNPADDED_BLOCK};
use strata_primitives::hash::hash_d_node;
use strata_primitives::merkle::{tree_root, TreeError, TreeShape};
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
    index: usize,
    raw: Vec<u8>,
    sink: Option<&'a mut PaddedSink<'a>>,
    error: Option<SealError>,
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
            index,
            raw: Vec::new(),
            sink,
            error: None,
        }
    }

    fn fill_inner(&mut self, start: u64, out: &mut [Node]) -> Result<(), SealError> {
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
            sink(start * 32, bytes)?;
        }
        Ok(())
    }

    /// After the tree is built: the source must be exhausted (not longer than declared).
    pub(crate) fn finish(mut self) -> Result<(), SealError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
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

    /// Converts a tree error raised by our own `fill` back into the `SealError` it carried.
    pub(crate) fn take_error(&mut self, e: TreeError) -> SealError {
        self.error.take().unwrap_or(SealError::Tree(e))
    }
}

impl<R: Read> strata_primitives::merkle::LeafSource for PaddingSource<'_, R> {
    fn fill(&mut self, start: u64, out: &mut [Node]) -> Result<(), TreeError> {
        self.fill_inner(start, out).map_err(|e| {
            let msg = e.to_string();
            self.error = Some(e);
            TreeError::Source(msg)
        })
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
    let shape = TreeShape::binary(padded.nodes());
    let mut src = PaddingSource::new(reader, raw_len, index, sink);
    let root = tree_root(&shape, &mut src).map_err(|e| src.take_error(e))?;
    src.finish()?;
    Ok(PieceInfo {
        comm_p: root,
        padded_size: padded.bytes(),
        raw_len,
    })
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
    let total = sector.nodes();
    // A stack of (height, root) for consecutive aligned subtrees; equal heights merge.
    let mut stack: Vec<(u32, Node)> = Vec::new();
    let push = |stack: &mut Vec<(u32, Node)>, h: u32, root: Node| {
        stack.push((h, root));
        while stack.len() >= 2 && stack[stack.len() - 1].0 == stack[stack.len() - 2].0 {
            let (h, right) = stack.pop().unwrap();
            let (_, left) = stack.pop().unwrap();
            stack.push((h + 1, hash_d_node(&left, &right)));
        }
    };
    let fill_zeros = |stack: &mut Vec<(u32, Node)>, mut from: u64, to: u64| {
        while from < to {
            let align = if from == 0 { 63 } else { from.trailing_zeros() };
            let fit = 63 - (to - from).leading_zeros();
            let h = align.min(fit);
            push(stack, h, zero_root(h));
            from += 1 << h;
        }
    };
    let mut cursor = 0u64;
    for (p, off) in pieces.iter().zip(offsets) {
        let start = off / 32;
        fill_zeros(&mut stack, cursor, start);
        let nodes = p.padded().nodes();
        push(&mut stack, nodes.trailing_zeros(), p.comm_p);
        cursor = start + nodes;
    }
    fill_zeros(&mut stack, cursor, total);
    debug_assert_eq!(stack.len(), 1);
    Ok(stack[0].1)
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
