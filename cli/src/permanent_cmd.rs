//! `strata client store --permanent` and `strata chain endowment`: paying once for permanent
//! storage (the quote, the payment, the uploads to R distinct providers) and reading the
//! endowment that pays for it.

use crate::chain_cmd::{print, runtime, send, Conn};
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use serde::Serialize;
use std::path::{Path, PathBuf};
use strata_chain_client::permanent::{EndowmentInfo, PermanentQuote};
use strata_chain_client::types::{parse_miner, Method, MinerId};
use strata_chain_client::{ChainApi, KeyPair, Token};

fn e(e: strata_chain_client::ChainError) -> anyhow::Error {
    anyhow!("{e}")
}

#[derive(Args)]
pub struct StoreArgs {
    /// The file.
    pub file: PathBuf,
    /// Pay once for storage for ever (the only kind `store` makes; term deals are `client
    /// deal`): the fee funds the chain's endowment, which pays the replicas' miners every
    /// proving period they prove them.
    #[arg(long)]
    pub permanent: bool,
    /// Replicas, each on a different miner.
    #[arg(long, default_value_t = 2)]
    pub replicas: u64,
    /// The miners to upload to (m1000), in order of preference [default: every miner with a
    /// deal endpoint whose sectors fit the piece, lowest id first]. Slots not taken now stay
    /// open for any miner that repairs.
    #[arg(long = "provider")]
    pub providers: Vec<String>,
    /// Refuse to pay more than this (`0.01`) [default: the quote].
    #[arg(long)]
    pub max_fee: Option<Token>,
    /// Paying key (name, address or `faucet`).
    #[arg(long)]
    pub from: String,
    #[command(flatten)]
    pub conn: Conn,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// What a permanent store did.
#[derive(Clone, Debug, Serialize)]
pub struct StoreReport {
    /// The permanent piece's id.
    pub piece: u64,
    /// Its CommP, hex.
    pub piece_cid: String,
    /// What was paid.
    pub quote: PermanentQuote,
    /// The providers that took a replica: (miner, deal).
    pub replicas: Vec<(MinerId, u64)>,
    /// The providers that refused, and why.
    pub refused: Vec<(MinerId, String)>,
}

/// Pays for permanent storage of `file` on `replicas` miners and uploads it to the first
/// `replicas` of `providers` (or of the miners with endpoints) that accept.
pub async fn store_permanent(
    chain: &dyn ChainApi,
    client: &KeyPair,
    file: &Path,
    replicas: u64,
    providers: Option<Vec<MinerId>>,
    max_fee: Option<Token>,
) -> Result<StoreReport> {
    let len = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    if len == 0 {
        bail!("{} is empty", file.display());
    }
    let p2 = file.to_path_buf();
    let info = tokio::task::spawn_blocking(move || {
        strata_sealer::comm_p(std::io::BufReader::new(std::fs::File::open(&p2)?), len)
            .map_err(|e| std::io::Error::other(e.to_string()))
    })
    .await??;
    let quote = chain
        .permanent_quote(info.padded_size, replicas)
        .await
        .map_err(e)?;
    let max_fee = max_fee.unwrap_or(quote.total);
    let candidates = match providers {
        Some(p) => p,
        None => chain.miners().await.map_err(e)?,
    };
    let id = send(
        chain,
        client,
        Method::StorePermanent {
            piece_cid: info.comm_p,
            piece_size: info.padded_size,
            replicas,
            max_fee,
        },
        true,
    )
    .await?;
    let receipt = chain.receipt(id).await.map_err(e)?;
    let piece = receipt.result["piece"]
        .as_u64()
        .ok_or_else(|| anyhow!("the receipt names no piece: {}", receipt.result))?;
    let paid: PermanentQuote = serde_json::from_value(receipt.result["quote"].clone())?;
    let mut report = StoreReport {
        piece,
        piece_cid: hex::encode(info.comm_p),
        quote: paid,
        replicas: vec![],
        refused: vec![],
    };
    for m in candidates {
        if report.replicas.len() as u64 >= replicas {
            break;
        }
        let info = chain.miner(m).await.map_err(e)?;
        if info.deal_endpoint.is_empty() || info.sector_size < report.quote.piece_size {
            continue;
        }
        match upload(&info.deal_endpoint, piece, file, len).await {
            Ok(deal) => report.replicas.push((m, deal)),
            Err(why) => report.refused.push((m, why.to_string())),
        }
    }
    Ok(report)
}

async fn upload(endpoint: &str, piece: u64, file: &Path, len: u64) -> Result<u64> {
    let f = tokio::fs::File::open(file).await?;
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/permanent/{piece}",
            endpoint.trim_end_matches('/')
        ))
        .header("content-length", len)
        .body(reqwest::Body::wrap_stream(
            tokio_util::io::ReaderStream::new(f),
        ))
        .send()
        .await
        .with_context(|| format!("the provider at {endpoint} is unreachable"))?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    if !status.is_success() {
        bail!(
            "{status}: {}",
            body["error"].as_str().unwrap_or("no reason given")
        );
    }
    body["deal_id"]
        .as_u64()
        .ok_or_else(|| anyhow!("the provider's answer names no deal: {body}"))
}

