//! Filecoin's money formulas (the miner actor's "monies"), in exact integer arithmetic:
//!
//! - BR(t): expected block reward of a sector over `t` epochs
//!   = epoch_reward · t · sector_qa / max(network_qa, baseline);
//! - pre-commit deposit = BR(20 days) of the sector's maximum QA power (10 × its size, as if
//!   all of it were verified);
//! - initial pledge = BR(20 days) + lock_target · circulating · sector_qa / max(network_qa,
//!   baseline), capped at `initial_pledge_max_per_byte · sector_qa`;
//! - fault fee = BR(3.51 days);
//! - termination fee (FIP-0098) = max(min(8.5% · IP, 8.5% · IP · age / 140 days),
//!   2% · IP, 105% · fault fee);
//! - block reward of epoch e = R₀ · 2^(−e / half_life), in Q64 fixed point;
//! - minimum provider collateral of a deal = 1% · circulating · deal_qa / max(baseline,
//!   network_raw).
//!
//! Where Filecoin uses smoothed (alpha-beta filtered) estimates of reward and power we use the
//! current values: a devnet has no noisy history to smooth.

use ethnum::U256;
use strata_chain_client::types::Epoch;
use strata_chain_client::views::Constants;
use strata_chain_client::Token;

/// `a · b / d`, exact in 256 bits, saturating at `u128::MAX`.
pub fn mul_div(a: u128, b: u128, d: u128) -> u128 {
    let r = U256::from(a) * U256::from(b) / U256::from(d.max(1));
    if r > U256::from(u128::MAX) {
        u128::MAX
    } else {
        r.as_u128()
    }
}

pub(crate) const ONE_Q64: u128 = 1 << 64;
/// ln 2 · 2^64.
const LN2_Q64: u128 = 0xB172_17F7_D1CF_79AB;

/// e^(−x) for `x` in Q64 (x < 1), by its Taylor series in integers.
pub(crate) fn exp_neg_q64(x: u128) -> u128 {
    let mut sum = ONE_Q64 as i128;
    let mut term = ONE_Q64;
    for k in 1..40u128 {
        term = term * x / ONE_Q64 / k;
        if term == 0 {
            break;
        }
        if k % 2 == 1 {
            sum -= term as i128;
        } else {
            sum += term as i128;
        }
    }
    sum as u128
}

/// `f^k` in Q64 for `f < 1` (Q64), by squaring.
pub(crate) fn pow_q64(mut f: u128, mut k: u64) -> u128 {
    let mut acc = ONE_Q64;
    while k > 0 {
        if k & 1 == 1 {
            acc = mul_div(acc, f, ONE_Q64);
        }
        f = mul_div(f, f, ONE_Q64);
        k >>= 1;
    }
    acc
}

/// The block reward minted for epoch `e`: R₀ halves every `reward_half_life` epochs.
pub fn epoch_reward(c: &Constants, e: Epoch) -> Token {
    let e = e.max(0) as u64;
    let h = c.reward_half_life.max(1) as u64;
    let halvings = e / h;
    if halvings >= 128 {
        return Token::ZERO;
    }
    let per_epoch = exp_neg_q64(LN2_Q64 / h as u128);
    let frac = pow_q64(per_epoch, e % h);
    Token(mul_div(c.initial_epoch_reward.0 >> halvings, frac, ONE_Q64))
}

/// Network power as the formulas see it: never below the baseline.
fn effective_network(c: &Constants, network_qa: u128) -> u128 {
    network_qa.max(c.baseline_power as u128)
}

/// BR(t): the reward a sector of `qa` power is expected to earn over `projection` epochs.
pub fn expected_reward(
    c: &Constants,
    now: Epoch,
    network_qa: u128,
    qa: u128,
    projection: i64,
) -> Token {
    let per_epoch = epoch_reward(c, now).0;
    Token(mul_div(
        per_epoch.saturating_mul(projection.max(0) as u128),
        qa,
        effective_network(c, network_qa),
    ))
}

/// The pre-commit deposit: BR(20 days) of `qa` — the caller passes the sector's maximum QA power
/// (10 × its size), since what counts as verified is only known at prove-commit.
pub fn precommit_deposit(c: &Constants, now: Epoch, network_qa: u128, qa: u128) -> Token {
    expected_reward(c, now, network_qa, qa, c.precommit_deposit_projection)
}

/// The initial pledge: storage pledge + consensus pledge, capped per byte.
pub fn initial_pledge(
    c: &Constants,
    now: Epoch,
    network_qa: u128,
    circulating: Token,
    qa: u128,
) -> Token {
    let storage = expected_reward(c, now, network_qa, qa, c.initial_pledge_projection).0;
    let lock_target = mul_div(
        circulating.0,
        c.lock_target.0 as u128,
        c.lock_target.1 as u128,
    );
    let consensus = mul_div(lock_target, qa, effective_network(c, network_qa));
    let cap = c.initial_pledge_max_per_byte.0.saturating_mul(qa);
    Token(storage.saturating_add(consensus).min(cap))
}

/// The continued-fault fee of a sector: BR(3.51 days).
pub fn fault_fee(c: &Constants, now: Epoch, network_qa: u128, qa: u128) -> Token {
    expected_reward(c, now, network_qa, qa, c.fault_fee_projection)
}

/// FIP-0098 termination fee for a sector of `age` epochs with `pledge` and `fault_fee`.
pub fn termination_fee(c: &Constants, pledge: Token, age: i64, fault_fee: Token) -> Token {
    let simple = pledge.0 * 85 / 1000;
    let aged = mul_div(
        age.max(0) as u128,
        simple,
        c.termination_lifetime_cap.max(1) as u128,
    );
    let base = simple.min(aged);
    let floor_abs = pledge.0 * 2 / 100;
    let floor_ff = fault_fee.0 * 105 / 100;
    Token(base.max(floor_abs).max(floor_ff))
}

