//! The proving side of Filecoin's miner actor: WindowPoSt per partition in its deadline's window,
//! declared faults and recoveries (before the fault cutoff), terminations with the FIP-0098 fee,
//! and the deadline cron — missed posts become faults (no fee the period they are detected),
//! continued faults pay the fault fee, sectors faulty too long are terminated, expired sectors
//! release their pledge — plus vesting and expired pre-commits.

use crate::economics;
use crate::market;
use crate::miner::proof_type;
use crate::rules::{self, check_operator, check_unique, miner, qa_power, sector_size, Ctx};
use crate::state::{Miner, State};
use strata_chain_client::types::{Epoch, MinerId, PartitionPost, RandomnessTag};
use strata_chain_client::views::{Pot, ProofRecord, SectorStatus};
use strata_chain_client::{Address, ChainError, Token};
use strata_prover::proof_file::PublicData;
use strata_prover::vanilla::post::PostSector;

fn set_status(
    s: &mut State,
    id: MinerId,
    number: u64,
    status: SectorStatus,
    faulty_since: Option<Epoch>,
) {
    let sec = s
        .miners
        .get_mut(&id)
        .and_then(|m| m.sectors.get_mut(&number))
        .expect("sector exists");
    sec.status = status;
    sec.faulty_since = faulty_since;
}

/// `SubmitWindowPost` (one partition) and `SubmitWindowPostBatch`: 1 to `posted_partitions_max`
/// partitions of the open deadline (Filecoin's `POSTED_PARTITIONS_MAX`), each named once
/// (Filecoin: "duplicate partitions proven"), each checked and applied as [`window_post`] does
/// one — so here every partition must prove a sector, where Filecoin asks that of the message.
/// All or nothing: one bad partition refuses the message.
pub fn window_posts(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    from: Address,
    id: MinerId,
    deadline: u64,
    posts: &[PartitionPost],
) -> Result<(), ChainError> {
    let m = miner(s, id)?;
    check_operator(m, id, &from)?;
    if posts.is_empty() {
        return Err(ChainError::invalid("the WindowPoSt names no partition"));
    }
    let max = ctx.constants.posted_partitions_max;
    if posts.len() as u64 > max {
        return Err(ChainError::invalid(format!(
            "the WindowPoSt names {} partitions; at most {max} are allowed",
            posts.len()
        )));
    }
    let parts: Vec<u64> = posts.iter().map(|p| p.partition).collect();
    check_unique(&parts, "partition", "the WindowPoSt")?;
    for p in posts {
        window_post(
            s,
            ctx,
            now,
            from,
            id,
            deadline,
            p.partition,
            &p.skipped,
            p.proof.as_ref(),
        )?;
    }
    Ok(())
}

