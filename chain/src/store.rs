//! Persistence in redb. Why redb rather than SQLite: the chain's state is a handful of keyed
//! blobs, and what it needs from a database is exactly one thing — an epoch (state, block,
//! beacon value, emptied mempool) committed atomically and durably, or not at all. redb gives
//! that with a copy-on-write B-tree and a single fsync'd commit per write transaction, is pure
//! Rust (no C toolchain in CI), and has no schema to migrate. A `kill -9` at any point leaves
//! either the previous epoch or the new one, never a mix.
//!
//! Tables: `meta` (genesis, state, beacon public key), `blocks` (epoch → block JSON), `beacons`
//! (epoch → the entry it used: u64_be(round) ‖ 48-byte signature),
//! `messages` (message id → epoch), `mempool` (sequence → accepted, not yet applied message).

use crate::state::State;
use redb::{Database, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use std::path::Path;
use strata_chain_client::beacon::{BeaconEntry, BeaconPublicKey, Signature};
use strata_chain_client::stats::Snapshot;
use strata_chain_client::types::Epoch;
use strata_chain_client::views::{Event, ProofRecord};
use strata_chain_client::{ChainError, SignedMessage};
use strata_primitives::node::Node;
use strata_primitives::serde_hex;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const BEACONS: TableDefinition<u64, &[u8]> = TableDefinition::new("beacons");
const MESSAGES: TableDefinition<&str, u64> = TableDefinition::new("messages");
const MEMPOOL: TableDefinition<u64, &[u8]> = TableDefinition::new("mempool");

/// A message applied in a block, with what it returned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Included {
    /// The message.
    pub message: SignedMessage,
    /// Its result.
    pub result: serde_json::Value,
}

/// An applied epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Block {
    /// Epoch.
    pub epoch: Epoch,
    /// The beacon entry the epoch used.
    pub beacon: BeaconEntry,
    /// State root after it.
    #[serde(with = "serde_hex::node")]
    pub state_root: Node,
    /// Messages.
    pub messages: Vec<Included>,
    /// Balance events.
    pub events: Vec<Event>,
    /// Accepted proofs.
    pub proofs: Vec<ProofRecord>,
    /// The network after the epoch (power, committed and deal bytes) for `chain_stats`'s days;
    /// not part of the state root. `None` in blocks written before blocks carried it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<Snapshot>,
}

/// What `chain_stats` reads of a block: its epoch, events and snapshot (the messages and proofs
/// are skipped unparsed).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct BlockSummary {
    /// Epoch.
    pub epoch: Epoch,
    /// Balance events.
    pub events: Vec<Event>,
    /// The network after the epoch, if the block recorded it.
    #[serde(default)]
    pub stats: Option<Snapshot>,
}

fn db_err(e: impl std::fmt::Display) -> ChainError {
    ChainError::internal(format!("chain database: {e}"))
}

fn json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("chain records serialise")
}

fn parse<T: for<'a> Deserialize<'a>>(b: &[u8], what: &str) -> Result<T, ChainError> {
    serde_json::from_slice(b)
        .map_err(|e| ChainError::internal(format!("chain database: corrupt {what}: {e}")))
}

fn encode_entry(e: &BeaconEntry) -> Vec<u8> {
    let mut out = e.round.to_be_bytes().to_vec();
    out.extend_from_slice(&e.signature.0);
    out
}

fn decode_entry(b: &[u8]) -> Result<BeaconEntry, ChainError> {
    if b.len() != 56 {
        return Err(ChainError::internal("chain database: corrupt beacon entry"));
    }
    Ok(BeaconEntry {
        round: u64::from_be_bytes(b[..8].try_into().expect("8 bytes")),
        signature: Signature(b[8..].try_into().expect("48 bytes")),
    })
}

/// The chain database.
pub struct Store {
    db: Database,
}

/// What a reopened database holds.
pub struct Loaded {
    /// The genesis it was created with (JSON).
    pub genesis: serde_json::Value,
    /// State after the head epoch.
    pub state: State,
    /// Beacon entries of epochs 0..=head.
    pub beacons: Vec<BeaconEntry>,
    /// The beacon public key the chain was created with.
    pub beacon_key: Option<BeaconPublicKey>,
    /// Accepted messages not yet applied, in order.
    pub mempool: Vec<SignedMessage>,
}

impl Store {
    /// Opens (creating) the database file.
    pub fn open(path: &Path) -> Result<Store, ChainError> {
        let db = Database::create(path).map_err(db_err)?;
        let tx = db.begin_write().map_err(db_err)?;
        tx.open_table(META).map_err(db_err)?;
        tx.open_table(BLOCKS).map_err(db_err)?;
        tx.open_table(BEACONS).map_err(db_err)?;
        tx.open_table(MESSAGES).map_err(db_err)?;
        tx.open_table(MEMPOOL).map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        Ok(Store { db })
    }

