//! Filecoin's market actor: escrow, client-signed deals published by the provider, funds locked
//! for the deal's life, activation when the sector is proven, payments settled to the provider
//! every `deal_settle_interval` epochs and at the end, and slashing — provider collateral burnt,
//! the client's unspent money returned — when activation is missed or the sector terminates.

use crate::economics;
use crate::rules::{check_operator, check_owner, check_unique, miner, qa_power, sector_size, Ctx};
use crate::state::{Deal, State};
use strata_chain_client::types::{
    DealId, DealProposal, Epoch, EscrowHolder, MinerId, SignedProposal,
};
use strata_chain_client::views::{DealStatus, Pot, VerifiedTerm};
use strata_chain_client::{Address, ChainError, Token};
use strata_primitives::node::Node;
use strata_sealer::PieceInfo;

/// `AddEscrow`.
pub fn add_escrow(
    s: &mut State,
    from: Address,
    to: EscrowHolder,
    amount: Token,
) -> Result<(), ChainError> {
    let target = match to {
        EscrowHolder::Account(a) => Pot::Escrow(a),
        EscrowHolder::Miner(m) => {
            miner(s, m)?;
            Pot::MinerEscrow(m)
        }
    };
    s.transfer(Pot::Balance(from), target, amount, "escrow_deposit")
}

/// `WithdrawEscrow`: only free escrow; an account's to itself, a miner's to its owner.
pub fn withdraw_escrow(
    s: &mut State,
    from: Address,
    holder: EscrowHolder,
    amount: Token,
) -> Result<(), ChainError> {
    let (src, to) = match holder {
        EscrowHolder::Account(a) => {
            if a != from {
                return Err(ChainError::forbidden(format!(
                    "{from} cannot withdraw the escrow of {a}"
                )));
            }
            (Pot::Escrow(a), Pot::Balance(a))
        }
        EscrowHolder::Miner(m) => {
            let mi = miner(s, m)?;
            check_owner(mi, m, &from)?;
            (Pot::MinerEscrow(m), Pot::Balance(mi.owner))
        }
    };
    s.transfer(src, to, amount, "escrow_withdrawal")
}

/// `GrantDatacap`: moves DataCap from the sender to `to`.
pub fn grant_datacap(
    s: &mut State,
    from: Address,
    to: Address,
    bytes: u64,
) -> Result<(), ChainError> {
    let have = s.accounts.get(&from).map(|a| a.datacap).unwrap_or(0);
    if have < bytes {
        return Err(ChainError::insufficient(format!(
            "{from} has {have} bytes of DataCap, not {bytes}"
        )));
    }
    s.accounts.entry(from).or_default().datacap -= bytes;
    s.accounts.entry(to).or_default().datacap += bytes;
    Ok(())
}

/// The longest label a deal may carry, in bytes (Filecoin's market actor: 256).
pub const MAX_DEAL_LABEL_BYTES: usize = 256;

/// The identity of a signed proposal: BLAKE3 of its signing bytes (the signature itself is left
/// out, so re-signing the same proposal does not make it a new one).
pub fn proposal_hash(p: &DealProposal) -> Node {
    *blake3::hash(&p.signing_bytes()).as_bytes()
}

