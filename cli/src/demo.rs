//! `strata demo`: the whole life of a sector on one machine. An embedded devnet (epochs on a
//! timer), a provider daemon and a client run in a temporary directory; the demo narrates each
//! step with the chain epoch and the miner's collateral, and checks every outcome.

use crate::chain_cmd::{send, spawn_epoch_timer};
use crate::client_cmd::{audit, make_deal, retrieve, DealRequest};
use crate::commands::DemoArgs;
use anyhow::{anyhow, bail, Context, Result};
use std::future::Future;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use strata_chain::config::{devnet_faucet, Genesis};
use strata_chain::{Chain, SnarkVerifier};
use strata_chain_client::types::{EscrowHolder, Method, MinerId};
use strata_chain_client::views::{DealStatus, EventFilter, SectorStatus};
use strata_chain_client::{ChainApi, KeyPair, Token};
use strata_params::groth16_files::{ParamsStore, ProofKind};
use strata_params::ProofType;
use strata_provider::{Provider, ProviderConfig};

struct Demo {
    chain: Arc<Chain>,
    provider: Arc<Provider>,
    miner: MinerId,
    started: Instant,
    checks: Vec<String>,
    log_seen: usize,
}

fn e(e: strata_chain_client::ChainError) -> anyhow::Error {
    anyhow!("{e}")
}

impl Demo {
    fn say(&self, msg: &str) {
        println!(
            "[{:>5.1}s epoch {:>4}] {msg}",
            self.started.elapsed().as_secs_f64(),
            self.chain.head_now().epoch
        );
    }

    fn ok(&mut self, what: &str) {
        self.say(&format!("✓ {what}"));
        self.checks.push(what.to_string());
    }

    async fn collateral(&self) -> Result<()> {
        let m = self.chain.miner(self.miner).await.map_err(e)?;
        let b = m.balances;
        self.say(&format!(
            "  m{}: available {} · pre-commit deposits {} · pledge {} · vesting {} · fee debt {} · power {} B",
            self.miner, b.available, b.precommit_deposits, b.locked_pledge, b.vesting, b.fee_debt, m.raw_power
        ));
        Ok(())
    }

    /// Prints the provider's new log lines worth narrating.
    fn narrate(&mut self) {
        let log = self.provider.db.recent_log(10_000).unwrap_or_default();
        for l in log.iter().skip(self.log_seen) {
            if matches!(
                l.kind.as_str(),
                "precommit"
                    | "post"
                    | "post_skipped"
                    | "post_missed"
                    | "winning_post"
                    | "fault_declared"
                    | "recovery_declared"
                    | "step_failed"
                    | "unsealed"
            ) {
                self.say(&format!(
                    "  provider: {}: {}",
                    l.kind.replace('_', " "),
                    l.detail
                ));
            }
        }
        self.log_seen = log.len();
    }

