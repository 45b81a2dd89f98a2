//! The known-seed attack (see `strata_tests::cheat`): if a miner learns the PoRep seed before it
//! pre-commits, a replica whose labels are computed only at the challenged nodes passes the vanilla
//! seal verifier for that seed — and fails for any other seed. This is why the chain must draw the
//! seed after pre-commit, unpredictably.

use std::fs;
use strata_params::ProofType;
use strata_primitives::node::{as_nodes, Node};
use strata_primitives::sizes::SectorSize;
use strata_prover::challenges::porep_challenges;
use strata_prover::vanilla::porep::{
    prove_seal_partition, verify_seal_partition, SealPublicInputs, SealRejection,
};
use strata_sealer::{seal, NoProgress, PieceSource, SealConfig, SectorMeta, SectorPaths};
use strata_tests::cheat::cheat_seal;

#[test]
fn known_seed_lets_a_sparse_replica_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let pt = ProofType::for_size(SectorSize::KIB2).unwrap();
    let n = pt.nodes() as usize;
    let config = SealConfig {
        proof_type: pt,
        prover_id: 1001,
        sector_number: 7,
        ticket: [0x17; 32],
        parent_cache_dir: tmp.path().join("parents"),
    };
    // A full sector of non-zero data (2032 raw bytes pad to the 2 KiB sector).
    let data: Vec<u8> = (0..2032u32).map(|i| (i * 37 % 251) as u8 + 1).collect();
    let seed: Node = [0x5e; 32];

    // The cheat, with the seed known in advance.
    let cheat = cheat_seal(&config, &[&data], &seed, &tmp.path().join("cheat")).unwrap();
    assert_eq!(
        cheat.challenged.len(),
        2,
        "two distinct challenges at 2 KiB"
    );
    assert_eq!(
        cheat.label_hashes, 4,
        "2 challenges × 2 layers, instead of 126"
    );
    let meta = SectorMeta::load(&cheat.dir).unwrap();
    assert_eq!(meta, cheat.meta);
    assert_eq!((meta.comm_r, meta.comm_d), (cheat.comm_r, cheat.comm_d));

    // The sparse structure: every label is zero outside the challenged nodes, so the replica is
    // the data there.
    let paths = SectorPaths::new(&cheat.dir);
    for l in 1..=pt.layers {
        let layer = fs::read(paths.layer(l)).unwrap();
        let nonzero: Vec<u64> = (0..n as u64)
            .filter(|&v| as_nodes(&layer)[v as usize] != [0u8; 32])
            .collect();
        assert_eq!(nonzero, cheat.challenged, "layer {l}");
    }
    let unsealed = fs::read(paths.unsealed()).unwrap();
    let cheat_replica = fs::read(paths.sealed()).unwrap();
    for v in 0..n {
        let is_challenged = cheat.challenged.contains(&(v as u64));
        assert_eq!(
            as_nodes(&cheat_replica)[v] == as_nodes(&unsealed)[v],
            !is_challenged,
            "node {v}"
        );
    }

    // The attack works: the vanilla prover and verifier accept it for the predicted seed.
    let public = SealPublicInputs::for_sector(&meta, seed);
    for partition in 0..pt.porep_partitions {
        let proof = prove_seal_partition(&cheat.dir, &seed, partition).unwrap();
        assert_eq!(verify_seal_partition(&public, &proof), Ok(()));
    }

    // An honest seal of the same data and ticket: same CommD, different CommR, and a replica that
    // differs from the cheat's at (almost) every node.
    let honest_dir = tmp.path().join("honest");
    let honest = seal(
        &config,
        vec![PieceSource {
            reader: Box::new(&data[..]),
            len: data.len() as u64,
        }],
        &honest_dir,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(honest.comm_d, cheat.comm_d);
    assert_eq!(honest.replica_id, meta.replica_id);
    assert_ne!(honest.comm_r, cheat.comm_r);
    let honest_replica = fs::read(SectorPaths::new(&honest_dir).sealed()).unwrap();
    let differing = (0..n)
        .filter(|&v| as_nodes(&honest_replica)[v] != as_nodes(&cheat_replica)[v])
        .count();
    assert!(
        differing >= n - cheat.challenged.len(),
        "only {differing} of {n} replica nodes differ"
    );

    // Any other seed: the cheat is caught. The honest sector proves fine with it.
    let mut other = seed;
    other[0] ^= 1;
    let honest_proof = prove_seal_partition(&honest_dir, &other, 0).unwrap();
    let honest_public = SealPublicInputs::for_sector(&honest, other);
    assert_eq!(verify_seal_partition(&honest_public, &honest_proof), Ok(()));

    let other_challenges = porep_challenges(&pt, &meta.replica_id, &other, 0);
    // The first challenge whose labels the cheat never computed (its stored layer-1 label is 0).
    let caught = *other_challenges
        .iter()
        .find(|c| !cheat.challenged.contains(c))
        .expect("a flipped seed challenges a node the cheat skipped");
    let want = SealRejection::Label {
        challenge: caught,
        layer: 1,
    };
    let public = SealPublicInputs::for_sector(&meta, other);
    match prove_seal_partition(&cheat.dir, &other, 0) {
        Ok(proof) => assert_eq!(verify_seal_partition(&public, &proof), Err(want)),
        // A prover that checks its own proof refuses, for the same reason.
        Err(e) => assert!(
            e.to_string().contains(&want.to_string()),
            "prover refused for another reason: {e}"
        ),
    }
}

