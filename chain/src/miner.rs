//! Filecoin's miner actor: creation, balances, pre-commit (deposit, ticket age, deals and CommD),
//! prove-commit (seal proof, initial pledge, power, deadline assignment), WindowPoSt, declared
//! faults and recoveries with the cutoff, termination with the FIP-0098 fee, and the deadline
//! cron: missed posts become faults, continued faults pay the fault fee, sectors faulty too long
//! are terminated, expired sectors release their pledge.

use crate::economics;
use crate::market;
use crate::rules::{self, check_operator, check_owner, miner, qa_power, sector_size, Ctx};
use crate::state::{Deadline, Miner, Partition, Sector, State};
use std::collections::BTreeMap;
use strata_chain_client::types::{DealId, Epoch, MinerId, RandomnessTag};
use strata_chain_client::views::{Pot, ProofRecord, SectorStatus};
use strata_chain_client::{Address, ChainError, Token};
use strata_params::ProofType;
use strata_primitives::node::Node;
use strata_prover::proof_file::PublicData;
use strata_prover::vanilla::porep::SealPublicInputs;
use strata_prover::vanilla::post::PostSector;

fn proof_type(m: &Miner) -> ProofType {
    ProofType::for_id(m.proof_type).expect("checked at creation")
}

/// `CreateMiner`. Returns the new id.
pub fn create(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    owner: Address,
    worker: Address,
    proof_type: u64,
    deal_endpoint: String,
) -> Result<MinerId, ChainError> {
    ProofType::for_id(proof_type).map_err(|e| ChainError::invalid(e.to_string()))?;
    let id = s.next_miner_id;
    let offset = ctx.randomness(RandomnessTag::ProvingOffset, now - 1, id)?;
    let offset = u64::from_le_bytes(offset[..8].try_into().expect("8 bytes"))
        % ctx.constants.proving_period as u64;
    s.next_miner_id += 1;
    s.miners.insert(
        id,
        Miner {
            owner,
            worker,
            proof_type,
            deal_endpoint,
            // Start at least a whole period out, so the first deadlines are never already late.
            proving_period_start: now + ctx.constants.proving_period + offset as i64,
            available: Token::ZERO,
            precommit_deposits: Token::ZERO,
            locked_pledge: Token::ZERO,
            vesting: BTreeMap::new(),
            fee_debt: Token::ZERO,
            escrow_free: Token::ZERO,
            escrow_locked: Token::ZERO,
            sectors: BTreeMap::new(),
            deadlines: vec![Deadline::default(); ctx.constants.deadlines as usize],
            blocks_won: 0,
        },
    );
    Ok(id)
}

/// `AddMinerBalance`.
pub fn add_balance(
    s: &mut State,
    from: Address,
    id: MinerId,
    amount: Token,
) -> Result<(), ChainError> {
    miner(s, id)?;
    s.transfer(
        Pot::Balance(from),
        Pot::MinerAvailable(id),
        amount,
        "miner_deposit",
    )?;
    s.repay_debt(id)
}

/// `WithdrawMinerBalance`: owner only, from the available balance after fee debt.
pub fn withdraw(
    s: &mut State,
    from: Address,
    id: MinerId,
    amount: Token,
) -> Result<(), ChainError> {
    let owner = {
        let m = miner(s, id)?;
        check_owner(m, id, &from)?;
        m.owner
    };
    s.repay_debt(id)?;
    s.transfer(
        Pot::MinerAvailable(id),
        Pot::Balance(owner),
        amount,
        "miner_withdrawal",
    )
}

/// `PreCommit` parameters.
pub struct PreCommit {
    /// Sector number.
    pub sector_number: u64,
    /// CommR.
    pub comm_r: Node,
    /// CommD.
    pub comm_d: Node,
    /// Ticket epoch.
    pub ticket_epoch: Epoch,
    /// Expiration.
    pub expiration: Epoch,
    /// Deals.
    pub deals: Vec<DealId>,
}