    /// Waits (narrating) until `cond` holds, at most `secs`.
    async fn until<F, Fut>(&mut self, what: &str, secs: u64, mut cond: F) -> Result<()>
    where
        F: FnMut(Arc<Chain>, Arc<Provider>) -> Fut,
        Fut: Future<Output = bool>,
    {
        let t = Instant::now();
        loop {
            self.narrate();
            if cond(self.chain.clone(), self.provider.clone()).await {
                return Ok(());
            }
            if t.elapsed() > Duration::from_secs(secs) {
                bail!("{what}: not reached within {secs} s");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// Epochs from publication to the deal's start: enough to seal, wait for the seed and prove the
/// seal on this machine as it is now. The seal proof dominates (≈ 46 CPU-s at 2 KiB, ≈ 49 at
/// 8 MiB, measured in BENCHMARKS.md); the budget is a minute of wall time per sector on an idle
/// machine, scaled by the current load (1-minute load average per core) — a deal that starts
/// before the sector can be proven is slashed and the sector can no longer be proven with it.
fn deal_start_in(pt: &ProofType, block_ms: u64, seed_delay: i64) -> i64 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0);
    let idle_s = if pt.sector_size.bytes() <= 2048 {
        60.0
    } else {
        90.0
    };
    let budget_ms = idle_s * 1000.0 * (1.0 + load / cores);
    let epochs = (budget_ms / block_ms.max(1) as f64).ceil() as i64 + seed_delay + 20;
    epochs.max(100)
}

pub fn run(args: DemoArgs) -> Result<()> {
    crate::chain_cmd::runtime()?.block_on(demo(args))
}

async fn demo(args: DemoArgs) -> Result<()> {
    let (_tmp, dir) = crate::commands::demo_dir(&args.keep)?;
    let pt = ProofType::for_size(args.sector_size)?;
    // 1 s epochs: a WindowPoSt's budget (challenge 2 epochs before a 5-epoch window, to its
    // close) is then ~7 s against ~3 s measured for a 2 KiB WindowPoSt here; at 500 ms it was
    // ~3.5 s and every window could be missed.
    let block_ms = args.block_time_ms.unwrap_or(1000);
    let store = ParamsStore::new(ParamsStore::default_dir());
    println!("Strata demo: a devnet, a storage provider and a client in {} ({} sectors, {block_ms} ms epochs)", dir.display(), pt.sector_size);
    let kinds = [ProofKind::Porep, ProofKind::Winning, ProofKind::Window];
    let pt2 = pt;
    let s2 = store.clone();
    tokio::task::spawn_blocking(move || -> Result<()> {
        for kind in kinds {
            if strata_prover::snark::load_kind(&s2, kind, &pt2).is_err() {
                println!("  generating {} Groth16 parameters for {} (once per machine; the seal's take ~13 min on 2 cores)", kind.as_str(), pt2.sector_size);
            }
            strata_prover::snark::load_or_generate_kind(&s2, kind, &pt2)?;
        }
        Ok(())
    })
    .await??;

    // The chain.
    let mut genesis = Genesis::preset("devnet")?;
    genesis.constants.block_time_ms = block_ms;
    let c = genesis.constants.clone();
    let chain = Arc::new(
        Chain::open(
            &dir.join("chain"),
            genesis,
            Box::new(SnarkVerifier::new(store.clone())),
            false,
        )
        .map_err(e)?,
    );
    let timer = spawn_epoch_timer(chain.clone(), block_ms);
    let faucet = devnet_faucet();
    // Enough for the deposit and pledge of a sector of this size (twice over), at least 100.
    let size = pt.sector_size.bytes() as u128;
    let circulating = chain.network().await.map_err(e)?.supply.total();
    let need = strata_chain::economics::precommit_deposit(&c, 0, 0, 10 * size).0
        + strata_chain::economics::initial_pledge(&c, 0, 0, circulating, size).0;
    let funding =
        Token((2 * need).max(Token::whole(100).0) / Token::whole(1).0 * Token::whole(1).0);
    let owner = KeyPair::generate().map_err(|e| anyhow!("{e}"))?;
    let client = KeyPair::generate().map_err(|e| anyhow!("{e}"))?;
    send(
        &*chain,
        &faucet,
        Method::Transfer {
            to: owner.address(),
            amount: Token(funding.0 + Token::whole(100).0),
        },
        false,
    )
    .await?;
    send(
        &*chain,
        &faucet,
        Method::Transfer {
            to: client.address(),
            amount: Token::whole(100),
        },
        false,
    )
    .await?;

    // The provider: a miner on chain, its daemon on a local port.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let id = send(
        &*chain,
        &owner,
        Method::CreateMiner {
            worker: owner.address(),
            proof_type: pt.id,
            deal_endpoint: format!("http://{addr}"),
        },
        false,
    )
    .await?;
    let miner = chain.receipt(id).await.map_err(e)?.result["miner"]
        .as_u64()
        .context("no miner id")?;
    send(
        &*chain,
        &owner,
        Method::AddMinerBalance {
            miner,
            amount: funding,
        },
        false,
    )
    .await?;
    send(
        &*chain,
        &owner,
        Method::AddEscrow {
            to: EscrowHolder::Miner(miner),
            amount: Token::whole(10),
        },
        false,
    )
    .await?;
    let home = dir.join("miner");
    let config = ProviderConfig {
        miner,
        owner: owner.address(),
        worker: owner.address(),
        worker_key: "demo".into(),
        keystore: dir.join("keystore.json"),
        rpc: "in-process".into(),
        listen: addr,
        proof_type: pt.id,
        min_price_per_epoch: Token(1),
        min_start_delay: 60,
        max_parallel_jobs: 1,
        winning_min_interval: 40,
        params_dir: Some(store.dir().to_path_buf()),
        parent_cache: None,
    };
    config.save(&home)?;
    let provider = Provider::open(
        &home,
        config,
        chain.clone() as Arc<dyn ChainApi>,
        KeyPair::from_secret(&owner.secret()),
    )
    .await?;
    let daemon = tokio::spawn(provider.clone().run(listener));
    let mut d = Demo {
        chain: chain.clone(),
        provider: provider.clone(),
        miner,
        started: Instant::now(),
        checks: vec![],
        log_seen: 0,
    };
    d.say(&format!("devnet up: proving period {} epochs, {} deadlines of {}; miner m{miner} created, its deal endpoint http://{addr}", c.proving_period, c.deadlines, c.deadline_window));
    d.collateral().await?;

    // The client's deal.
    let sample = dir.join("sample.txt");
    let text: String = (0..40)
        .map(|i| format!("line {i}: the quick brown fox stores its data with strata\n"))
        .collect();
    let limit = (pt.sector_size.bytes() / 128 * 127) as usize;
    std::fs::write(&sample, &text.as_bytes()[..text.len().min(limit)])?;
    let deal = make_deal(
        &*chain,
        &client,
        DealRequest {
            file: &sample,
            miner,
            price_per_epoch: Token(Token::whole(1).0 / 1000),
            duration: None,
            start_in: deal_start_in(&pt, block_ms, c.seed_delay),
            provider_collateral: Some(Token::whole(1)),
            verified: false,
        },
    )
    .await?;
    d.ok(&format!("client deal {} published: {} B piece {}…, epochs {}..{}, 0.001 per epoch, provider collateral 1", deal.id, deal.proposal.piece_size, &hex::encode(deal.proposal.piece_cid)[..16], deal.proposal.start_epoch, deal.proposal.end_epoch));

    // Sealing → pre-commit → seed → seal proof → prove-commit.
    d.until("pre-commit", 120, |ch, _| async move {
        ch.sector(miner, 1).await.is_ok()
    })
    .await?;
    let s = chain.sector(miner, 1).await.map_err(e)?;
    d.ok(&format!(
        "sector 1 sealed and pre-committed: CommR {}…, deposit {} locked, seed at epoch {}",
        &hex::encode(s.comm_r)[..16],
        s.precommit_deposit,
        s.seed_epoch
    ));
    d.collateral().await?;
    d.until("prove-commit", 600, |ch, _| async move {
        ch.sector(miner, 1)
            .await
            .is_ok_and(|s| s.status == SectorStatus::Active)
    })
    .await?;
    let s = chain.sector(miner, 1).await.map_err(e)?;
    d.ok(&format!(
        "seal proof verified on chain: sector 1 active, pledge {} locked, deadline {:?}",
        s.initial_pledge,
        s.location.map(|l| l.0)
    ));
    d.collateral().await?;

    // WindowPoSt deadlines, a block reward, deal payments.
    d.until("two WindowPoSts", 600, |_, p| async move {
        p.metrics.posts_submitted.load(Relaxed) >= 2
    })
    .await?;
    d.ok("two WindowPoSt deadlines proven with Groth16 proofs");
    d.until("a block reward", 300, |ch, _| async move {
        ch.miner(miner).await.is_ok_and(|m| m.blocks_won >= 1)
    })
    .await?;
    d.ok("WinningPoSt submitted in time: block reward minted (25% available, 75% vesting)");
    let did = deal.id;
    d.until("a deal payment", 600, |ch, _| async move {
        ch.deal(did)
            .await
            .is_ok_and(|x| x.status == DealStatus::Active && x.paid > Token::ZERO)
    })
    .await?;
    d.ok(&format!(
        "deal {did} active and paying: {} so far",
        chain.deal(did).await.map_err(e)?.paid
    ));
    d.collateral().await?;

    // A fault: the sealed replica disappears.
    let sealed = strata_sealer::SectorPaths::new(&provider.sector_dir(1)).sealed();
    let aside = sealed.with_extension("moved-away");
    std::fs::rename(&sealed, &aside)?;
    d.say("the sector's sealed file is moved away (a failed disk)");
    d.until("fault detected", 600, |ch, _| async move {
        ch.sector(miner, 1)
            .await
            .is_ok_and(|s| s.status == SectorStatus::Faulty)
    })
    .await?;
    d.ok("sector 1 faulty on chain: power removed");
    let fee = |ch: Arc<Chain>| async move {
        ch.events(EventFilter {
            who: Some(format!("m{miner}")),
            ..Default::default()
        })
        .await
        .map(|ev| {
            ev.into_iter()
                .filter(|x| x.why.starts_with("fault_fee"))
                .map(|x| x.amount.0)
                .sum::<u128>()
        })
        .unwrap_or(0)
    };
    d.until(
        "fault fee",
        600,
        move |ch, _| async move { fee(ch).await > 0 },
    )
    .await?;
    d.ok(&format!(
        "fault fee charged: {}",
        Token(fee(chain.clone()).await)
    ));
    d.collateral().await?;
    std::fs::rename(&aside, &sealed)?;
    d.say("the file is back");
    d.until("recovery", 600, |ch, _| async move {
        ch.sector(miner, 1)
            .await
            .is_ok_and(|s| s.status == SectorStatus::Active)
    })
    .await?;
    d.ok("recovery declared and proven: sector 1 active again");
    d.collateral().await?;

    // Retrieval and the audit.
    let back = dir.join("retrieved.txt");
    let n = retrieve(&*chain, did, &back).await?;
    if std::fs::read(&back)? != std::fs::read(&sample)? {
        bail!("retrieved data differs from the sample");
    }
    d.ok(&format!(
        "retrieved deal {did}: {n} bytes, CommP checked, identical to the sample"
    ));
    let proofs = chain.proofs(miner).await.map_err(e)?;
    let s3 = store.clone();
    let p2 = proofs.clone();
    let mut report = tokio::task::spawn_blocking(move || audit(&p2, miner, &s3)).await?;
    crate::client_cmd::audit_randomness(&*chain, &proofs, &mut report).await;
    if !report.invalid.is_empty() {
        bail!("audit found invalid proofs: {:?}", report.invalid);
    }
    d.ok(&format!(
        "audit: {} proofs re-verified offline ({} seal, {} WindowPoSt, {} WinningPoSt), all valid; the randomness of {} re-derived from verified beacon entries",
        report.seal + report.window + report.winning,
        report.seal,
        report.window,
        report.winning,
        report.beacon_checked
    ));
    let net = chain.network().await.map_err(e)?;
    d.say(&format!(
        "supply {} = genesis {} + minted {} − burnt {} (checked every epoch)",
        net.supply.total(),
        net.supply.genesis,
        net.supply.minted,
        net.supply.burnt
    ));
    daemon.abort();
    timer.abort();
    provider.idle().await;
    println!(
        "demo passed: {} checks in {:.0} s",
        d.checks.len(),
        d.started.elapsed().as_secs_f64()
    );
    Ok(())
}
