//! PoSt latency, idle and while sealing runs — what a deadline actually waits for.
//!
//! ```sh
//! cargo run --release -p strata-benches --bin post-latency -- 2KiB 5
//! cargo run --release -p strata-benches --bin post-latency -- 8MiB 5
//! ```
//!
//! Seals one committed-capacity sector of the given size, keeps the WindowPoSt and WinningPoSt
//! parameters warm (as the provider does) and times `rounds` proofs of each in three settings:
//! the machine idle; an 8 MiB sealing loop running on the main pool beside the proofs (no
//! priority: what the provider did before its priority rules); and the same loop on the
//! provider's sealing pool (nice 5, pausing while a PoSt runs). Prints median and max.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use strata_params::groth16_files::{ParamsStore, ProofKind};
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_prover::proof_file::{prove_window, prove_winning};
use strata_prover::warm::{ParamSource, ParamsCache};
use strata_provider::priority::{sealing_pool, CpuPlan, ProvingGate, YieldToProving};
use strata_sealer::{seal, NoProgress, PieceSource, Progress, SealConfig};

fn seal_cc(
    pt: &ProofType,
    dir: &std::path::Path,
    n: u64,
    parents: &std::path::Path,
    p: &dyn Progress,
) {
    use std::io::Read;
    let len = pt.sector_size.bytes() / 128 * 127;
    let _ = std::fs::remove_dir_all(dir);
    seal(
        &SealConfig {
            proof_type: *pt,
            prover_id: 1000,
            sector_number: n,
            ticket: [n as u8; 32],
            parent_cache_dir: parents.to_path_buf(),
        },
        vec![PieceSource {
            reader: Box::new(std::io::repeat(0).take(len)),
            len,
        }],
        dir,
        p,
    )
    .expect("seal");
}

fn stats(mut v: Vec<f64>) -> String {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    format!(
        "median {:.2} s, max {:.2} s",
        v[v.len() / 2],
        v[v.len() - 1]
    )
}

fn measure(
    label: &str,
    pt: &ProofType,
    dir: &std::path::Path,
    warm: &ParamsCache,
    rounds: usize,
    gate: Option<&Arc<ProvingGate>>,
) {
    let (mut window, mut winning) = (vec![], vec![]);
    for r in 0..rounds {
        let randomness = *blake3::hash(&r.to_le_bytes()).as_bytes();
        let t = Instant::now();
        let g = gate.map(|g| g.post_begin());
        prove_window(&[dir.to_path_buf()], &randomness, warm).expect("window");
        drop(g);
        window.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let g = gate.map(|g| g.post_begin());
        prove_winning(&[dir.to_path_buf()], &randomness, warm).expect("winning");
        drop(g);
        winning.push(t.elapsed().as_secs_f64());
    }
    println!(
        "{} {label}: WindowPoSt {} | WinningPoSt {}",
        pt.sector_size,
        stats(window),
        stats(winning)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let size: SectorSize = args
        .get(1)
        .map_or("2KiB", |s| s.as_str())
        .parse()
        .expect("size");
    let rounds: usize = args.get(2).map_or(5, |s| s.parse().expect("rounds"));
    let pt = ProofType::for_size(size).expect("proof type");
    let store = ParamsStore::new(ParamsStore::default_dir());
    for kind in [ProofKind::Window, ProofKind::Winning] {
        strata_prover::snark::load_or_generate_kind(&store, kind, &pt).expect("params");
    }
    let tmp = tempfile::tempdir().unwrap();
    let parents = tmp.path().join("parents");
    let dir = tmp.path().join("post-sector");
    seal_cc(&pt, &dir, 1, &parents, &NoProgress);
    let warm = ParamsCache::new(store);
    warm.params(ProofKind::Window, &pt).unwrap();
    warm.params(ProofKind::Winning, &pt).unwrap();
    // One proof of each untimed: first-use costs (blank-circuit digests) are paid at start.
    prove_window(std::slice::from_ref(&dir), &[0; 32], &warm).unwrap();
    prove_winning(std::slice::from_ref(&dir), &[0; 32], &warm).unwrap();

    measure("idle", &pt, &dir, &warm, rounds, None);

    let load = ProofType::for_size(SectorSize::MIB8).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let sealed = Arc::new(std::sync::atomic::AtomicU64::new(0));
    {
        let (stop2, sealed, parents) = (stop.clone(), sealed.clone(), parents.clone());
        let d = tmp.path().join("load-a");
        let h = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                seal_cc(&load, &d, 2, &parents, &NoProgress);
                sealed.fetch_add(1, Ordering::Relaxed);
            }
        });
        measure(
            "8 MiB sealing beside it, no priority",
            &pt,
            &dir,
            &warm,
            rounds,
            None,
        );
        stop.store(true, Ordering::Relaxed);
        h.join().unwrap();
    }
    stop.store(false, Ordering::Relaxed);
    let plan = CpuPlan::new(&strata_provider::os::allowed_cpus(), 0);
    let pool = Arc::new(sealing_pool(&plan, 5).unwrap());
    let gate = Arc::new(ProvingGate::default());
    {
        let (stop2, parents, gate2, pool) =
            (stop.clone(), parents.clone(), gate.clone(), pool.clone());
        let d = tmp.path().join("load-b");
        let h = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                pool.install(|| seal_cc(&load, &d, 3, &parents, &YieldToProving(&gate2)));
            }
        });
        measure(
            "8 MiB sealing beside it, provider priority (nice 5, paused during PoSt)",
            &pt,
            &dir,
            &warm,
            rounds,
            Some(&gate),
        );
        stop.store(true, Ordering::Relaxed);
        h.join().unwrap();
    }
    println!(
        "({} background seals completed)",
        sealed.load(Ordering::Relaxed)
    );
}
