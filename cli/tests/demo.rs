//! The README's main command, end to end, on a loaded machine: `strata demo` runs a devnet, a
//! provider and a client while this test keeps every core busy with a CPU hog at normal
//! priority, and exits 0 only if every check passed — among them that no WindowPoSt window
//! was missed and a WinningPoSt landed in time (its own file, so it has the machine to itself).
//! `scripts/demo-under-load.sh` does the same from a shell.

mod common;

#[test]
fn demo_runs_the_whole_life_of_a_sector_while_every_core_is_busy() {
    let tmp = tempfile::tempdir().unwrap();
    let keep = tmp.path().join("demo");
    // Parameters first (idle), so the hog measures proving, not a one-time setup.
    common::ok(&common::strata(
        &[
            "params",
            "generate",
            "--sector-size",
            "2KiB",
            "--kind",
            "all",
            "--json",
        ],
        &tmp.path().join("parents"),
    ));
    let hog = common::CpuHog::start(std::time::Duration::from_secs(1500));
    let out = common::strata(
        &["demo", "--keep", keep.to_str().unwrap()],
        &tmp.path().join("parents"),
    );
    drop(hog);
    let out = common::ok(&out);
    for step in [
        "a WindowPoSt takes",
        "client deal 0 published",
        "pre-committed",
        "seal proof verified on chain",
        "two WindowPoSt deadlines proven",
        "block reward minted",
        "active and paying",
        "faulty on chain",
        "fault fee charged",
        "active again",
        "sealed and proven meanwhile",
        "identical to the sample",
        "all valid",
        "no WindowPoSt window missed",
        "demo passed",
    ] {
        assert!(out.contains(step), "missing {step:?} in:\n{out}");
    }
    // What it left behind is real: the chain database and the provider's state.
    assert!(keep.join("chain/chain.redb").exists());
    assert!(keep.join("miner/provider.sqlite").exists());
}
