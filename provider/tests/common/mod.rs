//! What the provider's in-process tests share: a devnet genesis for 2 KiB sectors, the cached
//! Groth16 parameters, message sending, and a provider started on a local port.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use strata_chain::config::Genesis;
use strata_chain::Chain;
use strata_chain_client::types::{Method, MinerId};
use strata_chain_client::{ChainApi, KeyPair, Message, Token};
use strata_params::groth16_files::{ParamsStore, ProofKind};
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_provider::{Provider, ProviderConfig};

/// The devnet with lifetimes and deal durations short enough for a test.
pub fn genesis() -> Genesis {
    let mut g = Genesis::preset("devnet").unwrap();
    g.constants.min_sector_lifetime = 900;
    // Deals of 150 epochs, so the test's proposals stay short (the preset's minimum is 180 days).
    g.constants.min_deal_duration = 150;
    // The test steps epochs itself, so an epoch lasts as long as the test takes; 30 s epochs tell
    // the provider's intake (which turns measured wall time into epochs) that 50 epochs are
    // plenty to seal and prove a 2 KiB sector.
    g.constants.block_time_ms = 30_000;
    g
}

/// The 2 KiB parameters (generated once into the user's cache).
pub fn params() -> ParamsStore {
    let store = ParamsStore::new(ParamsStore::default_dir());
    let pt = ProofType::for_size(SectorSize::KIB2).unwrap();
    for kind in [ProofKind::Porep, ProofKind::Winning, ProofKind::Window] {
        strata_prover::snark::load_or_generate_kind(&store, kind, &pt).unwrap();
    }
    store
}

/// Signs `call` from `key` with its next nonce and submits it.
pub async fn send(chain: &Chain, key: &KeyPair, call: Method) {
    let nonce = chain.account(key.address()).await.unwrap().nonce;
    chain
        .submit_message(
            Message {
                network: chain.genesis().network.clone(),
                from: key.address(),
                nonce,
                call,
            }
            .sign(key)
            .unwrap(),
        )
        .unwrap();
}

/// Runs a future to completion from inside a multi-threaded test runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

/// Creates a miner owned (and worked) by `owner`, with `endpoint` as its deal endpoint, 500
/// tokens of balance and 10 of market escrow (the owner must be funded; one epoch is stepped).
pub async fn create_miner(chain: &Chain, owner: &KeyPair, id: MinerId, endpoint: &str) {
    send(
        chain,
        owner,
        Method::CreateMiner {
            worker: owner.address(),
            proof_type: 1,
            deal_endpoint: endpoint.into(),
        },
    )
    .await;
    chain.step(1).unwrap();
    assert_eq!(chain.miner(id).await.unwrap().owner, owner.address());
    send(
        chain,
        owner,
        Method::AddMinerBalance {
            miner: id,
            amount: Token::whole(500),
        },
    )
    .await;
    send(
        chain,
        owner,
        Method::AddEscrow {
            to: strata_chain_client::types::EscrowHolder::Miner(id),
            amount: Token::whole(10),
        },
    )
    .await;
    chain.step(1).unwrap();
}

/// A test provider's configuration for miner `miner` worked by `owner`.
pub fn config(
    miner: MinerId,
    owner: &KeyPair,
    home: &Path,
    listen: SocketAddr,
    store: &ParamsStore,
    accept_repairs: bool,
) -> ProviderConfig {
    ProviderConfig {
        miner,
        owner: owner.address(),
        worker: owner.address(),
        worker_key: "owner".into(),
        keystore: home.join("keystore.json"),
        rpc: String::new(),
        listen,
        proof_type: 1,
        min_price_per_epoch: Token(1),
        min_start_delay: 30,
        max_parallel_jobs: 1,
        params_dir: Some(store.dir().to_path_buf()),
        parent_cache: None,
        winning_min_interval: 100,
        accept_repairs,
        proving_threads: strata_provider::config::default_proving_threads(),
        sealing_nice: strata_provider::config::default_sealing_nice(),
        db: None,
        tasks: None,
        machine_name: None,
        dead_after_ms: strata_provider::config::default_dead_after_ms(),
        seal_batch: Default::default(),
        console_token: None,
        onboarding: Default::default(),
    }
}

/// Opens a provider with `config` in `home` and serves its endpoint on `listener`.
pub async fn start(
    chain: &Arc<Chain>,
    home: &Path,
    config: ProviderConfig,
    key: KeyPair,
    listener: tokio::net::TcpListener,
) -> Arc<Provider> {
    let provider = Provider::open(home, config, chain.clone() as Arc<dyn ChainApi>, key)
        .await
        .unwrap();
    let app = provider.app();
    tokio::spawn(async move { axum::serve(listener, app).await });
    provider
}
