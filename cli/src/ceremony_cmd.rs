//! `strata ceremony …`: the multi-party trusted setup. Phase 1 (powers of tau) once for every
//! circuit, then phase 2 per circuit; `finalize` installs the result in the parameter store.

use anyhow::{bail, Context, Result};
use bellman::{Circuit, ConstraintSystem, SynthesisError};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;
use strata_ceremony::{phase1, phase2, Progress};
use strata_params::groth16_files::{CircuitId, ParamsStore, ProofKind};
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_prover::circuit::porep::PorepCircuit;
use strata_prover::circuit::post::PostCircuit;
use strata_prover::snark;

/// `strata ceremony` subcommands.
#[derive(Subcommand)]
pub enum CeremonyCommand {
    /// Phase 1, the powers of tau (one transcript serves every circuit up to its size).
    #[command(subcommand)]
    Tau(TauCommand),
    /// Start the phase 2 of one circuit from a closed powers-of-tau transcript (computes the
    /// circuit's QAP in the exponent: minutes for large circuits).
    ///
    /// Example: `strata ceremony new --kind window --sector-size 2KiB --tau ptau --out window-2k`
    New(NewArgs),
    /// Add your contribution to a phase 2: a fresh secret δ' from the operating system, used
    /// once and dropped. Pass the directory on to the next contributor.
    Contribute(ContributeArgs),
    /// Re-verify a phase 2 from scratch: phase 1, the initial file recomputed from the circuit,
    /// every contribution's proof of knowledge and pairing checks.
    Verify(VerifyArgs),
    /// Verify, then install the resulting parameters in the parameter directory (replacing
    /// any earlier ones for the circuit), recording the transcript digest in the manifest.
    Finalize(FinalizeArgs),
}

