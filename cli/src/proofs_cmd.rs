//! `strata prove …` and `strata verify …`: producing and checking proof files.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;
use strata_params::groth16_files::ParamsStore;
use strata_prover::aggregate_file::AggregateFile;
use strata_prover::proof_file::{self, ProofFile, PublicData};

/// `strata prove` subcommands.
#[derive(Subcommand)]
pub enum ProveCommand {
    /// Prove a sealed sector's replication (after the chain's seed).
    Seal {
        /// The sector directory (its layer files are needed).
        dir: PathBuf,
        /// The interactive seed: 64 hex characters.
        #[arg(long, value_parser = crate::commands::parse_hex32)]
        seed: [u8; 32],
        #[command(flatten)]
        out: OutArgs,
    },
    /// Prove WinningPoSt over the miner's proving set (the sector is drawn from the randomness).
    WinningPost {
        /// Chain randomness: 64 hex characters.
        #[arg(long, value_parser = crate::commands::parse_hex32)]
        randomness: [u8; 32],
        #[command(flatten)]
        out: OutArgs,
        /// The proving set's sector directories, in order.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
    },
    /// Fold proof files of one circuit (seal proofs of many sectors, WindowPoSt partitions)
    /// into one SnarkPack aggregate that `strata verify` checks in O(log n) pairings. Every
    /// file is verified first; the statements keep the order given.
    Aggregate {
        #[command(flatten)]
        out: OutArgs,
        /// Proof files (same proof type, kind and verifying key).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Prove WindowPoSt; missing or corrupt sectors are skipped and reported as faulty.
    WindowPost {
        /// Chain randomness: 64 hex characters.
        #[arg(long, value_parser = crate::commands::parse_hex32)]
        randomness: [u8; 32],
        #[command(flatten)]
        out: OutArgs,
        /// The sector directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
    },
}

/// Output options of `strata prove`.
#[derive(Args)]
pub struct OutArgs {
    /// Where to write the proof file.
    #[arg(long)]
    out: PathBuf,
    /// Parameter directory [default: $STRATA_PARAMS or ~/.cache/strata/params].
    #[arg(long)]
    params: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `strata verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// Proof files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Verify all proofs of each verifying key in one batch (faster; on failure, each file is
    /// checked alone to name the bad one).
    #[arg(long)]
    batch: bool,
    /// Parameter directory [default: $STRATA_PARAMS or ~/.cache/strata/params].
    #[arg(long)]
    params: Option<PathBuf>,
    /// Print JSON lines instead of text.
    #[arg(long)]
    json: bool,
}

fn store(dir: &Option<PathBuf>) -> ParamsStore {
    ParamsStore::new(dir.clone().unwrap_or_else(ParamsStore::default_dir))
}

pub fn prove(cmd: ProveCommand) -> Result<()> {
    let start = Instant::now();
    if let ProveCommand::Aggregate { out, files } = cmd {
        return aggregate(out, &files, start);
    }
    let (file, out) = match cmd {
        ProveCommand::Seal { dir, seed, out } => (
            proof_file::prove_seal(&dir, &seed, &store(&out.params)).context("proving the seal")?,
            out,
        ),
        ProveCommand::WinningPost {
            randomness,
            out,
            dirs,
        } => (
            proof_file::prove_winning(&dirs, &randomness, &store(&out.params))
                .context("proving WinningPoSt")?,
            out,
        ),
        ProveCommand::WindowPost {
            randomness,
            out,
            dirs,
        } => (
            proof_file::prove_window(&dirs, &randomness, &store(&out.params))
                .context("proving WindowPoSt")?,
            out,
        ),
        ProveCommand::Aggregate { .. } => unreachable!("handled above"),
    };
    file.write(&out.out)
        .with_context(|| format!("writing {}", out.out.display()))?;
    let faulty = match &file.public {
        PublicData::Window { faulty, .. } => faulty.clone(),
        _ => vec![],
    };
    if out.json {
        println!(
            "{}",
            json!({"out": out.out, "kind": file.kind().as_str(), "partitions": file.proofs.len(), "faulty": faulty, "seconds": start.elapsed().as_secs_f64()})
        );
    } else {
        println!(
            "wrote {} ({} proof, {} partition(s)) in {:.1}s",
            out.out.display(),
            file.kind().as_str(),
            file.proofs.len(),
            start.elapsed().as_secs_f64()
        );
        for f in faulty {
            println!("  faulty sector {}: {}", f.sector_number, f.reason);
        }
    }
    Ok(())
}

fn aggregate(out: OutArgs, paths: &[PathBuf], start: Instant) -> Result<()> {
    let files = paths
        .iter()
        .map(|p| ProofFile::read(p).with_context(|| format!("reading {}", p.display())))
        .collect::<Result<Vec<_>>>()?;
    let agg = AggregateFile::aggregate(&files, &store(&out.params)).context("aggregating")?;
    agg.write(&out.out)
        .with_context(|| format!("writing {}", out.out.display()))?;
    let bytes = agg.aggregate.len() / 2;
    if out.json {
        println!(
            "{}",
            json!({"out": out.out, "statements": agg.statements.len(), "aggregate_bytes": bytes, "seconds": start.elapsed().as_secs_f64()})
        );
    } else {
        println!(
            "wrote {}: {} proof files in one {bytes}-byte SnarkPack proof, in {:.1}s",
            out.out.display(),
            agg.statements.len(),
            start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// A file `strata verify` reads: a proof file or an aggregate.
enum AnyProof {
    Single(ProofFile),
    Aggregate(AggregateFile),
}

fn read_any(path: &std::path::Path) -> Result<AnyProof, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if text.contains(&format!("\"{}\"", strata_prover::aggregate_file::FORMAT)) {
        if let Ok(a) = AggregateFile::parse(&text) {
            return Ok(AnyProof::Aggregate(a));
        }
    }
    ProofFile::parse(&text)
        .map(AnyProof::Single)
        .map_err(|e| e.to_string())
}

/// Verifies files; returns Ok only if every file is valid.
pub fn verify(args: VerifyArgs) -> Result<()> {
    let store = store(&args.params);
    let mut results: Vec<(PathBuf, Result<(), String>)> = Vec::new();
    let mut files: Vec<(PathBuf, Result<ProofFile, String>)> = Vec::new();
    for p in &args.files {
        match read_any(p) {
            Ok(AnyProof::Aggregate(a)) => {
                results.push((p.clone(), a.verify(&store).map_err(|e| e.to_string())))
            }
            Ok(AnyProof::Single(f)) => files.push((p.clone(), Ok(f))),
            Err(e) => files.push((p.clone(), Err(e))),
        }
    }
    let batch_ok = args.batch && batch_verify(&store, &files);
    for (path, f) in files {
        let r = match f {
            Err(e) => Err(e),
            Ok(_) if batch_ok => Ok(()),
            Ok(f) => f.verify(&store).map_err(|e| e.to_string()),
        };
        results.push((path, r));
    }
    let mut invalid = 0;
    for (path, r) in &results {
        if args.json {
            println!(
                "{}",
                json!({"file": path, "valid": r.is_ok(), "reason": r.as_ref().err()})
            );
        } else {
            match r {
                Ok(()) => println!("{}: valid", path.display()),
                Err(e) => println!("{}: INVALID: {e}", path.display()),
            }
        }
        invalid += r.is_err() as usize;
    }
    if invalid > 0 {
        anyhow::bail!("{invalid} of {} proof file(s) invalid", results.len());
    }
    Ok(())
}

/// A verifying key and the (public inputs, proof) pairs to check under it.
type BatchGroup = (
    Option<groth16::VerifyingKey<bls12_381::Bls12>>,
    Vec<(Vec<bls12_381::Scalar>, Vec<u8>)>,
);

/// One batch per verifying key; true only if every file parsed and every batch verified.
fn batch_verify(store: &ParamsStore, files: &[(PathBuf, Result<ProofFile, String>)]) -> bool {
    let mut groups: std::collections::BTreeMap<String, BatchGroup> = Default::default();
    for (_, f) in files {
        let Ok(f) = f else { return false };
        let (Ok(inputs), Ok(proofs)) = (f.partition_inputs(), f.proof_bytes()) else {
            return false;
        };
        if inputs.len() != proofs.len() {
            return false;
        }
        let g = groups.entry(f.vk_digest.clone()).or_default();
        if g.0.is_none() {
            match f.verifying_key(store) {
                Ok(vk) => g.0 = Some(vk),
                Err(_) => return false,
            }
        }
        g.1.extend(inputs.into_iter().zip(proofs));
    }
    groups.values().all(|(vk, items)| {
        vk.as_ref()
            .is_some_and(|vk| strata_prover::snark::batch_verify(vk, items).is_ok())
    })
}
