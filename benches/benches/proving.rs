//! Proving and verification: WinningPoSt and WindowPoSt (2 sectors) at 2 KiB and 8 MiB, and
//! verification of one proof against a batch of 64. Parameters come from the persistent cache
//! (generated on first run). The seal proof (90+ s each) is timed with `strata prove seal` under
//! `/usr/bin/time -v` instead; see BENCHMARKS.md.
//! Run: `cargo bench -p strata-benches --bench proving`

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::PathBuf;
use strata_benches::sample_bytes;
use strata_params::groth16_files::{ParamsStore, ProofKind};
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_prover::circuit::post::{public_inputs, PostCircuit};
use strata_prover::snark;
use strata_prover::vanilla::post::*;
use strata_sealer::*;

fn sectors(size: SectorSize, n: u64, root: &std::path::Path) -> Vec<(PostSector, PathBuf)> {
    let pt = ProofType::for_size(size).unwrap();
    (1..=n)
        .map(|i| {
            let cfg = SealConfig {
                proof_type: pt,
                prover_id: 1,
                sector_number: i,
                ticket: [i as u8; 32],
                parent_cache_dir: root.join("parents"),
            };
            let data = sample_bytes((size.bytes() / 2) as usize, i);
            let dir = root.join(format!("s{i}"));
            let m = seal(
                &cfg,
                vec![PieceSource {
                    reader: Box::new(&data[..]),
                    len: data.len() as u64,
                }],
                &dir,
                &NoProgress,
            )
            .unwrap();
            (
                PostSector {
                    sector_number: i,
                    comm_r: m.comm_r,
                },
                dir,
            )
        })
        .collect()
}

fn post(c: &mut Criterion) {
    let store = ParamsStore::new(ParamsStore::default_dir());
    let rand = [9u8; 32];
    for size in [SectorSize::KIB2, SectorSize::MIB8] {
        let tmp = tempfile::tempdir().unwrap();
        let pt = ProofType::for_size(size).unwrap();
        let set = sectors(size, 2, tmp.path());
        let dirs: Vec<PathBuf> = set.iter().map(|s| s.1.clone()).collect();
        let mut g = c.benchmark_group(format!("post_{size}"));
        g.sample_size(10);

        let win = snark::load_or_generate_kind(&store, ProofKind::Winning, &pt)
            .unwrap()
            .params;
        let vanilla = prove_winning_post(&pt, 1, &rand, &set).unwrap();
        let chosen = set
            .iter()
            .find(|s| s.0.sector_number == vanilla.sector_number)
            .unwrap()
            .0;
        g.bench_function("winning_prove", |b| {
            b.iter(|| {
                snark::prove(
                    &win,
                    PostCircuit::from_vanilla(&pt, &[chosen], std::slice::from_ref(&vanilla)),
                )
                .unwrap()
            })
        });

        let window = snark::load_or_generate_kind(&store, ProofKind::Window, &pt)
            .unwrap()
            .params;
        let out = prove_window_post(&pt, &dirs, &rand);
        let (public, proofs) = out.partitions[0].clone();
        g.bench_function("window_prove_2_sectors", |b| {
            b.iter(|| {
                snark::prove(&window, PostCircuit::from_vanilla(&pt, &public, &proofs)).unwrap()
            })
        });

        let inputs = public_inputs(&pt, &rand, &public, pt.window_post_challenges).unwrap();
        let distinct: Vec<Vec<u8>> = (0..8)
            .map(|_| {
                snark::prove(&window, PostCircuit::from_vanilla(&pt, &public, &proofs))
                    .unwrap()
                    .to_vec()
            })
            .collect();
        g.bench_function("window_verify_one", |b| {
            b.iter(|| snark::verify(&window.vk, &inputs, &distinct[0]).unwrap())
        });
        let batch: Vec<(Vec<bls12_381::Scalar>, Vec<u8>)> = (0..64)
            .map(|i| (inputs.clone(), distinct[i % 8].clone()))
            .collect();
        g.bench_function("window_verify_batch_64", |b| {
            b.iter(|| snark::batch_verify(&window.vk, &batch).unwrap())
        });
        g.finish();
    }
}

criterion_group!(benches, post);
criterion_main!(benches);
