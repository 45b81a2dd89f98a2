//! The chain API: one trait for the in-process devnet and the JSON-RPC client alike.
//! Queries are plain reads; every state change goes through [`ChainApi::submit`] as a signed
//! message, checked and applied against the pending state at once (its error comes back
//! immediately, state unchanged) and included in the next epoch.

use crate::beacon::{BeaconEntry, BeaconInfo};
use crate::error::{ChainError, ErrorKind};
use crate::keys::Address;
use crate::message::SignedMessage;
use crate::permanent::{EndowmentInfo, PermanentPieceInfo, PermanentQuote};
use crate::stats::NetworkStats;
use crate::types::{DealId, Epoch, MinerId, RandomnessTag};
use crate::views::*;
use strata_primitives::node::Node;

/// JSON-RPC method names, one per trait method; parameters are a JSON object with the
/// argument names below.
pub mod methods {
    /// `{}` → [`super::Head`]
    pub const HEAD: &str = "chain_head";
    /// `{}` → [`super::NetworkInfo`]
    pub const NETWORK: &str = "chain_network";
    /// `{address}` → [`super::AccountInfo`]
    pub const ACCOUNT: &str = "chain_account";
    /// `{}` → `[miner id]`
    pub const MINERS: &str = "chain_miners";
    /// `{miner}` → [`super::MinerInfo`]
    pub const MINER: &str = "chain_miner";
    /// `{miner, sector}` → [`super::SectorInfo`]
    pub const SECTOR: &str = "chain_sector";
    /// `{miner}` → `[SectorInfo]`
    pub const SECTORS: &str = "chain_sectors";
    /// `{miner}` → `[DeadlineInfo]`
    pub const DEADLINES: &str = "chain_deadlines";
    /// `{epoch}` → [`crate::beacon::BeaconEntry`] (the entry epoch `epoch` uses)
    pub const BEACON: &str = "chain_beacon";
    /// `{}` → [`crate::beacon::BeaconInfo`] (the beacon's key and source)
    pub const BEACON_INFO: &str = "chain_beacon_info";
    /// `{id}` → [`super::DealInfo`]
    pub const DEAL: &str = "chain_deal";
    /// `{}` → `[DealInfo]`
    pub const DEALS: &str = "chain_deals";
    /// `{filter}` → `[Event]`
    pub const EVENTS: &str = "chain_events";
    /// `{miner}` → `[ProofRecord]`
    pub const PROOFS: &str = "chain_proofs";
    /// `{id}` → [`super::Receipt`]
    pub const RECEIPT: &str = "chain_receipt";
    /// `{miner}` → `[WinningTicket]` (open ones)
    pub const WINNING: &str = "chain_winning";
    /// `{message}` → message id
    pub const SUBMIT: &str = "chain_submit";
    /// `{}` → [`crate::permanent::EndowmentInfo`]
    pub const ENDOWMENT: &str = "chain_endowment";
    /// `{}` → `[PermanentPieceInfo]`
    pub const PERMANENT_PIECES: &str = "chain_permanent_pieces";
    /// `{id}` → [`crate::permanent::PermanentPieceInfo`]
    pub const PERMANENT_PIECE: &str = "chain_permanent_piece";
    /// `{piece_size, replicas}` → [`crate::permanent::PermanentQuote`]
    pub const PERMANENT_QUOTE: &str = "chain_permanent_quote";
    /// `{}` → [`crate::stats::NetworkStats`]
    pub const STATS: &str = "chain_stats";
    /// `{epochs}` → [`super::Head`] (manual devnets only)
    pub const STEP: &str = "devnet_step";
}

