//! Deals: publish → pre-commit (CommD checked) → activation → payments → expiry; slashing on
//! termination and on missed activation; verified deals count 10× (hash-verified proofs).

mod common;
use common::*;
use strata_chain::config::GenesisAccount;
use strata_chain::HashVerifier;
use strata_chain_client::types::{DealProposal, EscrowHolder, Method};
use strata_chain_client::views::{DealStatus, Pot};
use strata_chain_client::{ChainApi, KeyPair, Token};
use strata_sealer::PieceInfo;

fn piece(seed: u8, len: usize) -> PieceInfo {
    let data: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(seed)).collect();
    strata_sealer::comm_p(&data[..], len as u64).unwrap()
}

#[test]
fn deal_lifecycle_payments_expiry_and_slashing() {
    let client = KeyPair::from_secret(&[7; 32]);
    let mut g = test_genesis();
    g.accounts.push(GenesisAccount {
        address: client.address(),
        balance: Token::whole(1000),
        datacap: 4096,
    });
    let net = Net::new(g, Box::new(HashVerifier));
    let c = net.genesis.constants.clone();
    let owner = net.funded(1, 10_000);
    let id = net.miner(&owner, 1000);
    net.send(
        &client,
        Method::AddEscrow {
            to: EscrowHolder::Account(client.address()),
            amount: Token::whole(100),
        },
    )
    .unwrap();
    net.send(
        &owner,
        Method::AddEscrow {
            to: EscrowHolder::Miner(id),
            amount: Token::whole(10),
        },
    )
    .unwrap();
    net.step(1);

    let h = net.head();
    let price = Token(Token::whole(1).0 / 100);
    let (p1, p2, p3) = (piece(3, 1000), piece(5, 1000), piece(9, 500));
    let proposal = |p: &PieceInfo, verified: bool, end: i64| DealProposal {
        network: net.genesis.network.clone(),
        piece_cid: p.comm_p,
        piece_size: p.padded_size,
        client: client.address(),
        provider: id,
        start_epoch: h + 40,
        end_epoch: end,
        price_per_epoch: price,
        provider_collateral: Token::whole(1),
        client_collateral: Token(Token::whole(1).0 / 2),
        verified,
        label: "test".into(),
    };
    let deals = vec![
        proposal(&p1, false, h + 140).sign(&client).unwrap(),
        proposal(&p2, true, h + 400).sign(&client).unwrap(),
        proposal(&p3, false, h + 400).sign(&client).unwrap(),
    ];
    let id_msg = net
        .send(&owner, Method::PublishDeals { miner: id, deals })
        .unwrap();
    net.step(1);
    let receipt = block_on(net.chain.receipt(id_msg)).unwrap();
    assert_eq!(receipt.result["deals"], serde_json::json!([0, 1, 2]));
    // Locked: each deal's total price plus client collateral; provider collateral.
    let acc = block_on(net.chain.account(client.address())).unwrap();
    let total = |d: i64| Token(price.0 * d as u128 + Token::whole(1).0 / 2);
    assert_eq!(acc.escrow_locked, Token(total(100).0 + total(360).0 * 2));
    assert_eq!(acc.datacap, 4096 - 1024);
    assert_eq!(
        block_on(net.chain.miner(id))
            .unwrap()
            .balances
            .escrow_locked,
        Token::whole(3)
    );

    // Sector 1 holds deal 0 and sector 2 the verified deal 1; deal 2 is never sealed.
    for (n, deal, p) in [(1u64, 0u64, &p1), (2, 1, &p2)] {
        let comm_d = strata_sealer::comm_d_from_pieces(
            strata_primitives::sizes::SectorSize::KIB2,
            std::slice::from_ref(p),
        )
        .unwrap();
        net.send(
            &owner,
            Method::PreCommit {
                miner: id,
                sector_number: n,
                comm_r: fake_comm_r(n),
                comm_d,
                ticket_epoch: net.head(),
                expiration: net.head() + 500,
                deals: vec![deal],
            },
        )
        .unwrap();
        net.step(1);
        net.prove_commit_hashed(&owner, id, n);
        assert_eq!(
            block_on(net.chain.deal(deal)).unwrap().status,
            DealStatus::Active
        );
    }
    // Verified space counts 10×: 2048 + 9 · 1024.
    assert_eq!(
        block_on(net.chain.sector(id, 2)).unwrap().qa_power,
        2048 + 9 * 1024
    );
    assert_eq!(
        block_on(net.chain.miner(id)).unwrap().qa_power,
        2048 + 2048 + 9 * 1024
    );

    // Deal 2 missed its activation: slashed at its start epoch.
    net.prove_until(&owner, id, h + 41, &[]);
    let d2 = block_on(net.chain.deal(2)).unwrap();
    assert_eq!(d2.status, DealStatus::Slashed);
    let burnt = net.events(&format!("m{id}"), "deal_slashed deal 2");
    assert_eq!((burnt[0].to, burnt[0].amount), (Pot::Burn, Token::whole(1)));

    // Payments accrue every settle interval, price × epochs.
    net.prove_until(&owner, id, h + 100, &[]);
    let d0 = block_on(net.chain.deal(0)).unwrap();
    assert!(d0.paid > Token::ZERO);
    assert_eq!(
        d0.paid,
        Token(price.0 * (d0.settled_until - (h + 40)) as u128)
    );
    assert!(net.head() - d0.settled_until < c.deal_settle_interval);

    // Deal 0 runs to its end: fully paid, collateral back on both sides.
    let provider_escrow_before = block_on(net.chain.miner(id)).unwrap().balances.escrow_free;
    net.prove_until(&owner, id, h + 145, &[]);
    let d0 = block_on(net.chain.deal(0)).unwrap();
    assert_eq!(d0.status, DealStatus::Expired);
    assert_eq!(d0.paid, Token(price.0 * 100));
    let after = block_on(net.chain.miner(id)).unwrap().balances.escrow_free;
    assert!(
        after.0 > provider_escrow_before.0 + Token::whole(1).0 - 1,
        "collateral and payments returned"
    );

    // Terminating sector 2 slashes deal 1: collateral burnt, the client's unspent money back.
    net.send(
        &owner,
        Method::TerminateSectors {
            miner: id,
            sectors: vec![2],
        },
    )
    .unwrap();
    net.step(1);
    let d1 = block_on(net.chain.deal(1)).unwrap();
    assert_eq!(d1.status, DealStatus::Slashed);
    let acc = block_on(net.chain.account(client.address())).unwrap();
    assert_eq!(
        acc.escrow_locked,
        Token::ZERO,
        "nothing stays locked once every deal has ended"
    );
    let paid_total = Token(d0.paid.0 + d1.paid.0);
    assert_eq!(acc.escrow_free, Token(Token::whole(100).0 - paid_total.0));
    // The client withdraws what is left.
    net.send(
        &client,
        Method::WithdrawEscrow {
            from: EscrowHolder::Account(client.address()),
            amount: acc.escrow_free,
        },
    )
    .unwrap();
    net.step(1);
    assert_eq!(
        block_on(net.chain.account(client.address()))
            .unwrap()
            .escrow_free,
        Token::ZERO
    );
}

