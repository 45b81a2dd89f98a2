//! What the chain answers: protocol constants, accounts, miners, sectors, deadlines, deals,
//! balance events, message receipts and posted proofs.

use crate::keys::Address;
use crate::token::Token;
use crate::types::{DealId, DealProposal, Epoch, MinerId};
use serde::{Deserialize, Serialize};
use strata_primitives::node::Node;
use strata_primitives::serde_hex;

/// The protocol constants, fixed at genesis (DESIGN §8). Durations are in epochs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constants {
    /// Target time between epochs, milliseconds.
    pub block_time_ms: u64,
    /// Epochs in a "day"; every period quoted in days scales with it.
    pub epochs_per_day: i64,
    /// Length of a proving period.
    pub proving_period: i64,
    /// Deadlines per proving period.
    pub deadlines: u64,
    /// Epochs a deadline's window is open (proving_period / deadlines).
    pub deadline_window: i64,
    /// The challenge is drawn this many epochs before the window opens.
    pub challenge_lookback: i64,
    /// Faults and recoveries must be declared this many epochs before the window opens.
    pub fault_cutoff: i64,
    /// Epochs between pre-commit and the seal seed.
    pub seed_delay: i64,
    /// Epochs after pre-commit by which the prove-commit must land.
    pub max_prove_commit: i64,
    /// The oldest ticket a pre-commit may use, in epochs before it.
    pub max_ticket_age: i64,
    /// Shortest sector life (from pre-commit to expiration).
    pub min_sector_lifetime: i64,
    /// Longest sector life.
    pub max_sector_lifetime: i64,
    /// Proving periods a sector may stay faulty before it is terminated.
    pub fault_max_age_periods: i64,
    /// Epochs after winning in which the WinningPoSt must land.
    pub winning_post_window: i64,
    /// Pre-commit deposit = expected reward of the sector over this many epochs (20 days).
    pub precommit_deposit_projection: i64,
    /// Storage pledge = expected reward over this many epochs (20 days).
    pub initial_pledge_projection: i64,
    /// Fault fee = expected reward over this many epochs (3.51 days).
    pub fault_fee_projection: i64,
    /// Consensus pledge share of circulating supply, numerator / denominator (3/10).
    pub lock_target: (u64, u64),
    /// Initial pledge cap per byte of quality-adjusted power.
    pub initial_pledge_max_per_byte: Token,
    /// Floor on network power in the pledge and reward formulas (Filecoin's baseline power role).
    pub baseline_power: u64,
    /// Termination fee reaches its full 8.5% of pledge at this sector age (140 days).
    pub termination_lifetime_cap: i64,
    /// Rewards vest linearly over this many epochs (180 days) after the 25% paid at once.
    pub reward_vesting_period: i64,
    /// Vesting happens in steps of this many epochs (1 day).
    pub reward_vesting_step: i64,
    /// Block reward of epoch 0.
    pub initial_epoch_reward: Token,
    /// Epochs for the block reward to halve (6 years).
    pub reward_half_life: i64,
    /// Deal payments are settled every this many epochs (and at the deal's end).
    pub deal_settle_interval: i64,
    /// Shortest deal a provider may publish, end − start (Filecoin: 180 days).
    pub min_deal_duration: i64,
    /// Longest deal a provider may publish, end − start (Filecoin: 1278 days).
    pub max_deal_duration: i64,
    /// A verified deal's term_min (its duration) may not be shorter (Filecoin's minimum
    /// verified allocation term: 180 days).
    pub min_verified_deal_term: i64,
    /// A verified deal's term_max may not be longer (Filecoin's maximum verified allocation
    /// term: 5 years).
    pub max_verified_deal_term: i64,
    /// A verified deal's term_max = term_min + this (Filecoin's market allocation term buffer:
    /// 90 days).
    pub verified_deal_term_buffer: i64,
    /// Permanent storage: the endowment's prices and shares, the recall chunk.
    #[serde(default)]
    pub permanent: crate::permanent::PermanentConstants,
    /// The most sectors one `PreCommitSectorBatch` may pre-commit (Filecoin's
    /// `PRE_COMMIT_SECTOR_BATCH_MAX_SIZE`, 256, before FIP-0100 left it to gas).
    #[serde(default = "default_max_precommit_batch")]
    pub max_precommit_batch: u64,
    /// The most sectors one `ProveCommitAggregate` may prove (Filecoin's
    /// `MAX_AGGREGATED_SECTORS`, 819: SnarkPack over up to 1024 proofs of 10 partitions).
    #[serde(default = "default_max_aggregate_sectors")]
    pub max_aggregate_sectors: u64,
    /// The most partitions one `SubmitWindowPostBatch` may prove (Filecoin's
    /// `POSTED_PARTITIONS_MAX`, 3).
    #[serde(default = "default_posted_partitions_max")]
    pub posted_partitions_max: u64,
    /// Epochs between a `ChangeWorkerAddress` and the new worker taking over (Filecoin's
    /// `WORKER_KEY_CHANGE_DELAY` = chain finality, 900 epochs = 5/16 of a day; the presets scale
    /// it with the day). 0 — what a genesis written before this constant existed reads as —
    /// means that default for the genesis's day: see [`Constants::key_change_delay`].
    #[serde(default)]
    pub worker_key_change_delay: i64,
}

