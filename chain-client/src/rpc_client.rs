//! [`RpcClient`]: the chain API over JSON-RPC 2.0 on HTTP. Transport failures are
//! [`ErrorKind::Unavailable`]; chain errors come back with their kind from `error.data.kind`.

use crate::api::{methods, ChainApi};
use crate::beacon::{BeaconEntry, BeaconInfo};
use crate::error::{ChainError, ErrorKind};
use crate::keys::Address;
use crate::message::SignedMessage;
use crate::permanent::{EndowmentInfo, PermanentPieceInfo, PermanentQuote};
use crate::stats::NetworkStats;
use crate::types::{DealId, Epoch, MinerId};
use crate::views::*;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A JSON-RPC client of a chain node.
pub struct RpcClient {
    url: String,
    http: reqwest::Client,
    next_id: AtomicU64,
    beacon: std::sync::Mutex<Option<BeaconInfo>>,
}

impl RpcClient {
    /// A client of the node at `url` (`http://127.0.0.1:1234`); requests time out after 60 s.
    pub fn new(url: &str) -> Result<Self, ChainError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ChainError::unavailable(format!("http client: {e}")))?;
        Ok(RpcClient {
            url: url.trim_end_matches('/').to_string(),
            http,
            next_id: AtomicU64::new(1),
            beacon: std::sync::Mutex::new(None),
        })
    }

    /// Pins the beacon the client trusts (from the genesis, or an earlier session): every
    /// entry must then verify against it, whatever the node says its key is.
    pub fn pin_beacon(&self, info: BeaconInfo) {
        *self.beacon.lock().unwrap_or_else(|p| p.into_inner()) = Some(info);
    }

    /// The node's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Calls `method` with named `params`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
    ) -> Result<T, ChainError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let resp = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                ChainError::unavailable(format!("chain at {} unreachable: {e}", self.url))
            })?;
        let v: Value = resp.json().await.map_err(|e| {
            ChainError::unavailable(format!("chain at {} sent a bad response: {e}", self.url))
        })?;
        decode_response(v)
    }
}

/// Turns a JSON-RPC response object into the result or the typed error.
pub fn decode_response<T: DeserializeOwned>(v: Value) -> Result<T, ChainError> {
    if let Some(err) = v.get("error") {
        let message = err["message"]
            .as_str()
            .unwrap_or("unknown error")
            .to_string();
        let kind = serde_json::from_value::<ErrorKind>(err["data"]["kind"].clone())
            .unwrap_or(ErrorKind::Internal);
        return Err(ChainError::new(kind, message));
    }
    serde_json::from_value(v.get("result").cloned().unwrap_or(Value::Null))
        .map_err(|e| ChainError::internal(format!("unexpected result shape: {e}")))
}

#[async_trait::async_trait]
impl ChainApi for RpcClient {
    async fn head(&self) -> Result<Head, ChainError> {
        self.call(methods::HEAD, json!({})).await
    }
    async fn network(&self) -> Result<NetworkInfo, ChainError> {
        self.call(methods::NETWORK, json!({})).await
    }
    async fn account(&self, address: Address) -> Result<AccountInfo, ChainError> {
        self.call(methods::ACCOUNT, json!({ "address": address }))
            .await
    }
    async fn miners(&self) -> Result<Vec<MinerId>, ChainError> {
        self.call(methods::MINERS, json!({})).await
    }
    async fn miner(&self, miner: MinerId) -> Result<MinerInfo, ChainError> {
        self.call(methods::MINER, json!({ "miner": miner })).await
    }
    async fn sector(&self, miner: MinerId, sector: u64) -> Result<SectorInfo, ChainError> {
        self.call(methods::SECTOR, json!({ "miner": miner, "sector": sector }))
            .await
    }
    async fn sectors(&self, miner: MinerId) -> Result<Vec<SectorInfo>, ChainError> {
        self.call(methods::SECTORS, json!({ "miner": miner })).await
    }
    async fn deadlines(&self, miner: MinerId) -> Result<Vec<DeadlineInfo>, ChainError> {
        self.call(methods::DEADLINES, json!({ "miner": miner }))
            .await
    }
    async fn beacon_info(&self) -> Result<BeaconInfo, ChainError> {
        let got: BeaconInfo = self.call(methods::BEACON_INFO, json!({})).await?;
        let mut pinned = self.beacon.lock().unwrap_or_else(|p| p.into_inner());
        match &*pinned {
            Some(p) if *p != got => Err(ChainError::new(
                ErrorKind::BadSignature,
                format!(
                    "the chain at {} names beacon key {}, but the pinned key is {}: its entries are refused",
                    self.url, got.public_key, p.public_key
                ),
            )),
            Some(p) => Ok(p.clone()),
            None => {
                *pinned = Some(got.clone());
                Ok(got)
            }
        }
    }
    async fn beacon(&self, epoch: Epoch) -> Result<BeaconEntry, ChainError> {
        self.call(methods::BEACON, json!({ "epoch": epoch })).await
    }
    async fn deal(&self, id: DealId) -> Result<DealInfo, ChainError> {
        self.call(methods::DEAL, json!({ "id": id })).await
    }
    async fn deals(&self) -> Result<Vec<DealInfo>, ChainError> {
        self.call(methods::DEALS, json!({})).await
    }
    async fn events(&self, filter: EventFilter) -> Result<Vec<Event>, ChainError> {
        self.call(methods::EVENTS, json!({ "filter": filter }))
            .await
    }
    async fn proofs(&self, miner: MinerId) -> Result<Vec<ProofRecord>, ChainError> {
        self.call(methods::PROOFS, json!({ "miner": miner })).await
    }
    async fn receipt(&self, id: String) -> Result<Receipt, ChainError> {
        self.call(methods::RECEIPT, json!({ "id": id })).await
    }
    async fn winning(&self, miner: MinerId) -> Result<Vec<WinningTicket>, ChainError> {
        self.call(methods::WINNING, json!({ "miner": miner })).await
    }
    async fn endowment(&self) -> Result<EndowmentInfo, ChainError> {
        self.call(methods::ENDOWMENT, json!({})).await
    }
    async fn permanent_pieces(&self) -> Result<Vec<PermanentPieceInfo>, ChainError> {
        self.call(methods::PERMANENT_PIECES, json!({})).await
    }
    async fn permanent_piece(&self, id: u64) -> Result<PermanentPieceInfo, ChainError> {
        self.call(methods::PERMANENT_PIECE, json!({ "id": id }))
            .await
    }
    async fn permanent_quote(
        &self,
        piece_size: u64,
        replicas: u64,
    ) -> Result<PermanentQuote, ChainError> {
        self.call(
            methods::PERMANENT_QUOTE,
            json!({ "piece_size": piece_size, "replicas": replicas }),
        )
        .await
    }
    async fn stats(&self) -> Result<NetworkStats, ChainError> {
        self.call(methods::STATS, json!({})).await
    }
    async fn submit(&self, message: SignedMessage) -> Result<String, ChainError> {
        self.call(methods::SUBMIT, json!({ "message": message }))
            .await
    }
    async fn step(&self, epochs: u64) -> Result<Head, ChainError> {
        self.call(methods::STEP, json!({ "epochs": epochs })).await
    }
}