/// `strata ceremony tau` subcommands.
#[derive(Subcommand)]
pub enum TauCommand {
    /// Start a transcript of 2^K powers (K = log₂ of the largest circuit's constraints, rounded
    /// up: 15 for a 2 KiB WindowPoSt, 16 for a 2 KiB WinningPoSt, 21 for a 2 KiB PoRep).
    New {
        /// log₂ of the number of powers.
        #[arg(long)]
        power: u32,
        /// The transcript directory to create.
        #[arg(long)]
        out: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add your contribution: secret τ', α', β' from the operating system, dropped after use.
    Contribute(ContributeArgs),
    /// Close the transcript with a public random beacon nobody knew in advance (e.g. a drand
    /// round's randomness announced before the ceremony), iterated to delay grinding.
    Beacon {
        /// The transcript directory.
        dir: PathBuf,
        /// The beacon value, 32 bytes hex.
        #[arg(long)]
        beacon: String,
        /// BLAKE3 iterations applied to the beacon.
        #[arg(long, default_value_t = 1 << 20)]
        iterations: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Verify the whole transcript: every contribution's proofs of knowledge and pairing checks.
    Verify {
        /// The transcript directory.
        dir: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Which circuit.
#[derive(Clone, Copy, ValueEnum)]
pub enum CircuitArg {
    /// Seal proof (one partition).
    Porep,
    /// WinningPoSt.
    Winning,
    /// WindowPoSt (one partition).
    Window,
}

/// Arguments of `strata ceremony new`.
#[derive(Args)]
pub struct NewArgs {
    /// The circuit.
    #[arg(long, value_enum)]
    kind: CircuitArg,
    /// Sector size.
    #[arg(long, value_parser = crate::commands::parse_size)]
    sector_size: SectorSize,
    /// The closed powers-of-tau transcript.
    #[arg(long)]
    tau: PathBuf,
    /// The phase-2 directory to create.
    #[arg(long)]
    out: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of the contribute commands.
#[derive(Args)]
pub struct ContributeArgs {
    /// The ceremony directory.
    dir: PathBuf,
    /// Your name or handle, recorded in the transcript.
    #[arg(long, default_value = "anonymous")]
    name: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `strata ceremony verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// The phase-2 directory.
    dir: PathBuf,
    /// The powers-of-tau directory [default: the one recorded at `new`].
    #[arg(long)]
    tau: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `strata ceremony finalize`.
#[derive(Args)]
pub struct FinalizeArgs {
    #[command(flatten)]
    verify: VerifyArgs,
    /// Parameter directory [default: $STRATA_PARAMS or ~/.cache/strata/params].
    #[arg(long)]
    params: Option<PathBuf>,
}

/// Progress bars for the ceremony's stages.
struct Bars {
    bars: crate::bar::Bars,
    quiet: bool,
    stage: Mutex<Option<String>>,
}

impl Bars {
    fn new(quiet: bool) -> Self {
        Bars {
            bars: crate::bar::Bars::new(quiet),
            quiet,
            stage: Mutex::new(None),
        }
    }
}

impl Progress for Bars {
    fn stage(&self, name: &str, total: u64) {
        use strata_sealer::Progress as _;
        if self.quiet {
            return;
        }
        if let Some(old) = self.stage.lock().expect("stage").replace(name.to_string()) {
            tracing::debug!(stage = old, "done");
        }
        self.bars.start(name, total);
    }
    fn inc(&self, n: u64) {
        use strata_sealer::Progress as _;
        self.bars.advance(n);
    }
}

/// The blank circuit of a kind and size (what parameters are made for).
pub enum Blank {
    /// A seal proof partition.
    Porep(Box<PorepCircuit>),
    /// A PoSt.
    Post(PostCircuit),
}

impl Circuit<bls12_381::Scalar> for Blank {
    fn synthesize<CS: ConstraintSystem<bls12_381::Scalar>>(
        self,
        cs: &mut CS,
    ) -> Result<(), SynthesisError> {
        match self {
            Blank::Porep(c) => c.synthesize(cs),
            Blank::Post(c) => c.synthesize(cs),
        }
    }
}

/// The circuit id and blank circuit for `kind` at `size`.
pub fn circuit(kind: ProofKind, size: SectorSize) -> Result<(CircuitId, Blank)> {
    let pt = ProofType::for_size(size)?;
    let id = snark::kind_circuit_id(kind, &pt)?;
    let blank = match kind {
        ProofKind::Porep => Blank::Porep(Box::new(PorepCircuit::blank(&pt))),
        _ => Blank::Post(snark::blank_post(kind, &pt)),
    };
    Ok((id, blank))
}

fn recorded_circuit(dir: &Path) -> Result<(CircuitId, Blank)> {
    let t = phase2::Transcript::read(dir)?;
    circuit(t.kind, SectorSize(t.sector_size))
}

fn emit(json_out: bool, value: serde_json::Value, text: String) {
    if json_out {
        println!("{value}");
    } else {
        println!("{text}");
    }
}

/// Runs a ceremony command.
pub fn run(cmd: CeremonyCommand) -> Result<()> {
    let start = Instant::now();
    match cmd {
        CeremonyCommand::Tau(t) => tau(t, start),
        CeremonyCommand::New(a) => {
            let kind = match a.kind {
                CircuitArg::Porep => ProofKind::Porep,
                CircuitArg::Winning => ProofKind::Winning,
                CircuitArg::Window => ProofKind::Window,
            };
            let (id, blank) = circuit(kind, a.sector_size)?;
            let t =
                phase2::new(&a.out, &a.tau, &id, blank, &Bars::new(a.json)).with_context(|| {
                    format!(
                        "starting the phase 2 of {} {}",
                        kind.as_str(),
                        a.sector_size
                    )
                })?;
            emit(
                a.json,
                json!({"dir": a.out, "kind": kind.as_str(), "sector_size": a.sector_size.bytes(), "constraints": t.constraints, "domain_log": t.domain_log, "tau_digest": t.tau.digest, "seconds": start.elapsed().as_secs_f64()}),
                format!(
                    "started {}: phase 2 of {} {} ({} constraints, domain 2^{}) on powers of tau {} ({} contributions); next: `strata ceremony contribute {}`",
                    a.out.display(), kind.as_str(), a.sector_size, t.constraints, t.domain_log,
                    &t.tau.digest[..16], t.tau.contributions, a.out.display()
                ),
            );
            Ok(())
        }
        CeremonyCommand::Contribute(a) => {
            let e = phase2::contribute(&a.dir, &a.name, &Bars::new(a.json))?;
            emit(
                a.json,
                json!({"file": a.dir.join(&e.file), "digest": e.digest, "name": e.name, "seconds": start.elapsed().as_secs_f64()}),
                format!(
                    "contributed {} (BLAKE3 {}); your secret is gone. Publish the digest so others can check it is in the final transcript.",
                    a.dir.join(&e.file).display(), e.digest
                ),
            );
            Ok(())
        }
        CeremonyCommand::Verify(a) => {
            let (id, blank) = recorded_circuit(&a.dir)?;
            let v = phase2::verify(&a.dir, a.tau.as_deref(), &id, blank, &Bars::new(a.json))?;
            report_verified(&a, &v, start);
            Ok(())
        }
        CeremonyCommand::Finalize(a) => {
            let (id, blank) = recorded_circuit(&a.verify.dir)?;
            let store = ParamsStore::new(a.params.clone().unwrap_or_else(ParamsStore::default_dir));
            let e = phase2::finalize(
                &a.verify.dir,
                a.verify.tau.as_deref(),
                &id,
                blank,
                &store,
                &Bars::new(a.verify.json),
            )?;
            emit(
                a.verify.json,
                json!({"file": store.dir().join(&e.file), "vk_digest": e.vk_digest, "blake3": e.blake3, "origin": e.origin, "seconds": start.elapsed().as_secs_f64()}),
                format!(
                    "installed {} (verifying key {}): {}",
                    store.dir().join(&e.file).display(),
                    e.vk_digest,
                    e.provenance()
                ),
            );
            Ok(())
        }
    }
}

fn report_verified(a: &VerifyArgs, v: &phase2::Verified, start: Instant) {
    let t = &v.transcript;
    let names: Vec<&str> = t.files.iter().skip(1).map(|e| e.name.as_str()).collect();
    emit(
        a.json,
        json!({"valid": true, "kind": t.kind.as_str(), "sector_size": t.sector_size, "phase1_contributions": v.phase1.contributions, "phase2_contributions": t.contributions(), "contributors": names, "final_digest": v.final_digest, "seconds": start.elapsed().as_secs_f64()}),
        format!(
            "valid: {} {} bytes, {} phase-1 contributions + beacon, {} phase-2 contributions ({}), final {}",
            t.kind.as_str(), t.sector_size, v.phase1.contributions, t.contributions(), names.join(", "), v.final_digest
        ),
    );
}

fn tau(cmd: TauCommand, start: Instant) -> Result<()> {
    match cmd {
        TauCommand::New { power, out, json } => {
            let t =
                phase1::new(&out, power).with_context(|| format!("starting {}", out.display()))?;
            emit(
                json,
                json!({"dir": out, "power": t.power}),
                format!("started {}: 2^{power} powers of tau; next: `strata ceremony tau contribute {}`", out.display(), out.display()),
            );
        }
        TauCommand::Contribute(a) => {
            let e = phase1::contribute(&a.dir, &a.name, &Bars::new(a.json))?;
            emit(
                a.json,
                json!({"file": a.dir.join(&e.file), "digest": e.digest, "name": e.name, "seconds": start.elapsed().as_secs_f64()}),
                format!(
                    "contributed {} (BLAKE3 {}); your secrets are gone.",
                    a.dir.join(&e.file).display(),
                    e.digest
                ),
            );
        }
        TauCommand::Beacon {
            dir,
            beacon,
            iterations,
            json,
        } => {
            let bytes = hex::decode(beacon.trim()).context("--beacon is not hex")?;
            let Ok(value) = <[u8; 32]>::try_from(bytes.as_slice()) else {
                bail!(
                    "--beacon must be 32 bytes (64 hex digits), got {}",
                    bytes.len()
                );
            };
            let e = phase1::beacon(&dir, &value, iterations, &Bars::new(json))?;
            emit(
                json,
                json!({"file": dir.join(&e.file), "digest": e.digest, "seconds": start.elapsed().as_secs_f64()}),
                format!(
                    "closed {} with the beacon ({iterations} iterations): {}",
                    dir.display(),
                    e.digest
                ),
            );
        }
        TauCommand::Verify { dir, json } => {
            let v = phase1::verify(&dir, &Bars::new(json))?;
            emit(
                json,
                json!({"valid": true, "power": v.power, "contributions": v.contributions, "finalized": v.finalized, "final_digest": v.final_digest, "seconds": start.elapsed().as_secs_f64()}),
                format!(
                    "valid: 2^{} powers, {} contributions, {}, final {}",
                    v.power,
                    v.contributions,
                    if v.finalized {
                        "closed by a beacon"
                    } else {
                        "NOT closed by a beacon yet"
                    },
                    v.final_digest
                ),
            );
        }
    }
    Ok(())
}