fn default_max_precommit_batch() -> u64 {
    256
}

fn default_max_aggregate_sectors() -> u64 {
    819
}

fn default_posted_partitions_max() -> u64 {
    3
}

impl Constants {
    /// Epochs in a year (365 days).
    pub fn epochs_per_year(&self) -> i64 {
        365 * self.epochs_per_day.max(1)
    }

    /// Chain finality at this network's scale: 900 of Filecoin's 2880 epochs a day, 5/16 of a
    /// day (at least one epoch).
    pub fn finality(&self) -> i64 {
        (self.epochs_per_day * 5 / 16).max(1)
    }

    /// The worker key change delay the rules use: `worker_key_change_delay`, or chain finality
    /// ([`Constants::finality`]) where a genesis leaves it 0.
    pub fn key_change_delay(&self) -> i64 {
        if self.worker_key_change_delay > 0 {
            self.worker_key_change_delay
        } else {
            self.finality()
        }
    }
}

/// The chain head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// The chain's name (from genesis).
    pub network: String,
    /// Last applied epoch.
    pub epoch: Epoch,
    /// BLAKE3 of the state after that epoch.
    #[serde(with = "serde_hex::node")]
    pub state_root: Node,
    /// The beacon entry of that epoch (verify it with [`crate::beacon::BeaconInfo::verify`]).
    pub beacon: crate::beacon::BeaconEntry,
    /// Messages waiting for the next epoch.
    pub pending_messages: usize,
    /// Whether epochs advance only on request (tests, scripted demos).
    pub manual: bool,
}

/// Token supply accounting.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supply {
    /// Sum of genesis balances.
    pub genesis: Token,
    /// Minted as block rewards.
    pub minted: Token,
    /// Burnt (fees, forfeited deposits, slashed collateral).
    pub burnt: Token,
}

impl Supply {
    /// genesis + minted − burnt.
    pub fn total(&self) -> Token {
        Token(self.genesis.0 + self.minted.0 - self.burnt.0)
    }
}

/// Network-wide figures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkInfo {
    /// The constants.
    pub constants: Constants,
    /// Head epoch.
    pub epoch: Epoch,
    /// Total raw-byte power.
    pub raw_power: u128,
    /// Total quality-adjusted power.
    pub qa_power: u128,
    /// The block reward of the next epoch.
    pub epoch_reward: Token,
    /// Supply.
    pub supply: Supply,
    /// Circulating supply (total − locked pledge, deposits and vesting).
    pub circulating: Token,
    /// The randomness beacon: its public key and source.
    pub beacon: crate::beacon::BeaconInfo,
}

/// An account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    /// The address.
    pub address: Address,
    /// Spendable balance.
    pub balance: Token,
    /// The next nonce a message from it must carry (counting pending messages).
    pub nonce: u64,
    /// Market escrow not locked by deals.
    pub escrow_free: Token,
    /// Market escrow locked by deals (payments still owed, client collateral).
    pub escrow_locked: Token,
    /// DataCap left for verified deals, bytes.
    pub datacap: u64,
}

