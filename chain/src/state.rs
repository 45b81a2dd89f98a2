//! The ledger's state: accounts, miners with their sectors and deadlines, deals, open WinningPoSt
//! tickets and the supply. Everything is in ordered maps so the serialised form — and the state
//! root, its BLAKE3 — is canonical.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use strata_chain_client::types::{DealId, DealProposal, Epoch, MinerId};
use strata_chain_client::views::{
    DealStatus, Event, ProofRecord, SectorStatus, Supply, WinningTicket,
};
use strata_chain_client::{Address, Token};
use strata_primitives::node::Node;
use strata_primitives::serde_hex;

/// An account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Spendable.
    pub balance: Token,
    /// Next nonce.
    pub nonce: u64,
    /// Free market escrow.
    pub escrow_free: Token,
    /// Locked market escrow.
    pub escrow_locked: Token,
    /// DataCap, bytes.
    pub datacap: u64,
}

/// A sector as the chain knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sector {
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
    /// The ticket, drawn by the chain at `ticket_epoch`.
    #[serde(with = "serde_hex::node")]
    pub ticket: Node,
    /// Ticket epoch.
    pub ticket_epoch: Epoch,
    /// Pre-commit epoch.
    pub precommit_epoch: Epoch,
    /// Activation epoch.
    pub activation: Option<Epoch>,
    /// Expiration epoch.
    pub expiration: Epoch,
    /// Deals.
    pub deals: Vec<DealId>,
    /// Deposit held while pre-committed.
    pub precommit_deposit: Token,
    /// Pledge locked while active.
    pub initial_pledge: Token,
    /// Verified deal space, bytes.
    pub verified_space: u64,
    /// Deadline and partition once active.
    pub location: Option<(u64, u64)>,
    /// When it became faulty.
    pub faulty_since: Option<Epoch>,
}

/// A partition: sector numbers and whether the current window's post landed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    /// Live sectors (active, faulty or recovering).
    pub sectors: Vec<u64>,
    /// Proven in the current window.
    pub proven: bool,
}

/// A deadline: its partitions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// Partitions.
    pub partitions: Vec<Partition>,
}

/// A miner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Miner {
    /// Owner.
    pub owner: Address,
    /// Worker.
    pub worker: Address,
    /// Proof type id.
    pub proof_type: u64,
    /// Deal endpoint.
    pub deal_endpoint: String,
    /// First epoch of its first proving period.
    pub proving_period_start: Epoch,
    /// Withdrawable.
    pub available: Token,
    /// Pre-commit deposits.
    pub precommit_deposits: Token,
    /// Locked pledge.
    pub locked_pledge: Token,
    /// Vesting rewards: amount unlocking at each epoch.
    pub vesting: BTreeMap<Epoch, Token>,
    /// Unpaid penalties.
    pub fee_debt: Token,
    /// Free market escrow.
    pub escrow_free: Token,
    /// Locked market escrow (provider collateral).
    pub escrow_locked: Token,
    /// Sectors by number (all, including ended ones: numbers are never reused).
    pub sectors: BTreeMap<u64, Sector>,
    /// Deadlines.
    pub deadlines: Vec<Deadline>,
    /// Blocks won and rewarded.
    pub blocks_won: u64,
}

impl Miner {
    /// A new miner with no balances and no sectors.
    pub fn new(
        owner: Address,
        worker: Address,
        proof_type: u64,
        deal_endpoint: String,
        proving_period_start: Epoch,
        deadlines: usize,
    ) -> Miner {
        Miner {
            owner,
            worker,
            proof_type,
            deal_endpoint,
            proving_period_start,
            available: Token::ZERO,
            precommit_deposits: Token::ZERO,
            locked_pledge: Token::ZERO,
            vesting: BTreeMap::new(),
            fee_debt: Token::ZERO,
            escrow_free: Token::ZERO,
            escrow_locked: Token::ZERO,
            sectors: BTreeMap::new(),
            deadlines: vec![Deadline::default(); deadlines],
            blocks_won: 0,
        }
    }

    /// Total vesting.
    pub fn vesting_total(&self) -> Token {
        self.vesting.values().copied().sum()
    }
}

