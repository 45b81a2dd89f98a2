//! `strata chain beacon [EPOCH]`: shows one beacon entry and checks it against the network's
//! beacon key (or a key the user pins), so anyone can confirm the randomness behind an epoch.

use crate::chain_cmd::print;
use anyhow::{anyhow, Result};
use strata_chain_client::beacon::BeaconPublicKey;
use strata_chain_client::{ChainApi, RpcClient};

/// Fetches, verifies and prints the entry of `epoch` (default: the head).
pub async fn show(
    rpc: &RpcClient,
    epoch: Option<i64>,
    public_key: Option<&str>,
    json: bool,
) -> Result<()> {
    let e = |e: strata_chain_client::ChainError| anyhow!("{e}");
    let mut info = rpc.beacon_info().await.map_err(e)?;
    if let Some(k) = public_key {
        info.public_key = BeaconPublicKey::from_hex(k).map_err(|m| anyhow!(m))?;
        rpc.pin_beacon(info.clone());
    }
    let epoch = match epoch {
        Some(x) => x,
        None => rpc.head().await.map_err(e)?.epoch,
    };
    let entry = rpc.verified_beacon(epoch).await.map_err(e)?;
    let v = serde_json::json!({
        "epoch": epoch,
        "round": entry.round,
        "signature": entry.signature,
        "randomness": hex::encode(entry.randomness()),
        "scheme": info.scheme,
        "public_key": info.public_key,
        "source": info.source,
        "verified": true,
    });
    print(json, &v, |_| {
        format!(
            "epoch {epoch}: round {} signature {}\nrandomness {}\nverified: signed by {} ({})",
            entry.round,
            entry.signature,
            hex::encode(entry.randomness()),
            info.public_key,
            info.scheme
        )
    });
    Ok(())
}
