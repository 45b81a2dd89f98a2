//! `strata demo`: the whole life of a sector on one machine. An embedded devnet (epochs on a
//! timer), a provider daemon and a client run in a temporary directory; the demo narrates each
//! step with the chain epoch and the miner's collateral, and checks every outcome.

use crate::chain_cmd::{send, spawn_epoch_timer};
use crate::client_cmd::{audit, make_deal, retrieve, DealRequest};
use crate::commands::DemoArgs;
use anyhow::{anyhow, bail, Context, Result};
use std::future::Future;
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use strata_chain::config::{devnet_faucet, Genesis};
use strata_chain::{Chain, SnarkVerifier};
use strata_chain_client::types::{EscrowHolder, Method, MinerId};
use strata_chain_client::views::Constants;
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
                    | "budget_tight"
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

/// The epoch length for this machine as it is now: a scratch committed-capacity sector is
/// sealed and one WindowPoSt over it timed with warm parameters (as the daemon proves), and the
/// epoch is made long enough that a deadline's proving budget (challenge to the window's last
/// epoch, `lookback + window − 1` epochs) holds that time with the daemon's margin and a quarter
/// more — at least 1 s. On a busy machine the proof is slower and the epochs longer.
fn calibrate_block_ms(
    pt: &ProofType,
    store: &ParamsStore,
    budget_epochs: i64,
) -> Result<(u64, f64)> {
    use strata_prover::warm::{ParamSource, ParamsCache};
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("sector");
    let cfg = strata_sealer::SealConfig {
        proof_type: *pt,
        prover_id: 1,
        sector_number: 1,
        ticket: *blake3::hash(b"calibration ticket").as_bytes(),
        parent_cache_dir: tmp.path().join("parents"),
    };
    let len = pt.sector_size.bytes() / 128 * 127;
    use std::io::Read;
    strata_sealer::seal(
        &cfg,
        vec![strata_sealer::PieceSource {
            reader: Box::new(std::io::repeat(0).take(len)),
            len,
        }],
        &dir,
        &strata_sealer::NoProgress,
    )?;
    let warm = ParamsCache::new(store.clone());
    warm.params(ProofKind::Window, pt)?;
    let randomness = *blake3::hash(b"calibration randomness").as_bytes();
    let t = Instant::now();
    strata_prover::proof_file::prove_window(&[dir], &randomness, &warm)?;
    let secs = t.elapsed().as_secs_f64();
    let need = secs * strata_provider::budget::POST_MARGIN * 1.25 / budget_epochs.max(1) as f64;
    let ms = ((need * 10.0).ceil() as u64 * 100).max(1000);
    Ok((ms, secs))
}

pub fn run(args: DemoArgs) -> Result<()> {
    crate::chain_cmd::runtime()?.block_on(demo(args))
}

/// A devnet for a demo: the chain in `dir/chain` on a timer of calibrated epochs.
pub(crate) struct Devnet {
    pub chain: Arc<Chain>,
    pub constants: Constants,
    pub store: ParamsStore,
    pub pt: ProofType,
    pub timer: tokio::task::JoinHandle<()>,
}

/// Makes sure the parameters exist, calibrates the epoch to this machine (unless
/// `block_time_ms` is given) and starts the devnet.
pub(crate) async fn start_devnet(
    dir: &Path,
    pt: ProofType,
    block_time_ms: Option<u64>,
) -> Result<Devnet> {
    let store = ParamsStore::new(ParamsStore::default_dir());
    let kinds = [ProofKind::Window, ProofKind::Winning, ProofKind::Porep];
    let s2 = store.clone();
    tokio::task::spawn_blocking(move || crate::params_cmd::ensure(&s2, &pt, &kinds, false))
        .await??;
    let preset = Genesis::preset("devnet")?.constants;
    let budget_epochs = preset.challenge_lookback + preset.deadline_window - 1;
    let block_ms = match block_time_ms {
        Some(ms) => ms,
        None => {
            let s2 = store.clone();
            let (ms, secs) =
                tokio::task::spawn_blocking(move || calibrate_block_ms(&pt, &s2, budget_epochs))
                    .await??;
            println!("  a WindowPoSt takes {secs:.1} s on this machine now: {ms} ms epochs give a deadline {:.1} s to prove ({budget_epochs} epochs)", (ms as i64 * budget_epochs) as f64 / 1000.0);
            ms
        }
    };
    let mut genesis = Genesis::preset("devnet")?;
    genesis.constants.block_time_ms = block_ms;
    let constants = genesis.constants.clone();
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
    Ok(Devnet {
        chain,
        constants,
        store,
        pt,
        timer,
    })
}

