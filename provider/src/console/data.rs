//! What each console page shows, gathered from the provider's database and the chain. The same
//! structs are the JSON API (`/api/…`) and the input of the HTML pages, so the two cannot
//! disagree about a figure.

use crate::db::{LogRow, Step};
use crate::Provider;
use serde::Serialize;
use std::sync::Arc;
use strata_chain_client::types::{DealId, Epoch, MinerId};
use strata_chain_client::views::{
    DealStatus, EventFilter, MinerBalances, Pot, SectorCounts, SectorStatus,
};
use strata_chain_client::Token;
use strata_web::pagination::{PageQuery, Paging};

/// Why a page could not be gathered.
pub type Fail = String;

/// Sectors at one pipeline step.
#[derive(Clone, Debug, Serialize)]
pub struct StepCount {
    /// The step.
    pub step: Step,
    /// Sectors at it.
    pub count: u64,
}

/// A deadline whose window opens next.
#[derive(Clone, Debug, Serialize)]
pub struct NextDeadline {
    /// Index.
    pub index: u64,
    /// Window opens.
    pub open: Epoch,
    /// Window closes.
    pub close: Epoch,
    /// Live sectors assigned to it.
    pub sectors: u64,
}

/// A proving-time budget.
#[derive(Clone, Debug, Serialize)]
pub struct Budget {
    /// `window_post` or `winning_post`.
    pub op: &'static str,
    /// Wall time available, ms.
    pub budget_ms: u64,
    /// The slowest recent proof, ms.
    pub measured_ms: Option<u64>,
    /// Too close for comfort.
    pub tight: bool,
}

/// The overview page.
#[derive(Clone, Debug, Serialize)]
pub struct Overview {
    /// The miner.
    pub miner: MinerId,
    /// Chain head.
    pub head: Epoch,
    /// Whether this daemon signs (leads) or stands by.
    pub leader: bool,
    /// Balances by pot, as the chain has them.
    pub balances: MinerBalances,
    /// Collateral at stake: pre-commit deposits + locked pledge + deal collateral.
    pub collateral: Token,
    /// Raw power, bytes.
    pub raw_power: u128,
    /// Quality-adjusted power, bytes.
    pub qa_power: u128,
    /// Sectors by on-chain status.
    pub chain_sectors: SectorCounts,
    /// Sectors by pipeline step (this provider's view).
    pub pipeline: Vec<StepCount>,
    /// Blocks won.
    pub blocks_won: u64,
    /// Block rewards minted to this miner so far.
    pub rewards_won: Token,
    /// Permanent storage: replicas held and claimed, bytes, income.
    pub permanent: strata_chain_client::permanent::MinerPermanent,
    /// The next deadlines with sectors, soonest first.
    pub next_deadlines: Vec<NextDeadline>,
    /// Proving-time budgets.
    pub budgets: Vec<Budget>,
    /// Whether the console accepts actions (a token is configured).
    pub actions_enabled: bool,
}

/// Where the chain has a sector.
#[derive(Clone, Debug, Serialize)]
pub struct ChainSector {
    /// Status on chain.
    pub status: SectorStatus,
    /// Deadline and partition once active.
    pub deadline: Option<u64>,
    /// Partition.
    pub partition: Option<u64>,
    /// Activation epoch.
    pub activation: Option<Epoch>,
    /// Expiration epoch.
    pub expiration: Epoch,
}

/// A sector row of the sectors page.
#[derive(Clone, Debug, Serialize)]
pub struct SectorView {
    /// Number.
    pub number: u64,
    /// Pipeline step.
    pub step: Step,
    /// Deals in it.
    pub deals: Vec<DealId>,
    /// The last error.
    pub error: Option<String>,
    /// Failed attempts at this step.
    pub attempts: u32,
    /// Next retry not before this epoch (0: none pending).
    pub retry_at: Epoch,
    /// CommR, once sealed.
    pub comm_r: Option<String>,
    /// The chain's record, once pre-committed.
    pub chain: Option<ChainSector>,
}

/// The sectors page.
#[derive(Clone, Debug, Serialize)]
pub struct Sectors {
    /// Which rows.
    pub paging: Paging,
    /// The step filter.
    pub step: Option<Step>,
    /// Sectors per step (all of them).
    pub counts: Vec<StepCount>,
    /// This page's sectors.
    pub sectors: Vec<SectorView>,
}

