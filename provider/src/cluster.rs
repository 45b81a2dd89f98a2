//! The daemon as one machine of a cluster (DESIGN §11): it registers itself, heartbeats, runs the
//! tasks of the kinds its configuration names on its own job pool (so a single machine needs no
//! worker at all), releases the tasks of machines that stopped heartbeating (while it leads),
//! and finds each sector's files — on its own disk, on a shared path, or on another machine.

use crate::db::cluster::{kind, Machine, MachineSpec};
use crate::tasks::PieceFetch;
use crate::Provider;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use strata_primitives::node::Node;

/// Where a sector's files are, as the scheduler needs them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SectorAt {
    /// Readable here (this machine's storage, or a shared path of a machine that is down).
    Local(PathBuf),
    /// On another machine, alive, serving its storage at `http`; `path` is the directory there
    /// (readable here too if the path is shared).
    Remote {
        /// The machine.
        machine: i64,
        /// Its storage URL.
        http: String,
        /// The sector's directory on that machine.
        path: PathBuf,
    },
}

/// What the daemon last read of where sectors are and which machines serve them, so that a
/// database outage does not make sectors unfindable (a PoSt due meanwhile is still proven).
#[derive(Default)]
pub struct LocationCache {
    sectors: HashMap<u64, (i64, String)>,
    machines: HashMap<i64, (String, bool)>,
}

/// This machine's resources and kinds, as registered.
pub fn machine_spec(
    name: String,
    http: String,
    kinds: &[&str],
    storage: Vec<String>,
) -> MachineSpec {
    MachineSpec {
        name,
        http,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()) as u64,
        memory: crate::os::total_memory(),
        kinds: kinds.iter().map(|k| k.to_string()).collect(),
        storage,
    }
}

/// A default machine name: the host name and the address served.
pub fn default_machine_name(listen: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    format!("{host}-{listen}")
}

impl Provider {
    /// Sector `n`'s recorded home: the machine and the directory there (a sector sealed before
    /// locations were recorded is in this daemon's own storage). While the database is
    /// unreachable, the last location read is used; a sector never read is an error.
    pub fn sector_home(&self, n: u64) -> Result<(i64, String), String> {
        let mut cache = self.locations.lock().expect("locations");
        match self.db.sector_location(n) {
            Ok(found) => {
                let home = found
                    .unwrap_or_else(|| (self.machine, self.sector_dir(n).display().to_string()));
                cache.sectors.insert(n, home.clone());
                Ok(home)
            }
            Err(e) => cache
                .sectors
                .get(&n)
                .cloned()
                .ok_or_else(|| format!("sector {n}'s location is unknown: {e}")),
        }
    }

    /// Where sector `n` is read from now: here if this machine holds it; on the machine that
    /// holds it while that machine is alive (its disks are local to it); here if it is down but
    /// its path is readable here with CommR `comm_r` (a shared path); else on that machine, whose
    /// answer will be that it is unreachable. An error only if the location is unknown.
    pub fn sector_at(&self, n: u64, comm_r: Option<&Node>) -> Result<SectorAt, String> {
        let (machine, path) = self.sector_home(n)?;
        let dir = PathBuf::from(&path);
        if machine == self.machine {
            return Ok(SectorAt::Local(dir));
        }
        let (http, alive) = self.machine_http(machine)?;
        let readable = || match comm_r {
            Some(c) => crate::tasks::local_sector(&dir, c),
            None => strata_sealer::SectorMeta::load(&dir).is_ok(),
        };
        if !alive && readable() {
            return Ok(SectorAt::Local(dir));
        }
        Ok(SectorAt::Remote {
            machine,
            http,
            path: dir,
        })
    }

    /// Machine `id`'s storage URL and whether it is alive (cached through database outages).
    fn machine_http(&self, id: i64) -> Result<(String, bool), String> {
        let mut cache = self.locations.lock().expect("locations");
        let now = self.db.engine.now_ms();
        match (self.db.machine(id), now) {
            (Ok(Some(m)), Ok(now)) => {
                let v = (m.http.clone(), m.alive(now, self.config.dead_after_ms));
                cache.machines.insert(id, v.clone());
                Ok(v)
            }
            (Ok(None), _) => Err(format!("machine {id} is not registered")),
            (Err(e), _) | (_, Err(e)) => cache
                .machines
                .get(&id)
                .cloned()
                .ok_or_else(|| format!("machine {id} is unknown: {e}")),
        }
    }

