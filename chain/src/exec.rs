//! Applying messages and epochs. A message is checked (signature, nonce) and applied to a copy
//! of the state; only if every rule passes does the copy replace the state, so a refused message
//! changes nothing — which is what makes the batch messages (`PreCommitSectorBatch`,
//! `ProveCommitAggregate`, `ExtendSectorExpiration`, `SubmitWindowPostBatch`) all or nothing: an
//! entry refused after others were applied drops the copy with them. An epoch is the pending
//! messages followed by the cron: market, miners (vesting, expired pre-commits, pending worker
//! changes, the closing deadline), rewards (forfeits, the election).

use crate::rules::Ctx;
use crate::state::State;
use crate::{market, miner, proving, rewards};
use serde_json::{json, Value};
use strata_chain_client::types::{Epoch, Method, PartitionPost};
use strata_chain_client::views::Pot;
use strata_chain_client::{ChainError, ErrorKind, SignedMessage, Token};

/// Checks and applies `msg` to `state` for the epoch being built; on error `state` is unchanged.
pub fn apply_message(
    state: &mut State,
    ctx: &Ctx,
    msg: &SignedMessage,
) -> Result<Value, ChainError> {
    msg.verify().map_err(|e| {
        ChainError::new(
            ErrorKind::BadSignature,
            format!("message from {}: {e}", msg.message.from),
        )
    })?;
    if msg.message.network != ctx.network {
        return Err(ChainError::wrong_network(format!(
            "message signed for network {:?}; this is {:?}",
            msg.message.network, ctx.network
        )));
    }
    let from = msg.message.from;
    let expected = state.accounts.get(&from).map(|a| a.nonce).unwrap_or(0);
    if msg.message.nonce != expected {
        return Err(ChainError::new(
            ErrorKind::WrongNonce,
            format!(
                "nonce {} from {from}; expected {expected}",
                msg.message.nonce
            ),
        ));
    }
    let mut s = state.clone();
    let now = s.epoch + 1;
    let result = dispatch(&mut s, ctx, now, msg)?;
    s.accounts.entry(from).or_default().nonce += 1;
    *state = s;
    Ok(result)
}

