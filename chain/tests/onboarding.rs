//! The messages operators use to onboard and keep sectors at scale: batch pre-commit, aggregated
//! prove-commit, the worker key change, sector extensions and multi-partition WindowPoSt
//! (hash-verified proofs). Every refusal is checked to leave the pending state root unchanged.

mod common;
use common::*;
use strata_chain::config::Genesis;
use strata_chain::{economics, HashVerifier};
use strata_chain_client::beacon::BeaconSecretKey;
use strata_chain_client::types::{
    DealProposal, EscrowHolder, Method, MinerId, PartitionPost, PreCommitEntry, RandomnessTag,
};
use strata_chain_client::views::{ProofRecord, SectorStatus};
use strata_chain_client::{ChainApi, ChainError, ErrorKind, KeyPair, Message, Token};
use strata_prover::proof_file::PublicData;
use strata_prover::vanilla::porep::SealPublicInputs;

/// A committed-capacity pre-commit of sector `n`, ticket at the head, `life` epochs long.
fn entry(net: &Net, n: u64, life: i64) -> PreCommitEntry {
    let head = net.head();
    PreCommitEntry {
        sector_number: n,
        comm_r: fake_comm_r(n),
        comm_d: zero_comm_d(),
        ticket_epoch: head,
        expiration: head + 1 + life,
        deals: vec![],
    }
}

/// The seal public inputs the chain derives for pre-committed sector `n` (with `comm_r`
/// replaced when given).
fn seal_public(net: &Net, id: MinerId, n: u64, comm_r: Option<[u8; 32]>) -> PublicData {
    let s = block_on(net.chain.sector(id, n)).unwrap();
    PublicData::Porep {
        inputs: SealPublicInputs {
            proof_type: 1,
            prover_id: id,
            sector_number: n,
            ticket: s.ticket,
            seed: net.rand(RandomnessTag::SealSeed, s.seed_epoch, id),
            comm_d: s.comm_d,
            comm_r: comm_r.unwrap_or(s.comm_r),
        },
    }
}

/// The hash verifier's aggregate over `numbers` in the order given.
fn aggregate(net: &Net, id: MinerId, numbers: &[u64]) -> String {
    let publics: Vec<PublicData> = numbers
        .iter()
        .map(|n| seal_public(net, id, *n, None))
        .collect();
    HashVerifier::aggregate_for(&publics)
}

/// Sends `call` and expects a refusal of `kind` that leaves the pending state unchanged.
fn refused(net: &Net, key: &KeyPair, call: Method, kind: ErrorKind) -> ChainError {
    let before = net.chain.pending_root();
    let err = net.send(key, call).unwrap_err();
    assert_eq!(err.kind, kind, "{err}");
    assert_eq!(
        net.chain.pending_root(),
        before,
        "a refusal changed state: {err}"
    );
    err
}

/// Steps until the seed epoch of every sector in `numbers` has passed for the next message.
fn past_seeds(net: &Net, id: MinerId, numbers: &[u64]) {
    let seed = numbers
        .iter()
        .map(|n| block_on(net.chain.sector(id, *n)).unwrap().seed_epoch)
        .max()
        .unwrap();
    if net.head() < seed {
        net.step_to(seed);
    }
}

fn status(net: &Net, id: MinerId, n: u64) -> SectorStatus {
    block_on(net.chain.sector(id, n)).unwrap().status
}