/// `strata client store`.
pub fn store(a: StoreArgs) -> Result<()> {
    if !a.permanent {
        bail!(
            "`client store` makes permanent storage: pass --permanent (a deal for a term is \
             `strata client deal`)"
        );
    }
    runtime()?.block_on(async {
        let rpc = a.conn.client()?;
        let key = a.conn.key(&a.from)?;
        let providers = if a.providers.is_empty() {
            None
        } else {
            Some(
                a.providers
                    .iter()
                    .map(|p| parse_miner(p).map_err(|m| anyhow!(m)))
                    .collect::<Result<Vec<_>>>()?,
            )
        };
        let r = store_permanent(&rpc, &key, &a.file, a.replicas, providers, a.max_fee).await?;
        print(a.json, &r, |r| {
            let mut out = format!(
                "permanent piece {} (CommP {}, {} B × {} replicas): paid {} — {} into the endowment, {} to the miners as their replicas activate",
                r.piece, r.piece_cid, r.quote.piece_size, r.quote.replicas, r.quote.total, r.quote.endowment, r.quote.upfront
            );
            for (m, d) in &r.replicas {
                out += &format!("\n  m{m} took a replica (deal {d})");
            }
            for (m, why) in &r.refused {
                out += &format!("\n  m{m} refused: {why}");
            }
            let open = r.quote.replicas - r.replicas.len() as u64;
            if open > 0 {
                out += &format!("\n  {open} slot(s) stay open for any miner that repairs");
            }
            out
        });
        if r.replicas.is_empty() {
            bail!("no provider took a replica; the slots stay open on chain for repairs");
        }
        Ok(())
    })
}

/// Text for `chain endowment`.
pub fn show_endowment(e: &EndowmentInfo) -> String {
    let years = match e.years_covered {
        None => "for ever on the current curve".to_string(),
        Some(y) => format!("{y:.1} years on the current curve"),
    };
    format!(
        "endowment at epoch {}: pool {}, arrears {}, paid out {}, upfront shares held {}\n\
         owes {} per proving period now ({} replicas held, {} claimed, {} open; {} pieces, {} B of weave)\n\
         obligations (perpetual value of every slot) {}: the pool covers {years}\n\
         storage costs {} per byte-year now; Kryder+ multiplier {}{}",
        e.epoch,
        e.pool,
        e.arrears,
        e.paid_out,
        e.upfront_held,
        e.owed_per_period,
        e.replicas_held,
        e.replicas_claimed,
        e.replicas_open,
        e.pieces,
        e.weave_bytes,
        e.obligations,
        e.price_per_byte_year,
        e.multiplier,
        if e.latched { " (latched: the pool is short)" } else { "" }
    )
}

/// `strata chain endowment`.
pub fn endowment(conn: &Conn, pieces: bool, json: bool) -> Result<()> {
    runtime()?.block_on(async {
        let rpc = conn.client()?;
        let info = rpc.endowment().await.map_err(e)?;
        if !pieces {
            print(json, &info, show_endowment);
            return Ok(());
        }
        let list = rpc.permanent_pieces().await.map_err(e)?;
        let v = serde_json::json!({ "endowment": info, "pieces": list });
        print(json, &v, |_| {
            let mut out = show_endowment(&info);
            for p in &list {
                out += &format!(
                    "\npiece {} CommP {} {} B at weave offset {}, stored at epoch {}, paid {}",
                    p.id,
                    hex::encode(p.piece_cid),
                    p.piece_size,
                    p.weave_offset,
                    p.created,
                    p.fee
                );
                for r in &p.replicas {
                    out += &format!(
                        "\n  slot {}: {:?}{}{} (re-offered {} times)",
                        r.slot,
                        r.status,
                        r.miner.map(|m| format!(" m{m}")).unwrap_or_default(),
                        r.deal.map(|d| format!(" deal {d}")).unwrap_or_default(),
                        r.reoffered
                    );
                }
            }
            out
        });
        Ok(())
    })
}
