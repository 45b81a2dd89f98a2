//! The network's economics at a glance (`chain_stats`, `strata chain stats`, the devnet's
//! dashboard): who holds power, how much of the committed storage holds client data, and where
//! the tokens went — block rewards minted against deal payments and fees burnt, per day.
//!
//! Every figure is computed by the chain from its own state and blocks; the dashboard and the
//! CLI only format it, so the page, the JSON and the terminal always agree.

use crate::token::Token;
use crate::types::{Epoch, MinerId};
use serde::{Deserialize, Serialize};

/// One miner's share of the network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinerStats {
    /// The miner.
    pub id: MinerId,
    /// Sector size, bytes.
    pub sector_size: u64,
    /// Raw power (active sectors × sector size), bytes.
    pub raw_power: u128,
    /// Quality-adjusted power, bytes.
    pub qa_power: u128,
    /// Active sectors.
    pub active_sectors: u64,
    /// Faulty sectors.
    pub faulty_sectors: u64,
    /// Padded bytes of active deals in its active sectors.
    pub deal_bytes: u64,
    /// Of those, verified deal bytes.
    pub verified_bytes: u64,
    /// Blocks won.
    pub blocks_won: u64,
}

/// The network as it stands at one epoch: power, storage use and supply.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Epoch.
    pub epoch: Epoch,
    /// Network raw power, bytes.
    pub raw_power: u128,
    /// Network quality-adjusted power, bytes.
    pub qa_power: u128,
    /// Bytes of sectors committed and proving (active or faulty).
    pub committed_bytes: u128,
    /// Padded bytes of active deals held in those sectors.
    pub deal_bytes: u128,
    /// Of those, verified deal bytes.
    pub verified_bytes: u128,
}

impl Snapshot {
    /// The share of committed storage that holds client data (deal bytes / sector bytes), in
    /// parts per million (0 when nothing is committed).
    pub fn deal_share_ppm(&self) -> u64 {
        ppm(self.deal_bytes, self.committed_bytes)
    }

    /// The share of committed storage that holds verified client data, parts per million.
    pub fn verified_share_ppm(&self) -> u64 {
        ppm(self.verified_bytes, self.committed_bytes)
    }
}

/// `part / whole` in parts per million (0 when `whole` is 0).
pub fn ppm(part: u128, whole: u128) -> u64 {
    part.saturating_mul(1_000_000)
        .checked_div(whole)
        .map_or(0, |v| v.min(u64::MAX as u128) as u64)
}

/// One day of the network (a span of `epochs_per_day` epochs): the money that moved in it and
/// the state at its last epoch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayStats {
    /// Day number (epoch / epochs_per_day).
    pub day: i64,
    /// Its first epoch.
    pub first_epoch: Epoch,
    /// Its last epoch applied so far.
    pub last_epoch: Epoch,
    /// Block rewards minted.
    pub minted: Token,
    /// Deal payments from clients to providers.
    pub deal_payments: Token,
    /// Fees and penalties burnt.
    pub burnt: Token,
    /// Payouts from the permanent-storage endowment.
    pub endowment_payouts: Token,
    /// The network at `last_epoch`.
    pub end: Snapshot,
}

/// A beacon round as the dashboard shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeaconRound {
    /// The epoch it served.
    pub epoch: Epoch,
    /// The round.
    pub round: u64,
    /// Its randomness (hex).
    pub randomness: String,
}

/// Everything the dashboard shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkStats {
    /// Network name.
    pub network: String,
    /// Epochs per day.
    pub epochs_per_day: i64,
    /// The network now.
    pub now: Snapshot,
    /// Every miner, by id.
    pub miners: Vec<MinerStats>,
    /// Totals since genesis.
    pub supply: crate::views::Supply,
    /// Deal payments since genesis.
    pub deal_payments_total: Token,
    /// The block reward of the current epoch.
    pub epoch_reward: Token,
    /// Days, oldest first (at most the last [`NetworkStats::DAYS_KEPT`]).
    pub days: Vec<DayStats>,
    /// The latest beacon rounds, newest first.
    pub beacon: Vec<BeaconRound>,
    /// The permanent-storage endowment.
    pub endowment: Option<crate::permanent::EndowmentInfo>,
}

impl NetworkStats {
    /// Days returned.
    pub const DAYS_KEPT: usize = 90;
    /// Beacon rounds returned.
    pub const BEACON_ROUNDS: usize = 10;
}
