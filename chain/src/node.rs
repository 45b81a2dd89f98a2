//! [`Chain`]: the devnet node. It owns the database, the committed state and the pending state
//! (committed + accepted messages), checks and applies messages as they arrive, applies epochs
//! on request ([`Chain::step`]) — from a timer in `strata devnet run`, directly in tests — and
//! answers every query of the [`ChainApi`].

use crate::beacon::{self, BeaconSigner, DrandRelay};
use crate::config::Genesis;
use crate::exec;
use crate::rules::{self, Ctx};
use crate::state::State;
use crate::store::{Block, Included, Store};
use crate::verifier::ProofVerifier;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use strata_chain_client::beacon::{BeaconEntry, BeaconInfo, BeaconSecretKey, BeaconSource, SCHEME};
use strata_chain_client::permanent::{EndowmentInfo, PermanentPieceInfo, PermanentQuote};
use strata_chain_client::stats::{BeaconRound, NetworkStats};
use strata_chain_client::types::{DealId, Epoch, MinerId};
use strata_chain_client::views::*;
use strata_chain_client::{Address, ChainApi, ChainError, SignedMessage, Token};
use strata_primitives::node::Node;

struct Inner {
    /// Shared so that `chain_stats` can read blocks without holding the chain's lock.
    store: Arc<Store>,
    committed: State,
    pending: State,
    pending_msgs: Vec<Included>,
    /// The entry of every applied epoch.
    entries: Vec<BeaconEntry>,
    /// Their randomness (what the rules draw from), index = epoch.
    beacons: Vec<Node>,
    signer: BeaconSigner,
    next_seq: u64,
}

/// A devnet chain node.
pub struct Chain {
    genesis: Genesis,
    verifier: Box<dyn ProofVerifier>,
    manual: bool,
    beacon: BeaconInfo,
    inner: Mutex<Inner>,
    /// `chain_stats`'s per-day sums: built from the store at the first call, then brought up to
    /// date at each call with the blocks committed since the previous one.
    stats: Mutex<crate::stats::Accumulator>,
}

/// How to open a chain beyond its genesis.
#[derive(Clone, Debug, Default)]
pub struct ChainOptions {
    /// Epochs advance only on request ([`Chain::step`]).
    pub manual: bool,
    /// A devnet's beacon key file; default `DIR/beacon.key`, created (owner-only) at first
    /// start if absent.
    pub beacon_key: Option<PathBuf>,
    /// For a genesis that follows drand: a relay file of published entries.
    pub drand_relay: Option<PathBuf>,
}

/// The devnet's beacon key: the one given, or `DIR/beacon.key`, made at first start.
fn devnet_key(
    dir: &Path,
    given: Option<&Path>,
    fresh: bool,
) -> Result<BeaconSecretKey, ChainError> {
    if let Some(p) = given {
        return beacon::read_key(p);
    }
    let p = dir.join(beacon::KEY_FILE);
    if p.exists() || !fresh {
        return beacon::read_key(&p).map_err(|e| {
            ChainError::invalid(format!(
                "{}; this chain's beacon entries are signed by its key: bring it with --beacon-key",
                e.message
            ))
        });
    }
    let k = BeaconSecretKey::generate()
        .map_err(|e| ChainError::internal(format!("no system randomness for a beacon key: {e}")))?;
    beacon::write_new_key(&p, &k)?;
    Ok(k)
}

impl Chain {
    /// Opens the chain in `dir` (creating it from `genesis` if empty) with default options: a
    /// devnet beacon key in `dir`. See [`Chain::open_with`].
    pub fn open(
        dir: &Path,
        genesis: Genesis,
        verifier: Box<dyn ProofVerifier>,
        manual: bool,
    ) -> Result<Chain, ChainError> {
        let options = ChainOptions {
            manual,
            ..Default::default()
        };
        Chain::open_with(dir, genesis, verifier, options)
    }

