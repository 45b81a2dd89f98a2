//! Storage served between the machines of a cluster (DESIGN §11). Every machine — the daemon and
//! each `strata worker` — serves its storage paths under `/cluster/…` to holders of the cluster
//! secret (a random value kept in the shared database, sent as [`SECRET_HEADER`]):
//!
//! - `GET /cluster/piece/{deal}`: a deal's piece file, for a machine sealing it elsewhere;
//! - `GET /cluster/unsealed/{deal}`: a deal's piece unsealed from a sector held here, for
//!   retrieval through the daemon;
//! - `POST /cluster/vanilla`: a sector's vanilla PoSt proof, computed here where the
//!   sector's files are (the SNARK is computed by the daemon, which checks the vanilla proof
//!   first and trusts nothing it receives).
//!
//! Downloads go to a temporary file, are length-checked and fsynced, then renamed into place.

use axum::body::Body;
use axum::extract::{Path as AxPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use strata_primitives::node::Node;
use strata_primitives::serde_hex;

/// Header carrying the cluster secret.
pub const SECRET_HEADER: &str = "x-strata-cluster";

/// What a machine serves.
#[derive(Clone)]
pub struct Served {
    /// The cluster secret requests must carry.
    pub secret: String,
    /// Directories holding `deal-N.piece` files.
    pub pieces: Vec<PathBuf>,
    /// The shared database, to find sectors' directories.
    pub db: Arc<crate::db::Db>,
    /// This machine's id (a sector is served only from its own recorded location).
    pub machine: i64,
    /// Parent caches (unsealing needs them).
    pub parent_cache: PathBuf,
}

/// Which PoSt a vanilla proof is for (they differ in the number of challenged leaves).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VanillaKind {
    /// `window_post_challenges` leaves.
    Window,
    /// `winning_post_challenges` leaves.
    Winning,
}

/// A request for a sector's vanilla PoSt proof.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VanillaRequest {
    /// Sector number.
    pub sector: u64,
    /// The challenge randomness.
    #[serde(with = "serde_hex::node")]
    pub randomness: Node,
    /// Window or winning.
    pub kind: VanillaKind,
}

impl Served {
    /// Sector `n`'s directory, if its recorded location is this machine (a sector is served only
    /// from where the database says it is).
    fn sector_here(&self, n: u64) -> Result<PathBuf, String> {
        let (machine, path) = self
            .db
            .sector_location(n)
            .map_err(|e| e.to_string())?
            .ok_or(format!("sector {n} has no recorded location"))?;
        if machine != self.machine {
            return Err(format!("sector {n} is on machine {machine}, not here"));
        }
        Ok(PathBuf::from(path))
    }
}

/// The storage routes.
pub fn router(s: Served) -> Router {
    Router::new()
        .route("/cluster/piece/{deal}", get(piece))
        .route("/cluster/vanilla", post(vanilla))
        .route("/cluster/unsealed/{deal}", get(unsealed))
        .with_state(Arc::new(s))
}

fn refuse(code: StatusCode, msg: impl Into<String>) -> Response {
    (code, Json(serde_json::json!({ "error": msg.into() }))).into_response()
}