/// `SubmitWindowPost` for one partition of the open deadline. It must prove at least one sector
/// (a post that skips them all is refused: declare faults instead); the skipped sectors become
/// faulty at once and pay the fault fee at this deadline's end.
#[allow(clippy::too_many_arguments)]
pub fn window_post(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    from: Address,
    id: MinerId,
    deadline: u64,
    partition: u64,
    skipped: &[u64],
    proof: Option<&String>,
) -> Result<(), ChainError> {
    let c = ctx.constants;
    let m = miner(s, id)?;
    check_operator(m, id, &from)?;
    if now < m.proving_period_start {
        return Err(ChainError::too_early(format!(
            "m{id}'s first proving period starts at epoch {}",
            m.proving_period_start
        )));
    }
    let t = rules::current_deadline(c, m.proving_period_start, now);
    if t.index != deadline {
        return Err(ChainError::too_late(format!(
            "deadline {deadline} is not open at epoch {now} (deadline {} is, epochs {}..{})",
            t.index, t.open, t.close
        )));
    }
    let part = m
        .deadlines
        .get(deadline as usize)
        .and_then(|d| d.partitions.get(partition as usize))
        .ok_or_else(|| {
            ChainError::not_found(format!("deadline {deadline} has no partition {partition}"))
        })?
        .clone();
    if part.proven {
        return Err(ChainError::duplicate(format!(
            "deadline {deadline} partition {partition} is already proven in this window"
        )));
    }
    check_unique(skipped, "skipped sector", "the WindowPoSt")?;
    if let Some(x) = skipped.iter().find(|x| !part.sectors.contains(x)) {
        return Err(ChainError::invalid(format!(
            "skipped sector {x} is not in this partition"
        )));
    }
    let pt = proof_type(m);
    let proving: Vec<PostSector> = part
        .sectors
        .iter()
        .filter(|n| !skipped.contains(n))
        .map(|n| &m.sectors[n])
        .filter(|sec| matches!(sec.status, SectorStatus::Active | SectorStatus::Recovering))
        .map(|sec| PostSector {
            sector_number: sec.number,
            comm_r: sec.comm_r,
        })
        .collect();
    if proving.is_empty() {
        return Err(ChainError::invalid(format!(
            "the WindowPoSt for deadline {deadline} partition {partition} proves no sector \
             (every one is skipped or faulty); declare faults instead"
        )));
    }
    let proof = proof.ok_or_else(|| ChainError::invalid("no proof for the sectors not skipped"))?;
    let draw = ctx.draw(RandomnessTag::WindowPost, t.challenge, id)?;
    let randomness = draw.value;
    let mut padded = proving.clone();
    while padded.len() < pt.window_post_sectors_per_partition {
        padded.push(*proving.last().expect("non-empty"));
    }
    let public = PublicData::Window {
        randomness,
        partitions: vec![padded],
        faulty: vec![],
    };
    let file = ctx
        .verifier
        .verify(&pt, public, std::slice::from_ref(proof))
        .map_err(|e| {
            ChainError::bad_proof(format!(
                "WindowPoSt deadline {deadline} partition {partition}: {e}"
            ))
        })?;
    s.proofs.push(ProofRecord {
        epoch: now,
        miner: id,
        what: format!("window deadline {deadline} partition {partition}"),
        file,
        draws: vec![draw],
        recall: None,
        aggregate: None,
    });
    for n in skipped {
        let sec = &s.miners[&id].sectors[n];
        match sec.status {
            SectorStatus::Active => set_status(s, id, *n, SectorStatus::Faulty, Some(now)),
            SectorStatus::Recovering => {
                set_status(s, id, *n, SectorStatus::Faulty, sec.faulty_since)
            }
            _ => {}
        }
    }
    for p in &proving {
        set_status(s, id, p.sector_number, SectorStatus::Active, None);
    }
    let part = &mut s.miner_mut(id)?.deadlines[deadline as usize].partitions[partition as usize];
    part.proven = true;
    part.skipped = skipped.to_vec();
    Ok(())
}

fn check_declarable(
    c: &strata_chain_client::views::Constants,
    m: &Miner,
    number: u64,
    now: Epoch,
) -> Result<(), ChainError> {
    let sec = m
        .sectors
        .get(&number)
        .ok_or_else(|| ChainError::not_found(format!("sector {number} does not exist")))?;
    let (dl, _) = sec.location.ok_or_else(|| {
        ChainError::invalid(format!("sector {number} is {:?}, not proving", sec.status))
    })?;
    let t = rules::next_instance(c, m.proving_period_start, dl, now);
    if now >= t.fault_cutoff && now < t.close {
        return Err(ChainError::too_late(format!(
            "deadline {dl}'s fault cutoff was epoch {}; declare after its window closes at {}",
            t.fault_cutoff, t.close
        )));
    }
    Ok(())
}

/// `DeclareFaults`: before the cutoff of each sector's deadline.
pub fn declare_faults(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    from: Address,
    id: MinerId,
    sectors: &[u64],
) -> Result<(), ChainError> {
    let m = miner(s, id)?;
    check_operator(m, id, &from)?;
    check_unique(sectors, "sector", "DeclareFaults")?;
    for n in sectors {
        check_declarable(ctx.constants, m, *n, now)?;
    }
    for n in sectors {
        let sec = &s.miners[&id].sectors[n];
        match sec.status {
            SectorStatus::Active => set_status(s, id, *n, SectorStatus::Faulty, Some(now)),
            SectorStatus::Recovering => {
                set_status(s, id, *n, SectorStatus::Faulty, sec.faulty_since)
            }
            other => return Err(ChainError::invalid(format!("sector {n} is {other:?}"))),
        }
    }
    Ok(())
}