    /// Opens the chain in `dir` (creating it from `genesis` if empty). A database created from
    /// another genesis, or whose beacon key is not the one found, or whose stored state breaks a
    /// money invariant ([`State::check_invariants`]), is refused. Accepted but
    /// unapplied messages are re-applied.
    pub fn open_with(
        dir: &Path,
        genesis: Genesis,
        verifier: Box<dyn ProofVerifier>,
        options: ChainOptions,
    ) -> Result<Chain, ChainError> {
        genesis
            .validate()
            .map_err(|e| ChainError::invalid(e.to_string()))?;
        std::fs::create_dir_all(dir)
            .map_err(|e| ChainError::internal(format!("cannot create {}: {e}", dir.display())))?;
        let store = Store::open(&dir.join("chain.redb"))?;
        let gjson = serde_json::to_value(&genesis).expect("genesis serialises");
        let loaded = store.load()?;
        let mut signer = match &genesis.beacon {
            BeaconSource::Devnet => BeaconSigner::Devnet(devnet_key(
                dir,
                options.beacon_key.as_deref(),
                loaded.is_none(),
            )?),
            BeaconSource::Drand { .. } => {
                BeaconSigner::Drand(DrandRelay::new(options.drand_relay.clone()))
            }
        };
        let public_key = match (&genesis.beacon, &signer) {
            (BeaconSource::Drand { public_key, .. }, _) => *public_key,
            (_, BeaconSigner::Devnet(k)) => k.public_key(),
            (_, BeaconSigner::Drand(_)) => {
                unreachable!("a drand signer comes from a drand genesis")
            }
        };
        let info = BeaconInfo {
            scheme: SCHEME.into(),
            public_key,
            source: genesis.beacon.clone(),
            block_time_ms: genesis.constants.block_time_ms,
        };
        let (committed, entries, mempool) = match loaded {
            Some(l) => {
                if l.genesis != gjson {
                    return Err(ChainError::invalid(format!(
                        "{} holds a chain from another genesis",
                        dir.display()
                    )));
                }
                if l.beacon_key != Some(public_key) {
                    return Err(ChainError::invalid(format!(
                        "{} holds a chain whose beacon key is {}, not {public_key}",
                        dir.display(),
                        l.beacon_key
                            .map(|k| k.to_hex())
                            .unwrap_or_else(|| "unknown".into())
                    )));
                }
                l.state.check_invariants().map_err(|e| {
                    ChainError::internal(format!(
                        "{}: the stored state at epoch {} breaks a money invariant ({e}); \
                         refusing to open it",
                        dir.display(),
                        l.state.epoch
                    ))
                })?;
                (l.state, l.beacons, l.mempool)
            }
            None => {
                let s = exec::genesis_state(&genesis);
                let e0 = next_entry(&info, &mut signer, 0)?;
                store.init(&gjson, &public_key, &s, &e0)?;
                (s, vec![e0], vec![])
            }
        };
        let beacons = entries.iter().map(|e| e.randomness()).collect();
        let chain = Chain {
            genesis,
            verifier,
            manual: options.manual,
            beacon: info,
            stats: Mutex::new(crate::stats::Accumulator::new()),
            inner: Mutex::new(Inner {
                store: Arc::new(store),
                pending: committed.clone(),
                committed,
                pending_msgs: vec![],
                entries,
                beacons,
                signer,
                next_seq: 0,
            }),
        };
        {
            let mut inner = chain.inner.lock().expect("chain lock");
            let n = mempool.len() as u64;
            for m in mempool {
                let ctx = Ctx {
                    network: &chain.genesis.network,
                    allowed_proof_types: &chain.genesis.allowed_proof_types,
                    constants: &chain.genesis.constants,
                    verifier: &*chain.verifier,
                    beacons: &inner.beacons,
                };
                let mut pending = inner.pending.clone();
                match exec::apply_message(&mut pending, &ctx, &m) {
                    Ok(result) => {
                        inner.pending = pending;
                        inner.pending_msgs.push(Included { message: m, result });
                    }
                    Err(e) => {
                        tracing::warn!(id = %m.id(), %e, "pending message no longer applies; dropped")
                    }
                }
            }
            inner.next_seq = n;
        }
        Ok(chain)
    }

    /// The genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The drand round the next epoch needs (for a relay that fetches entries).
    pub fn next_round(&self) -> Result<u64, ChainError> {
        let now = self.lock().committed.epoch + 1;
        self.beacon
            .source
            .round(now, self.beacon.block_time_ms)
            .map_err(|e| ChainError::invalid(e.to_string()))
    }

    /// Gives a drand-following chain published entries (from an HTTP relay). They are verified
    /// when an epoch uses them; on a devnet with its own key this is refused.
    pub fn add_beacon_entries(&self, entries: Vec<BeaconEntry>) -> Result<(), ChainError> {
        match &mut self.lock().signer {
            BeaconSigner::Drand(relay) => {
                relay.add(entries);
                Ok(())
            }
            BeaconSigner::Devnet(_) => Err(ChainError::forbidden(
                "this devnet signs its own beacon entries; it takes none from a relay",
            )),
        }
    }