/// One deadline on the timeline.
#[derive(Clone, Debug, Serialize)]
pub struct DeadlineView {
    /// Index.
    pub index: u64,
    /// Window opens.
    pub open: Epoch,
    /// Window closes.
    pub close: Epoch,
    /// Whether its window is open now.
    pub current: bool,
    /// Partitions with sectors.
    pub partitions: u64,
    /// Partitions proven in the current window.
    pub proven: u64,
    /// Live sectors.
    pub sectors: u64,
    /// Faulty sectors.
    pub faulty: u64,
    /// Recovering sectors.
    pub recovering: u64,
    /// Posts submitted (all time).
    pub posts: u64,
    /// Sectors skipped in posts (all time).
    pub skipped: u64,
    /// Windows missed (all time).
    pub missed: u64,
    /// The latest decisions about it, newest first.
    pub recent: Vec<LogRow>,
}

/// The deadline timeline.
#[derive(Clone, Debug, Serialize)]
pub struct Deadlines {
    /// Chain head.
    pub head: Epoch,
    /// Every deadline in index order.
    pub deadlines: Vec<DeadlineView>,
}

/// A deal row.
#[derive(Clone, Debug, Serialize)]
pub struct DealView {
    /// Deal id.
    pub id: DealId,
    /// Client address.
    pub client: String,
    /// CommP, hex.
    pub piece_cid: String,
    /// Padded piece size.
    pub piece_size: u64,
    /// Bytes uploaded.
    pub raw_len: u64,
    /// Price per epoch.
    pub price_per_epoch: Token,
    /// Start epoch.
    pub start_epoch: Epoch,
    /// End epoch.
    pub end_epoch: Epoch,
    /// Verified deal.
    pub verified: bool,
    /// Sector holding it.
    pub sector: Option<u64>,
    /// Status on chain (none if the chain does not know it).
    pub status: Option<DealStatus>,
    /// Paid to the provider so far.
    pub paid: Token,
}

/// The deals page.
#[derive(Clone, Debug, Serialize)]
pub struct Deals {
    /// Which rows.
    pub paging: Paging,
    /// Paid so far over this page's deals.
    pub paid_on_page: Token,
    /// This page's deals, newest first.
    pub deals: Vec<DealView>,
}

/// A proof the chain accepted from this miner.
#[derive(Clone, Debug, Serialize)]
pub struct ProofView {
    /// Its position in the miner's proofs (the download's name).
    pub index: usize,
    /// Epoch applied.
    pub epoch: Epoch,
    /// What it proved.
    pub what: String,
    /// Where to download the proof file (`strata verify FILE` checks it offline).
    pub download: String,
}

/// The proofs page.
#[derive(Clone, Debug, Serialize)]
pub struct Proofs {
    /// Which rows.
    pub paging: Paging,
    /// This page's proofs, newest first.
    pub proofs: Vec<ProofView>,
}

/// The decision log page.
#[derive(Clone, Debug, Serialize)]
pub struct Log {
    /// Which rows.
    pub paging: Paging,
    /// The kind filter.
    pub kind: Option<String>,
    /// Rows, newest first.
    pub rows: Vec<LogRow>,
}

fn db_err(e: impl std::fmt::Display) -> Fail {
    format!("database: {e}")
}

fn chain_err(e: impl std::fmt::Display) -> Fail {
    format!("chain: {e}")
}

/// What one miner has earned (block rewards, permanent-storage income), folded in from the
/// chain's events incrementally: each call reads only the blocks since the last.
#[derive(Default)]
pub struct RewardTally {
    next_epoch: Epoch,
    total: u128,
    permanent: strata_chain_client::permanent::MinerPermanent,
}

/// Sectors per step, every step listed.
pub fn step_counts(p: &Provider) -> Result<Vec<StepCount>, Fail> {
    let counts = p.db.sector_counts().map_err(db_err)?;
    Ok(Step::ALL
        .iter()
        .map(|s| StepCount {
            step: *s,
            count: counts.iter().filter(|c| c.0 == *s).map(|c| c.1).sum(),
        })
        .collect())
}