#[test]
fn batch_precommit_and_aggregate_match_single_messages() {
    let key = BeaconSecretKey::from_wide(&[7; 64]);
    let batch = Net::with_beacon_key(test_genesis(), Box::new(HashVerifier), &key);
    let single = Net::with_beacon_key(test_genesis(), Box::new(HashVerifier), &key);
    let c = batch.genesis.constants.clone();
    let numbers: Vec<u64> = (1..=8).collect();
    let mut ids = vec![];
    for net in [&batch, &single] {
        let owner = net.funded(1, 10_000);
        let id = net.miner(&owner, 1000);
        net.step(1);
        ids.push((owner, id));
    }
    let (bo, id) = (&ids[0].0, ids[0].1);
    let so = &ids[1].0;
    assert_eq!(id, ids[1].1);

    // Pre-commit: one batch against eight messages in the same epoch.
    let sectors: Vec<PreCommitEntry> = numbers.iter().map(|n| entry(&batch, *n, 600)).collect();
    batch
        .send(
            bo,
            Method::PreCommitSectorBatch {
                miner: id,
                sectors: sectors.clone(),
            },
        )
        .unwrap();
    for e in &sectors {
        single
            .send(
                so,
                Method::PreCommit {
                    miner: id,
                    sector_number: e.sector_number,
                    comm_r: e.comm_r,
                    comm_d: e.comm_d,
                    ticket_epoch: e.ticket_epoch,
                    expiration: e.expiration,
                    deals: vec![],
                },
            )
            .unwrap();
    }
    batch.step(1);
    single.step(1);
    let epoch = batch.head();
    let deposit = economics::precommit_deposit(&c, epoch, 0, 10 * 2048);
    assert!(!deposit.is_zero());
    for n in &numbers {
        assert_eq!(
            block_on(batch.chain.sector(id, *n))
                .unwrap()
                .precommit_deposit,
            deposit
        );
    }
    let info = block_on(batch.chain.miner(id)).unwrap();
    assert_eq!(info.balances.precommit_deposits, Token(deposit.0 * 8));
    assert_eq!(info.sectors.precommitted, 8);
    assert_eq!(
        batch.chain.state().miners[&id],
        single.chain.state().miners[&id],
        "the batch leaves the miner as eight pre-commits do"
    );

    // Prove-commit: one aggregate against eight proofs in the same epoch.
    past_seeds(&batch, id, &numbers);
    past_seeds(&single, id, &numbers);
    let circulating = block_on(batch.chain.network()).unwrap().circulating;
    batch
        .send(
            bo,
            Method::ProveCommitAggregate {
                miner: id,
                sector_numbers: numbers.clone(),
                aggregate: aggregate(&batch, id, &numbers),
            },
        )
        .unwrap();
    for n in &numbers {
        let proof = single.hash_seal_proof(id, *n);
        single
            .send(
                so,
                Method::ProveCommit {
                    miner: id,
                    sector_number: *n,
                    proofs: vec![proof],
                },
            )
            .unwrap();
    }
    batch.step(1);
    single.step(1);
    let info = block_on(batch.chain.miner(id)).unwrap();
    assert_eq!((info.raw_power, info.qa_power), (8 * 2048, 8 * 2048));
    assert_eq!(info.sectors.active, 8);
    assert_eq!(info.balances.precommit_deposits, Token::ZERO);
    let first = block_on(batch.chain.sector(id, 1)).unwrap();
    let activation = first.activation.unwrap();
    assert_eq!(
        first.initial_pledge,
        economics::initial_pledge(&c, activation, 0, circulating, 2048)
    );
    let pledges: Token = numbers
        .iter()
        .map(|n| block_on(batch.chain.sector(id, *n)).unwrap().initial_pledge)
        .sum();
    assert_eq!(info.balances.locked_pledge, pledges);
    for n in &numbers {
        let s = block_on(batch.chain.sector(id, *n)).unwrap();
        assert_eq!(
            (s.status, s.activation),
            (SectorStatus::Active, Some(activation))
        );
    }
    assert_eq!(
        batch.chain.state().miners[&id],
        single.chain.state().miners[&id],
        "the aggregate activates as eight prove-commits do: deadlines, pledge, power"
    );
    assert_eq!(
        block_on(batch.chain.network()).unwrap().supply,
        block_on(single.chain.network()).unwrap().supply
    );

    // The proof records: one per sector with its public inputs, the aggregate in the first.
    let proofs = block_on(batch.chain.proofs(id)).unwrap();
    let seals: Vec<&ProofRecord> = proofs.iter().filter(|p| p.is_aggregated()).collect();
    assert_eq!(seals.len(), 8);
    assert!(seals.iter().all(|p| p.file.proofs.is_empty()));
    let groups = ProofRecord::aggregates(&proofs);
    assert_eq!(groups.len(), 1);
    let g = groups[0].as_ref().unwrap();
    assert_eq!(g.proof, aggregate(&batch, id, &numbers));
    assert_eq!(g.members.len(), 8);
    let publics: Vec<PublicData> = g.members.iter().map(|r| r.file.public.clone()).collect();
    assert_eq!(HashVerifier::aggregate_for(&publics), g.proof);
    // Every record carries the draws behind its inputs, as a single seal proof does.
    for r in &seals {
        block_on(strata_chain_client::audit::check_randomness(
            &batch.chain,
            r,
        ))
        .unwrap();
    }
}

