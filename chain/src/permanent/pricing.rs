//! The endowment's arithmetic, exact in integers (Q64 fixed point, as the block reward):
//!
//! - the cost curve: c(t) = c₀ · (1 − δ_cost)^(t / year), per byte-year;
//! - the perpetual value of storing `b` bytes from `t`: b · c(t) / δ — Σ over every future year
//!   of a cost declining by the assumed Kryder rate δ (Σₖ c·(1−δ)ᵏ = c/δ);
//! - a quote for `r` replicas: endowment E = r · b · c(t) / δ · multiplier; the client pays
//!   E / (1 − s) where s is the upfront share, so the miners get s of the total at once;
//! - the payout of one replica for one proving period: b · c(t) · period / year.

use crate::economics::{exp_neg_q64, mul_div, pow_q64, ONE_Q64};
use strata_chain_client::permanent::PermanentQuote;
use strata_chain_client::types::Epoch;
use strata_chain_client::views::Constants;
use strata_chain_client::Token;

/// −ln(1 − d) in Q64 for `d = bps / 10000 < 1`: Σₖ dᵏ / k.
fn neg_ln_one_minus_q64(bps: u64) -> u128 {
    let d = mul_div(bps as u128, ONE_Q64, 10_000);
    let (mut sum, mut pow) = (0u128, ONE_Q64);
    for k in 1..4096u128 {
        pow = mul_div(pow, d, ONE_Q64);
        let term = pow / k;
        if term == 0 {
            break;
        }
        sum += term;
    }
    sum
}

/// (1 − δ_cost)^(t / year) in Q64: the cost curve's factor at epoch `t` (1 before genesis).
pub fn cost_factor_q64(c: &Constants, t: Epoch) -> u128 {
    let t = t.max(0) as u64;
    let year = c.epochs_per_year() as u128;
    let per_epoch = exp_neg_q64(neg_ln_one_minus_q64(c.permanent.cost_decline_bps) / year);
    pow_q64(per_epoch, t)
}

/// The cost of one byte for one year at epoch `t`.
pub fn price_per_byte_year(c: &Constants, t: Epoch) -> Token {
    Token(mul_div(
        c.permanent.price_per_byte_year.0,
        cost_factor_q64(c, t),
        ONE_Q64,
    ))
}

/// The perpetual value of `bytes` stored from `t`: bytes · c(t) / δ (δ = the assumed rate).
pub fn perpetual_value(c: &Constants, t: Epoch, bytes: u128) -> Token {
    let p = &c.permanent;
    Token(mul_div(
        p.price_per_byte_year
            .0
            .saturating_mul(bytes)
            .saturating_mul(10_000),
        cost_factor_q64(c, t),
        ONE_Q64.saturating_mul(p.kryder_rate_bps.max(1) as u128),
    ))
}

/// What one replica of `bytes` earns for one proving period ending at `t`.
pub fn period_payout(c: &Constants, t: Epoch, bytes: u64) -> Token {
    Token(mul_div(
        c.permanent
            .price_per_byte_year
            .0
            .saturating_mul(bytes as u128)
            .saturating_mul(c.proving_period.max(1) as u128),
        cost_factor_q64(c, t),
        ONE_Q64.saturating_mul(c.epochs_per_year() as u128),
    ))
}

/// The quote for `replicas` replicas of `piece_size` bytes at `t` under `multiplier`.
pub fn quote(
    c: &Constants,
    t: Epoch,
    piece_size: u64,
    replicas: u64,
    multiplier: u64,
) -> PermanentQuote {
    let endowment = perpetual_value(c, t, piece_size as u128 * replicas as u128)
        .0
        .saturating_mul(multiplier.max(1) as u128);
    let (n, d) = c.permanent.upfront_share;
    let total = mul_div(endowment, d as u128, (d - n).max(1) as u128);
    PermanentQuote {
        piece_size,
        replicas,
        price_per_byte_year: price_per_byte_year(c, t),
        multiplier: multiplier.max(1),
        endowment: Token(endowment),
        upfront: Token(total - endowment),
        total: Token(total),
    }
}