    /// Whether epochs advance only on request.
    pub fn is_manual(&self) -> bool {
        self.manual
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Checks and accepts a message for the next epoch; an error leaves everything unchanged.
    pub fn submit_message(&self, msg: SignedMessage) -> Result<String, ChainError> {
        let mut inner = self.lock();
        let inner = &mut *inner;
        let ctx = Ctx {
            network: &self.genesis.network,
            allowed_proof_types: &self.genesis.allowed_proof_types,
            constants: &self.genesis.constants,
            verifier: &*self.verifier,
            beacons: &inner.beacons,
        };
        let mut pending = inner.pending.clone();
        let result = exec::apply_message(&mut pending, &ctx, &msg)?;
        inner.store.add_pending(inner.next_seq, &msg)?;
        inner.next_seq += 1;
        inner.pending = pending;
        let id = msg.id();
        tracing::debug!(%id, method = %msg.message.call.name(), "message accepted");
        inner.pending_msgs.push(Included {
            message: msg,
            result,
        });
        Ok(id)
    }

    /// Applies the next epoch: the pending messages, then the cron; commits it atomically.
    pub fn step_one(&self) -> Result<Head, ChainError> {
        let mut inner = self.lock();
        let inner = &mut *inner;
        let now = inner.committed.epoch + 1;
        let entry = next_entry(&self.beacon, &mut inner.signer, now)?;
        let mut beacons = inner.beacons.clone();
        beacons.push(entry.randomness());
        let mut state = inner.pending.clone();
        let ctx = Ctx {
            network: &self.genesis.network,
            allowed_proof_types: &self.genesis.allowed_proof_types,
            constants: &self.genesis.constants,
            verifier: &*self.verifier,
            beacons: &beacons,
        };
        exec::end_epoch(&mut state, &ctx, now)?;
        let snapshot = crate::stats::snapshot(&state);
        let block = Block {
            epoch: now,
            beacon: entry,
            state_root: state.root(),
            messages: std::mem::take(&mut inner.pending_msgs),
            events: std::mem::take(&mut state.events),
            proofs: std::mem::take(&mut state.proofs),
            stats: Some(snapshot),
        };
        if let Err(e) = inner.store.commit_epoch(&state, &block) {
            inner.pending_msgs = block.messages;
            return Err(e);
        }
        inner.beacons = beacons;
        inner.entries.push(entry);
        inner.committed = state.clone();
        inner.pending = state;
        Ok(head_of(&self.genesis, inner, self.manual))
    }

    /// Applies `n` epochs.
    pub fn step(&self, n: u64) -> Result<Head, ChainError> {
        let mut h = self.head_now();
        for _ in 0..n {
            h = self.step_one()?;
        }
        Ok(h)
    }

    /// The head.
    pub fn head_now(&self) -> Head {
        head_of(&self.genesis, &self.lock(), self.manual)
    }

    /// The root of the pending state (committed + accepted messages): a refused message leaves
    /// it unchanged.
    pub fn pending_root(&self) -> Node {
        self.lock().pending.root()
    }

    /// The rules' context for reads (no beacon randomness).
    fn ctx<'a>(&'a self, beacons: &'a [Node]) -> Ctx<'a> {
        Ctx {
            network: &self.genesis.network,
            allowed_proof_types: &self.genesis.allowed_proof_types,
            constants: &self.genesis.constants,
            verifier: &*self.verifier,
            beacons,
        }
    }

    /// A copy of the committed state (for tests and tools).
    pub fn state(&self) -> State {
        self.lock().committed.clone()
    }

    /// The network's economics ([`crate::stats`]): the `now` figures from the committed state,
    /// the days from the in-memory accumulator, brought up to date with the blocks committed
    /// since the last call (all of them at the first call after opening).
    pub fn network_stats(&self) -> Result<NetworkStats, ChainError> {
        let c = &self.genesis.constants;
        // One call at a time folds blocks; the chain itself stays unlocked while it does.
        let mut acc = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        let (store, mut out) = {
            let inner = self.lock();
            let s = &inner.committed;
            let miners = crate::stats::miner_stats(s);
            let beacon = inner
                .entries
                .iter()
                .enumerate()
                .rev()
                .take(NetworkStats::BEACON_ROUNDS)
                .map(|(epoch, e)| BeaconRound {
                    epoch: epoch as Epoch,
                    round: e.round,
                    randomness: hex::encode(e.randomness()),
                })
                .collect();
            let out = NetworkStats {
                network: self.genesis.network.clone(),
                epochs_per_day: c.epochs_per_day,
                now: crate::stats::snapshot_of(s.epoch, &miners),
                miners,
                supply: s.supply.clone(),
                deal_payments_total: Token::ZERO,
                epoch_reward: crate::economics::epoch_reward(c, s.epoch + 1),
                days: vec![],
                beacon,
                endowment: Some(crate::permanent::info(s, &self.ctx(&[]))),
            };
            (inner.store.clone(), out)
        };
        acc.catch_up(&store, c.epochs_per_day, out.now.epoch)?;
        out.days = acc.days();
        out.deal_payments_total = acc.deal_payments_total();
        Ok(out)
    }

    fn with_pending<T>(
        &self,
        f: impl FnOnce(&State, &Inner) -> Result<T, ChainError>,
    ) -> Result<T, ChainError> {
        let inner = self.lock();
        f(&inner.pending, &inner)
    }
}

/// The entry of epoch `epoch`, checked against the network key before anything uses it.
fn next_entry(
    info: &BeaconInfo,
    signer: &mut BeaconSigner,
    epoch: Epoch,
) -> Result<BeaconEntry, ChainError> {
    let round = info
        .source
        .round(epoch, info.block_time_ms)
        .map_err(|e| ChainError::invalid(e.to_string()))?;
    let entry = signer.entry(round)?;
    info.verify(epoch, &entry).map_err(|e| {
        if let BeaconSigner::Drand(relay) = signer {
            relay.forget(round);
        }
        ChainError::new(
            strata_chain_client::ErrorKind::BadSignature,
            format!("beacon entry for epoch {epoch} refused, epoch not applied: {e}"),
        )
    })?;
    Ok(entry)
}

fn head_of(g: &Genesis, inner: &Inner, manual: bool) -> Head {
    Head {
        network: g.network.clone(),
        epoch: inner.committed.epoch,
        state_root: inner.committed.root(),
        beacon: *inner.entries.last().expect("genesis beacon"),
        pending_messages: inner.pending_msgs.len(),
        manual,
    }
}

fn sector_info(id: MinerId, c: &Constants, s: &crate::state::Sector, size: u64) -> SectorInfo {
    SectorInfo {
        miner: id,
        number: s.number,
        status: s.status,
        comm_r: s.comm_r,
        comm_d: s.comm_d,
        ticket: s.ticket,
        ticket_epoch: s.ticket_epoch,
        precommit_epoch: s.precommit_epoch,
        seed_epoch: s.precommit_epoch + c.seed_delay,
        activation: s.activation,
        expiration: s.expiration,
        deals: s.deals.clone(),
        precommit_deposit: s.precommit_deposit,
        initial_pledge: s.initial_pledge,
        qa_power: rules::qa_power(size, s.verified_space),
        location: s.location,
        faulty_since: s.faulty_since,
    }
}

fn deal_info(id: DealId, d: &crate::state::Deal) -> DealInfo {
    DealInfo {
        id,
        proposal: d.proposal.clone(),
        status: d.status,
        sector: d.sector,
        activation: d.activation,
        settled_until: d.settled_until,
        paid: d.paid,
        slashed_at: d.slashed_at,
        verified_term: d.verified_term,
        permanent: d.permanent,
    }
}

#[async_trait::async_trait]
impl ChainApi for Chain {
    async fn head(&self) -> Result<Head, ChainError> {
        Ok(self.head_now())
    }

