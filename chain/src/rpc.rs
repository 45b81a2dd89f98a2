//! The JSON-RPC 2.0 server over HTTP (axum): `POST /` with `{"jsonrpc":"2.0","id":…,"method":…,
//! "params":{…}}`. Malformed JSON is a parse error (-32700), a wrong envelope an invalid request
//! (-32600), an unknown method -32601, bad parameters -32602; chain rule errors carry their code
//! and `data.kind`. Calls run on the blocking pool: proof verification never stalls the server.

use crate::node::Chain;
use axum::extract::State as AxState;
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::sync::Arc;
use strata_chain_client::api::methods;
use strata_chain_client::{ChainApi, ChainError, ErrorKind};

/// The router serving `chain`: JSON-RPC at `POST /`, the network dashboard at `GET /` with its
/// figures at `GET /api/stats` ([`crate::dashboard`]).
pub fn router(chain: Arc<Chain>) -> Router {
    Router::new()
        .route("/", post(handle).get(crate::dashboard::page))
        .route("/api/stats", get(crate::dashboard::api))
        .with_state(chain)
        .merge(strata_web::assets::router())
        .layer(axum::middleware::from_fn(
            strata_web::assets::security_headers,
        ))
}

/// Serves `chain` on `listener` until the task is dropped.
pub async fn serve(chain: Arc<Chain>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, router(chain)).await
}

fn error_response(id: Value, e: &ChainError) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": e.kind.code(), "message": e.message, "data": { "kind": e.kind } }
    })
}

async fn handle(AxState(chain): AxState<Arc<Chain>>, body: axum::body::Bytes) -> axum::Json<Value> {
    let req: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return axum::Json(error_response(
                Value::Null,
                &ChainError::new(ErrorKind::ParseError, format!("request is not JSON: {e}")),
            ))
        }
    };
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let (Some(method), true) = (
        req.get("method")
            .and_then(Value::as_str)
            .map(str::to_string),
        req.get("jsonrpc") == Some(&json!("2.0")),
    ) else {
        return axum::Json(error_response(
            id,
            &ChainError::new(
                ErrorKind::InvalidRequest,
                "expected an object with \"jsonrpc\": \"2.0\", \"method\" and \"params\"",
            ),
        ));
    };
    let params = req.get("params").cloned().unwrap_or_else(|| json!({}));
    let out = tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(dispatch(&chain, &method, params))
    })
    .await
    .unwrap_or_else(|e| Err(ChainError::internal(format!("call panicked: {e}"))));
    axum::Json(match out {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(e) => error_response(id, &e),
    })
}

fn arg<T: DeserializeOwned>(params: &Value, name: &str) -> Result<T, ChainError> {
    let v = params
        .get(name)
        .cloned()
        .ok_or_else(|| ChainError::invalid(format!("missing parameter {name:?}")))?;
    serde_json::from_value(v).map_err(|e| ChainError::invalid(format!("parameter {name:?}: {e}")))
}

fn out<T: serde::Serialize>(r: Result<T, ChainError>) -> Result<Value, ChainError> {
    r.map(|v| serde_json::to_value(v).expect("responses serialise"))
}

/// Calls the API method named `method` with named `params`.
pub async fn dispatch(chain: &Chain, method: &str, p: Value) -> Result<Value, ChainError> {
    match method {
        methods::HEAD => out(chain.head().await),
        methods::NETWORK => out(chain.network().await),
        methods::ACCOUNT => out(chain.account(arg(&p, "address")?).await),
        methods::MINERS => out(chain.miners().await),
        methods::MINER => out(chain.miner(arg(&p, "miner")?).await),
        methods::SECTOR => out(chain.sector(arg(&p, "miner")?, arg(&p, "sector")?).await),
        methods::SECTORS => out(chain.sectors(arg(&p, "miner")?).await),
        methods::DEADLINES => out(chain.deadlines(arg(&p, "miner")?).await),
        methods::BEACON => out(chain.beacon(arg(&p, "epoch")?).await),
        methods::BEACON_INFO => out(chain.beacon_info().await),
        methods::DEAL => out(chain.deal(arg(&p, "id")?).await),
        methods::DEALS => out(chain.deals().await),
        methods::EVENTS => out(chain.events(arg(&p, "filter").unwrap_or_default()).await),
        methods::PROOFS => out(chain.proofs(arg(&p, "miner")?).await),
        methods::RECEIPT => out(chain.receipt(arg(&p, "id")?).await),
        methods::WINNING => out(chain.winning(arg(&p, "miner")?).await),
        methods::ENDOWMENT => out(chain.endowment().await),
        methods::PERMANENT_PIECES => out(chain.permanent_pieces().await),
        methods::PERMANENT_PIECE => out(chain.permanent_piece(arg(&p, "id")?).await),
        methods::PERMANENT_QUOTE => out(chain
            .permanent_quote(arg(&p, "piece_size")?, arg(&p, "replicas")?)
            .await),
        methods::STATS => out(chain.stats().await),
        methods::SUBMIT => out(chain.submit(arg(&p, "message")?).await),
        methods::STEP => out(ChainApi::step(chain, arg(&p, "epochs")?).await),
        other => Err(ChainError::new(
            ErrorKind::MethodNotFound,
            format!("no method {other:?}"),
        )),
    }
}