/// Years a pool covers paying `per_year_now` a year on a curve declining by `decline_bps` a
/// year: N with Σ over N years = pool, i.e. N = −ln(1 − pool·λ / A) / λ; `None` if the pool
/// covers for ever. For display only (floating point).
pub fn years_covered(pool: Token, per_year_now: Token, decline_bps: u64) -> Option<f64> {
    if per_year_now.is_zero() {
        return None;
    }
    let (pool, a) = (pool.0 as f64, per_year_now.0 as f64);
    if decline_bps == 0 {
        return Some(pool / a);
    }
    let lambda = -(1.0 - decline_bps as f64 / 10_000.0).ln();
    let x = pool * lambda / a;
    if x >= 1.0 {
        None
    } else {
        Some(-(1.0 - x).ln() / lambda)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::devnet_constants;

    /// Relative difference.
    fn rel(a: u128, b: f64) -> f64 {
        (a as f64 - b).abs() / b
    }

    #[test]
    fn the_curve_declines_by_the_rate_each_year() {
        let c = devnet_constants();
        let year = c.epochs_per_year();
        let p0 = c.permanent.price_per_byte_year.0 as f64;
        assert_eq!(price_per_byte_year(&c, 0), c.permanent.price_per_byte_year);
        for years in [1i64, 2, 10, 200] {
            let want = p0 * 0.995f64.powi(years as i32);
            let got = price_per_byte_year(&c, years * year).0;
            // Within one atto of 1e9 (the price is a whole number of atto).
            assert!(rel(got, want) < 3e-9, "{years} years: {got} vs {want}");
        }
        // Half a year: the square root of a year's factor.
        let half = price_per_byte_year(&c, year / 2).0;
        assert!(rel(half, p0 * 0.995f64.sqrt()) < 3e-9);
        // No decline: flat.
        let mut flat = c.clone();
        flat.permanent.cost_decline_bps = 0;
        assert_eq!(
            price_per_byte_year(&flat, 50 * year),
            flat.permanent.price_per_byte_year
        );
    }

    #[test]
    fn the_quote_is_the_perpetual_value_plus_the_upfront_share() {
        let c = devnet_constants();
        let q = quote(&c, 0, 2048, 3, 1);
        // 3 × 2048 B × 1e9 atto / 0.005 = 1.2288e15 into the endowment.
        assert_eq!(q.endowment, Token(3 * 2048 * 1_000_000_000 * 200));
        // The miners get 1/6 of the total: total = E · 6/5.
        assert_eq!(q.total, Token(q.endowment.0 * 6 / 5));
        assert_eq!(q.upfront.0 * 6, q.total.0);
        assert_eq!(q.upfront.0 + q.endowment.0, q.total.0);
        // Arweave 2.6's split and the multiplier.
        let mut a = c.clone();
        a.permanent = strata_chain_client::permanent::PermanentConstants::arweave_2_6();
        let q21 = quote(&a, 0, 2048, 3, 1);
        assert_eq!(q21.total.0, q.endowment.0 * 21 / 20);
        let q2 = quote(&c, 0, 2048, 3, 2);
        assert_eq!(q2.endowment.0, 2 * q.endowment.0);
        // A year later everything costs 0.5% less.
        let later = quote(&c, c.epochs_per_year(), 2048, 3, 1);
        assert!(rel(later.endowment.0, q.endowment.0 as f64 * 0.995) < 1e-9);
    }

    #[test]
    fn the_perpetual_value_covers_every_future_payout() {
        // Σ over periods of the payouts for 1000 years stays below what was paid in, and is
        // what the continuous curve predicts: (1 − 0.995^1000) · δ / −ln(1 − δ) of it (the
        // closed form c/δ sums whole years at their start; the payouts decline within each).
        let c = devnet_constants();
        let year = c.epochs_per_year();
        let paid_in = perpetual_value(&c, 0, 2048).0;
        let mut out = 0u128;
        let mut t = 0;
        while t < 1000 * year {
            t += c.proving_period;
            out += period_payout(&c, t, 2048).0;
        }
        assert!(out < paid_in, "{out} ≥ {paid_in}");
        let lambda = -(0.995f64.ln());
        let want = paid_in as f64 * (1.0 - 0.995f64.powi(1000)) * 0.005 / lambda;
        assert!(rel(out, want) < 1e-3, "{out} vs {want}");
        assert_eq!(
            years_covered(Token(paid_in), Token(2048 * 1_000_000_000), 50),
            None
        );
        let y = years_covered(Token(paid_in / 2), Token(2048 * 1_000_000_000), 50).unwrap();
        assert!((y - 138.8).abs() < 0.5, "{y}");
    }
}
