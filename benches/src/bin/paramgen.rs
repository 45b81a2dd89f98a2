//! Times Groth16 parameter generation for one of Strata's blank circuits: `groth16`'s
//! `generate_random_parameters` against `strata_params::generator::generate_parameters`, each
//! including the circuit's synthesis. Prints one JSON object per generator: wall time, CPU time
//! (user + system of the whole process, all threads, from `getrusage`), CPU per constraint and the
//! process's peak RSS so far (run one generator per process, `--only`, for a clean peak).
//!
//! Run: `cargo run --release -p strata-benches --bin paramgen -- window 8MiB [--only old|new]`
//! (kinds: `window`, `winning`, `porep`). `--decode` also times decoding the new parameters'
//! H points with and without `bls12_381`'s curve and subgroup checks.

use bellman::Circuit;
use bls12_381::{Bls12, G1Affine, Scalar};
use groth16::Parameters;
use rand_core::UnwrapErr;
use serde_json::json;
use std::time::Instant;
use strata_params::groth16_files::ProofKind;
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_prover::circuit::porep::PorepCircuit;
use strata_prover::circuit::shape::circuit_shape;
use strata_prover::snark::blank_post;

/// User + system CPU seconds of this process so far, and its peak RSS in KiB.
fn usage() -> (f64, i64) {
    // SAFETY: `rusage` is plain old data, so all-zero is a valid value; `getrusage` only writes
    // into the struct we pass, which lives for the duration of the call.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    (secs(ru.ru_utime) + secs(ru.ru_stime), ru.ru_maxrss)
}

fn rng() -> UnwrapErr<rand::rngs::SysRng> {
    UnwrapErr(rand::rngs::SysRng)
}

fn run(
    name: &str,
    constraints: usize,
    f: impl FnOnce() -> Result<Parameters<Bls12>, bellman::SynthesisError>,
) -> (Parameters<Bls12>, serde_json::Value) {
    let (cpu0, _) = usage();
    let start = Instant::now();
    let params = f().unwrap_or_else(|e| panic!("{name}: {e}"));
    let wall = start.elapsed().as_secs_f64();
    let (cpu1, rss) = usage();
    let cpu = cpu1 - cpu0;
    let report = json!({
        "generator": name,
        "wall_s": (wall * 1000.0).round() / 1000.0,
        "cpu_s": (cpu * 1000.0).round() / 1000.0,
        "cpu_ms_per_constraint": (cpu * 1e3 / constraints as f64 * 1e4).round() / 1e4,
        "peak_rss_mib_so_far": rss / 1024,
        "points": {
            "h": params.h.len(), "l": params.l.len(), "a": params.a.len(),
            "b_g1": params.b_g1.len(), "b_g2": params.b_g2.len(), "ic": params.vk.ic.len(),
        },
    });
    (params, report)
}

/// Seconds per point to decode `points` from their uncompressed encoding, checked and unchecked.
fn decode_cost(points: &[G1Affine]) -> serde_json::Value {
    let bytes: Vec<[u8; 96]> = points.iter().map(|p| p.to_uncompressed()).collect();
    let time = |checked: bool| {
        let start = Instant::now();
        let ok = bytes.iter().all(|b| {
            bool::from(if checked {
                G1Affine::from_uncompressed(b).is_some()
            } else {
                G1Affine::from_uncompressed_unchecked(b).is_some()
            })
        });
        assert!(ok, "decodes");
        start.elapsed().as_secs_f64() * 1e6 / bytes.len().max(1) as f64
    };
    json!({
        "points": bytes.len(),
        "checked_us_per_point": (time(true) * 100.0).round() / 100.0,
        "unchecked_us_per_point": (time(false) * 100.0).round() / 100.0,
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage_text =
        "usage: paramgen <window|winning|porep> <sector size> [--only old|new] [--decode]";
    let (Some(kind), Some(size)) = (args.first(), args.get(1)) else {
        eprintln!("{usage_text}");
        std::process::exit(2);
    };
    let kind = match kind.as_str() {
        "window" => ProofKind::Window,
        "winning" => ProofKind::Winning,
        "porep" => ProofKind::Porep,
        other => {
            eprintln!("unknown kind {other}; {usage_text}");
            std::process::exit(2);
        }
    };
    let size: SectorSize = size.parse().expect("a sector size");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(String::as_str);
    let decode = args.iter().any(|a| a == "--decode");
    let pt = ProofType::for_size(size).expect("a registered sector size");
    match kind {
        ProofKind::Porep => compare(kind, size, PorepCircuit::blank(&pt), only, decode),
        _ => compare(kind, size, blank_post(kind, &pt), only, decode),
    }
}

/// Synthesises `blank` once for its shape, then times the selected generators on it.
fn compare<C: Circuit<Scalar> + Clone>(
    kind: ProofKind,
    size: SectorSize,
    blank: C,
    only: Option<&str>,
    decode: bool,
) {
    let shape = circuit_shape(blank.clone()).expect("the blank circuit synthesizes");
    let header = json!({
        "kind": kind.as_str(),
        "sector_size": size.to_string(),
        "constraints": shape.constraints,
        "inputs": shape.inputs,
        "aux": shape.aux,
        "threads": rayon::current_num_threads(),
    });
    println!("{header}");

    if only != Some("new") {
        let (params, report) = run("groth16", shape.constraints, || {
            groth16::generate_random_parameters::<Bls12, _, _>(blank.clone(), &mut rng())
        });
        println!("{report}");
        drop(params);
    }
    if only != Some("old") {
        let (params, report) = run("strata", shape.constraints, || {
            strata_params::generator::generate_parameters(blank.clone(), &mut rng())
        });
        println!("{report}");
        if decode {
            let n = params.h.len().min(20_000);
            println!("{}", json!({ "decode_h": decode_cost(&params.h[..n]) }));
        }
    }
}
