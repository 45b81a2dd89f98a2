use super::*;

/// The vendored quicknet document (chain-client/testdata/quicknet.json).
fn quicknet() -> (
    BeaconPublicKey,
    u64,
    u64,
    Vec<BeaconEntry>,
    serde_json::Value,
) {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../../testdata/quicknet.json")).unwrap();
    let info = &doc["info"];
    assert_eq!(info["schemeID"], SCHEME);
    let pk = BeaconPublicKey::from_hex(info["public_key"].as_str().unwrap()).unwrap();
    let rounds: Vec<BeaconEntry> = serde_json::from_value(doc["rounds"].clone()).unwrap();
    (
        pk,
        info["genesis_time"].as_u64().unwrap(),
        info["period"].as_u64().unwrap(),
        rounds,
        doc,
    )
}

fn flip(entry: &BeaconEntry, byte: usize, bit: u8) -> BeaconEntry {
    let mut e = *entry;
    e.signature.0[byte] ^= 1 << bit;
    e
}

#[test]
fn real_quicknet_rounds_verify_and_give_drands_randomness() {
    let (pk, _, _, rounds, doc) = quicknet();
    assert_eq!(rounds.len(), 3);
    for e in &rounds {
        verify_entry(&pk, e).unwrap_or_else(|err| panic!("round {}: {err}", e.round));
    }
    // drand publishes the randomness of round 1000: SHA-256 of the signature.
    let published = doc["rounds"][2]["randomness"].as_str().unwrap();
    assert_eq!(hex::encode(rounds[2].randomness()), published);
}

#[test]
fn altered_quicknet_rounds_are_refused() {
    let (pk, _, _, rounds, _) = quicknet();
    let e = rounds[0];
    // A signature presented for another round.
    let moved = BeaconEntry {
        round: e.round + 1,
        ..e
    };
    assert_eq!(
        verify_entry(&pk, &moved),
        Err(BeaconError::BadSignature { round: 3 })
    );
    // Every single-bit change in the signature is refused (most are not even on the curve).
    for byte in 0..48 {
        for bit in 0..8 {
            let bad = flip(&e, byte, bit);
            assert!(
                verify_entry(&pk, &bad).is_err(),
                "bit {bit} of byte {byte} flipped was accepted"
            );
        }
    }
    // Another key (round 3's signature point reused as nothing: a fresh devnet key).
    let other = BeaconSecretKey::from_wide(&[7; 64]).public_key();
    assert!(matches!(
        verify_entry(&other, &e),
        Err(BeaconError::BadSignature { .. })
    ));
}

#[test]
fn the_identity_never_verifies() {
    let sk = BeaconSecretKey::from_wide(&[1; 64]);
    let identity_sig = BeaconEntry {
        round: 5,
        signature: Signature(G1Affine::identity().to_compressed()),
    };
    assert_eq!(
        verify_entry(&sk.public_key(), &identity_sig),
        Err(BeaconError::Malformed("signature"))
    );
    let identity_pk = BeaconPublicKey(G2Affine::identity().to_compressed());
    assert_eq!(
        verify_entry(&identity_pk, &identity_sig),
        Err(BeaconError::Malformed("public key"))
    );
}

#[test]
fn devnet_keys_sign_verifiable_unique_entries() {
    let sk = BeaconSecretKey::from_wide(&[3; 64]);
    let pk = sk.public_key();
    let e5 = sk.sign(5);
    verify_entry(&pk, &e5).unwrap();
    assert_eq!(sk.sign(5), e5, "BLS signatures are deterministic (unique)");
    assert_ne!(sk.sign(6).randomness(), e5.randomness());
    let back = BeaconSecretKey::from_bytes(&sk.to_bytes()).unwrap();
    assert_eq!(back.public_key(), pk);
    assert!(BeaconSecretKey::from_bytes(&[0; 32]).is_none());
    assert!(BeaconSecretKey::from_bytes(&[0xff; 32]).is_none());
    // Two generated keys differ.
    let a = BeaconSecretKey::generate().unwrap();
    let b = BeaconSecretKey::generate().unwrap();
    assert_ne!(a.public_key(), b.public_key());
    assert!(!format!("{a:?}").contains(&hex::encode(a.to_bytes())));
}

#[test]
fn epochs_map_to_rounds_and_info_checks_the_round() {
    let (pk, genesis, period, rounds, _) = quicknet();
    let source = BeaconSource::Drand {
        public_key: pk,
        genesis_time: genesis,
        period,
        chain_genesis_time: genesis + period, // epoch 0 = round 2
    };
    assert_eq!(source.round(0, 3000), Ok(2));
    assert_eq!(source.round(1, 3000), Ok(3));
    assert_eq!(source.round(1, 30_000), Ok(12));
    assert_eq!(source.round(-1, 3000), Err(BeaconError::NoRound(-1)));
    let early = BeaconSource::Drand {
        public_key: pk,
        genesis_time: genesis,
        period,
        chain_genesis_time: genesis - 10,
    };
    assert_eq!(early.round(0, 1000), Err(BeaconError::NoRound(0)));
    assert_eq!(BeaconSource::Devnet.round(17, 1000), Ok(17));

    let info = BeaconInfo {
        scheme: SCHEME.into(),
        public_key: pk,
        source,
        block_time_ms: 3000,
    };
    info.verify(0, &rounds[0]).unwrap();
    info.verify(1, &rounds[1]).unwrap();
    // A valid entry served for the wrong epoch.
    assert_eq!(
        info.verify(1, &rounds[0]),
        Err(BeaconError::WrongRound {
            epoch: 1,
            expected: 3,
            got: 2
        })
    );
    assert!(info.verify(1, &flip(&rounds[1], 47, 0)).is_err());
}

#[test]
fn draws_differ_by_tag_epoch_entropy_and_entry() {
    let sk = BeaconSecretKey::from_wide(&[9; 64]);
    let r1 = sk.sign(1).randomness();
    let r2 = sk.sign(2).randomness();
    let d = draw(&r1, RandomnessTag::Ticket, 1, 1000);
    assert_eq!(d, draw(&r1, RandomnessTag::Ticket, 1, 1000));
    assert_ne!(d, draw(&r1, RandomnessTag::SealSeed, 1, 1000));
    assert_ne!(d, draw(&r1, RandomnessTag::Ticket, 2, 1000));
    assert_ne!(d, draw(&r1, RandomnessTag::Ticket, 1, 1001));
    assert_ne!(d, draw(&r2, RandomnessTag::Ticket, 1, 1000));
    assert_eq!(d[31] & 0xc0, 0);
}

#[test]
fn wire_forms_are_hex_and_strict_about_length() {
    let (_, _, _, rounds, _) = quicknet();
    let v = serde_json::to_value(rounds[0]).unwrap();
    assert_eq!(v["round"], 2);
    assert_eq!(v["signature"].as_str().unwrap().len(), 96);
    let short = serde_json::json!({"round": 2, "signature": "b6b6"});
    let err = serde_json::from_value::<BeaconEntry>(short).unwrap_err();
    assert!(err.to_string().contains("expected 48 bytes"), "{err}");
    let src: BeaconSource = serde_json::from_str(r#"{"kind":"devnet"}"#).unwrap();
    assert_eq!(src, BeaconSource::Devnet);
}
