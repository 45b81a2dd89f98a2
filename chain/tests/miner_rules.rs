//! The miner's money through a sector's life, checked against the formulas (hash-verified
//! proofs; the real-proof scenario is in `real_proofs.rs`).

mod common;
use common::*;
use strata_chain::economics;
use strata_chain_client::types::Method;
use strata_chain_client::views::{Pot, SectorStatus};
use strata_chain_client::{ChainApi, ErrorKind, Token};

#[test]
fn deposit_pledge_posts_fault_fee_recovery_termination_and_expiry() {
    let net = Net::hashed();
    let c = net.genesis.constants.clone();
    let owner = net.funded(1, 10_000);
    let id = net.miner(&owner, 1000);
    net.step(1);
    let m = format!("m{id}");

    // Pre-commit: the deposit is BR(20 days) of a 2 KiB sector's maximum QA power (10 × 2048,
    // as if all verified) at the current network power.
    net.precommit_cc(&owner, id, 1, 2000);
    let s1 = block_on(net.chain.sector(id, 1)).unwrap();
    let expect = economics::precommit_deposit(&c, s1.precommit_epoch, 0, 10 * 2048);
    assert_eq!(s1.precommit_deposit, expect);
    assert!(!expect.is_zero());
    assert_eq!(
        block_on(net.chain.miner(id))
            .unwrap()
            .balances
            .precommit_deposits,
        expect
    );

    // Prove-commit: deposit back, pledge locked, power granted.
    let before = block_on(net.chain.network()).unwrap();
    net.prove_commit_hashed(&owner, id, 1);
    let s1 = block_on(net.chain.sector(id, 1)).unwrap();
    let pledge = economics::initial_pledge(&c, s1.activation.unwrap(), 0, before.circulating, 2048);
    assert_eq!(s1.initial_pledge, pledge);
    let info = block_on(net.chain.miner(id)).unwrap();
    assert_eq!((info.raw_power, info.qa_power), (2048, 2048));
    assert_eq!(info.balances.locked_pledge, pledge);
    assert_eq!(info.balances.precommit_deposits, Token::ZERO);
    assert_eq!(net.events(&m, "precommit_deposit_returned").len(), 1);

    // A second sector, which will run to its expiration.
    net.precommit_cc(&owner, id, 2, 600);
    net.prove_commit_hashed(&owner, id, 2);
    let dl = net.deadline_of(id, 1);
    let in_dl: Vec<u64> = [1u64, 2]
        .into_iter()
        .filter(|n| net.deadline_of(id, *n) == dl)
        .collect();

    // Two periods of posts: no faults, no fees.
    net.prove_until(&owner, id, net.head() + 2 * c.proving_period, &[]);
    assert!(net.events(&m, "fault_fee").is_empty());
    assert_eq!(
        block_on(net.chain.sector(id, 1)).unwrap().status,
        SectorStatus::Active
    );

    // Missed deadline (the other sectors keep proving): faulty, power removed, no fee in the
    // period detected.
    let next = |net: &Net| {
        block_on(net.chain.deadlines(id)).unwrap()[dl as usize]
            .timing
            .clone()
    };
    let t = next(&net);
    net.prove_until(&owner, id, t.close, &[dl]);
    let s1 = block_on(net.chain.sector(id, 1)).unwrap();
    assert_eq!(s1.status, SectorStatus::Faulty);
    assert_eq!(s1.faulty_since, Some(t.close - 1));
    assert!(
        net.events(&m, "fault_fee").is_empty(),
        "no fee in the period a fault is detected"
    );
    assert_eq!(
        block_on(net.chain.miner(id)).unwrap().raw_power,
        2048 * (2 - in_dl.len() as u128)
    );

    // Still faulty at the next deadline: the continued-fault fee, BR(3.51 days) per faulty sector.
    let t = next(&net);
    net.prove_until(&owner, id, t.open, &[]);
    let network_qa = block_on(net.chain.network()).unwrap().qa_power;
    net.prove_until(&owner, id, t.close, &[dl]);
    let fees = net.events(&m, "fault_fee");
    assert_eq!(fees.len(), 1, "one fee, paid from one pot: {fees:?}");
    assert_eq!(
        fees[0].amount,
        economics::fault_fee(&c, t.close - 1, network_qa, 2048 * in_dl.len() as u128)
    );
    // No vesting funds: the fee came from the available balance (never from locked pledge).
    assert_eq!(fees[0].from, Pot::MinerAvailable(id));

    // Recovery declared before the cutoff, then proven: active again, power back.
    net.send(
        &owner,
        Method::DeclareRecoveries {
            miner: id,
            sectors: in_dl.clone(),
        },
    )
    .unwrap();
    net.step(1);
    assert_eq!(
        block_on(net.chain.sector(id, 1)).unwrap().status,
        SectorStatus::Recovering
    );
    net.prove_until(&owner, id, net.head() + c.proving_period, &[]);
    assert_eq!(
        block_on(net.chain.sector(id, 1)).unwrap().status,
        SectorStatus::Active
    );
    assert_eq!(block_on(net.chain.miner(id)).unwrap().raw_power, 4096);
    net.prove_until(&owner, id, net.head() + c.proving_period, &[]);
    assert_eq!(
        net.events(&m, "fault_fee").len(),
        1,
        "recovered sectors pay no more fees"
    );

    // Termination: FIP-0098 fee, pledge released.
    let s1 = block_on(net.chain.sector(id, 1)).unwrap();
    net.send(
        &owner,
        Method::TerminateSectors {
            miner: id,
            sectors: vec![1],
        },
    )
    .unwrap();
    let now = net.head() + 1;
    let nq = block_on(net.chain.network()).unwrap().qa_power;
    net.step(1);
    let ff = economics::fault_fee(&c, now, nq, 2048);
    let fee = economics::termination_fee(&c, s1.initial_pledge, now - s1.activation.unwrap(), ff);
    let paid: Token = net
        .events(&m, "termination_fee")
        .iter()
        .map(|e| e.amount)
        .sum();
    assert_eq!(paid, fee);
    assert_eq!(
        block_on(net.chain.sector(id, 1)).unwrap().status,
        SectorStatus::Terminated
    );
    assert_eq!(net.events(&m, "pledge_released sector 1").len(), 1);

    // Sector 2 expires at its deadline after the expiration epoch; its pledge is released.
    let s2 = block_on(net.chain.sector(id, 2)).unwrap();
    net.prove_until(&owner, id, s2.expiration + c.proving_period, &[]);
    assert_eq!(
        block_on(net.chain.sector(id, 2)).unwrap().status,
        SectorStatus::Expired,
        "{:?} {:?}",
        block_on(net.chain.sector(id, 2)).unwrap(),
        net.head()
    );
    assert_eq!(net.events(&m, "pledge_released sector 2").len(), 1);
    let info = block_on(net.chain.miner(id)).unwrap();
    assert_eq!(
        (info.raw_power, info.balances.locked_pledge),
        (0, Token::ZERO)
    );
    assert_eq!(info.sectors.terminated + info.sectors.expired, 2);
}

