//! The trusted-setup ceremony's hot paths at 2^10 (whole-command figures at 2^15…2^18 are in
//! BENCHMARKS.md, measured with `/usr/bin/time -v strata ceremony …`): a phase-1 contribution
//! and its verification, the group FFT that gives the Lagrange basis in the exponent (the bulk
//! of starting a phase 2), and the same-ratio check every verification rests on.
//! Run: `cargo bench -p strata-benches --bench ceremony`

use criterion::{criterion_group, criterion_main, Criterion};
use group013::{Curve, Group};
use strata_ceremony::lagrange::lagrange_basis;
use strata_ceremony::{phase1, same_ratio_g1, G1Projective, G2Projective, Quiet, Scalar};

const POWER: u32 = 10;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("ceremony");
    g.sample_size(10);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ptau");
    phase1::new(&dir, POWER).unwrap();
    phase1::contribute(&dir, "bench", &Quiet).unwrap();
    g.bench_function("phase1 contribute 2^10", |b| {
        b.iter_batched(
            || {
                let d = tempfile::tempdir().unwrap();
                let p = d.path().join("ptau");
                phase1::new(&p, POWER).unwrap();
                (d, p)
            },
            |(_d, p)| phase1::contribute(&p, "bench", &Quiet).unwrap(),
            criterion::BatchSize::PerIteration,
        )
    });
    g.bench_function("phase1 verify 2^10 (initial + 1)", |b| {
        b.iter(|| phase1::verify(&dir, &Quiet).unwrap())
    });
    let x = Scalar::from(0x1234_5678u64);
    let powers: Vec<G1Projective> = (0..1u64 << POWER)
        .scan(G1Projective::generator(), |p, _| {
            let out = *p;
            *p *= x;
            Some(out)
        })
        .collect();
    g.bench_function("lagrange basis G1 2^10 (group FFT)", |b| {
        b.iter(|| lagrange_basis(&powers))
    });
    let a: Vec<_> = powers.iter().map(|p| p.to_affine()).collect();
    let bx: Vec<_> = powers.iter().map(|p| (p * x).to_affine()).collect();
    let (p, q) = (
        G2Projective::generator().to_affine(),
        (G2Projective::generator() * x).to_affine(),
    );
    g.bench_function("same-ratio check 2^10 points", |b| {
        b.iter(|| assert!(same_ratio_g1(&a, &bx, &p, &q).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
