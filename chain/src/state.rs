//! The ledger's state: accounts, miners with their sectors and deadlines, deals, open WinningPoSt
//! tickets and the supply. Everything is in ordered maps so the serialised form — and the state
//! root, its BLAKE3 — is canonical.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use strata_chain_client::types::{DealId, DealProposal, Epoch, MinerId};
use strata_chain_client::views::{
    DealStatus, Event, ProofRecord, ReplicaRef, SectorStatus, Supply, VerifiedTerm, WinningTicket,
};
use strata_chain_client::{Address, Token};
use strata_primitives::node::Node;
use strata_primitives::serde_hex;
use thiserror::Error;

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
    /// Verified deal space, bytes: set at prove-commit, counting each verified deal whose term
    /// fits the sector's life from activation to expiration.
    pub verified_space: u64,
    /// Deadline and partition once active.
    pub location: Option<(u64, u64)>,
    /// When it became faulty.
    pub faulty_since: Option<Epoch>,
}

/// A partition: sector numbers, whether the current window's post landed, and the sectors that
/// post skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    /// Live sectors (active, faulty or recovering).
    pub sectors: Vec<u64>,
    /// Proven in the current window.
    pub proven: bool,
    /// Sectors the current window's post skipped: they pay the fault fee at the deadline's end.
    #[serde(default)]
    pub skipped: Vec<u64>,
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
    /// A worker change asked for by the owner: the new worker and the epoch it may take over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_worker: Option<(Address, Epoch)>,
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
            pending_worker: None,
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
    /// A verified deal's term limits, set at publication.
    #[serde(default)]
    pub verified_term: Option<VerifiedTerm>,
    /// For a permanent replica deal (made by the chain at `ClaimReplica`): its piece and slot.
    #[serde(default)]
    pub permanent: Option<ReplicaRef>,
}

/// A published proposal, remembered while it could otherwise be published again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedProposal {
    /// The deal it became.
    pub deal: DealId,
    /// The deal's end epoch: the entry is pruned after it (a proposal whose start has passed
    /// cannot be published anyway).
    pub end_epoch: Epoch,
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
    /// Signed proposals already published, by hex BLAKE3 of their signing bytes, kept until the
    /// deal's end epoch so one client signature makes one deal.
    #[serde(default)]
    pub published_proposals: BTreeMap<String, PublishedProposal>,
    /// Permanent storage: the endowment, its pieces and their replica slots.
    #[serde(default)]
    pub endowment: crate::permanent::Endowment,
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

    /// The circulating supply: total supply less what is locked in pledges, deposits and
    /// vesting (the figure the pledge and collateral formulas scale with).
    pub fn circulating(&self) -> Token {
        Token(self.supply.total().0.saturating_sub(self.locked_total().0))
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
        accounts + miners + self.endowment.pool.0 + self.endowment.upfront.0
    }

    /// The money invariants (DESIGN §8), checked before every epoch commits and when the state
    /// is loaded: the supply adds up (genesis + minted − burnt = Σ every pot); per miner, locked
    /// pledge = Σ its live (active, faulty, recovering) sectors' initial pledge, pre-commit
    /// deposits = Σ its pre-committed sectors' deposits, no other sector holds pledge or deposit,
    /// and its locked escrow = Σ its open deals' provider collateral; per client, locked escrow
    /// = Σ its open (published or active) deals' unpaid price and client collateral; and the
    /// endowment's own books ([`crate::permanent::check`]).
    pub fn check_invariants(&self) -> Result<(), InvariantError> {
        crate::permanent::check(self).map_err(InvariantError::Endowment)?;
        let total = self.supply.total().0;
        let sum = self.balances_total();
        if total != sum {
            return Err(InvariantError::Supply {
                epoch: self.epoch,
                supply: Token(total),
                balances: Token(sum),
            });
        }
        for (id, m) in &self.miners {
            let (mut pledge, mut deposits) = (0u128, 0u128);
            for sec in m.sectors.values() {
                let live = matches!(
                    sec.status,
                    SectorStatus::Active | SectorStatus::Faulty | SectorStatus::Recovering
                );
                let pre = sec.status == SectorStatus::Precommitted;
                if (!live && !sec.initial_pledge.is_zero())
                    || (!pre && !sec.precommit_deposit.is_zero())
                {
                    return Err(InvariantError::SectorFunds {
                        miner: *id,
                        sector: sec.number,
                        status: sec.status,
                        pledge: sec.initial_pledge,
                        deposit: sec.precommit_deposit,
                    });
                }
                pledge = pledge.saturating_add(sec.initial_pledge.0);
                deposits = deposits.saturating_add(sec.precommit_deposit.0);
            }
            if Token(pledge) != m.locked_pledge {
                return Err(InvariantError::LockedPledge {
                    miner: *id,
                    locked: m.locked_pledge,
                    sectors: Token(pledge),
                });
            }
            if Token(deposits) != m.precommit_deposits {
                return Err(InvariantError::PrecommitDeposits {
                    miner: *id,
                    held: m.precommit_deposits,
                    sectors: Token(deposits),
                });
            }
        }
        let mut client_locked: BTreeMap<Address, u128> = BTreeMap::new();
        let mut provider_locked: BTreeMap<MinerId, u128> = BTreeMap::new();
        for d in self.deals.values() {
            if !matches!(d.status, DealStatus::Published | DealStatus::Active) {
                continue;
            }
            let p = &d.proposal;
            let owed = p
                .total_price()
                .and_then(|t| t.0.checked_sub(d.paid.0))
                .and_then(|t| t.checked_add(p.client_collateral.0))
                .unwrap_or(u128::MAX);
            let c = client_locked.entry(p.client).or_default();
            *c = c.saturating_add(owed);
            let m = provider_locked.entry(p.provider).or_default();
            *m = m.saturating_add(p.provider_collateral.0);
        }
        for (a, acc) in &self.accounts {
            let deals = Token(client_locked.remove(a).unwrap_or(0));
            if deals != acc.escrow_locked {
                return Err(InvariantError::ClientEscrow {
                    client: *a,
                    locked: acc.escrow_locked,
                    deals,
                });
            }
        }
        if let Some((a, owed)) = client_locked.into_iter().find(|(_, v)| *v > 0) {
            return Err(InvariantError::ClientEscrow {
                client: a,
                locked: Token::ZERO,
                deals: Token(owed),
            });
        }
        for (id, m) in &self.miners {
            let deals = Token(provider_locked.remove(id).unwrap_or(0));
            if deals != m.escrow_locked {
                return Err(InvariantError::ProviderEscrow {
                    miner: *id,
                    locked: m.escrow_locked,
                    deals,
                });
            }
        }
        if let Some((id, owed)) = provider_locked.into_iter().find(|(_, v)| *v > 0) {
            return Err(InvariantError::ProviderEscrow {
                miner: id,
                locked: Token::ZERO,
                deals: Token(owed),
            });
        }
        Ok(())
    }
}