    async fn network(&self) -> Result<NetworkInfo, ChainError> {
        let s = self.state();
        let (raw, qa) = s.network_power();
        Ok(NetworkInfo {
            constants: self.genesis.constants.clone(),
            epoch: s.epoch,
            raw_power: raw,
            qa_power: qa,
            epoch_reward: crate::economics::epoch_reward(&self.genesis.constants, s.epoch + 1),
            circulating: s.circulating(),
            supply: s.supply,
            beacon: self.beacon.clone(),
        })
    }

    async fn account(&self, address: Address) -> Result<AccountInfo, ChainError> {
        self.with_pending(|s, _| {
            let a = s.accounts.get(&address).cloned().unwrap_or_default();
            Ok(AccountInfo {
                address,
                balance: a.balance,
                nonce: a.nonce,
                escrow_free: a.escrow_free,
                escrow_locked: a.escrow_locked,
                datacap: a.datacap,
            })
        })
    }

    async fn miners(&self) -> Result<Vec<MinerId>, ChainError> {
        self.with_pending(|s, _| Ok(s.miners.keys().copied().collect()))
    }

    async fn miner(&self, id: MinerId) -> Result<MinerInfo, ChainError> {
        let c = &self.genesis.constants;
        self.with_pending(|s, _| {
            let m = rules::miner(s, id)?;
            let (raw, qa) = s.miner_power(id);
            let mut counts = SectorCounts::default();
            for x in m.sectors.values() {
                match x.status {
                    SectorStatus::Precommitted => counts.precommitted += 1,
                    SectorStatus::Active => counts.active += 1,
                    SectorStatus::Faulty | SectorStatus::Recovering => counts.faulty += 1,
                    SectorStatus::Terminated => counts.terminated += 1,
                    SectorStatus::Expired => counts.expired += 1,
                    SectorStatus::PrecommitExpired => {}
                }
            }
            Ok(MinerInfo {
                id,
                owner: m.owner,
                worker: m.worker,
                proof_type: m.proof_type,
                sector_size: rules::sector_size(m.proof_type),
                deal_endpoint: m.deal_endpoint.clone(),
                raw_power: raw,
                qa_power: qa,
                balances: MinerBalances {
                    available: m.available,
                    precommit_deposits: m.precommit_deposits,
                    locked_pledge: m.locked_pledge,
                    vesting: m.vesting_total(),
                    fee_debt: m.fee_debt,
                    escrow_free: m.escrow_free,
                    escrow_locked: m.escrow_locked,
                },
                proving_period_start: m.proving_period_start,
                current_deadline: rules::current_deadline(c, m.proving_period_start, s.epoch + 1),
                sectors: counts,
                blocks_won: m.blocks_won,
                pending_worker: m.pending_worker,
            })
        })
    }

