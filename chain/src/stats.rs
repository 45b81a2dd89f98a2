//! The network's economics, as `chain_stats` ([`ChainApi::stats`]) serves them to
//! `strata chain stats` and the devnet dashboard ([`NetworkStats`]).
//!
//! # What each figure means
//!
//! Everything is read from the **committed** state (the last applied epoch, not the pending
//! messages) and from the blocks' balance events.
//!
//! - **Raw power** (`now.raw_power`, `MinerStats::raw_power`): bytes of sectors that are
//!   *active* (proven and proving) — sector count × sector size. Faulty sectors have no power.
//! - **Quality-adjusted power** (`qa_power`): the same sectors weighted as the election and the
//!   pledge see them: a sector's raw size plus 9× its verified deal space (the space of verified
//!   deals whose term fits the sector's life), so a fully verified sector counts 10×.
//! - **Committed bytes** (`now.committed_bytes`): bytes of sectors committed and still proving —
//!   active, faulty or declared recovering — × sector size. Pre-committed, terminated and
//!   expired sectors are not counted.
//! - **Deal bytes** (`deal_bytes`): padded piece bytes of *active* deals (status `Active`: in a
//!   proven sector, paying) whose sector is one of those committed sectors. Permanent-storage
//!   replicas are deals too and count. **Verified bytes** (`verified_bytes`): of those, the
//!   deals published as verified (paid with DataCap), whether or not their term lets them count
//!   10× in QA power.
//! - **Share of committed storage holding client data** ([`Snapshot::deal_share_ppm`]): deal
//!   bytes / committed bytes, in parts per million; the rest of the committed space is
//!   committed capacity (zeros). The verified share is verified bytes / committed bytes.
//!   Both are 0 when nothing is committed (never a division by zero).
//! - **Per miner** ([`MinerStats`]): the same definitions over one miner's sectors and deals;
//!   `active_sectors` counts active sectors, `faulty_sectors` faulty and recovering ones;
//!   `blocks_won` counts the blocks whose WinningPoSt landed and whose reward was minted.
//! - **Supply** (`supply`): genesis balances, tokens minted as block rewards and tokens burnt
//!   since genesis (the state's own counters): total = genesis + minted − burnt.
//! - **Block reward** (`epoch_reward`): what the next epoch's winner is minted if its
//!   WinningPoSt lands (the exponentially decaying reward).
//! - **Deal payments** (`deal_payments_total`, `DayStats::deal_payments`): tokens moved from
//!   clients' locked escrow to providers by deal settlement (`deal_payment` events), since
//!   genesis; equal to the sum of every deal's `paid`.
//! - **Days** ([`DayStats`]): day `d` is epochs `d × epochs_per_day ..= (d + 1) ×
//!   epochs_per_day − 1`. Per day, from every block's events: **minted** = events from
//!   `Pot::Mint` (block rewards, the immediate quarter and the vesting rest); **deal payments**
//!   as above; **burnt** = events to `Pot::Burn` (fees, penalties, forfeited deposits, slashed
//!   collateral, repaid fee debt); **endowment payouts** = events from the permanent-storage
//!   endowment pool to a miner. `end` is the network (power and storage, as above) after the
//!   day's last applied epoch — recorded with each block when it is committed; a block written
//!   before blocks carried it leaves the day with the snapshot of its latest block that has one,
//!   or zeros. Every epoch applies a block, even an empty one, so every day from genesis to the
//!   head is listed — a day in which no token moved shows zeros, with its snapshot. At most the
//!   last [`NetworkStats::DAYS_KEPT`] days are returned, oldest first (the totals above still
//!   cover every day since genesis).
//! - **Beacon** (`beacon`): the entries of the latest [`NetworkStats::BEACON_ROUNDS`] epochs,
//!   newest first: the epoch, the beacon round it used, and its randomness (SHA-256 of the
//!   round's signature, hex) from which every draw of that epoch is made.
//! - **Endowment** (`endowment`): the permanent-storage endowment as `chain_endowment` reports
//!   it (pool, obligations, years covered).
//!
//! # Cost
//!
//! The dashboard asks every few seconds, so the per-day sums are not recomputed from every
//! block per call: [`Accumulator`] keeps the days so far and the deal payment total in memory,
//! and each call folds in only the blocks committed since the previous one (reading only their
//! epoch, events and snapshot). It is built from the store at the first call after the node
//! opens. The `now` figures are computed from the committed state at each call (one pass over
//! sectors and deals).
//!
//! [`ChainApi::stats`]: strata_chain_client::ChainApi::stats

use crate::state::State;
use crate::store::{BlockSummary, Store};
use std::collections::{BTreeMap, VecDeque};
use strata_chain_client::stats::{DayStats, MinerStats, NetworkStats, Snapshot};
use strata_chain_client::types::{Epoch, MinerId};
use strata_chain_client::views::{DealStatus, Event, Pot, SectorStatus};
use strata_chain_client::{ChainError, Token};

/// The first word of a deal payment event's `why` (`deal_payment deal 7`, see `market::settle`).
pub const DEAL_PAYMENT: &str = "deal_payment";

