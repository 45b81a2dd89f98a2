//! Phase 1: the powers of tau, a chain of files each multiplying secret τ, α, β into the
//! previous accumulator, with Schnorr proofs of knowledge, closed by a public random beacon.
//!
//! For `n = 2^power` the accumulator holds `τ^i·G1` (`i < 2n−1`), `τ^i·G2`, `α·τ^i·G1`,
//! `β·τ^i·G1` (`i < n`) and `β·G2`. A ceremony directory holds `0000.ptau` (the initial
//! accumulator, τ = α = β = 1), `0001.ptau`, … and `transcript.json`, which records every file's
//! BLAKE3 digest; each file also names the digest of the one it builds on, so the directory is a
//! hash chain. A file's digest is BLAKE3 of all its bytes.
//!
//! # File format
//!
//! Each `NNNN.ptau` (all integers little-endian; points uncompressed as blstrs encodes them):
//!
//! ```text
//! magic      8 bytes  b"STRTPTAU"
//! version    u32      1
//! power      u32
//! index      u32      (0 for the initial file)
//! kind       u8       0 initial, 1 contribution, 2 beacon
//! prev       32 bytes BLAKE3 of the previous file (zeros for the initial)
//! name_len   u16, then name: UTF-8, ≤ 256 bytes
//! tau_g1     (2n−1) × 96 bytes
//! tau_g2     n × 192
//! alpha_g1   n × 96
//! beta_g1    n × 96
//! beta_g2    192
//! proof      kind 1: 3 × 128 bytes (Pok tau, alpha, beta);
//!            kind 2: 32-byte beacon value + u32 iterations; kind 0: nothing
//! ```
//!
//! A contribution's proofs are Schnorr proofs of knowledge ([`Pok`](crate::pok::Pok)) of τ
//! from the previous file's `tau_g1[1]` to this file's, of α from `alpha_g1[0]` to
//! `alpha_g1[0]`, of β from `beta_g1[0]` to `beta_g1[0]`, each bound to the context
//! `b"strata ptau v1" ‖ previous digest (32 bytes) ‖ index (u32) ‖ b"tau" | b"alpha" | b"beta"`.
//! A beacon's secrets are public: `seed = BLAKE3^iterations(beacon)`, then
//! `τ = hash_to_scalar("strata ptau v1 beacon", [seed, previous digest, b"tau"])`
//! ([`hash_to_scalar`](crate::hash_to_scalar)), likewise α (`b"alpha"`) and β (`b"beta"`).
//!
//! `transcript.json`: `{"format":"strata-ptau-transcript","version":1,"power":K,"files":[{"file":
//! "0000.ptau","digest":"…","kind":"initial|contribution|beacon","name":"…"}, …]}`.
//!
//! Everything streams: a contribution memory-maps the previous file and transforms it
//! [`CHUNK`](crate::CHUNK) points at a time, and verification accumulates its randomised
//! pairing checks chunk by chunk, so memory stays O(CHUNK) whatever the power (only
//! [`read_latest`] loads a whole accumulator).

mod check;
mod format;
mod stream;
mod transcript;
mod update;

use crate::curve::{G1Affine, G2Affine};
use serde::{Deserialize, Serialize};

pub use check::{read_latest, verify};
pub use transcript::Transcript;
pub use update::{beacon, contribute, contribute_with_secrets, new};

/// Largest supported power: `2^28` powers (the initial file is then about 144 GiB).
pub const MAX_POWER: u32 = 28;
/// Longest contributor name, in bytes of UTF-8.
pub const MAX_NAME_BYTES: usize = 256;
/// `format` field of `transcript.json`.
pub const TRANSCRIPT_FORMAT: &str = "strata-ptau-transcript";
/// Name of the transcript file in a ceremony directory.
pub const TRANSCRIPT_FILE: &str = "transcript.json";

/// A whole powers-of-tau accumulator in memory, as [`read_latest`] returns it: every point
/// decoded with curve and subgroup checks (but the relations between them are only guaranteed
/// by [`verify`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accumulator {
    /// log2 of the number of powers `n`.
    pub power: u32,
    /// `τ^i·G1` for `i < 2n−1`.
    pub tau_g1: Vec<G1Affine>,
    /// `τ^i·G2` for `i < n`.
    pub tau_g2: Vec<G2Affine>,
    /// `α·τ^i·G1` for `i < n`.
    pub alpha_g1: Vec<G1Affine>,
    /// `β·τ^i·G1` for `i < n`.
    pub beta_g1: Vec<G1Affine>,
    /// `β·G2`.
    pub beta_g2: G2Affine,
}

/// What a file of the chain is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// `0000.ptau`: the deterministic initial accumulator (all generators).
    Initial,
    /// A contribution of secret τ, α, β with proofs of knowledge.
    Contribution,
    /// The closing step, its secrets derived publicly from a beacon value.
    Beacon,
}

impl StepKind {
    /// The byte that encodes this kind in a file header (0, 1, 2).
    pub fn code(self) -> u8 {
        match self {
            StepKind::Initial => 0,
            StepKind::Contribution => 1,
            StepKind::Beacon => 2,
        }
    }

    /// The kind a header byte encodes, if any.
    pub fn from_code(code: u8) -> Option<StepKind> {
        match code {
            0 => Some(StepKind::Initial),
            1 => Some(StepKind::Contribution),
            2 => Some(StepKind::Beacon),
            _ => None,
        }
    }
}

/// One file of the chain as `transcript.json` records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The file name, `NNNN.ptau` (relative to the ceremony directory).
    pub file: String,
    /// BLAKE3 of the whole file, lowercase hex.
    pub digest: String,
    /// What the file is.
    pub kind: StepKind,
    /// The contributor's name as the file header holds it (`"initial"`, `"beacon"` for those).
    pub name: String,
}

/// The outcome of a successful [`verify`]: every file of the chain passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// log2 of the number of powers.
    pub power: u32,
    /// Number of contributions (the initial file and the beacon not counted).
    pub contributions: usize,
    /// Whether the chain is closed by a beacon.
    pub finalized: bool,
    /// Digest (hex) of the last file: the accumulator phase 2 should build on.
    pub final_digest: String,
    /// Every file, in order, as verified.
    pub entries: Vec<Entry>,
}

/// The name of the `index`-th file of a ceremony directory (`0000.ptau`, `0001.ptau`, …).
pub fn file_name(index: u32) -> String {
    format!("{index:04}.ptau")
}