/// `DeclareRecoveries`: faulty sectors the next WindowPoSt will prove. Refused while the miner
/// has fee debt (Filecoin's miner actor: debt first).
pub fn declare_recoveries(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    from: Address,
    id: MinerId,
    sectors: &[u64],
) -> Result<(), ChainError> {
    let m = miner(s, id)?;
    check_operator(m, id, &from)?;
    check_unique(sectors, "sector", "DeclareRecoveries")?;
    if !m.fee_debt.is_zero() {
        return Err(ChainError::insufficient(format!(
            "m{id} owes {} of fee debt; add balance to repay it before declaring recoveries",
            m.fee_debt
        )));
    }
    for n in sectors {
        check_declarable(ctx.constants, m, *n, now)?;
        if m.sectors[n].status != SectorStatus::Faulty {
            return Err(ChainError::invalid(format!(
                "sector {n} is {:?}, not faulty",
                m.sectors[n].status
            )));
        }
    }
    for n in sectors {
        let since = s.miners[&id].sectors[n].faulty_since;
        set_status(s, id, *n, SectorStatus::Recovering, since);
    }
    Ok(())
}

/// `TerminateSectors`.
pub fn terminate_sectors(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    from: Address,
    id: MinerId,
    sectors: &[u64],
) -> Result<(), ChainError> {
    let m = miner(s, id)?;
    check_operator(m, id, &from)?;
    check_unique(sectors, "sector", "TerminateSectors")?;
    for n in sectors {
        let st = m
            .sectors
            .get(n)
            .ok_or_else(|| ChainError::not_found(format!("sector {n} does not exist")))?
            .status;
        if !matches!(
            st,
            SectorStatus::Active | SectorStatus::Faulty | SectorStatus::Recovering
        ) {
            return Err(ChainError::invalid(format!(
                "sector {n} is {st:?}; only live sectors terminate"
            )));
        }
    }
    for n in sectors {
        end_sector(
            s,
            ctx,
            now,
            id,
            *n,
            SectorStatus::Terminated,
            "terminated by the miner",
        )?;
    }
    Ok(())
}

/// Ends a live sector: its pledge (all of it: penalties never draw locked pledge) is released to
/// the available balance; a termination then pays the FIP-0098 fee (vesting → available → fee
/// debt) and slashes the sector's deals; the sector leaves its partition and keeps no pledge.
fn end_sector(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    id: MinerId,
    n: u64,
    how: SectorStatus,
    why: &str,
) -> Result<(), ChainError> {
    let c = ctx.constants;
    let m = &s.miners[&id];
    let sec = m.sectors[&n].clone();
    let size = sector_size(m.proof_type);
    s.transfer(
        Pot::MinerPledge(id),
        Pot::MinerAvailable(id),
        sec.initial_pledge,
        &format!("pledge_released sector {n}"),
    )?;
    if how == SectorStatus::Terminated {
        let qa = qa_power(size, sec.verified_space);
        let ff = economics::fault_fee(c, now, s.network_power().1, qa);
        let fee = economics::termination_fee(
            c,
            sec.initial_pledge,
            now - sec.activation.unwrap_or(now),
            ff,
        );
        s.penalize(id, fee, &format!("termination_fee sector {n}: {why}"))?;
        for d in &sec.deals {
            market::slash(s, now, *d, &format!("sector {n} terminated"))?;
        }
    } else {
        crate::permanent::end_with_sector(s, now, &sec.deals)?;
    }
    let m = s.miner_mut(id)?;
    if let Some((dl, p)) = sec.location {
        m.deadlines[dl as usize].partitions[p as usize]
            .sectors
            .retain(|x| *x != n);
    }
    let sec = m.sectors.get_mut(&n).expect("exists");
    sec.status = how;
    sec.location = None;
    sec.initial_pledge = Token::ZERO;
    Ok(())
}

