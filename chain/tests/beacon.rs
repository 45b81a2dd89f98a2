//! The beacon (DESIGN §8): devnets sign every epoch with a key of their own, so two devnets from
//! one genesis draw unrelated randomness; every entry verifies against the network's key; a
//! client refuses forged, altered, replayed or re-keyed entries; and a chain following drand
//! takes real quicknet rounds and refuses an altered one.

mod common;
use common::*;
use serde_json::{json, Value};
use std::sync::Arc;
use strata_chain::{Chain, ChainOptions, HashVerifier};
use strata_chain_client::beacon::{BeaconEntry, BeaconPublicKey, BeaconSecretKey, BeaconSource};
use strata_chain_client::types::RandomnessTag;
use strata_chain_client::{ChainApi, ErrorKind, RpcClient};

#[test]
fn twin_devnets_from_one_genesis_draw_unrelated_randomness() {
    let (a, b) = (Net::hashed(), Net::hashed());
    assert_eq!(a.genesis, b.genesis);
    a.step(6);
    b.step(6);
    let ia = block_on(a.chain.beacon_info()).unwrap();
    let ib = block_on(b.chain.beacon_info()).unwrap();
    assert_ne!(ia.public_key, ib.public_key);
    assert!(!a.genesis.to_toml().contains(&ia.public_key.to_hex()));
    for epoch in 0..=6 {
        let ea = block_on(a.chain.verified_beacon(epoch)).unwrap();
        let eb = block_on(b.chain.verified_beacon(epoch)).unwrap();
        assert_eq!((ea.round, eb.round), (epoch as u64, epoch as u64));
        assert_ne!(ea.signature, eb.signature, "epoch {epoch}");
        // Each verifies against its own network's key only.
        assert!(ib.verify(epoch, &ea).is_err());
        let ra = block_on(a.chain.randomness(RandomnessTag::SealSeed, epoch, 1000)).unwrap();
        let rb = block_on(b.chain.randomness(RandomnessTag::SealSeed, epoch, 1000)).unwrap();
        assert_ne!(ra, rb);
    }
    assert_eq!(
        a.chain.head_now().beacon,
        block_on(a.chain.beacon(6)).unwrap()
    );
    // The future is not served.
    let e = block_on(a.chain.beacon(7)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::TooEarly);
}

#[test]
fn the_beacon_key_stays_with_its_chain() {
    let net = Net::hashed();
    net.step(2);
    let key_file = net.dir.path().join(strata_chain::beacon::KEY_FILE);
    let pk = block_on(net.chain.beacon_info()).unwrap().public_key;
    assert_eq!(
        strata_chain::beacon::read_key(&key_file)
            .unwrap()
            .public_key(),
        pk
    );
    let Net {
        dir,
        chain,
        genesis,
        ..
    } = net;
    drop(chain);
    // Another key for the same database is refused.
    let other = dir.path().join("other.key");
    strata_chain::beacon::write_new_key(&other, &BeaconSecretKey::from_wide(&[2; 64])).unwrap();
    let opts = ChainOptions {
        manual: true,
        beacon_key: Some(other),
        ..Default::default()
    };
    let e = Chain::open_with(dir.path(), genesis.clone(), Box::new(HashVerifier), opts)
        .err()
        .expect("refused");
    assert!(e.message.contains("beacon key"), "{e}");
    // Without its key file the chain does not start (it would otherwise sign with a new key).
    std::fs::rename(&key_file, dir.path().join("moved.key")).unwrap();
    let e = Chain::open(dir.path(), genesis.clone(), Box::new(HashVerifier), true)
        .err()
        .expect("refused");
    assert!(e.message.contains("--beacon-key"), "{e}");
    // With it brought back explicitly, the chain continues where it was.
    let opts = ChainOptions {
        manual: true,
        beacon_key: Some(dir.path().join("moved.key")),
        ..Default::default()
    };
    let chain = Chain::open_with(dir.path(), genesis, Box::new(HashVerifier), opts).unwrap();
    assert_eq!(chain.head_now().epoch, 2);
    chain.step(1).unwrap();
    block_on(chain.verified_beacon(3)).unwrap();
}

/// How a hostile node (or a man in the middle) alters what the client receives.
#[derive(Clone, Copy, Debug)]
enum Tamper {
    /// One bit of the signature flipped.
    FlipBit,
    /// A valid entry of an earlier round served for a later epoch.
    OldRound,
    /// Entries and key of an impostor beacon.
    Impostor,
}

fn impostor() -> BeaconSecretKey {
    BeaconSecretKey::from_wide(&[66; 64])
}

