//! Regression tests for the money-safety audit: each test drives the chain through its public
//! API (signed messages, epochs, views, the store) into a hole the audit found, and checks it
//! is closed. Every test was first run against the chain without its fix and failed there; each
//! fix's commit adds its tests. Sections follow the audit's numbering (1 duplicates, 2
//! invariants on load, 3 proposals published once, 4 penalty order, 5 pre-commit deposit, 6
//! late deals at prove-commit, 7 verified terms, 8 deal validation, 9 WindowPoSt and faults).

mod common;
use common::*;
use strata_chain::economics;
use strata_chain::state::State;
use strata_chain::store::Store;
use strata_chain::{Chain, HashVerifier};
use strata_chain_client::types::{DealProposal, EscrowHolder, Method, MinerId};
use strata_chain_client::views::{DealStatus, Pot, SectorStatus};
use strata_chain_client::{ChainApi, ErrorKind, KeyPair, Token};
use strata_sealer::PieceInfo;

/// A miner owned by a new funded key, with committed-capacity sectors `1..=n` proven (each
/// living `life` epochs).
fn miner_with_sectors(net: &Net, seed: u8, n: u64, life: i64) -> (KeyPair, MinerId) {
    let owner = net.funded(seed, 10_000);
    let id = net.miner(&owner, 1000);
    net.step(1);
    for s in 1..=n {
        net.precommit_cc(&owner, id, s, life);
        net.prove_commit_hashed(&owner, id, s);
    }
    (owner, id)
}

/// The piece of `len` bytes made from `seed`.
fn piece(seed: u8, len: usize) -> PieceInfo {
    let data: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(seed)).collect();
    strata_sealer::comm_p(&data[..], len as u64).unwrap()
}

/// A client with 100 tokens of escrow, and 10 tokens of provider escrow for miner `id`.
fn market(net: &Net, owner: &KeyPair, id: MinerId) -> KeyPair {
    let client = net.funded(77, 1000);
    net.send(
        &client,
        Method::AddEscrow {
            to: EscrowHolder::Account(client.address()),
            amount: Token::whole(100),
        },
    )
    .unwrap();
    net.send(
        owner,
        Method::AddEscrow {
            to: EscrowHolder::Miner(id),
            amount: Token::whole(10),
        },
    )
    .unwrap();
    net.step(1);
    client
}

/// An unverified proposal for `p`, epochs `start..end`, 1 token of provider collateral.
fn proposal(client: &KeyPair, id: MinerId, p: &PieceInfo, start: i64, end: i64) -> DealProposal {
    DealProposal {
        network: test_genesis().network,
        piece_cid: p.comm_p,
        piece_size: p.padded_size,
        client: client.address(),
        provider: id,
        start_epoch: start,
        end_epoch: end,
        price_per_epoch: Token(Token::whole(1).0 / 1000),
        provider_collateral: Token::whole(1),
        client_collateral: Token(Token::whole(1).0 / 10),
        verified: false,
        label: "money".into(),
    }
}

/// Lets sector `n`'s deadline pass unproven twice (every other deadline proven): faulty at the
/// first close, the continued-fault fee at the second. Returns the epoch of the fee.
fn fault_twice(net: &Net, owner: &KeyPair, id: MinerId, n: u64) -> i64 {
    let dl = net.deadline_of(id, n);
    let mut close = 0;
    for _ in 0..2 {
        let t = block_on(net.chain.deadlines(id)).unwrap()[dl as usize]
            .timing
            .clone();
        net.prove_until(owner, id, t.close, &[dl]);
        close = t.close;
    }
    assert_eq!(sector_view(net, id, n).status, SectorStatus::Faulty);
    close - 1
}

fn miner_view(net: &Net, id: MinerId) -> strata_chain_client::views::MinerInfo {
    block_on(net.chain.miner(id)).unwrap()
}

fn sector_view(net: &Net, id: MinerId, n: u64) -> strata_chain_client::views::SectorInfo {
    block_on(net.chain.sector(id, n)).unwrap()
}

// ---- 1. Duplicates -------------------------------------------------------------------------

