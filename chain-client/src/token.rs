//! Token amounts: integers of atto units (10^18 atto per token, as Filecoin counts attoFIL) that
//! travel as decimal strings, so no JSON reader ever rounds them through a float. The devnet's
//! token is Strata's own, written `STR` — it is not Filecoin's FIL.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The token's symbol, shown after every amount.
pub const SYMBOL: &str = "STR";

/// Atto units per whole token.
pub const ATTO_PER_TOKEN: u128 = 1_000_000_000_000_000_000;

/// A non-negative amount of tokens, in atto units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token(pub u128);

impl Token {
    /// Zero.
    pub const ZERO: Token = Token(0);

    /// `n` whole tokens.
    pub const fn whole(n: u128) -> Token {
        Token(n * ATTO_PER_TOKEN)
    }

    /// The amount in atto units.
    pub const fn atto(self) -> u128 {
        self.0
    }

    /// Whether the amount is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self + other`, `None` on overflow.
    pub fn checked_add(self, other: Token) -> Option<Token> {
        self.0.checked_add(other.0).map(Token)
    }

    /// `self − other`, `None` if `other` is larger.
    pub fn checked_sub(self, other: Token) -> Option<Token> {
        self.0.checked_sub(other.0).map(Token)
    }

    /// `self − other`, floored at zero.
    pub fn saturating_sub(self, other: Token) -> Token {
        Token(self.0.saturating_sub(other.0))
    }

    /// Formats as a decimal number of whole tokens with the fraction trimmed (`1.5`, `0.000001`).
    pub fn to_decimal_string(self) -> String {
        let whole = self.0 / ATTO_PER_TOKEN;
        let frac = self.0 % ATTO_PER_TOKEN;
        if frac == 0 {
            return whole.to_string();
        }
        let f = format!("{frac:018}");
        format!("{whole}.{}", f.trim_end_matches('0'))
    }

    /// Parses `"12"`, `"0.5"`, `"0.5 STR"` (whole tokens) or `"123atto"`.
    pub fn parse_amount(s: &str) -> Result<Token, String> {
        let s = s.trim();
        if let Some(a) = s.strip_suffix("atto") {
            return a
                .parse()
                .map(Token)
                .map_err(|e| format!("bad amount {s:?}: {e}"));
        }
        let s = s.strip_suffix(SYMBOL).unwrap_or(s).trim();
        let (w, f) = s.split_once('.').unwrap_or((s, ""));
        if w.is_empty() && f.is_empty() || f.len() > 18 || !f.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("bad amount {s:?}"));
        }
        let whole: u128 = if w.is_empty() {
            0
        } else {
            w.parse().map_err(|e| format!("bad amount {s:?}: {e}"))?
        };
        let frac: u128 = if f.is_empty() {
            0
        } else {
            format!("{f:0<18}")
                .parse()
                .map_err(|e| format!("bad amount {s:?}: {e}"))?
        };
        whole
            .checked_mul(ATTO_PER_TOKEN)
            .and_then(|x| x.checked_add(frac))
            .map(Token)
            .ok_or_else(|| format!("amount {s:?} is too large"))
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {SYMBOL}", self.to_decimal_string())
    }
}

impl FromStr for Token {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Token::parse_amount(s)
    }
}

impl std::iter::Sum for Token {
    fn sum<I: Iterator<Item = Token>>(iter: I) -> Token {
        Token(iter.map(|t| t.0).sum())
    }
}

impl Serialize for Token {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Token {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Token, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<u128>()
            .map(Token)
            .map_err(|e| serde::de::Error::custom(format!("token amount {s:?}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format_round_trip() {
        for (s, atto) in [
            ("1", ATTO_PER_TOKEN),
            ("0.5", ATTO_PER_TOKEN / 2),
            ("12.000000000000000001", 12 * ATTO_PER_TOKEN + 1),
            ("7atto", 7),
            ("2 STR", 2 * ATTO_PER_TOKEN),
        ] {
            assert_eq!(Token::parse_amount(s).unwrap(), Token(atto), "{s}");
        }
        assert_eq!(Token(ATTO_PER_TOKEN * 3 / 2).to_decimal_string(), "1.5");
        assert_eq!(Token(1).to_decimal_string(), "0.000000000000000001");
        assert_eq!(Token::whole(3).to_string(), "3 STR");
        for bad in [
            "",
            ".",
            "1.2.3",
            "x",
            "-1",
            "0.0000000000000000001",
            "1 FIL",
        ] {
            assert!(Token::parse_amount(bad).is_err(), "{bad}");
        }
        let j = serde_json::to_string(&Token(u128::MAX)).unwrap();
        assert_eq!(serde_json::from_str::<Token>(&j).unwrap(), Token(u128::MAX));
        assert!(serde_json::from_str::<Token>("\"-5\"").is_err());
    }
}
