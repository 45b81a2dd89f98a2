//! Onboarding at scale, end to end at 2 KiB with real proofs: three committed-capacity sectors
//! pledged together are pre-committed in one `PreCommitSectorBatch` and proven in one
//! `ProveCommitAggregate` (a SnarkPack proof of their three seal proofs, made by the provider
//! and verified by the chain), and all three become active. Epochs are stepped by the test.

use std::sync::Arc;
use strata_chain::config::devnet_faucet;
use strata_chain::{Chain, SnarkVerifier};
use strata_chain_client::types::Method;
use strata_chain_client::views::SectorStatus;
use strata_chain_client::{ChainApi, KeyPair, Token};
use strata_provider::config::OnboardingConfig;

mod common;
use common::{block_on, params, send};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_sectors_precommitted_in_one_batch_and_proven_in_one_aggregate() {
    let store = params();
    let (chain_dir, home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let chain = Arc::new(
        Chain::open(
            chain_dir.path(),
            common::genesis(),
            Box::new(SnarkVerifier::new(store.clone())),
            true,
        )
        .unwrap(),
    );
    let owner = KeyPair::from_secret(&[1; 32]);
    send(
        &chain,
        &devnet_faucet(),
        Method::Transfer {
            to: owner.address(),
            amount: Token::whole(1000),
        },
    )
    .await;
    chain.step(1).unwrap();
    common::create_miner(&chain, &owner, 1000, "").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = common::config(1000, &owner, home.path(), addr, &store, false);
    config.onboarding = OnboardingConfig {
        batch_size: 3,
        max_wait_epochs: 40,
    };
    let p = common::start(&chain, home.path(), config, owner, listener).await;
    for n in 1..=3 {
        p.db.new_sector(n, &[]).unwrap();
    }
    let active = |c: &Chain| {
        (1..=3).all(|n| block_on(c.sector(1000, n)).is_ok_and(|s| s.status == SectorStatus::Active))
    };
    let mut epochs = 0;
    while !active(&chain) {
        assert!(
            epochs < 150,
            "not all active after {epochs} epochs: {:#?}",
            p.db.recent_log(30)
        );
        chain.step(1).unwrap();
        p.pipeline_tick().await;
        p.idle().await;
        epochs += 1;
    }
    let log = p.db.recent_log(200).unwrap();
    let kinds: Vec<&str> = log.iter().map(|l| l.kind.as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "precommit_batch").count(),
        1,
        "{log:#?}"
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "provecommit_aggregate")
            .count(),
        1,
        "{log:#?}"
    );
    assert!(
        !kinds
            .iter()
            .any(|k| k.ends_with("_refused") || *k == "precommit"),
        "{log:#?}"
    );
    let agg = log
        .iter()
        .find(|l| l.kind == "provecommit_aggregate")
        .unwrap();
    assert!(
        agg.detail.starts_with("sectors [1, 2, 3]"),
        "{}",
        agg.detail
    );
    // The chain recorded each sector's proof as part of one aggregate an auditor can rebuild and
    // verify offline.
    chain.step(1).unwrap(); // the epoch that applied the aggregate is committed with its records
    let records = chain.proofs(1000).await.unwrap();
    let groups = strata_chain_client::views::ProofRecord::aggregates(&records);
    assert_eq!(
        groups.len(),
        1,
        "{:?}",
        records
            .iter()
            .map(|r| (&r.what, r.aggregate.is_some()))
            .collect::<Vec<_>>()
    );
    let group = groups[0].as_ref().unwrap();
    group
        .to_file()
        .verify(&store)
        .expect("the aggregate verifies offline");
    // Power as three single prove-commits would give.
    let m = chain.miner(1000).await.unwrap();
    assert_eq!(m.raw_power, 3 * 2048);
}
