//! `strata client deal|deals|retrieve` and `strata audit miner`: what clients and auditors run.
//! The flows are plain async functions over `ChainApi`, so `strata demo` runs them unchanged
//! against the devnet in process.

use crate::chain_cmd::{runtime, send, Conn};
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use serde::Serialize;
use std::path::{Path, PathBuf};
use strata_chain_client::types::{
    parse_miner, DealId, DealProposal, EscrowHolder, Method, MinerId,
};
use strata_chain_client::views::{DealInfo, ProofRecord};
use strata_chain_client::{ChainApi, KeyPair, Token};
use strata_params::groth16_files::ParamsStore;

/// What a deal request needs.
pub struct DealRequest<'a> {
    /// The file.
    pub file: &'a Path,
    /// The provider.
    pub miner: MinerId,
    /// Price per epoch.
    pub price_per_epoch: Token,
    /// Epochs stored; `None`: the chain's minimum deal duration.
    pub duration: Option<i64>,
    /// Epochs from now until the deal starts; `None`: the earliest start the provider's ask
    /// names now, plus [`ASK_SLACK`] epochs for the upload.
    pub start_in: Option<i64>,
    /// Provider collateral asked for; `None`: the chain's minimum for this piece plus 10%.
    pub provider_collateral: Option<Token>,
    /// Verified (DataCap) deal.
    pub verified: bool,
}

fn e(e: strata_chain_client::ChainError) -> anyhow::Error {
    anyhow!("{e}")
}

/// The provider collateral a client asks for by default: the chain's minimum for a piece of
/// `piece_size` (10× its size in QA power if verified) at the current supply and power, plus 10%
/// so the supply's drift before the provider publishes cannot push it under the minimum.
pub fn default_collateral(
    net: &strata_chain_client::views::NetworkInfo,
    piece_size: u64,
    verified: bool,
) -> Token {
    let qa = piece_size as u128 * if verified { 10 } else { 1 };
    let min = strata_chain::economics::min_provider_collateral(
        &net.constants,
        net.circulating,
        net.raw_power,
        qa,
    );
    Token(min.0.saturating_add(min.0 / 10).saturating_add(1))
}