#[test]
fn terminate_sectors_refuses_a_sector_listed_twice() {
    let net = Net::hashed();
    let (owner, id) = miner_with_sectors(&net, 1, 2, 1000);
    let before = miner_view(&net, id).balances;
    // Before the fix this released sector 1's pledge four times — three of them sector 2's —
    // and the owner could withdraw it while sector 2 still proved.
    let err = net
        .send(
            &owner,
            Method::TerminateSectors {
                miner: id,
                sectors: vec![1, 1, 1, 1],
            },
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Duplicate, "{err}");
    assert!(err.message.contains("sector 1"), "{err}");
    assert_eq!(miner_view(&net, id).balances, before);
}

#[test]
fn an_ended_sector_keeps_no_pledge_and_releases_its_own_once() {
    let net = Net::hashed();
    let (owner, id) = miner_with_sectors(&net, 1, 2, 1000);
    let (p1, p2) = (
        sector_view(&net, id, 1).initial_pledge,
        sector_view(&net, id, 2).initial_pledge,
    );
    net.send(
        &owner,
        Method::TerminateSectors {
            miner: id,
            sectors: vec![1],
        },
    )
    .unwrap();
    net.step(1);
    let s1 = sector_view(&net, id, 1);
    assert_eq!(s1.status, SectorStatus::Terminated);
    assert_eq!(
        s1.initial_pledge,
        Token::ZERO,
        "an ended sector holds no pledge"
    );
    let released = net.events(&format!("m{id}"), "pledge_released sector 1");
    assert_eq!(released.len(), 1);
    assert_eq!(released[0].amount, p1);
    // Terminating it again is refused: it is no longer live.
    let err = net
        .send(
            &owner,
            Method::TerminateSectors {
                miner: id,
                sectors: vec![1],
            },
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidParams, "{err}");
    assert_eq!(sector_view(&net, id, 2).initial_pledge, p2);
}

#[test]
fn declare_faults_refuses_a_sector_listed_twice() {
    let net = Net::hashed();
    let (owner, id) = miner_with_sectors(&net, 1, 1, 1000);
    let err = net
        .send(
            &owner,
            Method::DeclareFaults {
                miner: id,
                sectors: vec![1, 1],
            },
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Duplicate, "{err}");
}

#[test]
fn declare_recoveries_refuses_a_sector_listed_twice() {
    let net = Net::hashed();
    let (owner, id) = miner_with_sectors(&net, 1, 1, 1000);
    let dl = net.deadline_of(id, 1);
    net.post_deadline(&owner, id, dl, &[]);
    net.send(
        &owner,
        Method::DeclareFaults {
            miner: id,
            sectors: vec![1],
        },
    )
    .unwrap();
    net.step(1);
    assert_eq!(sector_view(&net, id, 1).status, SectorStatus::Faulty);
    let err = net
        .send(
            &owner,
            Method::DeclareRecoveries {
                miner: id,
                sectors: vec![1, 1],
            },
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Duplicate, "{err}");
}

#[test]
fn window_post_refuses_a_skipped_sector_listed_twice() {
    let net = Net::hashed();
    let (owner, id) = miner_with_sectors(&net, 1, 1, 1000);
    let dl = net.deadline_of(id, 1);
    net.step_into_deadline(id, dl);
    let err = net
        .send(
            &owner,
            Method::SubmitWindowPost {
                miner: id,
                deadline: dl,
                partition: 0,
                skipped: vec![1, 1],
                proof: None,
            },
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Duplicate, "{err}");
}

#[test]
fn publish_deals_refuses_one_proposal_twice_in_a_message() {
    let net = Net::hashed();
    let (owner, id) = miner_with_sectors(&net, 1, 0, 1000);
    let client = market(&net, &owner, id);
    let h = net.head();
    let signed = proposal(&client, id, &piece(3, 1000), h + 50, h + 250)
        .sign(&client)
        .unwrap();
    let err = net
        .send(
            &owner,
            Method::PublishDeals {
                miner: id,
                deals: vec![signed.clone(), signed],
            },
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Duplicate, "{err}");
    assert!(block_on(net.chain.deals()).unwrap().is_empty());
}

// ---- 4. Penalty order ----------------------------------------------------------------------

