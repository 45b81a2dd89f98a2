//! `chain_stats`: the network's economics add up to what the chain's own counters and views say,
//! survive a restart, come out the same from the incremental accumulator as from a fresh one,
//! and stay fast with 100,000 events on chain.

mod common;
use common::*;
use std::sync::Arc;
use std::time::Instant;
use strata_chain::config::GenesisAccount;
use strata_chain::HashVerifier;
use strata_chain_client::stats::{NetworkStats, Snapshot};
use strata_chain_client::types::{DealProposal, EscrowHolder, Method, MinerId};
use strata_chain_client::views::{DealStatus, SectorStatus, WinningTicket};
use strata_chain_client::{ChainApi, KeyPair, RpcClient, Token};
use strata_prover::proof_file::PublicData;
use strata_prover::vanilla::post::PostSector;
use strata_sealer::PieceInfo;

fn piece(seed: u8, len: usize) -> PieceInfo {
    let data: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(seed)).collect();
    strata_sealer::comm_p(&data[..], len as u64).unwrap()
}

fn stats(net: &Net) -> NetworkStats {
    block_on(net.chain.stats()).unwrap()
}

fn winning_proof(net: &Net, t: &WinningTicket) -> String {
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

/// Proves every deadline of `id` (but `missed`) up to `until`, claiming every block reward it
/// wins on the way.
fn run_until(net: &Net, key: &KeyPair, id: MinerId, until: i64, missed: &[u64]) {
    while net.head() < until {
        let to = (net.head() + 10).min(until);
        net.prove_until(key, id, to, missed);
        for t in block_on(net.chain.winning(id)).unwrap() {
            net.send(
                key,
                Method::SubmitWinningPost {
                    miner: id,
                    epoch: t.epoch,
                    proof: winning_proof(net, &t),
                    recall: None,
                },
            )
            .unwrap();
        }
        net.step(1);
    }
}

/// The `now` figures computed independently from the `sectors` and `deals` views.
fn independent_now(net: &Net) -> Snapshot {
    let epoch = net.head();
    let mut snap = Snapshot {
        epoch,
        ..Snapshot::default()
    };
    let deals = block_on(net.chain.deals()).unwrap();
    for id in block_on(net.chain.miners()).unwrap() {
        let size = block_on(net.chain.miner(id)).unwrap().sector_size as u128;
        let sectors = block_on(net.chain.sectors(id)).unwrap();
        let committed = |n: u64| {
            sectors.iter().any(|s| {
                s.number == n
                    && matches!(
                        s.status,
                        SectorStatus::Active | SectorStatus::Faulty | SectorStatus::Recovering
                    )
            })
        };
        for s in &sectors {
            if s.status == SectorStatus::Active {
                snap.raw_power += size;
                snap.qa_power += s.qa_power;
            }
            if committed(s.number) {
                snap.committed_bytes += size;
            }
        }
        for d in deals.iter().filter(|d| d.proposal.provider == id) {
            if d.status == DealStatus::Active && d.sector.is_some_and(committed) {
                snap.deal_bytes += d.proposal.piece_size as u128;
                if d.proposal.verified {
                    snap.verified_bytes += d.proposal.piece_size as u128;
                }
            }
        }
    }
    snap
}

/// Every figure of `st` checked against the chain's counters and views.
fn check_against_views(net: &Net, st: &NetworkStats) {
    let head = net.head();
    let network = block_on(net.chain.network()).unwrap();
    assert_eq!(st.network, net.genesis.network);
    assert_eq!(st.epochs_per_day, net.genesis.constants.epochs_per_day);
    assert_eq!(st.supply, network.supply);
    assert_eq!(st.epoch_reward, network.epoch_reward);
    assert_eq!(st.endowment, Some(block_on(net.chain.endowment()).unwrap()));
    // Now: power as the network reports it, storage as the views show it.
    assert_eq!(st.now, independent_now(net));
    assert_eq!(
        (st.now.raw_power, st.now.qa_power),
        (network.raw_power, network.qa_power)
    );
    // Per miner: as `chain_miner` reports it.
    let ids = block_on(net.chain.miners()).unwrap();
    assert_eq!(st.miners.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
    for m in &st.miners {
        let info = block_on(net.chain.miner(m.id)).unwrap();
        assert_eq!(
            (
                m.raw_power,
                m.qa_power,
                m.active_sectors,
                m.faulty_sectors,
                m.blocks_won,
                m.sector_size
            ),
            (
                info.raw_power,
                info.qa_power,
                info.sectors.active,
                info.sectors.faulty,
                info.blocks_won,
                info.sector_size
            )
        );
    }
    // Days: every day from genesis to the head, contiguous, the last one ending at the head with
    // the network as it is now; their sums are the supply's counters and the deals' payments.
    assert!(st.days.len() <= NetworkStats::DAYS_KEPT);
    let per_day = net.genesis.constants.epochs_per_day;
    assert_eq!(
        st.days.len() as i64,
        head / per_day + 1,
        "every day is listed"
    );
    for (i, d) in st.days.iter().enumerate() {
        assert_eq!(d.day, i as i64);
        assert_eq!(d.first_epoch, d.day * per_day);
        assert_eq!(d.last_epoch, (d.first_epoch + per_day - 1).min(head));
        assert_eq!(d.end.epoch, d.last_epoch);
    }
    let last = st.days.last().unwrap();
    assert_eq!(last.end, st.now);
    let sum = |f: fn(&strata_chain_client::stats::DayStats) -> Token| -> Token {
        st.days.iter().map(f).sum()
    };
    assert_eq!(sum(|d| d.minted), st.supply.minted);
    assert_eq!(sum(|d| d.burnt), st.supply.burnt);
    let paid: Token = block_on(net.chain.deals())
        .unwrap()
        .iter()
        .map(|d| d.paid)
        .sum();
    assert_eq!(st.deal_payments_total, paid);
    assert_eq!(sum(|d| d.deal_payments), paid);
    // Beacon: the latest rounds, newest first, as `chain_beacon` serves them.
    let n = NetworkStats::BEACON_ROUNDS.min(head as usize + 1);
    assert_eq!(st.beacon.len(), n);
    for (i, b) in st.beacon.iter().enumerate() {
        assert_eq!(b.epoch, head - i as i64);
        let e = block_on(net.chain.beacon(b.epoch)).unwrap();
        assert_eq!(
            (b.round, b.randomness.clone()),
            (e.round, hex::encode(e.randomness()))
        );
    }
}

#[test]
fn stats_add_up_survive_a_restart_and_fold_incrementally() {
    let client = KeyPair::from_secret(&[7; 32]);
    let mut g = test_genesis();
    g.accounts.push(GenesisAccount {
        address: client.address(),
        balance: Token::whole(1000),
        datacap: 4096,
    });
    let net = Net::new(g, Box::new(HashVerifier));
    let owner = net.funded(1, 10_000);
    let id = net.miner(&owner, 1000);
    for (from, to, amount) in [
        (&client, EscrowHolder::Account(client.address()), 100),
        (&owner, EscrowHolder::Miner(id), 10),
    ] {
        net.send(
            from,
            Method::AddEscrow {
                to,
                amount: Token::whole(amount),
            },
        )
        .unwrap();
    }
    net.step(1);

    // Three deals: 0 (1 KiB) ends early, 1 (verified, 1 KiB) runs on, 2 is never sealed and is
    // slashed at its start (its collateral burnt).
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
        label: "stats".into(),
    };
    let deals = vec![
        proposal(&p1, false, h + 140).sign(&client).unwrap(),
        proposal(&p2, true, h + 400).sign(&client).unwrap(),
        proposal(&p3, false, h + 400).sign(&client).unwrap(),
    ];
    net.send(&owner, Method::PublishDeals { miner: id, deals })
        .unwrap();
    net.step(1);
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
    }
    // A committed-capacity sector whose deadline is missed: it turns faulty and pays fees.
    net.precommit_cc(&owner, id, 3, 1000);
    net.prove_commit_hashed(&owner, id, 3);
    let missed = net.deadline_of(id, 3);
    assert!(
        [net.deadline_of(id, 1), net.deadline_of(id, 2)]
            .iter()
            .all(|d| *d != missed),
        "sector 3 shares a deadline with a deal sector"
    );
    // Past deal 0's end and deal 2's slashing, with sector 3 faulty (not yet terminated).
    run_until(&net, &owner, id, h + 190, &[missed]);
    let deals = block_on(net.chain.deals()).unwrap();
    assert_eq!(
        deals.iter().map(|d| d.status).collect::<Vec<_>>(),
        vec![DealStatus::Expired, DealStatus::Active, DealStatus::Slashed]
    );
    assert_eq!(
        block_on(net.chain.sector(id, 3)).unwrap().status,
        SectorStatus::Faulty
    );

    let first = stats(&net);
    check_against_views(&net, &first);
    assert!(first.supply.minted > Token::ZERO, "rewards were minted");
    assert!(first.supply.burnt > Token::ZERO, "fees were burnt");
    assert!(first.deal_payments_total > Token::ZERO, "deals paid");
    assert!(first.days.len() >= 3, "{} days", first.days.len());
    // Three 2 KiB sectors committed (one faulty), 1 KiB of verified client data in them.
    let now = &first.now;
    assert_eq!(
        (
            now.raw_power,
            now.committed_bytes,
            now.deal_bytes,
            now.verified_bytes
        ),
        (2 * 2048, 3 * 2048, 1024, 1024)
    );
    assert_eq!(now.deal_share_ppm(), 1024 * 1_000_000 / (3 * 2048));
    assert_eq!(now.verified_share_ppm(), now.deal_share_ppm());
    let m = &first.miners[0];
    assert_eq!(
        (
            m.active_sectors,
            m.faulty_sectors,
            m.deal_bytes,
            m.verified_bytes
        ),
        (2, 1, 1024, 1024)
    );
    // Asked again with nothing new: the same answer.
    assert_eq!(stats(&net), first);

    // More epochs folded into the warm accumulator give what a fresh one computes from the
    // store after a restart.
    net.send(
        &net.faucet,
        Method::Transfer {
            to: client.address(),
            amount: Token::whole(3),
        },
    )
    .unwrap();
    run_until(&net, &owner, id, net.head() + 100, &[missed]);
    let warm = stats(&net);
    check_against_views(&net, &warm);
    assert!(warm.days.len() > first.days.len());
    let net = net.reopen(Box::new(HashVerifier));
    let fresh = stats(&net);
    assert_eq!(fresh, warm);
    check_against_views(&net, &fresh);

    // Over JSON-RPC: the same figures.
    let Net {
        dir: _dir, chain, ..
    } = net;
    let chain = Arc::new(chain);
    block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(strata_chain::rpc::serve(chain.clone(), listener));
        let rpc = RpcClient::new(&url).unwrap();
        assert_eq!(rpc.stats().await.unwrap(), fresh);
    });
}

