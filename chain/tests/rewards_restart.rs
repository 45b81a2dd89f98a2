//! Block rewards (election by power, WinningPoSt, vesting) and restarting from the database.

mod common;
use common::*;
use strata_chain::HashVerifier;
use strata_chain_client::types::Method;
use strata_chain_client::views::Pot;
use strata_chain_client::{ChainApi, Token};
use strata_prover::proof_file::PublicData;
use strata_prover::vanilla::post::PostSector;

fn winning_proof(net: &Net, t: &strata_chain_client::views::WinningTicket) -> String {
    let sectors = t
        .sectors
        .iter()
        .map(|n| PostSector {
            sector_number: *n,
            comm_r: block_on(net.chain.sector(t.miner, *n)).unwrap().comm_r,
        })
        .collect();
    HashVerifier::proof_for(&PublicData::Winning {
        prover_id: t.miner,
        randomness: t.randomness,
        sectors,
    })
}

#[test]
fn winning_post_mints_the_reward_with_vesting_and_unclaimed_rewards_are_never_minted() {
    let net = Net::hashed();
    let c = net.genesis.constants.clone();
    let owner = net.funded(1, 10_000);
    let id = net.miner(&owner, 1000);
    net.step(1);
    assert!(
        block_on(net.chain.winning(id)).unwrap().is_empty(),
        "no power, no wins"
    );
    net.precommit_cc(&owner, id, 1, 1000);
    net.prove_commit_hashed(&owner, id, 1);
    // The only miner with power wins every epoch.
    let tickets = block_on(net.chain.winning(id)).unwrap();
    assert_eq!(tickets.len(), 1);
    let t = tickets[0].clone();
    assert_eq!(t.sectors, vec![1]);
    let minted_before = block_on(net.chain.network()).unwrap().supply.minted;
    // A wrong proof is refused; the right one mints 25% now and 75% vesting.
    let err = net
        .send(
            &owner,
            Method::SubmitWinningPost {
                miner: id,
                epoch: t.epoch,
                proof: "00".into(),
                recall: None,
            },
        )
        .unwrap_err();
    assert_eq!(err.kind, strata_chain_client::ErrorKind::InvalidProof);
    net.send(
        &owner,
        Method::SubmitWinningPost {
            miner: id,
            epoch: t.epoch,
            proof: winning_proof(&net, &t),
            recall: None,
        },
    )
    .unwrap();
    net.step(1);
    let m = format!("m{id}");
    let ev = net.events(&m, &format!("block_reward epoch {}", t.epoch));
    assert_eq!(ev.len(), 2);
    assert_eq!(
        (ev[0].to, ev[0].amount),
        (Pot::MinerAvailable(id), Token(t.reward.0 / 4))
    );
    assert_eq!(
        (ev[1].to, ev[1].amount),
        (Pot::MinerVesting(id), Token(t.reward.0 - t.reward.0 / 4))
    );
    assert_eq!(block_on(net.chain.miner(id)).unwrap().blocks_won, 1);
    // Every other epoch's win goes unclaimed: nothing more is minted once their windows pass.
    net.step(c.winning_post_window as u64 + 2);
    let supply = block_on(net.chain.network()).unwrap().supply;
    assert_eq!(supply.minted, Token(minted_before.0 + t.reward.0));
    // Vesting: 1/180 of the locked part per day.
    net.prove_until(&owner, id, t.epoch + 1 + c.reward_vesting_step, &[]);
    let vested = net.events(&m, "reward_vested");
    assert_eq!(vested.len(), 1);
    let locked = t.reward.0 - t.reward.0 / 4;
    assert_eq!(vested[0].amount, Token(locked / 180));
}

#[test]
fn the_election_tracks_power_shares() {
    let net = Net::hashed();
    let a = net.funded(1, 10_000);
    let b = net.funded(2, 10_000);
    let ma = net.miner(&a, 1000);
    let mb = net.miner(&b, 1000);
    net.step(1);
    net.precommit_cc(&a, ma, 1, 5000);
    for n in 1..=3 {
        net.precommit_cc(&b, mb, n, 5000);
    }
    net.prove_commit_hashed(&a, ma, 1);
    for n in 1..=3 {
        net.prove_commit_hashed(&b, mb, n);
    }
    // 2,000 epochs, both miners proving every deadline: wins ~ Binomial(2000, 1/4) for `ma`.
    let (start, n) = (net.head(), 2000);
    let mut wins_a = 0;
    let mut epoch = start;
    while epoch < start + n {
        // One epoch at a time (at most one post per miner): every ticket is seen before it lapses.
        net.prove_all_until(&[(&a, ma), (&b, mb)], epoch + 1, &[]);
        assert!(net.head() - epoch < net.genesis.constants.winning_post_window);
        for e in epoch + 1..=net.head() {
            let ta = block_on(net.chain.winning(ma)).unwrap();
            let tb = block_on(net.chain.winning(mb)).unwrap();
            assert!(ta.iter().chain(&tb).filter(|t| t.epoch == e).count() <= 1);
            wins_a += ta.iter().filter(|t| t.epoch == e).count();
        }
        epoch = net.head();
    }
    assert_eq!(block_on(net.chain.miner(ma)).unwrap().raw_power, 2048);
    assert_eq!(
        block_on(net.chain.miner(mb)).unwrap().raw_power,
        3 * 2048,
        "{:#?}",
        block_on(net.chain.sectors(mb))
            .unwrap()
            .iter()
            .map(|s| (s.number, s.status, s.location, s.faulty_since))
            .collect::<Vec<_>>()
    );
    // Tolerance: 4 standard deviations, sqrt(2000 · 1/4 · 3/4) ≈ 19.4.
    let expect = n as f64 / 4.0;
    assert!(
        (wins_a as f64 - expect).abs() < 4.0 * 19.4,
        "{wins_a} wins of {n}, expected {expect}"
    );
}

/// The same scenario twice (with the same beacon key, hence the same randomness), once with a
/// restart (with a message pending) in the middle: the same state roots, and nothing accepted is
/// lost.
#[test]
fn restart_from_the_database_gives_the_same_state_root() {
    let key = strata_chain_client::beacon::BeaconSecretKey::from_wide(&[11; 64]);
    let run = |restart: bool| {
        let mut net = Net::with_beacon_key(test_genesis(), Box::new(HashVerifier), &key);
        let owner = net.funded(1, 10_000);
        let id = net.miner(&owner, 1000);
        net.step(1);
        net.precommit_cc(&owner, id, 1, 1000);
        net.prove_commit_hashed(&owner, id, 1);
        net.prove_until(&owner, id, net.head() + 90, &[]);
        net.send(
            &owner,
            Method::Transfer {
                to: net.faucet.address(),
                amount: Token::whole(1),
            },
        )
        .unwrap();
        let mid = (net.chain.head_now(), net.chain.pending_root());
        if restart {
            net = net.reopen(Box::new(HashVerifier));
            assert_eq!((net.chain.head_now(), net.chain.pending_root()), mid);
        }
        net.prove_until(&owner, id, net.head() + 130, &[2, 5]);
        net.chain.head_now().state_root
    };
    assert_eq!(run(false), run(true));
}
