//! CPU and wall time per sealing phase, for one sector alone and for a batch.
//!
//! `target/release/seal-phases SIZE B [lanes]` seals B sectors of random data as one batch (B = 1:
//! `strata_sealer::seal`, the single-sector path) in a temporary directory and prints one JSON
//! object: for each phase (as the sealer reports them: writing pieces, tree_d, labeling layer ℓ,
//! encoding, tree_c, tree_r_last), the process CPU seconds (user + system, all threads) and wall
//! seconds spent in it, summed over the batch, and the totals. The parent cache is generated
//! first, outside the measurement.

use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_sealer::batch::seal_batch_with_lanes;
use strata_sealer::{seal, BatchItem, PieceSource, Progress, SealConfig};

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes into the struct we pass.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 * 1e-6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// Attributes CPU and wall time to the phase the sealer last started.
struct Phases {
    current: Mutex<Option<(String, f64, Instant)>>,
    totals: Mutex<BTreeMap<String, (f64, f64)>>,
}

impl Phases {
    fn close(&self) {
        if let Some((name, cpu, wall)) = self.current.lock().unwrap().take() {
            // Group "labeling layer 1/2 (16 sectors)" and "writing layer 1 of 16 sectors" by kind.
            let key = name.split(" (").next().unwrap_or(&name).to_string();
            let mut t = self.totals.lock().unwrap();
            let e = t.entry(key).or_default();
            e.0 += cpu_seconds() - cpu;
            e.1 += wall.elapsed().as_secs_f64();
        }
    }
}

impl Progress for Phases {
    fn start(&self, phase: &str, _: u64) {
        self.close();
        *self.current.lock().unwrap() = Some((phase.to_string(), cpu_seconds(), Instant::now()));
    }
    fn advance(&self, _: u64) {}
    fn finish(&self) {
        self.close();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let size: SectorSize = args
        .get(1)
        .map(|s| s.parse().expect("a sector size such as 8MiB"))
        .unwrap_or(SectorSize::MIB8);
    let b: usize = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(1);
    let lanes: Option<usize> = args.get(3).map(|s| s.parse().unwrap());
    let pt = ProofType::for_size(size).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("parents");
    let config = |n: u64| SealConfig {
        proof_type: pt,
        prover_id: 1000,
        sector_number: n,
        ticket: [7; 32],
        parent_cache_dir: cache.clone(),
    };
    // Warm the parent cache outside the measurement.
    {
        let graph = strata_sealer::graph::Graph::new(&pt.porep_id(), pt.nodes());
        strata_sealer::parent_cache::ParentCache::open_or_create(&cache, &pt, &graph).unwrap();
    }
    let len = pt.sector_size.bytes() / 128 * 127;
    let data: Vec<Vec<u8>> = (0..b)
        .map(|s| {
            let mut h = blake3::Hasher::new();
            h.update(&(s as u64).to_le_bytes());
            let mut v = vec![0u8; len as usize];
            h.finalize_xof().fill(&mut v);
            v
        })
        .collect();
    let phases = Phases {
        current: Mutex::new(None),
        totals: Mutex::new(BTreeMap::new()),
    };
    let (cpu0, wall0) = (cpu_seconds(), Instant::now());
    if b == 1 && lanes.is_none() {
        let src = vec![PieceSource {
            reader: Box::new(&data[0][..]),
            len,
        }];
        seal(&config(1), src, &tmp.path().join("s1"), &phases).unwrap();
    } else {
        let items = data
            .iter()
            .enumerate()
            .map(|(s, d)| BatchItem {
                config: config(s as u64 + 1),
                pieces: vec![PieceSource {
                    reader: Box::new(&d[..]),
                    len,
                }],
                out: tmp.path().join(format!("s{}", s + 1)),
            })
            .collect();
        seal_batch_with_lanes(items, lanes, &phases).unwrap();
    }
    let (cpu, wall) = (cpu_seconds() - cpu0, wall0.elapsed().as_secs_f64());
    let totals = phases.totals.into_inner().unwrap();
    let labeling: f64 = totals
        .iter()
        .filter(|(k, _)| k.starts_with("labeling"))
        .map(|(_, v)| v.0)
        .sum();
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "sector_size": size.to_string(), "sectors": b, "lanes": lanes,
            "cpu_s": cpu, "wall_s": wall, "cpu_s_per_sector": cpu / b as f64,
            "labeling_cpu_s": labeling, "labeling_cpu_s_per_sector": labeling / b as f64,
            "phases": totals.iter().map(|(k, v)| (k.clone(), json!({"cpu_s": v.0, "wall_s": v.1}))).collect::<serde_json::Map<_, _>>(),
        }))
        .unwrap()
    );
}