fn authorised(s: &Served, h: &HeaderMap) -> bool {
    let given = h
        .get(SECRET_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Constant-time comparison of equal-length strings.
    given.len() == s.secret.len()
        && given
            .bytes()
            .zip(s.secret.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

async fn piece(
    State(s): State<Arc<Served>>,
    headers: HeaderMap,
    AxPath(deal): AxPath<u64>,
) -> Response {
    if !authorised(&s, &headers) {
        return refuse(StatusCode::FORBIDDEN, "cluster secret missing or wrong");
    }
    let name = format!("deal-{deal}.piece");
    for dir in &s.pieces {
        if let Ok(f) = tokio::fs::File::open(dir.join(&name)).await {
            let body = Body::from_stream(tokio_util::io::ReaderStream::new(f));
            return ([("content-type", "application/octet-stream")], body).into_response();
        }
    }
    refuse(
        StatusCode::NOT_FOUND,
        format!("no piece of deal {deal} here"),
    )
}

async fn vanilla(
    State(s): State<Arc<Served>>,
    headers: HeaderMap,
    Json(req): Json<VanillaRequest>,
) -> Response {
    if !authorised(&s, &headers) {
        return refuse(StatusCode::FORBIDDEN, "cluster secret missing or wrong");
    }
    let s2 = s.clone();
    let r = tokio::task::spawn_blocking(move || -> Result<_, String> {
        let dir = &s2.sector_here(req.sector)?;
        Ok(match req.kind {
            VanillaKind::Window => {
                strata_prover::remote::vanilla_window_sector(req.sector, dir, &req.randomness)
            }
            VanillaKind::Winning => {
                strata_prover::remote::vanilla_winning_sector(req.sector, dir, &req.randomness)
            }
        })
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => refuse(StatusCode::NOT_FOUND, e),
    }
}

async fn unsealed(
    State(s): State<Arc<Served>>,
    headers: HeaderMap,
    AxPath(deal): AxPath<u64>,
) -> Response {
    if !authorised(&s, &headers) {
        return refuse(StatusCode::FORBIDDEN, "cluster secret missing or wrong");
    }
    let s2 = s.clone();
    let r = tokio::task::spawn_blocking(move || -> Result<std::fs::File, String> {
        let n = s2
            .db
            .deal(deal)
            .map_err(|e| e.to_string())?
            .and_then(|d| d.sector)
            .ok_or(format!("deal {deal} is in no sector"))?;
        let dir = s2.sector_here(n)?;
        let out = dir.with_file_name(format!(".unsealed-{deal}.{}.tmp", std::process::id()));
        unseal_deal(&s2.db, deal, n, &dir, &s2.parent_cache, &out)?;
        // Open, then unlink: the stream reads the open file, nothing is left behind.
        let f = std::fs::File::open(&out).map_err(|e| e.to_string());
        let _ = std::fs::remove_file(&out);
        f
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    match r {
        Ok(f) => {
            let body = Body::from_stream(tokio_util::io::ReaderStream::new(
                tokio::fs::File::from_std(f),
            ));
            ([("content-type", "application/octet-stream")], body).into_response()
        }
        Err(e) => refuse(StatusCode::NOT_FOUND, e),
    }
}

/// Unseals deal `deal`'s piece from sector `n`, whose files are in `dir`, into `out` (blocking;
/// the piece's position in the sector is the one the database records).
pub fn unseal_deal(
    db: &crate::db::Db,
    deal: u64,
    n: u64,
    dir: &Path,
    parent_cache: &Path,
    out: &Path,
) -> Result<(), String> {
    let index = db
        .sector(n)
        .map_err(|e| e.to_string())?
        .and_then(|s| s.deals.iter().position(|d| *d == deal))
        .ok_or_else(|| format!("sector {n} does not list deal {deal}"))?;
    strata_sealer::unseal_piece(dir, index, out, parent_cache, &strata_sealer::NoProgress)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Streams deal `deal`'s piece, unsealed by the machine at `base` that holds its sector.
pub async fn fetch_unsealed(
    base: &str,
    secret: &str,
    deal: u64,
) -> Result<reqwest::Response, String> {
    let url = format!("{}/cluster/unsealed/{deal}", base.trim_end_matches('/'));
    let resp = reqwest::Client::new()
        .get(&url)
        .header(SECRET_HEADER, secret)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !resp.status().is_success() {
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        return Err(format!("{url}: {status} {body}"));
    }
    Ok(resp)
}

/// Downloads deal `deal`'s piece from the machine at `base` into `dest` (blocking; call it
/// off the async scheduler): a temporary file, its length checked against `raw_len`, fsynced,
/// then renamed into place.
pub fn fetch_piece(
    base: &str,
    secret: &str,
    deal: u64,
    raw_len: u64,
    dest: &Path,
) -> Result<(), String> {
    let url = format!("{}/cluster/piece/{deal}", base.trim_end_matches('/'));
    let dir = dest.parent().ok_or("no directory for the piece")?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        dest.file_name().and_then(|n| n.to_str()).unwrap_or("piece"),
        std::process::id()
    ));
    let secret = secret.to_string();
    let t2 = tmp.clone();
    let r = block_on_io(async move {
        use futures_util::StreamExt;
        use tokio::io::AsyncWriteExt;
        let resp = reqwest::Client::new()
            .get(&url)
            .header(SECRET_HEADER, secret)
            .timeout(std::time::Duration::from_secs(600))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("{url}: {}", resp.status()));
        }
        let mut f = tokio::fs::File::create(&t2)
            .await
            .map_err(|e| format!("{}: {e}", t2.display()))?;
        let mut n = 0u64;
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| format!("{url}: {e}"))?;
            n += chunk.len() as u64;
            if n > raw_len {
                return Err(format!("{url}: more than the deal's {raw_len} bytes"));
            }
            f.write_all(&chunk)
                .await
                .map_err(|e| format!("{}: {e}", t2.display()))?;
        }
        if n != raw_len {
            return Err(format!("{url}: {n} bytes, the deal has {raw_len}"));
        }
        f.sync_all()
            .await
            .map_err(|e| format!("{}: {e}", t2.display()))?;
        Ok(())
    });
    match r.and_then(|()| std::fs::rename(&tmp, dest).map_err(|e| e.to_string())) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Asks the machine at `base` for sector `sector`'s vanilla PoSt proof of `kind`.
pub async fn fetch_vanilla(
    base: &str,
    secret: &str,
    sector: u64,
    randomness: &Node,
    kind: VanillaKind,
    timeout: std::time::Duration,
) -> Result<strata_prover::remote::SectorVanilla, String> {
    let url = format!("{}/cluster/vanilla", base.trim_end_matches('/'));
    let resp = reqwest::Client::new()
        .post(&url)
        .header(SECRET_HEADER, secret)
        .json(&VanillaRequest {
            sector,
            randomness: *randomness,
            kind,
        })
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !resp.status().is_success() {
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        return Err(format!("{url}: {status} {body}"));
    }
    resp.json().await.map_err(|e| format!("{url}: {e}"))
}

/// Runs an async I/O future from blocking code: on the current runtime's handle when there is
/// one (a `spawn_blocking` thread), else on a small runtime of its own.
fn block_on_io<T>(f: impl std::future::Future<Output = Result<T, String>>) -> Result<T, String> {
    match tokio::runtime::Handle::try_current() {
        Ok(h) => h.block_on(f),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?
            .block_on(f),
    }
}
