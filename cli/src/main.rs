//! `strata`: the one binary for storage providers, clients and auditors.
//!
//! Sealing, unsealing, piece commitments, proofs and their offline verification, Groth16
//! parameters, the embedded devnet chain, keys and chain queries, the provider daemon, the
//! client's deal flow, the auditor's command and the demo (DESIGN §9).

mod bar;
mod beacon_cmd;
mod ceremony_cmd;
mod chain_cmd;
mod client_cmd;
mod cluster_cmd;
mod commands;
mod demo;
mod demo_permanent;
mod miner_cmd;
mod params_cmd;
mod permanent_cmd;
mod proofs_cmd;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Strata — a storage-provider proof engine: seal data into replica-unique sectors, commit to it
/// with Merkle roots, prove storage over time with SNARKs, and settle it on a chain.
#[derive(Parser)]
#[command(name = "strata", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Client tools: piece commitments, storage deals, retrieval.
    #[command(subcommand)]
    Client(ClientCommand),
    /// The storage provider: init, run the daemon, inspect sectors and deals.
    #[command(subcommand)]
    Miner(miner_cmd::MinerCommand),
    /// A cluster machine that runs sealing tasks from the shared database (no chain, no keys).
    #[command(subcommand)]
    Worker(cluster_cmd::WorkerCommand),
    /// What the provider's cluster is doing: machines, tasks, where sectors are stored.
    #[command(subcommand)]
    Cluster(cluster_cmd::ClusterCommand),
    /// The auditor: re-verify every proof a miner posted, offline, with batch verification.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Seal files into a new sector directory and print its commitments.
    ///
    /// Pieces are placed in order, each aligned to its padded size; the rest of the sector is
    /// zeros. The sector directory appears only when complete; an interrupted seal leaves a hidden
    /// `.NAME.sealing` directory that the next run removes.
    Seal(commands::SealArgs),
    /// Seal several sectors together, one per file: the labels of all of them are computed in
    /// one pass (one parent read per node for the whole batch, the hashes in SIMD lanes), which
    /// costs far less CPU per sector than sealing them one by one. Each sector directory is
    /// exactly what `strata seal` would make of the same file, number and ticket.
    ///
    /// Example: `strata seal-batch --sector-size 8MiB --prover-id 1000 --ticket 07…07 --out
    /// sectors --first-sector 1 a.bin b.bin c.bin` makes sectors/1, sectors/2 and sectors/3.
    #[command(name = "seal-batch")]
    SealBatch(commands::SealBatchArgs),
    /// Decode a sealed sector back to the original bytes of one piece (or the whole padded sector).
    /// Works on updated sectors too (it decodes the deal data of the update).
    Unseal(commands::UnsealArgs),
    /// Replica update (SnapDeals): put deal data into a copy of a committed-capacity sector
    /// without resealing — `new replica = old replica + data·ρ`, ρ from Poseidon over the new
    /// CommD and the old CommR. The old replica's tree is kept in the new directory's
    /// `cache/update/` until the update is proven.
    ///
    /// Example: `strata snap cc-sector --out updated deal.bin`, then `strata unseal updated
    /// --piece 0 --out back.bin` returns deal.bin.
    Snap(commands::SnapArgs),
    /// The whole life of a sector in one command: an embedded devnet, a provider and a client in a
    /// temporary directory — a deal, sealing, prove-commit, WindowPoSt deadlines, a WinningPoSt
    /// reward, a fault with its fee and the recovery, retrieval and an audit — narrated with the
    /// collateral as it changes. Exits 0 only if every check passed. `--offline` runs only the
    /// sealing and proof-file part, without a chain.
    Demo(commands::DemoArgs),
    /// Produce proof files: seal (PoRep), WinningPoSt, WindowPoSt.
    #[command(subcommand)]
    Prove(proofs_cmd::ProveCommand),
    /// The auditor's command: verify proof files offline (exit 0 only if all are valid).
    Verify(proofs_cmd::VerifyArgs),
    /// Groth16 parameters: generate, list, verify.
    #[command(subcommand)]
    Params(params_cmd::ParamsCommand),
    /// The multi-party trusted setup: powers of tau, then a phase 2 per circuit, whose result
    /// is sound if one contributor was honest.
    ///
    /// Typical run: `ceremony tau new --power 16 --out ptau`; each party runs `ceremony tau
    /// contribute ptau`; `ceremony tau beacon ptau --beacon HEX`; then per circuit `ceremony new
    /// --kind window --sector-size 2KiB --tau ptau --out w2k`, each party `ceremony contribute
    /// w2k`, and `ceremony finalize w2k`. Anyone can re-check with `ceremony verify`.
    #[command(subcommand)]
    Ceremony(ceremony_cmd::CeremonyCommand),
    /// Run the embedded devnet chain (or print a genesis to start from).
    #[command(subcommand)]
    Devnet(chain_cmd::DevnetCommand),
    /// Keys in the keystore, balances, transfers.
    #[command(subcommand)]
    Wallet(chain_cmd::WalletCommand),
    /// Read the chain: head, miners, sectors, deals, balance events.
    #[command(subcommand)]
    Chain(chain_cmd::ChainCommand),
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Compute a file's piece commitment (CommP) and padded piece size.
    Commp {
        /// The file.
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Store a file with a provider: CommP, a signed proposal, escrow funded if needed, the
    /// upload to the provider's endpoint (from its chain record), and the published deal.
    Deal(client_cmd::DealArgs),
    /// Store a file for ever (`--permanent`): pay the quote once — a share to the miners as
    /// their replicas activate, the rest into the chain's endowment, which pays them each
    /// proving period they prove the replica — and upload it to R distinct providers.
    Store(permanent_cmd::StoreArgs),
    /// Your deals and their state (published, active, slashed, expired) and payments so far.
    Deals {
        /// Your key (name, address or `faucet`).
        #[arg(long)]
        from: String,
        #[command(flatten)]
        conn: chain_cmd::Conn,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Get a deal's data back (the provider unseals it if needed), checked against its CommP.
    Retrieve {
        /// Deal id.
        deal: u64,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        conn: chain_cmd::Conn,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Fetch every proof a miner posted from the chain and verify them all offline.
    Miner {
        /// Miner id (m1000).
        id: String,
        #[command(flatten)]
        conn: chain_cmd::Conn,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STRATA_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Client(ClientCommand::Commp { file, json }) => commands::commp(&file, json),
        Command::Client(ClientCommand::Deal(args)) => client_cmd::deal(args),
        Command::Client(ClientCommand::Store(args)) => permanent_cmd::store(args),
        Command::Client(ClientCommand::Deals { from, conn, json }) => {
            client_cmd::deals(&from, &conn, json)
        }
        Command::Client(ClientCommand::Retrieve {
            deal,
            out,
            conn,
            json,
        }) => client_cmd::retrieve_cmd(deal, &out, &conn, json),
        Command::Miner(cmd) => miner_cmd::run(cmd),
        Command::Worker(cmd) => cluster_cmd::worker(cmd),
        Command::Cluster(cmd) => cluster_cmd::cluster(cmd),
        Command::Audit(AuditCommand::Miner { id, conn, json }) => {
            client_cmd::audit_cmd(&id, &conn, json)
        }
        Command::Seal(args) => commands::seal(args),
        Command::SealBatch(args) => commands::seal_batch(args),
        Command::Unseal(args) => commands::unseal(args),
        Command::Snap(args) => commands::snap(args),
        Command::Demo(args) if args.offline => commands::demo_offline(args),
        Command::Demo(args) if args.permanent => demo_permanent::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Params(cmd) => params_cmd::run(cmd),
        Command::Ceremony(cmd) => ceremony_cmd::run(cmd),
        Command::Prove(cmd) => proofs_cmd::prove(cmd),
        Command::Verify(args) => proofs_cmd::verify(args),
        Command::Devnet(cmd) => chain_cmd::devnet(cmd),
        Command::Wallet(cmd) => chain_cmd::wallet(cmd),
        Command::Chain(cmd) => chain_cmd::chain(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
