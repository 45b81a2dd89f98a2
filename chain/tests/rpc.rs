//! The JSON-RPC server: the client library round-trips every kind of call, and malformed
//! requests get the standard error codes without touching state.

mod common;
use common::*;
use serde_json::{json, Value};
use std::sync::Arc;
use strata_chain::config::devnet_faucet;
use strata_chain::{Chain, HashVerifier};
use strata_chain_client::types::Method;
use strata_chain_client::views::EventFilter;
use strata_chain_client::{ChainApi, ErrorKind, KeyPair, Message, RpcClient, Token};

async fn serve() -> (tempfile::TempDir, Arc<Chain>, String) {
    let dir = tempfile::tempdir().unwrap();
    let chain =
        Arc::new(Chain::open(dir.path(), test_genesis(), Box::new(HashVerifier), true).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(strata_chain::rpc::serve(chain.clone(), listener));
    (dir, chain, url)
}

async fn raw(url: &str, body: &str) -> Value {
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_round_trip_over_json_rpc() {
    let (_dir, chain, url) = serve().await;
    let rpc = RpcClient::new(&url).unwrap();
    let faucet = devnet_faucet();
    let to = KeyPair::from_secret(&[4; 32]).address();
    let head = rpc.head().await.unwrap();
    assert_eq!((head.epoch, head.manual), (0, true));
    let nonce = rpc.account(faucet.address()).await.unwrap().nonce;
    let msg = Message {
        network: head.network.clone(),
        from: faucet.address(),
        nonce,
        call: Method::Transfer {
            to,
            amount: Token::whole(5),
        },
    }
    .sign(&faucet)
    .unwrap();
    let id = rpc.submit(msg.clone()).await.unwrap();
    assert_eq!(rpc.receipt(id.clone()).await.unwrap().epoch, None);
    // The same message again: its nonce is used now.
    let err = rpc.submit(msg).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::WrongNonce, "{err}");
    let head = rpc.step(2).await.unwrap();
    assert_eq!(head.epoch, 2);
    assert_eq!(head.state_root, chain.head_now().state_root);
    assert_eq!(rpc.receipt(id).await.unwrap().epoch, Some(1));
    assert_eq!(rpc.account(to).await.unwrap().balance, Token::whole(5));
    let ev = rpc
        .events(EventFilter {
            who: Some(to.to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (ev.len(), ev[0].why.as_str(), ev[0].epoch),
        (1, "transfer", 1)
    );
    let r = rpc
        .randomness(strata_chain_client::RandomnessTag::Ticket, 2, 1000)
        .await
        .unwrap();
    assert_eq!(
        r,
        chain
            .randomness(strata_chain_client::RandomnessTag::Ticket, 2, 1000)
            .await
            .unwrap()
    );
    let err = rpc
        .randomness(strata_chain_client::RandomnessTag::Ticket, 3, 1000)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooEarly);
    let err = rpc.miner(4242).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(
        rpc.network().await.unwrap().constants,
        test_genesis().constants
    );
    // Unreachable chain: a typed Unavailable error.
    let gone = RpcClient::new("http://127.0.0.1:9").unwrap();
    assert_eq!(gone.head().await.unwrap_err().kind, ErrorKind::Unavailable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_standard_codes_and_change_nothing() {
    let (_dir, chain, url) = serve().await;
    let root = chain.pending_root();
    for (body, code) in [
        ("{not json", -32700),
        ("[1, 2]", -32600),
        (r#"{"id": 1, "method": "chain_head"}"#, -32600),
        (
            r#"{"jsonrpc": "2.0", "id": 1, "method": "chain_nope", "params": {}}"#,
            -32601,
        ),
        (
            r#"{"jsonrpc": "2.0", "id": 2, "method": "chain_miner", "params": {"miner": "x"}}"#,
            -32602,
        ),
        (
            r#"{"jsonrpc": "2.0", "id": 3, "method": "chain_submit", "params": {}}"#,
            -32602,
        ),
        (
            r#"{"jsonrpc": "2.0", "id": 4, "method": "chain_submit", "params": {"message": {"message": 5}}}"#,
            -32602,
        ),
    ] {
        let v = raw(&url, body).await;
        assert_eq!(v["error"]["code"], json!(code), "{body}: {v}");
        assert!(v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
        assert!(v.get("result").is_none());
    }
    // A chain rule error carries its code and kind.
    let v = raw(
        &url,
        r#"{"jsonrpc": "2.0", "id": 9, "method": "chain_miner", "params": {"miner": 1}}"#,
    )
    .await;
    assert_eq!(
        (
            v["error"]["code"].clone(),
            v["error"]["data"]["kind"].clone(),
            v["id"].clone()
        ),
        (json!(1004), json!("not_found"), json!(9))
    );
    assert_eq!(chain.pending_root(), root);
    assert_eq!(chain.head_now().epoch, 0);
}
