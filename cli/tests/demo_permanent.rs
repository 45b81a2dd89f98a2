//! `strata demo --permanent` end to end (its own file, so it has the machine to itself): two
//! providers, a client paying once for two replicas, both replicas sealed and paid their upfront
//! share, an endowment payout to each, a block won with a recall proof, and the audit of both
//! miners' proofs; it exits 0 only if every check passed.

mod common;

#[test]
fn permanent_demo_pays_once_stores_two_replicas_and_proves_access() {
    let tmp = tempfile::tempdir().unwrap();
    let keep = tmp.path().join("demo");
    let out = common::strata(
        &["demo", "--permanent", "--keep", keep.to_str().unwrap()],
        &tmp.path().join("parents"),
    );
    let out = common::ok(&out);
    for step in [
        "a WindowPoSt takes",
        "client paid",
        "both replicas sealed and proven on chain",
        "endowment payouts for proven replicas",
        "with a recall proof",
        "audit:",
        "endowment at epoch",
        "demo passed",
    ] {
        assert!(out.contains(step), "missing {step:?} in:\n{out}");
    }
    assert!(keep.join("miner-a/provider.sqlite").exists());
    assert!(keep.join("miner-b/provider.sqlite").exists());
}
