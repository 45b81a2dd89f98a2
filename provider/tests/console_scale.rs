//! The console at scale: a provider database seeded with 10,000 sectors, 100,000 decision-log
//! rows and 2,000 deals, every page and API resource fetched over HTTP. Each page must come back
//! complete (right row counts, last page reachable); how long each took is printed for
//! BENCHMARKS.md and never asserted (timing depends on the machine and its load).
//!
//! `cargo test --release -p strata-provider --test console_scale -- --nocapture` shows the table.

use std::sync::Arc;
use std::time::Instant;
use strata_chain::config::devnet_faucet;
use strata_chain::{Chain, SnarkVerifier};
use strata_chain_client::types::{DealProposal, Method};
use strata_chain_client::{KeyPair, Token};
use strata_provider::db::{Db, V};

mod common;
use common::{params, send};

const SECTORS: u64 = 10_000;
const LOG_ROWS: u64 = 100_000;
const DEALS: u64 = 2_000;

fn seed(db: &Db, client: &KeyPair) {
    let proposal = DealProposal {
        network: "devnet".into(),
        piece_cid: [7; 32],
        piece_size: 2048,
        client: client.address(),
        provider: 1000,
        start_epoch: 100,
        end_epoch: 400,
        price_per_epoch: Token(1000),
        provider_collateral: Token::whole(1),
        client_collateral: Token::ZERO,
        verified: false,
        label: "scale".into(),
    }
    .sign(client)
    .unwrap();
    let proposal = serde_json::to_string(&proposal).unwrap();
    let steps = strata_provider::db::Step::ALL;
    db.engine
        .tx(move |t| {
            for n in 1..=SECTORS {
                let step = steps[(n % steps.len() as u64) as usize];
                t.exec(
                    "INSERT INTO sectors (number, step, deals, attempts, retry_at, error) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    &[
                        V::i(n),
                        V::t(step.as_str()),
                        V::t(if n <= DEALS { format!("[{n}]") } else { "[]".into() }),
                        V::i(n % 3),
                        V::i(n % 7),
                        V::T((n % 50 == 0).then(|| format!("seal failed on try {}", n % 3))),
                    ],
                )?;
            }
            for id in 1..=DEALS {
                t.exec(
                    "INSERT INTO deals (id, proposal, raw_len, sector) VALUES ($1, $2, 2032, $1)",
                    &[V::i(id), V::t(&proposal)],
                )?;
            }
            let kinds = ["post", "post_skipped", "post_missed", "packed", "deal_accepted"];
            for i in 0..LOG_ROWS {
                let kind = kinds[(i % kinds.len() as u64) as usize];
                let deadline = kind.starts_with("post").then_some((i % 12) as i64);
                t.exec(
                    "INSERT INTO log (epoch, kind, detail, deadline, part) VALUES ($1, $2, $3, $4, $5)",
                    &[
                        V::i(i / 10),
                        V::t(kind),
                        V::t(format!("decision {i}")),
                        V::I(deadline),
                        V::I(deadline.map(|_| 0)),
                    ],
                )?;
            }
            Ok(())
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_is_complete_with_10000_sectors_and_100000_log_rows() {
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
    let owner = KeyPair::from_secret(&[1; 32]);
    let client = KeyPair::from_secret(&[2; 32]);
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
    let t = Instant::now();
    seed(
        &Db::open(&home.path().join("provider.sqlite")).unwrap(),
        &client,
    );
    eprintln!("seeded in {:.1} s", t.elapsed().as_secs_f64());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = common::config(1000, &owner, home.path(), addr, &store, false);
    config.console_token = Some("scale-token".into());
    let _provider = common::start(&chain, home.path(), config, owner, listener).await;
    let http = reqwest::Client::new();
    // (path, text the complete page must contain)
    let pages: &[(&str, &str)] = &[
        ("/", "Sectors by pipeline step"),
        ("/sectors", "page 1 of 200 · 10000 rows"),
        ("/sectors?page=200", "page 200 of 200 · 10000 rows"),
        ("/sectors?step=failed&per=500", "page 1 of 3 · 1111 rows"),
        ("/deadlines", "deadline 11"),
        ("/deals", "page 1 of 40 · 2000 rows"),
        ("/deals?page=40", "page 40 of 40"),
        ("/proofs", "page 1 of 1 · 0 rows"),
        ("/log", "page 1 of 2000 · 100000 rows"),
        ("/log?page=2000", "decision 0<"),
        ("/log?kind=post_missed", "page 1 of 400 · 20000 rows"),
        ("/api/overview", "\"pipeline\""),
        ("/api/sectors?page=100&per=100", "\"number\":9901"),
        ("/api/deadlines", "\"posts\":"),
        ("/api/log?page=1000", "\"seq\":"),
    ];
    eprintln!("| page | median of 5 (ms) | slowest (ms) | bytes |");
    eprintln!("|---|---|---|---|");
    for (path, want) in pages {
        let mut times = Vec::new();
        let mut body = String::new();
        for _ in 0..5 {
            let t = Instant::now();
            let r = http
                .get(format!("http://{addr}{path}"))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{path}: {}", r.status());
            body = r.text().await.unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        assert!(body.contains(want), "{path} lacks {want:?}");
        times.sort_by(f64::total_cmp);
        eprintln!(
            "| `{path}` | {:.1} | {:.1} | {} |",
            times[2],
            times[4],
            body.len()
        );
    }
    // The deadline timeline counts every proving decision of a deadline, not a window of them.
    let d: serde_json::Value = http
        .get(format!("http://{addr}/api/deadlines"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let posts: u64 = d["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["posts"].as_u64().unwrap())
        .sum();
    assert_eq!(posts, LOG_ROWS / 5);
}