/// A chain with no miners: zero power, zero shares (no division by zero), and days in which no
/// token moved are still listed, with zeros.
#[test]
fn no_miners_means_zero_shares_and_quiet_days_are_listed() {
    let net = Net::hashed();
    let st = stats(&net);
    assert_eq!(st.now, Snapshot::default());
    assert!(st.miners.is_empty() && st.days.is_empty());
    assert_eq!(st.beacon.len(), 1, "the genesis entry");
    let to = KeyPair::from_secret(&[9; 32]).address();
    net.send(
        &net.faucet,
        Method::Transfer {
            to,
            amount: Token::whole(1),
        },
    )
    .unwrap();
    let per_day = net.genesis.constants.epochs_per_day;
    net.step(3 * per_day as u64);
    let st = stats(&net);
    check_against_views(&net, &st);
    assert_eq!(st.now.epoch, 3 * per_day);
    assert_eq!(
        (st.now.deal_share_ppm(), st.now.verified_share_ppm()),
        (0, 0)
    );
    assert_eq!(st.days.len(), 4);
    for d in &st.days {
        assert_eq!(
            (d.minted, d.deal_payments, d.burnt, d.endowment_payouts),
            (Token::ZERO, Token::ZERO, Token::ZERO, Token::ZERO),
            "day {}",
            d.day
        );
        assert_eq!(
            d.end,
            Snapshot {
                epoch: d.last_epoch,
                ..Snapshot::default()
            }
        );
    }
    assert_eq!(st.days[3].last_epoch, 3 * per_day);
    assert_eq!(st.beacon.len(), NetworkStats::BEACON_ROUNDS);
}

