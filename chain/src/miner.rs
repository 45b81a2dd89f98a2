//! Filecoin's miner actor, onboarding side: creation, balances, pre-commit (deposit, ticket age,
//! deals and CommD) one sector or a batch at a time, prove-commit (seal proof, initial pledge,
//! power, deadline assignment) one proof or an aggregate at a time, the worker key change and
//! sector extensions. The proving side (WindowPoSt, faults, terminations, the deadline cron) is
//! in [`crate::proving`].

use crate::economics;
use crate::market;
use crate::rules::{
    self, check_operator, check_owner, check_unique, miner, qa_power, sector_size, Ctx,
};
use crate::state::{Miner, Partition, Sector, State};
use strata_chain_client::types::{DealId, Epoch, MinerId, PreCommitEntry, RandomnessTag};
use strata_chain_client::views::{AggregateRecord, Draw, Pot, ProofRecord, SectorStatus};
use strata_chain_client::{Address, ChainError, Token};
use strata_params::ProofType;
use strata_prover::proof_file::{ProofFile, PublicData};
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

/// `PreCommit` parameters: the fields of one pre-commit, as `PreCommitSectorBatch` lists them.
pub type PreCommit = PreCommitEntry;

/// The most bytes an aggregate seal proof may have (Filecoin's `MAX_AGGREGATED_PROOF_SIZE`).
pub const MAX_AGGREGATE_PROOF_BYTES: usize = 81_960;

/// `PreCommit` (one entry) and `PreCommitSectorBatch` (Filecoin's `PreCommitSectorBatch2`): 1 to
/// `max_precommit_batch` entries, distinct sector numbers and no deal named twice across them,
/// every entry checked as a single pre-commit is ([`check_precommit`]) before anything is
/// applied, then the sum of the deposits checked once against the available balance; then each
/// sector is recorded with its deposit locked. A refused batch changes nothing (the message is
/// applied to a copy of the state, see [`crate::exec`]). Returns the deposit of each sector.
pub fn precommit_batch(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    from: Address,
    id: MinerId,
    entries: Vec<PreCommitEntry>,
) -> Result<Token, ChainError> {
    let c = ctx.constants;
    let m = miner(s, id)?;
    check_operator(m, id, &from)?;
    if entries.is_empty() {
        return Err(ChainError::invalid("the pre-commit batch names no sector"));
    }
    if entries.len() as u64 > c.max_precommit_batch {
        return Err(ChainError::invalid(format!(
            "the pre-commit batch names {} sectors; at most {} are allowed",
            entries.len(),
            c.max_precommit_batch
        )));
    }
    if entries.len() > 1 {
        let numbers: Vec<u64> = entries.iter().map(|e| e.sector_number).collect();
        check_unique(&numbers, "sector number", "the pre-commit batch")?;
        let deals: Vec<DealId> = entries.iter().flat_map(|e| e.deals.clone()).collect();
        check_unique(&deals, "deal", "the pre-commit batch")?;
    }
    for e in &entries {
        check_precommit(s, ctx, now, id, e)?;
    }
    // The deposit depends on the epoch and the network's power, which no pre-commit changes:
    // every sector of the batch pays the same.
    let deposit = precommit_deposit(s, ctx, now, m.proof_type);
    let total = deposit
        .0
        .checked_mul(entries.len() as u128)
        .map(Token)
        .ok_or_else(|| ChainError::invalid("the batch's deposit overflows"))?;
    if m.available < total {
        return Err(ChainError::insufficient(format!(
            "pre-committing {} sectors needs {total} of deposit ({deposit} each); m{id} has {} \
             available",
            entries.len(),
            m.available
        )));
    }
    for e in entries {
        apply_precommit(s, ctx, now, id, e, deposit)?;
    }
    Ok(deposit)
}

/// The pre-commit deposit of one sector now: it covers the sector's maximum QA power (all of it
/// verified), whatever the deals named now: what counts as verified is only known at
/// prove-commit.
fn precommit_deposit(s: &State, ctx: &Ctx, now: Epoch, proof_type: u64) -> Token {
    let size = sector_size(proof_type);
    economics::precommit_deposit(
        ctx.constants,
        now,
        s.network_power().1,
        qa_power(size, size),
    )
}

