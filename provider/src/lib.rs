//! The storage provider's daemon (DESIGN §9): deal intake over HTTP, a persistent sealing
//! pipeline per sector, a proving scheduler for WindowPoSt and WinningPoSt, fault and recovery
//! declarations, and Prometheus metrics. Everything durable is in the provider database ([`db`]:
//! SQLite on one machine, PostgreSQL for a cluster); everything on chain goes through `strata_chain_client::ChainApi` (the JSON-RPC client, or the devnet in
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
//! - **Proving has priority over sealing** ([`priority`]): PoSt keeps the main rayon pool and
//!   its parameters warm; sealing runs on a low-priority pool off the reserved cores and pauses
//!   while a PoSt runs; the seal proof is a child process stopped during PoSt. Every proof is
//!   timed ([`budget`]): deadlines too tight for the measured times are warned about, and deal
//!   intake refuses starts sooner than the measured sealing and proving allow.
//! - **One bad sector never costs a deadline**: WindowPoSt checks each sector's files, proves the
//!   healthy ones and reports the rest as skipped; sectors whose files break before their fault
//!   cutoff are declared faulty ahead of time, and declared recovered once their files are back.
//! - **Permanent replicas are ordinary deals once claimed** ([`permanent`]): the claim's start
//!   is a deadline four times the measured estimate (at least a day), because a replica has no
//!   end while the seal proof pauses for every PoSt; repairs fetch from a surviving holder and
//!   check the CommP before claiming; a win's recall proof is read from the sector's data tree.
//! - **A cluster is one database** (DESIGN §11, Curio's model: no miner/worker split). Sealing
//!   and seal proofs are tasks in the shared database ([`db::cluster`]) that the daemon and any
//!   `strata worker` ([`worker`]) claim; a task's input carries all it needs, its result is
//!   recorded only for the machine still holding the claim, and the daemon advances sectors on
//!   the results. The two engines sit behind one small interface ([`db::engine`]): rusqlite
//!   (bundled SQLite, the embedded default) and the synchronous `postgres` client. We chose that
//!   over sqlx because sqlx's SQLite driver links its own `libsqlite3-sys` (conflicting with
//!   rusqlite's bundled one) and would have turned every database call async; the synchronous
//!   pair keeps the daemon's code paths unchanged, and every statement is written once in the
//!   dialect both accept.
//! - **PoSt proves where the data is** ([`post_vanilla`]): each sector's vanilla proof is
//!   computed on the machine holding it (over `POST /cluster/vanilla`, [`storage`]) and checked
//!   against the chain's CommR before the daemon's SNARK; a single machine runs the same path
//!   with every sector local. Unlike DESIGN's sketch of PoSt partitions as database tasks, the
//!   daemon asks the holders directly: a task round-trip through the database adds a claim
//!   latency and a failure mode to a deadline that is seconds long, for no gain (the SNARK half
//!   needs the warm parameters the daemon already holds).
//! - **One signer** ([`leader`]): a PostgreSQL advisory lock held by the daemon that signs and
//!   schedules; a standby takes it over within a poll when the holder's session ends. Messages are
//!   recorded by key before sending ([`Provider::send_once`]), so a takeover never sends twice.
//! - **Seal batches are claimed, not planned** ([`db::batch_claim`], `[seal_batch]`): with a batch
//!   size above 1, a machine claims up to that many pending seal tasks of one proof type in one
//!   transaction and seals them together ([`strata_sealer::seal_batch`]); the queue is the batch
//!   former, so batching works the same on one machine and across a cluster. Committed-capacity
//!   pledges wait up to `wait_secs` for batch-mates; a sector with deals never waits (its deals
//!   have start epochs) and takes pending pledges along. Each task keeps its own result, and a
//!   task whose input or piece fails is failed alone.

pub mod budget;
pub mod cluster;
pub mod config;
pub mod console;
pub mod db;
pub mod leader;
pub mod metrics;
pub mod onboarding;
pub mod os;
pub mod permanent;
pub mod pg_server;
pub mod pipeline;
pub mod post_vanilla;
pub mod priority;
pub mod scheduler;
pub mod seal_prover;
pub mod server;
pub mod storage;
pub mod tasks;
mod window_post;
pub mod worker;