/// The overview.
pub async fn overview(
    p: &Arc<Provider>,
    tally: &tokio::sync::Mutex<RewardTally>,
    actions_enabled: bool,
) -> Result<Overview, Fail> {
    let head = p.chain.head().await.map_err(chain_err)?.epoch;
    let m = p.chain.miner(p.miner()).await.map_err(chain_err)?;
    let (rewards_won, permanent) = {
        let mut t = tally.lock().await;
        if t.next_epoch <= head {
            let events = p
                .chain
                .events(EventFilter {
                    who: Some(strata_chain_client::types::miner_name(p.miner())),
                    since: Some(t.next_epoch),
                    limit: None,
                })
                .await
                .map_err(chain_err)?;
            let events: Vec<_> = events.into_iter().filter(|e| e.epoch <= head).collect();
            t.total += events
                .iter()
                .filter(|e| e.from == Pot::Mint)
                .map(|e| e.amount.0)
                .sum::<u128>();
            t.permanent.add_income(p.miner(), &events);
            t.next_epoch = head + 1;
        }
        (Token(t.total), t.permanent.clone())
    };
    let mut permanent = permanent;
    for piece in p.chain.permanent_pieces().await.map_err(chain_err)? {
        for r in piece.replicas.iter().filter(|r| r.miner == Some(p.miner())) {
            match r.status {
                strata_chain_client::permanent::ReplicaStatus::Held => {
                    permanent.replicas_held += 1;
                    permanent.bytes_held += piece.piece_size;
                }
                strata_chain_client::permanent::ReplicaStatus::Claimed => {
                    permanent.replicas_claimed += 1
                }
                strata_chain_client::permanent::ReplicaStatus::Open => {}
            }
        }
    }
    let mut next: Vec<NextDeadline> = p
        .chain
        .deadlines(p.miner())
        .await
        .map_err(chain_err)?
        .into_iter()
        .filter_map(|d| {
            let sectors: u64 = d.partitions.iter().map(|x| x.sectors.len() as u64).sum();
            (sectors > 0 && d.timing.close > head).then_some(NextDeadline {
                index: d.timing.index,
                open: d.timing.open,
                close: d.timing.close,
                sectors,
            })
        })
        .collect();
    next.sort_by_key(|d| d.open);
    next.truncate(4);
    let b = &m.balances;
    Ok(Overview {
        miner: p.miner(),
        head,
        leader: p.leader.is_leader(),
        collateral: Token(b.precommit_deposits.0 + b.locked_pledge.0 + b.escrow_locked.0),
        balances: m.balances.clone(),
        raw_power: m.raw_power,
        qa_power: m.qa_power,
        chain_sectors: m.sectors.clone(),
        pipeline: step_counts(p)?,
        blocks_won: m.blocks_won,
        rewards_won,
        permanent,
        next_deadlines: next,
        budgets: p
            .budgets()
            .into_iter()
            .map(|b| Budget {
                op: b.op,
                budget_ms: b.budget_ms,
                measured_ms: b.measured_ms,
                tight: b.tight,
            })
            .collect(),
        actions_enabled,
    })
}

/// A page of sectors, each with the chain's record (read concurrently, one call per row).
pub async fn sectors(p: &Arc<Provider>, q: PageQuery, step: Option<Step>) -> Result<Sectors, Fail> {
    let counts = step_counts(p)?;
    let total = match step {
        Some(s) => counts.iter().find(|c| c.step == s).map_or(0, |c| c.count),
        None => counts.iter().map(|c| c.count).sum(),
    };
    let paging = Paging::new(q, total);
    let rows =
        p.db.sector_page(step, paging.offset(), paging.per)
            .map_err(db_err)?;
    let chain =
        futures_util::future::join_all(rows.iter().map(|s| p.chain.sector(p.miner(), s.number)))
            .await;
    let sectors = rows
        .into_iter()
        .zip(chain)
        .map(|(s, c)| SectorView {
            number: s.number,
            step: s.step,
            deals: s.deals,
            error: s.error,
            attempts: s.attempts,
            retry_at: s.retry_at,
            comm_r: s.comm_r,
            chain: c.ok().map(|c| ChainSector {
                status: c.status,
                deadline: c.location.map(|l| l.0),
                partition: c.location.map(|l| l.1),
                activation: c.activation,
                expiration: c.expiration,
            }),
        })
        .collect();
    Ok(Sectors {
        paging,
        step,
        counts,
        sectors,
    })
}