/// `PreCommit`: checks, then locks the deposit.
pub fn precommit(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    from: Address,
    id: MinerId,
    p: PreCommit,
) -> Result<(), ChainError> {
    let c = ctx.constants;
    let m = miner(s, id)?;
    check_operator(m, id, &from)?;
    if m.sectors.contains_key(&p.sector_number) {
        return Err(ChainError::duplicate(format!(
            "sector number {} is already used by m{id}",
            p.sector_number
        )));
    }
    if !m.fee_debt.is_zero() {
        return Err(ChainError::insufficient(format!(
            "m{id} owes {} of fee debt; add balance to repay it first",
            m.fee_debt
        )));
    }
    if p.ticket_epoch >= now {
        return Err(ChainError::too_early(format!(
            "ticket epoch {} is not before {now}",
            p.ticket_epoch
        )));
    }
    if now - p.ticket_epoch > c.max_ticket_age {
        return Err(ChainError::too_late(format!(
            "ticket from epoch {} is older than {} epochs",
            p.ticket_epoch, c.max_ticket_age
        )));
    }
    let life = p.expiration - now;
    if life < c.min_sector_lifetime || life > c.max_sector_lifetime {
        return Err(ChainError::invalid(format!(
            "expiration {} gives a life of {life} epochs; allowed {}..={}",
            p.expiration, c.min_sector_lifetime, c.max_sector_lifetime
        )));
    }
    let verified =
        market::check_precommit_deals(s, now, id, m.proof_type, &p.deals, &p.comm_d, p.expiration)?;
    let qa = qa_power(sector_size(m.proof_type), verified);
    let deposit = economics::precommit_deposit(c, now, s.network_power().1, qa);
    let ticket = ctx.randomness(RandomnessTag::Ticket, p.ticket_epoch, id)?;
    s.transfer(
        Pot::MinerAvailable(id),
        Pot::MinerPrecommit(id),
        deposit,
        &format!("precommit_deposit sector {}", p.sector_number),
    )?;
    for d in &p.deals {
        s.deals.get_mut(d).expect("checked").sector = Some(p.sector_number);
    }
    s.miner_mut(id)?.sectors.insert(
        p.sector_number,
        Sector {
            number: p.sector_number,
            status: SectorStatus::Precommitted,
            comm_r: p.comm_r,
            comm_d: p.comm_d,
            ticket,
            ticket_epoch: p.ticket_epoch,
            precommit_epoch: now,
            activation: None,
            expiration: p.expiration,
            deals: p.deals,
            precommit_deposit: deposit,
            initial_pledge: Token::ZERO,
            verified_space: verified,
            location: None,
            faulty_since: None,
        },
    );
    Ok(())
}

/// `ProveCommit`: verifies the seal proof with the chain's seed, releases the deposit, locks the
/// initial pledge, activates the deals, assigns a deadline and partition.
pub fn prove_commit(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    from: Address,
    id: MinerId,
    number: u64,
    proofs: &[String],
) -> Result<(), ChainError> {
    let c = ctx.constants;
    let m = miner(s, id)?;
    check_operator(m, id, &from)?;
    let sector = m
        .sectors
        .get(&number)
        .ok_or_else(|| {
            ChainError::not_found(format!("sector {number} of m{id} was never pre-committed"))
        })?
        .clone();
    if sector.status == SectorStatus::PrecommitExpired {
        return Err(ChainError::too_late(format!(
            "sector {number}'s pre-commit expired at epoch {}; its deposit was burnt",
            sector.precommit_epoch + c.max_prove_commit
        )));
    }
    if sector.status != SectorStatus::Precommitted {
        return Err(ChainError::duplicate(format!(
            "sector {number} is {:?}, not pre-committed",
            sector.status
        )));
    }
    let seed_epoch = sector.precommit_epoch + c.seed_delay;
    if now <= seed_epoch {
        return Err(ChainError::too_early(format!(
            "the seed of sector {number} is drawn at epoch {seed_epoch}; prove-commit after it"
        )));
    }
    if now > sector.precommit_epoch + c.max_prove_commit {
        return Err(ChainError::too_late(format!(
            "sector {number}'s pre-commit expired at epoch {}",
            sector.precommit_epoch + c.max_prove_commit
        )));
    }
    let pt = proof_type(m);
    let seed = ctx.randomness(RandomnessTag::SealSeed, seed_epoch, id)?;
    let inputs = SealPublicInputs {
        proof_type: pt.id,
        prover_id: id,
        sector_number: number,
        ticket: sector.ticket,
        seed,
        comm_d: sector.comm_d,
        comm_r: sector.comm_r,
    };
    let file = ctx
        .verifier
        .verify(&pt, PublicData::Porep { inputs }, proofs)
        .map_err(|e| ChainError::bad_proof(format!("seal proof of sector {number}: {e}")))?;
    let qa = qa_power(pt.sector_size.bytes(), sector.verified_space);
    let circulating = Token(s.supply.total().0 - s.locked_total().0);
    let pledge = economics::initial_pledge(c, now, s.network_power().1, circulating, qa);
    s.transfer(
        Pot::MinerPrecommit(id),
        Pot::MinerAvailable(id),
        sector.precommit_deposit,
        &format!("precommit_deposit_returned sector {number}"),
    )?;
    s.transfer(
        Pot::MinerAvailable(id),
        Pot::MinerPledge(id),
        pledge,
        &format!("initial_pledge sector {number}"),
    )?;
    market::activate(s, now, &sector.deals);
    let (dl, part) = assign(
        s.miner_mut(id)?,
        c,
        now,
        number,
        pt.window_post_sectors_per_partition,
    );
    let sec = s.miner_mut(id)?.sectors.get_mut(&number).expect("exists");
    sec.status = SectorStatus::Active;
    sec.activation = Some(now);
    sec.precommit_deposit = Token::ZERO;
    sec.initial_pledge = pledge;
    sec.location = Some((dl, part));
    s.proofs.push(ProofRecord {
        epoch: now,
        miner: id,
        what: format!("seal sector {number}"),
        file,
    });
    Ok(())
}