/// Proposes, funds escrow if needed, uploads to the provider's endpoint and returns the
/// published deal.
pub async fn make_deal(
    chain: &dyn ChainApi,
    client: &KeyPair,
    r: DealRequest<'_>,
) -> Result<DealInfo> {
    let path = r.file.to_path_buf();
    let len = std::fs::metadata(&path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    if len == 0 {
        bail!("{} is empty", path.display());
    }
    let p2 = path.clone();
    let info = tokio::task::spawn_blocking(move || {
        strata_sealer::comm_p(std::io::BufReader::new(std::fs::File::open(&p2)?), len)
            .map_err(|e| std::io::Error::other(e.to_string()))
    })
    .await??;
    let miner = chain.miner(r.miner).await.map_err(e)?;
    if info.padded_size > miner.sector_size {
        bail!(
            "{} ({} B padded) does not fit m{}'s {} B sectors",
            path.display(),
            info.padded_size,
            r.miner,
            miner.sector_size
        );
    }
    if miner.deal_endpoint.is_empty() {
        bail!("m{} publishes no deal endpoint", r.miner);
    }
    let head = chain.head().await.map_err(e)?;
    let (network, head) = (head.network, head.epoch);
    let start_in = match r.start_in {
        Some(n) => n,
        None => ask_earliest(&miner.deal_endpoint).await? - head + ASK_SLACK,
    };
    let net = chain.network().await.map_err(e)?;
    let duration = r.duration.unwrap_or(net.constants.min_deal_duration);
    let provider_collateral = r
        .provider_collateral
        .unwrap_or_else(|| default_collateral(&net, info.padded_size, r.verified));
    let proposal = DealProposal {
        network,
        piece_cid: info.comm_p,
        piece_size: info.padded_size,
        client: client.address(),
        provider: r.miner,
        start_epoch: head + start_in,
        end_epoch: head + start_in + duration,
        price_per_epoch: r.price_per_epoch,
        provider_collateral,
        client_collateral: Token::ZERO,
        verified: r.verified,
        label: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let total = proposal
        .total_price()
        .ok_or_else(|| anyhow!("price × duration overflows"))?;
    let acc = chain.account(client.address()).await.map_err(e)?;
    if acc.escrow_free < total {
        let need = Token(total.0 - acc.escrow_free.0);
        if acc.balance < need {
            bail!(
                "the deal costs {total}; escrow has {} and the balance {} cannot cover the rest",
                acc.escrow_free,
                acc.balance
            );
        }
        send(
            chain,
            client,
            Method::AddEscrow {
                to: EscrowHolder::Account(client.address()),
                amount: need,
            },
            false,
        )
        .await?;
    }
    let signed = proposal.sign(client)?;
    let file = tokio::fs::File::open(&path).await?;
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/deals",
            miner.deal_endpoint.trim_end_matches('/')
        ))
        .header("x-strata-proposal", serde_json::to_string(&signed)?)
        .header("content-length", len)
        .body(reqwest::Body::wrap_stream(
            tokio_util::io::ReaderStream::new(file),
        ))
        .send()
        .await
        .with_context(|| format!("the provider at {} is unreachable", miner.deal_endpoint))?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    if !status.is_success() {
        bail!(
            "the provider refused the deal ({status}): {}",
            body["error"].as_str().unwrap_or("no reason given")
        );
    }
    let id = body["deal_id"]
        .as_u64()
        .ok_or_else(|| anyhow!("the provider's answer names no deal: {body}"))?;
    chain
        .deal(id)
        .await
        .map_err(|err| anyhow!("the provider says deal {id}, but the chain: {err}"))
}

/// Downloads a deal's data from its provider, checks it against the deal's CommP and writes it
/// to `out` (temp file, fsync, rename). Returns the number of bytes.
pub async fn retrieve(chain: &dyn ChainApi, deal: DealId, out: &Path) -> Result<u64> {
    let d = chain.deal(deal).await.map_err(e)?;
    let miner = chain.miner(d.proposal.provider).await.map_err(e)?;
    let url = format!(
        "{}/deals/{deal}/data",
        miner.deal_endpoint.trim_end_matches('/')
    );
    let resp = reqwest::get(&url)
        .await
        .with_context(|| format!("the provider at {url} is unreachable"))?;
    if !resp.status().is_success() {
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        bail!(
            "the provider cannot serve deal {deal} ({status}): {}",
            body["error"].as_str().unwrap_or("")
        );
    }
    let bytes = resp.bytes().await.context("download cut off")?;
    let len = bytes.len() as u64;
    let info = strata_sealer::comm_p(&bytes[..], len).map_err(|e| anyhow!("{e}"))?;
    if info.comm_p != d.proposal.piece_cid || info.padded_size != d.proposal.piece_size {
        bail!(
            "the data served for deal {deal} does not match its CommP ({} vs {})",
            hex::encode(info.comm_p),
            hex::encode(d.proposal.piece_cid)
        );
    }
    let tmp = strata_primitives::merkle::tmp_path(out);
    std::fs::write(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, out)?;
    Ok(len)
}

/// An audit's outcome.
#[derive(Debug, Serialize)]
pub struct AuditReport {
    /// Miner.
    pub miner: MinerId,
    /// Proofs checked, by kind.
    pub seal: usize,
    /// WindowPoSt partitions.
    pub window: usize,
    /// WinningPoSts.
    pub winning: usize,
    /// Proofs whose randomness was re-derived from verified beacon entries.
    pub beacon_checked: usize,
    /// Invalid ones: what and why.
    pub invalid: Vec<(String, String)>,
}