/// Share of the circulating supply that providers' deal collateral targets (Filecoin: 1%).
pub const PROVIDER_COLLATERAL_SUPPLY_SHARE: (u128, u128) = (1, 100);

/// The least provider collateral a deal may lock (Filecoin's market actor): 1% of the
/// circulating supply, scaled by the deal's share of the network — its quality-adjusted power
/// (the piece size, 10× if verified) over max(baseline power, network raw power):
///
/// `min = ⌊circulating · 1 · deal_qa / (100 · max(baseline, network_raw))⌋`.
///
/// A provider that fails the deal loses this much at least; with the network below the baseline
/// the baseline sets the scale, so a young network does not make collateral nearly free.
pub fn min_provider_collateral(
    c: &Constants,
    circulating: Token,
    network_raw: u128,
    deal_qa: u128,
) -> Token {
    let (num, den) = PROVIDER_COLLATERAL_SUPPLY_SHARE;
    let scale = network_raw.max(c.baseline_power as u128).max(1);
    Token(mul_div(
        mul_div(circulating.0, num, 1),
        deal_qa,
        scale.saturating_mul(den),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{devnet_constants, mainnet_constants};

    #[test]
    fn reward_halves_every_half_life() {
        let c = mainnet_constants();
        let r0 = epoch_reward(&c, 0).0;
        assert_eq!(r0, c.initial_epoch_reward.0);
        let h = c.reward_half_life;
        for (e, expect) in [
            (h, r0 / 2),
            (2 * h, r0 / 4),
            (h / 2, (r0 as f64 / 2f64.sqrt()) as u128),
        ] {
            let got = epoch_reward(&c, e).0;
            let err = (got as f64 - expect as f64).abs() / expect as f64;
            assert!(err < 1e-9, "epoch {e}: {got} vs {expect}");
        }
        let mut prev = r0;
        for e in (1..1000).map(|k| k * 997) {
            let r = epoch_reward(&c, e).0;
            assert!(r <= prev, "reward must not grow");
            prev = r;
        }
        // Filecoin quotes about 36 FIL per epoch at launch for simple minting.
        assert_eq!(r0 / 10u128.pow(18), 36);
    }

    #[test]
    fn deposit_pledge_and_fees_follow_the_formulas() {
        let c = mainnet_constants();
        let qa = 32u128 << 30;
        let net = 10 * c.baseline_power as u128;
        let br_day = expected_reward(&c, 0, net, qa, c.epochs_per_day);
        let dep = precommit_deposit(&c, 0, net, qa);
        assert!((dep.0 as i128 - 20 * br_day.0 as i128).abs() <= 20);
        let ff = fault_fee(&c, 0, net, qa);
        assert!((ff.0 as f64 / br_day.0 as f64 - 3.51).abs() < 1e-3);
        // The cap binds when circulating supply is huge.
        let ip = initial_pledge(&c, 0, net, Token::whole(1 << 60), qa);
        assert_eq!(ip.0, c.initial_pledge_max_per_byte.0 * qa);
        // Without the cap: storage + consensus.
        let circ = Token::whole(1000);
        let ip = initial_pledge(&c, 0, net, circ, qa);
        let consensus = circ.0 * 3 / 10 * qa / net;
        assert!((ip.0 as i128 - (20 * br_day.0 + consensus) as i128).abs() <= 40);
        // Network power below the baseline counts as the baseline.
        assert_eq!(
            expected_reward(&c, 0, 0, qa, 10),
            expected_reward(&c, 0, c.baseline_power as u128, qa, 10)
        );
    }

    #[test]
    fn minimum_provider_collateral_is_one_percent_of_supply_by_power_share() {
        let c = devnet_constants(); // baseline 512 MiB
        let circ = Token::whole(1_000_000);
        // Network below the baseline: 1% · 10^6 tokens · 2048 / 2^29 = 0.03814697265625 tokens.
        assert_eq!(
            min_provider_collateral(&c, circ, 0, 2048),
            Token(38_146_972_656_250_000)
        );
        // A verified 2 KiB deal counts 10×.
        assert_eq!(
            min_provider_collateral(&c, circ, 1 << 20, 10 * 2048),
            Token(381_469_726_562_500_000)
        );
        // Network above the baseline (1 GiB raw): half the share.
        assert_eq!(
            min_provider_collateral(&c, circ, 1 << 30, 2048),
            Token(19_073_486_328_125_000)
        );
        // Rounded down: 1% · 7 atto · 3 / 2^29 is less than one atto.
        assert_eq!(min_provider_collateral(&c, Token(7), 0, 3), Token::ZERO);
    }

    #[test]
    fn termination_fee_fip_0098() {
        let c = devnet_constants();
        let ip = Token(1_000_000_000);
        let cap = c.termination_lifetime_cap;
        // Old sectors: 8.5% of pledge.
        assert_eq!(termination_fee(&c, ip, cap * 2, Token::ZERO).0, 85_000_000);
        // Half the cap: half of that, still above the 2% floor.
        assert_eq!(termination_fee(&c, ip, cap / 2, Token::ZERO).0, 42_500_000);
        // Brand new: the 2% floor.
        assert_eq!(termination_fee(&c, ip, 0, Token::ZERO).0, 20_000_000);
        // A large fault fee sets the floor at 105% of it.
        assert_eq!(
            termination_fee(&c, ip, cap * 2, Token(100_000_000)).0,
            105_000_000
        );
    }
}
