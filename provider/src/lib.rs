//! The storage provider's daemon (DESIGN §9): deal intake over HTTP, a persistent sealing
//! pipeline per sector, a proving scheduler for WindowPoSt and WinningPoSt, fault and recovery
//! declarations, and Prometheus metrics. Everything durable is in SQLite ([`db`]); everything
//! on chain goes through `strata_chain_client::ChainApi` (the JSON-RPC client, or the devnet in
//! process for tests and the demo).
//!
//! # Design notes
//!
//! - **Two loops.** [`Provider::pipeline_tick`] advances sectors (cheap steps inline, CPU-heavy
//!   steps — sealing, the seal proof — as jobs on a bounded pool of `max_parallel_jobs` blocking
//!   threads, never more than one job per sector); [`Provider::scheduler_tick`] proves
//!   deadlines, declares faults and recoveries and answers WinningPoSt. `run` drives them on
//!   separate tasks, so a long seal proof never delays a WindowPoSt; tests call the ticks
//!   directly between chain epochs.
//! - **Steps are idempotent.** Every step first checks whether its effect already exists (a
//!   sealed directory with the right ticket, a pre-commit or an active sector on chain), so a
//!   `kill -9` between doing and recording a step repeats nothing and loses nothing.
//! - **Failures are visible and bounded**: the step, the error, the attempt count and the epoch of
//!   the next retry are stored; retries back off exponentially (in epochs); after
//!   [`MAX_ATTEMPTS`] the sector parks in `failed` with its last error instead of looping.
//! - **One bad sector never costs a deadline**: WindowPoSt checks each sector's files, proves the
//!   healthy ones and reports the rest as skipped; sectors whose files break before their fault
//!   cutoff are declared faulty ahead of time, and declared recovered once their files are back.

pub mod config;
pub mod db;
pub mod metrics;
pub mod pipeline;
pub mod scheduler;
pub mod server;

pub use config::ProviderConfig;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use strata_chain_client::types::{Method, MinerId};
use strata_chain_client::views::Constants;
use strata_chain_client::{ChainApi, ChainError, KeyPair, Message};
use strata_params::groth16_files::ParamsStore;
use strata_params::ProofType;
use thiserror::Error;

/// Attempts at one step before a sector is parked in `failed`.
pub const MAX_ATTEMPTS: u32 = 5;

/// Why the provider could not start or serve.
#[derive(Debug, Error)]
pub enum ProviderError {
    /// The chain refused or could not be reached.
    #[error("chain: {0}")]
    Chain(#[from] ChainError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] db::DbError),
    /// Configuration problem.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// Anything else, named.
    #[error("{0}")]
    Other(String),
}

/// The provider.
pub struct Provider {
    /// Configuration.
    pub config: ProviderConfig,
    /// Home directory.
    pub home: PathBuf,
    /// Chain access.
    pub chain: Arc<dyn ChainApi>,
    /// Protocol constants.
    pub constants: Constants,
    /// Proof type.
    pub proof_type: ProofType,
    /// Durable state.
    pub db: db::Db,
    /// Groth16 parameters.
    pub params: ParamsStore,
    /// Metrics.
    pub metrics: metrics::Metrics,
    worker: KeyPair,
    send_lock: tokio::sync::Mutex<()>,
    jobs: Arc<tokio::sync::Semaphore>,
    in_flight: Mutex<HashSet<u64>>,
    handles: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    sched: Mutex<scheduler::SchedState>,
    winning_busy: std::sync::atomic::AtomicBool,
}

impl Provider {
    /// Opens the provider in `home` with its configuration, chain access and worker key.
    pub async fn open(
        home: &Path,
        config: ProviderConfig,
        chain: Arc<dyn ChainApi>,
        worker: KeyPair,
    ) -> Result<Arc<Provider>, ProviderError> {
        if worker.address() != config.worker {
            return Err(ProviderError::Other(format!(
                "key {} is not the configured worker {}",
                worker.address(),
                config.worker
            )));
        }
        let info = chain.miner(config.miner).await?;
        if info.worker != config.worker {
            return Err(ProviderError::Other(format!(
                "m{} has worker {} on chain, the config says {}",
                config.miner, info.worker, config.worker
            )));
        }
        let constants = chain.network().await?.constants;
        let proof_type = ProofType::for_id(config.proof_type)
            .map_err(|e| ProviderError::Other(e.to_string()))?;
        for d in ["sectors", "pieces", "parents"] {
            std::fs::create_dir_all(home.join(d)).map_err(|e| {
                ProviderError::Other(format!("creating {}: {e}", home.join(d).display()))
            })?;
        }
        let db = db::Db::open(&home.join("provider.sqlite"))?;
        let params = ParamsStore::new(
            config
                .params_dir
                .clone()
                .unwrap_or_else(ParamsStore::default_dir),
        );
        Ok(Arc::new(Provider {
            jobs: Arc::new(tokio::sync::Semaphore::new(config.max_parallel_jobs.max(1))),
            config,
            home: home.to_path_buf(),
            chain,
            constants,
            proof_type,
            db,
            params,
            metrics: Default::default(),
            worker,
            send_lock: tokio::sync::Mutex::new(()),
            in_flight: Mutex::new(HashSet::new()),
            handles: Mutex::new(Vec::new()),
            sched: Mutex::new(Default::default()),
            winning_busy: Default::default(),
        }))
    }

