//! Human-readable figures: bytes in binary units, token amounts, shares.

/// Atto units per whole token.
const ATTO: u128 = 1_000_000_000_000_000_000;

/// Bytes in binary units with three significant decimals at most (`2 KiB`, `1.5 GiB`, `0 B`).
pub fn bytes(n: u128) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut unit = 0;
    let mut whole = n;
    while whole >= 1024 && unit + 1 < UNITS.len() {
        whole /= 1024;
        unit += 1;
    }
    if unit == 0 {
        return format!("{n} B");
    }
    let v = n as f64 / 1024f64.powi(unit as i32);
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s} {}", UNITS[unit])
}

/// A token amount given in atto, as whole tokens rounded to 6 decimals, trailing zeros trimmed,
/// with the symbol (`12.5 STR`); amounts below a micro-token show as `< 0.000001 STR`.
pub fn tokens(atto: u128) -> String {
    if atto > 0 && atto < ATTO / 1_000_000 {
        return "< 0.000001 STR".into();
    }
    let micro = (atto + ATTO / 2_000_000) / (ATTO / 1_000_000);
    let (w, f) = (micro / 1_000_000, micro % 1_000_000);
    if f == 0 {
        return format!("{w} STR");
    }
    let f = format!("{f:06}");
    format!("{w}.{} STR", f.trim_end_matches('0'))
}

/// A share in parts per million as a percentage with two decimals (`12.34 %`).
pub fn percent_ppm(ppm: u64) -> String {
    format!("{}.{:02} %", ppm / 10_000, (ppm % 10_000) / 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_pick_the_largest_unit() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(2048), "2 KiB");
        assert_eq!(bytes(3 << 29), "1.5 GiB");
        assert_eq!(bytes(5 << 60), "5 EiB");
        assert_eq!(bytes(1 << 70), "1024 EiB");
    }

    #[test]
    fn tokens_round_to_micro() {
        assert_eq!(tokens(0), "0 STR");
        assert_eq!(tokens(ATTO), "1 STR");
        assert_eq!(tokens(ATTO * 25 / 2), "12.5 STR");
        assert_eq!(tokens(1), "< 0.000001 STR");
        assert_eq!(tokens(ATTO / 1_000_000), "0.000001 STR");
        assert_eq!(tokens(ATTO - 1), "1 STR");
    }

    #[test]
    fn percent_of_ppm() {
        assert_eq!(percent_ppm(0), "0.00 %");
        assert_eq!(percent_ppm(123_456), "12.34 %");
        assert_eq!(percent_ppm(1_000_000), "100.00 %");
    }
}
