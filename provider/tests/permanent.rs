//! Permanent storage through three providers at 2 KiB, in process (real Groth16): a client pays
//! once for two replicas and uploads to m1000 and m1001; both seal and are paid from the
//! endowment each period they prove; m1000 terminates its sector, the slot is re-offered, and
//! m1002 (`accept_repairs`) fetches the piece from m1001's retrieval endpoint, checks it, seals
//! it and is paid from then on, while m1000 is paid nothing more. Wins carry recall proofs.
//! Epochs are stepped by the test with every provider's loops run to completion in between, so
//! nothing depends on the machine's speed.

use std::sync::Arc;
use strata_chain::config::devnet_faucet;
use strata_chain::{Chain, SnarkVerifier};
use strata_chain_client::permanent::{miner_summary, ReplicaStatus};
use strata_chain_client::types::{Method, MinerId};
use strata_chain_client::views::{DealStatus, EventFilter, SectorStatus};
use strata_chain_client::{ChainApi, KeyPair, Token};
use strata_provider::Provider;

mod common;
use common::{block_on, send};

struct Node {
    provider: Arc<Provider>,
    owner: KeyPair,
    url: String,
    _home: tempfile::TempDir,
}

struct World {
    chain: Arc<Chain>,
    nodes: Vec<Node>,
    client: KeyPair,
    started: std::time::Instant,
    _dir: tempfile::TempDir,
}

impl World {
    async fn new() -> World {
        let store = common::params();
        let dir = tempfile::tempdir().unwrap();
        let chain = Arc::new(
            Chain::open(
                dir.path(),
                common::genesis(),
                Box::new(SnarkVerifier::new(store.clone())),
                true,
            )
            .unwrap(),
        );
        let faucet = devnet_faucet();
        let client = KeyPair::from_secret(&[2; 32]);
        let owners: Vec<KeyPair> = (0..3u8)
            .map(|i| KeyPair::from_secret(&[10 + i; 32]))
            .collect();
        for k in owners.iter().chain([&client]) {
            send(
                &chain,
                &faucet,
                Method::Transfer {
                    to: k.address(),
                    amount: Token::whole(1000),
                },
            )
            .await;
        }
        chain.step(1).unwrap();
        let mut nodes = Vec::new();
        for (i, owner) in owners.into_iter().enumerate() {
            let id = 1000 + i as MinerId;
            let home = tempfile::tempdir().unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let url = format!("http://{addr}");
            common::create_miner(&chain, &owner, id, &url).await;
            // Only the third repairs: the first two take replicas from the client.
            let config = common::config(id, &owner, home.path(), addr, &store, i == 2);
            let provider =
                common::start(&chain, home.path(), config, owner.clone(), listener).await;
            nodes.push(Node {
                provider,
                owner,
                url,
                _home: home,
            });
        }
        World {
            chain,
            nodes,
            client,
            started: std::time::Instant::now(),
            _dir: dir,
        }
    }

    /// One epoch, then every provider's loops until their work is done.
    async fn epoch(&self) {
        self.chain.step(1).unwrap();
        for n in &self.nodes {
            n.provider.pipeline_tick().await;
            n.provider.idle().await;
            n.provider.scheduler_tick().await;
            n.provider.idle().await;
        }
    }

    async fn until(&self, what: &str, max: u32, mut done: impl FnMut(&World) -> bool) {
        for _ in 0..max {
            if done(self) {
                eprintln!(
                    "[{:>6.1}s epoch {}] {what}",
                    self.started.elapsed().as_secs_f64(),
                    self.chain.head_now().epoch
                );
                return;
            }
            self.epoch().await;
        }
        let logs: Vec<_> = self
            .nodes
            .iter()
            .map(|n| n.provider.db.recent_log(20).unwrap())
            .collect();
        panic!(
            "{what}: not reached in {max} epochs at {}; pieces {:#?}\nlogs {logs:#?}",
            self.chain.head_now().epoch,
            block_on(self.chain.permanent_pieces()).unwrap(),
        );
    }

