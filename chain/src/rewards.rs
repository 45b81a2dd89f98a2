//! Power and block rewards: each epoch one winner is drawn from the beacon in proportion to
//! quality-adjusted power; it has `winning_post_window` epochs to land a WinningPoSt over the
//! sector the randomness picks from its proving set, and only then is the epoch's reward minted
//! (25% available, 75% vesting). An unclaimed reward is never minted.
//!
//! While the permanent weave is not empty, the election also draws a recall target
//! ([`RecallTarget`]) from the beacon; the `recall_reward_share` of the reward is minted only
//! with a valid recall proof of it from one of the winner's active sectors holding that piece.
//! A recall proof that does not verify refuses the message (the winner may submit again
//! without one, for the rest of the reward).

use crate::economics::epoch_reward;
use crate::rules::{check_operator, miner, Ctx};
use crate::state::State;
use strata_chain_client::permanent::{RecallProof, RecallRecord, RecallTarget};
use strata_chain_client::types::{Epoch, MinerId, RandomnessTag};
use strata_chain_client::views::{DealStatus, Draw, ProofRecord, SectorStatus, WinningTicket};
use strata_chain_client::{Address, ChainError, Token};
use strata_params::ProofType;
use strata_primitives::node::Node;
use strata_prover::proof_file::PublicData;
use strata_prover::vanilla::post::PostSector;

/// Draws the winner among `(miner, qa power)` (ascending ids) with election randomness `r`:
/// the miner whose cumulative-power interval holds `r mod total`.
pub fn draw_winner(r: &Node, powers: &[(MinerId, u128)]) -> Option<MinerId> {
    let total: u128 = powers.iter().map(|p| p.1).sum();
    if total == 0 {
        return None;
    }
    let x = u128::from_le_bytes(r[..16].try_into().expect("16 bytes")) % total;
    let mut acc = 0;
    for (id, p) in powers {
        acc += p;
        if x < acc {
            return Some(*id);
        }
    }
    None
}

/// End-of-epoch: forfeit expired tickets, then draw this epoch's winner among the miners with
/// power and no fee debt.
pub fn cron(s: &mut State, ctx: &Ctx, now: Epoch) -> Result<(), ChainError> {
    s.winning.retain(|t| {
        if t.deadline <= now {
            tracing::info!(
                miner = t.miner,
                epoch = t.epoch,
                "WinningPoSt not submitted: reward not minted"
            );
            false
        } else {
            true
        }
    });
    // A miner with fee debt is left out of the draw until it repays (Filecoin: a miner in debt
    // is not eligible to win).
    let powers: Vec<(MinerId, u128)> = s
        .miners
        .iter()
        .filter(|(_, m)| m.fee_debt.is_zero())
        .map(|(id, _)| (*id, s.miner_power(*id).1))
        .filter(|p| p.1 > 0)
        .collect();
    let r = ctx.randomness(RandomnessTag::Election, now, 0)?;
    if let Some(id) = draw_winner(&r, &powers) {
        let sectors = s.miners[&id]
            .sectors
            .values()
            .filter(|x| x.status == SectorStatus::Active)
            .map(|x| x.number)
            .collect();
        let recall = RecallTarget::pick(
            &ctx.randomness(RandomnessTag::Recall, now, id)?,
            &crate::permanent::weave(s),
            ctx.constants.permanent.recall_chunk_bytes,
        );
        s.winning.push(WinningTicket {
            epoch: now,
            miner: id,
            randomness: ctx.randomness(RandomnessTag::WinningPost, now, id)?,
            sectors,
            deadline: now + ctx.constants.winning_post_window,
            reward: epoch_reward(ctx.constants, now),
            claimed: false,
            recall,
        });
    }
    Ok(())
}

/// What a WinningPoSt was paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paid {
    /// Minted in all.
    pub reward: Token,
    /// Of which the recall proof earned.
    pub recall_share: Token,
}

