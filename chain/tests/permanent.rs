//! Permanent storage on the devnet (hash-verified proofs): the fee and its split, the period
//! payouts and the pool against the formulas, re-offered replicas, the Kryder+ multiplier and
//! arrears, and recall proofs.

mod common;

use common::*;
use strata_chain::permanent::pricing;
use strata_chain::HashVerifier;
use strata_chain_client::permanent::{prove_from_leaves, RecallProof, RecallTarget, ReplicaStatus};
use strata_chain_client::types::{Method, MinerId, RandomnessTag};
use strata_chain_client::views::{DealStatus, Pot};
use strata_chain_client::{ChainApi, ErrorKind, KeyPair, Token};
use strata_primitives::node::Node;
use strata_prover::proof_file::PublicData;
use strata_prover::vanilla::post::PostSector;

/// The client's 1 KiB piece: its data nodes (fr32-padded) and CommP.
fn piece() -> (Vec<Node>, Node) {
    let data: Vec<u8> = (0..1016u32).map(|i| (i * 7 % 251) as u8).collect();
    let info = strata_sealer::comm_p(&data[..], 1016).unwrap();
    (strata_sealer::pieces::pad_bytes(&data), info.comm_p)
}

/// The leaves of a 2 KiB sector holding the piece at offset 0 (zeros after it).
fn sector_leaves() -> Vec<Node> {
    let mut l = piece().0;
    l.resize(64, [0; 32]);
    l
}

fn comm_d() -> Node {
    let mut l = sector_leaves();
    while l.len() > 1 {
        l = l
            .chunks(2)
            .map(|p| strata_primitives::hash::hash_d_node(&p[0], &p[1]))
            .collect();
    }
    l[0]
}

struct World {
    net: Net,
    client: KeyPair,
    miners: Vec<(KeyPair, MinerId)>,
}

impl World {
    fn new(genesis: strata_chain::Genesis, miners: u8) -> World {
        let net = Net::new(genesis, Box::new(HashVerifier));
        let client = net.funded(1, 1000);
        let miners = (0..miners)
            .map(|k| {
                let key = net.funded(10 + k, 10_000);
                let id = net.miner(&key, 5000);
                net.send(
                    &key,
                    Method::AddEscrow {
                        to: strata_chain_client::EscrowHolder::Miner(id),
                        amount: Token::whole(100),
                    },
                )
                .unwrap();
                (key, id)
            })
            .collect();
        net.step(1);
        World {
            net,
            client,
            miners,
        }
    }

    /// Stores the piece for ever on `replicas`; returns its id and what was paid.
    fn store(&self, replicas: u64) -> (u64, strata_chain_client::permanent::PermanentQuote) {
        let q = block_on(self.net.chain.permanent_quote(1024, replicas)).unwrap();
        let id = self
            .net
            .send(
                &self.client,
                Method::StorePermanent {
                    piece_cid: piece().1,
                    piece_size: 1024,
                    replicas,
                    max_fee: q.total,
                },
            )
            .unwrap();
        self.run(self.net.head() + 1, &[]);
        let r = block_on(self.net.chain.receipt(id)).unwrap();
        (r.result["piece"].as_u64().unwrap(), q)
    }

    /// Miner `k` claims a slot of `piece`, seals sector `n` holding it, and prove-commits.
    fn take(&self, k: usize, piece: u64, n: u64) -> u64 {
        let deal = self.claim(k, piece).unwrap();
        self.seal(k, n, deal);
        deal
    }

    fn claim(&self, k: usize, piece: u64) -> Result<u64, strata_chain_client::ChainError> {
        let (key, id) = &self.miners[k];
        let m = self.net.send(
            key,
            Method::ClaimReplica {
                miner: *id,
                piece,
                start_epoch: self.net.head() + 25,
            },
        )?;
        self.run(self.net.head() + 1, &[]);
        Ok(block_on(self.net.chain.receipt(m)).unwrap().result["deal"]
            .as_u64()
            .unwrap())
    }