    async fn sector(&self, id: MinerId, number: u64) -> Result<SectorInfo, ChainError> {
        let c = &self.genesis.constants;
        self.with_pending(|s, _| {
            let m = rules::miner(s, id)?;
            let x = m
                .sectors
                .get(&number)
                .ok_or_else(|| ChainError::not_found(format!("m{id} has no sector {number}")))?;
            Ok(sector_info(id, c, x, rules::sector_size(m.proof_type)))
        })
    }

    async fn sectors(&self, id: MinerId) -> Result<Vec<SectorInfo>, ChainError> {
        let c = &self.genesis.constants;
        self.with_pending(|s, _| {
            let m = rules::miner(s, id)?;
            let size = rules::sector_size(m.proof_type);
            Ok(m.sectors
                .values()
                .map(|x| sector_info(id, c, x, size))
                .collect())
        })
    }

    async fn deadlines(&self, id: MinerId) -> Result<Vec<DeadlineInfo>, ChainError> {
        let c = &self.genesis.constants;
        self.with_pending(|s, _| {
            let m = rules::miner(s, id)?;
            let now = s.epoch + 1;
            Ok(m.deadlines
                .iter()
                .enumerate()
                .map(|(i, d)| DeadlineInfo {
                    timing: rules::next_instance(c, m.proving_period_start, i as u64, now),
                    partitions: d
                        .partitions
                        .iter()
                        .enumerate()
                        .map(|(pi, p)| {
                            let with = |st: SectorStatus| -> Vec<u64> {
                                p.sectors
                                    .iter()
                                    .copied()
                                    .filter(|n| m.sectors[n].status == st)
                                    .collect()
                            };
                            PartitionInfo {
                                index: pi as u64,
                                sectors: p.sectors.clone(),
                                faulty: with(SectorStatus::Faulty),
                                recovering: with(SectorStatus::Recovering),
                                proven: p.proven,
                            }
                        })
                        .collect(),
                })
                .collect())
        })
    }

    async fn beacon_info(&self) -> Result<BeaconInfo, ChainError> {
        Ok(self.beacon.clone())
    }

    async fn beacon(&self, epoch: Epoch) -> Result<BeaconEntry, ChainError> {
        let inner = self.lock();
        usize::try_from(epoch)
            .ok()
            .and_then(|i| inner.entries.get(i))
            .copied()
            .ok_or_else(|| {
                ChainError::too_early(format!(
                    "epoch {epoch} has no beacon entry yet (head is {})",
                    inner.committed.epoch
                ))
            })
    }

