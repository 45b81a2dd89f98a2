//! `strata devnet`, `strata wallet` and `strata chain`: run the embedded devnet, manage keys and
//! move tokens, and read the chain — every read with `--json` for scripts.

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use strata_chain::config::{devnet_faucet, Genesis};
use strata_chain::{Chain, ChainOptions, SnarkVerifier};
use strata_chain_client::types::{parse_miner, Method};
use strata_chain_client::views::EventFilter;
use strata_chain_client::{Address, ChainApi, KeyPair, Keystore, Message, RpcClient, Token};
use strata_params::groth16_files::ParamsStore;

/// Where strata keeps its state by default: `$STRATA_HOME`, else `~/.strata`.
pub fn strata_home() -> PathBuf {
    std::env::var_os("STRATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".strata")))
        .unwrap_or_else(|| PathBuf::from(".strata"))
}

/// How to reach the chain and the keys.
#[derive(Args, Clone)]
pub struct Conn {
    /// The chain's JSON-RPC URL.
    #[arg(long, env = "STRATA_RPC", default_value = "http://127.0.0.1:1234")]
    pub rpc: String,
    /// The keystore file (created owner-only).
    #[arg(long, env = "STRATA_KEYSTORE")]
    pub keystore: Option<PathBuf>,
}

impl Conn {
    pub fn client(&self) -> Result<RpcClient> {
        RpcClient::new(&self.rpc).map_err(|e| anyhow!("{e}"))
    }
    pub fn keystore_path(&self) -> PathBuf {
        self.keystore
            .clone()
            .unwrap_or_else(|| strata_home().join("keystore.json"))
    }
    pub fn keystore(&self) -> Result<Keystore> {
        Keystore::open(&self.keystore_path()).map_err(|e| anyhow!("{e}"))
    }
    /// A key by name, address, or `faucet` (the devnet's published key).
    pub fn key(&self, who: &str) -> Result<KeyPair> {
        if who == "faucet" {
            return Ok(devnet_faucet());
        }
        let ks = self.keystore()?;
        if let Some(k) = ks.get(who) {
            return Ok(KeyPair::from_secret(&k.secret()));
        }
        if let Ok(a) = who.parse::<Address>() {
            if let Some(k) = ks.by_address(&a) {
                return Ok(KeyPair::from_secret(&k.secret()));
            }
        }
        bail!(
            "no key {who:?} in {} (see `strata wallet list`)",
            self.keystore_path().display()
        )
    }
    /// An address: a literal `s1…`, a key name, or `faucet`.
    pub fn address(&self, who: &str) -> Result<Address> {
        if let Ok(a) = who.parse::<Address>() {
            return Ok(a);
        }
        Ok(self.key(who)?.address())
    }
}

#[derive(Subcommand)]
pub enum DevnetCommand {
    /// Run the devnet: epochs on a timer (or on request with --manual), JSON-RPC on --rpc.
    ///
    /// State lives in --state (a redb database); stopping it (Ctrl-C, or even kill -9) and
    /// running it again continues from the last applied epoch. Proofs are verified with the
    /// Groth16 parameters in $STRATA_PARAMS (see `strata params generate`).
    Run(RunArgs),
    /// Apply N epochs now on a devnet started with --manual.
    Step {
        /// Epochs.
        #[arg(default_value_t = 1)]
        epochs: u64,
        #[command(flatten)]
        conn: Conn,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a preset's genesis as TOML, to edit and pass back with --genesis.
    Genesis {
        /// devnet or mainnet.
        #[arg(long, default_value = "devnet")]
        preset: String,
    },
}

#[derive(Args)]
pub struct RunArgs {
    /// devnet (a proving period per minute) or mainnet (Filecoin's 30 s epochs).
    #[arg(long, default_value = "devnet")]
    preset: String,
    /// A genesis TOML file (overrides --preset).
    #[arg(long)]
    genesis: Option<PathBuf>,
    /// State directory [default: $STRATA_HOME/devnet].
    #[arg(long)]
    state: Option<PathBuf>,
    /// Address to serve JSON-RPC on.
    #[arg(long, default_value = "127.0.0.1:1234")]
    rpc: SocketAddr,
    /// Advance epochs only through the `devnet_step` RPC (scripts, tests).
    #[arg(long)]
    manual: bool,
    /// Override the preset's block time, milliseconds.
    #[arg(long)]
    block_time_ms: Option<u64>,
    /// The devnet's beacon key file (BLS, owner-only) [default: STATE/beacon.key, created at
    /// first start]. Whoever holds it can compute every future beacon entry: keep it private.
    #[arg(long)]
    beacon_key: Option<PathBuf>,
    /// With a genesis that follows drand (`[beacon] kind = "drand"`): a file of the drand
    /// chain's published rounds — a JSON array, or one `{"round":…,"signature":…}` object per
    /// line, as drand's HTTP API serves them — re-read as it grows. Every round is verified
    /// against the genesis' drand public key before an epoch uses it.
    #[arg(long)]
    drand_relay: Option<PathBuf>,
}

pub fn devnet(cmd: DevnetCommand) -> Result<()> {
    match cmd {
        DevnetCommand::Genesis { preset } => {
            print!("{}", Genesis::preset(&preset)?.to_toml());
            Ok(())
        }
        DevnetCommand::Run(args) => runtime()?.block_on(run(args)),
        DevnetCommand::Step { epochs, conn, json } => runtime()?.block_on(async {
            let h = conn
                .client()?
                .step(epochs)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            print(json, &h, |h| {
                format!("epoch {} state {}", h.epoch, hex::encode(h.state_root))
            });
            Ok(())
        }),
    }
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

async fn run(args: RunArgs) -> Result<()> {
    let mut genesis = match &args.genesis {
        Some(p) => Genesis::from_file(p)?,
        None => Genesis::preset(&args.preset)?,
    };
    if let Some(ms) = args.block_time_ms {
        genesis.constants.block_time_ms = ms.max(1);
    }
    let state = args
        .state
        .clone()
        .unwrap_or_else(|| strata_home().join("devnet"));
    let verifier = SnarkVerifier::new(ParamsStore::new(ParamsStore::default_dir()));
    let options = ChainOptions {
        manual: args.manual,
        beacon_key: args.beacon_key.clone(),
        drand_relay: args.drand_relay.clone(),
    };
    let chain = Arc::new(
        Chain::open_with(&state, genesis.clone(), Box::new(verifier), options)
            .map_err(|e| anyhow!("{e}"))
            .with_context(|| format!("opening the chain in {}", state.display()))?,
    );
    let beacon = chain.beacon_info().await.map_err(|e| anyhow!("{e}"))?;
    let listener = tokio::net::TcpListener::bind(args.rpc)
        .await
        .with_context(|| format!("binding JSON-RPC to {}", args.rpc))?;
    let head = chain.head_now();
    println!(
        "devnet {} at epoch {} — JSON-RPC and the network dashboard on http://{} — state in {} — {}",
        head.network,
        head.epoch,
        listener.local_addr()?,
        state.display(),
        if args.manual {
            "epochs advance on devnet_step".to_string()
        } else {
            format!("an epoch every {} ms", genesis.constants.block_time_ms)
        }
    );
    println!(
        "faucet key (devnet only, published): {}",
        devnet_faucet().address()
    );
    println!(
        "beacon ({}, {}): public key {}",
        beacon.scheme,
        match &beacon.source {
            strata_chain_client::beacon::BeaconSource::Devnet =>
                "this devnet's own key: whoever holds it can predict the randomness".to_string(),
            strata_chain_client::beacon::BeaconSource::Drand { period, .. } =>
                format!("following drand, a round every {period} s"),
        },
        beacon.public_key
    );
    let server = tokio::spawn(strata_chain::rpc::serve(chain.clone(), listener));
    if !args.manual {
        spawn_epoch_timer(chain.clone(), genesis.constants.block_time_ms);
    }
    tokio::select! {
        r = server => { r??; }
        _ = tokio::signal::ctrl_c() => { println!("stopping at epoch {}", chain.head_now().epoch); }
    }
    Ok(())
}

/// Applies an epoch every `ms` milliseconds (on the blocking pool) until the runtime stops.
pub fn spawn_epoch_timer(chain: Arc<Chain>, ms: u64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let c = chain.clone();
            match tokio::task::spawn_blocking(move || c.step_one()).await {
                Ok(Ok(h)) => tracing::info!(epoch = h.epoch, "epoch applied"),
                Ok(Err(e)) => tracing::error!(%e, "epoch not applied"),
                Err(e) => tracing::error!(%e, "epoch task failed"),
            }
        }
    })
}