/// `PublishDeals`: every proposal checked, all or none published; a signed proposal is published
/// once (within the message and across messages, while its deal can still run). Returns the new
/// deal ids.
pub fn publish(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    from: Address,
    id: MinerId,
    deals: Vec<SignedProposal>,
) -> Result<Vec<DealId>, ChainError> {
    let c = ctx.constants;
    // Locking escrow moves no token out of circulation: one figure serves the whole message.
    let circulating = s.circulating();
    let network_raw = s.network_power().0;
    let m = miner(s, id)?;
    check_operator(m, id, &from)?;
    let max_piece = sector_size(m.proof_type);
    if deals.is_empty() {
        return Err(ChainError::invalid("no deals to publish"));
    }
    let mut seen = std::collections::BTreeMap::new();
    for (i, d) in deals.iter().enumerate() {
        if let Some(first) = seen.insert(proposal_hash(&d.proposal), i) {
            return Err(ChainError::duplicate(format!(
                "deal {i} is the same signed proposal as deal {first} of this message"
            )));
        }
    }
    let mut ids = Vec::new();
    for (i, d) in deals.into_iter().enumerate() {
        let bad = |m: String| ChainError::bad_deal(format!("deal {i}: {m}"));
        d.verify().map_err(|e| {
            ChainError::new(
                strata_chain_client::ErrorKind::BadSignature,
                format!(
                    "deal {i}: not signed by its client {}: {e}",
                    d.proposal.client
                ),
            )
        })?;
        let p = &d.proposal;
        if p.provider != id {
            return Err(bad(format!("names provider m{}, not m{id}", p.provider)));
        }
        let hash = hex::encode(proposal_hash(p));
        if let Some(earlier) = s.published_proposals.get(&hash) {
            return Err(ChainError::duplicate(format!(
                "deal {i}: this signed proposal was already published as deal {}",
                earlier.deal
            )));
        }
        if !p.piece_size.is_power_of_two() || p.piece_size < 128 || p.piece_size > max_piece {
            return Err(bad(format!(
                "piece size {} is not a power of two between 128 and the sector size {max_piece}",
                p.piece_size
            )));
        }
        if p.start_epoch <= now {
            return Err(bad(format!(
                "start epoch {} is not after {now}",
                p.start_epoch
            )));
        }
        if p.end_epoch <= p.start_epoch {
            return Err(bad("end epoch is not after the start".into()));
        }
        let duration = p.end_epoch - p.start_epoch;
        if duration < c.min_deal_duration || duration > c.max_deal_duration {
            return Err(bad(format!(
                "duration {duration} epochs (epochs {}..{}) is outside the allowed {}..={} \
                 ({} to {} days)",
                p.start_epoch,
                p.end_epoch,
                c.min_deal_duration,
                c.max_deal_duration,
                c.min_deal_duration / c.epochs_per_day.max(1),
                c.max_deal_duration / c.epochs_per_day.max(1),
            )));
        }
        if p.label.len() > MAX_DEAL_LABEL_BYTES {
            return Err(bad(format!(
                "label is {} bytes, more than {MAX_DEAL_LABEL_BYTES}",
                p.label.len()
            )));
        }
        let verified_term = if p.verified {
            let term = VerifiedTerm {
                min: duration,
                max: duration.saturating_add(c.verified_deal_term_buffer),
            };
            if term.min < c.min_verified_deal_term || term.max > c.max_verified_deal_term {
                return Err(bad(format!(
                    "verified deal's term {}..={} epochs (term_min = its duration, term_max = \
                     term_min + {}) is outside the allowed {}..={}",
                    term.min,
                    term.max,
                    c.verified_deal_term_buffer,
                    c.min_verified_deal_term,
                    c.max_verified_deal_term
                )));
            }
            Some(term)
        } else {
            None
        };
        let qa = qa_power(p.piece_size, if p.verified { p.piece_size } else { 0 });
        let min = economics::min_provider_collateral(c, circulating, network_raw, qa);
        if p.provider_collateral < min {
            return Err(bad(format!(
                "provider collateral {} is below the minimum {min} for {} bytes of {}QA power \
                 (1% of the circulating supply {circulating} × the deal's QA power / \
                 max(baseline, network raw power))",
                p.provider_collateral,
                qa,
                if p.verified { "verified (10×) " } else { "" }
            )));
        }
        let total = p
            .total_price()
            .and_then(|t| t.checked_add(p.client_collateral))
            .ok_or_else(|| bad("price overflows".into()))?;
        s.transfer(
            Pot::Escrow(p.client),
            Pot::EscrowLocked(p.client),
            total,
            "deal_lock_client",
        )
        .map_err(|e| bad(format!("client escrow: {}", e.message)).with_kind(e.kind))?;
        s.transfer(
            Pot::MinerEscrow(id),
            Pot::MinerEscrowLocked(id),
            p.provider_collateral,
            "deal_lock_provider_collateral",
        )
        .map_err(|e| bad(format!("provider escrow: {}", e.message)).with_kind(e.kind))?;
        if p.verified {
            let acc = s.accounts.entry(p.client).or_default();
            if acc.datacap < p.piece_size {
                return Err(bad(format!(
                    "verified deal needs {} bytes of DataCap, client has {}",
                    p.piece_size, acc.datacap
                )));
            }
            acc.datacap -= p.piece_size;
        }
        let deal_id = s.next_deal_id;
        s.next_deal_id += 1;
        s.published_proposals.insert(
            hash,
            crate::state::PublishedProposal {
                deal: deal_id,
                end_epoch: p.end_epoch,
            },
        );
        s.deals.insert(
            deal_id,
            Deal {
                settled_until: p.start_epoch,
                proposal: d.proposal,
                status: DealStatus::Published,
                sector: None,
                activation: None,
                paid: Token::ZERO,
                slashed_at: None,
                verified_term,
                permanent: None,
            },
        );
        ids.push(deal_id);
    }
    Ok(ids)
}