#[test]
fn fault_fees_come_from_the_available_balance_never_from_live_pledge() {
    let net = Net::hashed();
    let (owner, id) = miner_with_sectors(&net, 1, 1, 1000);
    let pledge = sector_view(&net, id, 1).initial_pledge;
    let available = miner_view(&net, id).balances.available;
    let at = fault_twice(&net, &owner, id, 1);
    let fees = net.events(&format!("m{id}"), "fault_fee");
    assert!(!fees.is_empty());
    assert!(fees.iter().all(|e| e.epoch == at));
    // No vesting rewards (no WinningPoSt was submitted): the available balance pays.
    for e in &fees {
        assert_eq!(
            (e.from, e.to),
            (Pot::MinerAvailable(id), Pot::Burn),
            "{e:?}"
        );
    }
    let fee: Token = fees.iter().map(|e| e.amount).sum();
    let b = miner_view(&net, id).balances;
    assert_eq!(
        b.locked_pledge, pledge,
        "a live sector's pledge stays locked"
    );
    assert_eq!(b.available, Token(available.0 - fee.0));
}

#[test]
fn unpaid_penalties_become_fee_debt_and_leave_live_pledge_alone() {
    let net = Net::hashed();
    let (owner, id) = miner_with_sectors(&net, 1, 1, 1000);
    let pledge = sector_view(&net, id, 1).initial_pledge;
    let available = miner_view(&net, id).balances.available;
    net.send(
        &owner,
        Method::WithdrawMinerBalance {
            miner: id,
            amount: available,
        },
    )
    .unwrap();
    net.step(1);
    fault_twice(&net, &owner, id, 1);
    let debt: Token = net
        .events(&format!("m{id}"), "fault_fee")
        .iter()
        .filter(|e| e.to == Pot::FeeDebt(id))
        .map(|e| e.amount)
        .sum();
    let b = miner_view(&net, id).balances;
    assert_eq!(
        b.locked_pledge, pledge,
        "a live sector's pledge stays locked"
    );
    assert!(!debt.is_zero(), "nothing to pay with: the fee is owed");
    assert_eq!((b.available, b.fee_debt), (Token::ZERO, debt));
}

#[test]
fn termination_releases_the_pledge_before_taking_the_fee() {
    let net = Net::hashed();
    let (owner, id) = miner_with_sectors(&net, 1, 2, 1000);
    let c = net.genesis.constants.clone();
    let (s1, p2) = (
        sector_view(&net, id, 1),
        sector_view(&net, id, 2).initial_pledge,
    );
    let available = miner_view(&net, id).balances.available;
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
    let fee = economics::termination_fee(
        &c,
        s1.initial_pledge,
        now - s1.activation.unwrap(),
        economics::fault_fee(&c, now, nq, 2048),
    );
    let ev: Vec<_> = net
        .events(&format!("m{id}"), "")
        .into_iter()
        .filter(|e| e.epoch == now && e.why.contains("sector 1"))
        .map(|e| (e.from, e.to, e.amount))
        .collect();
    assert_eq!(
        ev,
        vec![
            (
                Pot::MinerPledge(id),
                Pot::MinerAvailable(id),
                s1.initial_pledge
            ),
            (Pot::MinerAvailable(id), Pot::Burn, fee),
        ]
    );
    let b = miner_view(&net, id).balances;
    assert_eq!(b.locked_pledge, p2, "sector 2's pledge is intact");
    assert_eq!(
        b.available,
        Token(available.0 + s1.initial_pledge.0 - fee.0)
    );
}

// ---- 2. Invariants, checked when the state is loaded ---------------------------------------

/// Writes `state` as the stored head state (the head block as it was).
fn store_state(dir: &std::path::Path, state: &State) {
    let store = Store::open(&dir.join("chain.redb")).unwrap();
    let block = store.block(state.epoch).unwrap().unwrap();
    store.commit_epoch(state, &block).unwrap();
}

