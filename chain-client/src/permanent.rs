//! Permanent storage (DESIGN §12), as clients, providers and auditors see it: the genesis
//! constants of the endowment, the views the chain answers (pieces, replicas, the pool, a
//! quote), and the recall proof of the SPoRA-style proof of access — its target, drawn from the
//! beacon, and its verification, which is plain `hash_d` hashing anyone can redo.
//!
//! # The recall proof
//!
//! The *weave* is every permanent piece, in the order they were stored, laid end to end by
//! padded size. At each election the winner's recall draw (`RandomnessTag::Recall`) picks a byte
//! offset in the weave; the target is the aligned chunk (`recall_chunk_bytes`, or the whole piece
//! if smaller) holding it. The winner shows the chunk's nodes and the sibling path from the
//! chunk's subtree root up through the piece's CommP to the CommD of one of its own active
//! sectors holding a replica of that piece: an opening of the sector's data tree (tree_d), so the
//! chunk is shown to lie in the piece *and* the piece at its place in that sector.

use crate::token::Token;
use crate::types::{DealId, Epoch, MinerId};
use crate::Address;
use serde::{Deserialize, Serialize};
use strata_primitives::hash::hash_d_node;
use strata_primitives::merkle::{tree_root, TreeShape};
use strata_primitives::node::Node;
use strata_primitives::serde_hex;
use thiserror::Error;

/// The endowment's genesis constants. Rates are per year (365 "days" of the genesis), so they do
/// not change when a devnet scales its day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermanentConstants {
    /// The cost of storing one byte for one year at epoch 0, in atto.
    pub price_per_byte_year: Token,
    /// The yearly decline of storage cost assumed when pricing (Arweave's Kryder+ assumption:
    /// 0.5% = 50 basis points). The perpetual price is the current yearly cost / this rate.
    pub kryder_rate_bps: u64,
    /// The yearly decline of the cost the endowment actually pays out at each period. On the
    /// devnet it is a genesis constant equal to the assumed rate; a network with a cost oracle
    /// (Arweave derives it from its hash rate) would feed the observed curve here. When costs
    /// fall slower than assumed, the pool runs short and the price multiplier rises.
    pub cost_decline_bps: u64,
    /// The share of the fee paid at once to the miners storing the replicas, numerator and
    /// denominator (the seed documents' 16.67% = 1/6; Arweave 2.6 pays 1/21).
    pub upfront_share: (u64, u64),
    /// The most replicas one permanent piece may ask for.
    pub max_replicas: u64,
    /// Bytes of one recall chunk (a power of two ≥ 32; a smaller piece is one chunk).
    pub recall_chunk_bytes: u64,
    /// The share of every block reward paid only with a valid recall proof, numerator and
    /// denominator. With an empty weave there is nothing to recall and the whole reward is paid.
    pub recall_reward_share: (u64, u64),
    /// The latest activation a replica claim may name, in days after the claim.
    pub max_claim_days: i64,
}

impl Default for PermanentConstants {
    fn default() -> Self {
        PermanentConstants {
            // 1 nano-token per byte-year: 2 KiB for ever ≈ 0.0004 tokens per replica.
            price_per_byte_year: Token(1_000_000_000),
            kryder_rate_bps: 50,
            cost_decline_bps: 50,
            upfront_share: (1, 6),
            max_replicas: 8,
            recall_chunk_bytes: 256 << 10,
            recall_reward_share: (1, 10),
            max_claim_days: 30,
        }
    }
}

impl PermanentConstants {
    /// Arweave 2.6's split: 1/21 of the fee to the miners at once.
    pub fn arweave_2_6() -> Self {
        PermanentConstants {
            upfront_share: (1, 21),
            ..Default::default()
        }
    }

    /// Why these constants cannot be used, if they cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.kryder_rate_bps == 0 || self.kryder_rate_bps >= 10_000 {
            return Err("permanent.kryder_rate_bps must be between 1 and 9999".into());
        }
        if self.cost_decline_bps >= 10_000 {
            return Err("permanent.cost_decline_bps must be below 10000".into());
        }
        let (n, d) = self.upfront_share;
        if d == 0 || n >= d {
            return Err("permanent.upfront_share must be a fraction below 1".into());
        }
        let (n, d) = self.recall_reward_share;
        if d == 0 || n > d {
            return Err("permanent.recall_reward_share must be a fraction at most 1".into());
        }
        if self.max_replicas == 0 {
            return Err("permanent.max_replicas must be at least 1".into());
        }
        if !self.recall_chunk_bytes.is_power_of_two() || self.recall_chunk_bytes < 32 {
            return Err("permanent.recall_chunk_bytes must be a power of two ≥ 32".into());
        }
        if self.max_claim_days < 1 {
            return Err("permanent.max_claim_days must be at least 1".into());
        }
        Ok(())
    }
}