    fn seal(&self, k: usize, n: u64, deal: u64) {
        self.seal_with(k, n, vec![deal], comm_d());
    }

    /// Pre-commits and prove-commits sector `n` of miner `k` (hash proofs), every miner posting
    /// its windows meanwhile.
    fn seal_with(&self, k: usize, n: u64, deals: Vec<u64>, comm_d: Node) {
        let (key, id) = &self.miners[k];
        let head = self.net.head();
        self.net
            .send(
                key,
                Method::PreCommit {
                    miner: *id,
                    sector_number: n,
                    comm_r: fake_comm_r(n + 100 * k as u64),
                    comm_d,
                    ticket_epoch: head,
                    expiration: head + 1 + 1500,
                    deals,
                },
            )
            .unwrap();
        self.run(head + 1, &[]);
        let seed = block_on(self.net.chain.sector(*id, n)).unwrap().seed_epoch;
        self.run(seed.max(self.net.head()), &[]);
        let proof = self.net.hash_seal_proof(*id, n);
        self.net
            .send(
                key,
                Method::ProveCommit {
                    miner: *id,
                    sector_number: n,
                    proofs: vec![proof],
                },
            )
            .unwrap();
        self.run(self.net.head() + 1, &[]);
    }

    /// Steps one epoch at a time to `until`, posting every open deadline of every miner not in
    /// `down`, and checks the money invariants at each epoch.
    fn run(&self, until: i64, down: &[MinerId]) {
        while self.net.head() < until {
            let next = self.net.head() + 1;
            for (key, id) in &self.miners {
                if down.contains(id) {
                    continue;
                }
                for d in block_on(self.net.chain.deadlines(*id)).unwrap() {
                    let t = d.timing;
                    if next < t.open || next >= t.close {
                        continue;
                    }
                    for (pi, p) in d.partitions.iter().enumerate() {
                        if p.proven || p.sectors.is_empty() {
                            continue;
                        }
                        let Some(proof) = self.net.hash_window_proof(*id, t.index, pi as u64, &[])
                        else {
                            continue;
                        };
                        self.net
                            .send(
                                key,
                                Method::SubmitWindowPost {
                                    miner: *id,
                                    deadline: t.index,
                                    partition: pi as u64,
                                    skipped: vec![],
                                    proof: Some(proof),
                                },
                            )
                            .unwrap();
                    }
                }
            }
            self.net.chain.step(1).unwrap();
            let s = self.net.chain.state();
            s.check_invariants().unwrap();
            assert_eq!(s.balances_total(), s.supply.total().0);
        }
    }

    /// The endowment payouts to miner `id`: (epoch, amount).
    fn payouts(&self, id: MinerId) -> Vec<(i64, Token)> {
        self.net
            .events(&format!("m{id}"), "endowment_payout")
            .iter()
            .map(|e| (e.epoch, e.amount))
            .collect()
    }
}

fn rel(a: u128, b: f64) -> f64 {
    (a as f64 - b).abs() / b
}