pub use config::ProviderConfig;

use metrics::Timed;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use strata_chain_client::types::Epoch;
use strata_chain_client::types::{Method, MinerId};
use strata_chain_client::views::Constants;
use strata_chain_client::{ChainApi, ChainError, KeyPair, Message};
use strata_params::groth16_files::{ParamsStore, ProofKind};
use strata_params::ProofType;
use strata_prover::warm::{ParamSource, ParamsCache};
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
    /// Durable state (shared with the cluster's other machines when it is PostgreSQL).
    pub db: Arc<db::Db>,
    /// This process's machine id in the cluster's machine table.
    pub machine: i64,
    /// What this process registered as.
    pub machine_spec: db::cluster::MachineSpec,
    /// The signing role: only the holder signs messages and runs the scheduler.
    pub leader: leader::Leadership,
    /// The cluster secret (storage requests between machines carry it).
    pub secret: String,
    runner: tasks::Runner,
    /// Groth16 parameters.
    pub params: ParamsStore,
    /// Metrics.
    pub metrics: metrics::Metrics,
    worker: KeyPair,
    send_lock: tokio::sync::Mutex<()>,
    jobs: Arc<tokio::sync::Semaphore>,
    handles: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    sched: Mutex<scheduler::SchedState>,
    winning_busy: std::sync::atomic::AtomicBool,
    /// Sector locations and machines as last read (for database outages).
    locations: Mutex<cluster::LocationCache>,
    /// PoSt parameters, loaded once and kept warm.
    pub warm: ParamsCache,
    /// What sealing gives way to.
    pub gate: Arc<priority::ProvingGate>,
    /// How the cores are split between PoSt and sealing.
    pub plan: priority::CpuPlan,
    tight: Mutex<HashSet<&'static str>>,
    waiting: Mutex<onboarding::Waiting>,
    probe: Mutex<Option<(std::time::Instant, f64)>>,
}

impl Provider {
    /// Opens the provider in `home` with its configuration, chain access and worker key; seal
    /// proofs run in process (see [`Provider::open_with`]).
    pub async fn open(
        home: &Path,
        config: ProviderConfig,
        chain: Arc<dyn ChainApi>,
        worker: KeyPair,
    ) -> Result<Arc<Provider>, ProviderError> {
        Self::open_with(home, config, chain, worker, Default::default()).await
    }

    /// As [`Provider::open`], with seal proofs computed by `seal_prover` (the daemon and the
    /// demo pass their own binary, so a seal proof can be stopped while PoSt is proven).
    pub async fn open_with(
        home: &Path,
        config: ProviderConfig,
        chain: Arc<dyn ChainApi>,
        worker: KeyPair,
        seal_prover: seal_prover::SealProver,
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
        let location = config.db_location(home);
        let db = Arc::new(db::Db::open_location(&location)?);
        let params = ParamsStore::new(
            config
                .params_dir
                .clone()
                .unwrap_or_else(ParamsStore::default_dir),
        );
        let plan = priority::CpuPlan::new(&os::allowed_cpus(), config.proving_threads);
        let sealing =
            priority::sealing_pool(&plan, config.sealing_nice).map_err(ProviderError::Other)?;
        tracing::info!(
            reserved = ?plan.reserved,
            sealing = ?plan.sealing,
            nice = config.sealing_nice,
            ?seal_prover,
            "proving has priority: PoSt on the main pool, sealing on its own"
        );
        let warm = ParamsCache::new(params.clone());
        let name = config
            .machine_name
            .clone()
            .unwrap_or_else(|| cluster::default_machine_name(&config.listen.to_string()));
        let machine_spec = cluster::machine_spec(
            name,
            format!("http://{}", config.listen),
            &config.task_kinds(),
            vec![home.display().to_string()],
        );
        let machine = db.register_machine(&machine_spec)?;
        // Whatever this machine was running before it restarted is not running now.
        let released = db.release_own(machine)?;
        if released > 0 {
            tracing::info!(
                released,
                "tasks this machine held before restarting are pending again"
            );
        }
        let secret = db.cluster_secret()?;
        let sealing = Arc::new(sealing);
        let runner = tasks::Runner {
            db: db.clone(),
            machine,
            storage: home.to_path_buf(),
            pieces: home.join("pieces"),
            parent_cache: config
                .parent_cache
                .clone()
                .unwrap_or_else(|| home.join("parents")),
            params: params.clone(),
            sealing: sealing.clone(),
            gate: Default::default(),
            plan: plan.clone(),
            nice: config.sealing_nice,
            seal_prover: seal_prover.clone(),
        };
        let leader = leader::Leadership::new(&location, config.miner);
        let provider = Arc::new(Provider {
            warm,
            gate: runner.gate.clone(),
            plan,
            machine,
            machine_spec,
            leader,
            secret,
            runner,
            tight: Mutex::new(HashSet::new()),
            waiting: Mutex::new(Default::default()),
            probe: Mutex::new(None),
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
            handles: Mutex::new(Vec::new()),
            sched: Mutex::new(Default::default()),
            winning_busy: Default::default(),
            locations: Default::default(),
        });
        provider.lead();
        provider.check_budgets(0);
        provider.warm_post_params();
        Ok(provider)
    }

