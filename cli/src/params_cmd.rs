//! `strata params …`: generate, list and verify Groth16 parameter files.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;
use strata_params::groth16_files::{EntryStatus, ParamsStore, ProofKind};
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_prover::snark;

/// `strata params` subcommands.
#[derive(Subcommand)]
pub enum ParamsCommand {
    /// Generate Groth16 parameters (single-party setup: for devnets, not production).
    Generate(GenerateArgs),
    /// List parameter files with sizes, digests and constraint counts.
    List(CommonArgs),
    /// Re-check every parameter file against the manifest's BLAKE3 digests, every key file
    /// against its digest, and every entry's circuit against the circuit this build synthesises.
    /// With `--transcript CDIR`, also re-verify that ceremony from scratch (phase 1 and phase 2)
    /// and check the installed parameters for its circuit are exactly its result.
    Verify(VerifyArgs),
    /// Copy the verifying keys (a few KB each) with a manifest into another directory: all an
    /// auditor needs for `strata verify --params DIR` / `strata audit`, without the parameters.
    ExportKeys(ExportArgs),
}

/// Arguments of `strata params export-keys`.
#[derive(Args)]
pub struct ExportArgs {
    /// The directory to write the keys and their manifest into.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
}

/// Arguments of `strata params verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// A phase-2 ceremony directory whose result must be the installed parameters.
    #[arg(long)]
    transcript: Option<PathBuf>,
    /// Its powers-of-tau directory [default: the one the ceremony recorded].
    #[arg(long, requires = "transcript")]
    tau: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

/// Which circuits.
#[derive(Clone, Copy, ValueEnum)]
pub enum KindArg {
    /// Seal proof (one partition).
    Porep,
    /// WinningPoSt.
    Winning,
    /// WindowPoSt (one partition).
    Window,
    /// All three.
    All,
}