    /// The miner id.
    pub fn miner(&self) -> MinerId {
        self.config.miner
    }

    /// A sector's directory.
    pub fn sector_dir(&self, n: u64) -> PathBuf {
        self.home.join("sectors").join(format!("sector-{n}"))
    }

    /// A deal's piece file.
    pub fn piece_path(&self, deal: u64) -> PathBuf {
        self.home.join("pieces").join(format!("deal-{deal}.piece"))
    }

    /// The parent cache directory.
    pub fn parent_cache(&self) -> PathBuf {
        self.config
            .parent_cache
            .clone()
            .unwrap_or_else(|| self.home.join("parents"))
    }

    /// Signs `call` with the worker key and its next nonce, and submits it (one at a time).
    pub async fn send(&self, call: Method) -> Result<String, ChainError> {
        let _g = self.send_lock.lock().await;
        let nonce = self.chain.account(self.worker.address()).await?.nonce;
        let network = self.chain.head().await?.network;
        let msg = Message {
            network,
            from: self.worker.address(),
            nonce,
            call,
        }
        .sign(&self.worker)
        .map_err(|e| ChainError::internal(e.to_string()))?;
        self.chain.submit(msg).await
    }

    /// Waits for every running job (tests and orderly shutdown).
    pub async fn idle(&self) {
        loop {
            let hs: Vec<_> = std::mem::take(&mut *self.handles.lock().expect("handles"));
            if hs.is_empty() {
                return;
            }
            for h in hs {
                let _ = h.await;
            }
        }
    }

    /// Runs the daemon: the deal endpoint and metrics on `listener`, the pipeline and the
    /// scheduler on their own loops, until the future is dropped.
    pub async fn run(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
    ) -> Result<(), ProviderError> {
        let tick = std::time::Duration::from_millis((self.constants.block_time_ms / 2).max(50));
        let p = self.clone();
        let pipeline = tokio::spawn(async move {
            loop {
                p.pipeline_tick().await;
                tokio::time::sleep(tick).await;
            }
        });
        let s = self.clone();
        let scheduler = tokio::spawn(async move {
            loop {
                s.scheduler_tick().await;
                tokio::time::sleep(tick).await;
            }
        });
        let server = axum::serve(listener, server::router(self.clone()));
        let r = server
            .await
            .map_err(|e| ProviderError::Other(format!("deal endpoint: {e}")));
        pipeline.abort();
        scheduler.abort();
        r
    }
}