#[test]
fn fees_shares_payouts_and_the_pool_follow_the_formulas() {
    let w = World::new(test_genesis(), 3);
    let c = w.net.genesis.constants.clone();
    let before = block_on(w.net.chain.account(w.client.address()))
        .unwrap()
        .balance;
    // Too little offered: refused, nothing moves.
    let q = block_on(w.net.chain.permanent_quote(1024, 2)).unwrap();
    let root = w.net.chain.pending_root();
    let err = w
        .net
        .send(
            &w.client,
            Method::StorePermanent {
                piece_cid: piece().1,
                piece_size: 1024,
                replicas: 2,
                max_fee: Token(q.total.0 - 1),
            },
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InsufficientFunds, "{err}");
    assert_eq!(w.net.chain.pending_root(), root);
    for (size, replicas) in [(1000, 2), (64, 2), (1024, 0), (1024, 9), (1 << 40, 1)] {
        assert!(block_on(w.net.chain.permanent_quote(size, replicas)).is_err());
    }
    let (pid, q) = w.store(2);
    // The fee: 2 replicas × 1024 B × the cost now / 0.5%, and a sixth of the total upfront.
    let t = w.net.head();
    let year = c.epochs_per_year() as f64;
    let cost = 1e9 * 0.995f64.powf(t as f64 / year);
    assert!(
        rel(q.endowment.0, 2.0 * 1024.0 * cost / 0.005) < 1e-9,
        "{q:?}"
    );
    assert_eq!(q.total.0, q.endowment.0 * 6 / 5);
    assert_eq!(q.upfront.0 + q.endowment.0, q.total.0);
    let after = block_on(w.net.chain.account(w.client.address()))
        .unwrap()
        .balance;
    assert_eq!(before.0 - after.0, q.total.0, "the client paid the total");
    let e = block_on(w.net.chain.endowment()).unwrap();
    assert_eq!((e.pool, e.upfront_held), (q.endowment, q.upfront));
    assert_eq!((e.replicas_open, e.weave_bytes, e.multiplier), (2, 1024, 1));

    // Distinct miners: the first miner cannot take the second slot; a third finds none open.
    let (id0, id1) = (w.miners[0].1, w.miners[1].1);
    let d0 = w.take(0, pid, 1);
    let err = w.claim(0, pid).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Duplicate, "{err}");
    let d1 = w.take(1, pid, 1);
    let err = w.claim(2, pid).unwrap_err();
    assert!(err.message.contains("no open replica slot"), "{err}");
    // Claims a miner may not make: a start already past or beyond the claim window, another
    // miner's claim sent by a stranger, a piece that does not exist.
    let (k2, id2) = (&w.miners[2].0, w.miners[2].1);
    let head = w.net.head();
    let window = c.permanent.max_claim_days * c.epochs_per_day;
    for (who, miner, piece, start, kind) in [
        (k2, id2, pid, head, ErrorKind::InvalidParams),
        (k2, id2, pid, head + 2 + window, ErrorKind::InvalidParams),
        (&w.client, id2, pid, head + 10, ErrorKind::Forbidden),
        (k2, id2, 99, head + 10, ErrorKind::NotFound),
    ] {
        let err = w
            .net
            .send(
                who,
                Method::ClaimReplica {
                    miner,
                    piece,
                    start_epoch: start,
                },
            )
            .unwrap_err();
        assert_eq!(err.kind, kind, "{err}");
    }
    // Each holder got half the upfront share at activation.
    for (id, d) in [(id0, d0), (id1, d1)] {
        let ev = w.net.events(&format!("m{id}"), "permanent_upfront_paid");
        assert_eq!(ev.len(), 1);
        let half = q.upfront.0 / 2;
        assert!(
            ev[0].amount.0 == half || ev[0].amount.0 == q.upfront.0 - half,
            "deal {d}"
        );
        assert_eq!(ev[0].from, Pot::EndowmentUpfront);
    }
    let info = block_on(w.net.chain.permanent_piece(pid)).unwrap();
    assert!(info
        .replicas
        .iter()
        .all(|r| r.status == ReplicaStatus::Held && r.upfront_unpaid.is_zero()));
    assert!(block_on(w.net.chain.endowment())
        .unwrap()
        .upfront_held
        .is_zero());

    // Six proving periods, every epoch checked.
    let start = w.net.head();
    w.run(start + 6 * c.proving_period, &[]);
    let mut paid = 0u128;
    for id in [id0, id1] {
        let p = w.payouts(id);
        assert!(p.len() >= 5, "m{id} paid {} times", p.len());
        for (epoch, amount) in &p {
            // One period's cost of 1024 B at the epoch of the deadline's close.
            let want = 1024.0 * 1e9 * 60.0 / year * 0.995f64.powf(*epoch as f64 / year);
            assert!(
                rel(amount.0, want) < 1e-9,
                "epoch {epoch}: {amount} vs {want}"
            );
            assert_eq!(*amount, pricing::period_payout(&c, *epoch, 1024));
            paid += amount.0;
        }
        // Once per period.
        for pair in p.windows(2) {
            assert_eq!(pair[1].0 - pair[0].0, c.proving_period);
        }
    }
    let e = block_on(w.net.chain.endowment()).unwrap();
    assert_eq!(e.pool.0, q.endowment.0 - paid, "pool = paid in − paid out");
    assert_eq!(e.paid_out.0, paid);
    assert!(e.arrears.is_zero() && !e.latched && e.multiplier == 1);
    assert!(
        e.years_covered.is_none(),
        "the assumed curve is met: for ever"
    );
    assert_eq!(e.owed_per_period, pricing::period_payout(&c, e.epoch, 2048));
}

