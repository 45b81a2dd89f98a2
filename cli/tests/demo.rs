//! The README's main command, end to end: `strata demo` runs a devnet, a provider and a client
//! and exits 0 only if every check passed (its own file, so it has the machine to itself).

mod common;

#[test]
fn demo_runs_the_whole_life_of_a_sector() {
    let tmp = tempfile::tempdir().unwrap();
    let keep = tmp.path().join("demo");
    let out = common::ok(&common::strata(
        &["demo", "--keep", keep.to_str().unwrap()],
        &tmp.path().join("parents"),
    ));
    for step in [
        "client deal 0 published",
        "pre-committed",
        "seal proof verified on chain",
        "two WindowPoSt deadlines proven",
        "block reward minted",
        "active and paying",
        "faulty on chain",
        "fault fee charged",
        "active again",
        "identical to the sample",
        "all valid",
        "demo passed",
    ] {
        assert!(out.contains(step), "missing {step:?} in:\n{out}");
    }
    // What it left behind is real: the chain database and the provider's state.
    assert!(keep.join("chain/chain.redb").exists());
    assert!(keep.join("miner/provider.sqlite").exists());
}
