//! Permanent storage, Arweave-style (DESIGN §12): a client pays once; the upfront share waits in
//! its own pot for each replica's first activation; the rest is the endowment, which pays every
//! replica holder each proven period at that period's cost; a replica lost with its sector is
//! re-offered to any miner; a pool that falls short of what it owes raises the price of new
//! storage (Kryder+). The recall proof of the block reward lives in [`crate::rewards`].
//!
//! # Design notes
//!
//! - **A replica is a deal the chain makes.** `ClaimReplica` creates a deal for the piece with
//!   no price and no end (`end_epoch = Epoch::MAX`: it lives as long as its sector) and the
//!   minimum provider collateral; from there the ordinary machinery applies — the sector's
//!   pre-commit names the deal (CommD checked against its CommP), prove-commit activates it, a
//!   missed activation or a terminated sector slashes it (collateral burnt), an expiring sector
//!   ends it (collateral returned). Every way a replica deal stops re-opens its slot.
//! - **Distinct miners.** A miner may hold (or have claimed) one slot of a piece at most, so R
//!   replicas are R miners. Sybil miners are not prevented — as in Filecoin, a replica is only
//!   as independent as its providers.
//! - **Who is paid, and when.** At each deadline's close, every active, proven (not skipped)
//!   sector of a proven partition earns each of its active replica deals one period's payout at
//!   that epoch's cost. A faulty sector earns nothing; a terminated one is slashed and its slot
//!   re-offered; the new holder earns from its first proven period.
//! - **Shortfall.** Payouts are paid in the order they fall due. If the pool cannot pay one (or
//!   earlier ones still wait), it joins the arrears, paid first and in order from the next money
//!   in. At every epoch the pool is compared with its obligations — the perpetual value of every
//!   slot at today's cost, plus arrears: the first epoch it is short the Kryder+ multiplier on
//!   new storage goes up by one and latches; it unlatches once the pool covers its obligations
//!   again, so a lasting shortfall raises the price once per episode (Arweave 2.6's latch).
//! - **Money** moves only through `State::transfer` between the two new pots (`Endowment`,
//!   `EndowmentUpfront`) and the miners' escrow, so the supply invariant covers it; the upfront
//!   pot must equal the slots' unpaid shares, checked with the other invariants.

pub mod pricing;

use crate::economics;
use crate::rules::{check_operator, miner, sector_size, Ctx};
use crate::state::{Deal, State};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use strata_chain_client::permanent::{
    EndowmentInfo, PermanentPieceInfo, PermanentQuote, ReplicaInfo, ReplicaStatus,
};
use strata_chain_client::types::{DealId, DealProposal, Epoch, MinerId};
use strata_chain_client::views::{DealStatus, Pot, ReplicaRef};
use strata_chain_client::{Address, ChainError, Token};
use strata_primitives::node::Node;
use strata_primitives::serde_hex;

/// One replica slot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// The deal storing it (published = claimed, active = held), if any.
    pub deal: Option<DealId>,
    /// The slot's upfront share, until its first activation.
    pub upfront: Token,
    /// Times re-offered.
    pub reoffered: u64,
}

/// A permanent piece.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Piece {
    /// Who paid.
    pub client: Address,
    /// CommP.
    #[serde(with = "serde_hex::node")]
    pub piece_cid: Node,
    /// Padded size.
    pub piece_size: u64,
    /// First byte in the weave.
    pub weave_offset: u64,
    /// Epoch stored.
    pub created: Epoch,
    /// Paid.
    pub fee: Token,
    /// Slots.
    pub slots: Vec<Slot>,
}

/// A payout that fell due when the pool could not pay it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arrear {
    /// Epoch it fell due.
    pub epoch: Epoch,
    /// The holder.
    pub miner: MinerId,
    /// Its replica deal.
    pub deal: DealId,
    /// Amount.
    pub amount: Token,
}

/// The endowment's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endowment {
    /// The pool (`Pot::Endowment`).
    pub pool: Token,
    /// Upfront shares held (`Pot::EndowmentUpfront`).
    pub upfront: Token,
    /// The Kryder+ multiplier on new storage (≥ 1).
    pub multiplier: u64,
    /// Whether the multiplier was raised for the current shortfall.
    pub latched: bool,
    /// Pieces by id (= weave order).
    pub pieces: BTreeMap<u64, Piece>,
    /// Bytes in the weave (Σ piece sizes).
    pub weave_bytes: u64,
    /// Unpaid payouts, oldest first.
    pub arrears: Vec<Arrear>,
    /// Paid out so far.
    pub paid_out: Token,
}

