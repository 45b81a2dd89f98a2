//! The whole life of a miner and its deals on the devnet with real 2 KiB sectors and real
//! Groth16 proofs: deals published, sectors sealed with the chain's ticket, pre-committed,
//! prove-committed with seal SNARKs after the seed, WindowPoSt SNARKs over several proving
//! periods, a WinningPoSt reward, a missed deadline → fault → fee → recovery, a termination with
//! its fee (slashing its deal), an expiry (its deal paid out), a restart from the database
//! mid-way, and every proof the chain accepted re-verified offline from its proof file.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use strata_chain::config::GenesisAccount;
use strata_chain::SnarkVerifier;
use strata_chain_client::types::{DealProposal, EscrowHolder, Method, MinerId, RandomnessTag};
use strata_chain_client::views::{DealStatus, SectorStatus};
use strata_chain_client::{ChainApi, ErrorKind, KeyPair, Token};
use strata_params::groth16_files::{ParamsStore, ProofKind};
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_prover::proof_file::{prove_seal, prove_window, prove_winning};
use strata_sealer::{seal, NoProgress, PieceSource, SealConfig};

fn store() -> ParamsStore {
    let store = ParamsStore::new(ParamsStore::default_dir());
    let pt = ProofType::for_size(SectorSize::KIB2).unwrap();
    for kind in [ProofKind::Porep, ProofKind::Winning, ProofKind::Window] {
        strata_prover::snark::load_or_generate_kind(&store, kind, &pt).unwrap();
    }
    store
}

fn data(seed: u8) -> Vec<u8> {
    (0..1000u32)
        .map(|i| (i as u8).wrapping_mul(seed) ^ seed)
        .collect()
}

/// Seals `bytes` as sector `n` of miner `id` with the chain's ticket at the head.
fn seal_sector(
    net: &Net,
    root: &Path,
    id: MinerId,
    n: u64,
    bytes: &[u8],
) -> (PathBuf, i64, strata_sealer::SectorMeta) {
    let ticket_epoch = net.head();
    let cfg = SealConfig {
        proof_type: ProofType::for_size(SectorSize::KIB2).unwrap(),
        prover_id: id,
        sector_number: n,
        ticket: net.rand(RandomnessTag::Ticket, ticket_epoch, id),
        parent_cache_dir: root.join("parents"),
    };
    let out = root.join(format!("sector-{n}"));
    let meta = seal(
        &cfg,
        vec![PieceSource {
            reader: Box::new(bytes),
            len: bytes.len() as u64,
        }],
        &out,
        &NoProgress,
    )
    .unwrap();
    (out, ticket_epoch, meta)
}

/// Proves every partition of deadline `dl` with real WindowPoSt SNARKs.
fn post_real(
    net: &Net,
    key: &KeyPair,
    id: MinerId,
    dl: u64,
    dirs: &dyn Fn(u64) -> PathBuf,
    store: &ParamsStore,
) {
    let t = net.step_into_deadline(id, dl);
    let d = &block_on(net.chain.deadlines(id)).unwrap()[dl as usize];
    let randomness = net.rand(RandomnessTag::WindowPost, t.challenge, id);
    for p in &d.partitions {
        let proving: Vec<PathBuf> = p
            .sectors
            .iter()
            .filter(|n| !p.faulty.contains(n))
            .map(|n| dirs(*n))
            .collect();
        if proving.is_empty() {
            // Every sector faulty: a post proving nothing is refused, the partition goes unproven.
            continue;
        }
        let f = prove_window(&proving, &randomness, store).unwrap();
        let (proof, skipped) = (Some(f.proofs[0].clone()), f.faulty_sectors());
        // The same proof with one bit flipped is refused by the chain's Groth16 check.
        if let Some(good) = &proof {
            let mut bytes = hex::decode(good).unwrap();
            bytes[100] ^= 1;
            let err = net
                .send(
                    key,
                    Method::SubmitWindowPost {
                        miner: id,
                        deadline: dl,
                        partition: p.index,
                        skipped: skipped.clone(),
                        proof: Some(hex::encode(bytes)),
                    },
                )
                .unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidProof, "{err}");
        }
        net.send(
            key,
            Method::SubmitWindowPost {
                miner: id,
                deadline: dl,
                partition: p.index,
                skipped,
                proof,
            },
        )
        .unwrap();
    }
    net.step_to(t.close);
}