    /// Heartbeats this machine and, while this process leads, releases the tasks of machines
    /// that stopped heartbeating.
    pub fn cluster_tick(&self) {
        if let Err(e) = self.db.heartbeat(self.machine) {
            tracing::warn!(%e, "heartbeat failed");
            // Registered rows are never deleted, but a wiped database is re-joined.
            let _ = self.db.register_machine(&self.machine_spec);
        }
        if self.leader.is_leader() {
            match self.db.release_dead(self.config.dead_after_ms) {
                Ok(0) => {}
                Ok(n) => {
                    tracing::warn!(
                        tasks = n,
                        "released the tasks of machines that stopped heartbeating"
                    );
                    let _ =
                        self.db
                            .log(0, "tasks_released", &format!("{n} tasks of dead machines"));
                }
                Err(e) => tracing::warn!(%e, "releasing dead machines' tasks failed"),
            }
        }
    }

    /// Claims and starts tasks of this daemon's kinds while job slots are free (each claim —
    /// one task, or a batch of seal tasks — runs on a blocking thread and is awaited by
    /// [`Provider::idle`]).
    pub fn run_local_tasks(self: &Arc<Self>) {
        let kinds = self.config.task_kinds();
        if kinds.is_empty() {
            return;
        }
        loop {
            let Ok(permit) = self.jobs.clone().try_acquire_owned() else {
                return;
            };
            let claimed = claim_next(
                &self.db,
                self.machine,
                &kinds,
                self.config.seal_batch.policy(),
                self.config.dead_after_ms,
            );
            let tasks = match claimed {
                Ok(t) if !t.is_empty() => t,
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!(%e, "claiming a task failed");
                    return;
                }
            };
            let p = self.clone();
            let h = tokio::task::spawn_blocking(move || {
                let fetch = p.piece_sources();
                let r = match &tasks[..] {
                    [one] => p.runner.run(one, &fetch).map(usize::from),
                    many => p.runner.run_seal_batch(many, &fetch),
                };
                if let Err(e) = r {
                    tracing::error!(%e, "recording a task's outcome failed");
                }
                drop(permit);
            });
            self.handles.lock().expect("handles").push(h);
        }
    }

    /// Where pieces not on this machine can be fetched: every live machine's storage.
    pub fn piece_sources(&self) -> PieceFetch {
        live_sources(
            &self.db,
            self.machine,
            self.config.dead_after_ms,
            &self.secret,
        )
    }

    /// The machines of the cluster.
    pub fn machines(&self) -> Vec<Machine> {
        self.db.machines().unwrap_or_default()
    }

    /// Whether this daemon seals itself (some task kind it runs is a sealing kind).
    pub fn seals_locally(&self) -> bool {
        self.config.task_kinds().contains(&kind::SEAL)
    }
}

/// The next claim of a machine running `kinds`: with batching (`policy.max > 1`) seal tasks are
/// claimed only as batches ([`crate::db::Db::claim_seal_batch`], which may decide to wait for
/// batch-mates), other kinds one at a time; without it, one task of any kind. Empty: nothing
/// to do now.
pub fn claim_next(
    db: &crate::db::Db,
    machine: i64,
    kinds: &[&str],
    policy: crate::db::batch_claim::BatchPolicy,
    dead_after_ms: i64,
) -> Result<Vec<crate::db::cluster::Task>, crate::db::DbError> {
    let batching = policy.max > 1 && kinds.contains(&kind::SEAL);
    if batching {
        let batch = db.claim_seal_batch(machine, policy, dead_after_ms)?;
        if !batch.is_empty() {
            tracing::info!(
                sectors = ?batch.iter().map(|t| t.sector).collect::<Vec<_>>(),
                "seal batch claimed"
            );
            return Ok(batch);
        }
    }
    let single: Vec<&str> = kinds
        .iter()
        .copied()
        .filter(|k| !(batching && *k == kind::SEAL))
        .collect();
    Ok(db
        .claim_task(machine, &single, dead_after_ms)?
        .inspect(|t| tracing::info!(task = t.id, kind = %t.kind, sector = t.sector, "task claimed"))
        .into_iter()
        .collect())
}

/// Every live machine but `me`, as piece sources.
pub fn live_sources(db: &crate::db::Db, me: i64, dead_after_ms: i64, secret: &str) -> PieceFetch {
    let now = db.engine.now_ms().unwrap_or(0);
    PieceFetch {
        from: db
            .machines()
            .unwrap_or_default()
            .into_iter()
            .filter(|m| m.id != me && m.alive(now, dead_after_ms))
            .map(|m| m.http)
            .collect(),
        secret: secret.to_string(),
    }
}