/// Where a replica slot stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaStatus {
    /// Offered: any miner may claim it (new, or re-offered after its replica was lost).
    Open,
    /// Claimed by a miner whose sector is not proven yet.
    Claimed,
    /// Stored in an active sector; paid from the endowment each proven period.
    Held,
}

/// One replica slot of a permanent piece.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaInfo {
    /// Index among the piece's slots.
    pub slot: u64,
    /// Its status.
    pub status: ReplicaStatus,
    /// The deal holding it (claimed or held).
    pub deal: Option<DealId>,
    /// The miner holding it.
    pub miner: Option<MinerId>,
    /// The immediate share still waiting for the slot's first activation.
    pub upfront_unpaid: Token,
    /// How many times the slot was re-offered after losing its replica.
    pub reoffered: u64,
}

/// A permanent piece.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermanentPieceInfo {
    /// Id (order in the weave).
    pub id: u64,
    /// Who paid.
    pub client: Address,
    /// CommP.
    #[serde(with = "serde_hex::node")]
    pub piece_cid: Node,
    /// Padded size, bytes.
    pub piece_size: u64,
    /// Its first byte in the weave.
    pub weave_offset: u64,
    /// Epoch stored.
    pub created: Epoch,
    /// What the client paid.
    pub fee: Token,
    /// The replica slots.
    pub replicas: Vec<ReplicaInfo>,
}

impl PermanentPieceInfo {
    /// The deals of the slots held in active sectors, with their miners.
    pub fn holders(&self) -> impl Iterator<Item = (DealId, MinerId)> + '_ {
        self.replicas
            .iter()
            .filter(|r| r.status == ReplicaStatus::Held)
            .filter_map(|r| Some((r.deal?, r.miner?)))
    }
}

/// What storing a piece for ever costs now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermanentQuote {
    /// Padded size quoted, bytes.
    pub piece_size: u64,
    /// Replicas quoted.
    pub replicas: u64,
    /// The cost of one byte for one year now, atto (on the cost curve).
    pub price_per_byte_year: Token,
    /// The Kryder+ multiplier applied.
    pub multiplier: u64,
    /// What goes into the endowment: replicas × size × yearly cost / decline rate × multiplier.
    pub endowment: Token,
    /// What goes to the storing miners at once (the upfront share of the total).
    pub upfront: Token,
    /// endowment + upfront: what the client pays.
    pub total: Token,
}

/// The endowment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndowmentInfo {
    /// Head epoch.
    pub epoch: Epoch,
    /// The pool.
    pub pool: Token,
    /// Immediate shares held for slots never filled yet.
    pub upfront_held: Token,
    /// Payouts earned but not yet paid (the pool ran dry), oldest first.
    pub arrears: Token,
    /// Total paid out to replica holders so far.
    pub paid_out: Token,
    /// The Kryder+ price multiplier (1 until the pool first runs short).
    pub multiplier: u64,
    /// Whether the multiplier is latched (raised for the current shortfall).
    pub latched: bool,
    /// The cost of one byte-year now on the cost curve, atto.
    pub price_per_byte_year: Token,
    /// Permanent pieces.
    pub pieces: u64,
    /// Bytes in the weave.
    pub weave_bytes: u64,
    /// Replicas held in active sectors.
    pub replicas_held: u64,
    /// Replicas claimed, not yet proven.
    pub replicas_claimed: u64,
    /// Slots open for any miner.
    pub replicas_open: u64,
    /// What the endowment pays per proving period now, for the replicas held.
    pub owed_per_period: Token,
    /// The present value of every slot's future payouts at the assumed decline (what the pool
    /// must hold not to be short).
    pub obligations: Token,
    /// Years the pool covers on the cost curve for every slot (`None`: for ever — the pool
    /// exceeds the perpetual value).
    pub years_covered: Option<f64>,
}

/// The chunk a block's winner must show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecallTarget {
    /// The drawn byte in the weave.
    pub weave_offset: u64,
    /// The permanent piece holding it.
    pub piece: u64,
    /// The chunk's index within the piece.
    pub chunk: u64,
    /// The chunk's length, bytes (a power of two).
    pub chunk_bytes: u64,
}

