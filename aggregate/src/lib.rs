//! SnarkPack: aggregation of Groth16 proofs (Gailly, Maller, Nitulescu, *SnarkPack: Practical
//! SNARK Aggregation*, FC 2022).
//!
//! n Groth16 proofs πᵢ = (Aᵢ, Bᵢ, Cᵢ) of one circuit fold into one proof of O(log n) group
//! elements (32 KB for 1,024 proofs), verified with O(log n) work in one product of pairings.
//!
//! # The construction
//!
//! A Groth16 proof is valid when e(Aᵢ, Bᵢ) = e(α, β)·e(Sᵢ, γ)·e(Cᵢ, δ), with
//! Sᵢ = IC₀ + Σⱼ xᵢⱼ·ICⱼ from the public inputs. For a random r, all n equations hold (except
//! with probability n/|F|) when their combination with weights rⁱ does:
//!
//! Z_AB = Πᵢ e(Aᵢ, Bᵢ)^{rⁱ} = e(α, β)^{Σrⁱ} · e(Σ rⁱ·Sᵢ, γ) · e(Z_C, δ), Z_C = Σ rⁱ·Cᵢ.
//!
//! The verifier computes the right side itself (n field operations for the inputs, no
//! pairing per proof); the aggregate proves that Z_AB and Z_C are these inner products of the
//! vectors the prover committed to before r was drawn:
//!
//! 1. **Commitments** (see [`Srs`] for the keys v = (v₁, v₂) in G2 and w = (w₁, w₂) in G1):
//!    (T, U) = (e(A, v₁)·e(w₁, B), e(A, v₂)·e(w₂, B)) to (A, B), and (e(C, v₁), e(C, v₂)) to C,
//!    where e(X, Y) = Πᵢ e(Xᵢ, Yᵢ). Both halves are needed: one key alone is not binding.
//! 2. **r** is drawn from the transcript after the commitments.
//! 3. **TIPP** proves Z_AB = ⟨A, B'⟩ for B' = (rⁱ·Bᵢ), which has the same commitment under the
//!    rescaled key w' = (r⁻ⁱ·wᵢ); **MIPP** proves Z_C = ⟨C, (rⁱ)⟩. Both are GIPA arguments run
//!    together: log₂ n rounds, each sending the cross terms of the two halves and folding every
//!    vector and key in half with a transcript challenge x (A, C, w with x; B, v, r with x⁻¹).
//! 4. **KZG openings**: the folded keys are single group elements whose discrete logarithms
//!    are polynomials in the SRS secrets fixed by the challenges; the prover opens them at a
//!    transcript point z, so the verifier never folds n-element keys.
//!
//! The verifier replays the transcript, folds the O(log n) cross terms, and checks every
//! equation at once (see [`verify`]).
//!
//! # Trust assumption of the SRS
//!
//! The SRS holds two independent powers-of-tau sequences, in secrets a and b. Anyone who knows
//! a or b can make an aggregate of false statements verify. [`Srs::generate_devnet`] draws both
//! in this process: fine for a devnet, never for value. A production SRS is built with
//! [`Srs::from_powers`] from two powers-of-tau ceremonies with different participants' outputs
//! (each sound if one contributor was honest); the inner Groth16 proofs keep their own
//! (per-circuit) trust assumption.
//!
//! # The transcript, and what `transcript_context` must contain
//!
//! Every challenge comes from one BLAKE3 transcript (domain `"strata-snarkpack-v1"`, see
//! [`transcript`]) that absorbs, in order: the caller's `transcript_context`, the digest of the
//! SRS verifier key, n, the commitments, Z_AB and Z_C, each GIPA round, the folded values and
//! the openings.
//!
//! **The public inputs are not in the proof: the caller must bind them through
//! `transcript_context`.** If r were drawn before the statements were fixed, a prover could
//! move value between the inputs of two proofs so that Σ rⁱ·Sᵢ is unchanged, and an aggregate
//! of true statements would verify for false ones. So `transcript_context` must determine the
//! Groth16 verifying key, n and every public input of every proof (and may add application
//! data, such as a chain epoch). [`statement_context`] computes such bytes; the aggregator and
//! the verifier must pass the same ones.
//!
//! # Scope
//!
//! The number of proofs n is a power of two ≥ 2 ([`pad_to_power_of_two`] repeats the last
//! proof). Aggregation and verification costs depend on n and the number of public inputs,
//! never on the size of the circuit.
//!
//! The arithmetic runs on `blstrs` (see `curve.rs` for why); the API takes and returns the
//! workspace's `bls12_381`/`groth16` types.

#![deny(missing_docs)]

mod curve;
mod error;
mod kzg;
mod proof;
mod prove;
mod srs;
pub mod transcript;
mod verify;

#[cfg(test)]
mod tests;
// Lets the unit tests share the integration tests' fixtures, which name the crate.
#[cfg(test)]
extern crate self as strata_aggregate;

pub use error::AggregateError;
pub use proof::{proof_size, AggregateProof, PROOF_VERSION};
pub use prove::{aggregate, pad_to_power_of_two};
pub use srs::{ProverKey, Srs, VerifierKey, MAX_SRS_PROOFS};
pub use verify::{verify, verify_each};

/// Bytes that bind an aggregate to its statements, for `transcript_context`: a BLAKE3 digest
/// (domain `"strata-snarkpack-v1 statement"`) of the Groth16 verifying key, the number of
/// statements, every public input of every statement in order, and the caller's `extra` bytes
/// (application context; may be empty).
///
/// Two calls agree exactly when all of these agree (up to BLAKE3 collisions).
pub fn statement_context(
    groth_vk: &groth16::VerifyingKey<bls12_381::Bls12>,
    public_inputs: &[Vec<bls12_381::Scalar>],
    extra: &[u8],
) -> [u8; 32] {
    let mut key_bytes = Vec::new();
    groth_vk
        .write(&mut key_bytes)
        .expect("writing to a Vec cannot fail");
    let mut h = blake3::Hasher::new_derive_key("strata-snarkpack-v1 statement");
    h.update(&(key_bytes.len() as u64).to_le_bytes());
    h.update(&key_bytes);
    h.update(&(public_inputs.len() as u64).to_le_bytes());
    for statement in public_inputs {
        h.update(&(statement.len() as u64).to_le_bytes());
        for x in statement {
            h.update(&x.to_bytes());
        }
    }
    h.update(&(extra.len() as u64).to_le_bytes());
    h.update(extra);
    *h.finalize().as_bytes()
}
