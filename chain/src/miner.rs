//! Filecoin's miner actor, onboarding side: creation, balances, pre-commit (deposit, ticket age,
//! deals and CommD), prove-commit (seal proof, initial pledge, power, deadline assignment). The
//! proving side (WindowPoSt, faults, terminations, the deadline cron) is in [`crate::proving`].

use crate::economics;
use crate::market;
use crate::rules::{self, check_operator, check_owner, miner, qa_power, sector_size, Ctx};
use crate::state::{Miner, Partition, Sector, State};
use strata_chain_client::types::{DealId, Epoch, MinerId, RandomnessTag};
use strata_chain_client::views::{Pot, ProofRecord, SectorStatus};
use strata_chain_client::{Address, ChainError, Token};
use strata_params::ProofType;
use strata_primitives::node::Node;
use strata_prover::proof_file::PublicData;
use strata_prover::vanilla::porep::SealPublicInputs;

pub(crate) fn proof_type(m: &Miner) -> ProofType {
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
    let pt = ProofType::for_id(proof_type).map_err(|e| ChainError::invalid(e.to_string()))?;
    if !ctx.allowed_proof_types.contains(&proof_type) {
        return Err(ChainError::invalid(format!(
            "proof type {proof_type} ({} sectors) is not allowed on this network; allowed: {:?}",
            pt.sector_size, ctx.allowed_proof_types
        )));
    }
    let id = s.next_miner_id;
    let offset = ctx.randomness(RandomnessTag::ProvingOffset, now - 1, id)?;
    let offset = u64::from_le_bytes(offset[..8].try_into().expect("8 bytes"))
        % ctx.constants.proving_period as u64;
    s.next_miner_id += 1;
    // The first period starts at least a whole period out, so no deadline is late at once.
    let start = now + ctx.constants.proving_period + offset as i64;
    let deadlines = ctx.constants.deadlines as usize;
    s.miners.insert(
        id,
        Miner::new(owner, worker, proof_type, deal_endpoint, start, deadlines),
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
    market::check_precommit_deals(s, now, id, m.proof_type, &p.deals, &p.comm_d, p.expiration)?;
    // The deposit covers the sector's maximum QA power (all of it verified), whatever the deals
    // named now: what counts as verified is only known at prove-commit.
    let size = sector_size(m.proof_type);
    let deposit = economics::precommit_deposit(c, now, s.network_power().1, qa_power(size, size));
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
            verified_space: 0,
            location: None,
            faulty_since: None,
        },
    );
    Ok(())
}

/// `ProveCommit`: checks the deals can still activate, verifies the seal proof with the chain's
/// seed, counts the verified deals whose term fits the sector's life, releases the deposit,
/// locks the initial pledge on the resulting QA power, activates the deals, assigns a deadline
/// and partition.
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
    market::check_activation(s, now, number, &sector.deals)?;
    let pt = proof_type(m);
    let seed_draw = ctx.draw(RandomnessTag::SealSeed, seed_epoch, id)?;
    let ticket_draw = ctx.draw(RandomnessTag::Ticket, sector.ticket_epoch, id)?;
    let seed = seed_draw.value;
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
    let verified = market::verified_space(s, &sector.deals, now, sector.expiration);
    let qa = qa_power(pt.sector_size.bytes(), verified);
    let pledge = economics::initial_pledge(c, now, s.network_power().1, s.circulating(), qa);
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
    crate::permanent::on_activate(s, &sector.deals)?;
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
    sec.verified_space = verified;
    sec.location = Some((dl, part));
    s.proofs.push(ProofRecord {
        epoch: now,
        miner: id,
        what: format!("seal sector {number}"),
        file,
        draws: vec![ticket_draw, seed_draw],
        recall: None,
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
