//! Genesis: the initial accounts, verified-client DataCap and protocol constants, read from a
//! TOML file or taken from a preset. `mainnet` carries Filecoin's numbers; `devnet` keeps every
//! rule and scales time so a whole proving period passes in a minute (one "day" = 60 epochs of
//! 1 s), which is what the demo and the tests run on.

use serde::{Deserialize, Serialize};
use std::path::Path;
use strata_chain_client::beacon::BeaconSource;
use strata_chain_client::views::Constants;
use strata_chain_client::{Address, KeyPair, Token};
use strata_params::PROOF_TYPES;
use strata_primitives::sizes::SectorSize;
use thiserror::Error;

/// A genesis account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    /// Address.
    pub address: Address,
    /// Starting balance.
    pub balance: Token,
    /// DataCap for verified deals, bytes.
    #[serde(default)]
    pub datacap: u64,
}

/// Everything a chain starts from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// The network's name: part of every signed message and deal proposal, so neither replays
    /// on another network.
    pub network: String,
    /// Where beacon entries come from: the devnet's own key (made at first start, never in the
    /// genesis) or a drand chain.
    #[serde(default = "devnet_beacon")]
    pub beacon: BeaconSource,
    /// The registered proof types (ids) miners may use. The small sizes (2 KiB, 8 MiB, 512 MiB)
    /// have too few PoRep challenges to be sound and belong on devnets only.
    pub allowed_proof_types: Vec<u64>,
    /// Accounts.
    #[serde(default)]
    pub accounts: Vec<GenesisAccount>,
    /// Protocol constants.
    pub constants: Constants,
}

