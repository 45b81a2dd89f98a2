//! Signed messages: every state-changing call. A message names its sender, the sender's nonce,
//! the method and its JSON parameters; it is signed over `"strata-msg-v1" ‖ canonical JSON`
//! (serde_json with fixed field order and sorted object keys), so any change to any field
//! invalidates the signature.

use crate::keys::{verify, Address, KeyPair};
use serde::{Deserialize, Serialize};

/// Domain tag prefixed to the signed bytes.
pub const DOMAIN: &[u8] = b"strata-msg-v1";

/// An unsigned message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The sender.
    pub from: Address,
    /// The sender's next nonce.
    pub nonce: u64,
    /// The method called.
    pub method: String,
    /// Its parameters.
    pub params: serde_json::Value,
}

impl Message {
    /// The bytes that are signed.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut out = DOMAIN.to_vec();
        out.extend(serde_json::to_vec(self).expect("messages serialise"));
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

impl SignedMessage {
    /// Checks the public key is the sender's and the signature verifies.
    pub fn verify(&self) -> Result<(), MessageError> {
        let pk: [u8; 32] = hex::decode(&self.public_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(MessageError::Malformed("public key"))?;
        let sig: [u8; 64] = hex::decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(MessageError::Malformed("signature"))?;
        if Address::of_public_key(&pk) != self.message.from {
            return Err(MessageError::NotSender(self.message.from));
        }
        if verify(&pk, &self.message.signing_bytes(), &sig) {
            Ok(())
        } else {
            Err(MessageError::BadSignature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msg(k: &KeyPair) -> Message {
        Message {
            from: k.address(),
            nonce: 3,
            method: "precommit".into(),
            params: json!({"sector": 7, "deposit": "100"}),
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
        s.message.params["sector"] = json!(8);
        assert_eq!(s.verify(), Err(MessageError::BadSignature));
        let mut s = signed.clone();
        s.message.method = "terminate".into();
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
        let mut s = signed.clone();
        s.signature = "00".into();
        assert_eq!(s.verify(), Err(MessageError::Malformed("signature")));
        assert!(matches!(
            msg(&k).sign(&other),
            Err(MessageError::WrongKey { .. })
        ));
    }

    #[test]
    fn signing_bytes_do_not_depend_on_key_order() {
        let k = KeyPair::from_secret(&[9; 32]);
        let a = Message {
            params: serde_json::from_str(r#"{"b":1,"a":2}"#).unwrap(),
            ..msg(&k)
        };
        let b = Message {
            params: serde_json::from_str(r#"{"a":2,"b":1}"#).unwrap(),
            ..msg(&k)
        };
        assert_eq!(a.signing_bytes(), b.signing_bytes());
    }
}
