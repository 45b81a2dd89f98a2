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
    /// Groth16 parameter directory (default: `$STRATA_PARAMS` or `~/.cache/strata/params`).
    #[serde(default)]
    pub params_dir: Option<PathBuf>,
    /// Parent cache directory (default: `<home>/parents`).
    #[serde(default)]
    pub parent_cache: Option<PathBuf>,
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
            std::fs::write(
                &tmp,
                toml::to_string_pretty(self).expect("config serialises"),
            )?;
            std::fs::File::open(&tmp)?.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|source| ConfigError::Write {
            path: path.clone(),
            source,
        })
    }
}