/// A genesis that cannot be used.
#[derive(Debug, Error)]
pub enum GenesisError {
    /// The file could not be read.
    #[error("cannot read genesis file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML does not parse or has unknown fields.
    #[error("genesis file {path} is malformed: {reason}")]
    Malformed {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A value is inconsistent.
    #[error("genesis is invalid: {0}")]
    Invalid(String),
    /// No such preset.
    #[error("unknown preset {0:?} (presets: devnet, mainnet)")]
    UnknownPreset(String),
}

/// The secret of the devnet faucet, published on purpose: anyone may spend devnet tokens.
pub const DEVNET_FAUCET_SECRET: [u8; 32] = *b"strata devnet faucet, not secret";

/// The devnet faucet's key.
pub fn devnet_faucet() -> KeyPair {
    KeyPair::from_secret(&DEVNET_FAUCET_SECRET)
}

fn devnet_beacon() -> BeaconSource {
    BeaconSource::Devnet
}

/// The proof types of sizes that are sound to run a real network on (32 GiB, 64 GiB).
pub fn production_proof_types() -> Vec<u64> {
    PROOF_TYPES
        .iter()
        .filter(|p| p.sector_size.bytes() >= SectorSize::GIB32.bytes())
        .map(|p| p.id)
        .collect()
}

const DAY_MAINNET: i64 = 2880;

/// Filecoin's constants (30 s epochs).
pub fn mainnet_constants() -> Constants {
    scaled(DAY_MAINNET, 30_000, 48, 20, 70, 150, 1)
}

/// The devnet constants: Filecoin's rules with one day = 60 epochs of 1 s.
pub fn devnet_constants() -> Constants {
    let mut c = scaled(60, 1000, 12, 2, 4, 5, 20);
    // Tiny sectors on a tiny network: a baseline of 512 MiB and 100 tokens per epoch keep the
    // proportions of mainnet — pledge (≈1.6 tokens per 2 KiB committed-capacity sector at
    // genesis supply) above 20 days of its reward (≈0.46) above the fault fee (≈0.08) — with
    // readable numbers. The pre-commit deposit is 20 days of reward on the sector's maximum QA
    // power (10×), ≈4.6 per 2 KiB sector, returned at prove-commit.
    c.baseline_power = 512 << 20;
    c.initial_epoch_reward = Token::whole(100);
    c.initial_pledge_max_per_byte = Token(Token::whole(10).0 / 2048);
    // Devnet pieces are KiB, not GiB: a 512-byte recall chunk keeps the proof a real path.
    c.permanent.recall_chunk_bytes = 512;
    c
}

fn scaled(
    day: i64,
    block_time_ms: u64,
    deadlines: u64,
    challenge_lookback: i64,
    fault_cutoff: i64,
    seed_delay: i64,
    winning_post_window: i64,
) -> Constants {
    let proving_period = day;
    Constants {
        block_time_ms,
        epochs_per_day: day,
        proving_period,
        deadlines,
        deadline_window: proving_period / deadlines as i64,
        challenge_lookback,
        fault_cutoff,
        seed_delay,
        // Filecoin: 30 days + the seed delay.
        max_prove_commit: 30 * day + seed_delay,
        // Filecoin: one day plus chain finality (900 epochs ≈ 0.3125 days).
        max_ticket_age: day + day * 5 / 16,
        min_sector_lifetime: 180 * day,
        max_sector_lifetime: 5 * 365 * day,
        fault_max_age_periods: 42,
        winning_post_window,
        precommit_deposit_projection: 20 * day,
        initial_pledge_projection: 20 * day,
        fault_fee_projection: day * 351 / 100,
        lock_target: (3, 10),
        // Filecoin: 1 FIL per 32 GiB of quality-adjusted power.
        initial_pledge_max_per_byte: Token(Token::whole(1).0 / (32u128 << 30)),
        // Filecoin's baseline started at 2.5 EiB.
        baseline_power: 2_882_303_761_517_117_440,
        termination_lifetime_cap: 140 * day,
        reward_vesting_period: 180 * day,
        reward_vesting_step: day,
        // Filecoin's simple minting: 330 M FIL with a 6-year half-life pays about 36 FIL per
        // epoch at the start (330e6 · ln 2 / (6 · 365 · 2880)).
        initial_epoch_reward: Token(36_266_000_000_000_000_000),
        reward_half_life: 6 * 365 * day,
        deal_settle_interval: (day / 12).max(1),
        // Filecoin's market actor: deals last 180 to 1278 days.
        min_deal_duration: 180 * day,
        max_deal_duration: 1278 * day,
        // Filecoin's verified allocations: terms of 180 days to 5 years; the market gives a
        // verified deal term_max = its duration + 90 days.
        min_verified_deal_term: 180 * day,
        max_verified_deal_term: 5 * 365 * day,
        verified_deal_term_buffer: 90 * day,
        permanent: Default::default(),
        // Filecoin's miner policy: PRE_COMMIT_SECTOR_BATCH_MAX_SIZE (before FIP-0100),
        // MAX_AGGREGATED_SECTORS, POSTED_PARTITIONS_MAX — counts, not durations, so unscaled.
        max_precommit_batch: 256,
        max_aggregate_sectors: 819,
        posted_partitions_max: 3,
        // Filecoin: WORKER_KEY_CHANGE_DELAY = chain finality, 900 epochs (5/16 of a day; 18
        // epochs on the devnet, where the proving period is the 60-epoch day).
        worker_key_change_delay: day * 5 / 16,
    }
}

impl Genesis {
    /// A preset: `devnet` funds the published faucet key with 1,000,000 tokens and 1 TiB of
    /// DataCap and allows every registered sector size; `mainnet` has Filecoin's constants, only
    /// the 32 GiB and 64 GiB proof types, and the same faucet (there is no real money).
    pub fn preset(name: &str) -> Result<Genesis, GenesisError> {
        let (constants, allowed_proof_types) = match name {
            "devnet" => (
                devnet_constants(),
                PROOF_TYPES.iter().map(|p| p.id).collect(),
            ),
            "mainnet" => (mainnet_constants(), production_proof_types()),
            other => return Err(GenesisError::UnknownPreset(other.to_string())),
        };
        Ok(Genesis {
            network: format!("strata-{name}"),
            beacon: BeaconSource::Devnet,
            allowed_proof_types,
            accounts: vec![GenesisAccount {
                address: devnet_faucet().address(),
                balance: Token::whole(1_000_000),
                datacap: 1 << 40,
            }],
            constants,
        })
    }