    /// Loads the PoSt parameters into memory in the background, so that no deadline pays for
    /// reading and checking them.
    fn warm_post_params(self: &Arc<Self>) {
        let p = self.clone();
        let h = tokio::task::spawn_blocking(move || {
            for kind in [ProofKind::Window, ProofKind::Winning] {
                match p.warm.params(kind, &p.proof_type) {
                    Ok(_) => {
                        tracing::info!(kind = kind.as_str(), "PoSt parameters loaded and kept warm")
                    }
                    Err(e) => {
                        tracing::warn!(kind = kind.as_str(), %e, "PoSt parameters not loaded")
                    }
                }
            }
        });
        self.handles
            .lock()
            .expect("handles")
            .push(tokio::spawn(async move {
                let _ = h.await;
            }));
    }

    /// Records a measured duration (metrics and database) and re-checks the PoSt budgets.
    pub fn measured(&self, op: Timed, ms: u64, head: Epoch) {
        self.metrics.time(op, ms);
        if let Err(e) = self.db.record_time(op.as_str(), ms) {
            tracing::warn!(%e, "recording a duration failed");
        }
        if matches!(op, Timed::WindowPost | Timed::WinningPost) {
            self.check_budgets(head);
        }
    }

    /// The PoSt budgets against the measured times (for `/metrics` and the demo).
    pub fn budgets(&self) -> Vec<budget::BudgetCheck> {
        budget::post_budgets(&self.constants, &self.db, self.max_partitions())
    }

    /// Warns (log and the provider's log table) whenever a budget turns tight, and notes when
    /// it is comfortable again; each change is reported once.
    fn check_budgets(&self, head: Epoch) {
        for b in self.budgets() {
            let mut tight = self.tight.lock().expect("tight");
            if b.tight && tight.insert(b.op) {
                tracing::warn!("proving budget tight: {}", b.describe());
                let _ = self.db.log(head, "budget_tight", &b.describe());
            } else if !b.tight && tight.remove(b.op) {
                tracing::info!("proving budget ok again: {}", b.describe());
                let _ = self.db.log(head, "budget_ok", &b.describe());
            }
        }
    }

    /// The share of the sealing cores sealing gets now ([`os::cpu_share`], re-probed at most
    /// every 10 s).
    pub fn cpu_share(&self) -> f64 {
        let mut probe = self.probe.lock().expect("probe");
        match *probe {
            Some((at, share)) if at.elapsed() < std::time::Duration::from_secs(10) => share,
            _ => {
                let share = os::cpu_share(
                    self.config.sealing_nice,
                    &self.plan.sealing,
                    std::time::Duration::from_millis(300),
                );
                *probe = Some((std::time::Instant::now(), share));
                share
            }
        }
    }

    /// Partitions in the fullest deadline seen by the scheduler (at least 1).
    fn max_partitions(&self) -> usize {
        self.sched.lock().expect("sched").max_partitions().max(1)
    }