/// Re-verifies every proof the miner posted, offline (batch verification per key; see
/// `strata_prover::proof_file::audit`).
pub fn audit(proofs: &[ProofRecord], miner: MinerId, store: &ParamsStore) -> AuditReport {
    let mut report = AuditReport {
        miner,
        seal: 0,
        window: 0,
        winning: 0,
        beacon_checked: 0,
        invalid: vec![],
    };
    for p in proofs {
        match p.file.kind() {
            strata_params::groth16_files::ProofKind::Porep => report.seal += 1,
            strata_params::groth16_files::ProofKind::Window => report.window += 1,
            strata_params::groth16_files::ProofKind::Winning => report.winning += 1,
        }
    }
    // Proofs of their own, batch-checked per key; seal proofs inside an aggregate (their
    // records carry no proof) are checked as whole aggregates.
    let own: Vec<&ProofRecord> = proofs.iter().filter(|p| !p.is_aggregated()).collect();
    let files: Vec<_> = own.iter().map(|p| &p.file).collect();
    report.invalid = strata_prover::proof_file::audit(&files, store)
        .into_iter()
        .map(|(i, why)| (format!("{} at epoch {}", own[i].what, own[i].epoch), why))
        .collect();
    for group in ProofRecord::aggregates(proofs) {
        match group {
            Ok(a) => {
                if let Err(e) = a.to_file().verify(store) {
                    let first = a.members[0];
                    report.invalid.push((
                        format!(
                            "aggregate of {} seal proofs from {} at epoch {}",
                            a.members.len(),
                            first.what,
                            first.epoch
                        ),
                        e.to_string(),
                    ));
                }
            }
            Err(e) => report.invalid.push(("an aggregate".into(), e)),
        }
    }
    report
}

/// Adds to `report` every proof whose randomness is not the beacon's: each draw behind it is
/// re-derived from the beacon entry of its epoch, verified against the network's key.
pub async fn audit_randomness(
    api: &dyn ChainApi,
    proofs: &[ProofRecord],
    report: &mut AuditReport,
) {
    for p in proofs {
        match strata_chain_client::audit::check_randomness(api, p).await {
            Ok(()) => report.beacon_checked += 1,
            Err(why) => report
                .invalid
                .push((format!("{} at epoch {}", p.what, p.epoch), why)),
        }
    }
}

