//! Primitives: Poseidon (reference, optimised over `Scalar`, blst fast path, column batches),
//! hash_d lanes, fr32, CommP.
//! Run: `cargo bench -p strata-benches --bench primitives`

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use strata_benches::sample_bytes;
use strata_primitives::hash::{hash_d, hash_d_pairs, hash_d_pairs_reference};
use strata_primitives::node::Node;
use strata_primitives::poseidon::Poseidon;

fn poseidon(c: &mut Criterion) {
    let mut g = c.benchmark_group("poseidon");
    for arity in [2usize, 8, 11] {
        let p = Poseidon::for_arity(arity).unwrap();
        let inputs: Vec<bls12_381::Scalar> = (0..arity as u64)
            .map(|i| {
                bls12_381::Scalar::from(i + 3) * bls12_381::Scalar::from(0x1234_5678_9abc_def1)
            })
            .collect();
        let nodes: Vec<Node> = inputs.iter().map(|s| s.to_bytes()).collect();
        // `hash` runs on the blst fast path (Scalars converted in and out).
        g.bench_function(BenchmarkId::new("optimised", arity), |b| {
            b.iter(|| p.hash(black_box(&inputs)))
        });
        // The same optimised schedule over `bls12_381::Scalar` (the pre-blst `hash`).
        g.bench_function(BenchmarkId::new("optimised_scalar", arity), |b| {
            b.iter(|| p.hash_scalar(black_box(&inputs)))
        });
        g.bench_function(BenchmarkId::new("fast_nodes", arity), |b| {
            b.iter(|| p.hash_nodes(black_box(&nodes)).unwrap())
        });
        g.bench_function(BenchmarkId::new("reference", arity), |b| {
            b.iter(|| p.hash_reference(black_box(&inputs)))
        });
    }
    g.finish();
}

/// tree_c's column hashes, one thread: 2^16 columns of 2 or 11 labels through the batch API.
fn poseidon_columns(c: &mut Criterion) {
    let n = 1 << 16;
    let mut g = c.benchmark_group("poseidon_columns");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    for arity in [2usize, 11] {
        let p = Poseidon::for_arity(arity).unwrap();
        let layers: Vec<Vec<Node>> = (0..arity as u32)
            .map(|l| {
                (0..n as u32)
                    .map(|i| hash_d(&[l.to_le_bytes(), i.to_le_bytes()].concat()))
                    .collect()
            })
            .collect();
        let mut out = vec![[0u8; 32]; n];
        g.bench_function(BenchmarkId::new("2^16", arity), |b| {
            b.iter(|| {
                p.hash_node_columns(black_box(&layers), 0, &mut out)
                    .unwrap()
            })
        });
    }
    g.finish();
}

fn hash_d_level(c: &mut Criterion) {
    let n = 1 << 16;
    let children: Vec<Node> = (0..2 * n as u32)
        .map(|i| hash_d(&i.to_le_bytes()))
        .collect();
    let mut out = vec![[0u8; 32]; n];
    let mut g = c.benchmark_group("hash_d_level");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("lanes", |b| {
        b.iter(|| hash_d_pairs(black_box(&children), &mut out))
    });
    g.bench_function("blake3_per_node", |b| {
        b.iter(|| hash_d_pairs_reference(black_box(&children), &mut out))
    });
    g.finish();
}

fn label_preimage(c: &mut Criterion) {
    // One SDR label: hash_d of the 1,248-byte preimage (64-byte prefix + 37 parent labels).
    let pre = sample_bytes(strata_sealer::labeling::PREIMAGE, 4);
    c.bench_function("hash_d_label_preimage_1248B", |b| {
        b.iter(|| hash_d(black_box(&pre)))
    });
    // Its two chunks and the merge, as the two-thread labeling computes them.
    use blake3::hazmat::{merge_subtrees_root, HasherExt, Mode};
    c.bench_function("label_chunk0_1024B", |b| {
        b.iter(|| {
            blake3::Hasher::new()
                .update(black_box(&pre[..1024]))
                .finalize_non_root()
        })
    });
    c.bench_function("label_chunk1_224B", |b| {
        b.iter(|| {
            blake3::Hasher::new()
                .set_input_offset(1024)
                .update(black_box(&pre[1024..]))
                .finalize_non_root()
        })
    });
    let (l, r) = ([1u8; 32], [2u8; 32]);
    c.bench_function("label_merge", |b| {
        b.iter(|| merge_subtrees_root(black_box(&l), black_box(&r), Mode::Hash))
    });
}

fn fr32_pad(c: &mut Criterion) {
    let raw = sample_bytes(127 << 13, 1);
    let mut out = vec![0u8; 128 << 13];
    let mut g = c.benchmark_group("fr32");
    g.throughput(Throughput::Bytes(raw.len() as u64));
    g.bench_function("pad_1MiB", |b| {
        b.iter(|| strata_primitives::fr32::pad(black_box(&raw), &mut out))
    });
    g.finish();
}

fn commp(c: &mut Criterion) {
    let data = sample_bytes(64 << 20, 2);
    let mut g = c.benchmark_group("commp");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("64MiB", |b| {
        b.iter(|| strata_sealer::comm_p(black_box(&data[..]), data.len() as u64).unwrap())
    });
    g.finish();
}

criterion_group!(
    benches,
    poseidon,
    poseidon_columns,
    hash_d_level,
    label_preimage,
    fr32_pad,
    commp
);
criterion_main!(benches);
