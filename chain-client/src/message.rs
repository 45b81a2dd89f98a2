//! Signed messages: every state-changing call. A message names the network it is meant for, its
//! sender, the sender's nonce and the typed call ([`Method`]); it is signed over
//! `"strata-msg-v2" ‖ canonical JSON` (object keys sorted), so any change to any field
//! invalidates the signature, and a message signed for one network (say a devnet) is refused by
//! every other (the chain checks `network` against its genesis name): no cross-network replay.

use crate::keys::{verify, Address, KeyPair};
use crate::types::Method;
use serde::{Deserialize, Serialize};

/// Domain tag prefixed to the signed bytes.
pub const DOMAIN: &[u8] = b"strata-msg-v2";

/// An unsigned message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The network the message is for (the chain's genesis name): part of what is signed.
    pub network: String,
    /// The sender.
    pub from: Address,
    /// The sender's next nonce.
    pub nonce: u64,
    /// The call and its parameters (`{"method": …, "params": …}` on the wire).
    #[serde(flatten)]
    pub call: Method,
}

impl Message {
    /// The bytes that are signed.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut out = DOMAIN.to_vec();
        // Through a Value, whose maps are sorted: the bytes do not depend on field order.
        let v = serde_json::to_value(self).expect("messages serialise");
        out.extend(serde_json::to_vec(&v).expect("values serialise"));
        out
    }

    /// Signs the message with `key`, which must be the sender's.
    pub fn sign(self, key: &KeyPair) -> Result<SignedMessage, MessageError> {
        if key.address() != self.from {
            return Err(MessageError::WrongKey {
                from: self.from,
                key: key.address(),
            });
        }
        let signature = key.sign(&self.signing_bytes());
        Ok(SignedMessage {
            message: self,
            public_key: hex::encode(key.public_key()),
            signature: hex::encode(signature),
        })
    }
}

/// A message with the sender's public key and signature (hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedMessage {
    /// The message.
    pub message: Message,
    /// The sender's ed25519 public key.
    pub public_key: String,
    /// The signature over [`Message::signing_bytes`].
    pub signature: String,
}

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// The key does not belong to the sender.
    #[error("key {key} cannot sign for {from}")]
    WrongKey {
        /// The message's sender.
        from: Address,
        /// The key's address.
        key: Address,
    },
    /// The public key or signature is not well-formed hex of the right length.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The public key is not the sender's.
    #[error("public key does not belong to {0}")]
    NotSender(Address),
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
}

/// Checks that hex `public_key` belongs to `signer` and hex `signature` verifies over `bytes`.
pub(crate) fn check_signature(
    public_key: &str,
    signature: &str,
    signer: &Address,
    bytes: &[u8],
) -> Result<(), MessageError> {
    let pk: [u8; 32] = hex::decode(public_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(MessageError::Malformed("public key"))?;
    let sig: [u8; 64] = hex::decode(signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(MessageError::Malformed("signature"))?;
    if Address::of_public_key(&pk) != *signer {
        return Err(MessageError::NotSender(*signer));
    }
    if verify(&pk, bytes, &sig) {
        Ok(())
    } else {
        Err(MessageError::BadSignature)
    }
}

impl SignedMessage {
    /// Checks the public key is the sender's and the signature verifies.
    pub fn verify(&self) -> Result<(), MessageError> {
        check_signature(
            &self.public_key,
            &self.signature,
            &self.message.from,
            &self.message.signing_bytes(),
        )
    }

    /// The message id: BLAKE3 of the signed bytes and the signature, hex.
    pub fn id(&self) -> String {
        let mut h = blake3::Hasher::new();
        h.update(&self.message.signing_bytes());
        h.update(self.signature.as_bytes());
        h.finalize().to_hex().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::Token;

    fn msg(k: &KeyPair) -> Message {
        Message {
            network: "strata-test".into(),
            from: k.address(),
            nonce: 3,
            call: Method::AddMinerBalance {
                miner: 7,
                amount: Token(100),
            },
        }
    }

    #[test]
    fn signed_messages_verify_and_every_change_is_rejected() {
        let k = KeyPair::from_secret(&[9; 32]);
        let signed = msg(&k).sign(&k).unwrap();
        signed.verify().unwrap();
        let back: SignedMessage =
            serde_json::from_str(&serde_json::to_string(&signed).unwrap()).unwrap();
        back.verify().unwrap();

        let mut s = signed.clone();
        s.message.nonce += 1;
        assert_eq!(s.verify(), Err(MessageError::BadSignature));
        let mut s = signed.clone();
        s.message.call = Method::AddMinerBalance {
            miner: 8,
            amount: Token(100),
        };
        assert_eq!(s.verify(), Err(MessageError::BadSignature));
        let mut s = signed.clone();
        s.message.call = Method::WithdrawMinerBalance {
            miner: 7,
            amount: Token(100),
        };
        assert_eq!(s.verify(), Err(MessageError::BadSignature));
        // Another key's valid signature, presented for this sender.
        let other = KeyPair::from_secret(&[8; 32]);
        let forged = Message {
            from: other.address(),
            ..msg(&k)
        }
        .sign(&other)
        .unwrap();
        let mut s = forged.clone();
        s.message.from = k.address();
        assert_eq!(s.verify(), Err(MessageError::NotSender(k.address())));
        // The same message replayed on another network.
        let mut s = signed.clone();
        s.message.network = "strata-other".into();
        assert_eq!(s.verify(), Err(MessageError::BadSignature));
        let mut s = signed.clone();
        s.signature = "00".into();
        assert_eq!(s.verify(), Err(MessageError::Malformed("signature")));
        assert!(matches!(
            msg(&k).sign(&other),
            Err(MessageError::WrongKey { .. })
        ));
    }

    #[test]
    fn wire_form_is_method_and_params() {
        let k = KeyPair::from_secret(&[9; 32]);
        let v = serde_json::to_value(msg(&k)).unwrap();
        assert_eq!(v["method"], "add_miner_balance");
        assert_eq!(v["params"]["miner"], 7);
        assert_eq!(v["params"]["amount"], "100");
        let back: Message = serde_json::from_value(v).unwrap();
        assert_eq!(back, msg(&k));
    }
}
