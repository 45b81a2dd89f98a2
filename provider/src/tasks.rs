//! What a machine does with a task it claimed (DESIGN §11): the daemon and every `strata worker`
//! run the same [`Runner`]. A task's input carries everything it needs — the ticket or seed,
//! the deals' pieces and their commitments — so a worker needs no chain access, only the
//! database and its storage. Each task is idempotent: a sealed directory with the same ticket
//! is reused, a seal is checked against the deals' CommD before it is reported, and a result
//! from a machine that lost its claim is dropped ([`crate::db::Db::finish_task`]).

use crate::db::cluster::{kind, set_sector_location, Task};
use crate::db::Db;
use crate::priority::{CpuPlan, ProvingGate, YieldToProving};
use crate::seal_prover::{SealProofRun, SealProver};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a finished task's result is retried while the database is unreachable.
const FINISH_RETRY_FOR: Duration = Duration::from_secs(600);
/// How often.
const FINISH_RETRY_EVERY: Duration = Duration::from_secs(1);
use strata_params::groth16_files::ParamsStore;
use strata_params::ProofType;
use strata_primitives::node::Node;
use strata_primitives::serde_hex;
use strata_sealer::{seal, PieceInfo, PieceSource, SealConfig, SectorMeta};

/// One deal's piece as a seal task needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskPiece {
    /// Deal id (the piece is `deal-{id}.piece`).
    pub deal: u64,
    /// Bytes uploaded.
    pub raw_len: u64,
    /// Padded size.
    pub padded_size: u64,
    /// CommP.
    #[serde(with = "serde_hex::node")]
    pub comm_p: Node,
}

/// A seal task's input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealInput {
    /// Proof type id.
    pub proof_type: u64,
    /// Miner (prover id).
    pub miner: u64,
    /// Ticket epoch.
    pub ticket_epoch: i64,
    /// Ticket.
    #[serde(with = "serde_hex::node")]
    pub ticket: Node,
    /// Pieces in layout order (none: committed capacity).
    pub pieces: Vec<TaskPiece>,
}

/// A seal task's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealOutput {
    /// CommR.
    #[serde(with = "serde_hex::node")]
    pub comm_r: Node,
    /// CommD.
    #[serde(with = "serde_hex::node")]
    pub comm_d: Node,
    /// The sector's directory on the machine that sealed it.
    pub path: String,
    /// Wall time, ms.
    pub ms: u64,
}

/// A seal-proof task's input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofInput {
    /// The interactive seed.
    #[serde(with = "serde_hex::node")]
    pub seed: Node,
    /// The sector's CommR (the sealed files must match it).
    #[serde(with = "serde_hex::node")]
    pub comm_r: Node,
    /// The sector's directory on the machine the task is for.
    pub path: String,
}

/// A seal-proof task's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofOutput {
    /// The partition proofs (hex).
    pub proofs: Vec<String>,
    /// Wall time, ms.
    pub ms: u64,
}

/// Where a runner finds deals' pieces that are not on its disk.
#[derive(Clone, Debug, Default)]
pub struct PieceFetch {
    /// Storage URLs of machines to ask, in order.
    pub from: Vec<String>,
    /// The cluster secret they expect.
    pub secret: String,
}

/// Everything a machine needs to run tasks.
pub struct Runner {
    /// The shared database.
    pub db: Arc<Db>,
    /// This machine's id.
    pub machine: i64,
    /// Where sectors are sealed (`sector-N` directories) and downloaded pieces kept.
    pub storage: PathBuf,
    /// Local piece directory (the daemon's `pieces`), read before fetching.
    pub pieces: PathBuf,
    /// Parent caches.
    pub parent_cache: PathBuf,
    /// Groth16 parameters.
    pub params: ParamsStore,
    /// The low-priority sealing pool.
    pub sealing: Arc<rayon::ThreadPool>,
    /// PoSt gate to give way to.
    pub gate: Arc<ProvingGate>,
    /// Cores.
    pub plan: CpuPlan,
    /// Sealing priority.
    pub nice: i32,
    /// Where seal proofs run.
    pub seal_prover: SealProver,
}