#[test]
fn bad_batches_and_aggregates_are_refused_whole() {
    let mut g = test_genesis();
    g.constants.max_aggregate_sectors = 8;
    g.constants.max_precommit_batch = 10;
    let net = Net::new(g, Box::new(HashVerifier));
    let owner = net.funded(1, 10_000);
    let id = net.miner(&owner, 1000);
    net.step(1);
    let batch = |sectors: Vec<PreCommitEntry>| Method::PreCommitSectorBatch { miner: id, sectors };

    // Pre-commit batches: empty, too many, a duplicate number, one bad entry at the end (its
    // ticket is too old by the time it is sent: everything before it must be dropped too).
    refused(&net, &owner, batch(vec![]), ErrorKind::InvalidParams);
    let eleven: Vec<PreCommitEntry> = (1..=11).map(|n| entry(&net, n, 600)).collect();
    refused(&net, &owner, batch(eleven), ErrorKind::InvalidParams);
    let dup = vec![
        entry(&net, 1, 600),
        entry(&net, 2, 600),
        entry(&net, 1, 600),
    ];
    refused(&net, &owner, batch(dup), ErrorKind::Duplicate);
    let mut bad = entry(&net, 4, 600);
    bad.ticket_epoch = net.head() - net.genesis.constants.max_ticket_age - 1;
    let last_bad = vec![entry(&net, 1, 600), entry(&net, 2, 600), bad];
    refused(&net, &owner, batch(last_bad), ErrorKind::TooLate);
    let mut short = entry(&net, 4, 600);
    short.expiration = net.head() + 2;
    let last_short = vec![entry(&net, 1, 600), entry(&net, 2, 600), short];
    refused(&net, &owner, batch(last_short), ErrorKind::InvalidParams);
    // Not enough available balance for the whole batch's deposit, though for part of it.
    let poor_owner = net.funded(2, 100);
    let poor = net.miner(&poor_owner, 10);
    net.step(1);
    let dep = economics::precommit_deposit(&net.genesis.constants, net.head() + 1, 0, 10 * 2048);
    assert!(dep.0 * 2 < Token::whole(10).0 && dep.0 * 8 > Token::whole(10).0);
    let err = refused(
        &net,
        &poor_owner,
        Method::PreCommitSectorBatch {
            miner: poor,
            sectors: (1..=8).map(|n| entry(&net, n, 600)).collect(),
        },
        ErrorKind::InsufficientFunds,
    );
    assert!(err.message.contains("8 sectors"), "{err}");

    // Nine sectors pre-committed in one batch (the first eight now, the ninth later).
    net.send(
        &owner,
        batch((1..=8).map(|n| entry(&net, n, 600)).collect()),
    )
    .unwrap();
    net.step(1);
    let numbers: Vec<u64> = (1..=8).collect();
    past_seeds(&net, id, &numbers);
    net.send(&owner, batch(vec![entry(&net, 9, 600)])).unwrap();
    net.step(1);
    let agg = |sector_numbers: Vec<u64>, aggregate: String| Method::ProveCommitAggregate {
        miner: id,
        sector_numbers,
        aggregate,
    };

    // One sector's proof made over the wrong CommR: the aggregate does not verify.
    let mut publics: Vec<PublicData> = numbers
        .iter()
        .map(|n| seal_public(&net, id, *n, None))
        .collect();
    publics[5] = seal_public(&net, id, 6, Some(fake_comm_r(99)));
    refused(
        &net,
        &owner,
        agg(numbers.clone(), HashVerifier::aggregate_for(&publics)),
        ErrorKind::InvalidProof,
    );
    // Duplicate, unsorted, empty, too many (9 > 8 allowed here), garbage.
    refused(
        &net,
        &owner,
        agg(vec![1, 2, 2, 3], aggregate(&net, id, &[1, 2, 3])),
        ErrorKind::Duplicate,
    );
    let unsorted = vec![2, 1, 3, 4];
    refused(
        &net,
        &owner,
        agg(unsorted.clone(), aggregate(&net, id, &unsorted)),
        ErrorKind::InvalidParams,
    );
    refused(
        &net,
        &owner,
        agg(vec![], String::new()),
        ErrorKind::InvalidParams,
    );
    let nine: Vec<u64> = (1..=9).collect();
    refused(
        &net,
        &owner,
        agg(nine, aggregate(&net, id, &numbers)),
        ErrorKind::InvalidParams,
    );
    refused(
        &net,
        &owner,
        agg(numbers.clone(), "ab".repeat(32)),
        ErrorKind::InvalidProof,
    );
    // Sector 9's seed is not drawn yet: the whole aggregate waits.
    let with9 = vec![1, 2, 3, 9];
    let s9 = block_on(net.chain.sector(id, 9)).unwrap();
    assert!(net.head() < s9.seed_epoch);
    let publics: Vec<PublicData> = [1, 2, 3]
        .iter()
        .map(|n| seal_public(&net, id, *n, None))
        .collect();
    refused(
        &net,
        &owner,
        agg(with9, HashVerifier::aggregate_for(&publics)),
        ErrorKind::TooEarly,
    );
    // A sector never pre-committed.
    refused(
        &net,
        &owner,
        agg(vec![1, 2, 42], aggregate(&net, id, &[1, 2])),
        ErrorKind::NotFound,
    );
    // Someone else's key.
    let stranger = net.funded(3, 10);
    refused(
        &net,
        &stranger,
        agg(numbers.clone(), aggregate(&net, id, &numbers)),
        ErrorKind::Forbidden,
    );
    for n in &numbers {
        assert_eq!(status(&net, id, *n), SectorStatus::Precommitted);
    }

    // The good aggregate, then the same signed message again: the nonce refuses the replay.
    let nonce = block_on(net.chain.account(owner.address())).unwrap().nonce;
    let msg = Message {
        network: net.genesis.network.clone(),
        from: owner.address(),
        nonce,
        call: agg(numbers.clone(), aggregate(&net, id, &numbers)),
    }
    .sign(&owner)
    .unwrap();
    net.chain.submit_message(msg.clone()).unwrap();
    let before = net.chain.pending_root();
    let err = net.chain.submit_message(msg.clone()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::WrongNonce, "{err}");
    assert_eq!(net.chain.pending_root(), before);
    net.step(1);
    let err = net.chain.submit_message(msg).unwrap_err();
    assert_eq!(err.kind, ErrorKind::WrongNonce, "{err}");
    for n in &numbers {
        assert_eq!(status(&net, id, *n), SectorStatus::Active);
    }
    // Proven sectors cannot be proven again.
    refused(
        &net,
        &owner,
        agg(vec![1, 2], aggregate(&net, id, &[1, 2])),
        ErrorKind::Duplicate,
    );
    assert_eq!(block_on(net.chain.miner(id)).unwrap().raw_power, 8 * 2048);
}