#[test]
fn chain_open_refuses_a_stored_state_that_breaks_a_money_invariant() {
    let net = Net::hashed();
    let (owner, id) = miner_with_sectors(&net, 1, 1, 1000);
    net.precommit_cc(&owner, id, 2, 1000);
    let client = market(&net, &owner, id);
    let h = net.head();
    let deal = proposal(&client, id, &piece(3, 1000), h + 50, h + 250)
        .sign(&client)
        .unwrap();
    net.send(
        &owner,
        Method::PublishDeals {
            miner: id,
            deals: vec![deal],
        },
    )
    .unwrap();
    net.step(1);
    let Net {
        dir,
        chain,
        genesis,
        ..
    } = net;
    let good = chain.state();
    drop(chain);
    let open =
        || Chain::open(dir.path(), genesis.clone(), Box::new(HashVerifier), true).map(|_| ());
    let c = client.address();
    // Each corruption moves one atto between two pots of one holder: the supply still adds up,
    // only the bookkeeping behind the locked pot is wrong.
    type Corrupt = Box<dyn Fn(&mut State)>;
    let cases: Vec<(&str, Corrupt)> = vec![
        (
            "locked pledge of m1000",
            Box::new(move |s| {
                let m = s.miners.get_mut(&id).unwrap();
                m.available.0 -= 1;
                m.locked_pledge.0 += 1;
            }),
        ),
        (
            "pre-commit deposits of m1000",
            Box::new(move |s| {
                let m = s.miners.get_mut(&id).unwrap();
                m.available.0 -= 1;
                m.precommit_deposits.0 += 1;
            }),
        ),
        (
            "locked escrow of client",
            Box::new(move |s| {
                let a = s.accounts.get_mut(&c).unwrap();
                a.escrow_free.0 -= 1;
                a.escrow_locked.0 += 1;
            }),
        ),
        (
            "locked escrow of provider m1000",
            Box::new(move |s| {
                let m = s.miners.get_mut(&id).unwrap();
                m.escrow_free.0 -= 1;
                m.escrow_locked.0 += 1;
            }),
        ),
    ];
    open().unwrap();
    for (name, corrupt) in cases {
        let mut bad = good.clone();
        corrupt(&mut bad);
        assert_eq!(bad.supply.total().0, bad.balances_total(), "{name}");
        store_state(dir.path(), &bad);
        let err = open().expect_err(name);
        assert!(err.message.contains(name), "{name}: {err}");
        store_state(dir.path(), &good);
        open().unwrap();
    }
}

// ---- 3. A signed proposal is published once ------------------------------------------------

#[test]
fn a_signed_proposal_is_published_only_once() {
    let net = Net::hashed();
    let (owner, id) = miner_with_sectors(&net, 1, 0, 1000);
    let client = market(&net, &owner, id);
    let h = net.head();
    let p = proposal(&client, id, &piece(3, 1000), h + 50, h + 250);
    let signed = p.clone().sign(&client).unwrap();
    let publish = |deals| net.send(&owner, Method::PublishDeals { miner: id, deals });
    publish(vec![signed.clone()]).unwrap();
    let locked = block_on(net.chain.account(client.address()))
        .unwrap()
        .escrow_locked;
    // Again in the same epoch, and again after it is applied: refused both times, and the
    // client's escrow is locked (and later paid) for one deal only.
    let err = publish(vec![signed.clone()]).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Duplicate, "{err}");
    net.step(1);
    let err = publish(vec![signed.clone()]).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Duplicate, "{err}");
    // With a fresh deal beside it: still refused, all or nothing.
    let other = proposal(&client, id, &piece(5, 1000), h + 50, h + 250)
        .sign(&client)
        .unwrap();
    let err = publish(vec![other, signed]).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Duplicate, "{err}");
    assert_eq!(block_on(net.chain.deals()).unwrap().len(), 1);
    assert_eq!(
        block_on(net.chain.account(client.address()))
            .unwrap()
            .escrow_locked,
        locked
    );
}

// ---- 5. Pre-commit deposit on the sector's maximum QA power --------------------------------

#[test]
fn precommit_deposit_covers_the_sectors_maximum_qa_power() {
    let net = Net::hashed();
    let c = net.genesis.constants.clone();
    let owner = net.funded(1, 10_000);
    let id = net.miner(&owner, 1000);
    net.step(1);
    // A committed-capacity sector names no verified deals, yet its deposit must cover the case
    // that all of it is verified: BR(20 days) of 10 × 2048 bytes of QA power.
    let nq = block_on(net.chain.network()).unwrap().qa_power;
    net.precommit_cc(&owner, id, 1, 1000);
    let s1 = sector_view(&net, id, 1);
    let expect = economics::precommit_deposit(&c, s1.precommit_epoch, nq, 10 * 2048);
    assert_eq!(s1.precommit_deposit, expect);
    assert_eq!(miner_view(&net, id).balances.precommit_deposits, expect);
}