/// `SubmitWinningPost`: verifies the WinningPoSt (and the recall proof, if any) and mints the
/// reward — less the recall share when the ticket has a recall target and no proof of it came.
#[allow(clippy::too_many_arguments)]
pub fn submit(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    from: Address,
    id: MinerId,
    epoch: Epoch,
    proof: &str,
    recall: Option<&RecallProof>,
) -> Result<Paid, ChainError> {
    let m = miner(s, id)?;
    check_operator(m, id, &from)?;
    let i = s
        .winning
        .iter()
        .position(|t| t.miner == id && t.epoch == epoch)
        .ok_or_else(|| ChainError::not_found(format!("m{id} has no open win at epoch {epoch}")))?;
    let t = s.winning[i].clone();
    if now > t.deadline {
        return Err(ChainError::too_late(format!(
            "the WinningPoSt for epoch {epoch} was due by {}",
            t.deadline
        )));
    }
    let pt = ProofType::for_id(m.proof_type).expect("checked at creation");
    let sectors = t
        .sectors
        .iter()
        .map(|n| PostSector {
            sector_number: *n,
            comm_r: m.sectors[n].comm_r,
        })
        .collect();
    let public = PublicData::Winning {
        prover_id: id,
        randomness: t.randomness,
        sectors,
    };
    let file = ctx
        .verifier
        .verify(&pt, public, &[proof.to_string()])
        .map_err(|e| ChainError::bad_proof(format!("WinningPoSt for epoch {epoch}: {e}")))?;
    let (share_n, share_d) = ctx.constants.permanent.recall_reward_share;
    let recall_share = match t.recall {
        Some(_) => Token(crate::economics::mul_div(
            t.reward.0,
            share_n as u128,
            share_d.max(1) as u128,
        )),
        None => Token::ZERO,
    };
    let recall_draw = ctx.randomness(RandomnessTag::Recall, epoch, id)?;
    let record = match (t.recall, recall) {
        (Some(target), Some(p)) => Some(check_recall(s, id, &target, p)?),
        (None, Some(_)) => {
            return Err(ChainError::invalid(format!(
                "the win at epoch {epoch} has no recall target (the weave was empty)"
            )))
        }
        _ => None,
    };
    let reward = if record.is_some() || t.recall.is_none() {
        t.reward
    } else {
        Token(t.reward.0 - recall_share.0)
    };
    let recall_share = if record.is_some() {
        recall_share
    } else {
        Token::ZERO
    };
    s.winning.remove(i);
    let c = ctx.constants;
    s.mint_reward(
        id,
        reward,
        now,
        c.reward_vesting_period,
        c.reward_vesting_step,
        &format!("block_reward epoch {epoch}"),
    )?;
    s.repay_debt(id)?;
    s.miner_mut(id)?.blocks_won += 1;
    s.proofs.push(ProofRecord {
        epoch: now,
        miner: id,
        what: format!("winning epoch {epoch}"),
        file,
        draws: std::iter::once(Draw {
            tag: RandomnessTag::WinningPost,
            epoch,
            entropy: id,
            value: t.randomness,
        })
        .chain(record.as_ref().map(|_| Draw {
            tag: RandomnessTag::Recall,
            epoch,
            entropy: id,
            value: recall_draw,
        }))
        .collect(),
        recall: record,
        aggregate: None,
    });
    Ok(Paid {
        reward,
        recall_share,
    })
}

/// Checks a recall proof for `target` from miner `id`: its sector must be active and hold an
/// active replica deal of the target's piece; the chunk and path must hash through the piece's
/// CommP, at the piece's place in the sector, to the sector's CommD. Returns the record an
/// auditor re-verifies.
fn check_recall(
    s: &State,
    id: MinerId,
    target: &RecallTarget,
    p: &RecallProof,
) -> Result<RecallRecord, ChainError> {
    let bad = |m: String| ChainError::bad_proof(format!("recall proof: {m}"));
    let m = &s.miners[&id];
    let sec = m
        .sectors
        .get(&p.sector)
        .filter(|x| x.status == SectorStatus::Active)
        .ok_or_else(|| bad(format!("m{id} has no active sector {}", p.sector)))?;
    let piece = s.endowment.pieces.get(&target.piece).ok_or_else(|| {
        ChainError::internal(format!("recall target piece {} is gone", target.piece))
    })?;
    let index = sec
        .deals
        .iter()
        .position(|d| {
            s.deals.get(d).is_some_and(|d| {
                d.status == DealStatus::Active
                    && d.permanent.is_some_and(|r| r.piece == target.piece)
            })
        })
        .ok_or_else(|| {
            bad(format!(
                "sector {} holds no active replica of piece {}: the winner does not store the recalled chunk",
                p.sector, target.piece
            ))
        })?;
    let pt = ProofType::for_id(m.proof_type).expect("checked at creation");
    let sizes = sec
        .deals
        .iter()
        .map(|d| strata_primitives::sizes::PaddedPieceSize::new(s.deals[d].proposal.piece_size))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ChainError::internal(format!("sector {} deal sizes: {e}", p.sector)))?;
    let offsets = strata_sealer::pieces::layout(pt.sector_size, &sizes)
        .map_err(|e| ChainError::internal(format!("sector {} layout: {e}", p.sector)))?;
    let record = RecallRecord {
        target: *target,
        piece_cid: piece.piece_cid,
        piece_size: piece.piece_size,
        piece_offset: offsets[index],
        comm_d: sec.comm_d,
        sector_size: pt.sector_size.bytes(),
        proof: p.clone(),
    };
    record.verify().map_err(|e| bad(e.to_string()))?;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_chain_client::beacon::{draw, BeaconSecretKey};

    /// Over 20,000 beacon epochs, each miner wins in proportion to its power: the share is within
    /// 4 standard deviations (binomial) of its power share.
    #[test]
    fn draw_tracks_power_shares() {
        let powers = [(1000, 2048u128), (1001, 3 * 2048), (1002, 6 * 2048 * 10)];
        let total: u128 = powers.iter().map(|p| p.1).sum();
        let n = 20_000;
        let mut wins = std::collections::BTreeMap::new();
        let key = BeaconSecretKey::from_wide(&[42; 64]);
        let mut b = [0; 32];
        for e in 1..=n {
            b = key.sign(e as u64).randomness();
            let w = draw_winner(&draw(&b, RandomnessTag::Election, e, 0), &powers).unwrap();
            *wins.entry(w).or_insert(0u32) += 1;
        }
        for (id, p) in powers {
            let share = p as f64 / total as f64;
            let sd = (n as f64 * share * (1.0 - share)).sqrt();
            let got = wins.get(&id).copied().unwrap_or(0) as f64;
            assert!(
                (got - n as f64 * share).abs() < 4.0 * sd,
                "m{id}: {got} wins, expected {}",
                n as f64 * share
            );
        }
        assert_eq!(draw_winner(&b, &[]), None);
    }
}