/// Puts a sector in the deadline with the fewest live sectors, avoiding the open one and the
/// next (so it is never due before the miner can prove it), in its first partition with room.
fn assign(
    m: &mut Miner,
    c: &strata_chain_client::views::Constants,
    now: Epoch,
    number: u64,
    per_partition: usize,
) -> (u64, u64) {
    let cur = rules::current_deadline(c, m.proving_period_start, now);
    let avoid = if now < m.proving_period_start {
        [u64::MAX, u64::MAX]
    } else {
        [cur.index, (cur.index + 1) % c.deadlines]
    };
    let (dl, _) = m
        .deadlines
        .iter()
        .enumerate()
        .filter(|(i, _)| !avoid.contains(&(*i as u64)))
        .map(|(i, d)| {
            (
                i,
                d.partitions.iter().map(|p| p.sectors.len()).sum::<usize>(),
            )
        })
        .min_by_key(|(i, n)| (*n, *i))
        .expect("at least three deadlines");
    let d = &mut m.deadlines[dl];
    let part = match d
        .partitions
        .iter()
        .position(|p| p.sectors.len() < per_partition)
    {
        Some(p) => p,
        None => {
            d.partitions.push(Partition::default());
            d.partitions.len() - 1
        }
    };
    d.partitions[part].sectors.push(number);
    (dl as u64, part as u64)
}

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

/// `SubmitWindowPost` for one partition of the open deadline.
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
    if !proving.is_empty() {
        let proof =
            proof.ok_or_else(|| ChainError::invalid("no proof for the sectors not skipped"))?;
        let randomness = ctx.randomness(RandomnessTag::WindowPost, t.challenge, id)?;
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
        });
    }
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
    s.miner_mut(id)?.deadlines[deadline as usize].partitions[partition as usize].proven = true;
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

/// `DeclareRecoveries`: faulty sectors the next WindowPoSt will prove.
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

/// Ends a live sector: a termination pays the FIP-0098 fee and slashes its deals; both release
/// the remaining pledge and remove the sector from its partition.
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
    }
    let release = sec.initial_pledge.min(s.miners[&id].locked_pledge);
    s.transfer(
        Pot::MinerPledge(id),
        Pot::MinerAvailable(id),
        release,
        &format!("pledge_released sector {n}"),
    )?;
    let m = s.miner_mut(id)?;
    if let Some((dl, p)) = sec.location {
        m.deadlines[dl as usize].partitions[p as usize]
            .sectors
            .retain(|x| *x != n);
    }
    let sec = m.sectors.get_mut(&n).expect("exists");
    sec.status = how;
    sec.location = None;
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
                } else if since < open {
                    fee_power += qa_power(size, sec.verified_space);
                }
            }
        }
        s.miner_mut(id)?.deadlines[dl as usize].partitions[pi].proven = false;
    }
    if fee_power > 0 {
        let fee = economics::fault_fee(c, now, s.network_power().1, fee_power);
        s.penalize(id, fee, &format!("fault_fee deadline {dl}"))?;
    }
    Ok(())
}