    async fn deal(&self, id: DealId) -> Result<DealInfo, ChainError> {
        self.with_pending(|s, _| {
            s.deals
                .get(&id)
                .map(|d| deal_info(id, d))
                .ok_or_else(|| ChainError::not_found(format!("deal {id} does not exist")))
        })
    }

    async fn deals(&self) -> Result<Vec<DealInfo>, ChainError> {
        self.with_pending(|s, _| Ok(s.deals.iter().map(|(id, d)| deal_info(*id, d)).collect()))
    }

    async fn events(&self, filter: EventFilter) -> Result<Vec<Event>, ChainError> {
        let blocks = self.lock().store.blocks_since(filter.since.unwrap_or(0))?;
        let mut out: Vec<Event> = blocks
            .into_iter()
            .flat_map(|b| b.events)
            .filter(|e| match &filter.who {
                None => true,
                Some(w) => {
                    e.from.owner().as_deref() == Some(w) || e.to.owner().as_deref() == Some(w)
                }
            })
            .collect();
        if let Some(l) = filter.limit {
            let skip = out.len().saturating_sub(l);
            out.drain(..skip);
        }
        Ok(out)
    }

    async fn proofs(&self, miner: MinerId) -> Result<Vec<ProofRecord>, ChainError> {
        let blocks = self.lock().store.blocks_since(0)?;
        Ok(blocks
            .into_iter()
            .flat_map(|b| b.proofs)
            .filter(|p| p.miner == miner)
            .collect())
    }

    async fn receipt(&self, id: String) -> Result<Receipt, ChainError> {
        let inner = self.lock();
        if let Some(m) = inner.pending_msgs.iter().find(|m| m.message.id() == id) {
            return Ok(Receipt {
                id,
                epoch: None,
                method: m.message.message.call.name(),
                result: m.result.clone(),
            });
        }
        let epoch = inner
            .store
            .message_epoch(&id)?
            .ok_or_else(|| ChainError::not_found(format!("no message {id}")))?;
        let block = inner
            .store
            .block(epoch)?
            .ok_or_else(|| ChainError::internal(format!("block {epoch} missing")))?;
        let m = block
            .messages
            .into_iter()
            .find(|m| m.message.id() == id)
            .ok_or_else(|| {
                ChainError::internal(format!("message {id} missing from block {epoch}"))
            })?;
        Ok(Receipt {
            id,
            epoch: Some(epoch),
            method: m.message.message.call.name(),
            result: m.result,
        })
    }

    async fn winning(&self, miner: MinerId) -> Result<Vec<WinningTicket>, ChainError> {
        self.with_pending(|s, _| {
            Ok(s.winning
                .iter()
                .filter(|t| t.miner == miner)
                .cloned()
                .collect())
        })
    }

    async fn endowment(&self) -> Result<EndowmentInfo, ChainError> {
        let s = self.state();
        Ok(crate::permanent::info(&s, &self.ctx(&[])))
    }

    async fn permanent_pieces(&self) -> Result<Vec<PermanentPieceInfo>, ChainError> {
        self.with_pending(|s, _| {
            Ok(s.endowment
                .pieces
                .keys()
                .filter_map(|id| crate::permanent::piece_info(s, *id))
                .collect())
        })
    }

    async fn permanent_piece(&self, id: u64) -> Result<PermanentPieceInfo, ChainError> {
        self.with_pending(|s, _| {
            crate::permanent::piece_info(s, id)
                .ok_or_else(|| ChainError::not_found(format!("no permanent piece {id}")))
        })
    }

    async fn permanent_quote(
        &self,
        piece_size: u64,
        replicas: u64,
    ) -> Result<PermanentQuote, ChainError> {
        self.with_pending(|s, _| {
            crate::permanent::quote(s, &self.ctx(&[]), s.epoch + 1, piece_size, replicas)
        })
    }

    async fn stats(&self) -> Result<NetworkStats, ChainError> {
        self.network_stats()
    }

    async fn submit(&self, message: SignedMessage) -> Result<String, ChainError> {
        self.submit_message(message)
    }

    async fn step(&self, epochs: u64) -> Result<Head, ChainError> {
        if !self.manual {
            return Err(ChainError::forbidden(
                "this devnet advances on its own clock; stepping is for manual devnets",
            ));
        }
        Chain::step(self, epochs)
    }
}
