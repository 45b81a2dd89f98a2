//! Sealing at 8 MiB: labeling per layer, tree_c, tree_r_last, the whole seal.
//! Run: `cargo bench -p strata-benches --bench sealing`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::Path;
use strata_benches::sample_bytes;
use strata_params::ProofType;
use strata_primitives::merkle::build_tree;
use strata_primitives::sizes::SectorSize;
use strata_sealer::graph::Graph;
use strata_sealer::labeling::label_layers;
use strata_sealer::parent_cache::ParentCache;
use strata_sealer::*;

fn config(cache: &Path) -> SealConfig {
    SealConfig {
        proof_type: ProofType::for_size(SectorSize::MIB8).unwrap(),
        prover_id: 1000,
        sector_number: 1,
        ticket: [7; 32],
        parent_cache_dir: cache.to_path_buf(),
    }
}

fn sealing(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(&tmp.path().join("parents"));
    let pt = cfg.proof_type;
    let data = sample_bytes((pt.sector_size.bytes() / 128 * 127) as usize, 3);
    let sector = tmp.path().join("sector");
    seal(
        &cfg,
        vec![PieceSource {
            reader: Box::new(&data[..]),
            len: data.len() as u64,
        }],
        &sector,
        &NoProgress,
    )
    .unwrap();
    let paths = SectorPaths::new(&sector);
    let meta = SectorMeta::load(&sector).unwrap();

    let mut g = c.benchmark_group("seal_8MiB");
    g.sample_size(10);
    let graph = Graph::new(&pt.porep_id(), pt.nodes());
    let cache = ParentCache::open_or_create(&cfg.parent_cache_dir, &pt, &graph).unwrap();
    let scratch = tmp.path().join("labels");
    std::fs::create_dir_all(&scratch).unwrap();
    g.throughput(Throughput::Elements(pt.nodes() * pt.layers as u64));
    g.bench_function("labeling_all_layers", |b| {
        b.iter(|| {
            label_layers(
                &cache,
                &meta.replica_id,
                pt.layers,
                &|l| scratch.join(format!("l{l}")),
                &NoProgress,
            )
            .unwrap()
        })
    });
    g.throughput(Throughput::Elements(pt.nodes()));
    g.bench_function("tree_c", |b| {
        b.iter(|| seal::build_tree_c(&paths, pt.layers, &pt.tree_r_shape(), &NoProgress).unwrap())
    });
    let out = tmp.path().join("tree-r-last.bench");
    g.bench_function("tree_r_last", |b| {
        b.iter(|| {
            let mut leaves = std::fs::read(paths.sealed()).unwrap();
            let mut src: &[strata_primitives::Node] =
                strata_primitives::node::as_nodes_mut(&mut leaves);
            build_tree(&pt.tree_r_shape(), &mut src, &out).unwrap()
        })
    });
    g.bench_function("whole_seal", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            let o = tmp.path().join(format!("s{i}"));
            seal(
                &cfg,
                vec![PieceSource {
                    reader: Box::new(&data[..]),
                    len: data.len() as u64,
                }],
                &o,
                &NoProgress,
            )
            .unwrap();
            std::fs::remove_dir_all(&o).unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, sealing);
criterion_main!(benches);