#[test]
fn a_lost_replica_is_reoffered_taken_and_paid_to_its_new_holder() {
    let w = World::new(test_genesis(), 3);
    let period = w.net.genesis.constants.proving_period;
    let (pid, _) = w.store(2);
    let (id0, id2) = (w.miners[0].1, w.miners[2].1);
    w.take(0, pid, 1);
    w.take(1, pid, 1);
    w.run(w.net.head() + 2 * period, &[]);
    assert!(!w.payouts(id0).is_empty());

    // m0 terminates its sector: its replica deal is slashed and the slot re-offered.
    w.net
        .send(
            &w.miners[0].0,
            Method::TerminateSectors {
                miner: id0,
                sectors: vec![1],
            },
        )
        .unwrap();
    w.run(w.net.head() + 1, &[]);
    let gone = w.net.head();
    let info = block_on(w.net.chain.permanent_piece(pid)).unwrap();
    let open = info
        .replicas
        .iter()
        .find(|r| r.status == ReplicaStatus::Open)
        .expect("a slot is re-offered");
    assert_eq!(open.reoffered, 1);
    assert!(
        open.upfront_unpaid.is_zero(),
        "the upfront share was paid once"
    );
    assert_eq!(block_on(w.net.chain.endowment()).unwrap().replicas_open, 1);

    // m2 takes it; a claim that lapses first is re-offered again.
    let lapsed = w.claim(2, pid).unwrap();
    w.run(
        block_on(w.net.chain.deal(lapsed))
            .unwrap()
            .proposal
            .start_epoch,
        &[],
    );
    assert_eq!(
        block_on(w.net.chain.deal(lapsed)).unwrap().status,
        DealStatus::Slashed
    );
    let info = block_on(w.net.chain.permanent_piece(pid)).unwrap();
    assert_eq!(info.replicas.iter().map(|r| r.reoffered).sum::<u64>(), 2);
    w.take(2, pid, 2);
    assert!(w
        .net
        .events(&format!("m{id2}"), "permanent_upfront_paid")
        .is_empty());
    let taken = w.net.head();
    w.run(taken + 3 * period, &[]);
    // The new holder is paid each period from its first; the old one nothing after its loss.
    let p2 = w.payouts(id2);
    assert!(p2.len() >= 2, "{p2:?}");
    assert!(p2.iter().all(|(e, _)| *e > taken));
    assert!(w.payouts(id0).iter().all(|(e, _)| *e <= gone));
    let info = block_on(w.net.chain.permanent_piece(pid)).unwrap();
    assert!(
        info.replicas
            .iter()
            .all(|r| r.status == ReplicaStatus::Held),
        "{info:?} {:?}",
        block_on(w.net.chain.sectors(w.miners[1].1)).unwrap()
    );
    assert_eq!(
        info.holders().map(|h| h.1).collect::<Vec<_>>(),
        vec![id2, w.miners[1].1]
    );
}

