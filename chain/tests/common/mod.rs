//! Helpers for chain tests: a devnet in a temporary directory, funded keys, message sending.
#![allow(dead_code)]

use std::future::Future;
use strata_chain::config::{devnet_faucet, Genesis};
use strata_chain::{Chain, HashVerifier, ProofVerifier};
use strata_chain_client::types::{Method, MinerId};
use strata_chain_client::{ChainApi, ChainError, KeyPair, Message, Token};
use strata_primitives::node::Node;

/// Runs a future to completion.
pub fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Devnet rules with short lifetimes (sectors, deals) so expiry and fault ageing happen within a
/// test.
pub fn test_genesis() -> Genesis {
    let mut g = Genesis::preset("devnet").unwrap();
    g.constants.min_sector_lifetime = 120;
    g.constants.fault_max_age_periods = 3;
    g.constants.max_prove_commit = 30;
    g.constants.deal_settle_interval = 5;
    g.constants.min_deal_duration = 100;
    g.constants.min_verified_deal_term = 100;
    g
}

/// A devnet in a temporary directory.
pub struct Net {
    pub dir: tempfile::TempDir,
    pub chain: Chain,
    pub genesis: Genesis,
    pub faucet: KeyPair,
}

impl Net {
    /// A new devnet with `verifier`.
    pub fn new(genesis: Genesis, verifier: Box<dyn ProofVerifier>) -> Net {
        let dir = tempfile::tempdir().unwrap();
        let chain = Chain::open(dir.path(), genesis.clone(), verifier, true).unwrap();
        Net {
            dir,
            chain,
            genesis,
            faucet: devnet_faucet(),
        }
    }

    /// A new devnet whose beacon is signed by `key` (so two runs draw the same randomness).
    pub fn with_beacon_key(
        genesis: Genesis,
        verifier: Box<dyn ProofVerifier>,
        key: &strata_chain_client::beacon::BeaconSecretKey,
    ) -> Net {
        let dir = tempfile::tempdir().unwrap();
        strata_chain::beacon::write_new_key(&dir.path().join(strata_chain::beacon::KEY_FILE), key)
            .unwrap();
        let chain = Chain::open(dir.path(), genesis.clone(), verifier, true).unwrap();
        Net {
            dir,
            chain,
            genesis,
            faucet: devnet_faucet(),
        }
    }

    /// A new devnet checking proofs with the hash test double.
    pub fn hashed() -> Net {
        Net::new(test_genesis(), Box::new(HashVerifier))
    }

    /// Closes and reopens the chain from its database.
    pub fn reopen(self, verifier: Box<dyn ProofVerifier>) -> Net {
        let Net {
            dir,
            chain,
            genesis,
            faucet,
        } = self;
        drop(chain);
        let chain = Chain::open(dir.path(), genesis.clone(), verifier, true).unwrap();
        Net {
            dir,
            chain,
            genesis,
            faucet,
        }
    }

    /// Signs `call` from `key` with its next nonce and submits it.
    pub fn send(&self, key: &KeyPair, call: Method) -> Result<String, ChainError> {
        let nonce = block_on(self.chain.account(key.address())).unwrap().nonce;
        let m = Message {
            network: self.genesis.network.clone(),
            from: key.address(),
            nonce,
            call,
        }
        .sign(key)
        .unwrap();
        self.chain.submit_message(m)
    }

    /// Applies `n` epochs (every epoch checks the supply invariant before it commits).
    pub fn step(&self, n: u64) {
        self.chain.step(n).unwrap();
        self.chain.state().check_invariants().unwrap();
    }

    /// Steps until the head is `epoch`.
    pub fn step_to(&self, epoch: i64) {
        let head = self.chain.head_now().epoch;
        assert!(epoch >= head, "head {head} is past {epoch}");
        self.step((epoch - head) as u64);
    }

    /// The head epoch.
    pub fn head(&self) -> i64 {
        self.chain.head_now().epoch
    }

    /// A new key funded with `whole` tokens from the faucet.
    pub fn funded(&self, seed: u8, whole: u128) -> KeyPair {
        let k = KeyPair::from_secret(&[seed; 32]);
        self.send(
            &self.faucet,
            Method::Transfer {
                to: k.address(),
                amount: Token::whole(whole),
            },
        )
        .unwrap();
        k
    }