impl RecallTarget {
    /// The target for recall randomness `r` over a weave given as `(piece id, weave offset,
    /// padded size)` in weave order; `None` for an empty weave.
    pub fn pick(r: &Node, weave: &[(u64, u64, u64)], chunk_bytes: u64) -> Option<RecallTarget> {
        let total: u64 = weave.last().map(|p| p.1 + p.2)?;
        if total == 0 {
            return None;
        }
        let x = (u128::from_le_bytes(r[..16].try_into().expect("16 bytes")) % total as u128) as u64;
        let i = weave.partition_point(|p| p.1 + p.2 <= x);
        let (piece, offset, size) = weave[i];
        let chunk_bytes = chunk_bytes.min(size);
        Some(RecallTarget {
            weave_offset: x,
            piece,
            chunk: (x - offset) / chunk_bytes,
            chunk_bytes,
        })
    }
}

/// A recall proof: the chunk's nodes and the path from its subtree root to a sector's CommD.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecallProof {
    /// The winner's sector holding the replica.
    pub sector: u64,
    /// The chunk's nodes (fr32-padded data as committed in CommP), `chunk_bytes / 32` of them.
    #[serde(with = "serde_hex::node_vec")]
    pub chunk: Vec<Node>,
    /// Siblings from the chunk's subtree root up to the sector's CommD, bottom-up.
    #[serde(with = "serde_hex::node_vec")]
    pub path: Vec<Node>,
}

/// What an auditor needs to re-check a recall proof offline: the target, the piece, where the
/// piece lies in the sector, the sector's CommD, and the proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecallRecord {
    /// The target drawn at the election.
    pub target: RecallTarget,
    /// The piece's CommP.
    #[serde(with = "serde_hex::node")]
    pub piece_cid: Node,
    /// The piece's padded size.
    pub piece_size: u64,
    /// The piece's offset in the sector, bytes.
    pub piece_offset: u64,
    /// The sector's CommD.
    #[serde(with = "serde_hex::node")]
    pub comm_d: Node,
    /// The sector's size, bytes.
    pub sector_size: u64,
    /// The proof.
    pub proof: RecallProof,
}

impl RecallRecord {
    /// Re-verifies the recorded proof.
    pub fn verify(&self) -> Result<(), RecallError> {
        verify_recall(
            &self.target,
            &self.proof,
            &self.piece_cid,
            self.piece_size,
            self.piece_offset,
            &self.comm_d,
            self.sector_size,
        )
    }
}

/// Why a recall proof is refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RecallError {
    /// The chunk does not have the target's length.
    #[error("the chunk has {got} nodes; the target's chunk has {want}")]
    ChunkLength {
        /// Nodes given.
        got: usize,
        /// Nodes expected.
        want: u64,
    },
    /// The path does not have the sector tree's height above the chunk.
    #[error("the path has {got} siblings; {want} lead from the chunk to the sector's CommD")]
    PathLength {
        /// Siblings given.
        got: usize,
        /// Siblings expected.
        want: usize,
    },
    /// A node is not a 254-bit value as `hash_d` produces and fr32 padding stores.
    #[error("node {0} of the proof is not a 254-bit node")]
    NotCanonical(usize),
    /// The chunk and path do not hash to the piece's CommP at the chunk's place.
    #[error("the chunk and path do not hash to the piece's CommP")]
    NotInPiece,
    /// They reach the CommP but not the sector's CommD at the piece's place.
    #[error("the piece is not at its place in the sector's CommD")]
    NotInSector,
    /// The layout is impossible (chunk outside the piece, piece outside the sector).
    #[error("the chunk or piece lies outside its piece or sector")]
    Layout,
}

fn levels(bytes: u64) -> usize {
    (bytes / 32).trailing_zeros() as usize
}