#[test]
fn a_short_pool_raises_the_price_and_keeps_paying_in_order() {
    // A year of 365 epochs; costs that stop falling while pricing assumes a 90% yearly fall: the
    // pool holds about 1.1 years of payouts for each replica.
    let mut g = test_genesis();
    g.constants.epochs_per_day = 1;
    g.constants.permanent.kryder_rate_bps = 9000;
    g.constants.permanent.cost_decline_bps = 0;
    g.constants.permanent.max_claim_days = 60;
    let w = World::new(g, 2);
    let period = w.net.genesis.constants.proving_period;
    let (pid, q) = w.store(2);
    w.take(0, pid, 1);
    w.take(1, pid, 1);
    let first = block_on(w.net.chain.permanent_quote(1024, 2)).unwrap();
    assert_eq!(first.multiplier, 1);
    // The first payout leaves the pool below its obligations: the price doubles, and latches.
    // (The miners' first proving periods start one to two periods after their creation.)
    let mut guard = 0;
    while block_on(w.net.chain.endowment())
        .unwrap()
        .paid_out
        .is_zero()
    {
        w.run(w.net.head() + 1, &[]);
        guard += 1;
        assert!(guard < 4 * period, "no payout");
    }
    let e = block_on(w.net.chain.endowment()).unwrap();
    assert!(
        e.pool < e.obligations && e.latched && e.multiplier == 2,
        "{e:?}"
    );
    let dear = block_on(w.net.chain.permanent_quote(1024, 2)).unwrap();
    assert_eq!(dear.endowment.0, 2 * first.endowment.0);
    // Run until the pool is dry and payouts queue.
    let mut guard = 0;
    while block_on(w.net.chain.endowment()).unwrap().arrears.is_zero() {
        w.run(w.net.head() + period, &[]);
        guard += 1;
        assert!(guard < 20, "the pool never ran dry");
    }
    let e = block_on(w.net.chain.endowment()).unwrap();
    assert_eq!(e.multiplier, 2, "one raise per shortfall");
    let paid: u128 = w
        .miners
        .iter()
        .flat_map(|(_, id)| w.payouts(*id))
        .map(|p| p.1 .0)
        .sum();
    assert_eq!(e.pool.0 + paid, q.endowment.0);
    let queued = w.net.chain.state().endowment.arrears.clone();
    assert!(queued.windows(2).all(|a| a[0].epoch <= a[1].epoch));
    // New money pays the arrears first, in the order they fell due.
    let since = w.net.head() + 1;
    w.store(1);
    let late: Vec<_> = block_on(w.net.chain.events(Default::default()))
        .unwrap()
        .into_iter()
        .filter(|e| e.epoch >= since && e.why.contains("(arrears)"))
        .collect();
    assert!(late.len() >= queued.len(), "{late:?}");
    for (a, ev) in queued.iter().zip(&late) {
        assert_eq!(ev.to, Pot::MinerEscrow(a.miner));
        assert_eq!(ev.amount, a.amount);
        assert!(ev.why.contains(&format!("due {}", a.epoch)), "{}", ev.why);
    }
}

/// The hash-verifier WinningPoSt of a ticket.
fn winning_proof(w: &World, id: MinerId, t: &strata_chain_client::views::WinningTicket) -> String {
    let sectors = t
        .sectors
        .iter()
        .map(|n| PostSector {
            sector_number: *n,
            comm_r: block_on(w.net.chain.sector(id, *n)).unwrap().comm_r,
        })
        .collect();
    HashVerifier::proof_for(&PublicData::Winning {
        prover_id: id,
        randomness: t.randomness,
        sectors,
    })
}