/// Whether a sector in this status is committed storage (active, faulty or recovering).
pub fn is_committed(status: SectorStatus) -> bool {
    matches!(
        status,
        SectorStatus::Active | SectorStatus::Faulty | SectorStatus::Recovering
    )
}

/// Whether an event is a deal payment (client to provider, by settlement).
pub fn is_deal_payment(e: &Event) -> bool {
    e.why.split(' ').next() == Some(DEAL_PAYMENT)
}

/// Whether an event is a payout from the permanent-storage endowment to a miner.
pub fn is_endowment_payout(e: &Event) -> bool {
    e.from == Pot::Endowment
        && matches!(
            e.to,
            Pot::MinerAvailable(_)
                | Pot::MinerEscrow(_)
                | Pot::MinerEscrowLocked(_)
                | Pot::MinerPledge(_)
                | Pot::MinerPrecommit(_)
        )
}

fn add(a: &mut Token, b: Token) {
    *a = Token(a.0.saturating_add(b.0));
}

/// Every miner's figures, by id (see the module documentation for the definitions).
pub fn miner_stats(s: &State) -> Vec<MinerStats> {
    let mut out: BTreeMap<MinerId, MinerStats> = BTreeMap::new();
    for (id, m) in &s.miners {
        let (raw_power, qa_power) = s.miner_power(*id);
        let (mut active_sectors, mut faulty_sectors) = (0, 0);
        for sec in m.sectors.values() {
            match sec.status {
                SectorStatus::Active => active_sectors += 1,
                SectorStatus::Faulty | SectorStatus::Recovering => faulty_sectors += 1,
                _ => {}
            }
        }
        out.insert(
            *id,
            MinerStats {
                id: *id,
                sector_size: crate::rules::sector_size(m.proof_type),
                raw_power,
                qa_power,
                active_sectors,
                faulty_sectors,
                deal_bytes: 0,
                verified_bytes: 0,
                blocks_won: m.blocks_won,
            },
        );
    }
    for d in s.deals.values() {
        if d.status != DealStatus::Active {
            continue;
        }
        let provider = d.proposal.provider;
        let held = d
            .sector
            .and_then(|n| s.miners.get(&provider)?.sectors.get(&n))
            .is_some_and(|sec| is_committed(sec.status));
        if !held {
            continue;
        }
        if let Some(ms) = out.get_mut(&provider) {
            ms.deal_bytes = ms.deal_bytes.saturating_add(d.proposal.piece_size);
            if d.proposal.verified {
                ms.verified_bytes = ms.verified_bytes.saturating_add(d.proposal.piece_size);
            }
        }
    }
    out.into_values().collect()
}

/// The network in state `s`, from its miners' figures.
pub fn snapshot_of(epoch: Epoch, miners: &[MinerStats]) -> Snapshot {
    let mut snap = Snapshot {
        epoch,
        ..Snapshot::default()
    };
    for m in miners {
        snap.raw_power += m.raw_power;
        snap.qa_power += m.qa_power;
        snap.committed_bytes +=
            (m.active_sectors as u128 + m.faulty_sectors as u128) * m.sector_size as u128;
        snap.deal_bytes += m.deal_bytes as u128;
        snap.verified_bytes += m.verified_bytes as u128;
    }
    snap
}

/// The network in state `s` (what each block records).
pub fn snapshot(s: &State) -> Snapshot {
    snapshot_of(s.epoch, &miner_stats(s))
}

/// The per-day sums so far, kept by the node and brought up to date at each call.
#[derive(Clone, Debug)]
pub struct Accumulator {
    /// The first epoch not folded in yet (blocks start at epoch 1).
    next: Epoch,
    /// The latest days, oldest first (at most [`NetworkStats::DAYS_KEPT`]).
    days: VecDeque<DayStats>,
    /// Deal payments since genesis.
    deal_payments_total: Token,
}

impl Default for Accumulator {
    fn default() -> Self {
        Accumulator::new()
    }
}

impl Accumulator {
    /// Nothing folded in yet.
    pub fn new() -> Accumulator {
        Accumulator {
            next: 1,
            days: VecDeque::new(),
            deal_payments_total: Token::ZERO,
        }
    }

    /// The first epoch not folded in yet.
    pub fn next_epoch(&self) -> Epoch {
        self.next
    }

    /// Folds in one block (of an epoch after every block folded so far).
    pub fn fold(&mut self, epochs_per_day: i64, b: &BlockSummary) {
        let per_day = epochs_per_day.max(1);
        let day = b.epoch.div_euclid(per_day);
        if self.days.back().map(|d| d.day) != Some(day) {
            self.days.push_back(DayStats {
                day,
                first_epoch: day * per_day,
                last_epoch: b.epoch,
                ..DayStats::default()
            });
            while self.days.len() > NetworkStats::DAYS_KEPT {
                self.days.pop_front();
            }
        }
        let d = self.days.back_mut().expect("just pushed");
        d.last_epoch = b.epoch;
        for e in &b.events {
            if e.from == Pot::Mint {
                add(&mut d.minted, e.amount);
            }
            if e.to == Pot::Burn {
                add(&mut d.burnt, e.amount);
            }
            if is_deal_payment(e) {
                add(&mut d.deal_payments, e.amount);
                add(&mut self.deal_payments_total, e.amount);
            }
            if is_endowment_payout(e) {
                add(&mut d.endowment_payouts, e.amount);
            }
        }
        if let Some(s) = &b.stats {
            d.end = s.clone();
        }
        self.next = self.next.max(b.epoch + 1);
    }