    fn income(&self, miner: MinerId) -> Token {
        block_on(miner_summary(self.chain.as_ref(), miner))
            .unwrap()
            .endowment_income
    }

    fn active(&self, miner: MinerId, sector: u64) -> bool {
        block_on(self.chain.sector(miner, sector)).is_ok_and(|s| s.status == SectorStatus::Active)
    }

    /// Checks that every win so far carried a valid recall proof of `piece` (except `gone`'s
    /// submitted from that epoch on: a miner that no longer holds the piece has none to show, and
    /// is paid without the recall share); returns the wins checked.
    async fn recalls(&self, piece: u64, gone: Option<(MinerId, i64)>) -> usize {
        let w = self;
        let mut wins = 0;
        for m in [1000, 1001, 1002] {
            for rec in w.chain.proofs(m).await.unwrap() {
                let exempt = gone.is_some_and(|(g, e)| g == m && rec.epoch >= e);
                if rec.what.starts_with("winning") && !exempt {
                    wins += 1;
                    let r = rec.recall.as_ref().unwrap_or_else(|| {
                        panic!(
                            "{} without a recall proof; m{m}'s log: {:#?}",
                            rec.what,
                            w.nodes[(m - 1000) as usize]
                                .provider
                                .db
                                .recent_log(400)
                                .unwrap()
                                .into_iter()
                                .filter(|l| l.kind.contains("winning") || l.kind.contains("recall"))
                                .collect::<Vec<_>>()
                        )
                    });
                    r.verify().unwrap();
                    assert_eq!(r.target.piece, piece);
                }
            }
        }
        wins
    }