/// Verifies `proof` for `target`: the chunk hashes to its subtree root, which climbs through the
/// piece's CommP (a piece of `piece_size` bytes at `piece_offset` in the sector) to `comm_d`, the
/// CommD of a sector of `sector_size` bytes. Plain hashing; nothing is trusted.
pub fn verify_recall(
    target: &RecallTarget,
    proof: &RecallProof,
    piece_cid: &Node,
    piece_size: u64,
    piece_offset: u64,
    comm_d: &Node,
    sector_size: u64,
) -> Result<(), RecallError> {
    let cb = target.chunk_bytes;
    let pow2 = |x: u64| x.is_power_of_two() && x >= 32;
    if !pow2(cb) || !pow2(piece_size) || !pow2(sector_size) || cb > piece_size {
        return Err(RecallError::Layout);
    }
    if piece_size > sector_size
        || !piece_offset.is_multiple_of(piece_size)
        || piece_offset + piece_size > sector_size
        || target.chunk >= piece_size / cb
    {
        return Err(RecallError::Layout);
    }
    let want = cb / 32;
    if proof.chunk.len() as u64 != want {
        return Err(RecallError::ChunkLength {
            got: proof.chunk.len(),
            want,
        });
    }
    let (below_piece, below_sector) = (
        levels(piece_size) - levels(cb),
        levels(sector_size) - levels(cb),
    );
    if proof.path.len() != below_sector {
        return Err(RecallError::PathLength {
            got: proof.path.len(),
            want: below_sector,
        });
    }
    if let Some(i) = proof
        .chunk
        .iter()
        .chain(&proof.path)
        .position(|n| n[31] & 0xc0 != 0)
    {
        return Err(RecallError::NotCanonical(i));
    }
    let mut cur = subtree_root(&proof.chunk);
    let mut idx = piece_offset / cb + target.chunk;
    for (h, sib) in proof.path.iter().enumerate() {
        if h == below_piece && cur != *piece_cid {
            return Err(RecallError::NotInPiece);
        }
        cur = if idx & 1 == 0 {
            hash_d_node(&cur, sib)
        } else {
            hash_d_node(sib, &cur)
        };
        idx >>= 1;
    }
    if below_piece == below_sector && cur != *piece_cid {
        return Err(RecallError::NotInPiece);
    }
    if cur != *comm_d {
        return Err(RecallError::NotInSector);
    }
    Ok(())
}

/// The tree_d root of a power-of-two run of nodes (the project's streaming tree builder).
fn subtree_root(nodes: &[Node]) -> Node {
    let mut src: &[Node] = nodes;
    tree_root(&TreeShape::binary(nodes.len() as u64), &mut src).expect("in-memory leaves")
}

/// The recall proof of the chunk of `chunk_bytes` at `first_leaf` of a sector whose data nodes
/// (tree_d's leaves) are all in memory: for tests and small sectors. A provider opens the stored
/// tree instead; both give the same proof.
pub fn prove_from_leaves(
    sector: u64,
    leaves: &[Node],
    first_leaf: u64,
    chunk_bytes: u64,
) -> RecallProof {
    let n = (chunk_bytes / 32) as usize;
    let first = first_leaf as usize;
    let chunk = leaves[first..first + n].to_vec();
    let mut level: Vec<Node> = leaves.chunks(n).map(subtree_root).collect();
    let mut idx = first / n;
    let mut path = Vec::new();
    while level.len() > 1 {
        path.push(level[idx ^ 1]);
        level = level.chunks(2).map(|p| hash_d_node(&p[0], &p[1])).collect();
        idx >>= 1;
    }
    RecallProof {
        sector,
        chunk,
        path,
    }
}

#[cfg(test)]
mod tests;

/// A miner's permanent storage as the chain shows it: replicas held and claimed, and what the
/// endowment has paid it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinerPermanent {
    /// Replicas held in active sectors.
    pub replicas_held: u64,
    /// Replicas claimed, not yet proven.
    pub replicas_claimed: u64,
    /// Bytes held.
    pub bytes_held: u64,
    /// Upfront shares received.
    pub upfront_income: Token,
    /// Period payouts received.
    pub endowment_income: Token,
}

/// [`MinerPermanent`] of `miner`, from the chain's pieces and balance events.
pub async fn miner_summary(
    api: &dyn crate::ChainApi,
    miner: MinerId,
) -> Result<MinerPermanent, crate::ChainError> {
    let mut out = MinerPermanent::default();
    for p in api.permanent_pieces().await? {
        for r in p.replicas.iter().filter(|r| r.miner == Some(miner)) {
            match r.status {
                ReplicaStatus::Held => {
                    out.replicas_held += 1;
                    out.bytes_held += p.piece_size;
                }
                ReplicaStatus::Claimed => out.replicas_claimed += 1,
                ReplicaStatus::Open => {}
            }
        }
    }
    let events = api
        .events(crate::views::EventFilter {
            who: Some(crate::types::miner_name(miner)),
            ..Default::default()
        })
        .await?;
    out.add_income(miner, &events);
    Ok(out)
}

impl MinerPermanent {
    /// Adds what `events` paid `miner` for permanent storage (upfront shares and endowment
    /// payouts) to the income totals; events of other miners or purposes are ignored, so a
    /// caller may fold the event stream in pieces.
    pub fn add_income(&mut self, miner: MinerId, events: &[crate::views::Event]) {
        for e in events {
            if e.to != crate::views::Pot::MinerEscrow(miner) {
                continue;
            }
            if e.why.starts_with("endowment_payout") {
                self.endowment_income = Token(self.endowment_income.0 + e.amount.0);
            } else if e.why.starts_with("permanent_upfront_paid") {
                self.upfront_income = Token(self.upfront_income.0 + e.amount.0);
            }
        }
    }
}
