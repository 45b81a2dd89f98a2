//! `strata worker run`: a machine that only runs tasks (DESIGN §11). It needs no chain access and
//! no keys — only the shared database and its storage. It registers itself (cores, memory, task
//! kinds, storage paths, storage URL), heartbeats every [`HEARTBEAT`], claims tasks of its kinds
//! while it has a free job slot, runs them with the same [`Runner`] as the daemon, and serves its
//! storage to the other machines. A worker killed in the middle of a task loses nothing: the
//! daemon releases the task once the heartbeats stop, another machine claims it, and a late
//! answer from the dead claim is dropped.

use crate::cluster::{live_sources, machine_spec};
use crate::db::cluster::{kind, MachineSpec};
use crate::db::{Db, DbError};
use crate::priority::{sealing_pool, CpuPlan};
use crate::seal_prover::SealProver;
use crate::tasks::Runner;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use strata_params::groth16_files::ParamsStore;
use thiserror::Error;

/// Time between heartbeats.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// Time between claim attempts while idle.
pub const CLAIM_POLL: Duration = Duration::from_millis(500);

/// Why a worker could not start.
#[derive(Debug, Error)]
pub enum WorkerError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A task kind this build does not know.
    #[error("unknown task kind {0:?} (known: {known})", known = kind::ALL.join(", "))]
    UnknownKind(String),
    /// Storage or threads could not be set up.
    #[error("{0}")]
    Setup(String),
}

/// What a worker is configured with.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// The shared database (`postgres://…`; a SQLite file works for workers on one machine).
    pub db: String,
    /// Task kinds to run.
    pub kinds: Vec<String>,
    /// Storage paths; sectors are sealed into the first, all are registered.
    pub storage: Vec<PathBuf>,
    /// Where to serve storage (the registered URL is `http://ADDR`).
    pub listen: SocketAddr,
    /// Unique machine name.
    pub name: String,
    /// Groth16 parameters directory.
    pub params_dir: Option<PathBuf>,
    /// Parent caches (default: `<first storage>/parents`).
    pub parent_cache: Option<PathBuf>,
    /// Tasks run at once.
    pub jobs: usize,
    /// Sealing priority (nice).
    pub nice: i32,
    /// How the seal proof runs.
    pub seal_prover: SealProver,
    /// After how long without a heartbeat a machine is dead (to pick live piece sources).
    pub dead_after_ms: i64,
    /// Sealing sectors together.
    pub seal_batch: crate::config::SealBatchConfig,
}

/// A running worker.
pub struct Worker {
    /// The shared database.
    pub db: Arc<Db>,
    /// This machine's id.
    pub machine: i64,
    /// As registered.
    pub spec: MachineSpec,
    /// The cluster secret.
    pub secret: String,
    runner: Arc<Runner>,
    kinds: Vec<&'static str>,
    jobs: Arc<tokio::sync::Semaphore>,
    config: WorkerConfig,
}

/// `kinds` as this build's names; an unknown one is an error.
pub fn parse_kinds(kinds: &[String]) -> Result<Vec<&'static str>, WorkerError> {
    kinds
        .iter()
        .map(|k| {
            kind::ALL
                .iter()
                .copied()
                .find(|x| x == k)
                .ok_or_else(|| WorkerError::UnknownKind(k.clone()))
        })
        .collect()
}

