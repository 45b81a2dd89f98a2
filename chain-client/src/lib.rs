//! The chain API the provider, clients and auditors use (DESIGN §1, §8): the [`ChainApi`] trait
//! with typed requests and responses, signed messages and deal proposals, ed25519 keys and
//! addresses, an owner-only keystore, and [`RpcClient`], the JSON-RPC client over HTTP.
//!
//! The devnet (`strata-chain`) implements [`ChainApi`] in process and serves the same calls over
//! JSON-RPC; a program written against the trait runs unchanged against either.

pub mod api;
pub mod audit;
pub mod beacon;
pub mod error;
pub mod keys;
pub mod keystore;
pub mod message;
pub mod permanent;
pub mod rpc_client;
pub mod stats;
pub mod token;
pub mod types;
pub mod views;

pub use api::ChainApi;
pub use error::{ChainError, ErrorKind};
pub use keys::{Address, KeyPair};
pub use keystore::{Keystore, KeystoreError};
pub use message::{Message, MessageError, SignedMessage};
pub use rpc_client::RpcClient;
pub use token::Token;
pub use types::{
    DealId, DealProposal, Epoch, EscrowHolder, Method, MinerId, RandomnessTag, SignedProposal,
};