/// A miner's balances.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinerBalances {
    /// Withdrawable.
    pub available: Token,
    /// Pre-commit deposits held.
    pub precommit_deposits: Token,
    /// Initial pledge locked for active sectors.
    pub locked_pledge: Token,
    /// Rewards still vesting.
    pub vesting: Token,
    /// Penalties not yet paid (taken from future income first).
    pub fee_debt: Token,
    /// Market escrow not locked by deals.
    pub escrow_free: Token,
    /// Provider collateral locked by deals.
    pub escrow_locked: Token,
}

/// A deadline's timing, for one proving period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineTiming {
    /// Index within the period.
    pub index: u64,
    /// The period this instance belongs to starts here.
    pub period_start: Epoch,
    /// The window opens.
    pub open: Epoch,
    /// The window closes (first epoch after it).
    pub close: Epoch,
    /// WindowPoSt randomness is drawn at this epoch.
    pub challenge: Epoch,
    /// Faults and recoveries for this deadline must be declared before this epoch.
    pub fault_cutoff: Epoch,
}

/// A miner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinerInfo {
    /// Id.
    pub id: MinerId,
    /// Owner (receives withdrawals).
    pub owner: Address,
    /// Worker (signs routine messages).
    pub worker: Address,
    /// Proof type id.
    pub proof_type: u64,
    /// Sector size in bytes.
    pub sector_size: u64,
    /// Deal endpoint URL.
    pub deal_endpoint: String,
    /// Raw-byte power.
    pub raw_power: u128,
    /// Quality-adjusted power.
    pub qa_power: u128,
    /// Balances.
    pub balances: MinerBalances,
    /// First epoch of the miner's first proving period.
    pub proving_period_start: Epoch,
    /// The current (or next) deadline.
    pub current_deadline: DeadlineTiming,
    /// Sectors by status.
    pub sectors: SectorCounts,
    /// Blocks won and rewarded.
    pub blocks_won: u64,
    /// A worker change the owner asked for: the new worker and the epoch from which it may take
    /// over (by `ConfirmChangeWorkerAddress`, or at the first deadline close from then on).
    #[serde(default)]
    pub pending_worker: Option<(Address, Epoch)>,
}

/// Sector counts by status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectorCounts {
    /// Pre-committed, not yet proven.
    pub precommitted: u64,
    /// Proving.
    pub active: u64,
    /// Faulty (including those declared recovering).
    pub faulty: u64,
    /// Terminated early.
    pub terminated: u64,
    /// Reached expiration.
    pub expired: u64,
}

/// A sector's life stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SectorStatus {
    /// Pre-committed; waiting for the prove-commit.
    Precommitted,
    /// Proven and proving.
    Active,
    /// Missed or declared faulty; no power.
    Faulty,
    /// Faulty, declared recovered; the next WindowPoSt decides.
    Recovering,
    /// Terminated early (fee paid).
    Terminated,
    /// Reached its expiration.
    Expired,
    /// Pre-commit expired without a prove-commit (deposit burnt).
    PrecommitExpired,
}

/// A sector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectorInfo {
    /// Miner.
    pub miner: MinerId,
    /// Number.
    pub number: u64,
    /// Status.
    pub status: SectorStatus,
    /// CommR.
    #[serde(with = "serde_hex::node")]
    pub comm_r: Node,
    /// CommD.
    #[serde(with = "serde_hex::node")]
    pub comm_d: Node,
    /// The ticket used to seal (derived by the chain from the ticket epoch).
    #[serde(with = "serde_hex::node")]
    pub ticket: Node,
    /// Ticket epoch.
    pub ticket_epoch: Epoch,
    /// Pre-commit epoch.
    pub precommit_epoch: Epoch,
    /// The seal seed is drawn at this epoch; prove-commit is possible after it.
    pub seed_epoch: Epoch,
    /// Activation epoch (if proven).
    pub activation: Option<Epoch>,
    /// Expiration epoch.
    pub expiration: Epoch,
    /// Deals in the sector.
    pub deals: Vec<DealId>,
    /// Pre-commit deposit (while pre-committed).
    pub precommit_deposit: Token,
    /// Initial pledge (once active).
    pub initial_pledge: Token,
    /// Quality-adjusted power when active.
    pub qa_power: u128,
    /// Deadline and partition (once active).
    pub location: Option<(u64, u64)>,
    /// When it became faulty.
    pub faulty_since: Option<Epoch>,
}

