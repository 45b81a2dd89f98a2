//! The devnet's per-epoch and per-message costs with a populated state: 100 miners with 20
//! active 2 KiB sectors each (2,000 sectors; proofs checked by the hash test double so the figure
//! is the ledger's own cost — Groth16 verification is measured in `proving`).
//! Run: `cargo bench -p strata-benches --bench chain`

use criterion::{criterion_group, criterion_main, Criterion};
use strata_chain::config::{devnet_faucet, Genesis};
use strata_chain::{Chain, HashVerifier};
use strata_chain_client::types::{Method, RandomnessTag};
use strata_chain_client::{KeyPair, Message, Token};
use strata_prover::proof_file::PublicData;
use strata_prover::vanilla::porep::SealPublicInputs;

const MINERS: u64 = 100;
const SECTORS: u64 = 20;

struct Bench {
    _dir: tempfile::TempDir,
    chain: Chain,
    nonces: std::collections::HashMap<[u8; 20], u64>,
}

impl Bench {
    fn send(&mut self, key: &KeyPair, call: Method) {
        let n = self.nonces.entry(key.address().0).or_default();
        let m = Message {
            network: self.chain.genesis().network.clone(),
            from: key.address(),
            nonce: *n,
            call,
        }
        .sign(key)
        .unwrap();
        *n += 1;
        self.chain.submit_message(m).unwrap();
    }
}

fn comm_r(n: u64) -> [u8; 32] {
    let mut r = *blake3::hash(&n.to_le_bytes()).as_bytes();
    r[31] &= 0x3f;
    r
}

fn populated() -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let mut g = Genesis::preset("devnet").unwrap();
    g.constants.min_sector_lifetime = 100;
    let chain = Chain::open(dir.path(), g.clone(), Box::new(HashVerifier), true).unwrap();
    let mut b = Bench {
        _dir: dir,
        chain,
        nonces: Default::default(),
    };
    let faucet = devnet_faucet();
    let owners: Vec<KeyPair> = (0..MINERS)
        .map(|i| KeyPair::from_secret(&[i as u8 + 1; 32]))
        .collect();
    for o in &owners {
        b.send(
            &faucet,
            Method::Transfer {
                to: o.address(),
                amount: Token::whole(1000),
            },
        );
    }
    b.chain.step(1).unwrap();
    for (i, o) in owners.iter().enumerate() {
        b.send(
            o,
            Method::CreateMiner {
                worker: o.address(),
                proof_type: 1,
                deal_endpoint: String::new(),
            },
        );
        b.send(
            o,
            Method::AddMinerBalance {
                miner: 1000 + i as u64,
                amount: Token::whole(900),
            },
        );
    }
    b.chain.step(1).unwrap();
    let ticket_epoch = b.chain.head_now().epoch;
    let zero = strata_sealer::pieces::zero_root(6);
    for (i, o) in owners.iter().enumerate() {
        for n in 0..SECTORS {
            b.send(
                o,
                Method::PreCommit {
                    miner: 1000 + i as u64,
                    sector_number: n,
                    comm_r: comm_r(n),
                    comm_d: zero,
                    ticket_epoch,
                    expiration: ticket_epoch + 10_000,
                    deals: vec![],
                },
            );
        }
    }
    b.chain.step(1).unwrap();
    let pc = b.chain.head_now().epoch;
    b.chain.step(g.constants.seed_delay as u64).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (i, o) in owners.iter().enumerate() {
        let id = 1000 + i as u64;
        let seed = rt
            .block_on(strata_chain_client::ChainApi::randomness(
                &b.chain,
                RandomnessTag::SealSeed,
                pc + g.constants.seed_delay,
                id,
            ))
            .unwrap();
        for n in 0..SECTORS {
            let ticket = rt
                .block_on(strata_chain_client::ChainApi::sector(&b.chain, id, n))
                .unwrap()
                .ticket;
            let inputs = SealPublicInputs {
                proof_type: 1,
                prover_id: id,
                sector_number: n,
                ticket,
                seed,
                comm_d: zero,
                comm_r: comm_r(n),
            };
            let proof = HashVerifier::proof_for(&PublicData::Porep { inputs });
            b.send(
                o,
                Method::ProveCommit {
                    miner: id,
                    sector_number: n,
                    proofs: vec![proof],
                },
            );
        }
    }
    b.chain.step(1).unwrap();
    b
}

fn bench(c: &mut Criterion) {
    let mut b = populated();
    let mut g = c.benchmark_group("chain 100 miners x 20 sectors");
    g.sample_size(20);
    g.bench_function("apply an empty epoch (cron + commit)", |x| {
        x.iter(|| b.chain.step_one().unwrap())
    });
    let faucet = devnet_faucet();
    let to = KeyPair::from_secret(&[200; 32]).address();
    g.bench_function("accept a transfer message", |x| {
        x.iter(|| {
            b.send(
                &faucet,
                Method::Transfer {
                    to,
                    amount: Token(1),
                },
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