/// A demo's provider: its miner on chain, its daemon running.
pub(crate) struct DemoProvider {
    pub provider: Arc<Provider>,
    pub miner: MinerId,
    pub url: String,
    pub daemon: tokio::task::JoinHandle<Result<(), strata_provider::ProviderError>>,
}

/// Funds a new owner from the faucet (enough for a sector's deposit and pledge twice over, at
/// least 100), creates its miner with a deal endpoint on a local port, and starts its daemon in
/// `home` (seal proofs in a child process of this binary, stopped while a PoSt is proven).
pub(crate) async fn start_provider(
    net: &Devnet,
    home: &Path,
    accept_repairs: bool,
) -> Result<DemoProvider> {
    let (chain, c, pt) = (&net.chain, &net.constants, net.pt);
    let faucet = devnet_faucet();
    let size = pt.sector_size.bytes() as u128;
    let circulating = chain.network().await.map_err(e)?.supply.total();
    let need = strata_chain::economics::precommit_deposit(c, 0, 0, 10 * size).0
        + strata_chain::economics::initial_pledge(c, 0, 0, circulating, size).0;
    let funding =
        Token((2 * need).max(Token::whole(100).0) / Token::whole(1).0 * Token::whole(1).0);
    let owner = KeyPair::generate().map_err(|e| anyhow!("{e}"))?;
    send(
        &**chain,
        &faucet,
        Method::Transfer {
            to: owner.address(),
            amount: Token(funding.0 + Token::whole(100).0),
        },
        false,
    )
    .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let url = format!("http://{addr}");
    let id = send(
        &**chain,
        &owner,
        Method::CreateMiner {
            worker: owner.address(),
            proof_type: pt.id,
            deal_endpoint: url.clone(),
        },
        false,
    )
    .await?;
    let miner = chain.receipt(id).await.map_err(e)?.result["miner"]
        .as_u64()
        .context("no miner id")?;
    send(
        &**chain,
        &owner,
        Method::AddMinerBalance {
            miner,
            amount: funding,
        },
        false,
    )
    .await?;
    send(
        &**chain,
        &owner,
        Method::AddEscrow {
            to: EscrowHolder::Miner(miner),
            amount: Token::whole(10),
        },
        false,
    )
    .await?;
    let config = ProviderConfig {
        miner,
        owner: owner.address(),
        worker: owner.address(),
        worker_key: "demo".into(),
        keystore: home.join("keystore.json"),
        rpc: "in-process".into(),
        listen: addr,
        proof_type: pt.id,
        min_price_per_epoch: Token(1),
        min_start_delay: 60,
        max_parallel_jobs: 1,
        winning_min_interval: 40,
        accept_repairs,
        proving_threads: strata_provider::config::default_proving_threads(),
        sealing_nice: strata_provider::config::default_sealing_nice(),
        params_dir: Some(net.store.dir().to_path_buf()),
        parent_cache: None,
        db: None,
        tasks: None,
        machine_name: None,
        dead_after_ms: strata_provider::config::default_dead_after_ms(),
        seal_batch: Default::default(),
        console_token: None,
        onboarding: Default::default(),
    };
    config.save(home)?;
    let provider = Provider::open_with(
        home,
        config,
        chain.clone() as Arc<dyn ChainApi>,
        KeyPair::from_secret(&owner.secret()),
        strata_provider::seal_prover::SealProver::Child(
            std::env::current_exe().context("locating the strata binary for seal proofs")?,
        ),
    )
    .await?;
    let daemon = tokio::spawn(provider.clone().run(listener));
    Ok(DemoProvider {
        provider,
        miner,
        url,
        daemon,
    })
}