    /// Creates a 2 KiB miner owned (and worked) by `owner`, with `balance` whole tokens available.
    pub fn miner(&self, owner: &KeyPair, balance: u128) -> MinerId {
        let id = self
            .chain
            .state()
            .next_miner_id
            .max(self.pending_next_miner());
        self.send(
            owner,
            Method::CreateMiner {
                worker: owner.address(),
                proof_type: 1,
                deal_endpoint: String::new(),
            },
        )
        .unwrap();
        self.send(
            owner,
            Method::AddMinerBalance {
                miner: id,
                amount: Token::whole(balance),
            },
        )
        .unwrap();
        id
    }

    fn pending_next_miner(&self) -> MinerId {
        block_on(self.chain.miners())
            .unwrap()
            .last()
            .map(|m| m + 1)
            .unwrap_or(1000)
    }

    /// Randomness from the chain.
    pub fn rand(&self, tag: strata_chain_client::RandomnessTag, epoch: i64, entropy: u64) -> Node {
        block_on(self.chain.randomness(tag, epoch, entropy)).unwrap()
    }
}

/// CommD of an all-zero 2 KiB sector.
pub fn zero_comm_d() -> Node {
    strata_sealer::pieces::zero_root(6)
}

use strata_chain_client::types::RandomnessTag;
use strata_chain_client::views::{DeadlineTiming, SectorStatus};
use strata_prover::proof_file::PublicData;
use strata_prover::vanilla::porep::SealPublicInputs;
use strata_prover::vanilla::post::PostSector;

/// A made-up CommR for hash-verified tests (a canonical field element).
pub fn fake_comm_r(n: u64) -> Node {
    let mut r = *blake3::hash(&n.to_le_bytes()).as_bytes();
    r[31] &= 0x3f;
    r
}

impl Net {
    /// Pre-commits committed-capacity sector `n` (expiring `life` epochs after the pre-commit)
    /// and applies the epoch.
    pub fn precommit_cc(&self, key: &KeyPair, id: MinerId, n: u64, life: i64) {
        let head = self.head();
        self.send(
            key,
            Method::PreCommit {
                miner: id,
                sector_number: n,
                comm_r: fake_comm_r(n),
                comm_d: zero_comm_d(),
                ticket_epoch: head,
                expiration: head + 1 + life,
                deals: vec![],
            },
        )
        .unwrap();
        self.step(1);
    }

    /// The hash-verifier seal proof of a pre-committed sector.
    pub fn hash_seal_proof(&self, id: MinerId, n: u64) -> String {
        let s = block_on(self.chain.sector(id, n)).unwrap();
        let inputs = SealPublicInputs {
            proof_type: 1,
            prover_id: id,
            sector_number: n,
            ticket: s.ticket,
            seed: self.rand(RandomnessTag::SealSeed, s.seed_epoch, id),
            comm_d: s.comm_d,
            comm_r: s.comm_r,
        };
        HashVerifier::proof_for(&PublicData::Porep { inputs })
    }

    /// Steps past the seed and prove-commits with the hash verifier's proof.
    pub fn prove_commit_hashed(&self, key: &KeyPair, id: MinerId, n: u64) {
        let s = block_on(self.chain.sector(id, n)).unwrap();
        if self.head() < s.seed_epoch {
            self.step_to(s.seed_epoch);
        }
        let proof = self.hash_seal_proof(id, n);
        self.send(
            key,
            Method::ProveCommit {
                miner: id,
                sector_number: n,
                proofs: vec![proof],
            },
        )
        .unwrap();
        self.step(1);
        assert_eq!(
            block_on(self.chain.sector(id, n)).unwrap().status,
            SectorStatus::Active
        );
    }

    /// Steps until deadline `dl` of miner `id` is open for the next message; returns its timing.
    pub fn step_into_deadline(&self, id: MinerId, dl: u64) -> DeadlineTiming {
        loop {
            let t = block_on(self.chain.miner(id)).unwrap().current_deadline;
            let next = self.head() + 1;
            if t.index == dl && next >= t.open && next < t.close {
                return t;
            }
            self.step(1);
        }
    }