    /// Folds in the blocks of epochs from [`Accumulator::next_epoch`] to `head`, read from
    /// `store`. On an error, what was folded stays folded and the next call goes on from there.
    pub fn catch_up(
        &mut self,
        store: &Store,
        epochs_per_day: i64,
        head: Epoch,
    ) -> Result<(), ChainError> {
        if head < self.next {
            return Ok(());
        }
        store.for_each_summary(self.next, head, |b| {
            self.fold(epochs_per_day, &b);
            Ok(())
        })?;
        self.next = self.next.max(head + 1);
        Ok(())
    }

    /// The days, oldest first.
    pub fn days(&self) -> Vec<DayStats> {
        self.days.iter().cloned().collect()
    }

    /// Deal payments since genesis.
    pub fn deal_payments_total(&self) -> Token {
        self.deal_payments_total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_chain_client::Address;

    fn ev(from: Pot, to: Pot, amount: u128, why: &str) -> Event {
        Event {
            epoch: 0,
            from,
            to,
            amount: Token(amount),
            why: why.into(),
        }
    }

    #[test]
    fn folds_events_into_days_and_keeps_the_latest_snapshot() {
        let a = Address([1; 20]);
        let mut acc = Accumulator::new();
        let snap = |epoch| Snapshot {
            epoch,
            raw_power: epoch as u128,
            ..Snapshot::default()
        };
        let block = |epoch, events, stats| BlockSummary {
            epoch,
            events,
            stats,
        };
        acc.fold(
            10,
            &block(
                3,
                vec![
                    ev(
                        Pot::Mint,
                        Pot::MinerAvailable(1000),
                        5,
                        "block_reward epoch 2",
                    ),
                    ev(
                        Pot::Mint,
                        Pot::MinerVesting(1000),
                        15,
                        "block_reward epoch 2",
                    ),
                    ev(
                        Pot::EscrowLocked(a),
                        Pot::MinerEscrow(1000),
                        7,
                        "deal_payment deal 0",
                    ),
                    ev(Pot::MinerAvailable(1000), Pot::Burn, 2, "fault_fee"),
                    ev(
                        Pot::Endowment,
                        Pot::MinerEscrow(1000),
                        4,
                        "endowment_payout deal 1 due 3",
                    ),
                    ev(Pot::EndowmentUpfront, Pot::Endowment, 9, "permanent_fee"),
                    ev(Pot::Escrow(a), Pot::EscrowLocked(a), 8, "deal_lock_client"),
                ],
                Some(snap(3)),
            ),
        );
        // A block without a snapshot (written before blocks carried one) keeps the last one.
        acc.fold(10, &block(9, vec![], None));
        acc.fold(10, &block(10, vec![], None));
        let days = acc.days();
        assert_eq!(days.len(), 2);
        let d0 = &days[0];
        assert_eq!((d0.day, d0.first_epoch, d0.last_epoch), (0, 0, 9));
        assert_eq!(
            (d0.minted, d0.deal_payments, d0.burnt, d0.endowment_payouts),
            (Token(20), Token(7), Token(2), Token(4))
        );
        assert_eq!(d0.end, snap(3));
        let d1 = &days[1];
        assert_eq!((d1.day, d1.first_epoch, d1.last_epoch), (1, 10, 10));
        assert_eq!(d1.end, Snapshot::default(), "no snapshot yet: zeros");
        assert_eq!(acc.deal_payments_total(), Token(7));
        assert_eq!(acc.next_epoch(), 11);
    }

    #[test]
    fn keeps_only_the_latest_days() {
        let mut acc = Accumulator::new();
        let n = NetworkStats::DAYS_KEPT as i64 + 5;
        for e in 1..=n {
            acc.fold(
                1,
                &BlockSummary {
                    epoch: e,
                    events: vec![ev(Pot::Mint, Pot::MinerAvailable(1), 1, "r")],
                    stats: None,
                },
            );
        }
        let days = acc.days();
        assert_eq!(days.len(), NetworkStats::DAYS_KEPT);
        assert_eq!(days.last().unwrap().day, n);
        assert_eq!(days[0].day, n - NetworkStats::DAYS_KEPT as i64 + 1);
    }

    #[test]
    fn shares_of_nothing_are_zero() {
        let s = snapshot_of(5, &[]);
        assert_eq!(
            s,
            Snapshot {
                epoch: 5,
                ..Snapshot::default()
            }
        );
        assert_eq!((s.deal_share_ppm(), s.verified_share_ppm()), (0, 0));
    }
}
