//! `strata worker run` (a machine that claims tasks from the shared database) and
//! `strata cluster machines|tasks|storage` (what the cluster is doing, for the operator).

use crate::chain_cmd::{print, runtime, strata_home};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use strata_provider::db::cluster::Task;
use strata_provider::db::Db;
use strata_provider::worker::{Worker, WorkerConfig};
use strata_provider::ProviderConfig;

#[derive(Subcommand)]
pub enum WorkerCommand {
    /// Join the cluster and run tasks: register this machine (cores, memory, task kinds,
    /// storage paths, storage URL), heartbeat every 2 s, claim tasks of the kinds given while a
    /// job slot is free, and serve this machine's storage to the others. Needs only the shared
    /// database — no chain, no keys. Stop it any way you like: its running task is released
    /// once its heartbeats stop and another machine finishes it.
    Run(WorkerArgs),
}

#[derive(Args)]
pub struct WorkerArgs {
    /// The cluster's database (the daemon's `db`: `postgres://user:pass@host:5432/db`).
    #[arg(long, env = "STRATA_DB")]
    db: String,
    /// Task kinds to run, comma-separated: `seal` (sealing a sector), `seal_proof` (its
    /// Groth16 proof; runs where the sector was sealed unless the storage path is shared).
    #[arg(long, default_value = "seal,seal_proof", value_delimiter = ',')]
    tasks: Vec<String>,
    /// Storage paths; sectors are sealed into the first. Repeat for several.
    #[arg(long = "storage", required = true)]
    storage: Vec<PathBuf>,
    /// Where to serve this machine's storage to the cluster (must be reachable from the others).
    #[arg(long, default_value = "127.0.0.1:2346")]
    listen: SocketAddr,
    /// This machine's name in the cluster [default: host name and listen address].
    #[arg(long)]
    name: Option<String>,
    /// Tasks run at once.
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Groth16 parameters directory [default: ~/.cache/strata/params].
    #[arg(long)]
    params_dir: Option<PathBuf>,
    /// Parent caches [default: FIRST-STORAGE/parents].
    #[arg(long)]
    parent_cache: Option<PathBuf>,
    /// Niceness of sealing threads and seal-proof processes.
    #[arg(long, default_value_t = strata_provider::config::default_sealing_nice())]
    nice: i32,
    /// Seal up to this many sectors together (labels in SIMD lanes: far less CPU per sector;
    /// 16 fills AVX-512). Sectors with deals never wait for a batch.
    #[arg(long, default_value_t = 1)]
    seal_batch: usize,
    /// The longest a committed-capacity pledge waits for its batch to fill, in seconds.
    #[arg(long, default_value_t = 30)]
    seal_batch_wait: u64,
}