/// A partition of a deadline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionInfo {
    /// Index within the deadline.
    pub index: u64,
    /// Sectors (live ones; terminated and expired are removed).
    pub sectors: Vec<u64>,
    /// Faulty ones.
    pub faulty: Vec<u64>,
    /// Declared recovering.
    pub recovering: Vec<u64>,
    /// Proven in the current window.
    pub proven: bool,
}

/// A deadline with its partitions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineInfo {
    /// Timing of its current or next instance.
    pub timing: DeadlineTiming,
    /// Partitions.
    pub partitions: Vec<PartitionInfo>,
}

/// A deal's life stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DealStatus {
    /// Published; funds locked; waiting for the sector's prove-commit.
    Published,
    /// In a proven sector; paying per epoch.
    Active,
    /// Ran to its end epoch; settled.
    Expired,
    /// The provider failed it (missed activation, sector terminated); collateral burnt.
    Slashed,
}

/// A verified deal's term limits (Filecoin's verified allocation), in epochs: its space counts as
/// verified only in a sector that lives between `min` and `max` epochs after its activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedTerm {
    /// term_min: the deal's duration.
    pub min: Epoch,
    /// term_max: term_min + the term buffer.
    pub max: Epoch,
}

impl VerifiedTerm {
    /// Whether a sector living `life` epochs after activation fits the term.
    pub fn fits(&self, life: Epoch) -> bool {
        self.min <= life && life <= self.max
    }
}

/// A deal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealInfo {
    /// Id.
    pub id: DealId,
    /// The proposal as signed.
    pub proposal: DealProposal,
    /// Status.
    pub status: DealStatus,
    /// Sector holding it, once pre-committed.
    pub sector: Option<u64>,
    /// Activation epoch.
    pub activation: Option<Epoch>,
    /// Payments settled up to this epoch.
    pub settled_until: Epoch,
    /// Paid to the provider so far.
    pub paid: Token,
    /// Epoch it was slashed.
    pub slashed_at: Option<Epoch>,
    /// A verified deal's term limits (`None` for an unverified deal).
    #[serde(default)]
    pub verified_term: Option<VerifiedTerm>,
    /// For a permanent replica: the piece and slot it stores (its proposal is made by the
    /// chain: no price, no end — it lives as long as its sector).
    #[serde(default)]
    pub permanent: Option<ReplicaRef>,
}

/// A permanent piece's replica slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReplicaRef {
    /// The permanent piece.
    pub piece: u64,
    /// The slot.
    pub slot: u64,
}

/// A holder of tokens whose balance an event changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pot {
    /// An account's spendable balance.
    Balance(Address),
    /// An account's free market escrow.
    Escrow(Address),
    /// An account's locked market escrow.
    EscrowLocked(Address),
    /// A miner's available balance.
    MinerAvailable(MinerId),
    /// A miner's pre-commit deposits.
    MinerPrecommit(MinerId),
    /// A miner's locked initial pledge.
    MinerPledge(MinerId),
    /// A miner's vesting rewards.
    MinerVesting(MinerId),
    /// A miner's free market escrow.
    MinerEscrow(MinerId),
    /// A miner's locked market escrow (provider collateral).
    MinerEscrowLocked(MinerId),
    /// New tokens (block rewards).
    Mint,
    /// Destroyed tokens.
    Burn,
    /// A miner's fee debt (not tokens; recorded when a penalty could not be paid).
    FeeDebt(MinerId),
    /// The permanent-storage endowment.
    Endowment,
    /// Upfront shares of permanent fees, held until each replica first activates.
    EndowmentUpfront,
}