    /// Reads everything needed to resume, or `None` for a new database.
    pub fn load(&self) -> Result<Option<Loaded>, ChainError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let meta = tx.open_table(META).map_err(db_err)?;
        let (Some(g), Some(s)) = (
            meta.get("genesis").map_err(db_err)?,
            meta.get("state").map_err(db_err)?,
        ) else {
            return Ok(None);
        };
        let genesis = parse(g.value(), "genesis")?;
        let state: State = parse(s.value(), "state")?;
        let mut beacons = Vec::new();
        for (i, r) in tx
            .open_table(BEACONS)
            .map_err(db_err)?
            .iter()
            .map_err(db_err)?
            .enumerate()
        {
            let (k, v) = r.map_err(db_err)?;
            let node = decode_entry(v.value())?;
            if k.value() != i as u64 {
                return Err(ChainError::internal(
                    "chain database: beacon values missing",
                ));
            }
            beacons.push(node);
        }
        if beacons.len() as i64 != state.epoch + 1 {
            return Err(ChainError::internal(format!(
                "chain database: {} beacon values for head epoch {}",
                beacons.len(),
                state.epoch
            )));
        }
        let mut mempool = Vec::new();
        for r in tx
            .open_table(MEMPOOL)
            .map_err(db_err)?
            .iter()
            .map_err(db_err)?
        {
            let (_, v) = r.map_err(db_err)?;
            mempool.push(parse(v.value(), "mempool message")?);
        }
        let beacon_key = meta
            .get("beacon_public_key")
            .map_err(db_err)?
            .map(|v| parse(v.value(), "beacon public key"))
            .transpose()?;
        Ok(Some(Loaded {
            genesis,
            state,
            beacons,
            beacon_key,
            mempool,
        }))
    }

    /// Writes the genesis, the beacon public key, the state and the beacon entry of epoch 0.
    pub fn init(
        &self,
        genesis: &serde_json::Value,
        beacon_key: &BeaconPublicKey,
        state: &State,
        beacon: &BeaconEntry,
    ) -> Result<(), ChainError> {
        let tx = self.db.begin_write().map_err(db_err)?;
        {
            let mut meta = tx.open_table(META).map_err(db_err)?;
            meta.insert("genesis", json(genesis).as_slice())
                .map_err(db_err)?;
            meta.insert("beacon_public_key", json(beacon_key).as_slice())
                .map_err(db_err)?;
            meta.insert("state", json(state).as_slice())
                .map_err(db_err)?;
            tx.open_table(BEACONS)
                .map_err(db_err)?
                .insert(0, encode_entry(beacon).as_slice())
                .map_err(db_err)?;
        }
        tx.commit().map_err(db_err)
    }

    /// Adds an accepted message to the durable mempool.
    pub fn add_pending(&self, seq: u64, msg: &SignedMessage) -> Result<(), ChainError> {
        let tx = self.db.begin_write().map_err(db_err)?;
        tx.open_table(MEMPOOL)
            .map_err(db_err)?
            .insert(seq, json(msg).as_slice())
            .map_err(db_err)?;
        tx.commit().map_err(db_err)
    }

    /// Commits an epoch: state, block, beacon, message index, empty mempool — atomically.
    pub fn commit_epoch(&self, state: &State, block: &Block) -> Result<(), ChainError> {
        let tx = self.db.begin_write().map_err(db_err)?;
        {
            let e = block.epoch as u64;
            tx.open_table(META)
                .map_err(db_err)?
                .insert("state", json(state).as_slice())
                .map_err(db_err)?;
            tx.open_table(BLOCKS)
                .map_err(db_err)?
                .insert(e, json(block).as_slice())
                .map_err(db_err)?;
            tx.open_table(BEACONS)
                .map_err(db_err)?
                .insert(e, encode_entry(&block.beacon).as_slice())
                .map_err(db_err)?;
            let mut idx = tx.open_table(MESSAGES).map_err(db_err)?;
            for m in &block.messages {
                idx.insert(m.message.id().as_str(), e).map_err(db_err)?;
            }
            let mut pool = tx.open_table(MEMPOOL).map_err(db_err)?;
            let keys: Vec<u64> = pool
                .iter()
                .map_err(db_err)?
                .map(|r| r.map(|(k, _)| k.value()))
                .collect::<Result<_, _>>()
                .map_err(db_err)?;
            for k in keys {
                pool.remove(k).map_err(db_err)?;
            }
        }
        tx.commit().map_err(db_err)
    }

    /// The block of `epoch`.
    pub fn block(&self, epoch: Epoch) -> Result<Option<Block>, ChainError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let t = tx.open_table(BLOCKS).map_err(db_err)?;
        let v = t.get(epoch.max(0) as u64).map_err(db_err)?;
        v.map(|v| parse(v.value(), "block")).transpose()
    }

    /// Blocks from `since` on, in order.
    pub fn blocks_since(&self, since: Epoch) -> Result<Vec<Block>, ChainError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let t = tx.open_table(BLOCKS).map_err(db_err)?;
        let mut out = Vec::new();
        for r in t.range(since.max(0) as u64..).map_err(db_err)? {
            let (_, v) = r.map_err(db_err)?;
            out.push(parse(v.value(), "block")?);
        }
        Ok(out)
    }

    /// Calls `f` with the summary of every block of epochs `from..=to`, in order, from one read
    /// transaction (blocks are parsed one at a time, never all held at once).
    pub fn for_each_summary(
        &self,
        from: Epoch,
        to: Epoch,
        mut f: impl FnMut(BlockSummary) -> Result<(), ChainError>,
    ) -> Result<(), ChainError> {
        if to < from || to < 0 {
            return Ok(());
        }
        let tx = self.db.begin_read().map_err(db_err)?;
        let t = tx.open_table(BLOCKS).map_err(db_err)?;
        for r in t.range(from.max(0) as u64..=to as u64).map_err(db_err)? {
            let (_, v) = r.map_err(db_err)?;
            f(parse(v.value(), "block")?)?;
        }
        Ok(())
    }

    /// The epoch a message was applied in.
    pub fn message_epoch(&self, id: &str) -> Result<Option<Epoch>, ChainError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let t = tx.open_table(MESSAGES).map_err(db_err)?;
        let v = t.get(id).map_err(db_err)?;
        Ok(v.map(|v| v.value() as Epoch))
    }
}