trait WithKind {
    fn with_kind(self, kind: strata_chain_client::ErrorKind) -> Self;
}
impl WithKind for ChainError {
    fn with_kind(mut self, kind: strata_chain_client::ErrorKind) -> Self {
        self.kind = kind;
        self
    }
}

/// Checks the deals named by a pre-commit. The sector's CommD must be the CommD of the deals'
/// pieces laid out in order (zeros elsewhere). What counts as verified is decided at
/// prove-commit ([`verified_space`]).
pub fn check_precommit_deals(
    s: &State,
    now: Epoch,
    id: MinerId,
    proof_type: u64,
    deals: &[DealId],
    comm_d: &Node,
    expiration: Epoch,
) -> Result<(), ChainError> {
    let mut pieces = Vec::new();
    check_unique(deals, "deal", "the PreCommit")?;
    for d in deals {
        let deal = s
            .deals
            .get(d)
            .ok_or_else(|| ChainError::not_found(format!("deal {d} does not exist")))?;
        let p = &deal.proposal;
        if p.provider != id {
            return Err(ChainError::forbidden(format!(
                "deal {d} belongs to m{}",
                p.provider
            )));
        }
        if deal.status != DealStatus::Published || deal.sector.is_some() {
            return Err(ChainError::duplicate(format!(
                "deal {d} is {:?}{}",
                deal.status,
                deal.sector
                    .map(|n| format!(" in sector {n}"))
                    .unwrap_or_default()
            )));
        }
        if p.start_epoch <= now {
            return Err(ChainError::too_late(format!(
                "deal {d} should have started at {}",
                p.start_epoch
            )));
        }
        if p.end_epoch > expiration && deal.permanent.is_none() {
            return Err(ChainError::invalid(format!(
                "deal {d} ends at {}, after the sector's expiration {expiration}",
                p.end_epoch
            )));
        }
        pieces.push(PieceInfo {
            comm_p: p.piece_cid,
            padded_size: p.piece_size,
            raw_len: 0,
        });
    }
    let pt = strata_params::ProofType::for_id(proof_type)
        .map_err(|e| ChainError::invalid(e.to_string()))?;
    // A sector without deals is committed capacity: all zeros.
    let expected = if pieces.is_empty() {
        let leaves = pt.sector_size.bytes() / 32;
        strata_sealer::pieces::zero_root(leaves.trailing_zeros())
    } else {
        strata_sealer::comm_d_from_pieces(pt.sector_size, &pieces).map_err(|e| {
            ChainError::invalid(format!("the deals' pieces do not fit the sector: {e}"))
        })?
    };
    if expected != *comm_d {
        return Err(ChainError::invalid(format!(
            "comm_d {} is not the CommD of the deals' pieces ({})",
            hex::encode(comm_d),
            hex::encode(expected)
        )));
    }
    Ok(())
}