#[test]
fn limits_apply_at_the_default_maxima() {
    let net = Net::hashed();
    let c = net.genesis.constants.clone();
    assert_eq!((c.max_precommit_batch, c.max_aggregate_sectors), (256, 819));
    let owner = net.funded(1, 10_000);
    let id = net.miner(&owner, 1000);
    net.step(1);
    let sectors: Vec<PreCommitEntry> = (1..=257).map(|n| entry(&net, n, 600)).collect();
    refused(
        &net,
        &owner,
        Method::PreCommitSectorBatch { miner: id, sectors },
        ErrorKind::InvalidParams,
    );
    refused(
        &net,
        &owner,
        Method::ProveCommitAggregate {
            miner: id,
            sector_numbers: (1..=820).collect(),
            aggregate: String::new(),
        },
        ErrorKind::InvalidParams,
    );
}

#[test]
fn worker_changes_after_the_delay_and_only_by_the_owner() {
    let net = Net::hashed();
    let delay = net.genesis.constants.key_change_delay();
    assert_eq!(delay, 18, "chain finality at the devnet's scale");
    let owner = net.funded(1, 10_000);
    let old = net.funded(2, 10);
    let new = net.funded(3, 10);
    let id = block_on(net.chain.miners()).unwrap().len() as u64 + 1000;
    net.send(
        &owner,
        Method::CreateMiner {
            worker: old.address(),
            proof_type: 1,
            deal_endpoint: String::new(),
        },
    )
    .unwrap();
    net.send(
        &owner,
        Method::AddMinerBalance {
            miner: id,
            amount: Token::whole(1000),
        },
    )
    .unwrap();
    net.step(1);
    let change = Method::ChangeWorkerAddress {
        miner: id,
        new_worker: new.address(),
    };
    let confirm = Method::ConfirmChangeWorkerAddress { miner: id };
    // Only the owner: neither the worker nor the would-be worker.
    refused(&net, &old, change.clone(), ErrorKind::Forbidden);
    refused(&net, &new, change.clone(), ErrorKind::Forbidden);
    refused(&net, &owner, confirm.clone(), ErrorKind::NotFound);
    refused(
        &net,
        &owner,
        Method::ChangeWorkerAddress {
            miner: id,
            new_worker: old.address(),
        },
        ErrorKind::InvalidParams,
    );
    net.send(&owner, change.clone()).unwrap();
    let at = net.head() + 1 + delay;
    net.step(1);
    let info = block_on(net.chain.miner(id)).unwrap();
    assert_eq!(info.worker, old.address());
    assert_eq!(info.pending_worker, Some((new.address(), at)));
    refused(&net, &owner, change.clone(), ErrorKind::Duplicate);

    // While pending the old worker signs; the new one cannot yet; confirming is too early.
    let pc = |n: u64| {
        let e = entry(&net, n, 600);
        Method::PreCommit {
            miner: id,
            sector_number: n,
            comm_r: e.comm_r,
            comm_d: e.comm_d,
            ticket_epoch: e.ticket_epoch,
            expiration: e.expiration,
            deals: vec![],
        }
    };
    net.send(&old, pc(1)).unwrap();
    refused(&net, &new, pc(2), ErrorKind::Forbidden);
    net.step_to(at - 2);
    refused(&net, &owner, confirm.clone(), ErrorKind::TooEarly);
    refused(&net, &old, confirm.clone(), ErrorKind::Forbidden);
    net.send(&old, pc(2)).unwrap();
    net.step(1);
    // At the effective epoch the owner confirms: the new worker signs, the old one is refused.
    assert_eq!(net.head() + 1, at);
    net.send(&owner, confirm.clone()).unwrap();
    net.send(&new, pc(3)).unwrap();
    refused(&net, &old, pc(4), ErrorKind::Forbidden);
    net.step(1);
    let info = block_on(net.chain.miner(id)).unwrap();
    assert_eq!((info.worker, info.pending_worker), (new.address(), None));
    assert_eq!(info.sectors.precommitted, 3);
    refused(&net, &owner, confirm, ErrorKind::NotFound);
}