#[test]
fn recall_proofs_earn_the_share_and_nothing_else_does() {
    let w = World::new(test_genesis(), 2);
    let c = w.net.genesis.constants.clone();
    let (pid, _) = w.store(1);
    let (k0, id0) = (&w.miners[0].0, w.miners[0].1);
    let (k1, id1) = (&w.miners[1].0, w.miners[1].1);
    w.take(0, pid, 1);
    // m1 has power but no replica: a committed-capacity sector.
    w.seal_with(1, 1, vec![], zero_comm_d());
    // The recall draw of an epoch is unknown until its beacon entry exists.
    let next = w.net.head() + 1;
    let err = block_on(w.net.chain.randomness(RandomnessTag::Recall, next, id0)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooEarly);

    let leaves = sector_leaves();
    let mut chunks = std::collections::BTreeSet::new();
    let (mut full, mut partial, mut refused) = (0, 0, 0);
    for _ in 0..200 {
        if full >= 2 && partial >= 1 && refused >= 1 && chunks.len() == 2 {
            break;
        }
        w.run(w.net.head() + 1, &[]);
        for (key, id) in [(k0, id0), (k1, id1)] {
            let Some(t) = block_on(w.net.chain.winning(id)).unwrap().pop() else {
                continue;
            };
            let target = t.recall.expect("the weave is not empty");
            // The target is the beacon's draw over the weave.
            let r = w.net.rand(RandomnessTag::Recall, t.epoch, id);
            assert_eq!(
                RecallTarget::pick(&r, &[(pid, 0, 1024)], c.permanent.recall_chunk_bytes),
                Some(target)
            );
            assert_eq!(target.chunk_bytes, 512);
            chunks.insert(target.chunk);
            let post = winning_proof(&w, id, &t);
            let submit = |recall: Option<RecallProof>| {
                w.net.send(
                    key,
                    Method::SubmitWinningPost {
                        miner: id,
                        epoch: t.epoch,
                        proof: post.clone(),
                        recall,
                    },
                )
            };
            let good = prove_from_leaves(1, &leaves, target.chunk * 16, 512);
            let minted = |f: &dyn Fn()| {
                let before = w.net.chain.state().supply.minted;
                f();
                w.run(w.net.head() + 1, &[]);
                w.net.chain.state().supply.minted.0 - before.0
            };
            let share = t.reward.0 * c.permanent.recall_reward_share.0 as u128
                / c.permanent.recall_reward_share.1 as u128;
            if id == id1 {
                // No replica of the piece: its own sector, or the holder's sector number, fail.
                for p in [
                    good.clone(),
                    RecallProof {
                        sector: 7,
                        ..good.clone()
                    },
                ] {
                    let err = submit(Some(p)).unwrap_err();
                    assert_eq!(err.kind, ErrorKind::InvalidProof, "{err}");
                }
                let got = minted(&|| {
                    submit(None).unwrap();
                });
                assert_eq!(got, t.reward.0 - share, "no recall, no share");
                refused += 1;
            } else if full < 2 {
                // A tampered chunk or a wrong path is refused; the real one earns everything.
                let mut bad = good.clone();
                bad.chunk[3][0] ^= 1;
                assert_eq!(submit(Some(bad)).unwrap_err().kind, ErrorKind::InvalidProof);
                let mut bad = good.clone();
                bad.path[0][5] ^= 4;
                assert_eq!(submit(Some(bad)).unwrap_err().kind, ErrorKind::InvalidProof);
                let other = prove_from_leaves(1, &leaves, (1 - target.chunk) * 16, 512);
                assert_eq!(
                    submit(Some(other)).unwrap_err().kind,
                    ErrorKind::InvalidProof
                );
                let got = minted(&|| {
                    submit(Some(good.clone())).unwrap();
                });
                assert_eq!(got, t.reward.0, "a valid recall earns the whole reward");
                full += 1;
                // Auditors re-derive the target and re-verify the proof from the record.
                let rec = block_on(w.net.chain.proofs(id))
                    .unwrap()
                    .into_iter()
                    .rev()
                    .find(|p| p.recall.is_some())
                    .unwrap();
                block_on(strata_chain_client::audit::check_randomness(
                    &w.net.chain,
                    &rec,
                ))
                .unwrap();
                let mut forged = rec.clone();
                let mut r = forged.recall.take().unwrap();
                r.target.chunk = 1 - r.target.chunk;
                r.proof = prove_from_leaves(1, &leaves, r.target.chunk * 16, 512);
                forged.recall = Some(r);
                assert!(block_on(strata_chain_client::audit::check_randomness(
                    &w.net.chain,
                    &forged
                ))
                .is_err());
            } else {
                let got = minted(&|| {
                    submit(None).unwrap();
                });
                assert_eq!(got, t.reward.0 - share);
                partial += 1;
            }
        }
    }
    assert!(
        full >= 2 && partial >= 1 && refused >= 1,
        "{full} {partial} {refused}"
    );
    assert_eq!(chunks.len(), 2, "both chunks of the piece get recalled");
}
