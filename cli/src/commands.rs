//! The subcommands' implementations.

use crate::bar::Bars;
use anyhow::{bail, ensure, Context, Result};
use clap::Args;
use serde_json::json;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_sealer::{PieceSource, SealConfig, SectorMeta};

/// Arguments of `strata seal`.
#[derive(Args)]
pub struct SealArgs {
    /// Sector size: 2KiB, 8MiB, 512MiB, 32GiB or 64GiB.
    #[arg(long, value_parser = parse_size)]
    sector_size: SectorSize,
    /// The miner's numeric id.
    #[arg(long)]
    prover_id: u64,
    /// The sector's number.
    #[arg(long)]
    sector_number: u64,
    /// The sealing ticket (chain randomness): 64 hex characters.
    #[arg(long, value_parser = parse_hex32)]
    ticket: [u8; 32],
    /// The sector directory to create (must not exist).
    #[arg(long)]
    out: PathBuf,
    /// Directory of shared parent caches [default: $STRATA_PARENT_CACHE or ~/.cache/strata/parents].
    #[arg(long)]
    parent_cache: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// The pieces, in order.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Arguments of `strata seal-batch`.
#[derive(Args)]
pub struct SealBatchArgs {
    /// Sector size of every sector: 2KiB, 8MiB, 512MiB, 32GiB or 64GiB.
    #[arg(long, value_parser = parse_size)]
    sector_size: SectorSize,
    /// The miner's numeric id.
    #[arg(long)]
    prover_id: u64,
    /// The sealing ticket (chain randomness) shared by the batch: 64 hex characters.
    #[arg(long, value_parser = parse_hex32)]
    ticket: [u8; 32],
    /// The directory to create the sectors in: sector N goes to OUT/N (which must not exist).
    #[arg(long)]
    out: PathBuf,
    /// The first sector's number; the next files get N+1, N+2, …
    #[arg(long, default_value_t = 0)]
    first_sector: u64,
    /// Directory of shared parent caches [default: $STRATA_PARENT_CACHE or ~/.cache/strata/parents].
    #[arg(long)]
    parent_cache: Option<PathBuf>,
    /// Print one JSON line per sector (the fields of `strata seal --json`) instead of text.
    #[arg(long)]
    json: bool,
    /// One piece per sector, in sector order (each file fills one sector).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Arguments of `strata snap`.
#[derive(Args)]
pub struct SnapArgs {
    /// The committed-capacity sector directory to update (left as it is).
    dir: PathBuf,
    /// The updated sector directory to create (must not exist).
    #[arg(long)]
    out: PathBuf,
    /// Deal data files, placed in order as pieces.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `strata unseal`.
#[derive(Args)]
pub struct UnsealArgs {
    /// The sector directory.
    dir: PathBuf,
    /// Where to write the bytes (must not exist).
    #[arg(long)]
    out: PathBuf,
    /// Piece index to unseal; without it, the whole fr32-padded sector is written.
    #[arg(long)]
    piece: Option<usize>,
    /// Directory of shared parent caches (used only if the layer files were deleted).
    #[arg(long)]
    parent_cache: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `strata demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// Sector size to seal.
    #[arg(long, value_parser = parse_size, default_value = "2KiB")]
    pub sector_size: SectorSize,
    /// Keep the working directory instead of deleting it.
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// Only the offline part: seal, unseal, prove WindowPoSt into a file and audit it — no chain.
    #[arg(long)]
    pub offline: bool,
    /// Permanent storage instead: two providers, a client paying once for two replicas, the
    /// endowment's payouts and a block winner's recall proof.
    #[arg(long, conflicts_with = "offline")]
    pub permanent: bool,
    /// With --offline: also prove the seal (PoRep).
    #[arg(long)]
    pub seal_proof: bool,
    /// Devnet block time in milliseconds [default: 1000].
    #[arg(long)]
    pub block_time_ms: Option<u64>,
}

pub fn parse_size(s: &str) -> Result<SectorSize, String> {
    let size: SectorSize = s.parse().map_err(|e| format!("{e}"))?;
    ProofType::for_size(size).map_err(|e| e.to_string())?;
    Ok(size)
}

pub fn parse_hex32(s: &str) -> Result<[u8; 32], String> {
    strata_primitives::serde_hex::parse_node(s).map_err(|e| format!("bad 32-byte hex value: {e}"))
}

fn default_parent_cache() -> PathBuf {
    if let Some(p) = std::env::var_os("STRATA_PARENT_CACHE") {
        return PathBuf::from(p);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("strata").join("parents")
}

pub fn commp(file: &Path, json: bool) -> Result<()> {
    let f = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let len = f.metadata()?.len();
    ensure!(
        len > 0,
        "{} is empty: a piece needs at least one byte",
        file.display()
    );
    let start = Instant::now();
    let info = strata_sealer::comm_p(std::io::BufReader::with_capacity(1 << 20, f), len)
        .with_context(|| format!("computing CommP of {}", file.display()))?;
    if json {
        println!(
            "{}",
            json!({ "file": file, "comm_p": hex::encode(info.comm_p), "padded_size": info.padded_size, "raw_len": info.raw_len })
        );
    } else {
        println!("CommP:        {}", hex::encode(info.comm_p));
        println!(
            "padded size:  {} bytes ({} bytes of data)",
            info.padded_size, info.raw_len
        );
        println!("took:         {:.2?}", start.elapsed());
    }
    Ok(())
}

pub fn seal(args: SealArgs) -> Result<()> {
    let proof_type = ProofType::for_size(args.sector_size)?;
    let sources = args
        .files
        .iter()
        .enumerate()
        .map(|(i, path)| open_piece(i, path))
        .collect::<Result<Vec<_>>>()?;
    let config = SealConfig {
        proof_type,
        prover_id: args.prover_id,
        sector_number: args.sector_number,
        ticket: args.ticket,
        parent_cache_dir: args.parent_cache.unwrap_or_else(default_parent_cache),
    };
    let start = Instant::now();
    let meta = strata_sealer::seal(&config, sources, &args.out, &Bars::new(args.json))
        .context("sealing failed")?;
    print_meta(&args.out, &meta, args.json, start.elapsed().as_secs_f64());
    Ok(())
}

/// Piece `i` from the file at `path` (buffered; an empty file is refused).
fn open_piece(i: usize, path: &Path) -> Result<PieceSource<'static>> {
    let f =
        File::open(path).with_context(|| format!("cannot open piece {i} ({})", path.display()))?;
    let len = f.metadata()?.len();
    ensure!(
        len > 0,
        "piece {i} ({}) is empty: a piece needs at least one byte",
        path.display()
    );
    Ok(PieceSource {
        reader: Box::new(std::io::BufReader::with_capacity(1 << 20, f)),
        len,
    })
}

/// `strata seal-batch`: one sector per file, labeled together.
pub fn seal_batch(args: SealBatchArgs) -> Result<()> {
    let proof_type = ProofType::for_size(args.sector_size)?;
    let parent_cache_dir = args.parent_cache.unwrap_or_else(default_parent_cache);
    let mut items = Vec::new();
    for (i, path) in args.files.iter().enumerate() {
        let piece = open_piece(i, path)?;
        let number = args
            .first_sector
            .checked_add(i as u64)
            .context("sector numbers overflow")?;
        items.push(strata_sealer::BatchItem {
            config: SealConfig {
                proof_type,
                prover_id: args.prover_id,
                sector_number: number,
                ticket: args.ticket,
                parent_cache_dir: parent_cache_dir.clone(),
            },
            pieces: vec![piece],
            out: args.out.join(number.to_string()),
        });
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let outs: Vec<PathBuf> = items.iter().map(|i| i.out.clone()).collect();
    let start = Instant::now();
    let metas = strata_sealer::seal_batch(items, &Bars::new(args.json))
        .context("sealing the batch failed")?;
    let secs = start.elapsed().as_secs_f64();
    for (dir, meta) in outs.iter().zip(&metas) {
        print_meta(dir, meta, args.json, secs);
    }
    Ok(())
}

/// `strata snap`: a replica update of a committed-capacity sector.
pub fn snap(args: SnapArgs) -> Result<()> {
    let sources = args
        .files
        .iter()
        .enumerate()
        .map(|(i, path)| open_piece(i, path))
        .collect::<Result<Vec<_>>>()?;
    let start = Instant::now();
    let meta = strata_sealer::snap(&args.dir, sources, &args.out, &Bars::new(args.json))
        .context("updating the sector failed")?;
    let u = meta.update.as_deref().expect("snap records the update");
    let secs = start.elapsed().as_secs_f64();
    if args.json {
        println!(
            "{}",
            json!({
                "dir": args.out, "sector_number": meta.sector_number,
                "comm_r_old": hex::encode(u.comm_r_old), "comm_d_new": hex::encode(u.comm_d),
                "comm_r_new": hex::encode(meta.comm_r), "h": u.h,
                "pieces": pieces_json(&u.pieces),
                "seconds": secs,
            })
        );
    } else {
        println!(
            "updated sector {} of miner {} into {} (no reseal)",
            meta.sector_number,
            meta.prover_id,
            args.out.display()
        );
        println!("  comm_r old  {}", hex::encode(u.comm_r_old));
        println!("  comm_d new  {}", hex::encode(u.comm_d));
        println!("  comm_r new  {}", hex::encode(meta.comm_r));
        println!("  took {secs:.2}s");
    }
    Ok(())
}

/// Pieces as `--json` prints them.
fn pieces_json(pieces: &[strata_sealer::sector::PlacedPiece]) -> Vec<serde_json::Value> {
    pieces
        .iter()
        .map(|p| json!({"comm_p": hex::encode(p.info.comm_p), "offset": p.offset, "padded_size": p.info.padded_size, "raw_len": p.info.raw_len}))
        .collect()
}

fn print_meta(dir: &Path, meta: &SectorMeta, json: bool, secs: f64) {
    if json {
        println!(
            "{}",
            json!({
                "dir": dir, "proof_type": meta.proof_type, "sector_size": meta.sector_size,
                "prover_id": meta.prover_id, "sector_number": meta.sector_number,
                "comm_d": hex::encode(meta.comm_d), "comm_r": hex::encode(meta.comm_r),
                "replica_id": hex::encode(meta.replica_id),
                "pieces": pieces_json(&meta.pieces),
                "seconds": secs,
            })
        );
    } else {
        println!(
            "sealed sector {} of miner {} into {}",
            meta.sector_number,
            meta.prover_id,
            dir.display()
        );
        println!("  comm_d      {}", hex::encode(meta.comm_d));
        println!("  comm_r      {}", hex::encode(meta.comm_r));
        println!("  replica_id  {}", hex::encode(meta.replica_id));
        for (i, p) in meta.pieces.iter().enumerate() {
            println!(
                "  piece {i}: comm_p {} at offset {} ({} of {} padded bytes used)",
                hex::encode(p.info.comm_p),
                p.offset,
                p.info.raw_len,
                p.info.padded_size
            );
        }
        println!("  took {secs:.2}s");
    }
}

pub fn unseal(args: UnsealArgs) -> Result<()> {
    if args.out.exists() {
        bail!(
            "{} already exists; choose a new output path",
            args.out.display()
        );
    }
    let cache = args.parent_cache.unwrap_or_else(default_parent_cache);
    let bars = Bars::new(args.json);
    let written = match args.piece {
        Some(i) => {
            strata_sealer::unseal_piece(&args.dir, i, &args.out, &cache, &bars)
                .context("unsealing failed")?
                .raw_len
        }
        None => {
            strata_sealer::unseal_sector(&args.dir, &args.out, &cache, &bars)
                .context("unsealing failed")?;
            std::fs::metadata(&args.out)?.len()
        }
    };
    if args.json {
        println!(
            "{}",
            json!({ "out": args.out, "bytes": written, "piece": args.piece })
        );
    } else {
        println!(
            "wrote {written} bytes to {} (checked against the sector's commitment)",
            args.out.display()
        );
    }
    Ok(())
}

/// The demo's working directory: `--keep DIR` (kept), or a temporary one removed on drop.
pub fn demo_dir(keep: &Option<PathBuf>) -> Result<(Option<tempfile::TempDir>, PathBuf)> {
    match keep {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            Ok((None, d.clone()))
        }
        None => {
            let tmp = tempfile::Builder::new().prefix("strata-demo-").tempdir()?;
            let p = tmp.path().to_path_buf();
            Ok((Some(tmp), p))
        }
    }
}

/// The offline demo: seal, unseal, WindowPoSt proof file, offline audit, tampering rejected.
pub fn demo_offline(args: DemoArgs) -> Result<()> {
    let (_tmp, dir) = demo_dir(&args.keep)?;
    let pt = ProofType::for_size(args.sector_size)?;
    let sample_len = (pt.sector_size.bytes() / 128 * 127 / 2) as usize + 17;
    println!("Strata demo: sealing a {sample_len}-byte sample into a {} sector (proof type {}, {} layers)", pt.sector_size, pt.id, pt.layers);
    let sample = dir.join("sample.bin");
    let mut f = File::create(&sample)?;
    let mut x = 0x9e3779b97f4a7c15u64;
    let mut buf = Vec::with_capacity(sample_len);
    for _ in 0..sample_len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf.push(x as u8);
    }
    f.write_all(&buf)?;
    drop(f);
    commp(&sample, false)?;
    let out = dir.join("sector");
    seal(SealArgs {
        sector_size: args.sector_size,
        prover_id: 1000,
        sector_number: 1,
        ticket: *blake3::hash(b"demo ticket").as_bytes(),
        out: out.clone(),
        parent_cache: Some(dir.join("parents")),
        json: false,
        files: vec![sample.clone()],
    })?;
    let back = dir.join("unsealed.bin");
    unseal(UnsealArgs {
        dir: out.clone(),
        out: back.clone(),
        piece: Some(0),
        parent_cache: Some(dir.join("parents")),
        json: false,
    })?;
    ensure!(
        std::fs::read(&back)? == buf,
        "unsealed bytes differ from the sample"
    );
    println!("round trip OK: the unsealed piece equals the sample byte for byte");
    prove_and_audit(&pt, &out, &dir, args.seal_proof)
}

/// The proving half of the demo: WindowPoSt (and optionally the seal proof) as proof files,
/// verified offline as an auditor would, and a tampered copy rejected.
fn prove_and_audit(pt: &ProofType, sector: &Path, dir: &Path, seal_proof: bool) -> Result<()> {
    use strata_params::groth16_files::{ParamsStore, ProofKind};
    use strata_prover::proof_file;
    let store = ParamsStore::new(ParamsStore::default_dir());
    let mut kinds = vec![ProofKind::Window];
    if seal_proof {
        kinds.push(ProofKind::Porep);
    }
    crate::params_cmd::ensure(&store, pt, &kinds, false)?;
    let randomness = *blake3::hash(b"demo window randomness").as_bytes();
    let start = Instant::now();
    let window = proof_file::prove_window(&[sector.to_path_buf()], &randomness, &store)
        .context("proving WindowPoSt")?;
    let window_path = dir.join("window-post.json");
    window.write(&window_path)?;
    println!(
        "WindowPoSt proof written to {} in {:.1}s",
        window_path.display(),
        start.elapsed().as_secs_f64()
    );
    let mut files = vec![(window_path, window)];
    if seal_proof {
        let start = Instant::now();
        let seed = *blake3::hash(b"demo seal seed").as_bytes();
        let seal = proof_file::prove_seal(sector, &seed, &store).context("proving the seal")?;
        let seal_path = dir.join("seal-proof.json");
        seal.write(&seal_path)?;
        println!(
            "seal proof written to {} in {:.1}s",
            seal_path.display(),
            start.elapsed().as_secs_f64()
        );
        files.push((seal_path, seal));
    }
    for (path, file) in &files {
        file.verify(&store)
            .with_context(|| format!("verifying {}", path.display()))?;
        println!(
            "audit: {} verifies offline ({} proof)",
            path.display(),
            file.kind().as_str()
        );
        let mut tampered = file.clone();
        let mut bytes = hex::decode(&tampered.proofs[0])?;
        bytes[40] ^= 1;
        tampered.proofs[0] = hex::encode(bytes);
        ensure!(
            tampered.verify(&store).is_err(),
            "a tampered {} proof verified",
            file.kind().as_str()
        );
        println!("audit: the same proof with one bit flipped is rejected");
    }
    Ok(())
}