/// A broken money invariant: a state that shows one must not be committed, nor opened from disk.
/// Each variant names the invariant and the holder whose books disagree.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum InvariantError {
    /// genesis + minted − burnt ≠ Σ of every pot.
    #[error("supply at epoch {epoch}: genesis + minted − burnt = {supply}, but the balances sum to {balances}")]
    Supply {
        /// The state's epoch.
        epoch: Epoch,
        /// genesis + minted − burnt.
        supply: Token,
        /// Σ of every pot.
        balances: Token,
    },
    /// A miner's locked pledge ≠ Σ of its live sectors' initial pledge.
    #[error("locked pledge of m{miner}: {locked} locked, but its live sectors' initial pledge sums to {sectors}")]
    LockedPledge {
        /// The miner.
        miner: MinerId,
        /// Its locked pledge.
        locked: Token,
        /// Σ of its live sectors' initial pledge.
        sectors: Token,
    },
    /// A miner's pre-commit deposits ≠ Σ of its pre-committed sectors' deposits.
    #[error("pre-commit deposits of m{miner}: {held} held, but its pre-committed sectors' deposits sum to {sectors}")]
    PrecommitDeposits {
        /// The miner.
        miner: MinerId,
        /// Its pre-commit deposits.
        held: Token,
        /// Σ of its pre-committed sectors' deposits.
        sectors: Token,
    },
    /// A sector holds pledge while not live, or a deposit while not pre-committed.
    #[error("sector {sector} of m{miner} is {status:?} but holds {pledge} of pledge and {deposit} of deposit")]
    SectorFunds {
        /// The miner.
        miner: MinerId,
        /// The sector.
        sector: u64,
        /// Its status.
        status: SectorStatus,
        /// Its initial pledge.
        pledge: Token,
        /// Its pre-commit deposit.
        deposit: Token,
    },
    /// A client's locked escrow ≠ Σ over its open deals of unpaid price + client collateral.
    #[error("locked escrow of client {client}: {locked} locked, but its open deals' unpaid price and client collateral sum to {deals}")]
    ClientEscrow {
        /// The client.
        client: Address,
        /// Its locked escrow.
        locked: Token,
        /// What its open deals can still pay or return.
        deals: Token,
    },
    /// The endowment's books disagree (upfront pot, weave, slots and replica deals).
    #[error("endowment: {0}")]
    Endowment(String),
    /// A provider's locked escrow ≠ Σ of its open deals' provider collateral.
    #[error("locked escrow of provider m{miner}: {locked} locked, but its open deals' provider collateral sums to {deals}")]
    ProviderEscrow {
        /// The miner.
        miner: MinerId,
        /// Its locked escrow.
        locked: Token,
        /// Σ of its open deals' provider collateral.
        deals: Token,
    },
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::{devnet_faucet, Genesis};
    use strata_chain_client::views::Pot;

    /// A sector with `status`, `pledge` and `deposit` (everything else zero).
    pub(crate) fn sector(number: u64, status: SectorStatus, pledge: u128, deposit: u128) -> Sector {
        Sector {
            number,
            status,
            comm_r: [0; 32],
            comm_d: [0; 32],
            ticket: [0; 32],
            ticket_epoch: 0,
            precommit_epoch: 0,
            activation: None,
            expiration: 1000,
            deals: vec![],
            precommit_deposit: Token(deposit),
            initial_pledge: Token(pledge),
            verified_space: 0,
            location: None,
            faulty_since: None,
        }
    }

    /// Miner 7 with a live sector pledged 300 and a pre-committed one holding 50 of deposit; a
    /// published deal of 10 epochs at 2 with client collateral 5 and provider collateral 7.
    fn consistent() -> State {
        let mut s = crate::exec::genesis_state(&Genesis::preset("devnet").unwrap());
        let a = devnet_faucet().address();
        s.miners.insert(7, Miner::new(a, a, 1, String::new(), 0, 0));
        let t = |s: &mut State, from, to, n| s.transfer(from, to, Token(n), "t").unwrap();
        t(&mut s, Pot::Balance(a), Pot::MinerAvailable(7), 1000);
        t(&mut s, Pot::MinerAvailable(7), Pot::MinerPledge(7), 300);
        t(&mut s, Pot::MinerAvailable(7), Pot::MinerPrecommit(7), 50);
        t(&mut s, Pot::Balance(a), Pot::Escrow(a), 100);
        t(&mut s, Pot::Escrow(a), Pot::EscrowLocked(a), 25);
        t(&mut s, Pot::Balance(a), Pot::MinerEscrow(7), 10);
        t(&mut s, Pot::MinerEscrow(7), Pot::MinerEscrowLocked(7), 7);
        let m = s.miners.get_mut(&7).unwrap();
        m.sectors.insert(1, sector(1, SectorStatus::Active, 300, 0));
        m.sectors
            .insert(2, sector(2, SectorStatus::Precommitted, 0, 50));
        m.sectors.insert(3, sector(3, SectorStatus::Expired, 0, 0));
        s.deals.insert(
            0,
            Deal {
                proposal: DealProposal {
                    network: "strata-devnet".into(),
                    piece_cid: [0; 32],
                    piece_size: 2048,
                    client: a,
                    provider: 7,
                    start_epoch: 10,
                    end_epoch: 20,
                    price_per_epoch: Token(2),
                    provider_collateral: Token(7),
                    client_collateral: Token(5),
                    verified: false,
                    label: String::new(),
                },
                status: DealStatus::Published,
                sector: None,
                activation: None,
                settled_until: 10,
                paid: Token::ZERO,
                slashed_at: None,
                verified_term: None,
                permanent: None,
            },
        );
        s
    }

    #[test]
    fn hand_corrupted_states_are_refused_naming_the_invariant() {
        let good = consistent();
        good.check_invariants().unwrap();
        type Corrupt = fn(&mut State);
        let cases: Vec<(&str, Corrupt)> = vec![
            ("supply at epoch 0", |s| s.supply.burnt.0 += 1),
            ("locked pledge of m7", |s| {
                s.miners
                    .get_mut(&7)
                    .unwrap()
                    .sectors
                    .get_mut(&1)
                    .unwrap()
                    .initial_pledge
                    .0 -= 1
            }),
            ("pre-commit deposits of m7", |s| {
                s.miners
                    .get_mut(&7)
                    .unwrap()
                    .sectors
                    .get_mut(&2)
                    .unwrap()
                    .precommit_deposit
                    .0 -= 1
            }),
            ("sector 3 of m7 is Expired but holds", |s| {
                let m = s.miners.get_mut(&7).unwrap();
                m.sectors.get_mut(&3).unwrap().initial_pledge.0 += 1;
                m.sectors.get_mut(&1).unwrap().initial_pledge.0 -= 1;
            }),
            ("locked escrow of client", |s| {
                s.deals.get_mut(&0).unwrap().paid.0 += 1
            }),
            ("locked escrow of client", |s| {
                s.deals.get_mut(&0).unwrap().status = DealStatus::Expired
            }),
            ("locked escrow of provider m7", |s| {
                s.deals.get_mut(&0).unwrap().proposal.provider_collateral.0 -= 1
            }),
        ];
        for (name, corrupt) in cases {
            let mut bad = good.clone();
            corrupt(&mut bad);
            let err = bad.check_invariants().expect_err(name);
            assert!(err.to_string().starts_with(name), "{name}: {err}");
        }
        // An active deal that has paid part of its price: the rest stays locked.
        let mut s = good.clone();
        s.deals.get_mut(&0).unwrap().status = DealStatus::Active;
        let a = devnet_faucet().address();
        s.transfer(Pot::EscrowLocked(a), Pot::MinerEscrow(7), Token(4), "pay")
            .unwrap();
        s.deals.get_mut(&0).unwrap().paid = Token(4);
        s.check_invariants().unwrap();
    }
}