async fn demo(args: DemoArgs) -> Result<()> {
    let (_tmp, dir) = crate::commands::demo_dir(&args.keep)?;
    let pt = ProofType::for_size(args.sector_size)?;
    println!(
        "Strata demo: a devnet, a storage provider and a client in {} ({} sectors)",
        dir.display(),
        pt.sector_size
    );
    let net = start_devnet(&dir, pt, args.block_time_ms).await?;
    let (chain, c, store) = (net.chain.clone(), net.constants.clone(), net.store.clone());
    let faucet = devnet_faucet();
    let client = KeyPair::generate().map_err(|e| anyhow!("{e}"))?;
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
    let DemoProvider {
        provider,
        miner,
        url,
        daemon,
    } = start_provider(&net, &dir.join("miner"), false).await?;
    let mut d = Demo {
        chain: chain.clone(),
        provider: provider.clone(),
        miner,
        started: Instant::now(),
        checks: vec![],
        log_seen: 0,
    };
    d.say(&format!("devnet up: proving period {} epochs, {} deadlines of {}; miner m{miner} created, its deal endpoint and read-only web console {url}/", c.proving_period, c.deadlines, c.deadline_window));
    d.collateral().await?;

    // The client's deal.
    let sample = dir.join("sample.txt");
    let text: String = (0..40)
        .map(|i| format!("line {i}: the quick brown fox stores its data with strata\n"))
        .collect();
    let limit = (pt.sector_size.bytes() / 128 * 127) as usize;
    std::fs::write(&sample, &text.as_bytes()[..text.len().min(limit)])?;
    // The start the provider itself says it can meet now (its measured or estimated sealing and
    // proving time on this machine as loaded), plus a few epochs for the upload.
    let head = chain.head_now().epoch;
    let earliest = provider
        .earliest_start_now(head)
        .await
        .map_err(|e| anyhow!(e))?;
    d.say(&format!(
        "the provider can start a deal at epoch {earliest} at the earliest (sealing gets {:.0}% of its cores now)",
        provider.cpu_share() * 100.0
    ));
    let start_in = earliest - head + 10;
    let deal = make_deal(
        &*chain,
        &client,
        DealRequest {
            file: &sample,
            miner,
            price_per_epoch: Token(Token::whole(1).0 / 1000),
            duration: None,
            start_in: Some(start_in),
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

    // A second sector, committed capacity, sealed and proven while the deadlines go on: its
    // seal-proof process is stopped whenever a PoSt is being proven.
    let cc = provider.db.next_sector_number()?;
    provider.db.new_sector(cc, &[])?;
    d.say(&format!("committed-capacity sector {cc} queued: it is sealed and its seal proof runs while the deadlines below are proven"));

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
    d.until("the committed-capacity sector", 900, |ch, _| async move {
        ch.sector(miner, cc)
            .await
            .is_ok_and(|s| s.status == SectorStatus::Active)
    })
    .await?;
    d.ok(&format!(
        "committed-capacity sector {cc} sealed and proven meanwhile (its seal-proof process was paused {} times for PoSt)",
        provider.gate.pauses()
    ));
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
    let supply = chain.network().await.map_err(e)?.supply;
    d.say(&format!(
        "supply {} = genesis {} + minted {} − burnt {} (checked every epoch)",
        supply.total(),
        supply.genesis,
        supply.minted,
        supply.burnt
    ));
    // Proving had priority throughout: every deadline with sectors was answered.
    let missed = provider.metrics.posts_missed.load(Relaxed);
    let window = provider.metrics.posts_submitted.load(Relaxed);
    if missed > 0 {
        bail!("{missed} WindowPoSt windows were missed (see the provider's post missed lines)");
    }
    let times = |t: strata_provider::metrics::Timed| {
        let v = provider.db.times(t.as_str()).unwrap_or_default();
        v.iter()
            .copied()
            .max()
            .map_or("-".to_string(), |m| format!("{:.1} s", m as f64 / 1000.0))
    };
    use strata_provider::metrics::Timed;
    d.ok(&format!(
        "no WindowPoSt window missed ({window} partitions proven); slowest WindowPoSt {}, WinningPoSt {}, seal {}, seal proof {} (the proof process was paused {} times for PoSt)",
        times(Timed::WindowPost),
        times(Timed::WinningPost),
        times(Timed::Seal),
        times(Timed::SealProof),
        provider.gate.pauses()
    ));
    for b in provider.budgets() {
        d.say(&format!("  {}", b.describe()));
    }
    daemon.abort();
    net.timer.abort();
    provider.idle().await;
    println!(
        "demo passed: {} checks in {:.0} s",
        d.checks.len(),
        d.started.elapsed().as_secs_f64()
    );
    Ok(())
}