/// A deal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deal {
    /// The proposal.
    pub proposal: DealProposal,
    /// Status.
    pub status: DealStatus,
    /// Sector holding it (from pre-commit).
    pub sector: Option<u64>,
    /// Activation.
    pub activation: Option<Epoch>,
    /// Paid up to.
    pub settled_until: Epoch,
    /// Paid so far.
    pub paid: Token,
    /// Slashed at.
    pub slashed_at: Option<Epoch>,
}

/// The whole ledger state after an epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Last applied epoch.
    pub epoch: Epoch,
    /// Accounts.
    pub accounts: BTreeMap<Address, Account>,
    /// Miners.
    pub miners: BTreeMap<MinerId, Miner>,
    /// Next miner id.
    pub next_miner_id: MinerId,
    /// Deals.
    pub deals: BTreeMap<DealId, Deal>,
    /// Next deal id.
    pub next_deal_id: DealId,
    /// Supply.
    pub supply: Supply,
    /// Open WinningPoSt tickets.
    pub winning: Vec<WinningTicket>,
    /// Events of the epoch being built (not part of the state root; stored with the block).
    #[serde(skip)]
    pub events: Vec<Event>,
    /// Proofs accepted in the epoch being built (stored with the block).
    #[serde(skip)]
    pub proofs: Vec<ProofRecord>,
}

impl State {
    /// BLAKE3 of the canonical serialisation.
    pub fn root(&self) -> Node {
        *blake3::hash(&serde_json::to_vec(self).expect("state serialises")).as_bytes()
    }

    /// Quality-adjusted and raw power of a miner's active sectors.
    pub fn miner_power(&self, id: MinerId) -> (u128, u128) {
        let Some(m) = self.miners.get(&id) else {
            return (0, 0);
        };
        let size = crate::rules::sector_size(m.proof_type);
        m.sectors
            .values()
            .filter(|s| s.status == SectorStatus::Active)
            .fold((0, 0), |(raw, qa), s| {
                (
                    raw + size as u128,
                    qa + crate::rules::qa_power(size, s.verified_space),
                )
            })
    }

    /// Network raw and quality-adjusted power.
    pub fn network_power(&self) -> (u128, u128) {
        self.miners
            .keys()
            .map(|id| self.miner_power(*id))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    }

    /// Tokens locked in pledges, deposits and vesting.
    pub fn locked_total(&self) -> Token {
        self.miners
            .values()
            .map(|m| Token(m.locked_pledge.0 + m.precommit_deposits.0 + m.vesting_total().0))
            .sum()
    }

    /// Sum of every token balance.
    pub fn balances_total(&self) -> u128 {
        let accounts: u128 = self
            .accounts
            .values()
            .map(|a| a.balance.0 + a.escrow_free.0 + a.escrow_locked.0)
            .sum();
        let miners: u128 = self
            .miners
            .values()
            .map(|m| {
                m.available.0
                    + m.precommit_deposits.0
                    + m.locked_pledge.0
                    + m.vesting_total().0
                    + m.escrow_free.0
                    + m.escrow_locked.0
            })
            .sum();
        accounts + miners
    }

    /// The supply invariant: total supply = genesis + minted − burnt = the sum of all balances,
    /// and every miner's and deal's bookkeeping agrees with the balances it backs.
    pub fn check_invariants(&self) -> Result<(), String> {
        let total = self.supply.total().0;
        let sum = self.balances_total();
        if total != sum {
            return Err(format!(
                "supply {total} ≠ sum of balances {sum} at epoch {}",
                self.epoch
            ));
        }
        for (id, m) in &self.miners {
            let deposits: Token = m
                .sectors
                .values()
                .filter(|s| s.status == SectorStatus::Precommitted)
                .map(|s| s.precommit_deposit)
                .sum();
            if deposits != m.precommit_deposits {
                return Err(format!(
                    "miner {id}: deposits {} ≠ pre-committed sectors' {}",
                    m.precommit_deposits.0, deposits.0
                ));
            }
        }
        Ok(())
    }
}