#[derive(Subcommand)]
pub enum WalletCommand {
    /// Create a key in the keystore.
    New {
        /// Its name.
        name: String,
        #[command(flatten)]
        conn: Conn,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the keystore's keys.
    List {
        #[command(flatten)]
        conn: Conn,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show balances (spendable, escrow, DataCap) of a key name or address (all keys if none).
    Balance {
        /// Key name, address or `faucet`.
        who: Option<String>,
        #[command(flatten)]
        conn: Conn,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Give DataCap (bytes, for verified deals) from a key holding some (on the devnet, the
    /// `faucet`) to an address.
    Datacap {
        /// Granting key name (or `faucet`).
        #[arg(long)]
        from: String,
        /// Recipient (address or key name).
        to: String,
        /// Bytes of DataCap.
        bytes: u64,
        #[command(flatten)]
        conn: Conn,
    },
    /// Send tokens (`1.5`, `20`, `100atto`) from a key (or the devnet `faucet`) to an address.
    Send {
        /// Paying key name (or `faucet`).
        #[arg(long)]
        from: String,
        /// Recipient (address or key name).
        to: String,
        /// Amount.
        amount: Token,
        /// Wait until the transfer is applied.
        #[arg(long)]
        wait: bool,
        #[command(flatten)]
        conn: Conn,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn print<T: Serialize>(json: bool, v: &T, text: impl FnOnce(&T) -> String) {
    if json {
        println!("{}", serde_json::to_string_pretty(v).expect("serialises"));
    } else {
        println!("{}", text(v));
    }
}

/// Signs `call` from `key` with its next nonce and submits it; optionally waits for inclusion.
pub async fn send(rpc: &dyn ChainApi, key: &KeyPair, call: Method, wait: bool) -> Result<String> {
    let nonce = rpc
        .account(key.address())
        .await
        .map_err(|e| anyhow!("{e}"))?
        .nonce;
    let network = rpc.head().await.map_err(|e| anyhow!("{e}"))?.network;
    let msg = Message {
        network,
        from: key.address(),
        nonce,
        call,
    }
    .sign(key)?;
    let id = rpc.submit(msg).await.map_err(|e| anyhow!("{e}"))?;
    if wait {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            if rpc
                .receipt(id.clone())
                .await
                .map_err(|e| anyhow!("{e}"))?
                .epoch
                .is_some()
            {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                bail!("message {id} was accepted but not applied within 2 minutes");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(id)
}

pub fn wallet(cmd: WalletCommand) -> Result<()> {
    match cmd {
        WalletCommand::New { name, conn, json } => {
            let mut ks = conn.keystore()?;
            let a = ks.create(&name)?;
            print(
                json,
                &serde_json::json!({"name": name, "address": a}),
                |_| format!("{name}: {a} (in {})", conn.keystore_path().display()),
            );
            Ok(())
        }
        WalletCommand::List { conn, json } => {
            let list: Vec<_> = conn
                .keystore()?
                .list()
                .into_iter()
                .map(|(n, a)| serde_json::json!({"name": n, "address": a}))
                .collect();
            print(json, &list, |l| {
                if l.is_empty() {
                    "no keys yet: `strata wallet new NAME`".into()
                } else {
                    l.iter()
                        .map(|v| {
                            format!(
                                "{}  {}",
                                v["address"].as_str().unwrap_or(""),
                                v["name"].as_str().unwrap_or("")
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                }
            });
            Ok(())
        }
        WalletCommand::Balance { who, conn, json } => {
            runtime()?.block_on(async {
                let rpc = conn.client()?;
                let addrs: Vec<(String, Address)> = match who {
                    Some(w) => vec![(w.clone(), conn.address(&w)?)],
                    None => conn.keystore()?.list(),
                };
                let mut out = Vec::new();
                for (name, a) in addrs {
                    let info = rpc.account(a).await.map_err(|e| anyhow!("{e}"))?;
                    out.push((name, info));
                }
                print(
                    json,
                    &out.iter().map(|(_, i)| i).collect::<Vec<_>>(),
                    |_| {
                        out.iter()
                            .map(|(n, i)| {
                                format!(
                            "{n} {}: {} (escrow {} free, {} locked; DataCap {} B; nonce {})",
                            i.address, i.balance, i.escrow_free, i.escrow_locked, i.datacap, i.nonce
                        )
                            })
                            .collect::<Vec<_>>()
                            .join("\n")
                    },
                );
                Ok(())
            })
        }
        WalletCommand::Datacap {
            from,
            to,
            bytes,
            conn,
        } => runtime()?.block_on(async {
            let rpc = conn.client()?;
            let key = conn.key(&from)?;
            let to = conn.address(&to)?;
            let id = send(&rpc, &key, Method::GrantDatacap { to, bytes }, false).await?;
            println!("granted {bytes} bytes of DataCap to {to}: message {id}");
            Ok(())
        }),
        WalletCommand::Send {
            from,
            to,
            amount,
            wait,
            conn,
            json,
        } => runtime()?.block_on(async {
            let rpc = conn.client()?;
            let key = conn.key(&from)?;
            let to = conn.address(&to)?;
            let id = send(&rpc, &key, Method::Transfer { to, amount }, wait).await?;
            print(
                json,
                &serde_json::json!({"message": id, "applied": wait}),
                |_| {
                    format!(
                        "sent {amount} to {to}: message {id}{}",
                        if wait {
                            " (applied)"
                        } else {
                            " (applies next epoch)"
                        }
                    )
                },
            );
            Ok(())
        }),
    }
}

#[derive(Subcommand)]
pub enum ChainCommand {
    /// The head: epoch, state root, beacon; with --json also the network figures.
    Head {
        #[command(flatten)]
        conn: Conn,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A beacon entry (of EPOCH, default the head): its round, signature and randomness, checked
    /// against the network's beacon key — exits non-zero if it does not verify.
    Beacon {
        /// The epoch [default: the head].
        epoch: Option<i64>,
        /// Trust this beacon public key (hex) instead of the one the node names.
        #[arg(long)]
        public_key: Option<String>,
        #[command(flatten)]
        conn: Conn,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A miner: power, balances, sectors, next deadline.
    Miner {
        /// Miner id (m1000 or 1000).
        id: String,
        #[command(flatten)]
        conn: Conn,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A sector of a miner.
    Sector {
        /// Miner id.
        id: String,
        /// Sector number.
        number: u64,
        #[command(flatten)]
        conn: Conn,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// All deals.
    Deals {
        #[command(flatten)]
        conn: Conn,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The permanent-storage endowment: the pool, what it owes per period, how many years it
    /// covers on the cost curve, the Kryder+ multiplier; `--pieces` lists every permanent piece
    /// and its replica slots.
    Endowment {
        /// Also list the permanent pieces and their replicas.
        #[arg(long)]
        pieces: bool,
        #[command(flatten)]
        conn: Conn,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The network's economics: power, how much of the committed storage holds client data,
    /// where the tokens went (minted, paid for deals, burnt) per day, the top miners, the
    /// latest beacon round and the permanent-storage endowment.
    ///
    /// Every figure is computed by the chain (`chain_stats`), from its committed state (the last
    /// applied epoch) and its blocks' balance events:
    ///
    /// - raw power: bytes of active (proven and proving) sectors; faulty sectors have none.
    ///
    /// - quality-adjusted (QA) power: the same sectors with verified deal space counted 10× —
    ///   what elections and pledges are proportional to.
    ///
    /// - committed storage: bytes of sectors committed and still proving (active, faulty or
    ///   recovering).
    ///
    /// - holding client data: the share of committed storage filled by active deals' pieces
    ///   (padded bytes); the rest is committed capacity (zeros). Holding verified data: the
    ///   share filled by verified deals (paid with DataCap).
    ///
    /// - minted: new tokens paid as block rewards (25% at once, 75% vesting); burnt: tokens
    ///   destroyed by fees and penalties (fault and termination fees, forfeited deposits,
    ///   slashed deal collateral); supply = genesis + minted − burnt.
    ///
    /// - deal payments: tokens moved from clients' escrow to providers as deals are settled.
    ///
    /// - per day: a day is `epochs_per_day` epochs (60 on the devnet); the table shows the last
    ///   7 (`--json` gives up to 90, with each day's power and storage at its last epoch).
    ///
    /// - beacon: the randomness of the latest epoch (a verifiable BLS signature of a round);
    ///   every election, ticket and challenge of that epoch is drawn from it.
    ///
    /// - endowment: the permanent-storage pool and what it pays replica holders.
    Stats {
        #[command(flatten)]
        conn: Conn,
        /// Print JSON (the whole `chain_stats` answer).
        #[arg(long)]
        json: bool,
    },
    /// Balance events (who, what, why, epoch).
    Events {
        /// Only events touching this address, key name or miner (m1000).
        #[arg(long)]
        who: Option<String>,
        /// From this epoch on.
        #[arg(long)]
        since: Option<i64>,
        /// Only the last N.
        #[arg(long)]
        limit: Option<usize>,
        #[command(flatten)]
        conn: Conn,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn chain(cmd: ChainCommand) -> Result<()> {
    if let ChainCommand::Endowment { pieces, conn, json } = &cmd {
        return crate::permanent_cmd::endowment(conn, *pieces, *json);
    }
    runtime()?.block_on(async move {
        let e = |e: strata_chain_client::ChainError| anyhow!("{e}");
        match cmd {
            ChainCommand::Head { conn, json } => {
                let rpc = conn.client()?;
                let h = rpc.head().await.map_err(e)?;
                let n = rpc.network().await.map_err(e)?;
                let v = serde_json::json!({"head": h, "network": n});
                print(json, &v, |_| {
                    format!(
                        "{} epoch {} state {}\npower {} B raw, {} B quality-adjusted; next block reward {}\nsupply {} (genesis {} + minted {} − burnt {}), circulating {}",
                        h.network, h.epoch, hex::encode(h.state_root), n.raw_power, n.qa_power, n.epoch_reward,
                        n.supply.total(), n.supply.genesis, n.supply.minted, n.supply.burnt, n.circulating
                    )
                });
            }
            ChainCommand::Beacon { epoch, public_key, conn, json } => {
                crate::beacon_cmd::show(&conn.client()?, epoch, public_key.as_deref(), json).await?;
            }
            ChainCommand::Miner { id, conn, json } => {
                let id = parse_miner(&id).map_err(|m| anyhow!(m))?;
                let m = conn.client()?.miner(id).await.map_err(e)?;
                print(json, &m, |m| {
                    let b = &m.balances;
                    format!(
                        "m{} owner {} worker {} sector size {} B\npower {} B raw, {} B QA; blocks won {}\navailable {}, pre-commit deposits {}, locked pledge {}, vesting {}, fee debt {}\nescrow {} free, {} locked\nsectors: {} pre-committed, {} active, {} faulty, {} terminated, {} expired\ndeadline {} window {}..{} (challenge at {}, fault cutoff {})",
                        m.id, m.owner, m.worker, m.sector_size, m.raw_power, m.qa_power, m.blocks_won,
                        b.available, b.precommit_deposits, b.locked_pledge, b.vesting, b.fee_debt, b.escrow_free, b.escrow_locked,
                        m.sectors.precommitted, m.sectors.active, m.sectors.faulty, m.sectors.terminated, m.sectors.expired,
                        m.current_deadline.index, m.current_deadline.open, m.current_deadline.close, m.current_deadline.challenge, m.current_deadline.fault_cutoff
                    )
                });
            }
            ChainCommand::Sector { id, number, conn, json } => {
                let id = parse_miner(&id).map_err(|m| anyhow!(m))?;
                let s = conn.client()?.sector(id, number).await.map_err(e)?;
                print(json, &s, |s| {
                    format!(
                        "m{} sector {}: {:?}\ncomm_r {}\ncomm_d {}\npre-committed at {}, seed at {}, activated {:?}, expires {}\ndeals {:?}, deposit {}, pledge {}, QA power {} B, deadline/partition {:?}, faulty since {:?}",
                        s.miner, s.number, s.status, hex::encode(s.comm_r), hex::encode(s.comm_d), s.precommit_epoch, s.seed_epoch,
                        s.activation, s.expiration, s.deals, s.precommit_deposit, s.initial_pledge, s.qa_power, s.location, s.faulty_since
                    )
                });
            }
            ChainCommand::Deals { conn, json } => {
                let d = conn.client()?.deals().await.map_err(e)?;
                print(json, &d, |d| {
                    if d.is_empty() {
                        return "no deals".into();
                    }
                    d.iter()
                        .map(|d| format!("deal {} {:?} m{} client {} {} B epochs {}..{} paid {} sector {:?}", d.id, d.status, d.proposal.provider, d.proposal.client, d.proposal.piece_size, d.proposal.start_epoch, d.proposal.end_epoch, d.paid, d.sector))
                        .collect::<Vec<_>>()
                        .join("\n")
                });
            }
            ChainCommand::Stats { conn, json } => {
                let st = conn.client()?.stats().await.map_err(e)?;
                print(json, &st, show_stats);
            }
            ChainCommand::Endowment { .. } => unreachable!("handled above"),
            ChainCommand::Events { who, since, limit, conn, json } => {
                let who = match who {
                    Some(w) if w.starts_with('m') && parse_miner(&w).is_ok() => Some(w),
                    Some(w) => Some(conn.address(&w)?.to_string()),
                    None => None,
                };
                let ev = conn.client()?.events(EventFilter { who, since, limit }).await.map_err(e)?;
                print(json, &ev, |ev| {
                    if ev.is_empty() {
                        return "no events".into();
                    }
                    ev.iter()
                        .map(|e| format!("{:>6}  {:<28} {:?} → {:?}  {}", e.epoch, e.amount.to_string(), e.from, e.to, e.why))
                        .collect::<Vec<_>>()
                        .join("\n")
                });
            }
        }
        Ok(())
    })
}

/// Bytes in binary units (`2.0 KiB`).
fn bytes(n: u128) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Tokens to 4 decimals, for tables (`12.3456 STR`, `<0.0001 STR`).
fn short_tokens(t: Token) -> String {
    let step = Token::whole(1).0 / 10_000;
    let n = t.0 / step;
    if n == 0 && t.0 > 0 {
        return "<0.0001 STR".into();
    }
    format!("{}.{:04} STR", n / 10_000, n % 10_000)
}

/// Parts per million as a percentage (`12.50%`).
fn percent(ppm: u64) -> String {
    format!("{:.2}%", ppm as f64 / 10_000.0)
}

/// `strata chain stats` as text: a summary a class can read.
fn show_stats(st: &strata_chain_client::stats::NetworkStats) -> String {
    let now = &st.now;
    let day = now.epoch / st.epochs_per_day.max(1);
    let mut out = format!(
        "{} at epoch {} (day {day}, {} epochs a day)\n",
        st.network, now.epoch, st.epochs_per_day
    );
    out += "\nStorage and power\n";
    out += &format!(
        "  raw power              {:>12}  (active sectors × sector size)\n",
        bytes(now.raw_power)
    );
    out += &format!(
        "  quality-adjusted power {:>12}  (verified deal space counts 10×)\n",
        bytes(now.qa_power)
    );
    out += &format!(
        "  committed storage      {:>12}  (active and faulty sectors)\n",
        bytes(now.committed_bytes)
    );
    out += &format!(
        "  holding client data    {:>12}  ({} in active deals)\n",
        percent(now.deal_share_ppm()),
        bytes(now.deal_bytes)
    );
    out += &format!(
        "  holding verified data  {:>12}  ({} in verified deals)\n",
        percent(now.verified_share_ppm()),
        bytes(now.verified_bytes)
    );
    let sup = &st.supply;
    out += "\nTokens since genesis\n";
    out += &format!("  minted (block rewards)   {}\n", sup.minted);
    out += &format!("  burnt (fees, penalties)  {}\n", sup.burnt);
    out += &format!("  paid for deals           {}\n", st.deal_payments_total);
    out += &format!(
        "  supply                   {} = genesis {} + minted − burnt\n",
        sup.total(),
        sup.genesis
    );
    out += &format!("  next block reward        {}\n", st.epoch_reward);
    let last: Vec<_> = st.days.iter().rev().take(7).rev().collect();
    out += &format!(
        "\nLast {} days (to 4 decimals; client % = share of committed storage holding client data at the day's end)\n",
        last.len()
    );
    if last.is_empty() {
        out += "  no epoch applied yet\n";
    } else {
        out += &format!(
            "  {:>5}  {:>13}  {:>18}  {:>18}  {:>18}  {:>8}\n",
            "day", "epochs", "minted", "deal payments", "burnt", "client %"
        );
        for d in last {
            out += &format!(
                "  {:>5}  {:>13}  {:>18}  {:>18}  {:>18}  {:>8}\n",
                d.day,
                format!("{}..{}", d.first_epoch, d.last_epoch),
                short_tokens(d.minted),
                short_tokens(d.deal_payments),
                short_tokens(d.burnt),
                percent(d.end.deal_share_ppm())
            );
        }
    }
    let mut miners: Vec<_> = st.miners.iter().collect();
    miners.sort_by(|a, b| (b.qa_power, b.raw_power, a.id).cmp(&(a.qa_power, a.raw_power, b.id)));
    out += &format!("\nTop miners by power ({} in all)\n", miners.len());
    if miners.is_empty() {
        out += "  no miners yet\n";
    } else {
        out += &format!(
            "  {:<8} {:>11} {:>11} {:>8} {:>8} {:>11} {:>11} {:>10}\n",
            "miner", "raw", "QA", "active", "faulty", "client data", "verified", "blocks won"
        );
        for m in miners.iter().take(10) {
            out += &format!(
                "  {:<8} {:>11} {:>11} {:>8} {:>8} {:>11} {:>11} {:>10}\n",
                format!("m{}", m.id),
                bytes(m.raw_power),
                bytes(m.qa_power),
                m.active_sectors,
                m.faulty_sectors,
                bytes(m.deal_bytes as u128),
                bytes(m.verified_bytes as u128),
                m.blocks_won
            );
        }
    }
    if let Some(b) = st.beacon.first() {
        out += &format!(
            "\nBeacon: epoch {} used round {}, randomness {}\n",
            b.epoch, b.round, b.randomness
        );
    }
    if let Some(en) = &st.endowment {
        out += &format!(
            "\nPermanent-storage endowment: pool {}, paid out {}, {} pieces ({}), {} replicas held, owes {} per proving period\n",
            en.pool,
            en.paid_out,
            en.pieces,
            bytes(en.weave_bytes as u128),
            en.replicas_held,
            en.owed_per_period
        );
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_chain_client::stats::{BeaconRound, DayStats, MinerStats, NetworkStats, Snapshot};
    use strata_chain_client::views::Supply;

    #[test]
    fn stats_text_names_every_figure() {
        let snap = Snapshot {
            epoch: 130,
            raw_power: 4096,
            qa_power: 4096 + 9 * 1024,
            committed_bytes: 6144,
            deal_bytes: 1024,
            verified_bytes: 1024,
        };
        let miner = |id, raw: u128| MinerStats {
            id,
            sector_size: 2048,
            raw_power: raw,
            qa_power: raw,
            active_sectors: (raw / 2048) as u64,
            faulty_sectors: 1,
            deal_bytes: 1024,
            verified_bytes: 0,
            blocks_won: 3,
        };
        let st = NetworkStats {
            network: "strata-devnet".into(),
            epochs_per_day: 60,
            now: snap.clone(),
            miners: vec![miner(1000, 2048), miner(1001, 8192)],
            supply: Supply {
                genesis: Token::whole(1_000_000),
                minted: Token::whole(250),
                burnt: Token(Token::whole(1).0 / 3),
            },
            deal_payments_total: Token::whole(2),
            epoch_reward: Token::whole(99),
            days: (0..9)
                .map(|d| DayStats {
                    day: d,
                    first_epoch: d * 60,
                    last_epoch: d * 60 + 59,
                    minted: Token::whole(d as u128 * 10),
                    burnt: Token(1),
                    end: snap.clone(),
                    ..DayStats::default()
                })
                .collect(),
            beacon: vec![BeaconRound {
                epoch: 130,
                round: 131,
                randomness: "ab".repeat(32),
            }],
            endowment: None,
        };
        let text = show_stats(&st);
        println!("{text}");
        for want in [
            "strata-devnet at epoch 130 (day 2",
            "raw power                   4.0 KiB",
            "committed storage           6.0 KiB",
            "holding client data          16.67%",
            "minted (block rewards)   250 STR",
            "Last 7 days",
            "80.0000 STR",
            "<0.0001 STR",
            "m1001",
            "round 131",
        ] {
            assert!(text.contains(want), "{want:?} missing from\n{text}");
        }
        assert!(!text.contains(" 10.0000 STR"), "only the last 7 days");
        assert!(text.find("m1001").unwrap() < text.find("m1000 ").unwrap());
    }
}