impl Runner {
    /// Sector `n`'s directory in this machine's storage.
    pub fn sector_dir(&self, n: u64) -> PathBuf {
        self.storage.join("sectors").join(format!("sector-{n}"))
    }

    /// Runs a claimed task (blocking) and records its outcome; whether the outcome was taken
    /// (false: this machine no longer held the claim).
    pub fn run(&self, task: &Task, fetch: &PieceFetch) -> Result<bool, crate::db::DbError> {
        let outcome = match task.kind.as_str() {
            kind::SEAL => self.seal(task, fetch).map(|o| json(&o)),
            kind::SEAL_PROOF => self.prove(task).map(|o| json(&o)),
            other => Err(format!("this build does not know task kind {other:?}")),
        };
        self.record(task, outcome)
    }

    /// Seals claimed seal tasks together ([`strata_sealer::seal_batch`]) and records each one's
    /// outcome; how many outcomes were taken. A task whose input or pieces fail gets its own
    /// error and the others are sealed without it.
    pub fn run_seal_batch(
        &self,
        tasks: &[Task],
        fetch: &PieceFetch,
    ) -> Result<usize, crate::db::DbError> {
        if let [one] = tasks {
            return self.run(one, fetch).map(usize::from);
        }
        let started = Instant::now();
        let mut outcomes: Vec<Option<Result<SealOutput, String>>> = vec![None; tasks.len()];
        let mut to_seal = Vec::new();
        for (i, task) in tasks.iter().enumerate() {
            match self.seal_plan(task, fetch) {
                Ok(SealPlan::Sealed(meta, input, dir)) => {
                    outcomes[i] = Some(seal_output(&input, &meta, &dir, started))
                }
                Ok(SealPlan::ToSeal(plan)) => to_seal.push((i, plan)),
                Err(e) => outcomes[i] = Some(Err(e)),
            }
        }
        tracing::info!(sectors = to_seal.len(), "sealing a batch");
        let gate = &self.gate;
        let sealed: Result<Vec<SectorMeta>, String> = self.sealing.install(|| {
            let items = to_seal
                .iter()
                .map(|(_, p)| {
                    Ok(strata_sealer::BatchItem {
                        config: p.config.clone(),
                        pieces: p.readers()?,
                        out: p.dir.clone(),
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            strata_sealer::seal_batch(items, &YieldToProving(gate)).map_err(|e| e.to_string())
        });
        match sealed {
            Ok(metas) => {
                for ((i, p), meta) in to_seal.iter().zip(metas) {
                    outcomes[*i] = Some(seal_output(&p.input, &meta, &p.dir, started));
                }
            }
            Err(e) => {
                for (i, _) in &to_seal {
                    outcomes[*i] = Some(Err(format!("sealing the batch: {e}")));
                }
            }
        }
        let mut taken = 0;
        for (task, outcome) in tasks.iter().zip(outcomes) {
            let outcome = outcome
                .expect("every task has an outcome")
                .map(|o| json(&o));
            taken += usize::from(self.record(task, outcome)?);
        }
        Ok(taken)
    }

    /// Records a task's outcome, retrying while the database is unreachable.
    fn record(
        &self,
        task: &Task,
        outcome: Result<String, String>,
    ) -> Result<bool, crate::db::DbError> {
        if let Err(e) = &outcome {
            tracing::warn!(task = task.id, kind = %task.kind, sector = task.sector, %e, "task failed");
        }
        let machine = self.machine;
        let location = match (&task.kind[..], &outcome) {
            (kind::SEAL, Ok(o)) => serde_json::from_str::<SealOutput>(o).ok().map(|o| o.path),
            _ => None,
        };
        // The result is worth minutes of work: while the database is unreachable, keep trying
        // to record it (a released claim makes the answer `false`, and it is dropped).
        let sector = task.sector;
        let mut waited = Duration::ZERO;
        let taken = loop {
            let r = self.db.engine.now_ms().and_then(|now| {
                let location = location.clone();
                self.db
                    .finish_task(task.id, machine, outcome.clone(), move |t| match location {
                        Some(path) => set_sector_location(t, sector, machine, &path, now),
                        None => Ok(()),
                    })
            });
            match r {
                Ok(taken) => break taken,
                Err(e) if waited < FINISH_RETRY_FOR => {
                    tracing::warn!(%e, task = task.id, "recording the task's result failed; retrying");
                    std::thread::sleep(FINISH_RETRY_EVERY);
                    waited += FINISH_RETRY_EVERY;
                }
                Err(e) => return Err(e),
            }
        };
        if !taken {
            tracing::warn!(
                task = task.id,
                "the task was released from this machine meanwhile; its result is dropped"
            );
        }
        Ok(taken)
    }

    /// What a seal task needs: nothing (sealed before a restart, same ticket) or a seal.
    fn seal_plan(&self, task: &Task, fetch: &PieceFetch) -> Result<SealPlan, String> {
        let input: SealInput =
            serde_json::from_str(&task.input).map_err(|e| format!("seal task input: {e}"))?;
        let pt = ProofType::for_id(input.proof_type).map_err(|e| e.to_string())?;
        let dir = self.sector_dir(task.sector);
        if let Ok(m) = SectorMeta::load(&dir) {
            if m.ticket == input.ticket {
                return Ok(SealPlan::Sealed(m, input, dir));
            }
        }
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| format!("removing a stale {}: {e}", dir.display()))?;
        }
        let mut pieces = Vec::new();
        for p in &input.pieces {
            pieces.push((self.piece(p, fetch)?, p.raw_len));
        }
        let cc_len = if input.pieces.is_empty() {
            pt.sector_size.bytes() / 128 * 127
        } else {
            0
        };
        Ok(SealPlan::ToSeal(ToSeal {
            config: SealConfig {
                proof_type: pt,
                prover_id: input.miner,
                sector_number: task.sector,
                ticket: input.ticket,
                parent_cache_dir: self.parent_cache.clone(),
            },
            input,
            pieces,
            cc_len,
            dir,
        }))
    }

    fn seal(&self, task: &Task, fetch: &PieceFetch) -> Result<SealOutput, String> {
        let started = Instant::now();
        match self.seal_plan(task, fetch)? {
            SealPlan::Sealed(meta, input, dir) => seal_output(&input, &meta, &dir, started),
            SealPlan::ToSeal(p) => {
                let gate = &self.gate;
                let meta = self.sealing.install(|| {
                    seal(&p.config, p.readers()?, &p.dir, &YieldToProving(gate))
                        .map_err(|e| e.to_string())
                })?;
                seal_output(&p.input, &meta, &p.dir, started)
            }
        }
    }

    /// The piece's file: the local pieces directory, a copy fetched earlier, or fetched now from
    /// another machine (its length checked; its CommP is checked by the seal's CommD).
    fn piece(&self, p: &TaskPiece, fetch: &PieceFetch) -> Result<PathBuf, String> {
        let name = format!("deal-{}.piece", p.deal);
        for cand in [
            self.pieces.join(&name),
            self.storage.join("pieces").join(&name),
        ] {
            if std::fs::metadata(&cand).is_ok_and(|m| m.len() == p.raw_len) {
                return Ok(cand);
            }
        }
        let dest = self.storage.join("pieces").join(&name);
        let mut last = "no machine to fetch it from".to_string();
        for base in &fetch.from {
            match crate::storage::fetch_piece(base, &fetch.secret, p.deal, p.raw_len, &dest) {
                Ok(()) => return Ok(dest),
                Err(e) => last = format!("{base}: {e}"),
            }
        }
        Err(format!("piece of deal {} unavailable: {last}", p.deal))
    }

    fn prove(&self, task: &Task) -> Result<ProofOutput, String> {
        let input: ProofInput =
            serde_json::from_str(&task.input).map_err(|e| format!("proof task input: {e}"))?;
        let dir = PathBuf::from(&input.path);
        let meta = SectorMeta::load(&dir)
            .map_err(|e| format!("sector {} at {}: {e}", task.sector, dir.display()))?;
        if meta.comm_r != input.comm_r {
            return Err(format!(
                "sector {} at {} has another CommR than the pre-commit",
                task.sector,
                dir.display()
            ));
        }
        let started = Instant::now();
        let file = self.seal_prover.prove(&SealProofRun {
            dir: &dir,
            seed: input.seed,
            params: &self.params,
            gate: &self.gate,
            plan: &self.plan,
            nice: self.nice,
        })?;
        Ok(ProofOutput {
            proofs: file.proofs,
            ms: started.elapsed().as_millis() as u64,
        })
    }
}

/// A seal task's plan.
enum SealPlan {
    /// Already sealed with this ticket (before a restart).
    Sealed(SectorMeta, SealInput, PathBuf),
    /// To seal.
    ToSeal(ToSeal),
}

/// A sector to seal: its identities, piece files and directory.
struct ToSeal {
    config: SealConfig,
    input: SealInput,
    pieces: Vec<(PathBuf, u64)>,
    /// Zero bytes of a committed-capacity sector.
    cc_len: u64,
    dir: PathBuf,
}

impl ToSeal {
    fn readers(&self) -> Result<Vec<PieceSource<'static>>, String> {
        let mut readers = self
            .pieces
            .iter()
            .map(|(p, len)| {
                let f =
                    std::fs::File::open(p).map_err(|e| format!("piece {}: {e}", p.display()))?;
                Ok(PieceSource {
                    reader: Box::new(std::io::BufReader::new(f)),
                    len: *len,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        if self.cc_len > 0 {
            use std::io::Read;
            readers.push(PieceSource {
                reader: Box::new(std::io::repeat(0).take(self.cc_len)),
                len: self.cc_len,
            });
        }
        Ok(readers)
    }
}

/// A sealed sector's result, after checking its CommD against the deals' pieces.
fn seal_output(
    input: &SealInput,
    meta: &SectorMeta,
    dir: &Path,
    started: Instant,
) -> Result<SealOutput, String> {
    let pt = ProofType::for_id(input.proof_type).map_err(|e| e.to_string())?;
    let expect = expected_comm_d(&pt, &input.pieces)?;
    if expect != meta.comm_d {
        return Err("the sealed data's CommD differs from the deals' pieces".into());
    }
    Ok(SealOutput {
        comm_r: meta.comm_r,
        comm_d: meta.comm_d,
        path: dir.display().to_string(),
        ms: started.elapsed().as_millis() as u64,
    })
}

/// The CommD a sector holding `pieces` (or committed capacity) must have.
pub fn expected_comm_d(pt: &ProofType, pieces: &[TaskPiece]) -> Result<Node, String> {
    if pieces.is_empty() {
        let leaves = pt.sector_size.bytes() / 32;
        return Ok(strata_sealer::pieces::zero_root(leaves.trailing_zeros()));
    }
    let infos: Vec<PieceInfo> = pieces
        .iter()
        .map(|p| PieceInfo {
            comm_p: p.comm_p,
            padded_size: p.padded_size,
            raw_len: 0,
        })
        .collect();
    strata_sealer::comm_d_from_pieces(pt.sector_size, &infos).map_err(|e| e.to_string())
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serialises")
}

/// Whether `dir` holds a sealed sector with CommR `comm_r` (a shared path another machine
/// wrote, seen from here).
pub fn local_sector(dir: &Path, comm_r: &Node) -> bool {
    SectorMeta::load(dir).is_ok_and(|m| &m.comm_r == comm_r)
}
