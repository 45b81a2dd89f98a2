//! The seal proof as a job that gives way to PoSt (see [`crate::priority`]): in a child process
//! that can be stopped while a PoSt is proven, or — without a prover binary — in process after
//! any running PoSt has finished.

use crate::os;
use crate::priority::{CpuPlan, ProvingGate};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use strata_params::groth16_files::ParamsStore;
use strata_primitives::node::Node;
use strata_prover::proof_file::{ProofFile, PublicData};
use strata_prover::vanilla::porep::SealPublicInputs;
use strata_sealer::SectorMeta;

/// Where seal proofs are computed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SealProver {
    /// In this process (tests; the proof cannot be paused, only delayed until PoSt is done).
    #[default]
    InProcess,
    /// `EXE prove seal …` in a child process at low priority, stopped while PoSt is proven.
    Child(PathBuf),
}

/// What a seal-proof run needs.
pub struct SealProofRun<'a> {
    /// The sealed sector.
    pub dir: &'a Path,
    /// The interactive seed.
    pub seed: Node,
    /// Groth16 parameters.
    pub params: &'a ParamsStore,
    /// The PoSt gate to give way to.
    pub gate: &'a Arc<ProvingGate>,
    /// Cores for sealing.
    pub plan: &'a CpuPlan,
    /// Priority of sealing work.
    pub nice: i32,
}

impl SealProver {
    /// Proves the seal of `run.dir` for `run.seed` (blocking).
    pub fn prove(&self, run: &SealProofRun) -> Result<ProofFile, String> {
        match self {
            SealProver::InProcess => {
                run.gate.wait_clear();
                strata_prover::proof_file::prove_seal(run.dir, &run.seed, run.params)
                    .map_err(|e| e.to_string())
            }
            SealProver::Child(exe) => prove_in_child(exe, run),
        }
    }
}

fn prove_in_child(exe: &Path, run: &SealProofRun) -> Result<ProofFile, String> {
    let meta = SectorMeta::load(run.dir).map_err(|e| e.to_string())?;
    let out = run.dir.join("seal-proof.json");
    let mut cmd = Command::new(exe);
    cmd.arg("prove")
        .arg("seal")
        .arg(run.dir)
        .arg("--seed")
        .arg(hex::encode(run.seed))
        .arg("--out")
        .arg(&out)
        .arg("--params")
        .arg(run.params.dir())
        .env(
            "RAYON_NUM_THREADS",
            run.plan.sealing.len().max(1).to_string(),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    os::lower_child(&mut cmd, run.nice, run.plan.sealing.clone());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            // A binary replaced or removed under a running daemon must not cost the sector:
            // prove in process (not pausable, but started only when no PoSt runs).
            tracing::warn!(exe = %exe.display(), %e, "cannot start the seal prover; proving in process");
            return SealProver::InProcess.prove(run);
        }
    };
    let pid = child.id();
    run.gate.add_child(pid);
    // Drain stderr on its own thread so a chatty child never blocks on a full pipe.
    let mut err = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    // Forget the pid only once the child has exited but before it is reaped, so a stop or
    // continue for a PoSt can never reach a process that took the pid over.
    let waited = os::wait_exited_unreaped(pid);
    run.gate.remove_child(pid);
    let status = child.wait().map_err(|e| format!("seal prover: {e}"))?;
    waited.map_err(|e| format!("waiting for the seal prover: {e}"))?;
    let stderr = reader.join().unwrap_or_default();
    if !status.success() {
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        return Err(format!("the seal prover failed ({status}): {last}"));
    }
    let file = ProofFile::read(&out).map_err(|e| format!("the seal prover's output: {e}"))?;
    let _ = std::fs::remove_file(&out);
    // The child is our own binary, but what goes on chain must be for this sector and seed.
    match &file.public {
        PublicData::Porep { inputs }
            if *inputs == SealPublicInputs::for_sector(&meta, run.seed) =>
        {
            Ok(file)
        }
        _ => Err("the seal prover's output is not this sector's seal proof for this seed".into()),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn sealed_sector(dir: &Path) {
        use std::io::Read;
        let pt =
            strata_params::ProofType::for_size(strata_primitives::sizes::SectorSize::KIB2).unwrap();
        let len = 2048 / 128 * 127;
        strata_sealer::seal(
            &strata_sealer::SealConfig {
                proof_type: pt,
                prover_id: 1000,
                sector_number: 1,
                ticket: [3; 32],
                parent_cache_dir: dir.join("parents"),
            },
            vec![strata_sealer::PieceSource {
                reader: Box::new(std::io::repeat(0).take(len)),
                len,
            }],
            &dir.join("sector"),
            &strata_sealer::NoProgress,
        )
        .unwrap();
    }

    fn script(dir: &Path, body: &str) -> PathBuf {
        let p = dir.join("prover.sh");
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    fn run_with(exe: PathBuf, dir: &Path) -> Result<ProofFile, String> {
        let params = ParamsStore::new(dir.join("params"));
        let gate = Arc::new(ProvingGate::default());
        let plan = CpuPlan::new(&[0], 0);
        SealProver::Child(exe).prove(&SealProofRun {
            dir: &dir.join("sector"),
            seed: [9; 32],
            params: &params,
            gate: &gate,
            plan: &plan,
            nice: 5,
        })
    }

    #[test]
    fn a_failing_prover_process_is_an_error_naming_its_message() {
        let tmp = tempfile::tempdir().unwrap();
        sealed_sector(tmp.path());
        let exe = script(
            tmp.path(),
            "echo 'parameters missing for porep' >&2; exit 3",
        );
        let err = run_with(exe, tmp.path()).unwrap_err();
        assert!(err.contains("parameters missing for porep"), "{err}");
        assert!(err.contains('3'), "{err}");
    }

    #[test]
    fn garbage_output_from_the_prover_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        sealed_sector(tmp.path());
        // Writes to the path after --out (argument 7: prove seal DIR --seed S --out FILE).
        let exe = script(
            tmp.path(),
            "echo '{\"format\":\"nonsense\",\"version\":1}' > \"$7\"",
        );
        let err = run_with(exe, tmp.path()).unwrap_err();
        assert!(err.contains("output") && err.contains("nonsense"), "{err}");
    }
}