    /// The earliest start epoch this provider can promise a deal arriving at `head`: its
    /// slowest recent seal and seal proof (or a load-scaled prior), the queue ahead, the seed
    /// delay and the message epochs, with margin (see [`budget`]).
    pub fn earliest_start(&self, head: Epoch) -> Epoch {
        let slowdown = 1.0 / self.cpu_share();
        let prior = |ms: u64| (ms as f64 * slowdown) as u64;
        let seal_ms = budget::worst(&self.db, Timed::Seal)
            .0
            .unwrap_or_else(|| prior(budget::prior_seal_ms(&self.proof_type)));
        let seal_proof_ms = budget::worst(&self.db, Timed::SealProof)
            .0
            .unwrap_or_else(|| {
                let constraints = self
                    .params
                    .manifest()
                    .ok()
                    .and_then(|m| {
                        m.entries.into_iter().find(|e| {
                            e.kind == ProofKind::Porep
                                && e.sector_size == self.proof_type.sector_size.bytes()
                        })
                    })
                    .map_or(2_000_000, |e| e.constraints);
                prior(budget::prior_seal_proof_ms(
                    &self.proof_type,
                    constraints,
                    self.plan.sealing.len(),
                ))
            });
        budget::earliest_start(
            &self.constants,
            head,
            &budget::StartInputs {
                seal_ms,
                seal_proof_ms,
                ahead: budget::queue_ahead(&self.db),
                parallel: self.config.max_parallel_jobs.max(1),
                min_delay: self.config.min_start_delay,
            },
        )
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

    /// Takes or confirms the signing role; whether this process holds it (a leader that cannot
    /// reach the database leads on for [`leader::GRACE`]).
    pub fn lead(&self) -> bool {
        self.leader.check_with_grace()
    }

    /// Sends `call` once for `key`: recorded before it is sent and its outcome after, so a
    /// standby that takes over never sends a message the previous leader sent (it returns the
    /// recorded message id instead).
    pub async fn send_once(&self, key: &str, call: Method) -> Result<String, ChainError> {
        let machine = &self.machine_spec.name;
        match self.db.message_begin(key, &call.name(), machine) {
            Ok(Some(sent)) => {
                tracing::info!(key, by = %sent.machine, "message already sent; not sending again");
                return Ok(sent.msg_id.unwrap_or_default());
            }
            Ok(None) => {}
            // A WindowPoSt cannot wait for the database: its window closes. Sending it
            // unrecorded is safe — the chain refuses a second proof of a proven partition.
            Err(e) if key.starts_with("post:") => {
                tracing::warn!(%e, key, "database unreachable: sending the WindowPoSt unrecorded");
                return self.send(call).await;
            }
            Err(e) => {
                return Err(ChainError::internal(format!(
                    "recording message {key}: {e}"
                )))
            }
        }
        let r = self.send(call).await;
        let outcome = match &r {
            Ok(id) => self.db.message_end(key, Ok(id)),
            Err(e) => self.db.message_end(key, Err(&e.to_string())),
        };
        if let Err(e) = outcome {
            tracing::warn!(%e, key, "recording a message's outcome failed");
        }
        r
    }

    /// Signs `call` with the worker key and its next nonce, and submits it (one at a time);
    /// refused unless this process holds the signing role.
    pub async fn send(&self, call: Method) -> Result<String, ChainError> {
        let _g = self.send_lock.lock().await;
        if !self.leader.is_leader() {
            return Err(ChainError::internal(
                "this daemon is a standby: another process holds the signing role",
            ));
        }
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

    /// Everything this daemon serves: the web console (`/`, `/api/…`), the deal endpoint,
    /// metrics and status, and its storage for the cluster's other machines.
    pub fn app(self: &Arc<Self>) -> axum::Router {
        let served = storage::Served {
            secret: self.secret.clone(),
            pieces: vec![self.home.join("pieces")],
            db: self.db.clone(),
            machine: self.machine,
            parent_cache: self.parent_cache(),
        };
        server::router(self.clone())
            .merge(storage::router(served))
            .merge(console::router(self.clone()))
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
        let l = self.clone();
        let leadership = tokio::spawn(async move {
            loop {
                let l2 = l.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    l2.lead();
                    l2.cluster_tick();
                })
                .await;
                tokio::time::sleep(leader::POLL).await;
            }
        });
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
        let server = axum::serve(listener, self.app());
        let r = server
            .await
            .map_err(|e| ProviderError::Other(format!("deal endpoint: {e}")));
        leadership.abort();
        pipeline.abort();
        scheduler.abort();
        r
    }
}