/// The checks of one pre-commit: the sector number is new, no fee debt, the ticket's age, the
/// sector's life, the deals and the CommD.
pub fn check_precommit(
    s: &State,
    ctx: &Ctx,
    now: Epoch,
    id: MinerId,
    p: &PreCommitEntry,
) -> Result<(), ChainError> {
    let c = ctx.constants;
    let m = miner(s, id)?;
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
    market::check_precommit_deals(s, now, id, m.proof_type, &p.deals, &p.comm_d, p.expiration)
}

/// Records a checked pre-commit: draws its ticket, locks `deposit`, assigns its deals.
fn apply_precommit(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    id: MinerId,
    p: PreCommitEntry,
    deposit: Token,
) -> Result<(), ChainError> {
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

/// A sector ready to be proven: its seal's public inputs as the chain derives them, and the
/// draws behind them.
struct Provable {
    number: u64,
    public: PublicData,
    draws: Vec<Draw>,
}

/// The checks of one prove-commit — the sector is pre-committed, its seed epoch has passed, its
/// pre-commit has not expired, its deals can still activate — and its seal public inputs.
fn check_provable(
    s: &State,
    ctx: &Ctx,
    now: Epoch,
    id: MinerId,
    number: u64,
) -> Result<Provable, ChainError> {
    let c = ctx.constants;
    let m = miner(s, id)?;
    let sector = m.sectors.get(&number).ok_or_else(|| {
        ChainError::not_found(format!("sector {number} of m{id} was never pre-committed"))
    })?;
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
    let inputs = SealPublicInputs {
        proof_type: pt.id,
        prover_id: id,
        sector_number: number,
        ticket: sector.ticket,
        seed: seed_draw.value,
        comm_d: sector.comm_d,
        comm_r: sector.comm_r,
    };
    Ok(Provable {
        number,
        public: PublicData::Porep { inputs },
        draws: vec![ticket_draw, seed_draw],
    })
}

/// `ProveCommit`: checks the deals can still activate, verifies the seal proof with the chain's
/// seed, then activates the sector ([`activate_sector`]).
pub fn prove_commit(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    from: Address,
    id: MinerId,
    number: u64,
    proofs: &[String],
) -> Result<(), ChainError> {
    let m = miner(s, id)?;
    check_operator(m, id, &from)?;
    let pt = proof_type(m);
    let p = check_provable(s, ctx, now, id, number)?;
    let file = ctx
        .verifier
        .verify(&pt, p.public, proofs)
        .map_err(|e| ChainError::bad_proof(format!("seal proof of sector {number}: {e}")))?;
    activate_sector(s, ctx, now, id, number, file, p.draws, None)
}

/// `ProveCommitAggregate` (Filecoin's, SnarkPack): 1 to `max_aggregate_sectors` distinct sectors
/// listed in ascending order — the order the aggregate's proofs must be in, as Filecoin's
/// sector bitfield implies — each checked as a prove-commit checks it, their seal public inputs
/// derived by the chain in that order and the aggregate verified against all of them; then every
/// sector is activated as `ProveCommit` activates it, in ascending order (so each pledge is the
/// one a `ProveCommit` of that sector would get after the previous ones in the same epoch).
/// Every sector's proof record carries its public inputs and points at the aggregate, whose
/// proof is in the first sector's record. All or nothing (unlike Filecoin, which activates the
/// valid pre-commits and skips the others).
pub fn prove_commit_aggregate(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    from: Address,
    id: MinerId,
    numbers: &[u64],
    aggregate: &str,
) -> Result<(), ChainError> {
    let c = ctx.constants;
    let m = miner(s, id)?;
    check_operator(m, id, &from)?;
    if numbers.is_empty() {
        return Err(ChainError::invalid("the aggregate names no sector"));
    }
    if numbers.len() as u64 > c.max_aggregate_sectors {
        return Err(ChainError::invalid(format!(
            "the aggregate names {} sectors; at most {} are allowed",
            numbers.len(),
            c.max_aggregate_sectors
        )));
    }
    check_unique(numbers, "sector", "the aggregate")?;
    if numbers.windows(2).any(|w| w[0] > w[1]) {
        return Err(ChainError::invalid(
            "the aggregate's sectors must be listed in ascending order, the order of the \
             proofs inside it",
        ));
    }
    if aggregate.len() > 2 * MAX_AGGREGATE_PROOF_BYTES {
        return Err(ChainError::invalid(format!(
            "the aggregate proof has {} bytes; at most {MAX_AGGREGATE_PROOF_BYTES} are allowed",
            aggregate.len() / 2
        )));
    }
    let pt = proof_type(m);
    let provable = numbers
        .iter()
        .map(|n| check_provable(s, ctx, now, id, *n))
        .collect::<Result<Vec<_>, _>>()?;
    let publics = provable.iter().map(|p| p.public.clone()).collect();
    let verified = ctx
        .verifier
        .verify_aggregate(&pt, publics, aggregate)
        .map_err(|e| {
            ChainError::bad_proof(format!("aggregate seal proof of sectors {numbers:?}: {e}"))
        })?;
    if verified.files.len() != provable.len() {
        return Err(ChainError::internal(format!(
            "the verifier returned {} proof files for {} sectors",
            verified.files.len(),
            provable.len()
        )));
    }
    for (i, (p, file)) in provable.into_iter().zip(verified.files).enumerate() {
        let record = AggregateRecord {
            sectors: numbers.to_vec(),
            srs_digest: verified.srs_digest.clone(),
            proof: (i == 0).then(|| aggregate.to_string()),
        };
        activate_sector(s, ctx, now, id, p.number, file, p.draws, Some(record))?;
    }
    Ok(())
}

/// Activates a proven sector: counts the verified deals whose term fits the sector's life,
/// releases the deposit, locks the initial pledge on the resulting QA power, activates the
/// deals, assigns a deadline and partition, and records the proof.
#[allow(clippy::too_many_arguments)]
fn activate_sector(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    id: MinerId,
    number: u64,
    file: ProofFile,
    draws: Vec<Draw>,
    aggregate: Option<AggregateRecord>,
) -> Result<(), ChainError> {
    let c = ctx.constants;
    let m = miner(s, id)?;
    let pt = proof_type(m);
    let sector = m.sectors[&number].clone();
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
    let what = match &aggregate {
        None => format!("seal sector {number}"),
        Some(_) => format!("seal sector {number} (aggregate)"),
    };
    s.proofs.push(ProofRecord {
        epoch: now,
        miner: id,
        what,
        file,
        draws,
        recall: None,
        aggregate,
    });
    Ok(())
}

/// `ChangeWorkerAddress` (Filecoin's `ChangeWorkerAddress`, owner only): the new worker may take
/// over `worker_key_change_delay` epochs from now; until then the current worker still signs.
/// Refused while another change is pending (Filecoin keeps the pending one and ignores the new
/// key silently) and for the current worker. Returns the effective epoch.
pub fn change_worker(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    from: Address,
    id: MinerId,
    new_worker: Address,
) -> Result<Epoch, ChainError> {
    let m = miner(s, id)?;
    check_owner(m, id, &from)?;
    if let Some((w, at)) = m.pending_worker {
        return Err(ChainError::duplicate(format!(
            "m{id} already has a change to worker {w} pending (effective at epoch {at})"
        )));
    }
    if new_worker == m.worker {
        return Err(ChainError::invalid(format!(
            "{new_worker} is already m{id}'s worker"
        )));
    }
    let at = now + ctx.constants.key_change_delay();
    s.miner_mut(id)?.pending_worker = Some((new_worker, at));
    Ok(at)
}

/// `ConfirmChangeWorkerAddress` (owner only): the pending worker takes over, once its effective
/// epoch is reached (Filecoin's confirm does nothing before it; here it is refused, so the owner
/// learns it came too early). Returns the new worker.
pub fn confirm_worker(
    s: &mut State,
    now: Epoch,
    from: Address,
    id: MinerId,
) -> Result<Address, ChainError> {
    let m = miner(s, id)?;
    check_owner(m, id, &from)?;
    let (w, at) = m
        .pending_worker
        .ok_or_else(|| ChainError::not_found(format!("m{id} has no worker change pending")))?;
    if now < at {
        return Err(ChainError::too_early(format!(
            "the change to worker {w} takes effect at epoch {at}"
        )));
    }
    process_pending_worker(s.miner_mut(id)?, now);
    Ok(w)
}

/// Puts a pending worker in place if its effective epoch is reached (Filecoin's
/// `process_pending_worker`: by the owner's confirm and at each deadline's close).
pub(crate) fn process_pending_worker(m: &mut Miner, now: Epoch) {
    if let Some((w, at)) = m.pending_worker {
        if now >= at {
            m.worker = w;
            m.pending_worker = None;
        }
    }
}

/// `ExtendSectorExpiration` (Filecoin's `ExtendSectorExpiration2` without claim dropping): each
/// sector once, each active (Filecoin refuses faulty — and so recovering — sectors: only active
/// ones are replaced in their partition), not past its expiration, the new expiration later
/// than the current one, the life from activation at least `min_sector_lifetime` and at most
/// `max_sector_lifetime`, and within the term_max of every verified deal the sector counts
/// (Filecoin: a maintained claim's term_start + term_max). Power and pledge are unchanged. All
/// or nothing.
pub fn extend_expiration(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    from: Address,
    id: MinerId,
    extensions: &[(u64, Epoch)],
) -> Result<(), ChainError> {
    let c = ctx.constants;
    let m = miner(s, id)?;
    check_operator(m, id, &from)?;
    if extensions.is_empty() {
        return Err(ChainError::invalid("the extension names no sector"));
    }
    let numbers: Vec<u64> = extensions.iter().map(|e| e.0).collect();
    check_unique(&numbers, "sector", "ExtendSectorExpiration")?;
    for &(n, new) in extensions {
        let sec = m
            .sectors
            .get(&n)
            .ok_or_else(|| ChainError::not_found(format!("m{id} has no sector {n}")))?;
        if sec.status != SectorStatus::Active {
            return Err(ChainError::invalid(format!(
                "sector {n} is {:?}; only active sectors are extended",
                sec.status
            )));
        }
        if sec.expiration < now {
            return Err(ChainError::too_late(format!(
                "sector {n} expired at epoch {}",
                sec.expiration
            )));
        }
        if new <= sec.expiration {
            return Err(ChainError::invalid(format!(
                "sector {n} expires at epoch {}; an extension must be later, not {new}",
                sec.expiration
            )));
        }
        let activation = sec.activation.unwrap_or(sec.precommit_epoch);
        let life = new - activation;
        if life < c.min_sector_lifetime || life > c.max_sector_lifetime {
            return Err(ChainError::invalid(format!(
                "expiration {new} gives sector {n} a life of {life} epochs from its activation \
                 at {activation}; allowed {}..={}",
                c.min_sector_lifetime, c.max_sector_lifetime
            )));
        }
        if sec.verified_space > 0 {
            let old_life = sec.expiration - activation;
            for d in &sec.deals {
                let Some(deal) = s.deals.get(d) else { continue };
                if let Some(t) = deal
                    .verified_term
                    .filter(|t| deal.proposal.verified && t.fits(old_life))
                {
                    if !t.fits(life) {
                        return Err(ChainError::forbidden(format!(
                            "verified deal {d} in sector {n} allows a sector life of at most {} \
                             epochs from activation; {life} asked",
                            t.max
                        )));
                    }
                }
            }
        }
    }
    let m = s.miner_mut(id)?;
    for &(n, new) in extensions {
        m.sectors.get_mut(&n).expect("checked").expiration = new;
    }
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
