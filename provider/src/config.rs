//! The provider's configuration (`config.toml` in its home directory), written by
//! `strata miner init` and read by every `strata miner` command.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use strata_chain_client::types::MinerId;
use strata_chain_client::{Address, Token};
use thiserror::Error;

/// The provider's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// The miner on chain.
    pub miner: MinerId,
    /// Owner address (receives withdrawals).
    pub owner: Address,
    /// Worker address (signs the daemon's messages).
    pub worker: Address,
    /// The worker's key name in the keystore.
    pub worker_key: String,
    /// The keystore file.
    pub keystore: PathBuf,
    /// The chain's JSON-RPC URL.
    pub rpc: String,
    /// Where the deal endpoint and `/metrics` listen.
    pub listen: SocketAddr,
    /// Registered proof type (sector size).
    pub proof_type: u64,
    /// The lowest price per epoch per deal the provider accepts.
    pub min_price_per_epoch: Token,
    /// Deals must start at least this many epochs after they arrive (time to seal and prove).
    pub min_start_delay: i64,
    /// Sealing jobs (seal, seal proof) run at most this many at once.
    pub max_parallel_jobs: usize,
    /// Epochs to leave between WinningPoSt attempts (0: whenever the last one is done). A lone
    /// miner on a devnet wins every epoch; a gap leaves the CPU to sealing and WindowPoSt.
    #[serde(default)]
    pub winning_min_interval: i64,
    /// Take re-offered permanent replicas: fetch the piece from a surviving replica, check its
    /// CommP, claim the slot and seal it (paid from the endowment from then on).
    #[serde(default)]
    pub accept_repairs: bool,
    /// Cores reserved for PoSt: sealing and seal-proof threads are pinned to the others (never
    /// all of them). Default: one per 8 cores (none below 8 — there sealing's low priority and
    /// its pauses while PoSt runs protect the deadlines).
    #[serde(default = "default_proving_threads")]
    pub proving_threads: usize,
    /// The nice value (0 normal … 19 lowest) of sealing threads and the seal-proof process.
    #[serde(default = "default_sealing_nice")]
    pub sealing_nice: i32,
    /// Groth16 parameter directory (default: `$STRATA_PARAMS` or `~/.cache/strata/params`).
    #[serde(default)]
    pub params_dir: Option<PathBuf>,
    /// Parent cache directory (default: `<home>/parents`).
    #[serde(default)]
    pub parent_cache: Option<PathBuf>,
    /// Where the provider's state lives: a `postgres://user:pass@host/db` URL (a cluster: the
    /// daemon, its standby and every `strata worker` share it) or a SQLite file (default:
    /// `<home>/provider.sqlite`).
    #[serde(default)]
    pub db: Option<String>,
    /// Task kinds this daemon runs itself (`seal`, `seal_proof`); default all. An empty list
    /// leaves every task to `strata worker` machines.
    #[serde(default)]
    pub tasks: Option<Vec<String>>,
    /// This process's machine name in the cluster (default: `<hostname>-<listen address>`).
    #[serde(default)]
    pub machine_name: Option<String>,
    /// A machine that has not heartbeated for this long is dead: its running tasks are released
    /// to others (ms; default 15 000).
    #[serde(default = "default_dead_after_ms")]
    pub dead_after_ms: i64,
    /// Sealing sectors together (DESIGN §10).
    #[serde(default)]
    pub seal_batch: SealBatchConfig,
    /// The web console's operator token: pages at `/` are read-only for anyone who can reach
    /// the listener; actions (pledging a sector) need this token, by signing in or as
    /// `Authorization: Bearer`. Unset or empty: no action is possible from the web at all.
    /// `strata miner init` writes a random one (the config file is then owner-only).
    #[serde(default)]
    pub console_token: Option<String>,
    /// Batched pre-commits and aggregated prove-commits (DESIGN §13).
    #[serde(default)]
    pub onboarding: OnboardingConfig,
}

/// `[onboarding]`: when sectors ready at the same step go to the chain together — one
/// `PreCommitSectorBatch`, one `ProveCommitAggregate` (a SnarkPack proof of all their seal
/// proofs) — instead of one message each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OnboardingConfig {
    /// The most sectors in one message (default 8; the chain caps it too). 1 turns batching off.
    pub batch_size: usize,
    /// The longest the first ready sector waits for others to fill a batch, in epochs (default
    /// 0: batch only what is ready together). Never past a sector's own deadline: a sector whose
    /// ticket or prove-commit window closes within [`DEADLINE_MARGIN_EPOCHS`] goes at once.
    pub max_wait_epochs: i64,
}