impl Worker {
    /// Connects, migrates, registers this machine and gives back whatever it held before a
    /// restart (blocking; call it off the async scheduler or before starting one).
    pub fn open(config: WorkerConfig) -> Result<Worker, WorkerError> {
        let kinds = parse_kinds(&config.kinds)?;
        let first = config
            .storage
            .first()
            .cloned()
            .ok_or_else(|| WorkerError::Setup("a worker needs a storage path".into()))?;
        for d in [first.join("sectors"), first.join("pieces")] {
            std::fs::create_dir_all(&d)
                .map_err(|e| WorkerError::Setup(format!("creating {}: {e}", d.display())))?;
        }
        let db = Arc::new(Db::open_location(&config.db)?);
        let spec = machine_spec(
            config.name.clone(),
            format!("http://{}", config.listen),
            &kinds,
            config
                .storage
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
        );
        let machine = db.register_machine(&spec)?;
        let released = db.release_own(machine)?;
        if released > 0 {
            tracing::info!(
                released,
                "tasks this machine held before restarting are pending again"
            );
        }
        let secret = db.cluster_secret()?;
        let plan = CpuPlan::new(&crate::os::allowed_cpus(), 0);
        let sealing = Arc::new(sealing_pool(&plan, config.nice).map_err(WorkerError::Setup)?);
        let runner = Arc::new(Runner {
            db: db.clone(),
            machine,
            storage: first.clone(),
            pieces: first.join("pieces"),
            parent_cache: config
                .parent_cache
                .clone()
                .unwrap_or_else(|| first.join("parents")),
            params: ParamsStore::new(
                config
                    .params_dir
                    .clone()
                    .unwrap_or_else(ParamsStore::default_dir),
            ),
            sealing,
            gate: Default::default(),
            plan,
            nice: config.nice,
            seal_prover: config.seal_prover.clone(),
        });
        Ok(Worker {
            db,
            machine,
            spec,
            secret,
            runner,
            kinds,
            jobs: Arc::new(tokio::sync::Semaphore::new(config.jobs.max(1))),
            config,
        })
    }

    /// The storage routes this worker serves.
    pub fn app(&self) -> axum::Router {
        crate::storage::router(crate::storage::Served {
            secret: self.secret.clone(),
            pieces: vec![self.runner.pieces.clone()],
            db: self.db.clone(),
            machine: self.machine,
            parent_cache: self.runner.parent_cache.clone(),
        })
    }

    /// Claims and starts tasks while a job slot is free; how many were started. Database
    /// errors are logged and retried on the next call.
    pub fn claim_some(self: &Arc<Self>) -> usize {
        let mut started = 0;
        loop {
            let Ok(permit) = self.jobs.clone().try_acquire_owned() else {
                return started;
            };
            let claimed = crate::cluster::claim_next(
                &self.db,
                self.machine,
                &self.kinds,
                self.config.seal_batch.policy(),
                self.config.dead_after_ms,
            );
            let tasks = match claimed {
                Ok(t) if !t.is_empty() => t,
                Ok(_) => return started,
                Err(e) => {
                    tracing::warn!(%e, "claiming a task failed");
                    return started;
                }
            };
            started += 1;
            let w = self.clone();
            std::thread::spawn(move || {
                let fetch = live_sources(&w.db, w.machine, w.config.dead_after_ms, &w.secret);
                let r = match &tasks[..] {
                    [one] => w.runner.run(one, &fetch).map(usize::from),
                    many => w.runner.run_seal_batch(many, &fetch),
                };
                match r {
                    Ok(n) => tracing::info!(tasks = tasks.len(), taken = n, "finished"),
                    Err(e) => tracing::error!(%e, "recording a task's outcome failed"),
                }
                drop(permit);
            });
        }
    }

    /// Serves storage on `listener`, heartbeats, and claims tasks until `stop` resolves.
    pub async fn run(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
        stop: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        let app = self.app();
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let beat = {
            let w = self.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(HEARTBEAT);
                loop {
                    tick.tick().await;
                    let w2 = w.clone();
                    let r = tokio::task::spawn_blocking(move || w2.db.heartbeat(w2.machine)).await;
                    if let Ok(Err(e)) = r {
                        tracing::warn!(%e, "heartbeat failed; retrying");
                    }
                }
            })
        };
        let claims = {
            let w = self.clone();
            tokio::spawn(async move {
                loop {
                    let w2 = w.clone();
                    let _ = tokio::task::spawn_blocking(move || w2.claim_some()).await;
                    tokio::time::sleep(CLAIM_POLL).await;
                }
            })
        };
        stop.await;
        claims.abort();
        beat.abort();
        server.abort();
        Ok(())
    }
}

/// A worker's default name: host name and listen address.
pub fn default_name(listen: &SocketAddr) -> String {
    crate::cluster::default_machine_name(&listen.to_string())
}