// ---- 6. No prove-commit for a deal whose start has passed ----------------------------------

/// Pre-commits sector `n` holding `deals` (whose pieces are `pieces`, in order), expiring at
/// `expiration`, and applies the epoch.
fn precommit_deals(
    net: &Net,
    owner: &KeyPair,
    id: MinerId,
    n: u64,
    deals: Vec<u64>,
    pieces: &[PieceInfo],
    expiration: i64,
) {
    let comm_d =
        strata_sealer::comm_d_from_pieces(strata_primitives::sizes::SectorSize::KIB2, pieces)
            .unwrap();
    net.send(
        owner,
        Method::PreCommit {
            miner: id,
            sector_number: n,
            comm_r: fake_comm_r(n),
            comm_d,
            ticket_epoch: net.head(),
            expiration,
            deals,
        },
    )
    .unwrap();
    net.step(1);
}

#[test]
fn prove_commit_refuses_a_sector_whose_deal_start_has_passed() {
    let net = Net::hashed();
    let (owner, id) = miner_with_sectors(&net, 1, 0, 1000);
    let client = market(&net, &owner, id);
    net.send(
        &net.faucet,
        Method::GrantDatacap {
            to: client.address(),
            bytes: 1 << 20,
        },
    )
    .unwrap();
    let h = net.head();
    let p = piece(3, 1000);
    // Starts before the seal seed is even drawn (pre-commit + seed delay).
    let start = h + 2 + net.genesis.constants.seed_delay - 1;
    let mut deal = proposal(&client, id, &p, start, start + 200);
    deal.verified = true;
    net.send(
        &owner,
        Method::PublishDeals {
            miner: id,
            deals: vec![deal.sign(&client).unwrap()],
        },
    )
    .unwrap();
    net.step(1);
    precommit_deals(&net, &owner, id, 1, vec![0], &[p], net.head() + 500);
    let seed = sector_view(&net, id, 1).seed_epoch;
    net.step_to(seed);
    assert!(net.head() > start);
    assert_eq!(
        block_on(net.chain.deal(0)).unwrap().status,
        DealStatus::Slashed,
        "the market cron slashed the deal at its start"
    );
    let err = net
        .send(
            &owner,
            Method::ProveCommit {
                miner: id,
                sector_number: 1,
                proofs: vec![net.hash_seal_proof(id, 1)],
            },
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooLate, "{err}");
    assert!(err.message.contains("deal 0"), "{err}");
    assert_eq!(miner_view(&net, id).qa_power, 0);
}

// ---- 8. Deal publication validated like the market actor -----------------------------------

/// The devnet preset's deal rules (Filecoin's, with a 60-epoch day) and `test_genesis`'s short
/// sector rules.
fn devnet_deal_rules() -> strata_chain::Genesis {
    let mut g = strata_chain::Genesis::preset("devnet").unwrap();
    g.constants.min_sector_lifetime = 120;
    g.constants.fault_max_age_periods = 3;
    g.constants.max_prove_commit = 30;
    g.constants.deal_settle_interval = 5;
    g
}

/// A miner and a client on [`devnet_deal_rules`]; deals start 50 epochs from the head.
fn deal_net() -> (Net, KeyPair, MinerId, KeyPair) {
    let net = Net::new(devnet_deal_rules(), Box::new(HashVerifier));
    let (owner, id) = miner_with_sectors(&net, 1, 0, 1000);
    let client = market(&net, &owner, id);
    (net, owner, id, client)
}