fn dispatch(
    s: &mut State,
    ctx: &Ctx,
    now: Epoch,
    msg: &SignedMessage,
) -> Result<Value, ChainError> {
    let from = msg.message.from;
    let nothing = Ok(Value::Null);
    match msg.message.call.clone() {
        Method::Transfer { to, amount } => {
            s.transfer(Pot::Balance(from), Pot::Balance(to), amount, "transfer")?;
            nothing
        }
        Method::CreateMiner {
            worker,
            proof_type,
            deal_endpoint,
        } => {
            let id = miner::create(s, ctx, now, from, worker, proof_type, deal_endpoint)?;
            Ok(json!({ "miner": id }))
        }
        Method::AddMinerBalance { miner: id, amount } => {
            miner::add_balance(s, from, id, amount)?;
            nothing
        }
        Method::WithdrawMinerBalance { miner: id, amount } => {
            miner::withdraw(s, from, id, amount)?;
            nothing
        }
        Method::PreCommit {
            miner: id,
            sector_number,
            comm_r,
            comm_d,
            ticket_epoch,
            expiration,
            deals,
        } => {
            let p = miner::PreCommit {
                sector_number,
                comm_r,
                comm_d,
                ticket_epoch,
                expiration,
                deals,
            };
            let dep = miner::precommit_batch(s, ctx, now, from, id, vec![p])?;
            Ok(json!({ "deposit": dep, "seed_epoch": now + ctx.constants.seed_delay }))
        }
        Method::PreCommitSectorBatch { miner: id, sectors } => {
            let n = sectors.len() as u128;
            let dep = miner::precommit_batch(s, ctx, now, from, id, sectors)?;
            Ok(json!({
                "deposit": dep,
                "total_deposit": Token(dep.0 * n),
                "seed_epoch": now + ctx.constants.seed_delay,
            }))
        }
        Method::ProveCommit {
            miner: id,
            sector_number,
            proofs,
        } => {
            miner::prove_commit(s, ctx, now, from, id, sector_number, &proofs)?;
            Ok(activated(s, id, sector_number))
        }
        Method::ProveCommitAggregate {
            miner: id,
            sector_numbers,
            aggregate,
        } => {
            miner::prove_commit_aggregate(s, ctx, now, from, id, &sector_numbers, &aggregate)?;
            let sectors: Vec<Value> = sector_numbers
                .iter()
                .map(|n| {
                    let mut v = activated(s, id, *n);
                    v["sector"] = json!(n);
                    v
                })
                .collect();
            Ok(json!({ "sectors": sectors }))
        }
        Method::ChangeWorkerAddress {
            miner: id,
            new_worker,
        } => {
            let at = miner::change_worker(s, ctx, now, from, id, new_worker)?;
            Ok(json!({ "new_worker": new_worker, "effective_at": at }))
        }
        Method::ConfirmChangeWorkerAddress { miner: id } => {
            let w = miner::confirm_worker(s, now, from, id)?;
            Ok(json!({ "worker": w }))
        }
        Method::ExtendSectorExpiration {
            miner: id,
            extensions,
        } => {
            miner::extend_expiration(s, ctx, now, from, id, &extensions)?;
            nothing
        }
        Method::SubmitWindowPost {
            miner: id,
            deadline,
            partition,
            skipped,
            proof,
        } => {
            let post = PartitionPost {
                partition,
                skipped,
                proof,
            };
            proving::window_posts(s, ctx, now, from, id, deadline, &[post])?;
            nothing
        }
        Method::SubmitWindowPostBatch {
            miner: id,
            deadline,
            partitions,
        } => {
            proving::window_posts(s, ctx, now, from, id, deadline, &partitions)?;
            nothing
        }
        Method::SubmitWinningPost {
            miner: id,
            epoch,
            proof,
            recall,
        } => {
            let paid = rewards::submit(s, ctx, now, from, id, epoch, &proof, recall.as_ref())?;
            Ok(json!({ "reward": paid.reward, "recall_share": paid.recall_share }))
        }
        Method::StorePermanent {
            piece_cid,
            piece_size,
            replicas,
            max_fee,
        } => {
            let (piece, q) = crate::permanent::store(
                s, ctx, now, from, piece_cid, piece_size, replicas, max_fee,
            )?;
            Ok(json!({ "piece": piece, "quote": q }))
        }
        Method::ClaimReplica {
            miner: id,
            piece,
            start_epoch,
        } => {
            let deal = crate::permanent::claim(s, ctx, now, from, id, piece, start_epoch)?;
            Ok(json!({ "deal": deal }))
        }
        Method::DeclareFaults { miner: id, sectors } => {
            proving::declare_faults(s, ctx, now, from, id, &sectors)?;
            nothing
        }
        Method::DeclareRecoveries { miner: id, sectors } => {
            proving::declare_recoveries(s, ctx, now, from, id, &sectors)?;
            nothing
        }
        Method::TerminateSectors { miner: id, sectors } => {
            proving::terminate_sectors(s, ctx, now, from, id, &sectors)?;
            nothing
        }
        Method::AddEscrow { to, amount } => {
            market::add_escrow(s, from, to, amount)?;
            nothing
        }
        Method::WithdrawEscrow {
            from: holder,
            amount,
        } => {
            market::withdraw_escrow(s, from, holder, amount)?;
            nothing
        }
        Method::GrantDatacap { to, bytes } => {
            market::grant_datacap(s, from, to, bytes)?;
            nothing
        }
        Method::PublishDeals { miner: id, deals } => {
            if let Some((i, d)) = deals
                .iter()
                .enumerate()
                .find(|(_, d)| d.proposal.network != ctx.network)
            {
                return Err(ChainError::wrong_network(format!(
                    "deal {i} was signed for network {:?}; this is {:?}",
                    d.proposal.network, ctx.network
                )));
            }
            let ids = market::publish(s, ctx, now, from, id, deals)?;
            Ok(json!({ "deals": ids }))
        }
    }
}

/// What a prove-commit returns for an activated sector: its pledge and where it proves.
fn activated(s: &State, id: u64, n: u64) -> Value {
    let sec = &s.miners[&id].sectors[&n];
    json!({
        "initial_pledge": sec.initial_pledge,
        "deadline": sec.location.map(|l| l.0),
        "partition": sec.location.map(|l| l.1),
    })
}

/// Runs the end-of-epoch work for `now` (= `state.epoch + 1`) and advances the state to it.
pub fn end_epoch(state: &mut State, ctx: &Ctx, now: Epoch) -> Result<(), ChainError> {
    debug_assert_eq!(now, state.epoch + 1);
    market::cron(state, ctx, now)?;
    proving::cron(state, ctx, now)?;
    rewards::cron(state, ctx, now)?;
    crate::permanent::cron(state, ctx, now)?;
    state.epoch = now;
    state.check_invariants().map_err(|e| {
        ChainError::internal(format!(
            "money invariant broken, epoch {now} not applied: {e}"
        ))
    })
}

/// The genesis state.
pub fn genesis_state(g: &crate::config::Genesis) -> State {
    let mut accounts = std::collections::BTreeMap::new();
    for a in &g.accounts {
        accounts.insert(
            a.address,
            crate::state::Account {
                balance: a.balance,
                datacap: a.datacap,
                ..Default::default()
            },
        );
    }
    State {
        epoch: 0,
        accounts,
        miners: Default::default(),
        next_miner_id: 1000,
        deals: Default::default(),
        next_deal_id: 0,
        supply: strata_chain_client::views::Supply {
            genesis: g.total(),
            minted: Token::ZERO,
            burnt: Token::ZERO,
        },
        winning: vec![],
        published_proposals: Default::default(),
        endowment: Default::default(),
        events: vec![],
        proofs: vec![],
    }
}