/// Epochs before a sector's pre-commit or prove-commit deadline at which batching stops
/// waiting for it.
pub const DEADLINE_MARGIN_EPOCHS: i64 = 5;

impl Default for OnboardingConfig {
    fn default() -> Self {
        OnboardingConfig {
            batch_size: 8,
            max_wait_epochs: 0,
        }
    }
}

/// A fresh random console token (32 bytes, hex).
pub fn new_console_token() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b)?;
    Ok(hex::encode(b))
}

/// `[seal_batch]`: how many sectors one machine seals together, and how long committed-capacity
/// pledges wait for batch-mates (sectors with deals never wait).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SealBatchConfig {
    /// The most sectors sealed together (default 1: one at a time). 16 fills AVX-512's lanes;
    /// each sector in a batch still needs its own disk space, and labeling maps two layers of
    /// every sector at once (2 × size × B of page cache).
    pub size: usize,
    /// The longest a pledge waits for the batch to fill (seconds; default 30). Its ticket ages
    /// meanwhile: keep this far below the chain's ticket lifetime.
    pub wait_secs: u64,
}

impl Default for SealBatchConfig {
    fn default() -> Self {
        SealBatchConfig {
            size: 1,
            wait_secs: 30,
        }
    }
}

impl SealBatchConfig {
    /// The claiming policy.
    pub fn policy(&self) -> crate::db::batch_claim::BatchPolicy {
        crate::db::batch_claim::BatchPolicy {
            max: self.size.max(1),
            wait_ms: (self.wait_secs as i64).saturating_mul(1000),
        }
    }
}

/// 30 s without a heartbeat (every 2 s) before a machine's tasks go elsewhere: long enough to
/// ride out a database restart (every machine's heartbeats stop together), short against a
/// seal's minutes.
pub fn default_dead_after_ms() -> i64 {
    30_000
}

impl ProviderConfig {
    /// The database location: the configured URL or file, else `<home>/provider.sqlite`.
    pub fn db_location(&self, home: &Path) -> String {
        self.db
            .clone()
            .unwrap_or_else(|| home.join("provider.sqlite").display().to_string())
    }

    /// The task kinds this daemon runs itself.
    pub fn task_kinds(&self) -> Vec<&'static str> {
        let all = crate::db::cluster::kind::ALL;
        match &self.tasks {
            None => all.to_vec(),
            Some(t) => all
                .iter()
                .copied()
                .filter(|k| t.iter().any(|x| x == k))
                .collect(),
        }
    }
}

/// One PoSt core per 8 cores of the machine.
pub fn default_proving_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()) / 8
}

/// Sealing runs a little below normal priority by default: below the daemon's PoSt threads,
/// without starving behind other programs (what keeps sealing off PoSt's cores is pausing it
/// while PoSt runs; a higher value suits a machine that does nothing else).
pub fn default_sealing_nice() -> i32 {
    5
}

/// A configuration that cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// Not readable.
    #[error("cannot read {path}: {source} (run `strata miner init` first)")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML for this build.
    #[error("{path} is malformed: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The configuration file inside `home`.
pub fn config_path(home: &Path) -> PathBuf {
    home.join("config.toml")
}

impl ProviderConfig {
    /// Reads `home/config.toml`.
    pub fn load(home: &Path) -> Result<Self, ConfigError> {
        let path = config_path(home);
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Malformed {
            path,
            reason: e.to_string(),
        })
    }

    /// Writes `home/config.toml` atomically (temp file, fsync, rename).
    pub fn save(&self, home: &Path) -> Result<(), ConfigError> {
        let path = config_path(home);
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(home)?;
            let tmp = home.join(".config.toml.tmp");
            let _ = std::fs::remove_file(&tmp);
            // Owner-only: the file may hold the console token.
            let mut f = {
                use std::os::unix::fs::OpenOptionsExt;
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&tmp)?
            };
            std::io::Write::write_all(
                &mut f,
                toml::to_string_pretty(self)
                    .expect("config serialises")
                    .as_bytes(),
            )?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|source| ConfigError::Write {
            path: path.clone(),
            source,
        })
    }
}