/// The chain's check of a seal proof in this test: the vanilla seal verifier itself (the
/// circuit accepts exactly what it accepts), with the vanilla proof as JSON — so the attack can
/// be played against the chain's own public inputs without Groth16 parameters.
struct VanillaSealVerifier;

impl strata_chain::ProofVerifier for VanillaSealVerifier {
    fn verify(
        &self,
        pt: &ProofType,
        public: strata_prover::proof_file::PublicData,
        proofs: &[String],
    ) -> Result<strata_prover::proof_file::ProofFile, String> {
        let strata_prover::proof_file::PublicData::Porep { inputs } = &public else {
            return Err("only seal proofs in this test".into());
        };
        if proofs.len() != pt.porep_partitions {
            return Err("one proof per partition".into());
        }
        for p in proofs {
            let proof: strata_prover::vanilla::porep::SealPartitionProof =
                serde_json::from_str(p).map_err(|e| e.to_string())?;
            verify_seal_partition(inputs, &proof).map_err(|e| e.to_string())?;
        }
        Ok(strata_prover::proof_file::ProofFile {
            format: strata_prover::proof_file::FORMAT.into(),
            version: strata_prover::proof_file::VERSION,
            proof_type: pt.id,
            vk_digest: "vanilla".into(),
            public,
            proofs: proofs.to_vec(),
        })
    }
}

/// What an attacker can compute at pre-commit time from everything public — the genesis, every
/// published beacon entry, the network's beacon key — as a guess of the seal seed: the old hash
/// chain continued from the newest entry, and the newest entry's own draw.
fn seed_guesses(
    latest: &strata_chain_client::beacon::BeaconEntry,
    head: i64,
    seed_epoch: i64,
    miner: u64,
) -> Vec<Node> {
    use strata_chain_client::beacon::draw;
    use strata_chain_client::types::RandomnessTag::SealSeed;
    let mut b = latest.randomness();
    for e in head + 1..=seed_epoch {
        let mut h = blake3::Hasher::new();
        h.update(b"strata-beacon-v1");
        h.update(&b);
        h.update(&e.to_be_bytes());
        b = *h.finalize().as_bytes();
    }
    vec![
        draw(&b, SealSeed, seed_epoch, miner),
        draw(&latest.randomness(), SealSeed, seed_epoch, miner),
        draw(&latest.randomness(), SealSeed, head, miner),
    ]
}

