//! The operator's console and the network dashboard in a real browser (Debian's headless
//! Chromium, driven over the DevTools protocol by `strata_tests::browser`).
//!
//! A demo-sized world runs in process: a devnet (manual epochs, real Groth16 verification) with
//! its dashboard, and a provider whose console has a token. A client's deal goes through
//! sealing to proven deadlines, a payment and a block won. Then every page of both is loaded:
//! no console error (the pages' Content-Security-Policy turns any remote or inline resource
//! into one), every figure on the page equal to the page's JSON API, a screenshot saved under
//! `target/tmp/browser/`. The console's one action is exercised as an operator and as an
//! attacker: a wrong token, a missing or wrong CSRF token, a cross-site form post carrying the
//! operator's cookie and even the right CSRF token, bearer tokens right and wrong.
//!
//! Needs `chromium` on PATH (`.ci/run` installs it) or `$STRATA_CHROMIUM`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use strata_chain::config::{devnet_faucet, Genesis};
use strata_chain::{Chain, SnarkVerifier};
use strata_chain_client::types::{DealProposal, EscrowHolder, Method};
use strata_chain_client::views::SectorStatus;
use strata_chain_client::{ChainApi, KeyPair, Message, Token};
use strata_params::groth16_files::{ParamsStore, ProofKind};
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_provider::db::Step;
use strata_provider::{Provider, ProviderConfig};
use strata_tests::browser::{Browser, Page};

const TOKEN: &str = "console-test-token";