#[test]
fn deal_duration_must_be_between_180_and_1278_days() {
    let (net, owner, id, client) = deal_net();
    let day = net.genesis.constants.epochs_per_day;
    let start = net.head() + 50;
    let publish = |duration: i64| {
        let mut p = proposal(&client, id, &piece(3, 1000), start, start + duration);
        p.price_per_epoch = Token(1);
        net.send(
            &owner,
            Method::PublishDeals {
                miner: id,
                deals: vec![p.sign(&client).unwrap()],
            },
        )
    };
    for bad in [180 * day - 1, 1278 * day + 1] {
        let err = publish(bad).unwrap_err();
        assert_eq!(err.kind, ErrorKind::BadDeal, "{bad}: {err}");
        assert!(err.message.contains("duration"), "{err}");
    }
    publish(180 * day).unwrap();
    publish(1278 * day).unwrap();
}

#[test]
fn deal_label_is_at_most_256_bytes() {
    let (net, owner, id, client) = deal_net();
    let day = net.genesis.constants.epochs_per_day;
    let start = net.head() + 50;
    let publish = |seed: u8, label: String| {
        let mut p = proposal(&client, id, &piece(seed, 1000), start, start + 180 * day);
        p.price_per_epoch = Token(1);
        p.label = label;
        net.send(
            &owner,
            Method::PublishDeals {
                miner: id,
                deals: vec![p.sign(&client).unwrap()],
            },
        )
    };
    let err = publish(3, "é".repeat(128) + "x").unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadDeal, "{err}");
    assert!(err.message.contains("label"), "{err}");
    publish(5, "é".repeat(128)).unwrap();
}

#[test]
fn provider_collateral_below_the_minimum_is_refused_naming_the_minimum() {
    let (net, owner, id, client) = deal_net();
    net.send(
        &net.faucet,
        Method::GrantDatacap {
            to: client.address(),
            bytes: 1 << 20,
        },
    )
    .unwrap();
    net.step(1);
    let c = net.genesis.constants.clone();
    let n = block_on(net.chain.network()).unwrap();
    // Filecoin: 1% of the circulating supply × the deal's QA power / max(baseline, network raw).
    let minimum = |qa: u128| {
        Token(n.circulating.0 * qa / (100 * (c.baseline_power as u128).max(n.raw_power)))
    };
    let start = net.head() + 50;
    let publish = |seed: u8, verified: bool, collateral: Token| {
        let mut p = proposal(
            &client,
            id,
            &piece(seed, 1000),
            start,
            start + 180 * c.epochs_per_day,
        );
        p.price_per_epoch = Token(1);
        p.verified = verified;
        p.provider_collateral = collateral;
        net.send(
            &owner,
            Method::PublishDeals {
                miner: id,
                deals: vec![p.sign(&client).unwrap()],
            },
        )
    };
    let (raw_min, verified_min) = (minimum(1024), minimum(10 * 1024));
    assert!(!raw_min.is_zero());
    for (verified, min) in [(false, raw_min), (true, verified_min)] {
        let err = publish(3, verified, Token(min.0 - 1)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::BadDeal, "{err}");
        assert!(err.message.contains(&min.to_string()), "{min}: {err}");
    }
    publish(3, false, raw_min).unwrap();
    publish(5, true, verified_min).unwrap();
}

// ---- 7. Verified deals' term limits --------------------------------------------------------

/// [`deal_net`] with deals of any length from one day to six years, so only the verified term
/// limits (Filecoin's verified allocations: 180 days to 5 years, with a 90-day buffer) bind.
fn verified_net() -> (Net, KeyPair, MinerId, KeyPair) {
    let mut g = devnet_deal_rules();
    g.constants.min_deal_duration = g.constants.epochs_per_day;
    g.constants.max_deal_duration = 6 * 365 * g.constants.epochs_per_day;
    let net = Net::new(g, Box::new(HashVerifier));
    let (owner, id) = miner_with_sectors(&net, 1, 0, 1000);
    let client = market(&net, &owner, id);
    net.send(
        &net.faucet,
        Method::GrantDatacap {
            to: client.address(),
            bytes: 1 << 20,
        },
    )
    .unwrap();
    net.step(1);
    (net, owner, id, client)
}