    async fn upload(&self, node: usize, piece: u64, data: &[u8]) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}/permanent/{piece}", self.nodes[node].url))
            .body(data.to_vec())
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_paid_terminated_repaired_and_recalled() {
    let w = World::new().await;
    let data: Vec<u8> = (0..2000u32).map(|i| (i * 13 % 251) as u8).collect();
    let info = strata_sealer::comm_p(&data[..], data.len() as u64).unwrap();
    let quote = w.chain.permanent_quote(info.padded_size, 2).await.unwrap();
    send(
        &w.chain,
        &w.client,
        Method::StorePermanent {
            piece_cid: info.comm_p,
            piece_size: info.padded_size,
            replicas: 2,
            max_fee: quote.total,
        },
    )
    .await;
    w.chain.step(1).unwrap();
    let piece = w.chain.permanent_pieces().await.unwrap()[0].id;

    // An unknown piece, and more bytes than the piece can hold, are refused before any claim.
    let r = w.upload(0, piece + 1, &data).await;
    assert_eq!(r.status(), 404);
    let r = w.upload(0, piece, &vec![1u8; 2100]).await;
    assert_eq!(r.status(), 413);
    // Bytes that are not the piece are refused and leave no claim behind.
    let mut bad = data.clone();
    bad[7] ^= 1;
    let r = w.upload(0, piece, &bad).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("CommP mismatch"));
    // The real bytes: m1000 and m1001 each claim a slot; a second upload to m1000 is refused.
    let mut deals = Vec::new();
    for node in [0, 1] {
        let r = w.upload(node, piece, &data).await;
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        deals.push(
            r.json::<serde_json::Value>().await.unwrap()["deal_id"]
                .as_u64()
                .unwrap(),
        );
    }
    let r = w.upload(0, piece, &data).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("already stores"));
    // Nothing of the refused uploads is left in the pieces directory (only the two claims').
    let left: Vec<_> = std::fs::read_dir(w.nodes[0].provider.home.join("pieces"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    let p = w.chain.permanent_piece(piece).await.unwrap();
    assert!(p
        .replicas
        .iter()
        .all(|r| r.status == ReplicaStatus::Claimed));

    // Both seal; both are paid each period they prove; m1002 has nothing to repair.
    w.until("both replicas held and paid", 400, |w| {
        w.income(1000) > Token::ZERO && w.income(1001) > Token::ZERO
    })
    .await;
    for (i, d) in deals.iter().enumerate() {
        let deal = w.chain.deal(*d).await.unwrap();
        assert_eq!(deal.status, DealStatus::Active);
        assert_eq!(deal.proposal.provider, 1000 + i as MinerId);
    }
    let s = miner_summary(w.chain.as_ref(), 1000).await.unwrap();
    assert_eq!((s.replicas_held, s.bytes_held), (1, info.padded_size));
    assert_eq!(s.upfront_income, Token(quote.upfront.0 / 2));
    assert!(w.nodes[2].provider.db.deals().unwrap().is_empty());
    w.recalls(piece, None).await;

    // m1000 terminates the sector holding its replica.
    let sector = w.chain.deal(deals[0]).await.unwrap().sector.unwrap();
    let terminated = w.chain.head_now().epoch;
    send(
        &w.chain,
        &w.nodes[0].owner,
        Method::TerminateSectors {
            miner: 1000,
            sectors: vec![sector],
        },
    )
    .await;
    w.epoch().await;
    let paid_before = w.income(1000);
    assert_eq!(
        w.chain.sector(1000, sector).await.unwrap().status,
        SectorStatus::Terminated
    );

    // m1002 repairs: fetched from m1001, claimed, sealed, proven, paid.
    w.until("m1002 holds the repaired replica and is paid", 500, |w| {
        w.income(1002) > Token::ZERO
    })
    .await;
    let p = w.chain.permanent_piece(piece).await.unwrap();
    let mut holders: Vec<MinerId> = p.holders().map(|(_, m)| m).collect();
    holders.sort();
    assert_eq!(holders, vec![1001, 1002]);
    assert_eq!(p.replicas.iter().map(|r| r.reoffered).sum::<u64>(), 1);
    let log = w.nodes[2].provider.db.recent_log(200).unwrap();
    assert!(log.iter().any(|l| l.kind == "repair"), "{log:#?}");
    let repaired = w.nodes[2].provider.db.deals().unwrap();
    assert_eq!(repaired.len(), 1);
    assert!(w.active(1002, 1));
    // The repaired copy is the client's bytes, retrievable from m1002.
    let got = reqwest::get(format!("{}/deals/{}/data", w.nodes[2].url, repaired[0].id))
        .await
        .unwrap();
    assert_eq!(got.bytes().await.unwrap().to_vec(), data);
    // Its /metrics show the replica held and the endowment's income.
    let metrics = reqwest::get(format!("{}/metrics", w.nodes[2].url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("strata_permanent_replicas{state=\"held\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("strata_permanent_bytes 2048"), "{metrics}");
    assert!(
        !metrics.contains("strata_permanent_income_tokens{kind=\"endowment\"} 0\n"),
        "{metrics}"
    );
    // Its console's overview says the same as the chain's summary (folded incrementally: read
    // it twice, the second time only the blocks since the first).
    for _ in 0..2 {
        let o: serde_json::Value = reqwest::get(format!("{}/api/overview", w.nodes[2].url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let s = miner_summary(w.chain.as_ref(), 1002).await.unwrap();
        assert_eq!(o["permanent"], serde_json::to_value(&s).unwrap(), "{o}");
        w.epoch().await;
    }

    // One more period: the survivors keep being paid, the terminated holder is paid nothing.
    let (a, b) = (w.income(1001), w.income(1002));
    let period = w.chain.genesis().constants.proving_period as u32;
    w.until("another payout to each holder", period + 5, |w| {
        w.income(1001) > a && w.income(1002) > b
    })
    .await;
    assert_eq!(
        w.income(1000),
        paid_before,
        "a terminated replica is not paid"
    );
    let payouts_after_end = w
        .chain
        .events(EventFilter {
            who: Some("m1000".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| {
            e.why
                .contains(&format!("endowment_payout deal {}", deals[0]))
        })
        .count();
    assert!(payouts_after_end >= 1);

    // Every win carried a recall proof (every miner's power is a sector holding the only
    // permanent piece), which an auditor re-checks from the record alone.
    assert!(
        w.recalls(piece, Some((1000, terminated))).await >= 1,
        "the holders won blocks"
    );
}