impl Default for Endowment {
    fn default() -> Self {
        Endowment {
            pool: Token::ZERO,
            upfront: Token::ZERO,
            multiplier: 1,
            latched: false,
            pieces: BTreeMap::new(),
            weave_bytes: 0,
            arrears: Vec::new(),
            paid_out: Token::ZERO,
        }
    }
}

fn arrears_total(e: &Endowment) -> Token {
    e.arrears.iter().map(|a| a.amount).sum()
}

/// The largest sector of the network's proof types: no piece may be larger.
fn largest_sector(ctx: &Ctx) -> u64 {
    ctx.allowed_proof_types
        .iter()
        .map(|p| sector_size(*p))
        .max()
        .unwrap_or(0)
}

/// The quote for new storage now.
pub fn quote(
    s: &State,
    ctx: &Ctx,
    now: Epoch,
    piece_size: u64,
    replicas: u64,
) -> Result<PermanentQuote, ChainError> {
    let p = &ctx.constants.permanent;
    if !piece_size.is_power_of_two() || piece_size < 128 || piece_size > largest_sector(ctx) {
        return Err(ChainError::invalid(format!(
            "piece size {piece_size} is not a power of two between 128 and the largest sector \
             size {}",
            largest_sector(ctx)
        )));
    }
    if replicas == 0 || replicas > p.max_replicas {
        return Err(ChainError::invalid(format!(
            "{replicas} replicas: a permanent piece has 1 to {} replicas",
            p.max_replicas
        )));
    }
    Ok(pricing::quote(
        ctx.constants,
        now,
        piece_size,
        replicas,
        s.endowment.multiplier,
    ))
}

/// `StorePermanent`: takes the quote's total from the sender, holds the upfront share, funds the
/// endowment, and opens `replicas` slots. Returns the piece id and the quote paid.
#[allow(clippy::too_many_arguments)]
pub fn store(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    from: Address,
    piece_cid: Node,
    piece_size: u64,
    replicas: u64,
    max_fee: Token,
) -> Result<(u64, PermanentQuote), ChainError> {
    if piece_cid[31] & 0xc0 != 0 {
        return Err(ChainError::invalid(
            "piece_cid is not a CommP (a 254-bit hash_d output)",
        ));
    }
    let q = quote(s, ctx, now, piece_size, replicas)?;
    if q.total > max_fee {
        return Err(ChainError::insufficient(format!(
            "permanent storage of {piece_size} B × {replicas} costs {} now, above max_fee {max_fee}",
            q.total
        )));
    }
    let id = s.endowment.pieces.keys().next_back().map_or(0, |k| k + 1);
    s.transfer(
        Pot::Balance(from),
        Pot::EndowmentUpfront,
        q.upfront,
        &format!("permanent_upfront piece {id}"),
    )?;
    s.transfer(
        Pot::Balance(from),
        Pot::Endowment,
        q.endowment,
        &format!("permanent_endowment piece {id}"),
    )?;
    let share = q.upfront.0 / replicas as u128;
    let slots = (0..replicas)
        .map(|k| Slot {
            deal: None,
            upfront: if k + 1 == replicas {
                Token(q.upfront.0 - share * (replicas as u128 - 1))
            } else {
                Token(share)
            },
            reoffered: 0,
        })
        .collect();
    let e = &mut s.endowment;
    e.pieces.insert(
        id,
        Piece {
            client: from,
            piece_cid,
            piece_size,
            weave_offset: e.weave_bytes,
            created: now,
            fee: q.total,
            slots,
        },
    );
    e.weave_bytes += piece_size;
    settle_arrears(s, now)?;
    Ok((id, q))
}

