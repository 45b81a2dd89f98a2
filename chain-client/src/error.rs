//! The typed error every chain call returns. Each kind has a stable numeric code that travels in
//! the JSON-RPC error object (`code`, `message`, `data.kind`), so a script can branch on it and a
//! person can read it.

use serde::{Deserialize, Serialize};

/// What went wrong, stable across versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The signature or public key does not verify for the sender.
    BadSignature,
    /// The nonce is not the sender's next nonce.
    WrongNonce,
    /// The payer cannot cover the amount.
    InsufficientFunds,
    /// The account, miner, sector, deal or message does not exist.
    NotFound,
    /// The sender may not do this (not the owner or worker, not the client).
    Forbidden,
    /// A proof does not verify.
    InvalidProof,
    /// Too early (seed not yet available, window not yet open).
    TooEarly,
    /// Too late (pre-commit expired, window closed, past the fault cutoff).
    TooLate,
    /// Already exists (sector number in use, deal already in a sector).
    Duplicate,
    /// A parameter is out of range or inconsistent with the chain's state.
    InvalidParams,
    /// A deal proposal is not acceptable.
    BadDeal,
    /// A message or deal proposal signed for another network.
    WrongNetwork,
    /// The request is not valid JSON.
    ParseError,
    /// The JSON is not a valid JSON-RPC 2.0 request.
    InvalidRequest,
    /// No such RPC method.
    MethodNotFound,
    /// The chain could not be reached.
    Unavailable,
    /// The chain failed internally (storage); nothing was applied.
    Internal,
}

impl ErrorKind {
    /// The JSON-RPC error code (standard codes for protocol errors, 1xxx for chain rules).
    pub fn code(self) -> i64 {
        match self {
            ErrorKind::ParseError => -32700,
            ErrorKind::InvalidRequest => -32600,
            ErrorKind::MethodNotFound => -32601,
            ErrorKind::InvalidParams => -32602,
            ErrorKind::Internal => -32603,
            ErrorKind::BadSignature => 1001,
            ErrorKind::WrongNonce => 1002,
            ErrorKind::InsufficientFunds => 1003,
            ErrorKind::NotFound => 1004,
            ErrorKind::Forbidden => 1005,
            ErrorKind::InvalidProof => 1006,
            ErrorKind::TooEarly => 1007,
            ErrorKind::TooLate => 1008,
            ErrorKind::Duplicate => 1009,
            ErrorKind::BadDeal => 1010,
            ErrorKind::WrongNetwork => 1011,
            ErrorKind::Unavailable => 1099,
        }
    }
}

/// A chain error: its kind and a message naming the problem.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message} ({kind:?}, code {})", kind.code())]
pub struct ChainError {
    /// The kind.
    pub kind: ErrorKind,
    /// What exactly.
    pub message: String,
}

impl ChainError {
    /// A new error.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ChainError {
            kind,
            message: message.into(),
        }
    }
}

/// Shorthand constructors, one per kind used by the rules.
macro_rules! ctor {
    ($($name:ident => $kind:ident),* $(,)?) => {
        impl ChainError {
            $(
                #[doc = concat!("A [`ErrorKind::", stringify!($kind), "`] error.")]
                pub fn $name(message: impl Into<String>) -> Self {
                    ChainError::new(ErrorKind::$kind, message)
                }
            )*
        }
    };
}
ctor!(
    not_found => NotFound,
    forbidden => Forbidden,
    insufficient => InsufficientFunds,
    invalid => InvalidParams,
    too_early => TooEarly,
    too_late => TooLate,
    duplicate => Duplicate,
    bad_proof => InvalidProof,
    bad_deal => BadDeal,
    wrong_network => WrongNetwork,
    internal => Internal,
    unavailable => Unavailable,
);