/// 100,000 events in 25 messages: 25,000 small deals published (each locks the client's price
/// and the provider's collateral: 2 events) and slashed at their start, never sealed (the
/// collateral burnt, the client refunded: 2 more). The cheapest events to make — one signature
/// per deal, one database write per message; a transfer per event would take a write each.
/// `stats()` is then timed cold (a fresh node reading every block once) and warm (nothing new,
/// then one new epoch): printed, never asserted on.
#[test]
fn stats_with_100k_events_cold_and_warm() {
    const DEALS: usize = 25_000;
    const PER_MESSAGE: usize = 1_000;
    let net = Net::hashed();
    let key = net.faucet.clone();
    let built = Instant::now();
    let id = net.miner(&key, 10);
    for to in [
        EscrowHolder::Miner(id),
        EscrowHolder::Account(key.address()),
    ] {
        net.send(
            &key,
            Method::AddEscrow {
                to,
                amount: Token::whole(300),
            },
        )
        .unwrap();
    }
    net.chain.step(1).unwrap();
    let start = net.head() + (DEALS / PER_MESSAGE) as i64 + 2;
    let duration = net.genesis.constants.min_deal_duration;
    for batch in 0..DEALS / PER_MESSAGE {
        let deals = (0..PER_MESSAGE)
            .map(|i| {
                DealProposal {
                    network: net.genesis.network.clone(),
                    piece_cid: fake_comm_r((batch * PER_MESSAGE + i) as u64),
                    piece_size: 128,
                    client: key.address(),
                    provider: id,
                    start_epoch: start,
                    end_epoch: start + duration,
                    price_per_epoch: Token(1),
                    provider_collateral: Token(Token::whole(1).0 / 100),
                    client_collateral: Token::ZERO,
                    verified: false,
                    label: String::new(),
                }
                .sign(&key)
                .unwrap()
            })
            .collect();
        net.send(&key, Method::PublishDeals { miner: id, deals })
            .unwrap();
        net.chain.step(1).unwrap();
    }
    net.step_to(start);
    let events = block_on(net.chain.events(Default::default()))
        .unwrap()
        .len();
    eprintln!(
        "built a chain of {} epochs with {events} events ({DEALS} deals published and slashed) \
         in {:.1?}",
        net.head(),
        built.elapsed()
    );
    assert!(events >= 4 * DEALS, "{events} events");
    // A fresh node (its accumulator empty) reads every block once.
    let net = net.reopen(Box::new(HashVerifier));
    let t = Instant::now();
    let cold = stats(&net);
    let cold_time = t.elapsed();
    let t = Instant::now();
    let warm = stats(&net);
    let warm_time = t.elapsed();
    assert_eq!(cold, warm);
    net.step(1);
    let t = Instant::now();
    let next = stats(&net);
    let next_time = t.elapsed();
    assert_eq!(next.now.epoch, cold.now.epoch + 1);
    eprintln!(
        "stats() with {events} events on chain: cold {cold_time:.1?}, warm {warm_time:.1?}, \
         after one more epoch {next_time:.1?}"
    );
    // The dashboard page on top of warm stats: the HTML and its three SVG charts.
    let t = Instant::now();
    let page = strata_chain::dashboard::render(&next);
    eprintln!(
        "dashboard page: rendered in {:.1?} ({} bytes), so GET / takes warm stats + that",
        t.elapsed(),
        page.len()
    );
    assert!(page.contains("data-key=\"/supply/burnt\"") && page.matches("<svg").count() == 3);
    check_against_views(&net, &next);
    assert_eq!(
        next.supply.burnt,
        Token(DEALS as u128 * (Token::whole(1).0 / 100)),
        "every deal's collateral burnt"
    );
}