impl Pot {
    /// The account or miner the pot belongs to, as a string (`s1…`, `m1000`), if any.
    pub fn owner(&self) -> Option<String> {
        use Pot::*;
        match self {
            Balance(a) | Escrow(a) | EscrowLocked(a) => Some(a.to_string()),
            MinerAvailable(m) | MinerPrecommit(m) | MinerPledge(m) | MinerVesting(m)
            | MinerEscrow(m) | MinerEscrowLocked(m) | FeeDebt(m) => {
                Some(crate::types::miner_name(*m))
            }
            Mint | Burn | Endowment | EndowmentUpfront => None,
        }
    }
}

/// One balance change: `amount` moved from one pot to another, at `epoch`, for `why`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Epoch applied.
    pub epoch: Epoch,
    /// Taken from.
    pub from: Pot,
    /// Given to.
    pub to: Pot,
    /// Amount.
    pub amount: Token,
    /// Why (`precommit_deposit`, `fault_fee`, `deal_payment`, …) and what it concerns.
    pub why: String,
}

/// Which events to return.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFilter {
    /// Only events touching this account or miner (`s1…` or `m1000`).
    pub who: Option<String>,
    /// From this epoch on.
    pub since: Option<Epoch>,
    /// At most this many (the latest).
    pub limit: Option<usize>,
}

/// What became of a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The message id.
    pub id: String,
    /// Applied at this epoch; `None` while pending.
    pub epoch: Option<Epoch>,
    /// The method.
    pub method: String,
    /// What it returned (the new miner's id, the deal ids, …).
    pub result: serde_json::Value,
}

/// A proof the chain accepted, as a proof file an auditor can re-verify offline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProofRecord {
    /// Epoch applied.
    pub epoch: Epoch,
    /// Miner.
    pub miner: MinerId,
    /// What it proved (`seal sector 3`, `window deadline 2 partition 0`, `winning epoch 17`).
    pub what: String,
    /// The proof file, with the public inputs the chain derived.
    pub file: strata_prover::proof_file::ProofFile,
    /// The randomness behind the proof's public inputs: an auditor re-derives each value from
    /// the verified beacon entry of its epoch and checks the proof used exactly it.
    pub draws: Vec<Draw>,
    /// A WinningPoSt's recall proof, with what it was checked against.
    #[serde(default)]
    pub recall: Option<crate::permanent::RecallRecord>,
    /// For a seal proven inside an aggregate (`ProveCommitAggregate`): the aggregate. The
    /// record's `file` then carries the sector's public inputs and no proof of its own
    /// (`proofs` is empty); the aggregate proof is in the record of the aggregate's first
    /// sector. [`ProofRecord::aggregates`] regroups the records of each aggregate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<AggregateRecord>,
}

/// Where a sector's seal proof went into an aggregate of seal proofs (SnarkPack in Filecoin).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregateRecord {
    /// The sectors the aggregate proves, ascending: the order of its public inputs. The
    /// aggregate is named by its epoch, its miner and `sectors[0]`.
    pub sectors: Vec<u64>,
    /// What the aggregate was verified with beside the Groth16 key named in each file: the
    /// digest of the aggregation parameters (SnarkPack's SRS); `test-hash-verifier` for the
    /// chain's test double.
    pub srs_digest: String,
    /// The aggregate proof, hex: only in the record of `sectors[0]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<String>,
}

/// One aggregate of seal proofs, regrouped from its records.
#[derive(Clone, Debug, PartialEq)]
pub struct Aggregate<'a> {
    /// The aggregate proof, hex.
    pub proof: &'a str,
    /// The aggregation parameters' digest.
    pub srs_digest: &'a str,
    /// One record per sector, in the aggregate's order (ascending sector numbers): each file's
    /// public inputs are what the aggregate must be verified against.
    pub members: Vec<&'a ProofRecord>,
}