#[test]
fn sectors_faulty_too_long_are_terminated_and_declared_faults_respect_the_cutoff() {
    let net = Net::hashed();
    let c = net.genesis.constants.clone();
    let owner = net.funded(1, 10_000);
    let id = net.miner(&owner, 1000);
    net.step(1);
    net.precommit_cc(&owner, id, 1, 1000);
    net.prove_commit_hashed(&owner, id, 1);
    let dl = net.deadline_of(id, 1);
    net.post_deadline(&owner, id, dl, &[]);
    // Inside the next instance's cutoff: refused.
    let next = block_on(net.chain.deadlines(id)).unwrap()[dl as usize]
        .timing
        .clone();
    net.step_to(next.fault_cutoff);
    let err = net
        .send(
            &owner,
            Method::DeclareFaults {
                miner: id,
                sectors: vec![1],
            },
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooLate, "{err}");
    net.post_deadline(&owner, id, dl, &[]);
    // After the window: declared faulty at once, power removed.
    net.send(
        &owner,
        Method::DeclareFaults {
            miner: id,
            sectors: vec![1],
        },
    )
    .unwrap();
    net.step(1);
    let s = block_on(net.chain.sector(id, 1)).unwrap();
    assert_eq!(s.status, SectorStatus::Faulty);
    assert_eq!(block_on(net.chain.miner(id)).unwrap().raw_power, 0);
    // Declared faults pay the fee at each following deadline; after fault_max_age periods the
    // sector is terminated (with the termination fee).
    net.step(((c.fault_max_age_periods + 1) * c.proving_period) as u64);
    let s = block_on(net.chain.sector(id, 1)).unwrap();
    assert_eq!(s.status, SectorStatus::Terminated);
    let m = format!("m{id}");
    assert_eq!(
        net.charge_epochs(&m, "fault_fee").len() as i64,
        c.fault_max_age_periods
    );
    assert_eq!(net.charge_epochs(&m, "termination_fee").len(), 1);
}

#[test]
fn skipped_sectors_become_faulty_and_wrong_window_is_refused() {
    let net = Net::hashed();
    let owner = net.funded(1, 10_000);
    let id = net.miner(&owner, 1000);
    net.step(1);
    net.precommit_cc(&owner, id, 1, 1000);
    net.prove_commit_hashed(&owner, id, 1);
    let dl = net.deadline_of(id, 1);
    // Outside its window.
    let err = net
        .send(
            &owner,
            Method::SubmitWindowPost {
                miner: id,
                deadline: dl,
                partition: 0,
                skipped: vec![],
                proof: None,
            },
        )
        .unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::TooLate | ErrorKind::TooEarly),
        "{err}"
    );
    // In the window, a post skipping the only sector proves nothing and is refused (declare
    // faults instead); the window closes unproven and the sector is faulty.
    let t = net.step_into_deadline(id, dl);
    let err = net
        .send(
            &owner,
            Method::SubmitWindowPost {
                miner: id,
                deadline: dl,
                partition: 0,
                skipped: vec![1],
                proof: None,
            },
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidParams, "{err}");
    net.step_to(t.close);
    assert_eq!(
        block_on(net.chain.sector(id, 1)).unwrap().status,
        SectorStatus::Faulty
    );
    // A proof for the wrong randomness is refused.
    net.send(
        &owner,
        Method::DeclareRecoveries {
            miner: id,
            sectors: vec![1],
        },
    )
    .unwrap();
    net.step_into_deadline(id, dl);
    let err = net
        .send(
            &owner,
            Method::SubmitWindowPost {
                miner: id,
                deadline: dl,
                partition: 0,
                skipped: vec![],
                proof: Some("ab".repeat(32)),
            },
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidProof);
}