/// `ClaimReplica`: the miner takes the first open slot of `piece`, as a deal it must activate by
/// `start_epoch`, locking the minimum provider collateral.
pub fn claim(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    from: Address,
    id: MinerId,
    piece: u64,
    start_epoch: Epoch,
) -> Result<DealId, ChainError> {
    let c = ctx.constants;
    let circulating = s.circulating();
    let network_raw = s.network_power().0;
    let m = miner(s, id)?;
    check_operator(m, id, &from)?;
    let size = sector_size(m.proof_type);
    let p = s
        .endowment
        .pieces
        .get(&piece)
        .ok_or_else(|| ChainError::not_found(format!("no permanent piece {piece}")))?;
    if p.piece_size > size {
        return Err(ChainError::invalid(format!(
            "piece {piece} is {} B, larger than m{id}'s {size}-byte sectors",
            p.piece_size
        )));
    }
    let latest = now + c.permanent.max_claim_days * c.epochs_per_day;
    if start_epoch <= now || start_epoch > latest {
        return Err(ChainError::invalid(format!(
            "start epoch {start_epoch} must be after {now} and at most {latest} ({} days on)",
            c.permanent.max_claim_days
        )));
    }
    if let Some(d) = p
        .slots
        .iter()
        .filter_map(|sl| sl.deal)
        .find(|d| s.deals.get(d).is_some_and(|d| d.proposal.provider == id))
    {
        return Err(ChainError::duplicate(format!(
            "m{id} already stores a replica of piece {piece} (deal {d}): replicas go to distinct \
             miners"
        )));
    }
    let slot = p
        .slots
        .iter()
        .position(|sl| sl.deal.is_none())
        .ok_or_else(|| {
            ChainError::duplicate(format!(
                "piece {piece} has no open replica slot (all {} are claimed or held)",
                p.slots.len()
            ))
        })?;
    let collateral =
        economics::min_provider_collateral(c, circulating, network_raw, p.piece_size as u128);
    let proposal = DealProposal {
        network: ctx.network.to_string(),
        piece_cid: p.piece_cid,
        piece_size: p.piece_size,
        client: p.client,
        provider: id,
        start_epoch,
        end_epoch: Epoch::MAX,
        price_per_epoch: Token::ZERO,
        provider_collateral: collateral,
        client_collateral: Token::ZERO,
        verified: false,
        label: format!("permanent piece {piece} replica {slot}"),
    };
    let deal_id = s.next_deal_id;
    s.transfer(
        Pot::MinerEscrow(id),
        Pot::MinerEscrowLocked(id),
        collateral,
        &format!("replica_lock_provider_collateral deal {deal_id} piece {piece}"),
    )?;
    s.next_deal_id += 1;
    s.deals.insert(
        deal_id,
        Deal {
            proposal,
            status: DealStatus::Published,
            sector: None,
            activation: None,
            settled_until: start_epoch,
            paid: Token::ZERO,
            slashed_at: None,
            verified_term: None,
            permanent: Some(ReplicaRef {
                piece,
                slot: slot as u64,
            }),
        },
    );
    s.endowment.pieces.get_mut(&piece).expect("exists").slots[slot].deal = Some(deal_id);
    tracing::info!(piece, slot, miner = id, deal = deal_id, "replica claimed");
    Ok(deal_id)
}

fn slot_of<'a>(s: &'a mut State, r: &ReplicaRef) -> Option<&'a mut Slot> {
    s.endowment
        .pieces
        .get_mut(&r.piece)
        .and_then(|p| p.slots.get_mut(r.slot as usize))
}

/// At prove-commit: each newly active replica deal's slot pays its upfront share (once, to the
/// first miner that activates it) into the miner's escrow.
pub fn on_activate(s: &mut State, deals: &[DealId]) -> Result<(), ChainError> {
    for d in deals {
        let Some(deal) = s.deals.get(d) else { continue };
        let (Some(r), DealStatus::Active) = (deal.permanent, deal.status) else {
            continue;
        };
        let miner = deal.proposal.provider;
        let Some(slot) = slot_of(s, &r) else { continue };
        let share = std::mem::take(&mut slot.upfront);
        s.transfer(
            Pot::EndowmentUpfront,
            Pot::MinerEscrow(miner),
            share,
            &format!(
                "permanent_upfront_paid piece {} slot {} deal {d}",
                r.piece, r.slot
            ),
        )?;
    }
    Ok(())
}

/// A replica deal stopped (slashed, or ended with its sector): its slot is re-offered.
pub fn on_lost(s: &mut State, now: Epoch, deal: DealId, why: &str) {
    let Some(r) = s.deals.get(&deal).and_then(|d| d.permanent) else {
        return;
    };
    if let Some(slot) = slot_of(s, &r) {
        if slot.deal == Some(deal) {
            slot.deal = None;
            slot.reoffered += 1;
            tracing::info!(
                piece = r.piece,
                slot = r.slot,
                deal,
                epoch = now,
                why,
                "replica lost: slot re-offered"
            );
        }
    }
}