#[test]
fn a_due_worker_change_happens_at_a_deadline_close_without_confirmation() {
    let net = Net::hashed();
    let owner = net.funded(1, 10_000);
    let id = net.miner(&owner, 1000);
    let new = net.funded(2, 10);
    net.step(1);
    net.send(
        &owner,
        Method::ChangeWorkerAddress {
            miner: id,
            new_worker: new.address(),
        },
    )
    .unwrap();
    net.step(1);
    let (_, at) = block_on(net.chain.miner(id))
        .unwrap()
        .pending_worker
        .unwrap();
    let c = &net.genesis.constants;
    let start = block_on(net.chain.miner(id)).unwrap().proving_period_start;
    // Before it is due nothing happens at the deadline closes.
    net.step_to(at - 1);
    assert!(block_on(net.chain.miner(id))
        .unwrap()
        .pending_worker
        .is_some());
    net.step_to(at.max(start) + c.deadline_window);
    let info = block_on(net.chain.miner(id)).unwrap();
    assert_eq!((info.worker, info.pending_worker), (new.address(), None));
}

#[test]
fn sector_extensions() {
    let net = Net::hashed();
    let c = net.genesis.constants.clone();
    let owner = net.funded(1, 10_000);
    let id = net.miner(&owner, 1000);
    net.step(1);
    for n in 1..=3 {
        net.precommit_cc(&owner, id, n, 600);
        net.prove_commit_hashed(&owner, id, n);
    }
    let ext = |extensions: Vec<(u64, i64)>| Method::ExtendSectorExpiration {
        miner: id,
        extensions,
    };
    let s1 = block_on(net.chain.sector(id, 1)).unwrap();
    let before = block_on(net.chain.miner(id)).unwrap();
    // Longer: accepted; power and pledge unchanged.
    net.send(
        &owner,
        ext(vec![(1, s1.expiration + 100), (2, s1.expiration + 50)]),
    )
    .unwrap();
    net.step(1);
    let after = block_on(net.chain.miner(id)).unwrap();
    assert_eq!(
        block_on(net.chain.sector(id, 1)).unwrap().expiration,
        s1.expiration + 100
    );
    assert_eq!(
        (
            after.raw_power,
            after.qa_power,
            after.balances.locked_pledge
        ),
        (
            before.raw_power,
            before.qa_power,
            before.balances.locked_pledge
        )
    );
    assert_eq!(
        block_on(net.chain.sector(id, 1)).unwrap().initial_pledge,
        s1.initial_pledge
    );
    let exp1 = s1.expiration + 100;
    // Shorter, the same, beyond the longest life from activation, a duplicate, nothing.
    refused(
        &net,
        &owner,
        ext(vec![(1, exp1 - 1)]),
        ErrorKind::InvalidParams,
    );
    refused(&net, &owner, ext(vec![(1, exp1)]), ErrorKind::InvalidParams);
    let act = s1.activation.unwrap();
    refused(
        &net,
        &owner,
        ext(vec![(1, act + c.max_sector_lifetime + 1)]),
        ErrorKind::InvalidParams,
    );
    net.send(&owner, ext(vec![(3, act + c.max_sector_lifetime)]))
        .unwrap();
    refused(
        &net,
        &owner,
        ext(vec![(1, exp1 + 5), (1, exp1 + 10)]),
        ErrorKind::Duplicate,
    );
    refused(&net, &owner, ext(vec![]), ErrorKind::InvalidParams);
    refused(&net, &owner, ext(vec![(77, exp1 + 5)]), ErrorKind::NotFound);
    let stranger = net.funded(9, 10);
    refused(
        &net,
        &stranger,
        ext(vec![(1, exp1 + 5)]),
        ErrorKind::Forbidden,
    );
    // A terminated sector: refused, and with it the good extension beside it.
    net.send(
        &owner,
        Method::TerminateSectors {
            miner: id,
            sectors: vec![2],
        },
    )
    .unwrap();
    net.step(1);
    assert_eq!(status(&net, id, 2), SectorStatus::Terminated);
    refused(
        &net,
        &owner,
        ext(vec![(1, exp1 + 5), (2, exp1 + 5)]),
        ErrorKind::InvalidParams,
    );
    assert_eq!(block_on(net.chain.sector(id, 1)).unwrap().expiration, exp1);
    // A pre-committed sector is not active: refused.
    net.precommit_cc(&owner, id, 4, 600);
    refused(&net, &owner, ext(vec![(4, exp1)]), ErrorKind::InvalidParams);
    // Nor is a faulty one (Filecoin extends active sectors only).
    net.send(
        &owner,
        Method::DeclareFaults {
            miner: id,
            sectors: vec![1],
        },
    )
    .unwrap();
    net.step(1);
    assert_eq!(status(&net, id, 1), SectorStatus::Faulty);
    refused(
        &net,
        &owner,
        ext(vec![(1, exp1 + 5)]),
        ErrorKind::InvalidParams,
    );
}