/// Everything providers, clients and auditors ask of the chain.
#[async_trait::async_trait]
pub trait ChainApi: Send + Sync {
    /// The head.
    async fn head(&self) -> Result<Head, ChainError>;
    /// Constants, power, reward and supply.
    async fn network(&self) -> Result<NetworkInfo, ChainError>;
    /// An account (an unknown address has zero balances and nonce 0).
    async fn account(&self, address: Address) -> Result<AccountInfo, ChainError>;
    /// All miner ids.
    async fn miners(&self) -> Result<Vec<MinerId>, ChainError>;
    /// A miner.
    async fn miner(&self, miner: MinerId) -> Result<MinerInfo, ChainError>;
    /// A sector.
    async fn sector(&self, miner: MinerId, sector: u64) -> Result<SectorInfo, ChainError>;
    /// All of a miner's sectors.
    async fn sectors(&self, miner: MinerId) -> Result<Vec<SectorInfo>, ChainError>;
    /// A miner's deadlines, each with its current or next instance.
    async fn deadlines(&self, miner: MinerId) -> Result<Vec<DeadlineInfo>, ChainError>;
    /// The network's beacon: its public key and where entries come from. A client should pin
    /// it (the RPC client keeps the first answer and refuses a node that changes it).
    async fn beacon_info(&self) -> Result<BeaconInfo, ChainError>;
    /// The beacon entry epoch `epoch` (≤ head) uses, as the node serves it: unverified. Use
    /// [`ChainApi::verified_beacon`] or [`ChainApi::randomness`], which check it.
    async fn beacon(&self, epoch: Epoch) -> Result<BeaconEntry, ChainError>;
    /// The beacon entry of `epoch`, checked against [`ChainApi::beacon_info`]: the right round,
    /// signed by the network's key. A forged or altered entry is a `BadSignature` error.
    async fn verified_beacon(&self, epoch: Epoch) -> Result<BeaconEntry, ChainError> {
        let info = self.beacon_info().await?;
        let entry = self.beacon(epoch).await?;
        info.verify(epoch, &entry).map_err(|e| {
            ChainError::new(
                ErrorKind::BadSignature,
                format!("the chain's beacon entry for epoch {epoch} is refused: {e}"),
            )
        })?;
        Ok(entry)
    }
    /// Randomness drawn at `epoch` (≤ head) for `tag` and `entropy` (a miner id), computed here
    /// from the verified beacon entry (never taken from the node on trust).
    async fn randomness(
        &self,
        tag: RandomnessTag,
        epoch: Epoch,
        entropy: u64,
    ) -> Result<Node, ChainError> {
        let entry = self.verified_beacon(epoch).await?;
        Ok(crate::beacon::draw(
            &entry.randomness(),
            tag,
            epoch,
            entropy,
        ))
    }
    /// A deal.
    async fn deal(&self, id: DealId) -> Result<DealInfo, ChainError>;
    /// All deals.
    async fn deals(&self) -> Result<Vec<DealInfo>, ChainError>;
    /// Balance events.
    async fn events(&self, filter: EventFilter) -> Result<Vec<Event>, ChainError>;
    /// Every proof a miner posted that the chain accepted.
    async fn proofs(&self, miner: MinerId) -> Result<Vec<ProofRecord>, ChainError>;
    /// A message's receipt.
    async fn receipt(&self, id: String) -> Result<Receipt, ChainError>;
    /// Open WinningPoSt tickets of a miner.
    async fn winning(&self, miner: MinerId) -> Result<Vec<WinningTicket>, ChainError>;
    /// The permanent-storage endowment: pool, obligations, replicas.
    async fn endowment(&self) -> Result<EndowmentInfo, ChainError>;
    /// Every permanent piece, in weave order.
    async fn permanent_pieces(&self) -> Result<Vec<PermanentPieceInfo>, ChainError>;
    /// One permanent piece.
    async fn permanent_piece(&self, id: u64) -> Result<PermanentPieceInfo, ChainError>;
    /// What storing `piece_size` padded bytes on `replicas` miners for ever costs now.
    async fn permanent_quote(
        &self,
        piece_size: u64,
        replicas: u64,
    ) -> Result<PermanentQuote, ChainError>;
    /// The network's economics: power and storage use now and per miner, supply, deal
    /// payments, per-day minting/payments/burning, the latest beacon rounds and the endowment
    /// (see [`crate::stats`]).
    async fn stats(&self) -> Result<NetworkStats, ChainError>;
    /// Submits a signed message; returns its id once checked and accepted for the next epoch.
    async fn submit(&self, message: SignedMessage) -> Result<String, ChainError>;
    /// Applies `epochs` epochs now (devnets started in manual mode only).
    async fn step(&self, epochs: u64) -> Result<Head, ChainError>;
}