/// A sector holding replica deals reached its expiration: each replica deal ends (its
/// collateral returned) and its slot is re-offered.
pub fn end_with_sector(s: &mut State, now: Epoch, deals: &[DealId]) -> Result<(), ChainError> {
    for d in deals {
        let Some(deal) = s.deals.get(d) else { continue };
        if deal.permanent.is_none() || deal.status != DealStatus::Active {
            continue;
        }
        let (p, c) = (deal.proposal.provider, deal.proposal.provider_collateral);
        s.transfer(
            Pot::MinerEscrowLocked(p),
            Pot::MinerEscrow(p),
            c,
            &format!("replica_end deal {d}: sector expired"),
        )?;
        s.deals.get_mut(d).expect("exists").status = DealStatus::Expired;
        on_lost(s, now, *d, "sector expired");
    }
    Ok(())
}

/// At a deadline's close: the payouts of the replica deals in `sectors` (active and proven this
/// period), paid in order or queued as arrears.
pub fn pay_proven(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    id: MinerId,
    sectors: &[u64],
) -> Result<(), ChainError> {
    let mut due = Vec::new();
    for n in sectors {
        let Some(sec) = s.miners.get(&id).and_then(|m| m.sectors.get(n)) else {
            continue;
        };
        for d in &sec.deals {
            if let Some(deal) = s.deals.get(d) {
                if deal.permanent.is_some() && deal.status == DealStatus::Active {
                    due.push((
                        *d,
                        pricing::period_payout(ctx.constants, now, deal.proposal.piece_size),
                    ));
                }
            }
        }
    }
    for (deal, amount) in due {
        s.endowment.arrears.push(Arrear {
            epoch: now,
            miner: id,
            deal,
            amount,
        });
    }
    settle_arrears(s, now)
}

/// Pays waiting payouts from the pool, oldest first, while it can pay the next in full.
fn settle_arrears(s: &mut State, now: Epoch) -> Result<(), ChainError> {
    while let Some(a) = s.endowment.arrears.first().cloned() {
        if a.amount > s.endowment.pool {
            break;
        }
        let late = if a.epoch < now { " (arrears)" } else { "" };
        s.transfer(
            Pot::Endowment,
            Pot::MinerEscrow(a.miner),
            a.amount,
            &format!("endowment_payout deal {} due {}{late}", a.deal, a.epoch),
        )?;
        s.endowment.paid_out = Token(s.endowment.paid_out.0 + a.amount.0);
        s.endowment.arrears.remove(0);
    }
    Ok(())
}

/// What the pool must hold: the perpetual value of every slot at today's cost, plus arrears.
pub fn obligations(s: &State, ctx: &Ctx, now: Epoch) -> Token {
    let bytes: u128 = s
        .endowment
        .pieces
        .values()
        .map(|p| p.piece_size as u128 * p.slots.len() as u128)
        .sum();
    Token(pricing::perpetual_value(ctx.constants, now, bytes).0 + arrears_total(&s.endowment).0)
}

/// End of epoch: arrears first, then the shortfall check that raises (and latches) the
/// multiplier.
pub fn cron(s: &mut State, ctx: &Ctx, now: Epoch) -> Result<(), ChainError> {
    settle_arrears(s, now)?;
    if s.endowment.pieces.is_empty() {
        return Ok(());
    }
    let owed = obligations(s, ctx, now);
    let short = s.endowment.pool < owed;
    let e = &mut s.endowment;
    if short && !e.latched {
        e.multiplier += 1;
        e.latched = true;
        tracing::warn!(pool = %e.pool, owed = %owed, multiplier = e.multiplier, "endowment short: Kryder+ multiplier raised");
    } else if !short && e.latched {
        e.latched = false;
    }
    Ok(())
}

/// The weave as `(piece id, offset, size)` in order.
pub fn weave(s: &State) -> Vec<(u64, u64, u64)> {
    s.endowment
        .pieces
        .iter()
        .map(|(id, p)| (*id, p.weave_offset, p.piece_size))
        .collect()
}