    /// Reads a genesis TOML file and checks it.
    pub fn from_file(path: &Path) -> Result<Genesis, GenesisError> {
        let text = std::fs::read_to_string(path).map_err(|source| GenesisError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let g: Genesis = toml::from_str(&text).map_err(|e| GenesisError::Malformed {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        g.validate()?;
        Ok(g)
    }

    /// The genesis as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("genesis serialises")
    }

    /// Total genesis balances.
    pub fn total(&self) -> Token {
        self.accounts.iter().map(|a| a.balance).sum()
    }

    /// Checks the constants are consistent.
    pub fn validate(&self) -> Result<(), GenesisError> {
        let c = &self.constants;
        let bad = |m: &str| Err(GenesisError::Invalid(m.to_string()));
        if self.network.trim().is_empty() {
            return bad("network must be named");
        }
        if self.allowed_proof_types.is_empty() {
            return bad("allowed_proof_types must list at least one proof type");
        }
        let mut types = std::collections::BTreeSet::new();
        for id in &self.allowed_proof_types {
            strata_params::ProofType::for_id(*id)
                .map_err(|e| GenesisError::Invalid(format!("allowed_proof_types: {e}")))?;
            if !types.insert(*id) {
                return Err(GenesisError::Invalid(format!(
                    "allowed_proof_types lists {id} twice"
                )));
            }
        }
        if let BeaconSource::Drand {
            public_key,
            genesis_time,
            period,
            chain_genesis_time,
        } = &self.beacon
        {
            public_key
                .point()
                .map_err(|e| GenesisError::Invalid(format!("beacon: {e}")))?;
            if *period == 0 || c.block_time_ms < period * 1000 {
                return bad("beacon: the block time must be at least the drand period, so every epoch has its own round");
            }
            if chain_genesis_time < genesis_time {
                return bad("beacon: the chain cannot start before the drand chain's genesis");
            }
        }
        if c.deadlines == 0 || c.proving_period != c.deadlines as i64 * c.deadline_window {
            return bad("proving_period must equal deadlines × deadline_window");
        }
        if c.deadlines < 3 {
            return bad("at least 3 deadlines are needed");
        }
        if c.challenge_lookback < 1 || c.fault_cutoff < c.challenge_lookback {
            return bad("need 1 ≤ challenge_lookback ≤ fault_cutoff");
        }
        if c.fault_cutoff >= c.proving_period - c.deadline_window {
            return bad("fault_cutoff must be shorter than the period minus a window");
        }
        if c.seed_delay < 1 || c.max_prove_commit <= c.seed_delay {
            return bad("need 1 ≤ seed_delay < max_prove_commit");
        }
        if c.baseline_power == 0 || c.lock_target.1 == 0 {
            return bad("baseline_power and lock_target's denominator must be positive");
        }
        if c.reward_half_life < 1 || c.reward_vesting_step < 1 || c.deal_settle_interval < 1 {
            return bad(
                "reward_half_life, reward_vesting_step and deal_settle_interval must be ≥ 1",
            );
        }
        if c.min_sector_lifetime > c.max_sector_lifetime || c.winning_post_window < 1 {
            return bad("min_sector_lifetime ≤ max_sector_lifetime and winning_post_window ≥ 1");
        }
        if c.min_deal_duration < 1 || c.min_deal_duration > c.max_deal_duration {
            return bad("need 1 ≤ min_deal_duration ≤ max_deal_duration");
        }
        if c.min_verified_deal_term < 1
            || c.min_verified_deal_term > c.max_verified_deal_term
            || c.verified_deal_term_buffer < 0
        {
            return bad(
                "need 1 ≤ min_verified_deal_term ≤ max_verified_deal_term and \
                 verified_deal_term_buffer ≥ 0",
            );
        }
        if c.max_precommit_batch < 1 || c.max_aggregate_sectors < 1 || c.posted_partitions_max < 1 {
            return bad(
                "max_precommit_batch, max_aggregate_sectors and posted_partitions_max must be ≥ 1",
            );
        }
        if c.worker_key_change_delay < 0 {
            return bad("worker_key_change_delay must be ≥ 0 (0: chain finality, 5/16 of a day)");
        }
        c.permanent.check().map_err(GenesisError::Invalid)?;
        let mut seen = std::collections::BTreeSet::new();
        for a in &self.accounts {
            if !seen.insert(a.address) {
                return Err(GenesisError::Invalid(format!(
                    "account {} listed twice",
                    a.address
                )));
            }
        }
        self.accounts
            .iter()
            .try_fold(0u128, |acc, a| acc.checked_add(a.balance.0))
            .ok_or_else(|| GenesisError::Invalid("balances overflow".into()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_mainnet_has_filecoins_numbers() {
        let m = Genesis::preset("mainnet").unwrap();
        m.validate().unwrap();
        let c = &m.constants;
        assert_eq!(
            (c.block_time_ms, c.proving_period, c.deadlines),
            (30_000, 2880, 48)
        );
        assert_eq!(
            (c.deadline_window, c.challenge_lookback, c.fault_cutoff),
            (60, 20, 70)
        );
        assert_eq!((c.seed_delay, c.fault_max_age_periods), (150, 42));
        assert_eq!(c.fault_fee_projection, 10_108); // 3.51 days
        assert_eq!(c.max_ticket_age, 2880 + 900);
        assert_eq!(
            (
                c.max_precommit_batch,
                c.max_aggregate_sectors,
                c.posted_partitions_max
            ),
            (256, 819, 3)
        );
        assert_eq!(c.worker_key_change_delay, 900);
        assert_eq!(c.key_change_delay(), 900);
        assert_eq!(
            (c.min_deal_duration, c.max_deal_duration),
            (180 * 2880, 1278 * 2880)
        );
        assert_eq!(
            (
                c.min_verified_deal_term,
                c.max_verified_deal_term,
                c.verified_deal_term_buffer
            ),
            (180 * 2880, 1825 * 2880, 90 * 2880)
        );
        let d = Genesis::preset("devnet").unwrap();
        d.validate().unwrap();
        assert_eq!(
            d.constants.proving_period * d.constants.block_time_ms as i64,
            60_000
        );
        assert!(Genesis::preset("testnet").is_err());
        // Network policy: mainnet allows only the sound sizes.
        assert_eq!(m.allowed_proof_types, vec![4, 5]);
        assert_eq!(d.allowed_proof_types, vec![1, 2, 3, 4, 5]);
        // Deal and verified-term bounds must be ordered.
        for bad in [
            |c: &mut Constants| c.min_deal_duration = c.max_deal_duration + 1,
            |c: &mut Constants| c.min_deal_duration = 0,
            |c: &mut Constants| c.min_verified_deal_term = c.max_verified_deal_term + 1,
            |c: &mut Constants| c.verified_deal_term_buffer = -1,
        ] {
            let mut g = Genesis::preset("devnet").unwrap();
            bad(&mut g.constants);
            assert!(matches!(g.validate(), Err(GenesisError::Invalid(_))));
        }
    }

    #[test]
    fn proof_type_lists_and_drand_beacons_are_checked() {
        let mut g = Genesis::preset("devnet").unwrap();
        g.allowed_proof_types = vec![];
        assert!(matches!(g.validate(), Err(GenesisError::Invalid(_))));
        g.allowed_proof_types = vec![1, 1];
        assert!(matches!(g.validate(), Err(GenesisError::Invalid(m)) if m.contains("twice")));
        g.allowed_proof_types = vec![99];
        assert!(matches!(g.validate(), Err(GenesisError::Invalid(_))));
        g.allowed_proof_types = vec![1];
        g.validate().unwrap();
        let pk = strata_chain_client::beacon::BeaconSecretKey::from_wide(&[1; 64]).public_key();
        g.beacon = BeaconSource::Drand {
            public_key: pk,
            genesis_time: 100,
            period: 3,
            chain_genesis_time: 100,
        };
        // 1 s epochs would share 3 s rounds.
        assert!(
            matches!(g.validate(), Err(GenesisError::Invalid(m)) if m.contains("drand period"))
        );
        g.constants.block_time_ms = 3000;
        g.validate().unwrap();
        let text = g.to_toml();
        assert!(text.contains("kind = \"drand\""), "{text}");
        assert_eq!(toml::from_str::<Genesis>(&text).unwrap(), g);
    }

    #[test]
    fn toml_round_trip_and_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let g = Genesis::preset("devnet").unwrap();
        let p = dir.path().join("genesis.toml");
        std::fs::write(&p, g.to_toml()).unwrap();
        assert_eq!(Genesis::from_file(&p).unwrap(), g);
        std::fs::write(&p, g.to_toml().replace("deadlines = 12", "deadlines = 7")).unwrap();
        assert!(matches!(
            Genesis::from_file(&p),
            Err(GenesisError::Invalid(_))
        ));
        // A genesis written before the onboarding constants existed still loads, with
        // Filecoin's counts and chain finality at its scale as the key change delay.
        let old: String = g
            .to_toml()
            .lines()
            .filter(|l| {
                ![
                    "max_precommit_batch",
                    "max_aggregate_sectors",
                    "posted_partitions_max",
                    "worker_key_change_delay",
                ]
                .iter()
                .any(|k| l.starts_with(k))
            })
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&p, &old).unwrap();
        let back = Genesis::from_file(&p).unwrap();
        let c = &back.constants;
        assert_eq!(
            (
                c.max_precommit_batch,
                c.max_aggregate_sectors,
                c.posted_partitions_max
            ),
            (256, 819, 3)
        );
        assert_eq!(c.worker_key_change_delay, 0);
        assert_eq!(c.key_change_delay(), g.constants.worker_key_change_delay);
        std::fs::write(&p, "network = \"x\"\nbogus = 1\n").unwrap();
        assert!(matches!(
            Genesis::from_file(&p),
            Err(GenesisError::Malformed { .. })
        ));
        assert!(matches!(
            Genesis::from_file(&dir.path().join("none.toml")),
            Err(GenesisError::Read { .. })
        ));
    }
}