/// End-of-epoch miner work for `now`: vesting, expired pre-commits, and the deadline whose window
/// ends at `now`.
pub fn cron(s: &mut State, ctx: &Ctx, now: Epoch) -> Result<(), ChainError> {
    let c = ctx.constants;
    let ids: Vec<MinerId> = s.miners.keys().copied().collect();
    for id in ids {
        s.unlock_vested(id, now)?;
        let expired: Vec<u64> = s.miners[&id]
            .sectors
            .values()
            .filter(|x| {
                x.status == SectorStatus::Precommitted
                    && now >= x.precommit_epoch + c.max_prove_commit
            })
            .map(|x| x.number)
            .collect();
        for n in expired {
            let dep = s.miners[&id].sectors[&n].precommit_deposit;
            s.transfer(
                Pot::MinerPrecommit(id),
                Pot::Burn,
                dep,
                &format!("precommit_expired sector {n}"),
            )?;
            let sec = s.miner_mut(id)?.sectors.get_mut(&n).expect("exists");
            sec.status = SectorStatus::PrecommitExpired;
            sec.precommit_deposit = Token::ZERO;
        }
        let start = s.miners[&id].proving_period_start;
        if now >= start {
            let t = rules::current_deadline(c, start, now);
            if now == t.close - 1 {
                // Filecoin's deadline cron puts a pending worker in place once it is due.
                crate::miner::process_pending_worker(s.miner_mut(id)?, now);
                process_deadline(s, ctx, now, id, t.index, t.open)?;
            }
        }
        s.repay_debt(id)?;
    }
    Ok(())
}

fn process_deadline(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    id: MinerId,
    dl: u64,
    open: Epoch,
) -> Result<(), ChainError> {
    let c = ctx.constants;
    let size = sector_size(s.miners[&id].proof_type);
    let partitions = s.miners[&id].deadlines[dl as usize].partitions.clone();
    // The endowment pays this period's replicas first: every active sector the window's posts
    // proved (a partition proven, the sector not skipped).
    let proven: Vec<u64> = partitions
        .iter()
        .filter(|p| p.proven)
        .flat_map(|p| p.sectors.iter().filter(|n| !p.skipped.contains(n)))
        .filter(|n| s.miners[&id].sectors[n].status == SectorStatus::Active)
        .copied()
        .collect();
    crate::permanent::pay_proven(s, ctx, now, id, &proven)?;
    let mut fee_power = 0u128;
    for (pi, part) in partitions.iter().enumerate() {
        for n in &part.sectors {
            let sec = s.miners[&id].sectors[n].clone();
            if sec.expiration <= now {
                end_sector(s, ctx, now, id, *n, SectorStatus::Expired, "expired")?;
                continue;
            }
            if !part.proven {
                match sec.status {
                    SectorStatus::Active => set_status(s, id, *n, SectorStatus::Faulty, Some(now)),
                    SectorStatus::Recovering => {
                        set_status(s, id, *n, SectorStatus::Faulty, sec.faulty_since)
                    }
                    _ => {}
                }
            }
            let sec = s.miners[&id].sectors[n].clone();
            if let Some(since) = sec.faulty_since {
                if since + c.fault_max_age_periods * c.proving_period <= now {
                    end_sector(
                        s,
                        ctx,
                        now,
                        id,
                        *n,
                        SectorStatus::Terminated,
                        "faulty too long",
                    )?;
                } else if since < open || part.skipped.contains(n) {
                    // Faulty since before the window opened, or skipped by this window's post.
                    fee_power += qa_power(size, sec.verified_space);
                }
            }
        }
        let p = &mut s.miner_mut(id)?.deadlines[dl as usize].partitions[pi];
        p.proven = false;
        p.skipped.clear();
    }
    if fee_power > 0 {
        let fee = economics::fault_fee(c, now, s.network_power().1, fee_power);
        s.penalize(id, fee, &format!("fault_fee deadline {dl}"))?;
    }
    Ok(())
}