/// Today's chain: the attack is played against a devnet. The seal seed of pre-commit + seed
/// delay is not computable from anything public at pre-commit (the entry does not exist and only
/// the beacon key could make it), so the cheater's replica — built for its best guess — fails
/// the chain's check for the real seed, and a proof made for the guess is refused. An honest
/// replica of the same data passes the same check.
#[test]
fn a_predicted_seed_is_worthless_against_the_beacon() {
    use strata_chain::{Chain, Genesis};
    use strata_chain_client::types::{Method, RandomnessTag};
    use strata_chain_client::{ChainApi, ErrorKind, KeyPair, Message, Token};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let genesis = Genesis::preset("devnet").unwrap();
    let chain = Chain::open(
        &tmp.path().join("chain"),
        genesis.clone(),
        Box::new(VanillaSealVerifier),
        true,
    )
    .unwrap();
    let send = |key: &KeyPair, call: Method| {
        let nonce = rt.block_on(chain.account(key.address())).unwrap().nonce;
        let m = Message {
            network: genesis.network.clone(),
            from: key.address(),
            nonce,
            call,
        }
        .sign(key)
        .unwrap();
        chain.submit_message(m)
    };
    let faucet = strata_chain::config::devnet_faucet();
    let owner = KeyPair::from_secret(&[0x42; 32]);
    send(
        &faucet,
        Method::Transfer {
            to: owner.address(),
            amount: Token::whole(1000),
        },
    )
    .unwrap();
    send(
        &owner,
        Method::CreateMiner {
            worker: owner.address(),
            proof_type: 1,
            deal_endpoint: String::new(),
        },
    )
    .unwrap();
    let miner = 1000;
    send(
        &owner,
        Method::AddMinerBalance {
            miner,
            amount: Token::whole(500),
        },
    )
    .unwrap();
    chain.step(2).unwrap();

    let pt = ProofType::for_size(SectorSize::KIB2).unwrap();
    let head = chain.head_now().epoch;
    let ticket = rt
        .block_on(chain.randomness(RandomnessTag::Ticket, head, miner))
        .unwrap();
    let config = |n| SealConfig {
        proof_type: pt,
        prover_id: miner,
        sector_number: n,
        ticket,
        parent_cache_dir: tmp.path().join("parents"),
    };
    // Committed capacity: the data is zeros, CommD the zero root.
    let zeros = vec![0u8; 2032];
    let precommit_epoch = head + 1;
    let seed_epoch = precommit_epoch + genesis.constants.seed_delay;
    // The future entry is not served, and the guesses are all the attacker has.
    assert_eq!(
        rt.block_on(chain.beacon(seed_epoch)).unwrap_err().kind,
        ErrorKind::TooEarly
    );
    let latest = rt.block_on(chain.verified_beacon(head)).unwrap();
    let guesses = seed_guesses(&latest, head, seed_epoch, miner);
    let cheat = cheat_seal(
        &config(1),
        &[&zeros],
        &guesses[0],
        &tmp.path().join("cheat"),
    )
    .unwrap();
    assert_eq!(cheat.label_hashes, 4);
    let honest_dir = tmp.path().join("honest");
    let honest = seal(
        &config(2),
        vec![PieceSource {
            reader: Box::new(&zeros[..]),
            len: zeros.len() as u64,
        }],
        &honest_dir,
        &NoProgress,
    )
    .unwrap();
    for (n, comm_r, comm_d) in [
        (1, cheat.comm_r, cheat.comm_d),
        (2, honest.comm_r, honest.comm_d),
    ] {
        send(
            &owner,
            Method::PreCommit {
                miner,
                sector_number: n,
                comm_r,
                comm_d,
                ticket_epoch: head,
                expiration: precommit_epoch + genesis.constants.min_sector_lifetime + 10,
                deals: vec![],
            },
        )
        .unwrap();
    }
    chain.step(1).unwrap();
    assert_eq!(
        rt.block_on(chain.sector(miner, 1)).unwrap().seed_epoch,
        seed_epoch
    );
    let now = chain.head_now().epoch;
    chain.step((seed_epoch - now) as u64).unwrap();

    let seed = rt
        .block_on(chain.randomness(RandomnessTag::SealSeed, seed_epoch, miner))
        .unwrap();
    for g in &guesses {
        assert_ne!(*g, seed, "the seed was predictable");
    }
    let vanilla = |dir: &std::path::Path, s: &Node| {
        (0..pt.porep_partitions)
            .map(|p| serde_json::to_string(&prove_seal_partition(dir, s, p).unwrap()).unwrap())
            .collect::<Vec<_>>()
    };
    let prove = |n: u64, proofs: Vec<String>| {
        send(
            &owner,
            Method::ProveCommit {
                miner,
                sector_number: n,
                proofs,
            },
        )
    };
    // The cheater's proofs: for its guess, and (its only other option) for the real seed.
    for s in [&guesses[0], &seed] {
        let e = prove(1, vanilla(&cheat.dir, s)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidProof, "{e}");
    }
    // The honest replica passes the very same check.
    prove(2, vanilla(&honest_dir, &seed)).unwrap();
    chain.step(1).unwrap();
    let sectors = rt.block_on(chain.sectors(miner)).unwrap();
    let status: Vec<_> = sectors.iter().map(|s| (s.number, s.status)).collect();
    use strata_chain_client::views::SectorStatus::{Active, Precommitted};
    assert_eq!(status, vec![(1, Precommitted), (2, Active)]);
}
