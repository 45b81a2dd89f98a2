//! The provider's HTTP endpoint (axum): clients upload deals (`POST /deals`, the signed proposal
//! in the `x-strata-proposal` header, the piece bytes as the body) and retrieve data
//! (`GET /deals/{id}/data`, unsealing when no unsealed copy is kept) and upload the pieces they
//! stored permanently (`POST /permanent/{piece}`, checked against the piece's CommP on chain
//! before a replica slot is claimed); operators scrape
//! `GET /metrics` and read `GET /status`.
//!
//! An upload is streamed to a temporary file, fsynced, its CommP recomputed and compared with the
//! proposal, and only then is the deal published on chain and the file renamed into place; a cut
//! off upload, a CommP mismatch or a refused proposal leaves nothing behind.

use crate::cluster::SectorAt;
use crate::db::Step;
use crate::Provider;
use axum::body::Body;
use axum::extract::{Path as AxPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::sync::Arc;
use strata_chain_client::types::{Method, SignedProposal};
use tokio::io::AsyncWriteExt;

/// Header carrying the signed proposal (JSON).
pub const PROPOSAL_HEADER: &str = "x-strata-proposal";

/// The endpoint's routes.
pub fn router(p: Arc<Provider>) -> Router {
    Router::new()
        .route("/deals", post(upload))
        .route("/deals/{id}/data", get(retrieve))
        .route("/permanent/{piece}", post(upload_permanent))
        .route("/metrics", get(metrics))
        .route("/status", get(status))
        .route("/ask", get(ask))
        .with_state(p)
}

type Reject = (StatusCode, Json<Value>);

fn reject(code: StatusCode, msg: impl Into<String>) -> Reject {
    let msg = msg.into();
    tracing::warn!(%msg, "deal refused");
    (code, Json(json!({ "error": msg })))
}

/// A standby cannot publish deals (it does not sign): it refuses before reading any data.
fn leading(p: &Provider) -> Result<(), Reject> {
    if p.leader.is_leader() {
        return Ok(());
    }
    Err(reject(
        StatusCode::SERVICE_UNAVAILABLE,
        "this daemon is a standby: send deals to the leading daemon (the endpoint on chain)",
    ))
}

async fn upload(
    State(p): State<Arc<Provider>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, Reject> {
    leading(&p)?;
    let proposal: SignedProposal = headers
        .get(PROPOSAL_HEADER)
        .and_then(|h| h.to_str().ok())
        .ok_or_else(|| {
            reject(
                StatusCode::BAD_REQUEST,
                format!("missing {PROPOSAL_HEADER} header"),
            )
        })
        .and_then(|s| {
            serde_json::from_str(s)
                .map_err(|e| reject(StatusCode::BAD_REQUEST, format!("malformed proposal: {e}")))
        })?;
    p.check_proposal(&proposal)
        .await
        .map_err(|m| reject(StatusCode::UNPROCESSABLE_ENTITY, m))?;
    let piece = proposal.proposal.piece_size;
    let tmp = p.home.join("pieces").join(format!(
        ".upload-{}.tmp",
        hex::encode(&blake3::hash(proposal.signature.as_bytes()).as_bytes()[..8])
    ));
    let cleanup = |e: Reject| {
        let _ = std::fs::remove_file(&tmp);
        e
    };
    let (len, info) = receive(body, piece, &tmp).await?;
    if info.comm_p != proposal.proposal.piece_cid || info.padded_size != piece {
        return Err(cleanup(reject(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "CommP mismatch: the data has {} ({} B padded), the proposal says {} ({piece} B)",
                hex::encode(info.comm_p),
                info.padded_size,
                hex::encode(proposal.proposal.piece_cid)
            ),
        )));
    }
    let msg = p
        .send(Method::PublishDeals {
            miner: p.miner(),
            deals: vec![proposal.clone()],
        })
        .await
        .map_err(|e| {
            cleanup(reject(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("publishing on chain: {e}"),
            ))
        })?;
    let receipt = p.chain.receipt(msg.clone()).await.map_err(|e| {
        cleanup(reject(
            StatusCode::BAD_GATEWAY,
            format!("reading the receipt: {e}"),
        ))
    })?;
    let id = receipt.result["deals"][0]
        .as_u64()
        .ok_or_else(|| cleanup(reject(StatusCode::BAD_GATEWAY, "the receipt names no deal")))?;
    let dest = p.piece_path(id);
    std::fs::rename(&tmp, &dest).map_err(|e| {
        cleanup(reject(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("storing the piece: {e}"),
        ))
    })?;
    if let Ok(d) = std::fs::File::open(p.home.join("pieces")) {
        let _ = d.sync_all();
    }
    p.db.insert_deal(id, &proposal, len)
        .map_err(|e| reject(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let _ = p.db.log(
        receipt.epoch.unwrap_or(0),
        "deal_accepted",
        &format!("deal {id}: {len} bytes from {}", proposal.proposal.client),
    );
    tracing::info!(deal = id, bytes = len, "deal accepted and published");
    Ok(Json(json!({ "deal_id": id, "message": msg, "bytes": len })))
}

/// Streams an upload of a `piece`-byte piece into `tmp` (fsynced) and computes its CommP; on any
/// failure `tmp` is removed and the reason returned.
async fn receive(
    body: Body,
    piece: u64,
    tmp: &std::path::Path,
) -> Result<(u64, strata_sealer::PieceInfo), Reject> {
    let max_len = piece / 128 * 127;
    let cleanup = |e: Reject| {
        let _ = std::fs::remove_file(tmp);
        e
    };
    let mut f = tokio::fs::File::create(tmp).await.map_err(|e| {
        reject(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot store the upload: {e}"),
        )
    })?;
    let mut len = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            cleanup(reject(
                StatusCode::BAD_REQUEST,
                format!("upload cut off after {len} bytes: {e}"),
            ))
        })?;
        len += chunk.len() as u64;
        if len > max_len {
            return Err(cleanup(reject(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("more than {max_len} bytes for a {piece}-byte piece"),
            )));
        }
        f.write_all(&chunk).await.map_err(|e| {
            cleanup(reject(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("writing the upload: {e}"),
            ))
        })?;
    }
    f.sync_all().await.map_err(|e| {
        cleanup(reject(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("fsync: {e}"),
        ))
    })?;
    drop(f);
    if len == 0 {
        return Err(cleanup(reject(StatusCode::BAD_REQUEST, "empty upload")));
    }
    let t2 = tmp.to_path_buf();
    let info = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&t2).map_err(|e| e.to_string())?;
        strata_sealer::comm_p(std::io::BufReader::new(file), len).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| cleanup(reject(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())))?
    .map_err(|e| {
        cleanup(reject(
            StatusCode::BAD_REQUEST,
            format!("cannot compute CommP: {e}"),
        ))
    })?;
    Ok((len, info))
}