/// Every deadline: its window, partitions as the chain has them, and this provider's proving
/// record for it.
pub async fn deadlines(p: &Arc<Provider>) -> Result<Deadlines, Fail> {
    let head = p.chain.head().await.map_err(chain_err)?.epoch;
    let ds = p.chain.deadlines(p.miner()).await.map_err(chain_err)?;
    let counts = p.db.deadline_counts().map_err(db_err)?;
    let count = |d: u64, kind: &str| {
        counts
            .iter()
            .filter(|c| c.0 == d && c.1 == kind)
            .map(|c| c.2)
            .sum::<u64>()
    };
    let mut out = Vec::with_capacity(ds.len());
    for d in ds {
        let i = d.timing.index;
        let live = d.partitions.iter().filter(|x| !x.sectors.is_empty());
        out.push(DeadlineView {
            index: i,
            open: d.timing.open,
            close: d.timing.close,
            current: d.timing.open <= head && head < d.timing.close,
            partitions: live.clone().count() as u64,
            proven: live.clone().filter(|x| x.proven).count() as u64,
            sectors: d.partitions.iter().map(|x| x.sectors.len() as u64).sum(),
            faulty: d.partitions.iter().map(|x| x.faulty.len() as u64).sum(),
            recovering: d.partitions.iter().map(|x| x.recovering.len() as u64).sum(),
            posts: count(i, "post"),
            skipped: count(i, "post_skipped"),
            missed: count(i, "post_missed"),
            recent: p.db.deadline_log(i, 3).map_err(db_err)?,
        });
    }
    Ok(Deadlines {
        head,
        deadlines: out,
    })
}

/// A page of deals, newest first, with what the chain says of each.
pub async fn deals(p: &Arc<Provider>, q: PageQuery) -> Result<Deals, Fail> {
    let paging = Paging::new(q, p.db.deal_count().map_err(db_err)?);
    let rows =
        p.db.deal_page(paging.offset(), paging.per)
            .map_err(db_err)?;
    let chain = futures_util::future::join_all(rows.iter().map(|d| p.chain.deal(d.id))).await;
    let deals: Vec<DealView> = rows
        .into_iter()
        .zip(chain)
        .map(|(d, c)| {
            let pr = &d.proposal.proposal;
            let c = c.ok();
            DealView {
                id: d.id,
                client: pr.client.to_string(),
                piece_cid: hex::encode(pr.piece_cid),
                piece_size: pr.piece_size,
                raw_len: d.raw_len,
                price_per_epoch: pr.price_per_epoch,
                start_epoch: pr.start_epoch,
                end_epoch: pr.end_epoch,
                verified: pr.verified,
                sector: d.sector,
                status: c.as_ref().map(|c| c.status),
                paid: c.map_or(Token::ZERO, |c| c.paid),
            }
        })
        .collect();
    Ok(Deals {
        paging,
        paid_on_page: Token(deals.iter().map(|d| d.paid.0).sum()),
        deals,
    })
}

/// A page of the proofs the chain accepted from this miner, newest first.
pub async fn proofs(p: &Arc<Provider>, q: PageQuery) -> Result<Proofs, Fail> {
    let all = p.chain.proofs(p.miner()).await.map_err(chain_err)?;
    let paging = Paging::new(q, all.len() as u64);
    let proofs = all
        .iter()
        .enumerate()
        .rev()
        .skip(paging.offset() as usize)
        .take(paging.per as usize)
        .map(|(i, r)| ProofView {
            index: i,
            epoch: r.epoch,
            what: r.what.clone(),
            download: format!("/api/proofs/{i}/file"),
        })
        .collect();
    Ok(Proofs { paging, proofs })
}

/// A page of the decision log, newest first.
pub fn log(p: &Provider, q: PageQuery, kind: Option<String>) -> Result<Log, Fail> {
    let kind = kind.filter(|k| !k.is_empty());
    let paging = Paging::new(q, p.db.log_count(kind.as_deref()).map_err(db_err)?);
    let rows =
        p.db.log_page(kind.as_deref(), paging.offset(), paging.per)
            .map_err(db_err)?;
    Ok(Log { paging, kind, rows })
}
