//! The building blocks every chain user shares (DESIGN §1, §8): ed25519 keys and the addresses
//! derived from them, signed messages with a canonical encoding, and an owner-only keystore file.
//! The chain API trait, its typed requests and the JSON-RPC client join this crate with the devnet.

pub mod keys;
pub mod keystore;
pub mod message;

pub use keys::{Address, KeyPair};
pub use keystore::{Keystore, KeystoreError};
pub use message::{Message, MessageError, SignedMessage};