/// `POST /permanent/{piece}`: a client's upload of a permanent piece it paid for; the data is
/// checked against the piece's CommP on chain and a replica slot claimed for it.
async fn upload_permanent(
    State(p): State<Arc<Provider>>,
    AxPath(piece): AxPath<u64>,
    body: Body,
) -> Result<Json<Value>, Reject> {
    leading(&p)?;
    let info = p
        .chain
        .permanent_piece(piece)
        .await
        .map_err(|e| reject(StatusCode::NOT_FOUND, e.to_string()))?;
    // Two uploads of one piece may race (the chain lets only one claim): each gets its own file.
    static UPLOADS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = UPLOADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = p
        .home
        .join("pieces")
        .join(format!(".permanent-{piece}-{n}.tmp"));
    let (len, commp) = receive(body, info.piece_size, &tmp).await?;
    match p.take_replica(piece, &tmp, len, &commp).await {
        Ok(deal) => Ok(Json(
            json!({ "piece": piece, "deal_id": deal, "bytes": len }),
        )),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(reject(StatusCode::UNPROCESSABLE_ENTITY, e))
        }
    }
}

async fn retrieve(State(p): State<Arc<Provider>>, AxPath(id): AxPath<u64>) -> Response {
    let deal = match p.db.deal(id) {
        Ok(Some(d)) => d,
        Ok(None) => {
            return reject(
                StatusCode::NOT_FOUND,
                format!("this provider holds no deal {id}"),
            )
            .into_response()
        }
        Err(e) => return reject(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let path = p.piece_path(id);
    let path = if path.exists() {
        path
    } else {
        // No unsealed copy: unseal the piece from its sector.
        let Some(n) = deal.sector else {
            return reject(StatusCode::NOT_FOUND, format!("deal {id} has no data here"))
                .into_response();
        };
        let dir = match p.sector_at(n, None) {
            Err(e) => return reject(StatusCode::SERVICE_UNAVAILABLE, e).into_response(),
            Ok(SectorAt::Local(dir)) => dir,
            Ok(SectorAt::Remote { machine, http, .. }) => {
                // The sector is on another machine: it unseals there, the piece streams through.
                return match crate::storage::fetch_unsealed(&http, &p.secret, id).await {
                    Ok(resp) => {
                        let _ = p.db.log(
                            0,
                            "unsealed",
                            &format!(
                                "deal {id} from sector {n} on machine {machine} for retrieval"
                            ),
                        );
                        let body = Body::from_stream(resp.bytes_stream());
                        ([("content-type", "application/octet-stream")], body).into_response()
                    }
                    Err(e) => reject(
                        StatusCode::BAD_GATEWAY,
                        format!("unsealing deal {id} on machine {machine}: {e}"),
                    )
                    .into_response(),
                };
            }
        };
        let cache = p.parent_cache();
        let out = p.home.join("pieces").join(format!(".unsealed-{id}.tmp"));
        let o2 = out.clone();
        let db = p.db.clone();
        let r = tokio::task::spawn_blocking(move || {
            crate::storage::unseal_deal(&db, id, n, &dir, &cache, &o2)
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
        if let Err(e) = r {
            return reject(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("unsealing deal {id} from sector {n}: {e}"),
            )
            .into_response();
        }
        let _ = p.db.log(
            0,
            "unsealed",
            &format!("deal {id} from sector {n} for retrieval"),
        );
        out
    };
    match tokio::fs::File::open(&path).await {
        Ok(f) => {
            let body = Body::from_stream(tokio_util::io::ReaderStream::new(f));
            ([("content-type", "application/octet-stream")], body).into_response()
        }
        Err(e) => reject(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("reading deal {id}: {e}"),
        )
        .into_response(),
    }
}

async fn metrics(State(p): State<Arc<Provider>>) -> String {
    let mut g: Vec<(String, String, f64)> = Vec::new();
    if let Ok(sectors) = p.db.sectors() {
        for step in Step::ALL {
            let n = sectors.iter().filter(|s| s.step == step).count();
            g.push((
                "strata_sectors".into(),
                format!("state=\"{}\"", step.as_str()),
                n as f64,
            ));
        }
    }
    // The cluster: tasks by kind and state, machines alive and dead, and whether this process
    // holds the signing role.
    if let Ok(counts) = p.db.task_counts() {
        for kind in crate::db::cluster::kind::ALL {
            for state in [
                crate::db::cluster::state::PENDING,
                crate::db::cluster::state::RUNNING,
                crate::db::cluster::state::DONE,
                crate::db::cluster::state::FAILED,
            ] {
                let n = counts
                    .iter()
                    .find(|c| c.0 == *kind && c.1 == state)
                    .map_or(0, |c| c.2);
                g.push((
                    "strata_tasks".into(),
                    format!("kind=\"{kind}\",state=\"{state}\""),
                    n as f64,
                ));
            }
        }
    }
    if let (Ok(machines), Ok(now)) = (p.db.machines(), p.db.engine.now_ms()) {
        let alive = machines
            .iter()
            .filter(|m| m.alive(now, p.config.dead_after_ms))
            .count();
        g.push((
            "strata_machines".into(),
            "state=\"alive\"".into(),
            alive as f64,
        ));
        g.push((
            "strata_machines".into(),
            "state=\"dead\"".into(),
            (machines.len() - alive) as f64,
        ));
    }
    g.push((
        "strata_leader".into(),
        String::new(),
        if p.leader.is_leader() { 1.0 } else { 0.0 },
    ));
    if let Ok(m) = p.chain.miner(p.miner()).await {
        let b = &m.balances;
        for (k, v) in [
            ("available", b.available),
            ("precommit_deposits", b.precommit_deposits),
            ("locked_pledge", b.locked_pledge),
            ("vesting", b.vesting),
            ("fee_debt", b.fee_debt),
        ] {
            g.push((
                "strata_balance_tokens".into(),
                format!("kind=\"{k}\""),
                v.0 as f64 / 1e18,
            ));
        }
        g.push((
            "strata_power_bytes".into(),
            "kind=\"raw\"".into(),
            m.raw_power as f64,
        ));
        g.push((
            "strata_power_bytes".into(),
            "kind=\"qa\"".into(),
            m.qa_power as f64,
        ));
        g.push((
            "strata_faulty_sectors".into(),
            String::new(),
            m.sectors.faulty as f64,
        ));
    }
    if let Ok(s) = strata_chain_client::permanent::miner_summary(p.chain.as_ref(), p.miner()).await
    {
        for (state, n) in [("held", s.replicas_held), ("claimed", s.replicas_claimed)] {
            g.push((
                "strata_permanent_replicas".into(),
                format!("state=\"{state}\""),
                n as f64,
            ));
        }
        g.push((
            "strata_permanent_bytes".into(),
            String::new(),
            s.bytes_held as f64,
        ));
        for (kind, v) in [
            ("upfront", s.upfront_income),
            ("endowment", s.endowment_income),
        ] {
            g.push((
                "strata_permanent_income_tokens".into(),
                format!("kind=\"{kind}\""),
                v.0 as f64 / 1e18,
            ));
        }
    }
    // Each gauge's samples together (one TYPE line per name).
    let budgets = p.budgets();
    for (name, value) in [
        (
            "strata_proof_budget_seconds",
            &(|b: &crate::budget::BudgetCheck| b.budget_ms as f64 / 1000.0)
                as &dyn Fn(&crate::budget::BudgetCheck) -> f64,
        ),
        ("strata_proof_measured_seconds", &|b| {
            b.measured_ms.map_or(f64::NAN, |m| m as f64 / 1000.0)
        }),
        ("strata_proof_budget_tight", &|b| {
            f64::from(u8::from(b.tight))
        }),
    ] {
        for b in &budgets {
            g.push((name.into(), format!("op=\"{}\"", b.op), value(b)));
        }
    }
    p.metrics.render(&g)
}

/// The provider's terms now (Boost's storage ask): price floor, sector size, and the earliest
/// start epoch it would accept for a deal arriving at the current head.
async fn ask(State(p): State<Arc<Provider>>) -> Result<Json<Value>, Reject> {
    let head = p
        .chain
        .head()
        .await
        .map_err(|e| {
            reject(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("chain unreachable: {e}"),
            )
        })?
        .epoch;
    Ok(Json(json!({
        "miner": p.miner(),
        "head": head,
        "earliest_start_epoch": p
            .earliest_start_now(head)
            .await
            .map_err(|e| reject(StatusCode::INTERNAL_SERVER_ERROR, e))?,
        "min_price_per_epoch": p.config.min_price_per_epoch,
        "sector_size": p.proof_type.sector_size.bytes(),
    })))
}

async fn status(State(p): State<Arc<Provider>>) -> Json<Value> {
    Json(json!({
        "miner": p.miner(),
        "sectors": p.db.sectors().unwrap_or_default(),
        "log": p.db.recent_log(50).unwrap_or_default(),
    }))
}

impl Provider {
    /// [`Provider::earliest_start`] off the async threads (it may probe the CPU for 300 ms).
    pub async fn earliest_start_now(
        self: &Arc<Self>,
        head: strata_chain_client::types::Epoch,
    ) -> Result<strata_chain_client::types::Epoch, String> {
        // No guess on failure: a floor could promise a start the provider cannot meet.
        let p = self.clone();
        tokio::task::spawn_blocking(move || p.earliest_start(head))
            .await
            .map_err(|e| format!("estimating the earliest start failed: {e}"))
    }

    /// Checks a proposal before taking its data: addressed here, signed by its client, priced
    /// at or above the ask, starting late enough to seal and prove, fitting a sector.
    pub async fn check_proposal(self: &Arc<Self>, sp: &SignedProposal) -> Result<(), String> {
        let p = &sp.proposal;
        if p.provider != self.miner() {
            return Err(format!(
                "the proposal is for m{}, this is m{}",
                p.provider,
                self.miner()
            ));
        }
        sp.verify()
            .map_err(|e| format!("the proposal is not signed by its client {}: {e}", p.client))?;
        if p.price_per_epoch < self.config.min_price_per_epoch {
            return Err(format!(
                "price {} per epoch is below the ask of {}",
                p.price_per_epoch, self.config.min_price_per_epoch
            ));
        }
        if p.piece_size > self.proof_type.sector_size.bytes()
            || !p.piece_size.is_power_of_two()
            || p.piece_size < 128
        {
            return Err(format!(
                "piece size {} does not fit a {} sector",
                p.piece_size, self.proof_type.sector_size
            ));
        }
        let head = self
            .chain
            .head()
            .await
            .map_err(|e| format!("chain unreachable: {e}"))?
            .epoch;
        let earliest = self.earliest_start_now(head).await?;
        if p.start_epoch < earliest {
            return Err(format!(
                "start epoch {} is too soon: earliest acceptable start epoch is {earliest} \
                 (this provider's measured sealing and proving time, {} sectors or deals queued \
                 ahead, the seed delay and a margin, from head {head})",
                p.start_epoch,
                crate::budget::queue_ahead(&self.db)
            ));
        }
        Ok(())
    }
}