impl Aggregate<'_> {
    /// The aggregate as the aggregate proof file an auditor verifies offline
    /// (`AggregateFile::verify` with the parameter directory): the members' proof type, key
    /// and public inputs, in order, with the aggregate proof.
    pub fn to_file(&self) -> strata_prover::aggregate_file::AggregateFile {
        let first = &self.members[0].file;
        strata_prover::aggregate_file::AggregateFile {
            format: strata_prover::aggregate_file::FORMAT.into(),
            version: strata_prover::aggregate_file::AGG_VERSION,
            proof_type: first.proof_type,
            vk_digest: first.vk_digest.clone(),
            srs_digest: self.srs_digest.to_string(),
            statements: self.members.iter().map(|r| r.file.public.clone()).collect(),
            aggregate: self.proof.to_string(),
        }
    }
}

impl ProofRecord {
    /// Whether this record's proof is inside an aggregate (its file has no proof of its own).
    pub fn is_aggregated(&self) -> bool {
        self.aggregate.is_some()
    }

    /// Regroups the aggregated records among `records` by aggregate (epoch, miner, first sector),
    /// in each aggregate's order. An aggregate whose records are not all present, or whose first
    /// record lacks the proof, is returned as an error naming it, so an auditor reports it
    /// rather than skipping it.
    pub fn aggregates(records: &[ProofRecord]) -> Vec<Result<Aggregate<'_>, String>> {
        let mut groups: std::collections::BTreeMap<(Epoch, MinerId, u64), Vec<&ProofRecord>> =
            Default::default();
        for r in records {
            if let Some(a) = &r.aggregate {
                let first = a.sectors.first().copied().unwrap_or_default();
                groups.entry((r.epoch, r.miner, first)).or_default().push(r);
            }
        }
        groups
            .into_iter()
            .map(|((epoch, miner, first), members)| {
                let name = format!("aggregate of m{miner} at epoch {epoch} from sector {first}");
                let head = members[0].aggregate.as_ref().expect("aggregated");
                let sector_of = |r: &ProofRecord| match &r.file.public {
                    strata_prover::proof_file::PublicData::Porep { inputs } => {
                        Some(inputs.sector_number)
                    }
                    _ => None,
                };
                let mut ordered = Vec::with_capacity(head.sectors.len());
                for n in &head.sectors {
                    let r = members
                        .iter()
                        .find(|r| sector_of(r) == Some(*n))
                        .ok_or_else(|| format!("{name}: no record for sector {n}"))?;
                    ordered.push(*r);
                }
                let disagree = members.iter().any(|r| {
                    let a = r.aggregate.as_ref().expect("aggregated");
                    a.sectors != head.sectors || a.srs_digest != head.srs_digest
                });
                if ordered.len() != members.len() || disagree {
                    return Err(format!("{name}: its records disagree on its sectors"));
                }
                let proof = ordered[0]
                    .aggregate
                    .as_ref()
                    .and_then(|a| a.proof.as_deref())
                    .ok_or_else(|| format!("{name}: the first sector's record has no proof"))?;
                Ok(Aggregate {
                    proof,
                    srs_digest: &head.srs_digest,
                    members: ordered,
                })
            })
            .collect()
    }
}

/// One value drawn from the beacon: which purpose, epoch and drawer, and the value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draw {
    /// The purpose.
    pub tag: crate::types::RandomnessTag,
    /// The epoch whose beacon entry it is drawn from.
    pub epoch: Epoch,
    /// The drawer's entropy (a miner id, or 0).
    pub entropy: u64,
    /// The value.
    #[serde(with = "serde_hex::node")]
    pub value: Node,
}

/// The epoch's block winner and what it must prove.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WinningTicket {
    /// The epoch won.
    pub epoch: Epoch,
    /// The winner.
    pub miner: MinerId,
    /// The WinningPoSt randomness.
    #[serde(with = "serde_hex::node")]
    pub randomness: Node,
    /// The proving set (sector numbers) the challenged sector is drawn from.
    pub sectors: Vec<u64>,
    /// The proof must land by this epoch (inclusive).
    pub deadline: Epoch,
    /// The reward at stake.
    pub reward: Token,
    /// Whether it was claimed.
    pub claimed: bool,
    /// The recall chunk the winner must show for the reward's permanent-storage share (none
    /// while the weave is empty).
    #[serde(default)]
    pub recall: Option<crate::permanent::RecallTarget>,
}