#[test]
fn verified_deal_terms_must_lie_between_180_days_and_5_years() {
    let (net, owner, id, client) = verified_net();
    let day = net.genesis.constants.epochs_per_day;
    let start = net.head() + 50;
    let publish = |seed: u8, verified: bool, duration: i64| {
        let mut p = proposal(&client, id, &piece(seed, 1000), start, start + duration);
        p.price_per_epoch = Token(1);
        p.verified = verified;
        net.send(
            &owner,
            Method::PublishDeals {
                miner: id,
                deals: vec![p.sign(&client).unwrap()],
            },
        )
    };
    // term_min = the duration: below 180 days is refused for a verified deal only.
    let err = publish(3, true, 180 * day - 1).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadDeal, "{err}");
    assert!(err.message.contains("term"), "{err}");
    publish(3, false, 180 * day - 1).unwrap();
    publish(5, true, 180 * day).unwrap();
    // term_max = term_min + 90 days: beyond 5 years is refused.
    let err = publish(7, true, 5 * 365 * day - 90 * day + 1).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadDeal, "{err}");
    assert!(err.message.contains("term"), "{err}");
    publish(7, true, 5 * 365 * day - 90 * day).unwrap();
}

#[test]
fn verified_space_counts_only_in_a_sector_whose_life_fits_the_deal_term() {
    let (net, owner, id, client) = verified_net();
    let day = net.genesis.constants.epochs_per_day;
    let (p1, p2) = (piece(3, 1000), piece(5, 1000));
    let start = net.head() + 40;
    let duration = 180 * day;
    let deals = [&p1, &p2]
        .iter()
        .map(|p| {
            let mut d = proposal(&client, id, p, start, start + duration);
            d.price_per_epoch = Token(1);
            d.verified = true;
            d.sign(&client).unwrap()
        })
        .collect();
    net.send(&owner, Method::PublishDeals { miner: id, deals })
        .unwrap();
    net.step(1);
    // Sector 1 outlives the deal's term_max (its duration + 90 days) after activation; sector 2
    // ends within [term_min, term_max] of its activation.
    let long = start + duration + 90 * day + 100;
    let fits = start + duration + 10;
    precommit_deals(&net, &owner, id, 1, vec![0], &[p1], long);
    precommit_deals(&net, &owner, id, 2, vec![1], &[p2], fits);
    net.prove_commit_hashed(&owner, id, 1);
    net.prove_commit_hashed(&owner, id, 2);
    assert!(net.head() < start);
    assert_eq!(
        sector_view(&net, id, 1).qa_power,
        2048,
        "the deal counts as raw space"
    );
    assert_eq!(sector_view(&net, id, 2).qa_power, 2048 + 9 * 1024);
    assert_eq!(miner_view(&net, id).qa_power, 2 * 2048 + 9 * 1024);
    for d in [0, 1] {
        assert_eq!(
            block_on(net.chain.deal(d)).unwrap().status,
            DealStatus::Active
        );
    }
}

// ---- 9. WindowPoSt and faults --------------------------------------------------------------

#[test]
fn a_window_post_that_proves_no_sector_is_refused() {
    let net = Net::hashed();
    let (owner, id) = miner_with_sectors(&net, 1, 1, 1000);
    let dl = net.deadline_of(id, 1);
    net.step_into_deadline(id, dl);
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
    assert!(err.message.contains("declare faults instead"), "{err}");
}