#[test]
fn datacap_is_granted_and_spent_by_verified_deals() {
    let net = Net::hashed();
    let owner = net.funded(1, 10_000);
    let client = net.funded(2, 100);
    let id = net.miner(&owner, 1000);
    net.send(
        &client,
        Method::AddEscrow {
            to: EscrowHolder::Account(client.address()),
            amount: Token::whole(50),
        },
    )
    .unwrap();
    // Provider collateral must reach the chain's minimum (1% of supply by power share).
    net.send(
        &owner,
        Method::AddEscrow {
            to: EscrowHolder::Miner(id),
            amount: Token::whole(10),
        },
    )
    .unwrap();
    net.step(1);
    let p = piece(3, 1000);
    let proposal = |verified| DealProposal {
        network: net.genesis.network.clone(),
        piece_cid: p.comm_p,
        piece_size: p.padded_size,
        client: client.address(),
        provider: id,
        start_epoch: net.head() + 50,
        end_epoch: net.head() + 150,
        price_per_epoch: Token(1),
        provider_collateral: Token::whole(1),
        client_collateral: Token::ZERO,
        verified,
        label: String::new(),
    };
    // No DataCap yet: a verified deal is refused.
    let err = net
        .send(
            &owner,
            Method::PublishDeals {
                miner: id,
                deals: vec![proposal(true).sign(&client).unwrap()],
            },
        )
        .unwrap_err();
    assert_eq!(err.kind, strata_chain_client::ErrorKind::BadDeal, "{err}");
    // The faucet (the genesis verifier) grants 1024 bytes; more than it has is refused.
    let err = net
        .send(
            &client,
            Method::GrantDatacap {
                to: owner.address(),
                bytes: 1,
            },
        )
        .unwrap_err();
    assert_eq!(err.kind, strata_chain_client::ErrorKind::InsufficientFunds);
    net.send(
        &net.faucet,
        Method::GrantDatacap {
            to: client.address(),
            bytes: 1024,
        },
    )
    .unwrap();
    net.send(
        &owner,
        Method::PublishDeals {
            miner: id,
            deals: vec![proposal(true).sign(&client).unwrap()],
        },
    )
    .unwrap();
    net.step(1);
    assert_eq!(
        block_on(net.chain.account(client.address()))
            .unwrap()
            .datacap,
        0
    );
}