#[test]
fn miner_and_deal_lifecycle_with_real_proofs() {
    let store = store();
    let root = tempfile::tempdir().unwrap();
    let client = KeyPair::from_secret(&[7; 32]);
    let mut g = test_genesis();
    g.accounts.push(GenesisAccount {
        address: client.address(),
        balance: Token::whole(1000),
        datacap: 0,
    });
    let mut net = Net::new(g, Box::new(SnarkVerifier::new(store.clone())));
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

    // Two deals, one per sector.
    let h = net.head();
    let pieces = [data(3), data(5)];
    let infos: Vec<_> = pieces
        .iter()
        .map(|d| strata_sealer::comm_p(&d[..], d.len() as u64).unwrap())
        .collect();
    // Deal 0 outlives the sector that will be terminated; deal 1 ends before its sector expires.
    let deals = infos
        .iter()
        .zip([h + 500, h + 180])
        .map(|(p, end_epoch)| {
            DealProposal {
                network: net.genesis.network.clone(),
                piece_cid: p.comm_p,
                piece_size: p.padded_size,
                client: client.address(),
                provider: id,
                start_epoch: h + 40,
                end_epoch,
                price_per_epoch: Token(Token::whole(1).0 / 100),
                provider_collateral: Token::whole(1),
                client_collateral: Token::ZERO,
                verified: false,
                label: String::new(),
            }
            .sign(&client)
            .unwrap()
        })
        .collect();
    net.send(&owner, Method::PublishDeals { miner: id, deals })
        .unwrap();
    net.step(1);

    // Seal with the chain's ticket; pre-commit naming the deals (the chain recomputes CommD).
    let mut dirs = Vec::new();
    for (i, life) in [(0usize, 600i64), (1, 200)] {
        let n = i as u64 + 1;
        let (dir, ticket_epoch, meta) = seal_sector(&net, root.path(), id, n, &pieces[i]);
        net.send(
            &owner,
            Method::PreCommit {
                miner: id,
                sector_number: n,
                comm_r: meta.comm_r,
                comm_d: meta.comm_d,
                ticket_epoch,
                expiration: net.head() + 1 + life,
                deals: vec![i as u64],
            },
        )
        .unwrap();
        dirs.push(dir);
    }
    net.step(1);
    let dir_of = |n: u64| dirs[n as usize - 1].clone();

    // Prove-commit after the seed with real seal proofs; a flipped bit is rejected first.
    let seed_epoch = block_on(net.chain.sector(id, 1)).unwrap().seed_epoch;
    net.step_to(seed_epoch);
    for n in [1u64, 2] {
        let seed = net.rand(RandomnessTag::SealSeed, seed_epoch, id);
        let file = prove_seal(&dir_of(n), &seed, &store).unwrap();
        let mut bad = file.proofs.clone();
        let mut bytes = hex::decode(&bad[0]).unwrap();
        bytes[10] ^= 1;
        bad[0] = hex::encode(bytes);
        let err = net
            .send(
                &owner,
                Method::ProveCommit {
                    miner: id,
                    sector_number: n,
                    proofs: bad,
                },
            )
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidProof, "{err}");
        net.send(
            &owner,
            Method::ProveCommit {
                miner: id,
                sector_number: n,
                proofs: file.proofs,
            },
        )
        .unwrap();
    }
    net.step(1);
    for (n, deal) in [(1u64, 0u64), (2, 1)] {
        assert_eq!(
            block_on(net.chain.sector(id, n)).unwrap().status,
            SectorStatus::Active
        );
        assert_eq!(
            block_on(net.chain.deal(deal)).unwrap().status,
            DealStatus::Active
        );
    }
    assert_eq!(block_on(net.chain.miner(id)).unwrap().raw_power, 4096);

    // A WinningPoSt reward.
    let t = block_on(net.chain.winning(id)).unwrap().remove(0);
    let set: Vec<PathBuf> = t.sectors.iter().map(|n| dir_of(*n)).collect();
    let f = prove_winning(&set, &t.randomness, &store).unwrap();
    net.send(
        &owner,
        Method::SubmitWinningPost {
            miner: id,
            epoch: t.epoch,
            proof: f.proofs[0].clone(),
            recall: None,
        },
    )
    .unwrap();
    net.step(1);
    assert_eq!(block_on(net.chain.miner(id)).unwrap().blocks_won, 1);

    // Two proving periods of WindowPoSt.
    let dl1 = net.deadline_of(id, 1);
    let dl2 = net.deadline_of(id, 2);
    let mut order = [dl1, dl2];
    let prove_period = |net: &Net, skip: Option<u64>| {
        let mut next: Vec<_> = block_on(net.chain.deadlines(id))
            .unwrap()
            .into_iter()
            .filter(|d| d.partitions.iter().any(|p| !p.sectors.is_empty()))
            .collect();
        next.sort_by_key(|d| d.timing.open);
        for d in next {
            if Some(d.timing.index) == skip {
                net.step_to(d.timing.close.max(net.head()));
            } else {
                post_real(net, &owner, id, d.timing.index, &dir_of, &store);
            }
        }
    };
    order.sort();
    for _ in 0..2 {
        prove_period(&net, None);
    }
    assert!(net.events(&format!("m{id}"), "fault_fee").is_empty());

    // Restart from the database mid-scenario: same head and state root.
    let before = net.chain.head_now();
    net = net.reopen(Box::new(SnarkVerifier::new(store.clone())));
    assert_eq!(net.chain.head_now(), before);

    // Sector 1's deadline missed twice: faulty with no fee, then the continued-fault fee.
    prove_period(&net, Some(dl1));
    assert_eq!(
        block_on(net.chain.sector(id, 1)).unwrap().status,
        SectorStatus::Faulty
    );
    assert!(net.events(&format!("m{id}"), "fault_fee").is_empty());
    prove_period(&net, Some(dl1));
    assert_eq!(net.charge_epochs(&format!("m{id}"), "fault_fee").len(), 1);
    // Recovery: declared, then proven by a real WindowPoSt.
    net.send(
        &owner,
        Method::DeclareRecoveries {
            miner: id,
            sectors: vec![1],
        },
    )
    .unwrap();
    net.step(1);
    prove_period(&net, None);
    assert_eq!(
        block_on(net.chain.sector(id, 1)).unwrap().status,
        SectorStatus::Active
    );

    // Termination with its fee; the deal in it is slashed.
    net.send(
        &owner,
        Method::TerminateSectors {
            miner: id,
            sectors: vec![1],
        },
    )
    .unwrap();
    net.step(1);
    assert_eq!(
        block_on(net.chain.sector(id, 1)).unwrap().status,
        SectorStatus::Terminated
    );
    assert_eq!(
        net.charge_epochs(&format!("m{id}"), "termination_fee")
            .len(),
        1
    );
    assert_eq!(
        block_on(net.chain.deal(0)).unwrap().status,
        DealStatus::Slashed
    );

    // Sector 2 proves until its expiration; its deal is paid out in full.
    let exp = block_on(net.chain.sector(id, 2)).unwrap().expiration;
    while block_on(net.chain.sector(id, 2)).unwrap().status == SectorStatus::Active {
        assert!(
            net.head() < exp + c.proving_period,
            "sector 2 never expired"
        );
        prove_period(&net, None);
    }
    assert_eq!(
        block_on(net.chain.sector(id, 2)).unwrap().status,
        SectorStatus::Expired
    );
    let d1 = block_on(net.chain.deal(1)).unwrap();
    assert_eq!(d1.status, DealStatus::Expired);
    assert_eq!(d1.paid, Token(Token::whole(1).0 / 100 * 140));
    let info = block_on(net.chain.miner(id)).unwrap();
    assert_eq!(
        (info.raw_power, info.balances.locked_pledge),
        (0, Token::ZERO)
    );

    // The auditor's view: every accepted proof re-verifies offline from its file.
    let proofs = block_on(net.chain.proofs(id)).unwrap();
    assert!(
        proofs
            .iter()
            .filter(|p| p.what.starts_with("window"))
            .count()
            >= 6
    );
    assert_eq!(
        proofs.iter().filter(|p| p.what.starts_with("seal")).count(),
        2
    );
    assert_eq!(
        proofs
            .iter()
            .filter(|p| p.what.starts_with("winning"))
            .count(),
        1
    );
    for p in &proofs {
        p.file
            .verify(&store)
            .unwrap_or_else(|e| panic!("{}: {e}", p.what));
        // And its randomness is the verified beacon's draw.
        block_on(strata_chain_client::audit::check_randomness(&net.chain, p))
            .unwrap_or_else(|e| panic!("{}: {e}", p.what));
    }
}