/// The verified space of a sector activated at `activation` and expiring at `expiration`: the
/// pieces of its verified deals whose term fits the sector's remaining life (term_min ≤
/// expiration − activation ≤ term_max); any other piece counts as raw space.
pub fn verified_space(s: &State, deals: &[DealId], activation: Epoch, expiration: Epoch) -> u64 {
    let life = expiration - activation;
    deals
        .iter()
        .filter_map(|d| s.deals.get(d))
        .filter(|d| d.proposal.verified && d.verified_term.is_some_and(|t| t.fits(life)))
        .map(|d| d.proposal.piece_size)
        .sum()
}

/// Pays a deal up to `until` (capped at its end).
fn settle(s: &mut State, id: DealId, until: Epoch) -> Result<(), ChainError> {
    let d = s.deals[&id].clone();
    let upto = until.min(d.proposal.end_epoch);
    if d.status != DealStatus::Active || upto <= d.settled_until {
        return Ok(());
    }
    let amount = Token(d.proposal.price_per_epoch.0 * (upto - d.settled_until) as u128);
    s.transfer(
        Pot::EscrowLocked(d.proposal.client),
        Pot::MinerEscrow(d.proposal.provider),
        amount,
        &format!("deal_payment deal {id}"),
    )?;
    let deal = s.deals.get_mut(&id).expect("exists");
    deal.settled_until = upto;
    deal.paid = Token(deal.paid.0 + amount.0);
    Ok(())
}

/// Checks, at prove-commit, that every deal of sector `number` can still be activated: published
/// and not yet due to start. A deal whose start epoch has passed was slashed by the cron at its
/// start (its collateral burnt, the client refunded), so the sector cannot be proven with it —
/// nor count its verified space.
pub fn check_activation(
    s: &State,
    now: Epoch,
    number: u64,
    deals: &[DealId],
) -> Result<(), ChainError> {
    for d in deals {
        let deal = s
            .deals
            .get(d)
            .ok_or_else(|| ChainError::internal(format!("deal {d} of sector {number} is gone")))?;
        let start = deal.proposal.start_epoch;
        if start < now || deal.status != DealStatus::Published {
            return Err(ChainError::too_late(format!(
                "deal {d} in sector {number} was to start by epoch {start} and is {:?}; the \
                 sector can no longer be proven with it (prove-commit is at epoch {now})",
                deal.status
            )));
        }
    }
    Ok(())
}

/// Activates the sector's deals at prove-commit.
pub fn activate(s: &mut State, now: Epoch, deals: &[DealId]) {
    for d in deals {
        if let Some(deal) = s.deals.get_mut(d) {
            if deal.status == DealStatus::Published {
                deal.status = DealStatus::Active;
                deal.activation = Some(now);
            }
        }
    }
}

/// Slashes a deal: pays what is owed up to `now`, burns the provider collateral and returns the
/// client's unspent money and collateral.
pub fn slash(s: &mut State, now: Epoch, id: DealId, why: &str) -> Result<(), ChainError> {
    settle(s, id, now)?;
    let d = s.deals[&id].clone();
    if matches!(d.status, DealStatus::Slashed | DealStatus::Expired) {
        return Ok(());
    }
    let p = &d.proposal;
    s.transfer(
        Pot::MinerEscrowLocked(p.provider),
        Pot::Burn,
        p.provider_collateral,
        &format!("deal_slashed deal {id}: {why}"),
    )?;
    let owed_rest = Token(p.total_price().expect("checked at publish").0 - d.paid.0);
    s.transfer(
        Pot::EscrowLocked(p.client),
        Pot::Escrow(p.client),
        Token(owed_rest.0 + p.client_collateral.0),
        &format!("deal_refund deal {id}: {why}"),
    )?;
    let deal = s.deals.get_mut(&id).expect("exists");
    deal.status = DealStatus::Slashed;
    deal.slashed_at = Some(now);
    crate::permanent::on_lost(s, now, id, why);
    Ok(())
}