#[derive(Subcommand)]
pub enum ClusterCommand {
    /// The machines: kinds, resources, storage URL, heartbeat age, running tasks.
    Machines {
        #[command(flatten)]
        db: DbArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Tasks, newest first: kind, sector, state, the machine holding it, attempts.
    Tasks {
        #[command(flatten)]
        db: DbArg,
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Where every sector's files are: machine and directory.
    Storage {
        #[command(flatten)]
        db: DbArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Which database to read: `--db`, else the provider config in `--home`.
#[derive(Args)]
pub struct DbArg {
    /// The cluster's database URL [default: the one the provider config in --home names].
    #[arg(long, env = "STRATA_DB")]
    db: Option<String>,
    /// The provider's home [default: $STRATA_HOME/miner].
    #[arg(long, env = "STRATA_MINER_HOME")]
    home: Option<PathBuf>,
}

impl DbArg {
    fn open(&self) -> Result<Db> {
        let location = match &self.db {
            Some(d) => d.clone(),
            None => {
                let home = self
                    .home
                    .clone()
                    .unwrap_or_else(|| strata_home().join("miner"));
                ProviderConfig::load(&home)?.db_location(&home)
            }
        };
        Ok(Db::open_location(&location)?)
    }
}

pub fn worker(cmd: WorkerCommand) -> Result<()> {
    let WorkerCommand::Run(a) = cmd;
    let name = a
        .name
        .clone()
        .unwrap_or_else(|| strata_provider::worker::default_name(&a.listen));
    let config = WorkerConfig {
        db: a.db.clone(),
        kinds: a.tasks.clone(),
        storage: a.storage.clone(),
        listen: a.listen,
        name,
        params_dir: a.params_dir.clone(),
        parent_cache: a.parent_cache.clone(),
        jobs: a.jobs,
        nice: a.nice,
        seal_prover: strata_provider::seal_prover::SealProver::Child(
            std::env::current_exe().context("locating the strata binary for seal proofs")?,
        ),
        dead_after_ms: strata_provider::config::default_dead_after_ms(),
        seal_batch: strata_provider::config::SealBatchConfig {
            size: a.seal_batch,
            wait_secs: a.seal_batch_wait,
        },
    };
    // The database may be starting too: wait for it rather than fail a unit at boot.
    let w = loop {
        match Worker::open(config.clone()) {
            Ok(w) => break Arc::new(w),
            Err(strata_provider::worker::WorkerError::Db(e)) => {
                eprintln!("database unavailable ({e}); retrying in 2 s");
                std::thread::sleep(std::time::Duration::from_secs(2));
            }
            Err(e) => return Err(e.into()),
        }
    };
    runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(a.listen)
            .await
            .with_context(|| format!("binding {}", a.listen))?;
        println!(
            "worker {} (machine {}) running {}; storage {} served on http://{}",
            w.spec.name,
            w.machine,
            w.spec.kinds.join(","),
            w.spec.storage.join(", "),
            a.listen
        );
        w.run(listener, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
        println!("stopping");
        Ok(())
    })
}

#[derive(Serialize)]
struct MachineView {
    #[serde(flatten)]
    machine: strata_provider::db::cluster::Machine,
    alive: bool,
    heartbeat_age_ms: i64,
    running: Vec<i64>,
}

#[derive(Serialize)]
struct StorageView {
    sector: u64,
    machine: i64,
    machine_name: String,
    path: String,
}

pub fn cluster(cmd: ClusterCommand) -> Result<()> {
    let dead_after = strata_provider::config::default_dead_after_ms();
    match cmd {
        ClusterCommand::Machines { db, json } => {
            let db = db.open()?;
            let now = db.engine.now_ms()?;
            let tasks = db.tasks(10_000)?;
            let rows: Vec<MachineView> = db
                .machines()?
                .into_iter()
                .map(|m| MachineView {
                    alive: m.alive(now, dead_after),
                    heartbeat_age_ms: now - m.heartbeat_at,
                    running: tasks
                        .iter()
                        .filter(|t| t.state == "running" && t.machine == Some(m.id))
                        .map(|t| t.id)
                        .collect(),
                    machine: m,
                })
                .collect();
            print(json, &rows, |rows| {
                let mut out = format!(
                    "{:<4} {:<28} {:<6} {:>5} {:>8} {:<16} {:<24} {}\n",
                    "id", "name", "state", "cores", "mem GiB", "kinds", "storage url", "running"
                );
                for r in rows {
                    let m = &r.machine;
                    out += &format!(
                        "{:<4} {:<28} {:<6} {:>5} {:>8.1} {:<16} {:<24} {:?}\n",
                        m.id,
                        m.name,
                        if r.alive { "alive" } else { "dead" },
                        m.cores,
                        m.memory as f64 / (1u64 << 30) as f64,
                        m.kinds.join(","),
                        m.http,
                        r.running
                    );
                }
                out
            });
        }
        ClusterCommand::Tasks { db, limit, json } => {
            let db = db.open()?;
            let rows: Vec<Task> = db.tasks(limit)?;
            print(json, &rows, |rows| {
                let mut out = format!(
                    "{:<6} {:<11} {:>6} {:<10} {:<8} {:>7} {:>8} {}\n",
                    "id", "kind", "sector", "key", "state", "machine", "attempts", "error"
                );
                for t in rows {
                    out += &format!(
                        "{:<6} {:<11} {:>6} {:<10} {:<8} {:>7} {:>8} {}\n",
                        t.id,
                        t.kind,
                        t.sector,
                        t.key,
                        t.state,
                        t.machine.map_or("-".into(), |m| m.to_string()),
                        t.attempts,
                        t.error.as_deref().unwrap_or("")
                    );
                }
                out
            });
        }
        ClusterCommand::Storage { db, json } => {
            let db = db.open()?;
            let machines = db.machines()?;
            let rows: Vec<StorageView> = db
                .sector_locations()?
                .into_iter()
                .map(|(sector, machine, path)| StorageView {
                    sector,
                    machine,
                    machine_name: machines
                        .iter()
                        .find(|m| m.id == machine)
                        .map_or("?".into(), |m| m.name.clone()),
                    path,
                })
                .collect();
            print(json, &rows, |rows| {
                let mut out = format!("{:>6} {:<28} {}\n", "sector", "machine", "path");
                for r in rows {
                    out += &format!(
                        "{:>6} {:<28} {}\n",
                        r.sector,
                        format!("{} ({})", r.machine_name, r.machine),
                        r.path
                    );
                }
                out
            });
        }
    }
    Ok(())
}