#[test]
fn a_sector_with_a_verified_deal_extends_only_within_the_deal_term() {
    let client = KeyPair::from_secret(&[7; 32]);
    let mut g = test_genesis();
    g.accounts.push(strata_chain::config::GenesisAccount {
        address: client.address(),
        balance: Token::whole(1000),
        datacap: 4096,
    });
    let net = Net::new(g, Box::new(HashVerifier));
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
    let data: Vec<u8> = (0..1000u32).map(|i| (i as u8).wrapping_mul(5)).collect();
    let piece = strata_sealer::comm_p(&data[..], 1000).unwrap();
    let h = net.head();
    let proposal = DealProposal {
        network: net.genesis.network.clone(),
        piece_cid: piece.comm_p,
        piece_size: piece.padded_size,
        client: client.address(),
        provider: id,
        start_epoch: h + 40,
        end_epoch: h + 400,
        price_per_epoch: Token(1),
        provider_collateral: Token::whole(1),
        client_collateral: Token::ZERO,
        verified: true,
        label: String::new(),
    };
    net.send(
        &owner,
        Method::PublishDeals {
            miner: id,
            deals: vec![proposal.sign(&client).unwrap()],
        },
    )
    .unwrap();
    net.step(1);
    let comm_d = strata_sealer::comm_d_from_pieces(
        strata_primitives::sizes::SectorSize::KIB2,
        std::slice::from_ref(&piece),
    )
    .unwrap();
    net.send(
        &owner,
        Method::PreCommit {
            miner: id,
            sector_number: 1,
            comm_r: fake_comm_r(1),
            comm_d,
            ticket_epoch: net.head(),
            expiration: net.head() + 500,
            deals: vec![0],
        },
    )
    .unwrap();
    net.step(1);
    net.prove_commit_hashed(&owner, id, 1);
    let s = block_on(net.chain.sector(id, 1)).unwrap();
    assert_eq!(s.qa_power, 2048 + 9 * 1024, "the verified piece counts");
    let term = block_on(net.chain.deal(0)).unwrap().verified_term.unwrap();
    let last = s.activation.unwrap() + term.max;
    let ext = |to: i64| Method::ExtendSectorExpiration {
        miner: id,
        extensions: vec![(1, to)],
    };
    // Past the deal's term_max the verified power would no longer be earned: refused.
    refused(&net, &owner, ext(last + 1), ErrorKind::Forbidden);
    net.send(&owner, ext(last)).unwrap();
    net.step(1);
    let s = block_on(net.chain.sector(id, 1)).unwrap();
    assert_eq!((s.expiration, s.qa_power), (last, 2048 + 9 * 1024));
}

