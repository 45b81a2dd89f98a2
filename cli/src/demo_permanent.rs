//! `strata demo --permanent`: permanent storage on one machine. An embedded devnet and two
//! providers; a client pays once for two replicas of a file; both providers seal it, the
//! endowment pays each of them every proving period they prove it, and a block winner shows a
//! recall proof of the weave, which the audit re-checks. Every outcome is checked.

use crate::chain_cmd::send;
use crate::client_cmd::{audit, audit_randomness};
use crate::commands::DemoArgs;
use crate::demo::{start_devnet, start_provider, DemoProvider};
use crate::permanent_cmd::{show_endowment, store_permanent};
use anyhow::{anyhow, bail, Result};
use std::time::{Duration, Instant};
use strata_chain::config::devnet_faucet;
use strata_chain::Chain;
use strata_chain_client::permanent::{miner_summary, ReplicaStatus};
use strata_chain_client::types::{Method, MinerId};
use strata_chain_client::{ChainApi, KeyPair, Token};
use strata_params::ProofType;

fn e(e: strata_chain_client::ChainError) -> anyhow::Error {
    anyhow!("{e}")
}

struct Narrator<'a> {
    chain: &'a Chain,
    started: Instant,
    checks: usize,
}

impl Narrator<'_> {
    fn say(&self, msg: &str) {
        println!(
            "[{:>5.1}s epoch {:>4}] {msg}",
            self.started.elapsed().as_secs_f64(),
            self.chain.head_now().epoch
        );
    }

    fn ok(&mut self, what: &str) {
        self.say(&format!("✓ {what}"));
        self.checks += 1;
    }

    /// Polls `cond` (every 250 ms) until it yields a value, at most `secs`.
    async fn until<T, F, Fut>(&self, what: &str, secs: u64, mut cond: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let t = Instant::now();
        loop {
            if let Some(v) = cond().await {
                return Ok(v);
            }
            if t.elapsed() > Duration::from_secs(secs) {
                bail!("{what}: not reached within {secs} s");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

pub fn run(args: DemoArgs) -> Result<()> {
    crate::chain_cmd::runtime()?.block_on(demo(args))
}

async fn demo(args: DemoArgs) -> Result<()> {
    let (_tmp, dir) = crate::commands::demo_dir(&args.keep)?;
    let pt = ProofType::for_size(args.sector_size)?;
    println!(
        "Strata permanent-storage demo: a devnet, two storage providers and a client in {} ({} sectors)",
        dir.display(),
        pt.sector_size
    );
    let net = start_devnet(&dir, pt, args.block_time_ms).await?;
    let chain = net.chain.clone();
    let client = KeyPair::generate().map_err(|e| anyhow!("{e}"))?;
    send(
        &*chain,
        &devnet_faucet(),
        Method::Transfer {
            to: client.address(),
            amount: Token::whole(100),
        },
        false,
    )
    .await?;
    let mut providers: Vec<DemoProvider> = Vec::new();
    for name in ["miner-a", "miner-b"] {
        providers.push(start_provider(&net, &dir.join(name), false).await?);
    }
    let miners: Vec<MinerId> = providers.iter().map(|p| p.miner).collect();
    let mut d = Narrator {
        chain: &chain,
        started: Instant::now(),
        checks: 0,
    };
    let p = &net.constants.permanent;
    d.say(&format!(
        "devnet up: miners m{} and m{}; storage costs {} per byte-year, declining {}% a year; {}/{} of a permanent fee goes to the miners at activation",
        miners[0],
        miners[1],
        p.price_per_byte_year,
        p.kryder_rate_bps as f64 / 100.0,
        p.upfront_share.0,
        p.upfront_share.1
    ));

    // The client pays once and uploads to both.
    let sample = dir.join("archive.txt");
    let text: String = (0..30)
        .map(|i| format!("record {i}: kept for ever by the endowment\n"))
        .collect();
    let limit = (pt.sector_size.bytes() / 128 * 127) as usize;
    std::fs::write(&sample, &text.as_bytes()[..text.len().min(limit)])?;
    let r = store_permanent(&*chain, &client, &sample, 2, Some(miners.clone()), None).await?;
    if r.replicas.len() != 2 {
        bail!(
            "two replicas wanted, the providers took {:?} (refused: {:?})",
            r.replicas,
            r.refused
        );
    }
    let piece = r.piece;
    d.ok(&format!(
        "client paid {} once for 2 replicas of a {} B piece (CommP {}…): {} into the endowment, {} for the miners at activation; deals {} (m{}) and {} (m{})",
        r.quote.total,
        r.quote.piece_size,
        &r.piece_cid[..16],
        r.quote.endowment,
        r.quote.upfront,
        r.replicas[0].1,
        r.replicas[0].0,
        r.replicas[1].1,
        r.replicas[1].0
    ));

    // Both seal and prove-commit: the replicas are held, each miner paid its upfront share.
    let ch = chain.clone();
    let ms = miners.clone();
    let upfront = d
        .until("both replicas held", 1200, || {
            let (ch, ms) = (ch.clone(), ms.clone());
            async move {
                let p = ch.permanent_piece(piece).await.ok()?;
                p.replicas
                    .iter()
                    .all(|r| r.status == ReplicaStatus::Held)
                    .then_some(())?;
                let mut out = Vec::new();
                for m in ms {
                    let inc = miner_summary(&*ch, m).await.ok()?.upfront_income;
                    (inc > Token::ZERO).then_some(())?;
                    out.push(inc);
                }
                Some(out)
            }
        })
        .await?;
    d.ok(&format!(
        "both replicas sealed and proven on chain: m{} and m{} hold the piece; each was paid its upfront share ({} and {})",
        miners[0], miners[1], upfront[0], upfront[1]
    ));

    // The endowment pays each holder when its WindowPoSt proves the sector.
    let ch = chain.clone();
    let ms = miners.clone();
    let paid = d
        .until("an endowment payout to each holder", 600, || {
            let (ch, ms) = (ch.clone(), ms.clone());
            async move {
                let mut out = Vec::new();
                for m in ms {
                    let inc = miner_summary(&*ch, m).await.ok()?.endowment_income;
                    (inc > Token::ZERO).then_some(())?;
                    out.push(inc);
                }
                Some(out)
            }
        })
        .await?;
    d.ok(&format!(
        "endowment payouts for proven replicas: m{} {}, m{} {}",
        miners[0], paid[0], miners[1], paid[1]
    ));

    // A block winner proves access to a chunk of the weave drawn from the new beacon.
    let ch = chain.clone();
    let ms = miners.clone();
    let rec = d
        .until("a win with a recall proof", 600, || {
            let (ch, ms) = (ch.clone(), ms.clone());
            async move {
                for m in ms {
                    for p in ch.proofs(m).await.ok()? {
                        if let Some(r) = p.recall {
                            return Some((m, p.epoch, r));
                        }
                    }
                }
                None
            }
        })
        .await?;
    let (m, epoch, recall) = rec;
    recall
        .verify()
        .map_err(|e| anyhow!("the recorded recall proof does not verify: {e}"))?;
    d.ok(&format!(
        "m{m} won the block at epoch {epoch} with a recall proof: chunk {} ({} B) of piece {}, drawn at weave byte {}, hashed through the CommP to its sector's CommD — the recall share of the reward paid",
        recall.target.chunk, recall.target.chunk_bytes, recall.target.piece, recall.target.weave_offset
    ));

    // The auditor re-checks everything from the records.
    let mut checked = 0;
    for m in &miners {
        let proofs = chain.proofs(*m).await.map_err(e)?;
        let (s, p2, id) = (net.store.clone(), proofs.clone(), *m);
        let mut report = tokio::task::spawn_blocking(move || audit(&p2, id, &s)).await?;
        audit_randomness(&*chain, &proofs, &mut report).await;
        if !report.invalid.is_empty() {
            bail!("audit of m{m} found invalid proofs: {:?}", report.invalid);
        }
        checked += report.seal + report.window + report.winning;
    }
    d.ok(&format!(
        "audit: {checked} proofs of both miners re-verified offline, every draw (recall included) re-derived from verified beacon entries"
    ));
    let info = chain.endowment().await.map_err(e)?;
    for line in show_endowment(&info).lines() {
        d.say(&format!("  {line}"));
    }
    let net_info = chain.network().await.map_err(e)?;
    d.say(&format!(
        "supply {} = genesis {} + minted {} − burnt {} (the endowment pool inside it, checked every epoch)",
        net_info.supply.total(),
        net_info.supply.genesis,
        net_info.supply.minted,
        net_info.supply.burnt
    ));
    for p in &providers {
        p.daemon.abort();
    }
    net.timer.abort();
    for p in &providers {
        p.provider.idle().await;
    }
    println!(
        "demo passed: {} checks in {:.0} s",
        d.checks,
        d.started.elapsed().as_secs_f64()
    );
    Ok(())
}
