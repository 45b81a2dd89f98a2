//! The provider end to end at 2 KiB, in process: a devnet (manual epochs, real Groth16
//! verification), the provider's endpoint on a local port, a client uploading a deal. Epochs are
//! stepped one at a time with the provider's two loops run in between, so the test is
//! deterministic on a loaded machine.

use std::path::Path;
use std::sync::Arc;
use strata_chain::config::devnet_faucet;
use strata_chain::{Chain, SnarkVerifier};
use strata_chain_client::types::{DealProposal, EscrowHolder, Method};
use strata_chain_client::views::{DealStatus, SectorStatus};
use strata_chain_client::{ChainApi, KeyPair, Token};
use strata_provider::db::Step;
use strata_provider::Provider;

mod common;
use common::{block_on, params, send};

struct World {
    chain: Arc<Chain>,
    provider: Arc<Provider>,
    url: String,
    client: KeyPair,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    _db: Option<strata_provider::pg_server::TestDb>,
}

impl World {
    /// A world whose provider keeps its state in SQLite, or in a fresh PostgreSQL database.
    async fn new(postgres: bool) -> World {
        let db = postgres.then(|| {
            strata_provider::pg_server::test_database("e2e")
                .expect("a PostgreSQL server ($STRATA_TEST_PG, or initdb on PATH)")
        });
        let store = params();
        let chain_dir = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        let chain = Arc::new(
            Chain::open(
                chain_dir.path(),
                common::genesis(),
                Box::new(SnarkVerifier::new(store.clone())),
                true,
            )
            .unwrap(),
        );
        let faucet = devnet_faucet();
        let owner = KeyPair::from_secret(&[1; 32]);
        let client = KeyPair::from_secret(&[2; 32]);
        for k in [&owner, &client] {
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
        common::create_miner(&chain, &owner, 1000, "").await;
        send(
            &chain,
            &client,
            Method::AddEscrow {
                to: EscrowHolder::Account(client.address()),
                amount: Token::whole(100),
            },
        )
        .await;
        chain.step(1).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = common::config(1000, &owner, home.path(), addr, &store, false);
        config.db = db.as_ref().map(|d| d.url.clone());
        let provider = common::start(&chain, home.path(), config, owner, listener).await;
        World {
            chain,
            provider,
            url: format!("http://{addr}"),
            client,
            _dirs: (chain_dir, home),
            _db: db,
        }
    }

    /// One epoch, then both provider loops until their work is done.
    async fn epoch(&self) {
        self.chain.step(1).unwrap();
        self.provider.pipeline_tick().await;
        self.provider.idle().await;
        self.provider.scheduler_tick().await;
        self.provider.idle().await;
    }

    async fn until(&self, what: &str, max: u32, mut done: impl FnMut(&World) -> bool) {
        for _ in 0..max {
            if done(self) {
                return;
            }
            self.epoch().await;
        }
        let ev = self
            .chain
            .events(strata_chain_client::views::EventFilter {
                who: Some("m1000".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        panic!(
            "{what}: not reached in {max} epochs at {}; log: {:#?}\nsectors {:#?}\nevents {:#?}",
            self.chain.head_now().epoch,
            self.provider.db.recent_log(30).unwrap(),
            self.chain.sectors(1000).await.unwrap(),
            ev.iter().rev().take(15).collect::<Vec<_>>()
        );
    }

    async fn upload(&self, data: &[u8], start_in: i64, tamper: bool) -> reqwest::Response {
        let info = strata_sealer::comm_p(data, data.len() as u64).unwrap();
        let head = self.chain.head_now().epoch;
        let p = DealProposal {
            network: self.chain.genesis().network.clone(),
            piece_cid: info.comm_p,
            piece_size: info.padded_size,
            client: self.client.address(),
            provider: 1000,
            start_epoch: head + start_in,
            end_epoch: head + start_in + 150,
            price_per_epoch: Token(Token::whole(1).0 / 1000),
            provider_collateral: Token::whole(1),
            client_collateral: Token::ZERO,
            verified: false,
            label: "e2e".into(),
        }
        .sign(&self.client)
        .unwrap();
        let mut body = data.to_vec();
        if tamper {
            body[0] ^= 1;
        }
        reqwest::Client::new()
            .post(format!("{}/deals", self.url))
            .header(
                strata_provider::server::PROPOSAL_HEADER,
                serde_json::to_string(&p).unwrap(),
            )
            .body(body)
            .send()
            .await
            .unwrap()
    }
}

fn sealed_file(home: &Path, n: u64) -> std::path::PathBuf {
    strata_sealer::SectorPaths::new(&home.join("sectors").join(format!("sector-{n}"))).sealed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deal_to_proven_deadlines_payment_fault_and_recovery() {
    end_to_end(false).await
}

/// The same test with the provider's state in PostgreSQL (`$STRATA_TEST_PG`, which `.ci/run`
/// sets, or a private server started from the Debian `postgresql` package's binaries).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deal_to_proven_deadlines_payment_fault_and_recovery_on_postgres() {
    end_to_end(true).await
}

async fn end_to_end(postgres: bool) {
    let w = World::new(postgres).await;
    let data: Vec<u8> = (0..1500u32).map(|i| (i * 7 % 251) as u8).collect();

    // Bad uploads are refused and leave nothing behind.
    let r = w.upload(&data, 50, true).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("CommP mismatch"));
    // Too early a start is refused at intake, naming the earliest epoch the provider can meet;
    // its ask says the same, and one epoch before it is still refused.
    let head = w.chain.head_now().epoch;
    let ask: serde_json::Value = reqwest::get(format!("{}/ask", w.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let earliest = ask["earliest_start_epoch"].as_i64().unwrap();
    assert!(earliest > head + 5, "{ask}");
    let r = w.upload(&data, 5, false).await;
    assert_eq!(r.status(), 422);
    let text = r.text().await.unwrap();
    assert!(text.contains("too soon"), "{text}");
    let named: i64 = text
        .split("earliest acceptable start epoch is ")
        .nth(1)
        .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no earliest epoch in {text}"));
    assert_eq!(named, earliest, "{text}");
    let r = w.upload(&data, earliest - head - 1, false).await;
    assert!(r.text().await.unwrap().contains("too soon"));
    assert!(w.provider.db.deals().unwrap().is_empty());
    assert_eq!(
        std::fs::read_dir(w.provider.home.join("pieces"))
            .unwrap()
            .count(),
        0
    );

    // An upload cut off halfway: nothing published, nothing kept.
    {
        use tokio::io::AsyncWriteExt;
        let info = strata_sealer::comm_p(&data[..], data.len() as u64).unwrap();
        let p = DealProposal {
            network: w.chain.genesis().network.clone(),
            piece_cid: info.comm_p,
            piece_size: info.padded_size,
            client: w.client.address(),
            provider: 1000,
            start_epoch: w.chain.head_now().epoch + 50,
            end_epoch: w.chain.head_now().epoch + 200,
            price_per_epoch: Token(Token::whole(1).0 / 1000),
            provider_collateral: Token::ZERO,
            client_collateral: Token::ZERO,
            verified: false,
            label: String::new(),
        }
        .sign(&w.client)
        .unwrap();
        let mut s = tokio::net::TcpStream::connect(w.url.trim_start_matches("http://"))
            .await
            .unwrap();
        let head = format!(
            "POST /deals HTTP/1.1\r\nHost: x\r\n{}: {}\r\ncontent-length: {}\r\n\r\n",
            strata_provider::server::PROPOSAL_HEADER,
            serde_json::to_string(&p).unwrap(),
            data.len()
        );
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(&data[..700]).await.unwrap();
        s.flush().await.unwrap();
        drop(s);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert!(w.provider.db.deals().unwrap().is_empty());
        assert_eq!(
            std::fs::read_dir(w.provider.home.join("pieces"))
                .unwrap()
                .count(),
            0,
            "the partial upload was removed"
        );
        assert!(
            w.chain.deals().await.unwrap().is_empty(),
            "nothing published"
        );
    }

    let r = w.upload(&data, 50, false).await;
    assert!(r.status().is_success());
    let deal = r.json::<serde_json::Value>().await.unwrap()["deal_id"]
        .as_u64()
        .unwrap();
    assert_eq!(
        w.chain.deal(deal).await.unwrap().status,
        DealStatus::Published
    );

    // The pipeline carries the deal's sector through to active on chain.
    w.until("sector active", 40, |w| {
        block_on(w.chain.sector(1000, 1)).is_ok_and(|s| s.status == SectorStatus::Active)
    })
    .await;
    w.epoch().await;
    assert_eq!(w.provider.db.sector(1).unwrap().unwrap().step, Step::Active);
    assert_eq!(w.chain.deal(deal).await.unwrap().status, DealStatus::Active);

    // A committed-capacity sector (`strata miner pledge`): zeros, no deals.
    let cc = w.provider.db.next_sector_number().unwrap();
    w.provider.db.new_sector(cc, &[]).unwrap();

    // Several proven deadlines and a payment; the CC sector active too.
    use std::sync::atomic::Ordering::Relaxed;
    w.until("three posts, a payment, the CC sector", 300, |w| {
        w.provider.metrics.posts_submitted.load(Relaxed) >= 3
            && block_on(w.chain.deal(deal)).unwrap().paid > Token::ZERO
            && block_on(w.chain.sector(1000, cc)).is_ok_and(|s| s.status == SectorStatus::Active)
    })
    .await;
    assert!(block_on(w.chain.sector(1000, cc)).unwrap().deals.is_empty());
    assert_eq!(w.provider.metrics.posts_missed.load(Relaxed), 0);
    assert!(
        w.provider.metrics.winning_submitted.load(Relaxed) >= 1,
        "the only miner answers WinningPoSt"
    );
    assert!(w.chain.miner(1000).await.unwrap().blocks_won >= 1);

    // Fault: the sealed file disappears; the provider declares or skips it, the chain charges the
    // fee once it stays faulty; the file comes back and the provider recovers it.
    let sealed = sealed_file(&w.provider.home, 1);
    let aside = sealed.with_extension("aside");
    std::fs::rename(&sealed, &aside).unwrap();
    w.until("sector faulty", 100, |w| {
        block_on(w.chain.sector(1000, 1)).unwrap().status == SectorStatus::Faulty
    })
    .await;
    let fees = |w: &World| {
        block_on(w.chain.events(strata_chain_client::views::EventFilter {
            who: Some("m1000".into()),
            ..Default::default()
        }))
        .unwrap()
        .into_iter()
        .filter(|e| e.why.starts_with("fault_fee"))
        .count()
    };
    w.until("fault fee", 150, |w| fees(w) >= 1).await;
    std::fs::rename(&aside, &sealed).unwrap();
    w.until("recovered", 150, |w| {
        block_on(w.chain.sector(1000, 1)).unwrap().status == SectorStatus::Active
    })
    .await;
    let log = w.provider.db.recent_log(200).unwrap();
    assert!(
        log.iter().any(|l| l.kind == "recovery_declared"),
        "{log:#?}"
    );
    assert!(
        log.iter()
            .any(|l| l.kind == "fault_declared" || l.kind == "post_skipped"),
        "{log:#?}"
    );

    // Retrieval: the unsealed copy, then (copy removed) unsealed from the sector.
    for _ in 0..2 {
        let got = reqwest::get(format!("{}/deals/{deal}/data", w.url))
            .await
            .unwrap();
        assert!(got.status().is_success());
        assert_eq!(got.bytes().await.unwrap().to_vec(), data);
        let _ = std::fs::remove_file(w.provider.piece_path(deal));
    }
    let metrics = reqwest::get(format!("{}/metrics", w.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("strata_posts_submitted_total"));
    // Both sectors were sealed and proven as tasks this daemon claimed, and it leads.
    for kind in ["seal", "seal_proof"] {
        assert!(
            metrics.contains(&format!("strata_tasks{{kind=\"{kind}\",state=\"done\"}} 2")),
            "{metrics}"
        );
    }
    assert!(
        metrics.contains("strata_machines{state=\"alive\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("\nstrata_leader 1\n"), "{metrics}");
    assert!(
        metrics.contains("strata_sectors{state=\"active\"} 2"),
        "{metrics} {:#?}",
        w.provider.db.sectors().unwrap()
    );
}
