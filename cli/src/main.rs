//! `strata`: the one binary for storage providers, clients and auditors.
//!
//! Today it seals and unseals sectors and computes piece commitments; proving, verification,
//! the chain and the provider daemon arrive as their crates land (see DESIGN §9).

mod bar;
mod commands;
mod params_cmd;
mod proofs_cmd;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Strata — a storage-provider proof engine: seal data into replica-unique sectors, commit to it
/// with Merkle roots, and (soon) prove storage over time with SNARKs.
#[derive(Parser)]
#[command(name = "strata", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Client tools: piece commitments.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Seal files into a new sector directory and print its commitments.
    ///
    /// Pieces are placed in order, each aligned to its padded size; the rest of the sector is
    /// zeros. The sector directory appears only when complete; an interrupted seal leaves a hidden
    /// `.NAME.sealing` directory that the next run removes.
    Seal(commands::SealArgs),
    /// Decode a sealed sector back to the original bytes of one piece (or the whole padded sector).
    Unseal(commands::UnsealArgs),
    /// Seal a sample file on a fresh temporary directory, unseal it, and check the round trip.
    Demo(commands::DemoArgs),
    /// Produce proof files: seal (PoRep), WinningPoSt, WindowPoSt.
    #[command(subcommand)]
    Prove(proofs_cmd::ProveCommand),
    /// The auditor's command: verify proof files offline (exit 0 only if all are valid).
    Verify(proofs_cmd::VerifyArgs),
    /// Groth16 parameters: generate, list, verify.
    #[command(subcommand)]
    Params(params_cmd::ParamsCommand),
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
        Command::Seal(args) => commands::seal(args),
        Command::Unseal(args) => commands::unseal(args),
        Command::Demo(args) => commands::demo(args),
        Command::Params(cmd) => params_cmd::run(cmd),
        Command::Prove(cmd) => proofs_cmd::prove(cmd),
        Command::Verify(args) => proofs_cmd::verify(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