/// Options every params command takes.
#[derive(Args)]
pub struct CommonArgs {
    /// Parameter directory [default: $STRATA_PARAMS or ~/.cache/strata/params].
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `strata params generate`.
#[derive(Args)]
pub struct GenerateArgs {
    /// Sector size.
    #[arg(long, value_parser = crate::commands::parse_size)]
    sector_size: SectorSize,
    /// Which circuits.
    #[arg(long, value_enum, default_value = "all")]
    kind: KindArg,
    #[command(flatten)]
    common: CommonArgs,
}

/// CPU time parameter generation takes per constraint (BENCHMARKS: `strata_params::generator`
/// measured 0.045–0.074 ms on a busy 2-core machine), with a margin for synthesis.
const GENERATION_CPU_MS_PER_CONSTRAINT: f64 = 0.08;

/// The expected wall time to generate parameters for `constraints` on this machine's cores.
pub fn expected_generation(constraints: usize) -> std::time::Duration {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    std::time::Duration::from_secs_f64(
        constraints as f64 * GENERATION_CPU_MS_PER_CONSTRAINT / 1000.0 / cores,
    )
}

fn human(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s < 90 {
        format!("{s} s")
    } else {
        format!("{} min", (s + 30) / 60)
    }
}

/// Loads the parameters of each of `kinds`, generating the missing ones with a message naming
/// each kind's size and expected time, and a time-based progress bar with an ETA (generation
/// itself reports no progress; the bar stops at 99% until it is done). `quiet`: no bar.
pub fn ensure(store: &ParamsStore, pt: &ProofType, kinds: &[ProofKind], quiet: bool) -> Result<()> {
    for &kind in kinds {
        let id = snark::kind_circuit_id(kind, pt)?;
        if store.has(&id)? {
            continue;
        }
        let expected = expected_generation(id.constraints);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        println!(
            "  generating {} Groth16 parameters for {} sectors: {} constraints, about {} on {cores} cores \
             if the machine is idle (once per machine; single-party setup, devnet only)",
            kind.as_str(),
            pt.sector_size,
            id.constraints,
            human(expected)
        );
        let bar = (!quiet).then(|| {
            let b = indicatif::ProgressBar::new(expected.as_millis().max(1) as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg:>22} [{bar:40}] {percent:>3}% {elapsed_precise} eta {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            b.set_message(format!("{} parameters", kind.as_str()));
            b
        });
        let start = Instant::now();
        let done = std::sync::atomic::AtomicBool::new(false);
        let r = std::thread::scope(|sc| {
            if let Some(b) = &bar {
                let done = &done;
                sc.spawn(move || {
                    let cap = b.length().unwrap_or(1) * 99 / 100;
                    while !done.load(std::sync::atomic::Ordering::Acquire) {
                        b.set_position((start.elapsed().as_millis() as u64).min(cap));
                        std::thread::park_timeout(std::time::Duration::from_millis(500));
                    }
                });
            }
            let r = snark::load_or_generate_kind(store, kind, pt);
            done.store(true, std::sync::atomic::Ordering::Release);
            r
        });
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        r.with_context(|| format!("{} parameters", kind.as_str()))?;
        println!(
            "  {} parameters ready in {} (expected {})",
            kind.as_str(),
            human(start.elapsed()),
            human(expected)
        );
    }
    Ok(())
}

/// Re-verifies the ceremony in `dir` and checks the store's parameters for its circuit are its
/// result, byte for byte.
fn verify_transcript(
    s: &ParamsStore,
    dir: &std::path::Path,
    tau: Option<&std::path::Path>,
    json_out: bool,
) -> Result<()> {
    use strata_ceremony::phase2;
    let t = phase2::Transcript::read(dir)?;
    let (id, blank) = crate::ceremony_cmd::circuit(t.kind, SectorSize(t.sector_size))?;
    let entry = s
        .manifest()?
        .entries
        .into_iter()
        .find(|e| {
            e.kind == id.kind && e.sector_size == id.sector_size && e.circuit_digest == id.digest
        })
        .with_context(|| {
            format!(
                "no installed {} parameters for {} bytes in {}",
                id.kind.as_str(),
                id.sector_size,
                s.dir().display()
            )
        })?;
    // The cheap comparison first: the parameters the transcript's files give, against the
    // installed file; then the full re-verification of both phases.
    let params = phase2::parameters(dir, &t)?;
    let mut bytes = Vec::new();
    params.write(&mut bytes)?;
    let digest = blake3::hash(&bytes).to_hex().to_string();
    if entry.blake3 != digest {
        bail!(
            "{}: the installed parameters (BLAKE3 {}) are not this ceremony's result ({digest})",
            entry.file,
            entry.blake3
        );
    }
    let v = phase2::verify(dir, tau, &id, blank, &strata_ceremony::Quiet)
        .with_context(|| format!("ceremony {}", dir.display()))?;
    if v.transcript != t {
        bail!(
            "{}: the transcript changed while it was verified",
            dir.display()
        );
    }
    s.check_file(&entry)?;
    if json_out {
        println!(
            "{}",
            json!({"transcript": dir, "file": entry.file, "ok": true, "phase1_contributions": v.phase1.contributions, "phase2_contributions": v.transcript.contributions(), "final_digest": v.final_digest})
        );
    } else {
        println!(
            "{}: the result of ceremony {} ({} phase-1 + {} phase-2 contributions, transcript {})",
            entry.file,
            dir.display(),
            v.phase1.contributions,
            v.transcript.contributions(),
            v.final_digest
        );
    }
    Ok(())
}

fn store(dir: &Option<PathBuf>) -> ParamsStore {
    ParamsStore::new(dir.clone().unwrap_or_else(ParamsStore::default_dir))
}

pub fn run(cmd: ParamsCommand) -> Result<()> {
    match cmd {
        ParamsCommand::Generate(a) => {
            let pt = ProofType::for_size(a.sector_size)?;
            let kinds = match a.kind {
                KindArg::Porep => vec![ProofKind::Porep],
                KindArg::Winning => vec![ProofKind::Winning],
                KindArg::Window => vec![ProofKind::Window],
                KindArg::All => vec![ProofKind::Porep, ProofKind::Winning, ProofKind::Window],
            };
            let s = store(&a.common.dir);
            for kind in kinds {
                let start = Instant::now();
                if !a.common.json {
                    ensure(&s, &pt, &[kind], false)?;
                }
                let loaded = snark::load_or_generate_kind(&s, kind, &pt)
                    .with_context(|| format!("{} parameters", kind.as_str()))?;
                for name in s.add_missing_vk_files()? {
                    if !a.common.json {
                        println!("wrote the missing verifying-key file {name}");
                    }
                }
                let e = loaded.entry;
                if a.common.json {
                    println!(
                        "{}",
                        json!({"kind": kind.as_str(), "sector_size": e.sector_size, "file": s.dir().join(&e.file), "constraints": e.constraints, "bytes": e.bytes, "blake3": e.blake3, "vk_digest": e.vk_digest, "seconds": start.elapsed().as_secs_f64()})
                    );
                } else {
                    println!(
                        "{}  {} bytes  {:.1}s",
                        s.dir().join(&e.file).display(),
                        e.bytes,
                        start.elapsed().as_secs_f64()
                    );
                }
            }
        }
        ParamsCommand::List(c) => {
            let s = store(&c.dir);
            let m = s.manifest()?;
            if c.json {
                println!("{}", serde_json::to_string_pretty(&m)?);
            } else if m.entries.is_empty() {
                println!("no parameter files in {}", s.dir().display());
            } else {
                for e in m.entries {
                    println!(
                        "{:<8} {:>12}  {:>10} constraints  {:>12} bytes  blake3 {}  vk {}  {}  [{}]",
                        e.kind.as_str(),
                        SectorSize(e.sector_size).to_string(),
                        e.constraints,
                        e.bytes,
                        &e.blake3[..16],
                        &e.vk_digest[..16],
                        e.file,
                        e.provenance()
                    );
                }
            }
        }
        ParamsCommand::Verify(a) => {
            let c = &a.common;
            let s = store(&c.dir);
            if let Some(dir) = &a.transcript {
                verify_transcript(&s, dir, a.tau.as_deref(), c.json)?;
            }
            let mut bad = 0;
            let mut rows = Vec::new();
            for (e, r) in s.verify_all()? {
                let r = r.map_err(anyhow::Error::from).and_then(|status| {
                    let pt = ProofType::for_size(SectorSize(e.sector_size))?;
                    let id = snark::synthesized_circuit_id(e.kind, &pt)?;
                    if id.digest != e.circuit_digest {
                        bail!(
                            "made for another circuit ({}); this build's {} circuit is {}: regenerate",
                            e.circuit_digest,
                            e.kind.as_str(),
                            id.digest
                        );
                    }
                    Ok(status)
                });
                let (ok, what) = match &r {
                    Ok(EntryStatus::Complete) => (true, "ok".to_string()),
                    Ok(EntryStatus::KeyOnly) => (true, "ok (verifying key only)".to_string()),
                    Err(err) => (false, format!("{err:#}")),
                };
                bad += usize::from(!ok);
                if c.json {
                    rows.push(json!({"file": e.file, "vk_file": e.vk_file, "kind": e.kind.as_str(), "sector_size": e.sector_size, "ok": ok, "status": what, "origin": e.origin}));
                } else {
                    println!("{}: {what} [{}]", e.file, e.provenance());
                }
            }
            if c.json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            }
            if bad > 0 {
                bail!("{bad} parameter file(s) failed verification");
            }
        }
        ParamsCommand::ExportKeys(a) => {
            let s = store(&a.common.dir);
            let m = s.export_keys(&a.out)?;
            if a.common.json {
                println!("{}", serde_json::to_string_pretty(&m)?);
            } else {
                for e in &m.entries {
                    println!(
                        "{}",
                        a.out
                            .join(e.vk_file.as_deref().unwrap_or_default())
                            .display()
                    );
                }
            }
        }
    }
    Ok(())
}