    /// The hash-verifier WindowPoSt of a partition (the sectors the chain expects, minus `skipped`).
    pub fn hash_window_proof(
        &self,
        id: MinerId,
        dl: u64,
        part: u64,
        skipped: &[u64],
    ) -> Option<String> {
        let d = &block_on(self.chain.deadlines(id)).unwrap()[dl as usize];
        let p = &d.partitions[part as usize];
        let proving: Vec<PostSector> = p
            .sectors
            .iter()
            .filter(|n| !skipped.contains(n) && !p.faulty.contains(n))
            .map(|n| PostSector {
                sector_number: *n,
                comm_r: block_on(self.chain.sector(id, *n)).unwrap().comm_r,
            })
            .collect();
        if proving.is_empty() {
            return None;
        }
        let mut padded = proving.clone();
        while padded.len() < 2 {
            padded.push(*proving.last().unwrap());
        }
        let randomness = self.rand(RandomnessTag::WindowPost, d.timing.challenge, id);
        Some(HashVerifier::proof_for(&PublicData::Window {
            randomness,
            partitions: vec![padded],
            faulty: vec![],
        }))
    }

    /// Proves every partition of deadline `dl` in its window (hash verifier), skipping `skipped`,
    /// and applies that epoch; returns the window's timing. A partition left with nothing to
    /// prove gets no post (the chain refuses one that proves no sector).
    pub fn post_in_window(
        &self,
        key: &KeyPair,
        id: MinerId,
        dl: u64,
        skipped: &[u64],
    ) -> DeadlineTiming {
        let t = self.step_into_deadline(id, dl);
        let parts = block_on(self.chain.deadlines(id)).unwrap()[dl as usize]
            .partitions
            .len();
        for part in 0..parts as u64 {
            let proof = self.hash_window_proof(id, dl, part, skipped);
            if proof.is_none() {
                // Nothing to prove: the chain refuses such a post, the partition goes unproven.
                continue;
            }
            self.send(
                key,
                Method::SubmitWindowPost {
                    miner: id,
                    deadline: dl,
                    partition: part,
                    skipped: skipped.to_vec(),
                    proof,
                },
            )
            .unwrap();
        }
        self.step(1);
        t
    }

    /// [`Net::post_in_window`], then steps until the window has closed.
    pub fn post_deadline(&self, key: &KeyPair, id: MinerId, dl: u64, skipped: &[u64]) {
        let t = self.post_in_window(key, id, dl, skipped);
        self.step_to(t.close.max(self.head()));
    }

    /// Proves every deadline that has sectors and opens before `until`, in time order (each one
    /// until its window closes, so the head may end past `until`); deadlines in `missed` are left
    /// unproven.
    pub fn prove_until(&self, key: &KeyPair, id: MinerId, until: i64, missed: &[u64]) {
        self.prove_all_until(&[(key, id)], until, missed)
    }

    /// [`Net::prove_until`] for several miners (`missed` applies to all).
    pub fn prove_all_until(&self, miners: &[(&KeyPair, MinerId)], until: i64, missed: &[u64]) {
        loop {
            let Some((next, key, id)) = miners
                .iter()
                .flat_map(|(key, id)| {
                    block_on(self.chain.deadlines(*id))
                        .unwrap()
                        .into_iter()
                        .filter(|d| {
                            d.partitions
                                .iter()
                                .any(|p| !p.sectors.is_empty() && !p.proven)
                        })
                        .map(move |d| (d.timing, *key, *id))
                })
                .min_by_key(|(t, _, id)| (t.open, *id))
            else {
                // Every deadline is proven for its open window: wait for the next.
                if self.head() >= until {
                    return;
                }
                self.step(1);
                continue;
            };
            if next.open >= until {
                self.step_to(until.max(self.head()));
                return;
            }
            if missed.contains(&next.index) {
                self.step_to(next.close);
            } else {
                self.post_in_window(key, id, next.index, &[]);
            }
        }
    }

    /// The deadline a sector was assigned to.
    pub fn deadline_of(&self, id: MinerId, n: u64) -> u64 {
        block_on(self.chain.sector(id, n))
            .unwrap()
            .location
            .unwrap()
            .0
    }

    /// Epochs at which events with `why` starting with `prefix` happened for `who` (one per charge,
    /// however many pots paid it).
    pub fn charge_epochs(&self, who: &str, prefix: &str) -> Vec<i64> {
        let mut e: Vec<i64> = self.events(who, prefix).iter().map(|e| e.epoch).collect();
        e.dedup();
        e
    }

    /// Events with `why` starting with `prefix`, for `who`.
    pub fn events(&self, who: &str, prefix: &str) -> Vec<strata_chain_client::views::Event> {
        block_on(self.chain.events(strata_chain_client::views::EventFilter {
            who: Some(who.to_string()),
            ..Default::default()
        }))
        .unwrap()
        .into_iter()
        .filter(|e| e.why.starts_with(prefix))
        .collect()
    }
}
