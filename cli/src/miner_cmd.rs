//! `strata miner init|run|info|sectors|deals|pledge|change-worker`: the storage provider's
//! commands.

use crate::chain_cmd::{print, runtime, send, strata_home, Conn};
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use strata_chain_client::types::{EscrowHolder, Method};
use strata_chain_client::{ChainApi, KeyPair, Token};
use strata_params::ProofType;
use strata_provider::db::{Db, Step};
use strata_provider::{Provider, ProviderConfig};

#[derive(Args, Clone)]
pub struct Home {
    /// The provider's home directory (config, database, sectors) [default: $STRATA_HOME/miner].
    #[arg(long, env = "STRATA_MINER_HOME")]
    home: Option<PathBuf>,
}

impl Home {
    fn path(&self) -> PathBuf {
        self.home
            .clone()
            .unwrap_or_else(|| strata_home().join("miner"))
    }
    fn config(&self) -> Result<ProviderConfig> {
        Ok(ProviderConfig::load(&self.path())?)
    }

    /// The provider's database as its config names it (SQLite in the home by default).
    fn db(&self) -> Result<Db> {
        let config = self.config()?;
        Ok(Db::open_location(&config.db_location(&self.path()))?)
    }
}

#[derive(Subcommand)]
pub enum MinerCommand {
    /// Create the miner on chain and write the provider's config and state directory.
    Init(InitArgs),
    /// Run the daemon: deal endpoint, sealing pipeline, proving scheduler, /metrics.
    ///
    /// On a shared PostgreSQL database, a second daemon of the same miner (same config and
    /// keystore, another `--listen`) is a standby: it serves and runs tasks but neither signs
    /// nor schedules until the first one dies, then takes over within seconds.
    Run {
        #[command(flatten)]
        home: Home,
        #[command(flatten)]
        conn: Conn,
        #[command(flatten)]
        overrides: RunOverrides,
    },
    /// Power, balances (available, pledge, deposits, vesting, fee debt), faults, next deadline.
    Info {
        #[command(flatten)]
        home: Home,
        #[command(flatten)]
        conn: Conn,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sectors: pipeline step, last error, chain status.
    #[command(subcommand)]
    Sectors(SectorsCommand),
    /// Deals taken in and their chain status.
    Deals {
        #[command(flatten)]
        home: Home,
        #[command(flatten)]
        conn: Conn,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Seal a committed-capacity sector (no deals); the running daemon picks it up.
    Pledge {
        #[command(flatten)]
        home: Home,
    },
    /// Ask for a new worker key (signed by the owner). It takes over after the chain's
    /// worker_key_change_delay; then `--confirm` puts it in place and points the provider's
    /// config at it (restart `strata miner run` to sign with it).
    ChangeWorker {
        /// The new worker key (name in the keystore, or address).
        new_key: String,
        /// Confirm the pending change instead of asking for one.
        #[arg(long)]
        confirm: bool,
        #[command(flatten)]
        home: Home,
        #[command(flatten)]
        conn: Conn,
    },
}

/// Per-process settings that override the config file (a standby daemon sharing a home).
#[derive(Args, Clone, Default)]
pub struct RunOverrides {
    /// Listen here instead of the config's address.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// This machine's name in the cluster [default: host name and listen address].
    #[arg(long)]
    name: Option<String>,
    /// Task kinds this daemon runs itself, comma-separated (`seal,seal_proof`; `none` leaves
    /// every task to `strata worker` machines) [default: the config's, else all].
    #[arg(long)]
    tasks: Option<String>,
}

impl RunOverrides {
    fn apply(&self, config: &mut ProviderConfig) {
        if let Some(l) = self.listen {
            config.listen = l;
        }
        if let Some(n) = &self.name {
            config.machine_name = Some(n.clone());
        }
        if let Some(t) = &self.tasks {
            config.tasks = Some(
                t.split(',')
                    .map(str::trim)
                    .filter(|k| !k.is_empty() && *k != "none")
                    .map(String::from)
                    .collect(),
            );
        }
    }
}

#[derive(Subcommand)]
pub enum SectorsCommand {
    /// Every sector.
    List {
        #[command(flatten)]
        home: Home,
        #[command(flatten)]
        conn: Conn,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// One sector, with the daemon's log lines about it.
    Status {
        /// Sector number.
        number: u64,
        #[command(flatten)]
        home: Home,
        #[command(flatten)]
        conn: Conn,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Extend sectors' expiration (power and pledge unchanged).
    Extend {
        /// Sector numbers.
        #[arg(required = true)]
        numbers: Vec<u64>,
        /// The new expiration epoch.
        #[arg(long)]
        to: i64,
        #[command(flatten)]
        home: Home,
        #[command(flatten)]
        conn: Conn,
    },
}

#[derive(Args)]
pub struct InitArgs {
    /// The owner key (name in the keystore); pays the balance and collateral.
    #[arg(long)]
    owner: String,
    /// The worker key that signs the daemon's messages [default: the owner].
    #[arg(long)]
    worker: Option<String>,
    /// Sector size.
    #[arg(long, default_value = "2KiB")]
    sector_size: String,
    /// Where the deal endpoint listens.
    #[arg(long, default_value = "127.0.0.1:2345")]
    listen: SocketAddr,
    /// The endpoint URL published on chain [default: http://LISTEN].
    #[arg(long)]
    endpoint: Option<String>,
    /// Tokens moved to the miner's available balance (deposits and pledge come from it).
    #[arg(long, default_value = "100")]
    balance: Token,
    /// Tokens moved to the miner's market escrow (provider collateral for deals).
    #[arg(long, default_value = "10")]
    collateral: Token,
    /// The lowest price per epoch accepted.
    #[arg(long, default_value = "1atto")]
    min_price: Token,
    /// Deals must start at least this many epochs after they arrive.
    #[arg(long, default_value_t = 60)]
    min_start_delay: i64,
    /// Cores reserved for WindowPoSt and WinningPoSt: sealing and seal proofs never run on
    /// them [default: one per 8 cores].
    #[arg(long)]
    proving_threads: Option<usize>,
    /// The provider's database: a PostgreSQL URL (`postgres://user:pass@host:5432/db`) for a
    /// cluster — standby daemons and `strata worker` machines share it — or a SQLite file
    /// [default: HOME/provider.sqlite]. The schema is created (and later migrated) at start.
    #[arg(long)]
    db: Option<String>,
    #[command(flatten)]
    home: Home,
    #[command(flatten)]
    conn: Conn,
}

fn e(e: strata_chain_client::ChainError) -> anyhow::Error {
    anyhow!("{e}")
}

pub fn run(cmd: MinerCommand) -> Result<()> {
    match cmd {
        MinerCommand::Init(a) => init(a),
        MinerCommand::Run {
            home,
            conn,
            overrides,
        } => runtime()?.block_on(daemon(home, conn, overrides)),
        MinerCommand::Info { home, conn, json } => runtime()?.block_on(info(home, conn, json)),
        MinerCommand::Sectors(SectorsCommand::List { home, conn, json }) => {
            runtime()?.block_on(sectors(home, conn, json, None))
        }
        MinerCommand::Sectors(SectorsCommand::Status {
            number,
            home,
            conn,
            json,
        }) => runtime()?.block_on(sectors(home, conn, json, Some(number))),
        MinerCommand::Sectors(SectorsCommand::Extend {
            numbers,
            to,
            home,
            conn,
        }) => runtime()?.block_on(extend(home, conn, numbers, to)),
        MinerCommand::ChangeWorker {
            new_key,
            confirm,
            home,
            conn,
        } => runtime()?.block_on(change_worker(home, conn, new_key, confirm)),
        MinerCommand::Deals { home, conn, json } => runtime()?.block_on(deals(home, conn, json)),
        MinerCommand::Pledge { home } => {
            let db = home.db()?;
            let n = db.next_sector_number()?;
            db.new_sector(n, &[])?;
            println!("sector {n} queued as committed capacity; `strata miner run` seals it");
            Ok(())
        }
    }
}

fn init(a: InitArgs) -> Result<()> {
    let home = a.home.path();
    if strata_provider::config::config_path(&home).exists() {
        bail!(
            "{} already holds a provider; use another --home",
            home.display()
        );
    }
    let size: strata_primitives::sizes::SectorSize =
        a.sector_size.parse().map_err(|e| anyhow!("{e}"))?;
    let pt = ProofType::for_size(size)?;
    if let Some(db) = &a.db {
        // Before anything is created on chain: the database must be reachable and migratable.
        Db::open_location(db)?;
    }
    let owner = a.conn.key(&a.owner)?;
    let worker_name = a.worker.clone().unwrap_or_else(|| a.owner.clone());
    let worker = a.conn.key(&worker_name)?;
    let endpoint = a
        .endpoint
        .clone()
        .unwrap_or_else(|| format!("http://{}", a.listen));
    runtime()?.block_on(async {
        let rpc = a.conn.client()?;
        let id = send(
            &rpc,
            &owner,
            Method::CreateMiner {
                worker: worker.address(),
                proof_type: pt.id,
                deal_endpoint: endpoint.clone(),
            },
            false,
        )
        .await?;
        let miner = rpc.receipt(id).await.map_err(e)?.result["miner"]
            .as_u64()
            .ok_or_else(|| anyhow!("no miner id in the receipt"))?;
        send(
            &rpc,
            &owner,
            Method::AddMinerBalance {
                miner,
                amount: a.balance,
            },
            false,
        )
        .await?;
        send(
            &rpc,
            &owner,
            Method::AddEscrow {
                to: EscrowHolder::Miner(miner),
                amount: a.collateral,
            },
            false,
        )
        .await?;
        let config = ProviderConfig {
            miner,
            owner: owner.address(),
            worker: worker.address(),
            worker_key: worker_name,
            keystore: a.conn.keystore_path(),
            rpc: a.conn.rpc.clone(),
            listen: a.listen,
            proof_type: pt.id,
            min_price_per_epoch: a.min_price,
            min_start_delay: a.min_start_delay,
            max_parallel_jobs: 1,
            winning_min_interval: 0,
            accept_repairs: false,
            proving_threads: a
                .proving_threads
                .unwrap_or_else(strata_provider::config::default_proving_threads),
            sealing_nice: strata_provider::config::default_sealing_nice(),
            params_dir: None,
            parent_cache: None,
            db: a.db.clone(),
            tasks: None,
            machine_name: None,
            dead_after_ms: strata_provider::config::default_dead_after_ms(),
            seal_batch: Default::default(),
            console_token: Some(
                strata_provider::config::new_console_token()
                    .map_err(|e| anyhow!("no randomness for the console token: {e}"))?,
            ),
            onboarding: Default::default(),
        };
        config.save(&home)?;
        println!(
            "miner m{miner} created ({size} sectors, endpoint {endpoint}); config in {}",
            home.display()
        );
        println!(
            "web console at http://{}/ once `strata miner run` starts; actions need the \
             console_token in {}",
            a.listen,
            strata_provider::config::config_path(&home).display()
        );
        Ok(())
    })
}

async fn daemon(home: Home, conn: Conn, overrides: RunOverrides) -> Result<()> {
    let h = home.path();
    let mut config = home.config()?;
    overrides.apply(&mut config);
    if let Some(t) = &config.tasks {
        strata_provider::worker::parse_kinds(t)?;
    }
    let conn = Conn {
        rpc: if conn.rpc == "http://127.0.0.1:1234" {
            config.rpc.clone()
        } else {
            conn.rpc
        },
        keystore: Some(config.keystore.clone()),
    };
    let worker = conn.key(&config.worker_key)?;
    let chain: Arc<dyn ChainApi> = Arc::new(conn.client()?);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    // Seal proofs run in a child process of this binary, so they can be stopped while a PoSt
    // is being proven.
    let prover = strata_provider::seal_prover::SealProver::Child(
        std::env::current_exe().context("locating the strata binary for seal proofs")?,
    );
    let p = loop {
        match Provider::open_with(
            &h,
            config.clone(),
            chain.clone(),
            KeyPair::from_secret(&worker.secret()),
            prover.clone(),
        )
        .await
        {
            Ok(p) => break p,
            Err(strata_provider::ProviderError::Chain(err))
                if err.kind == strata_chain_client::ErrorKind::Unavailable =>
            {
                eprintln!("chain unreachable ({err}); retrying in 2 s");
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
            Err(err) => return Err(err.into()),
        }
    };
    println!(
        "m{} provider running: deals and /metrics on http://{}, home {}",
        config.miner,
        config.listen,
        h.display()
    );
    tokio::select! {
        r = p.run(listener) => r?,
        _ = tokio::signal::ctrl_c() => println!("stopping"),
    }
    Ok(())
}

fn chain_conn(home: &Path, conn: &Conn) -> Result<strata_chain_client::RpcClient> {
    let config = ProviderConfig::load(home)?;
    let url = if conn.rpc == "http://127.0.0.1:1234" {
        config.rpc
    } else {
        conn.rpc.clone()
    };
    Ok(strata_chain_client::RpcClient::new(&url)?)
}

/// The provider's chain connection and keystore: the config's unless given.
fn config_conn(config: &ProviderConfig, conn: Conn) -> Conn {
    Conn {
        rpc: if conn.rpc == "http://127.0.0.1:1234" {
            config.rpc.clone()
        } else {
            conn.rpc
        },
        keystore: conn.keystore.or_else(|| Some(config.keystore.clone())),
    }
}

async fn extend(home: Home, conn: Conn, numbers: Vec<u64>, to: i64) -> Result<()> {
    let config = home.config()?;
    let conn = config_conn(&config, conn);
    let worker = conn.key(&config.worker_key)?;
    let rpc = conn.client()?;
    let extensions = numbers.iter().map(|n| (*n, to)).collect();
    let call = Method::ExtendSectorExpiration {
        miner: config.miner,
        extensions,
    };
    let id = send(&rpc, &worker, call, false).await?;
    println!(
        "sectors {numbers:?} of m{} now expire at epoch {to} (message {id})",
        config.miner
    );
    Ok(())
}

async fn change_worker(home: Home, conn: Conn, new_key: String, confirm: bool) -> Result<()> {
    let h = home.path();
    let mut config = home.config()?;
    let conn = config_conn(&config, conn);
    let owner = conn.key(&config.owner.to_string())?;
    let new = conn.key(&new_key)?;
    let rpc = conn.client()?;
    let miner = config.miner;
    if !confirm {
        let call = Method::ChangeWorkerAddress {
            miner,
            new_worker: new.address(),
        };
        let id = send(&rpc, &owner, call, false).await?;
        let at = &rpc.receipt(id).await.map_err(e)?.result["effective_at"];
        println!(
            "worker change of m{miner} to {} asked; it takes effect at epoch {at}: then run \
             `strata miner change-worker {new_key} --confirm` (until then {} signs)",
            new.address(),
            config.worker
        );
        return Ok(());
    }
    let info = rpc.miner(miner).await.map_err(e)?;
    match info.pending_worker {
        Some((w, _)) if w != new.address() => {
            bail!(
                "the pending change of m{miner} is to {w}, not {}",
                new.address()
            )
        }
        Some(_) => {
            send(
                &rpc,
                &owner,
                Method::ConfirmChangeWorkerAddress { miner },
                false,
            )
            .await?;
        }
        // Already put in place by the chain at a deadline's close.
        None if info.worker == new.address() => {}
        None => bail!("m{miner} has no worker change pending (ask for one first)"),
    }
    config.worker = new.address();
    config.worker_key = new_key;
    config.save(&h)?;
    println!(
        "m{miner}'s worker is now {}; the provider's config names it (restart `strata miner run`)",
        new.address()
    );
    Ok(())
}

async fn info(home: Home, conn: Conn, json: bool) -> Result<()> {
    let config = home.config()?;
    let rpc = chain_conn(&home.path(), &conn)?;
    let m = rpc.miner(config.miner).await.map_err(e)?;
    let db = home.db()?;
    let log = db.recent_log(10)?;
    let constants = rpc.network().await.map_err(e)?.constants;
    let partitions = rpc
        .deadlines(config.miner)
        .await
        .map_err(e)?
        .iter()
        .map(|d| {
            d.partitions
                .iter()
                .filter(|p| !p.sectors.is_empty())
                .count()
        })
        .max()
        .unwrap_or(1);
    let budgets = strata_provider::budget::post_budgets(&constants, &db, partitions);
    let times: serde_json::Map<String, serde_json::Value> = strata_provider::metrics::Timed::ALL
        .iter()
        .map(|t| {
            (
                t.as_str().to_string(),
                serde_json::json!(db.times(t.as_str()).unwrap_or_default()),
            )
        })
        .collect();
    let permanent = strata_chain_client::permanent::miner_summary(&rpc, config.miner)
        .await
        .map_err(e)?;
    let v = serde_json::json!({"miner": m, "permanent": permanent, "recent": log, "budgets": budgets, "times_ms": times});
    print(json, &v, |_| {
        let b = &m.balances;
        let mut s = format!(
            "m{}: power {} B raw, {} B quality-adjusted; {} active, {} faulty, {} pre-committed sectors; blocks won {}\n\
             available {} | pre-commit deposits {} | locked pledge {} | vesting {} | fee debt {}\n\
             escrow {} free, {} locked as deal collateral\n\
             next deadline {}: challenge at {}, window {}..{}, fault cutoff {}",
            m.id, m.raw_power, m.qa_power, m.sectors.active, m.sectors.faulty, m.sectors.precommitted, m.blocks_won,
            b.available, b.precommit_deposits, b.locked_pledge, b.vesting, b.fee_debt, b.escrow_free, b.escrow_locked,
            m.current_deadline.index, m.current_deadline.challenge, m.current_deadline.open, m.current_deadline.close, m.current_deadline.fault_cutoff
        );
        s.push_str(&format!(
            "\npermanent storage: {} replicas held ({} B), {} claimed and sealing; income {} upfront, {} from the endowment",
            permanent.replicas_held,
            permanent.bytes_held,
            permanent.replicas_claimed,
            permanent.upfront_income,
            permanent.endowment_income
        ));
        for b in &budgets {
            s.push_str(&format!("\n{}", b.describe()));
        }
        for l in &log {
            s.push_str(&format!("\n  [{}] {}: {}", l.epoch, l.kind, l.detail));
        }
        s
    });
    Ok(())
}

async fn sectors(home: Home, conn: Conn, json: bool, only: Option<u64>) -> Result<()> {
    let config = home.config()?;
    let rpc = chain_conn(&home.path(), &conn)?;
    let db = home.db()?;
    let mut rows = Vec::new();
    for s in db.sectors()? {
        if only.is_some_and(|n| n != s.number) {
            continue;
        }
        let chain = rpc.sector(config.miner, s.number).await.ok();
        rows.push(serde_json::json!({"local": s, "chain": chain}));
    }
    if let Some(n) = only {
        if rows.is_empty() {
            bail!("no sector {n} here");
        }
        let log: Vec<_> = db
            .recent_log(1000)?
            .into_iter()
            .filter(|l| l.detail.contains(&format!("sector {n}")))
            .collect();
        rows[0]["log"] = serde_json::to_value(log)?;
    }
    print(json, &rows, |rows| {
        if rows.is_empty() {
            return "no sectors yet".into();
        }
        rows.iter()
            .map(|r| {
                let l = &r["local"];
                let mut s = format!(
                    "sector {}: {} deals {} chain {}",
                    l["number"],
                    l["step"].as_str().unwrap_or(""),
                    l["deals"],
                    r["chain"]["status"].as_str().unwrap_or("-")
                );
                if let Some(err) = l["error"].as_str() {
                    s.push_str(&format!(
                        " — last error (attempt {}, retry at epoch {}): {err}",
                        l["attempts"], l["retry_at"]
                    ));
                }
                if let Some(log) = r["log"].as_array() {
                    for x in log {
                        s.push_str(&format!(
                            "\n  [{}] {}: {}",
                            x["epoch"],
                            x["kind"].as_str().unwrap_or(""),
                            x["detail"].as_str().unwrap_or("")
                        ));
                    }
                }
                s
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

async fn deals(home: Home, conn: Conn, json: bool) -> Result<()> {
    let rpc = chain_conn(&home.path(), &conn)?;
    let db = home.db()?;
    let mut rows = Vec::new();
    for d in db.deals()? {
        let chain = rpc.deal(d.id).await.ok();
        rows.push(serde_json::json!({"deal": d.id, "bytes": d.raw_len, "sector": d.sector, "client": d.proposal.proposal.client, "chain": chain}));
    }
    print(json, &rows, |rows| {
        if rows.is_empty() {
            return "no deals yet".into();
        }
        rows.iter()
            .map(|r| {
                format!(
                    "deal {}: {} B from {}, sector {}, {} (paid {})",
                    r["deal"],
                    r["bytes"],
                    r["client"].as_str().unwrap_or(""),
                    r["sector"],
                    r["chain"]["status"].as_str().unwrap_or("?"),
                    r["chain"]["paid"].as_str().unwrap_or("0")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    let _ = Step::Active;
    Ok(())
}
