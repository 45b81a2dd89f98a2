//! Keys and addresses. An address is the first 20 bytes of BLAKE3 of the ed25519 public key,
//! written `s1` + 40 hex characters.

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// An account address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// The address of an ed25519 public key.
    pub fn of_public_key(pk: &[u8; 32]) -> Self {
        let h = blake3::hash(pk);
        Address(h.as_bytes()[..20].try_into().expect("20 bytes"))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s1{}", hex::encode(self.0))
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A string that is not an address.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not an address (expected s1 followed by 40 hex characters)")]
pub struct BadAddress(pub String);

impl FromStr for Address {
    type Err = BadAddress;
    fn from_str(s: &str) -> Result<Self, BadAddress> {
        let bad = || BadAddress(s.to_string());
        let hex_part = s.strip_prefix("s1").ok_or_else(bad)?;
        let bytes = hex::decode(hex_part).map_err(|_| bad())?;
        Ok(Address(bytes.try_into().map_err(|_| bad())?))
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// An ed25519 key pair.
#[derive(Clone)]
pub struct KeyPair {
    signing: SigningKey,
}

impl KeyPair {
    /// A new key from the operating system's randomness.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)?;
        Ok(Self::from_secret(&secret))
    }

    /// The key with this 32-byte secret.
    pub fn from_secret(secret: &[u8; 32]) -> Self {
        KeyPair {
            signing: SigningKey::from_bytes(secret),
        }
    }

    /// The 32-byte secret (for the keystore only).
    pub fn secret(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    /// The public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// The address.
    pub fn address(&self) -> Address {
        Address::of_public_key(&self.public_key())
    }

    /// Signs `bytes`.
    pub fn sign(&self, bytes: &[u8]) -> [u8; 64] {
        self.signing.sign(bytes).to_bytes()
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyPair({})", self.address())
    }
}

/// True if `signature` is `public_key`'s strict ed25519 signature of `bytes`.
pub fn verify(public_key: &[u8; 32], bytes: &[u8], signature: &[u8; 64]) -> bool {
    let Ok(vk) = VerifyingKey::from_bytes(public_key) else {
        return false;
    };
    vk.verify_strict(bytes, &ed25519_dalek::Signature::from_bytes(signature))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_and_reject_garbage() {
        let k = KeyPair::from_secret(&[7; 32]);
        let a = k.address();
        assert_eq!(a.to_string().len(), 42);
        assert_eq!(a.to_string().parse::<Address>().unwrap(), a);
        assert_eq!(
            serde_json::from_str::<Address>(&serde_json::to_string(&a).unwrap()).unwrap(),
            a
        );
        for bad in [
            "",
            "s1",
            "x1aaaa",
            "s1zz",
            &format!("s1{}", "ab".repeat(19)),
        ] {
            assert!(bad.parse::<Address>().is_err(), "{bad}");
        }
        assert_ne!(
            KeyPair::generate().unwrap().address(),
            KeyPair::generate().unwrap().address()
        );
    }

    #[test]
    fn signatures_verify_only_for_their_key_and_bytes() {
        let k = KeyPair::from_secret(&[1; 32]);
        let sig = k.sign(b"hello");
        assert!(verify(&k.public_key(), b"hello", &sig));
        assert!(!verify(&k.public_key(), b"hellp", &sig));
        assert!(!verify(
            &KeyPair::from_secret(&[2; 32]).public_key(),
            b"hello",
            &sig
        ));
        let mut s2 = sig;
        s2[10] ^= 1;
        assert!(!verify(&k.public_key(), b"hello", &s2));
    }
}
