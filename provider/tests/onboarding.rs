//! Onboarding at scale, end to end at 2 KiB with real proofs: three committed-capacity sectors
//! pledged together are pre-committed in one `PreCommitSectorBatch` and proven in one
//! `ProveCommitAggregate` (a SnarkPack proof of their three seal proofs, made by the provider
//! and verified by the chain), and all three become active. With three deadlines, all three land
//! in one deadline as two partitions, and the scheduler proves both in one
//! `SubmitWindowPostBatch`. Epochs are stepped by the test.

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
async fn three_sectors_batched_aggregated_and_posted_as_one_multi_partition_post() {
    let store = params();
    let (chain_dir, home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // Three deadlines: a sector never goes to the open deadline or the next one, so sectors
    // activated together share the third, and 2 KiB partitions hold two sectors each.
    let mut genesis = common::genesis();
    genesis.constants.deadlines = 3;
    genesis.constants.deadline_window = genesis.constants.proving_period / 3;
    let chain = Arc::new(
        Chain::open(
            chain_dir.path(),
            genesis,
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
    // Before its first proving period a miner's sectors are spread over every deadline; from
    // then on the open deadline and the next are avoided, which leaves one of three.
    let start = chain.miner(1000).await.unwrap().proving_period_start;
    while chain.head().await.unwrap().epoch < start {
        chain.step(1).unwrap();
    }
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

    // WindowPoSt: both partitions of the sectors' deadline posted in one message.
    let dl = chain.sector(1000, 1).await.unwrap().location.unwrap().0;
    let parts = |c: &Chain| {
        block_on(c.deadlines(1000)).unwrap()[dl as usize]
            .partitions
            .clone()
    };
    assert_eq!(parts(&chain).len(), 2, "{:?}", parts(&chain));
    let posts = |p: &strata_provider::Provider| -> Vec<String> {
        p.db.recent_log(500)
            .unwrap()
            .into_iter()
            .filter(|l| l.kind == "post")
            .map(|l| l.detail)
            .collect()
    };
    let mut epochs = 0;
    while posts(&p).len() < 2 {
        assert!(
            epochs < 2 * chain.genesis().constants.proving_period,
            "no WindowPoSt after {epochs} epochs: {:#?}",
            p.db.recent_log(30)
        );
        chain.step(1).unwrap();
        p.scheduler_tick().await;
        p.idle().await;
        epochs += 1;
    }
    let posted = posts(&p);
    assert_eq!(posted.len(), 2, "{posted:#?}");
    let message = |d: &str| d.rsplit("message ").next().unwrap().to_string();
    assert_eq!(
        message(&posted[0]),
        message(&posted[1]),
        "one message: {posted:#?}"
    );
    assert!(
        posted
            .iter()
            .all(|d| d.contains("batch of partitions [0, 1]")),
        "{posted:#?}"
    );
    chain.step(1).unwrap(); // the block that applies the post
    assert!(
        parts(&chain).iter().all(|p| p.proven),
        "{:?}",
        parts(&chain)
    );
    let log = p.db.recent_log(500).unwrap();
    assert!(
        !log.iter().any(|l| l.kind.ends_with("_refused")),
        "{log:#?}"
    );
}