#[test]
fn sectors_skipped_in_a_window_post_pay_the_fault_fee_at_that_deadline_end() {
    let net = Net::hashed();
    let c = net.genesis.constants.clone();
    let owner = net.funded(1, 10_000);
    let id = net.miner(&owner, 1000);
    net.step(1);
    // 13 sectors proven in one epoch over 12 deadlines: one deadline gets two (one partition).
    for n in 1..=13 {
        net.send(
            &owner,
            Method::PreCommit {
                miner: id,
                sector_number: n,
                comm_r: fake_comm_r(n),
                comm_d: zero_comm_d(),
                ticket_epoch: net.head(),
                expiration: net.head() + 1000,
                deals: vec![],
            },
        )
        .unwrap();
    }
    net.step(1);
    net.step_to(sector_view(&net, id, 1).seed_epoch);
    for n in 1..=13 {
        let proof = net.hash_seal_proof(id, n);
        net.send(
            &owner,
            Method::ProveCommit {
                miner: id,
                sector_number: n,
                proofs: vec![proof],
            },
        )
        .unwrap();
    }
    net.step(1);
    let (dl, pair) = block_on(net.chain.deadlines(id))
        .unwrap()
        .into_iter()
        .enumerate()
        .find_map(|(i, d)| {
            let p = d.partitions.first()?;
            (p.sectors.len() == 2).then(|| (i as u64, p.sectors.clone()))
        })
        .unwrap();
    let (proven, skipped) = (pair[0], pair[1]);
    let t = net.post_in_window(&owner, id, dl, &[skipped]);
    assert_eq!(sector_view(&net, id, skipped).status, SectorStatus::Faulty);
    assert_eq!(sector_view(&net, id, proven).status, SectorStatus::Active);
    net.step_to(t.close - 2);
    let nq = block_on(net.chain.network()).unwrap().qa_power;
    net.step(1);
    let fees = net.events(&format!("m{id}"), &format!("fault_fee deadline {dl}"));
    let paid: Token = fees
        .iter()
        .filter(|e| e.epoch == t.close - 1)
        .map(|e| e.amount)
        .sum();
    assert_eq!(
        paid,
        economics::fault_fee(&c, t.close - 1, nq, 2048),
        "the skipped sector pays at the end of the deadline it was skipped in: {fees:?}"
    );
}

/// Miner with sectors 1 and 2 (in different deadlines), its available balance withdrawn, sector
/// 1 faulty twice: the fault fee has become fee debt. Returns the epoch of the fee.
fn miner_in_debt(net: &Net) -> (KeyPair, MinerId, i64) {
    let (owner, id) = miner_with_sectors(net, 1, 2, 1000);
    assert_ne!(net.deadline_of(id, 1), net.deadline_of(id, 2));
    let available = miner_view(net, id).balances.available;
    net.send(
        &owner,
        Method::WithdrawMinerBalance {
            miner: id,
            amount: available,
        },
    )
    .unwrap();
    net.step(1);
    let at = fault_twice(net, &owner, id, 1);
    assert!(!miner_view(net, id).balances.fee_debt.is_zero());
    (owner, id, at)
}

#[test]
fn declare_recoveries_requires_the_fee_debt_repaid() {
    let net = Net::hashed();
    let (owner, id, _) = miner_in_debt(&net);
    let debt = miner_view(&net, id).balances.fee_debt;
    let recover = || {
        net.send(
            &owner,
            Method::DeclareRecoveries {
                miner: id,
                sectors: vec![1],
            },
        )
    };
    let err = recover().unwrap_err();
    assert_eq!(err.kind, ErrorKind::InsufficientFunds, "{err}");
    assert!(err.message.contains(&debt.to_string()), "{debt}: {err}");
    // Adding balance repays the debt; then the recovery is accepted.
    net.send(
        &owner,
        Method::AddMinerBalance {
            miner: id,
            amount: Token::whole(10),
        },
    )
    .unwrap();
    assert_eq!(miner_view(&net, id).balances.fee_debt, Token::ZERO);
    recover().unwrap();
}

#[test]
fn a_miner_with_fee_debt_wins_no_blocks() {
    let net = Net::hashed();
    let (owner, id, at) = miner_in_debt(&net);
    let dl1 = net.deadline_of(id, 1);
    // Sector 2 keeps proving (sector 1's deadline is left to pass).
    net.prove_until(&owner, id, net.head() + 3, &[dl1]);
    assert!(miner_view(&net, id).qa_power > 0, "sector 2 still proves");
    let wins = |from: i64| {
        block_on(net.chain.winning(id))
            .unwrap()
            .iter()
            .filter(|t| t.epoch >= from)
            .count()
    };
    assert_eq!(wins(at), 0, "in debt from epoch {at}: left out of the draw");
    // Debt repaid: the only miner with power wins again.
    net.send(
        &owner,
        Method::AddMinerBalance {
            miner: id,
            amount: Token::whole(10),
        },
    )
    .unwrap();
    let back = net.head() + 1;
    net.prove_until(&owner, id, net.head() + 2, &[dl1]);
    assert!(miner_view(&net, id).qa_power > 0, "sector 2 still proves");
    assert!(wins(back) > 0);
}