#[test]
fn multi_partition_window_post() {
    let mut g: Genesis = test_genesis();
    g.constants.max_prove_commit = 60;
    let net = Net::new(g, Box::new(HashVerifier));
    let owner = net.funded(1, 100_000);
    let id = net.miner(&owner, 10_000);
    net.step(1);
    // 36 sectors over 12 deadlines of 2-sector partitions: deadlines with two partitions.
    let numbers: Vec<u64> = (1..=36).collect();
    net.send(
        &owner,
        Method::PreCommitSectorBatch {
            miner: id,
            sectors: numbers.iter().map(|n| entry(&net, *n, 600)).collect(),
        },
    )
    .unwrap();
    net.step(1);
    past_seeds(&net, id, &numbers);
    net.send(
        &owner,
        Method::ProveCommitAggregate {
            miner: id,
            sector_numbers: numbers.clone(),
            aggregate: aggregate(&net, id, &numbers),
        },
    )
    .unwrap();
    net.step(1);
    assert_eq!(block_on(net.chain.miner(id)).unwrap().sectors.active, 36);
    let dl = block_on(net.chain.deadlines(id))
        .unwrap()
        .iter()
        .position(|d| d.partitions.len() >= 2)
        .expect("a deadline with two partitions") as u64;
    net.step_into_deadline(id, dl);
    let post = |partition: u64| PartitionPost {
        partition,
        skipped: vec![],
        proof: net.hash_window_proof(id, dl, partition, &[]),
    };
    let batch = |partitions: Vec<PartitionPost>| Method::SubmitWindowPostBatch {
        miner: id,
        deadline: dl,
        partitions,
    };
    refused(
        &net,
        &owner,
        batch(vec![post(0), post(0)]),
        ErrorKind::Duplicate,
    );
    refused(&net, &owner, batch(vec![]), ErrorKind::InvalidParams);
    let none = |partition: u64| PartitionPost {
        partition,
        skipped: vec![],
        proof: None,
    };
    refused(
        &net,
        &owner,
        batch(vec![post(0), post(1), none(2), none(3)]),
        ErrorKind::InvalidParams,
    );
    // Partition 0 is good and applied first, partition 1's proof is bad: nothing stays.
    let mut bad = post(1);
    bad.proof = Some("ab".repeat(32));
    refused(
        &net,
        &owner,
        batch(vec![post(0), bad]),
        ErrorKind::InvalidProof,
    );
    let parts = &block_on(net.chain.deadlines(id)).unwrap()[dl as usize].partitions;
    assert!(parts.iter().all(|p| !p.proven));
    // Both partitions in one message.
    net.send(&owner, batch(vec![post(0), post(1)])).unwrap();
    net.step(1);
    let parts = &block_on(net.chain.deadlines(id)).unwrap()[dl as usize].partitions;
    assert!(parts[0].proven && parts[1].proven);
    // A partition proven in this window cannot be proven again, alone or in a batch.
    refused(&net, &owner, batch(vec![post(1)]), ErrorKind::Duplicate);
}

#[test]
fn old_messages_still_deserialise() {
    let json = r#"{"method":"submit_window_post","params":{"miner":1000,"deadline":1,"partition":0,"proof":null}}"#;
    let m: Method = serde_json::from_str(json).unwrap();
    assert!(matches!(m, Method::SubmitWindowPost { skipped, .. } if skipped.is_empty()));
    let m = Method::SubmitWindowPostBatch {
        miner: 1000,
        deadline: 1,
        partitions: vec![PartitionPost {
            partition: 0,
            skipped: vec![],
            proof: None,
        }],
    };
    let back: Method = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
    assert_eq!(back, m);
    let json =
        r#"{"method":"extend_sector_expiration","params":{"miner":1000,"extensions":[[1,500]]}}"#;
    let m: Method = serde_json::from_str(json).unwrap();
    assert_eq!(
        m,
        Method::ExtendSectorExpiration {
            miner: 1000,
            extensions: vec![(1, 500)]
        }
    );
}