#[derive(Args)]
pub struct DealArgs {
    /// The provider (m1000).
    #[arg(long)]
    miner: String,
    /// Price per epoch (`0.001`, `1000atto`).
    #[arg(long)]
    price_per_epoch: Token,
    /// Epochs to store the data [default: the chain's minimum deal duration, 180 days].
    #[arg(long)]
    duration: Option<i64>,
    /// Epochs from now until the deal starts (time for the provider to seal and prove)
    /// [default: the earliest start the provider's ask names now, plus a few epochs].
    #[arg(long)]
    start_in: Option<i64>,
    /// Collateral the provider locks (burnt if it fails the deal) [default: the chain's minimum
    /// for the piece, plus 10%].
    #[arg(long)]
    provider_collateral: Option<Token>,
    /// Pay with DataCap; counts 10× in the provider's power.
    #[arg(long)]
    verified: bool,
    /// The client key (name, address or `faucet`).
    #[arg(long)]
    from: String,
    /// The file.
    file: PathBuf,
    #[command(flatten)]
    conn: Conn,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn show_deal(d: &DealInfo) -> String {
    format!(
        "deal {} with m{}: {:?}; piece {} ({} B); epochs {}..{}; paid {} so far; sector {:?}",
        d.id,
        d.proposal.provider,
        d.status,
        hex::encode(d.proposal.piece_cid),
        d.proposal.piece_size,
        d.proposal.start_epoch,
        d.proposal.end_epoch,
        d.paid,
        d.sector
    )
}

/// Epochs added to the provider's earliest start when the client lets the provider choose.
pub const ASK_SLACK: i64 = 10;

/// The earliest start epoch the provider at `endpoint` accepts now (its `GET /ask`).
pub async fn ask_earliest(endpoint: &str) -> Result<i64> {
    let url = format!("{}/ask", endpoint.trim_end_matches('/'));
    let ask: serde_json::Value = reqwest::get(&url)
        .await
        .with_context(|| format!("the provider at {endpoint} is unreachable"))?
        .error_for_status()
        .with_context(|| format!("the provider at {endpoint} refused its ask"))?
        .json()
        .await
        .with_context(|| format!("the provider at {endpoint} sent a malformed ask"))?;
    ask["earliest_start_epoch"]
        .as_i64()
        .ok_or_else(|| anyhow!("the provider at {endpoint} names no earliest start epoch"))
}

pub fn deal(a: DealArgs) -> Result<()> {
    runtime()?.block_on(async {
        let rpc = a.conn.client()?;
        let key = a.conn.key(&a.from)?;
        let miner = parse_miner(&a.miner).map_err(|m| anyhow!(m))?;
        let d = make_deal(
            &rpc,
            &key,
            DealRequest {
                file: &a.file,
                miner,
                price_per_epoch: a.price_per_epoch,
                duration: a.duration,
                start_in: a.start_in,
                provider_collateral: a.provider_collateral,
                verified: a.verified,
            },
        )
        .await?;
        crate::chain_cmd::print(a.json, &d, show_deal);
        Ok(())
    })
}

pub fn deals(from: &str, conn: &Conn, json: bool) -> Result<()> {
    runtime()?.block_on(async {
        let me = conn.address(from)?;
        let all: Vec<DealInfo> = conn
            .client()?
            .deals()
            .await
            .map_err(e)?
            .into_iter()
            .filter(|d| d.proposal.client == me)
            .collect();
        crate::chain_cmd::print(json, &all, |all| {
            if all.is_empty() {
                format!("no deals from {me}")
            } else {
                all.iter().map(show_deal).collect::<Vec<_>>().join("\n")
            }
        });
        Ok(())
    })
}

pub fn retrieve_cmd(deal: DealId, out: &Path, conn: &Conn, json: bool) -> Result<()> {
    runtime()?.block_on(async {
        let n = retrieve(&conn.client()?, deal, out).await?;
        crate::chain_cmd::print(
            json,
            &serde_json::json!({"deal": deal, "bytes": n, "out": out}),
            |_| {
                format!(
                    "deal {deal}: {n} bytes written to {} (CommP checked)",
                    out.display()
                )
            },
        );
        Ok(())
    })
}

pub fn audit_cmd(miner: &str, conn: &Conn, json: bool) -> Result<()> {
    let id = parse_miner(miner).map_err(|m| anyhow!(m))?;
    let report = runtime()?.block_on(async {
        let rpc = conn.client()?;
        let proofs = rpc.proofs(id).await.map_err(e)?;
        let p2 = proofs.clone();
        let mut report = tokio::task::spawn_blocking(move || {
            audit(&p2, id, &ParamsStore::new(ParamsStore::default_dir()))
        })
        .await?;
        audit_randomness(&rpc, &proofs, &mut report).await;
        anyhow::Ok(report)
    })?;
    crate::chain_cmd::print(json, &report, |r| {
        let mut s = format!(
            "m{}: {} proofs re-verified offline ({} seal, {} WindowPoSt, {} WinningPoSt); the randomness of {} re-derived from verified beacon entries",
            r.miner,
            r.seal + r.window + r.winning,
            r.seal,
            r.window,
            r.winning,
            r.beacon_checked
        );
        if r.invalid.is_empty() {
            s.push_str(" — all valid");
        }
        for (what, why) in &r.invalid {
            s.push_str(&format!("\nINVALID {what}: {why}"));
        }
        s
    });
    if !report.invalid.is_empty() {
        bail!("{} invalid proofs", report.invalid.len());
    }
    Ok(())
}
