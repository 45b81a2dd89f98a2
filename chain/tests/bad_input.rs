//! Every refused message gets a typed error and leaves the state exactly as it was.

mod common;
use common::*;
use strata_chain_client::types::{DealProposal, EscrowHolder, Method};
use strata_chain_client::{ErrorKind, KeyPair, Message, Token};

/// Asserts `r` failed with `kind` and the committed and pending states did not change.
fn refused(
    net: &Net,
    kind: ErrorKind,
    f: impl FnOnce() -> Result<String, strata_chain_client::ChainError>,
) {
    let (head, pending) = (net.chain.head_now(), net.chain.pending_root());
    let err = f().expect_err("must be refused");
    assert_eq!(err.kind, kind, "{err}");
    assert!(!err.message.is_empty());
    assert_eq!(net.chain.head_now(), head);
    assert_eq!(
        net.chain.pending_root(),
        pending,
        "state changed by a refused message: {err}"
    );
}

#[test]
fn bad_signature_wrong_nonce_and_insufficient_funds() {
    let net = Net::hashed();
    let a = net.funded(1, 10);
    net.step(1);
    let b = KeyPair::from_secret(&[2; 32]);
    let nonce = block_on(strata_chain_client::ChainApi::account(
        &net.chain,
        a.address(),
    ))
    .unwrap()
    .nonce;
    let transfer = |amount| Method::Transfer {
        to: b.address(),
        amount,
    };
    // Signed, then altered.
    let mut m = Message {
        network: net.genesis.network.clone(),
        from: a.address(),
        nonce,
        call: transfer(Token::whole(1)),
    }
    .sign(&a)
    .unwrap();
    m.message.call = transfer(Token::whole(9));
    refused(&net, ErrorKind::BadSignature, || {
        net.chain.submit_message(m)
    });
    // Signed by someone else's key for a's address.
    let mut m = Message {
        network: net.genesis.network.clone(),
        from: b.address(),
        nonce,
        call: transfer(Token::whole(1)),
    }
    .sign(&b)
    .unwrap();
    m.message.from = a.address();
    refused(&net, ErrorKind::BadSignature, || {
        net.chain.submit_message(m)
    });
    for n in [nonce + 1, nonce.wrapping_sub(1)] {
        let m = Message {
            network: net.genesis.network.clone(),
            from: a.address(),
            nonce: n,
            call: transfer(Token::whole(1)),
        }
        .sign(&a)
        .unwrap();
        refused(&net, ErrorKind::WrongNonce, || net.chain.submit_message(m));
    }
    refused(&net, ErrorKind::InsufficientFunds, || {
        net.send(&a, transfer(Token::whole(11)))
    });
    // A correctly signed message for another network (a replay from a twin devnet).
    let m = Message {
        network: "strata-elsewhere".into(),
        from: a.address(),
        nonce,
        call: transfer(Token::whole(1)),
    }
    .sign(&a)
    .unwrap();
    m.verify().unwrap();
    refused(&net, ErrorKind::WrongNetwork, || {
        net.chain.submit_message(m)
    });
    // The same message, affordable, goes through.
    net.send(&a, transfer(Token::whole(10))).unwrap();
}

#[test]
fn sector_messages_out_of_order_or_duplicated() {
    let net = Net::hashed();
    let owner = net.funded(1, 10_000);
    let id = net.miner(&owner, 1000);
    net.step(1);
    // A proof for a sector never pre-committed.
    refused(&net, ErrorKind::NotFound, || {
        net.send(
            &owner,
            Method::ProveCommit {
                miner: id,
                sector_number: 9,
                proofs: vec!["00".into()],
            },
        )
    });
    net.precommit_cc(&owner, id, 1, 200);
    // Same number again.
    refused(&net, ErrorKind::Duplicate, || {
        net.send(
            &owner,
            Method::PreCommit {
                miner: id,
                sector_number: 1,
                comm_r: fake_comm_r(1),
                comm_d: zero_comm_d(),
                ticket_epoch: net.head(),
                expiration: net.head() + 300,
                deals: vec![],
            },
        )
    });
    // Before the seed.
    let proof = || vec!["11".repeat(32)];
    refused(&net, ErrorKind::TooEarly, || {
        net.send(
            &owner,
            Method::ProveCommit {
                miner: id,
                sector_number: 1,
                proofs: proof(),
            },
        )
    });
    let seed_epoch = block_on(strata_chain_client::ChainApi::sector(&net.chain, id, 1))
        .unwrap()
        .seed_epoch;
    net.step_to(seed_epoch);
    // A wrong proof.
    refused(&net, ErrorKind::InvalidProof, || {
        net.send(
            &owner,
            Method::ProveCommit {
                miner: id,
                sector_number: 1,
                proofs: proof(),
            },
        )
    });
    // Someone else's miner.
    let other = net.funded(3, 10);
    net.step(1);
    refused(&net, ErrorKind::Forbidden, || {
        net.send(
            &other,
            Method::ProveCommit {
                miner: id,
                sector_number: 1,
                proofs: vec![net.hash_seal_proof(id, 1)],
            },
        )
    });
    refused(&net, ErrorKind::Forbidden, || {
        net.send(
            &other,
            Method::WithdrawMinerBalance {
                miner: id,
                amount: Token(1),
            },
        )
    });
    // Too late: past the prove-commit limit the pre-commit expired and its deposit was burnt.
    net.step(net.genesis.constants.max_prove_commit as u64);
    let good = net.hash_seal_proof(id, 1);
    refused(&net, ErrorKind::TooLate, || {
        net.send(
            &owner,
            Method::ProveCommit {
                miner: id,
                sector_number: 1,
                proofs: vec![good.clone()],
            },
        )
    });
    assert_eq!(net.events(&format!("m{id}"), "precommit_expired").len(), 1);
    // Unknown miner; more than the available balance.
    refused(&net, ErrorKind::NotFound, || {
        net.send(
            &owner,
            Method::AddMinerBalance {
                miner: 1,
                amount: Token(1),
            },
        )
    });
    refused(&net, ErrorKind::InsufficientFunds, || {
        net.send(
            &owner,
            Method::WithdrawMinerBalance {
                miner: id,
                amount: Token::whole(1_000_000),
            },
        )
    });
}