struct World {
    chain: Arc<Chain>,
    provider: Arc<Provider>,
    console: String,
    devnet: String,
    client: KeyPair,
    store: ParamsStore,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

fn genesis() -> Genesis {
    let mut g = Genesis::preset("devnet").unwrap();
    g.constants.min_sector_lifetime = 900;
    g.constants.min_deal_duration = 150;
    // Epochs are stepped by the test; 30 s epochs tell the provider's intake there is time.
    g.constants.block_time_ms = 30_000;
    g
}

async fn send(chain: &Chain, key: &KeyPair, call: Method) {
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

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

impl World {
    async fn new() -> World {
        let store = ParamsStore::new(ParamsStore::default_dir());
        let pt = ProofType::for_size(SectorSize::KIB2).unwrap();
        for kind in [ProofKind::Porep, ProofKind::Winning, ProofKind::Window] {
            strata_prover::snark::load_or_generate_kind(&store, kind, &pt).unwrap();
        }
        let (chain_dir, home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let chain = Arc::new(
            Chain::open(
                chain_dir.path(),
                genesis(),
                Box::new(SnarkVerifier::new(store.clone())),
                true,
            )
            .unwrap(),
        );
        let owner = KeyPair::from_secret(&[1; 32]);
        let client = KeyPair::from_secret(&[2; 32]);
        for k in [&owner, &client] {
            let to = k.address();
            send(
                &chain,
                &devnet_faucet(),
                Method::Transfer {
                    to,
                    amount: Token::whole(1000),
                },
            )
            .await;
        }
        chain.step(1).unwrap();
        send(
            &chain,
            &owner,
            Method::CreateMiner {
                worker: owner.address(),
                proof_type: pt.id,
                deal_endpoint: String::new(),
            },
        )
        .await;
        chain.step(1).unwrap();
        for call in [
            Method::AddMinerBalance {
                miner: 1000,
                amount: Token::whole(500),
            },
            Method::AddEscrow {
                to: EscrowHolder::Miner(1000),
                amount: Token::whole(10),
            },
        ] {
            send(&chain, &owner, call).await;
        }
        let to = EscrowHolder::Account(client.address());
        send(
            &chain,
            &client,
            Method::AddEscrow {
                to,
                amount: Token::whole(100),
            },
        )
        .await;
        chain.step(1).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = ProviderConfig {
            miner: 1000,
            owner: owner.address(),
            worker: owner.address(),
            worker_key: "owner".into(),
            keystore: home.path().join("keystore.json"),
            rpc: String::new(),
            listen: addr,
            proof_type: pt.id,
            min_price_per_epoch: Token(1),
            min_start_delay: 30,
            max_parallel_jobs: 1,
            params_dir: Some(store.dir().to_path_buf()),
            parent_cache: None,
            winning_min_interval: 20,
            accept_repairs: false,
            proving_threads: strata_provider::config::default_proving_threads(),
            sealing_nice: strata_provider::config::default_sealing_nice(),
            db: None,
            tasks: None,
            machine_name: None,
            dead_after_ms: strata_provider::config::default_dead_after_ms(),
            seal_batch: Default::default(),
            console_token: Some(TOKEN.into()),
            onboarding: Default::default(),
        };
        let provider = Provider::open(
            home.path(),
            config,
            chain.clone() as Arc<dyn ChainApi>,
            owner,
        )
        .await
        .unwrap();
        let app = provider.app();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let devnet = serve(strata_chain::rpc::router(chain.clone())).await;
        World {
            chain,
            provider,
            console: format!("http://{addr}"),
            devnet,
            client,
            store,
            _dirs: (chain_dir, home),
        }
    }

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
        panic!(
            "{what}: not reached in {max} epochs; log {:#?}",
            self.provider.db.recent_log(30)
        );
    }

    /// A client's deal for `data`, uploaded to the provider.
    async fn deal(&self, data: &[u8]) -> u64 {
        let info = strata_sealer::comm_p(data, data.len() as u64).unwrap();
        let head = self.chain.head_now().epoch;
        let p = DealProposal {
            network: self.chain.genesis().network.clone(),
            piece_cid: info.comm_p,
            piece_size: info.padded_size,
            client: self.client.address(),
            provider: 1000,
            start_epoch: head + 50,
            end_epoch: head + 200,
            price_per_epoch: Token(Token::whole(1).0 / 1000),
            provider_collateral: Token::whole(1),
            client_collateral: Token::ZERO,
            verified: false,
            label: "browser".into(),
        }
        .sign(&self.client)
        .unwrap();
        let r = reqwest::Client::new()
            .post(format!("{}/deals", self.console))
            .header(
                strata_provider::server::PROPOSAL_HEADER,
                serde_json::to_string(&p).unwrap(),
            )
            .body(data.to_vec())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        r.json::<Value>().await.unwrap()["deal_id"]
            .as_u64()
            .unwrap()
    }
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The text of `v` as a page's `data-value` carries it (strings unquoted).
fn raw(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        x => x.to_string(),
    }
}

/// Loads `url`, checks it has no console error, that every figure equals the page's JSON API
/// (fetched by the page itself, with its cookies), and saves a screenshot as `name`.png.
/// Returns the number of figures checked.
fn check_page(page: &Page, url: &str, name: &str) -> usize {
    page.goto(url).unwrap_or_else(|e| panic!("{name}: {e}"));
    let errors = page.console_errors();
    assert!(
        errors.is_empty(),
        "{name} ({url}): console errors {errors:#?}"
    );
    let figures: Value = serde_json::from_str(
        page.eval(
            "JSON.stringify([...document.querySelectorAll('[data-key]')]\
             .filter(e => e.dataset.key).map(e => [e.dataset.key, e.dataset.value]))",
        )
        .unwrap()
        .as_str()
        .unwrap(),
    )
    .unwrap();
    let api = raw(&page
        .eval("document.getElementById('main').dataset.api")
        .unwrap());
    let text = page
        .eval(&format!(
            "fetch({api:?}).then(r => r.ok ? r.text() : Promise.reject(r.status))"
        ))
        .unwrap_or_else(|e| panic!("{name}: fetching {api}: {e}"));
    let json: Value = serde_json::from_str(text.as_str().unwrap()).unwrap();
    let figures = figures.as_array().unwrap();
    for f in figures {
        let (key, shown) = (f[0].as_str().unwrap(), f[1].as_str().unwrap());
        let want = json
            .pointer(key)
            .unwrap_or_else(|| panic!("{name}: {key} is on the page but not in {api}"));
        assert_eq!(shown, raw(want), "{name}: {key} differs from {api}");
    }
    page.screenshot(artifacts().join(format!("{name}.png")))
        .unwrap();
    assert!(
        page.console_errors().is_empty(),
        "{name}: {:#?}",
        page.console_errors()
    );
    figures.len()
}

/// Posts a pledge from the page with `fetch`; returns the HTTP status.
fn fetch_pledge(page: &Page, url: &str, init: &str) -> u64 {
    page.eval(&format!("fetch({url:?}, {init}).then(r => r.status)"))
        .unwrap()
        .as_u64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_and_dashboard_in_a_real_browser() {
    let w = World::new().await;
    let data: Vec<u8> = (0..2000u32).map(|i| (i * 13 % 251) as u8).collect();
    let deal = w.deal(&data).await;
    w.until("sector active", 60, |w| {
        block_on(w.chain.sector(1000, 1)).is_ok_and(|s| s.status == SectorStatus::Active)
    })
    .await;
    use std::sync::atomic::Ordering::Relaxed;
    w.until("two posts, a payment, a block won", 300, |w| {
        w.provider.metrics.posts_submitted.load(Relaxed) >= 2
            && block_on(w.chain.deal(deal)).unwrap().paid > Token::ZERO
            && block_on(w.chain.miner(1000)).unwrap().blocks_won >= 1
    })
    .await;

    tokio::task::block_in_place(|| {
        let browser = Browser::launch().expect("headless Chromium (apt-get install chromium)");
        let page = browser.new_page().unwrap();
        let c = &w.console;
        // Every page of the console and the dashboard; the epoch does not move meanwhile.
        let mut checked = 0;
        for (path, name) in [
            ("/", "console-overview"),
            ("/sectors", "console-sectors"),
            ("/deadlines", "console-deadlines"),
            ("/deals", "console-deals"),
            ("/proofs", "console-proofs"),
            ("/log", "console-log"),
        ] {
            checked += check_page(&page, &format!("{c}{path}"), name);
        }
        let dash = check_page(&page, &format!("{}/", w.devnet), "dashboard");
        assert!(
            checked > 40 && dash > 15,
            "{checked} console figures, {dash} dashboard figures"
        );

        // What the pages say, not only that they agree with the API.
        page.goto(&format!("{c}/")).unwrap();
        let active = page.text("[data-key='/chain_sectors/active']").unwrap();
        assert_eq!(active, "1");
        assert_eq!(page.text("[data-key='/raw_power']").unwrap(), "2 KiB");
        page.goto(&format!("{}/", w.devnet)).unwrap();
        assert_eq!(page.text("[data-key='/now/deal_bytes']").unwrap(), "2 KiB");
        assert_eq!(
            page.text("[data-key='/miners/0/blocks_won']").unwrap(),
            block_on(w.chain.miner(1000))
                .unwrap()
                .blocks_won
                .to_string()
        );
        assert!(
            page.eval("document.querySelectorAll('figure.chart svg').length")
                .unwrap()
                == 3
        );

        // The first proof's file, downloaded as an auditor would, verifies offline.
        page.goto(&format!("{c}/proofs")).unwrap();
        let href = raw(&page
            .eval("document.querySelector('a[href*=\"/file\"]').getAttribute('href')")
            .unwrap());
        let file = page
            .eval(&format!("fetch({href:?}).then(r => r.text())"))
            .unwrap();
        let file = strata_prover::proof_file::ProofFile::parse(file.as_str().unwrap()).unwrap();
        file.verify(&w.store)
            .expect("the downloaded proof file verifies");

        // The page keeps itself current: one more epoch shows up without a reload.
        page.goto(&format!("{c}/")).unwrap();
        let before = w.chain.head_now().epoch;
        w.chain.step(1).unwrap();
        page.wait_for(
            &format!(
                "document.querySelector(\"[data-key='/head']\").dataset.value === '{}'",
                before + 1
            ),
            Duration::from_secs(30),
        )
        .expect("the overview refreshed itself");
        assert!(
            page.console_errors().is_empty(),
            "{:#?}",
            page.console_errors()
        );

        // Pledging: refused without signing in, with a wrong token, with a wrong CSRF token.
        let pledge = format!("{c}/actions/pledge");
        let sectors = || w.provider.db.sectors().unwrap().len();
        let n0 = sectors();
        let form = "headers: {'content-type': 'application/x-www-form-urlencoded'}";
        assert_eq!(
            fetch_pledge(
                &page,
                &pledge,
                &format!("{{method: 'POST', body: 'csrf=x', {form}}}")
            ),
            401
        );
        assert_eq!(
            fetch_pledge(
                &page,
                &pledge,
                "{method: 'POST', headers: {authorization: 'Bearer nope'}}"
            ),
            401
        );
        page.set_value("#token", "wrong").unwrap();
        page.click("#login").unwrap();
        page.wait_for(
            "!!document.getElementById('notice')",
            Duration::from_secs(30),
        )
        .unwrap();
        assert!(page.text("#notice").unwrap().contains("wrong token"));
        assert!(page
            .eval("!document.getElementById('pledge')")
            .unwrap()
            .as_bool()
            .unwrap());
        // Signed in, the page offers the action; a forged CSRF token is still refused.
        page.set_value("#token", TOKEN).unwrap();
        page.click("#login").unwrap();
        page.wait_for(
            "!!document.getElementById('pledge')",
            Duration::from_secs(30),
        )
        .unwrap();
        assert_eq!(
            fetch_pledge(
                &page,
                &pledge,
                &format!("{{method: 'POST', body: 'csrf=00', {form}}}")
            ),
            403
        );
        assert_eq!(sectors(), n0, "no refused request pledged anything");
        page.click("#pledge").unwrap();
        page.wait_for(
            "(document.getElementById('notice')||{}).textContent?.includes('queued')",
            Duration::from_secs(30),
        )
        .unwrap();
        let new = w
            .provider
            .db
            .sector(n0 as u64 + 1)
            .unwrap()
            .expect("the pledged sector");
        assert_eq!((new.step, new.deals.len()), (Step::Sealing, 0));
        assert!(w
            .provider
            .db
            .recent_log(5)
            .unwrap()
            .iter()
            .any(|l| l.kind == "console_pledge"));
        assert!(
            page.console_errors().is_empty(),
            "{:#?}",
            page.console_errors()
        );
        let csrf = raw(&page
            .eval("document.querySelector('input[name=csrf]').value")
            .unwrap());

        // A cross-site attack: a page on another origin (another port of this host) submits a
        // form to the console. The browser attaches the operator's cookie (same site, so
        // SameSite=Strict lets it through) and the attacker even knows the CSRF token: the
        // Origin and Sec-Fetch-Site checks still refuse it.
        let attack = format!(
            "<!doctype html><form id=f method=post action=\"{pledge}\">\
             <input name=csrf value=\"{csrf}\"></form>\
             <script>document.getElementById('f').submit()</script>"
        );
        let attacker =
            tokio::runtime::Handle::current().block_on(serve(axum::Router::new().route(
                "/",
                axum::routing::get(move || async move { axum::response::Html(attack) }),
            )));
        // The attacker's page navigates away at once (to a 403): only where it lands matters.
        let _ = page.goto(&format!("{attacker}/"));
        page.wait_for(
            "location.pathname === '/actions/pledge'",
            Duration::from_secs(30),
        )
        .unwrap();
        page.wait_for(
            "document.readyState === 'complete'",
            Duration::from_secs(30),
        )
        .unwrap();
        let body = raw(&page.eval("document.body.innerText").unwrap());
        assert!(body.contains("cross-site request refused"), "{body}");
        let evil = tokio::runtime::Handle::current().block_on(async {
            reqwest::Client::new()
                .post(&pledge)
                .header("origin", "http://evil.example")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("csrf={csrf}"))
                .send()
                .await
                .unwrap()
                .status()
        });
        assert_eq!(evil, 401, "no cookie, no entry");
        assert_eq!(sectors(), n0 + 1, "the cross-site post pledged nothing");
        // A script with the token.
        let ok = tokio::runtime::Handle::current().block_on(async {
            reqwest::Client::new()
                .post(&pledge)
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        });
        assert_eq!(ok["sector"].as_u64(), Some(n0 as u64 + 2));
        println!("screenshots in {}", artifacts().display());
    });
}
