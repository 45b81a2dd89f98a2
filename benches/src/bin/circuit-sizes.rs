//! Prints the constraint counts of every circuit at every registered sector size, from blank
//! circuits (no sealing needed). Run: `cargo run --release -p strata-benches --bin circuit-sizes`
//! (32 GiB shapes take a minute or two; pass sizes to restrict, e.g. `2KiB 8MiB`).

use strata_params::groth16_files::ProofKind;
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_prover::snark::synthesized_circuit_id;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sizes: Vec<SectorSize> = if args.is_empty() {
        vec![
            SectorSize::KIB2,
            SectorSize::MIB8,
            SectorSize::MIB512,
            SectorSize::GIB32,
        ]
    } else {
        args.iter()
            .map(|a| a.parse().expect("a sector size"))
            .collect()
    };
    println!("| sector size | PoRep partition | WinningPoSt | WindowPoSt partition (sectors) |");
    println!("|---|---|---|---|");
    for size in sizes {
        let pt = ProofType::for_size(size).unwrap();
        let count = |kind| {
            let start = std::time::Instant::now();
            let id = synthesized_circuit_id(kind, &pt).unwrap();
            eprintln!(
                "{size} {}: {} constraints ({:.1?} to synthesize)",
                kind.as_str(),
                id.constraints,
                start.elapsed()
            );
            id.constraints
        };
        let porep = count(ProofKind::Porep);
        let winning = count(ProofKind::Winning);
        // A WindowPoSt partition is the same per-sector block repeated with no constraint between
        // sectors, so large partitions are counted exactly as one sector's block times the count.
        let n = pt.window_post_sectors_per_partition;
        let window = if n > 16 {
            let one = strata_prover::circuit::shape::circuit_shape(
                strata_prover::circuit::post::PostCircuit::blank(&pt, 1, pt.window_post_challenges),
            )
            .unwrap();
            let two = strata_prover::circuit::shape::circuit_shape(
                strata_prover::circuit::post::PostCircuit::blank(&pt, 2, pt.window_post_challenges),
            )
            .unwrap();
            assert_eq!(
                two.constraints,
                2 * one.constraints,
                "sectors are independent blocks"
            );
            eprintln!("{size} window: {} per sector × {n}", one.constraints);
            one.constraints * n
        } else {
            count(ProofKind::Window)
        };
        println!(
            "| {size} | {porep} | {winning} | {window} ({}) |",
            pt.window_post_sectors_per_partition
        );
    }
}