#[test]
fn deals_signed_by_someone_else_or_unfunded_are_refused() {
    let net = Net::hashed();
    let owner = net.funded(1, 10_000);
    let client = net.funded(2, 100);
    let mallory = net.funded(3, 100);
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
    let proposal = DealProposal {
        network: net.genesis.network.clone(),
        piece_cid: zero_comm_d(),
        piece_size: 2048,
        client: client.address(),
        provider: id,
        start_epoch: net.head() + 50,
        end_epoch: net.head() + 150,
        price_per_epoch: Token(1000),
        provider_collateral: Token::whole(1),
        client_collateral: Token::ZERO,
        verified: false,
        label: String::new(),
    };
    // Mallory signs a proposal naming the client.
    let mut forged = DealProposal {
        client: mallory.address(),
        ..proposal.clone()
    }
    .sign(&mallory)
    .unwrap();
    forged.proposal.client = client.address();
    refused(&net, ErrorKind::BadSignature, || {
        net.send(
            &owner,
            Method::PublishDeals {
                miner: id,
                deals: vec![forged],
            },
        )
    });
    // A proposal the client signed for another network, replayed here.
    let elsewhere = DealProposal {
        network: "strata-elsewhere".into(),
        ..proposal.clone()
    }
    .sign(&client)
    .unwrap();
    elsewhere.verify().unwrap();
    refused(&net, ErrorKind::WrongNetwork, || {
        net.send(
            &owner,
            Method::PublishDeals {
                miner: id,
                deals: vec![elsewhere],
            },
        )
    });
    // The client's escrow cannot pay.
    let pricey = DealProposal {
        price_per_epoch: Token::whole(1),
        ..proposal.clone()
    }
    .sign(&client)
    .unwrap();
    refused(&net, ErrorKind::InsufficientFunds, || {
        net.send(
            &owner,
            Method::PublishDeals {
                miner: id,
                deals: vec![pricey],
            },
        )
    });
    // All or nothing: a good deal with a bad one publishes neither.
    let good = proposal.clone().sign(&client).unwrap();
    let bad = DealProposal {
        piece_size: 1000,
        ..proposal.clone()
    }
    .sign(&client)
    .unwrap();
    refused(&net, ErrorKind::BadDeal, || {
        net.send(
            &owner,
            Method::PublishDeals {
                miner: id,
                deals: vec![good.clone(), bad],
            },
        )
    });
    // Only the provider publishes.
    refused(&net, ErrorKind::Forbidden, || {
        net.send(
            &client,
            Method::PublishDeals {
                miner: id,
                deals: vec![good.clone()],
            },
        )
    });
    net.send(
        &owner,
        Method::PublishDeals {
            miner: id,
            deals: vec![good],
        },
    )
    .unwrap();
    // A pre-commit whose CommD is not the deal's pieces.
    net.step(1);
    refused(&net, ErrorKind::InvalidParams, || {
        net.send(
            &owner,
            Method::PreCommit {
                miner: id,
                sector_number: 1,
                comm_r: fake_comm_r(1),
                comm_d: fake_comm_r(2),
                ticket_epoch: net.head(),
                expiration: net.head() + 300,
                deals: vec![0],
            },
        )
    });
}

/// Network policy: the mainnet preset allows only the 32 GiB and 64 GiB proof types (the small
/// ones have too few PoRep challenges to be sound); a devnet allows all.
#[test]
fn mainnet_refuses_the_test_only_sector_sizes() {
    let net = Net::new(
        strata_chain::Genesis::preset("mainnet").unwrap(),
        Box::new(strata_chain::HashVerifier),
    );
    let owner = net.funded(1, 100);
    let create = |proof_type| Method::CreateMiner {
        worker: owner.address(),
        proof_type,
        deal_endpoint: String::new(),
    };
    for small in [1, 2, 3] {
        refused(&net, ErrorKind::InvalidParams, || {
            net.send(&owner, create(small))
        });
    }
    net.send(&owner, create(4)).unwrap();
    net.send(&owner, create(5)).unwrap();
    let devnet = Net::hashed();
    let o = devnet.funded(1, 100);
    devnet
        .send(
            &o,
            Method::CreateMiner {
                worker: o.address(),
                proof_type: 1,
                deal_endpoint: String::new(),
            },
        )
        .unwrap();
}
