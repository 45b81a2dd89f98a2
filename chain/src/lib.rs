//! The devnet ledger (DESIGN §8): Filecoin's miner, market, power and reward rules over an
//! epoch-based state kept in redb, a randomness beacon, proof verification with `prover`, and a
//! JSON-RPC server. [`Chain`] is the node; it implements `strata_chain_client::ChainApi`.

pub mod beacon;
pub mod config;
pub mod economics;
pub mod exec;
pub mod funds;
pub mod market;
pub mod miner;
pub mod node;
pub mod rewards;
pub mod rpc;
pub mod rules;
pub mod state;
pub mod store;
pub mod verifier;

pub use config::Genesis;
pub use node::Chain;
pub use verifier::{HashVerifier, ProofVerifier, SnarkVerifier};