/// A piece as clients see it.
pub fn piece_info(s: &State, id: u64) -> Option<PermanentPieceInfo> {
    let p = s.endowment.pieces.get(&id)?;
    let replicas = p
        .slots
        .iter()
        .enumerate()
        .map(|(k, sl)| {
            let deal = sl.deal.and_then(|d| s.deals.get(&d));
            ReplicaInfo {
                slot: k as u64,
                status: match deal.map(|d| d.status) {
                    Some(DealStatus::Active) => ReplicaStatus::Held,
                    Some(_) => ReplicaStatus::Claimed,
                    None => ReplicaStatus::Open,
                },
                deal: sl.deal,
                miner: deal.map(|d| d.proposal.provider),
                upfront_unpaid: sl.upfront,
                reoffered: sl.reoffered,
            }
        })
        .collect();
    Some(PermanentPieceInfo {
        id,
        client: p.client,
        piece_cid: p.piece_cid,
        piece_size: p.piece_size,
        weave_offset: p.weave_offset,
        created: p.created,
        fee: p.fee,
        replicas,
    })
}

/// The endowment as clients see it.
pub fn info(s: &State, ctx: &Ctx) -> EndowmentInfo {
    let c = ctx.constants;
    let now = s.epoch;
    let pieces: Vec<PermanentPieceInfo> = s
        .endowment
        .pieces
        .keys()
        .filter_map(|id| piece_info(s, *id))
        .collect();
    let count = |st: ReplicaStatus| {
        pieces
            .iter()
            .flat_map(|p| &p.replicas)
            .filter(|r| r.status == st)
            .count() as u64
    };
    let held_bytes: u64 = pieces
        .iter()
        .map(|p| p.piece_size * p.holders().count() as u64)
        .sum();
    let all_bytes: u128 = pieces
        .iter()
        .map(|p| p.piece_size as u128 * p.replicas.len() as u128)
        .sum();
    let per_year = Token(
        pricing::price_per_byte_year(c, now)
            .0
            .saturating_mul(all_bytes),
    );
    let e = &s.endowment;
    EndowmentInfo {
        epoch: now,
        pool: e.pool,
        upfront_held: e.upfront,
        arrears: arrears_total(e),
        paid_out: e.paid_out,
        multiplier: e.multiplier,
        latched: e.latched,
        price_per_byte_year: pricing::price_per_byte_year(c, now),
        pieces: pieces.len() as u64,
        weave_bytes: e.weave_bytes,
        replicas_held: count(ReplicaStatus::Held),
        replicas_claimed: count(ReplicaStatus::Claimed),
        replicas_open: count(ReplicaStatus::Open),
        owed_per_period: pricing::period_payout(c, now, held_bytes),
        obligations: obligations(s, ctx, now),
        years_covered: pricing::years_covered(
            Token(e.pool.0.saturating_sub(arrears_total(e).0)),
            per_year,
            c.permanent.cost_decline_bps,
        ),
    }
}

/// The endowment's own invariants: the upfront pot holds exactly the slots' unpaid shares; the
/// weave's size is the pieces' sizes; every slot's deal is an open replica deal of that slot,
/// and every open replica deal is in its slot.
pub fn check(s: &State) -> Result<(), String> {
    let e = &s.endowment;
    let held: u128 = e
        .pieces
        .values()
        .flat_map(|p| &p.slots)
        .map(|sl| sl.upfront.0)
        .sum();
    if Token(held) != e.upfront {
        return Err(format!(
            "the upfront pot holds {} but the slots' unpaid shares sum to {}",
            e.upfront,
            Token(held)
        ));
    }
    let weave: u64 = e.pieces.values().map(|p| p.piece_size).sum();
    if weave != e.weave_bytes {
        return Err(format!(
            "the weave is {} bytes but its pieces sum to {weave}",
            e.weave_bytes
        ));
    }
    for (pid, p) in &e.pieces {
        for (k, sl) in p.slots.iter().enumerate() {
            let Some(d) = sl.deal else { continue };
            let ok = s.deals.get(&d).is_some_and(|deal| {
                deal.permanent
                    == Some(ReplicaRef {
                        piece: *pid,
                        slot: k as u64,
                    })
                    && matches!(deal.status, DealStatus::Published | DealStatus::Active)
            });
            if !ok {
                return Err(format!(
                    "slot {k} of piece {pid} names deal {d}, which is not its open replica deal"
                ));
            }
        }
    }
    for (d, deal) in &s.deals {
        if let (Some(r), DealStatus::Published | DealStatus::Active) = (deal.permanent, deal.status)
        {
            let in_slot = e
                .pieces
                .get(&r.piece)
                .and_then(|p| p.slots.get(r.slot as usize))
                .is_some_and(|sl| sl.deal == Some(*d));
            if !in_slot {
                return Err(format!(
                    "replica deal {d} is open but slot {} of piece {} does not hold it",
                    r.slot, r.piece
                ));
            }
        }
    }
    Ok(())
}