/// Seals 2 KiB of zeros (a committed-capacity sector) as sector `n` with the ticket of `epoch`.
fn seal_cc(
    net: &Net,
    root: &std::path::Path,
    id: MinerId,
    n: u64,
    epoch: i64,
) -> std::path::PathBuf {
    use strata_sealer::{seal, NoProgress, PieceSource, SealConfig};
    let cfg = SealConfig {
        proof_type: strata_params::ProofType::for_size(strata_primitives::sizes::SectorSize::KIB2)
            .unwrap(),
        prover_id: id,
        sector_number: n,
        ticket: net.rand(RandomnessTag::Ticket, epoch, id),
        parent_cache_dir: root.join("parents"),
    };
    let out = root.join(format!("sector-{n}"));
    let zeros = vec![0u8; 1000];
    let meta = seal(
        &cfg,
        vec![PieceSource {
            reader: Box::new(&zeros[..]),
            len: zeros.len() as u64,
        }],
        &out,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(meta.comm_d, zero_comm_d());
    out
}

#[test]
#[ignore = "real 2 KiB seal proofs (a few minutes on 2 cores): run with --ignored"]
fn real_seal_proofs_aggregated_with_the_snark_verifier() {
    use strata_params::groth16_files::{ParamsStore, ProofKind};
    use strata_prover::aggregate_file::{load_or_generate_srs, AggregateFile};
    let store = ParamsStore::new(ParamsStore::default_dir());
    let pt =
        strata_params::ProofType::for_size(strata_primitives::sizes::SectorSize::KIB2).unwrap();
    strata_prover::snark::load_or_generate_kind(&store, ProofKind::Porep, &pt).unwrap();
    load_or_generate_srs(&store).unwrap();
    let root = tempfile::tempdir().unwrap();
    let net = Net::new(
        test_genesis(),
        Box::new(strata_chain::SnarkVerifier::new(store.clone())),
    );
    let owner = net.funded(1, 10_000);
    let id = net.miner(&owner, 1000);
    net.step(1);
    let numbers = [1u64, 2, 3];
    let ticket_epoch = net.head();
    let dirs: Vec<_> = numbers
        .iter()
        .map(|n| seal_cc(&net, root.path(), id, *n, ticket_epoch))
        .collect();
    let sectors = numbers
        .iter()
        .zip(&dirs)
        .map(|(n, dir)| {
            let meta = strata_sealer::SectorMeta::load(dir).unwrap();
            PreCommitEntry {
                sector_number: *n,
                comm_r: meta.comm_r,
                comm_d: meta.comm_d,
                ticket_epoch,
                expiration: net.head() + 601,
                deals: vec![],
            }
        })
        .collect();
    net.send(&owner, Method::PreCommitSectorBatch { miner: id, sectors })
        .unwrap();
    net.step(1);
    past_seeds(&net, id, &numbers);
    let files: Vec<_> = numbers
        .iter()
        .zip(&dirs)
        .map(|(n, dir)| {
            let seed_epoch = block_on(net.chain.sector(id, *n)).unwrap().seed_epoch;
            let seed = net.rand(RandomnessTag::SealSeed, seed_epoch, id);
            strata_prover::proof_file::prove_seal(dir, &seed, &store).unwrap()
        })
        .collect();
    let agg = |order: &[usize]| {
        let f: Vec<_> = order.iter().map(|i| files[*i].clone()).collect();
        AggregateFile::aggregate(&f, &store).unwrap().aggregate
    };
    let call = |aggregate: String| Method::ProveCommitAggregate {
        miner: id,
        sector_numbers: numbers.to_vec(),
        aggregate,
    };
    // Aggregated in another order than the sectors': refused.
    refused(&net, &owner, call(agg(&[1, 0, 2])), ErrorKind::InvalidProof);
    net.send(&owner, call(agg(&[0, 1, 2]))).unwrap();
    net.step(1);
    for n in numbers {
        assert_eq!(status(&net, id, n), SectorStatus::Active);
    }
    // The auditor's path: the records regroup into an aggregate proof file that verifies.
    let proofs = block_on(net.chain.proofs(id)).unwrap();
    let groups = ProofRecord::aggregates(&proofs);
    assert_eq!(groups.len(), 1);
    let file = groups[0].as_ref().unwrap().to_file();
    assert_eq!(file.statements.len(), 3);
    file.verify(&store).unwrap();
}