/// End-of-epoch market work: missed activations, periodic settlement, deal ends, and forgetting
/// the proposals whose deals have ended.
pub fn cron(s: &mut State, ctx: &Ctx, now: Epoch) -> Result<(), ChainError> {
    s.published_proposals.retain(|_, p| p.end_epoch > now);
    let ids: Vec<DealId> = s.deals.keys().copied().collect();
    for id in ids {
        let d = s.deals[&id].clone();
        match d.status {
            DealStatus::Published if d.proposal.start_epoch <= now => {
                slash(s, now, id, "not activated by its start epoch")?;
            }
            DealStatus::Active => {
                let p = &d.proposal;
                if now >= p.end_epoch {
                    settle(s, id, p.end_epoch)?;
                    s.transfer(
                        Pot::EscrowLocked(p.client),
                        Pot::Escrow(p.client),
                        p.client_collateral,
                        &format!("deal_end deal {id}"),
                    )?;
                    s.transfer(
                        Pot::MinerEscrowLocked(p.provider),
                        Pot::MinerEscrow(p.provider),
                        p.provider_collateral,
                        &format!("deal_end deal {id}"),
                    )?;
                    s.deals.get_mut(&id).expect("exists").status = DealStatus::Expired;
                } else if now - d.settled_until >= ctx.constants.deal_settle_interval {
                    settle(s, id, now)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{devnet_faucet, Genesis};
    use crate::state::Miner;
    use crate::HashVerifier;

    #[test]
    fn published_proposals_are_remembered_until_their_deal_ends() {
        let g = Genesis::preset("devnet").unwrap();
        let mut s = crate::exec::genesis_state(&g);
        let a = devnet_faucet();
        s.miners.insert(
            1000,
            Miner::new(a.address(), a.address(), 1, String::new(), 0, 0),
        );
        add_escrow(
            &mut s,
            a.address(),
            EscrowHolder::Miner(1000),
            Token::whole(10),
        )
        .unwrap();
        add_escrow(
            &mut s,
            a.address(),
            EscrowHolder::Account(a.address()),
            Token::whole(10),
        )
        .unwrap();
        let (start, end) = (10, 10 + g.constants.epochs_per_day * 200);
        let signed = DealProposal {
            network: g.network.clone(),
            piece_cid: strata_sealer::pieces::zero_root(6),
            piece_size: 2048,
            client: a.address(),
            provider: 1000,
            start_epoch: start,
            end_epoch: end,
            price_per_epoch: Token(1),
            provider_collateral: Token::whole(1),
            client_collateral: Token::ZERO,
            verified: false,
            label: String::new(),
        }
        .sign(&a)
        .unwrap();
        let ctx = Ctx {
            network: &g.network,
            allowed_proof_types: &g.allowed_proof_types,
            constants: &g.constants,
            verifier: &HashVerifier,
            beacons: &[],
        };
        publish(&mut s, &ctx, 1, a.address(), 1000, vec![signed.clone()]).unwrap();
        let key = hex::encode(proposal_hash(&signed.proposal));
        assert_eq!(s.published_proposals[&key].deal, 0);
        let err = publish(&mut s, &ctx, 2, a.address(), 1000, vec![signed.clone()]).unwrap_err();
        assert_eq!(err.kind, strata_chain_client::ErrorKind::Duplicate, "{err}");
        // Slashed at its start (never activated), still remembered until its end.
        cron(&mut s, &ctx, start).unwrap();
        assert_eq!(s.deals[&0].status, DealStatus::Slashed);
        cron(&mut s, &ctx, end - 1).unwrap();
        assert!(s.published_proposals.contains_key(&key));
        cron(&mut s, &ctx, end).unwrap();
        assert!(s.published_proposals.is_empty());
        s.check_invariants().unwrap();
    }
}