/// A JSON-RPC proxy in front of `upstream` that tampers with beacon answers.
async fn proxy(upstream: String, how: Tamper) -> String {
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(move |body: axum::body::Bytes| {
            let upstream = upstream.clone();
            async move {
                let req: Value = serde_json::from_slice(&body).unwrap();
                let method = req["method"].as_str().unwrap_or_default().to_string();
                let mut req2 = req.clone();
                if method == "chain_beacon" && matches!(how, Tamper::OldRound) {
                    let e = req["params"]["epoch"].as_i64().unwrap();
                    req2["params"]["epoch"] = json!(e - 1);
                }
                let mut resp: Value = reqwest::Client::new()
                    .post(&upstream)
                    .json(&req2)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                match (method.as_str(), how) {
                    ("chain_beacon", Tamper::FlipBit) => {
                        let mut e: BeaconEntry =
                            serde_json::from_value(resp["result"].clone()).unwrap();
                        e.signature.0[20] ^= 0x04;
                        resp["result"] = json!(e);
                    }
                    ("chain_beacon", Tamper::Impostor) => {
                        let e = req["params"]["epoch"].as_u64().unwrap();
                        resp["result"] = json!(impostor().sign(e));
                    }
                    ("chain_beacon_info", Tamper::Impostor) => {
                        resp["result"]["public_key"] = json!(impostor().public_key());
                    }
                    _ => {}
                }
                axum::Json(resp)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_refuse_forged_altered_and_replayed_entries() {
    let dir = tempfile::tempdir().unwrap();
    let chain =
        Arc::new(Chain::open(dir.path(), test_genesis(), Box::new(HashVerifier), true).unwrap());
    chain.step(4).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(strata_chain::rpc::serve(chain.clone(), listener));

    let honest = RpcClient::new(&url).unwrap();
    let info = honest.beacon_info().await.unwrap();
    let seed = honest
        .randomness(RandomnessTag::SealSeed, 3, 1000)
        .await
        .unwrap();
    assert_eq!(
        seed,
        chain
            .randomness(RandomnessTag::SealSeed, 3, 1000)
            .await
            .unwrap()
    );

    for how in [Tamper::FlipBit, Tamper::OldRound] {
        let rpc = RpcClient::new(&proxy(url.clone(), how).await).unwrap();
        let e = rpc
            .randomness(RandomnessTag::SealSeed, 3, 1000)
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadSignature, "{how:?}: {e}");
        assert!(rpc.verified_beacon(3).await.is_err(), "{how:?}");
        // The raw (unverified) call still shows what the node sent.
        assert_ne!(rpc.beacon(3).await.unwrap(), chain.beacon(3).await.unwrap());
    }

    // An impostor beacon: consistent with itself, so only a pinned key catches it. The client
    // pins the first key it sees; here it pinned the real one from the genesis' network.
    let rpc = RpcClient::new(&proxy(url.clone(), Tamper::Impostor).await).unwrap();
    rpc.pin_beacon(info.clone());
    let e = rpc
        .randomness(RandomnessTag::SealSeed, 3, 1000)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadSignature, "{e}");
    assert!(e.message.contains("pinned key"), "{e}");
    // A client that pinned the impostor's key (first contact through it) still gets values
    // that differ from the real chain's, and the real key refuses the impostor's entries.
    let fooled = RpcClient::new(&proxy(url.clone(), Tamper::Impostor).await).unwrap();
    let fake = fooled
        .randomness(RandomnessTag::SealSeed, 3, 1000)
        .await
        .unwrap();
    assert_ne!(fake, seed);
    assert!(info.verify(3, &fooled.beacon(3).await.unwrap()).is_err());
}

/// The vendored quicknet document: public key, genesis, period and rounds 2, 3, 1000.
fn quicknet() -> (BeaconPublicKey, u64, u64, Vec<BeaconEntry>) {
    let doc: Value =
        serde_json::from_str(include_str!("../../chain-client/testdata/quicknet.json")).unwrap();
    let info = &doc["info"];
    (
        BeaconPublicKey::from_hex(info["public_key"].as_str().unwrap()).unwrap(),
        info["genesis_time"].as_u64().unwrap(),
        info["period"].as_u64().unwrap(),
        serde_json::from_value(doc["rounds"].clone()).unwrap(),
    )
}

/// A genesis following quicknet with 3 s epochs whose epoch 0 is round 2.
fn quicknet_genesis() -> strata_chain::Genesis {
    let (public_key, genesis_time, period, _) = quicknet();
    let mut g = test_genesis();
    g.constants.block_time_ms = 3000;
    g.beacon = BeaconSource::Drand {
        public_key,
        genesis_time,
        period,
        chain_genesis_time: genesis_time + period,
    };
    g
}

fn write_relay(dir: &std::path::Path, entries: &[BeaconEntry]) -> std::path::PathBuf {
    let p = dir.join("relay.jsonl");
    let text: String = entries
        .iter()
        .map(|e| serde_json::to_string(e).unwrap() + "\n")
        .collect();
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_chain_following_drand_verifies_real_quicknet_rounds() {
    let (pk, _, _, rounds) = quicknet();
    let dir = tempfile::tempdir().unwrap();
    let relay = write_relay(dir.path(), &rounds[..2]);
    let opts = ChainOptions {
        manual: true,
        drand_relay: Some(relay),
        ..Default::default()
    };
    let state = dir.path().join("chain");
    let chain = Chain::open_with(&state, quicknet_genesis(), Box::new(HashVerifier), opts).unwrap();
    // No key of its own: a drand-following chain cannot predict its randomness either.
    assert!(!state.join(strata_chain::beacon::KEY_FILE).exists());
    let info = block_on(chain.beacon_info()).unwrap();
    assert_eq!(info.public_key, pk);
    assert_eq!(block_on(chain.verified_beacon(0)).unwrap(), rounds[0]);
    chain.step(1).unwrap();
    assert_eq!(block_on(chain.verified_beacon(1)).unwrap(), rounds[1]);
    assert_eq!(chain.next_round().unwrap(), 4);
    // Round 4 is not in the relay: the epoch waits, nothing changes.
    let e = chain.step(1).unwrap_err();
    assert_eq!(e.kind, ErrorKind::TooEarly, "{e}");
    assert_eq!(chain.head_now().epoch, 1);
    // Entries of other rounds are not taken for it, and a devnet refuses pushed entries.
    chain.add_beacon_entries(vec![rounds[2]]).unwrap();
    assert!(chain.step(1).is_err());
    let devnet = Net::hashed();
    assert_eq!(
        devnet
            .chain
            .add_beacon_entries(vec![rounds[0]])
            .unwrap_err()
            .kind,
        ErrorKind::Forbidden
    );
}

#[test]
fn a_quicknet_round_with_one_bit_changed_stops_the_chain_until_the_real_one_arrives() {
    let (_, _, _, rounds) = quicknet();
    let dir = tempfile::tempdir().unwrap();
    let mut bad = rounds[1];
    bad.signature.0[30] ^= 0x01;
    let relay = write_relay(dir.path(), &[rounds[0], bad]);
    let opts = ChainOptions {
        manual: true,
        drand_relay: Some(relay.clone()),
        ..Default::default()
    };
    let chain = Chain::open_with(
        &dir.path().join("chain"),
        quicknet_genesis(),
        Box::new(HashVerifier),
        opts,
    )
    .unwrap();
    let root = chain.head_now().state_root;
    let e = chain.step(1).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadSignature, "{e}");
    assert_eq!(
        (chain.head_now().epoch, chain.head_now().state_root),
        (0, root)
    );
    // The relay is corrected: the chain goes on with the real round.
    write_relay(dir.path(), &rounds[..2]);
    chain.step(1).unwrap();
    assert_eq!(block_on(chain.verified_beacon(1)).unwrap(), rounds[1]);
}

/// An auditor re-derives the randomness behind every posted proof from verified entries: the
/// chain's records pass, and a record whose draw or public input was changed does not.
#[test]
fn auditors_re_derive_the_randomness_behind_every_proof() {
    use strata_chain_client::audit::check_randomness;
    use strata_prover::proof_file::PublicData;
    let net = Net::hashed();
    let owner = net.funded(1, 10_000);
    let id = net.miner(&owner, 1000);
    net.step(1);
    net.precommit_cc(&owner, id, 1, 1000);
    net.prove_commit_hashed(&owner, id, 1);
    net.prove_until(&owner, id, net.head() + 200, &[]);
    let proofs = block_on(net.chain.proofs(id)).unwrap();
    assert!(proofs.iter().any(|p| p.what.starts_with("seal")));
    assert!(proofs.iter().any(|p| p.what.starts_with("window")));
    for p in &proofs {
        block_on(check_randomness(&net.chain, p)).unwrap_or_else(|e| panic!("{}: {e}", p.what));
    }
    let seal = proofs.iter().find(|p| p.what.starts_with("seal")).unwrap();
    assert_eq!(seal.draws.len(), 2, "ticket and seed");
    // A different seed in the proof's public inputs.
    let mut bad = seal.clone();
    if let PublicData::Porep { inputs } = &mut bad.file.public {
        inputs.seed[0] ^= 1;
    }
    assert!(block_on(check_randomness(&net.chain, &bad)).is_err());
    // A recorded draw moved to another epoch, or made for another miner, or missing.
    let mut bad = seal.clone();
    bad.draws[1].epoch -= 1;
    assert!(block_on(check_randomness(&net.chain, &bad)).is_err());
    let mut bad = seal.clone();
    bad.draws[0].entropy += 1;
    assert!(block_on(check_randomness(&net.chain, &bad)).is_err());
    let mut bad = seal.clone();
    bad.draws.clear();
    assert!(block_on(check_randomness(&net.chain, &bad)).is_err());
    let window = proofs
        .iter()
        .find(|p| p.what.starts_with("window"))
        .unwrap();
    let mut bad = window.clone();
    bad.draws[0].value[3] ^= 0x10;
    assert!(block_on(check_randomness(&net.chain, &bad)).is_err());
}
