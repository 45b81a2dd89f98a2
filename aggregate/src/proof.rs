//! The aggregate proof, its byte format, and the order in which its parts enter the transcript.
//!
//! Format (version 1): `version (1 byte) ‖ u32_le(n)`, then every G_T element (288 bytes each,
//! see [`crate::curve`]), then every G1 point (48 bytes, compressed), then every G2 point
//! (96 bytes, compressed), each group in the order of [`AggregateProof::gt_elements`],
//! [`AggregateProof::g1_elements`] and [`AggregateProof::g2_elements`]. With ℓ = log2 n the
//! proof has 5 + 10ℓ G_T elements, 7 + 2ℓ G1 points and 5 G2 points:
//! `2,261 + 2,976·ℓ` bytes (32,021 for n = 1,024; 40,949 for n = 8,192).

use crate::curve::{self, G1Affine, G2Affine, Gt, Scalar};
use crate::srs::VerifierKey;
use crate::transcript::Transcript;
use crate::AggregateError;
use rayon::prelude::*;

/// The version byte of the format this crate writes and reads.
pub const PROOF_VERSION: u8 = 1;

/// One GIPA round: the cross terms of both halves for TIPP (A, B) and MIPP (C, r).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GipaRound {
    /// Commitment (T, U) to (A_right, B_left) under (v_left, w_right).
    pub(crate) ab_l: [Gt; 2],
    /// Commitment (T, U) to (A_left, B_right) under (v_right, w_left).
    pub(crate) ab_r: [Gt; 2],
    /// e(A_right, B_left) as an inner product.
    pub(crate) z_ab_l: Gt,
    /// e(A_left, B_right) as an inner product.
    pub(crate) z_ab_r: Gt,
    /// Commitment to C_right under v_left.
    pub(crate) c_l: [Gt; 2],
    /// Commitment to C_left under v_right.
    pub(crate) c_r: [Gt; 2],
    /// ⟨C_right, r_left⟩.
    pub(crate) z_c_l: G1Affine,
    /// ⟨C_left, r_right⟩.
    pub(crate) z_c_r: G1Affine,
}

/// What GIPA ends with: the vectors and keys folded to one element each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FinalValues {
    pub(crate) a: G1Affine,
    pub(crate) b: G2Affine,
    pub(crate) c: G1Affine,
    pub(crate) v1: G2Affine,
    pub(crate) v2: G2Affine,
    pub(crate) w1: G1Affine,
    pub(crate) w2: G1Affine,
}

/// KZG openings of the folded keys at the transcript's point z.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Openings {
    pub(crate) v1: G2Affine,
    pub(crate) v2: G2Affine,
    pub(crate) w1: G1Affine,
    pub(crate) w2: G1Affine,
}

/// A SnarkPack aggregate of n Groth16 proofs of one circuit: O(log n) group elements.
///
/// Obtained from [`crate::aggregate`] or [`AggregateProof::from_bytes`]; every element it holds
/// is a valid element of its prime-order group (checked when parsing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregateProof {
    pub(crate) n: usize,
    /// (T, U): the commitment to (A, B) under the keys (v, w).
    pub(crate) com_ab: [Gt; 2],
    /// The commitment to C under v.
    pub(crate) com_c: [Gt; 2],
    /// Z_AB = Π e(A_i, B_i)^{r^i}.
    pub(crate) z_ab: Gt,
    /// Z_C = Σ r^i · C_i.
    pub(crate) z_c: G1Affine,
    pub(crate) rounds: Vec<GipaRound>,
    pub(crate) fin: FinalValues,
    pub(crate) openings: Openings,
}

/// Bytes of a version-1 aggregate of n = 2^`log_n` proofs.
pub fn proof_size(log_n: usize) -> usize {
    5 + (5 + 10 * log_n) * curve::GT_BYTES + (7 + 2 * log_n) * curve::G1_BYTES + 5 * curve::G2_BYTES
}

impl AggregateProof {
    /// The number of proofs aggregated.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The G_T elements in format order.
    pub(crate) fn gt_elements(&self) -> Vec<Gt> {
        let mut out = vec![
            self.com_ab[0],
            self.com_ab[1],
            self.com_c[0],
            self.com_c[1],
            self.z_ab,
        ];
        for r in &self.rounds {
            out.extend([
                r.ab_l[0], r.ab_l[1], r.ab_r[0], r.ab_r[1], r.z_ab_l, r.z_ab_r,
            ]);
            out.extend([r.c_l[0], r.c_l[1], r.c_r[0], r.c_r[1]]);
        }
        out
    }

    /// The G1 points in format order.
    pub(crate) fn g1_elements(&self) -> Vec<G1Affine> {
        let mut out = vec![self.z_c];
        for r in &self.rounds {
            out.extend([r.z_c_l, r.z_c_r]);
        }
        let f = &self.fin;
        out.extend([f.a, f.c, f.w1, f.w2, self.openings.w1, self.openings.w2]);
        out
    }

    /// The G2 points in format order.
    pub(crate) fn g2_elements(&self) -> Vec<G2Affine> {
        let f = &self.fin;
        vec![f.b, f.v1, f.v2, self.openings.v1, self.openings.v2]
    }

    /// The proof's bytes (see the module documentation).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(proof_size(self.rounds.len()));
        out.push(PROOF_VERSION);
        out.extend_from_slice(&(self.n as u32).to_le_bytes());
        let gts: Vec<[u8; curve::GT_BYTES]> = self
            .gt_elements()
            .par_iter()
            .map(curve::gt_to_bytes)
            .collect();
        for x in gts {
            out.extend_from_slice(&x);
        }
        for p in self.g1_elements() {
            out.extend_from_slice(&p.to_compressed());
        }
        for p in self.g2_elements() {
            out.extend_from_slice(&p.to_compressed());
        }
        out
    }

    /// Parses [`AggregateProof::to_bytes`] strictly: the version, a power-of-two n ≥ 2, the
    /// exact length, and every element canonical, on its curve and in its prime-order subgroup.
    pub fn from_bytes(bytes: &[u8]) -> Result<AggregateProof, AggregateError> {
        const WHAT: &str = "aggregate proof";
        if bytes.len() < 5 {
            return Err(AggregateError::malformed(WHAT, "truncated header"));
        }
        if bytes[0] != PROOF_VERSION {
            return Err(AggregateError::malformed(
                WHAT,
                format!("version {}", bytes[0]),
            ));
        }
        let n = u32::from_le_bytes(bytes[1..5].try_into().expect("4 bytes")) as usize;
        if n < 2 || !n.is_power_of_two() {
            return Err(AggregateError::malformed(WHAT, format!("n = {n}")));
        }
        let log_n = n.trailing_zeros() as usize;
        if bytes.len() != proof_size(log_n) {
            return Err(AggregateError::malformed(
                WHAT,
                format!(
                    "{} bytes, expected {} for n = {n}",
                    bytes.len(),
                    proof_size(log_n)
                ),
            ));
        }
        let (gt_bytes, rest) = bytes[5..].split_at((5 + 10 * log_n) * curve::GT_BYTES);
        let (g1_bytes, g2_bytes) = rest.split_at((7 + 2 * log_n) * curve::G1_BYTES);
        let gts = gt_bytes
            .par_chunks_exact(curve::GT_BYTES)
            .map(|c| curve::gt_from_bytes(c.try_into().expect("288 bytes")))
            .collect::<Option<Vec<Gt>>>()
            .ok_or_else(|| AggregateError::malformed(WHAT, "invalid G_T element"))?;
        let g1s = g1_bytes
            .par_chunks_exact(curve::G1_BYTES)
            .map(|c| curve::g1_from_bytes(c.try_into().expect("48 bytes")))
            .collect::<Option<Vec<G1Affine>>>()
            .ok_or_else(|| AggregateError::malformed(WHAT, "invalid G1 point"))?;
        let g2s = g2_bytes
            .par_chunks_exact(curve::G2_BYTES)
            .map(|c| curve::g2_from_bytes(c.try_into().expect("96 bytes")))
            .collect::<Option<Vec<G2Affine>>>()
            .ok_or_else(|| AggregateError::malformed(WHAT, "invalid G2 point"))?;
        Ok(Self::assemble(n, &gts, &g1s, &g2s))
    }

    /// Rebuilds a proof from its elements in format order (lengths already checked).
    pub(crate) fn assemble(
        n: usize,
        gts: &[Gt],
        g1s: &[G1Affine],
        g2s: &[G2Affine],
    ) -> AggregateProof {
        let log_n = n.trailing_zeros() as usize;
        let rounds = (0..log_n)
            .map(|j| {
                let t = &gts[5 + 10 * j..5 + 10 * (j + 1)];
                GipaRound {
                    ab_l: [t[0], t[1]],
                    ab_r: [t[2], t[3]],
                    z_ab_l: t[4],
                    z_ab_r: t[5],
                    c_l: [t[6], t[7]],
                    c_r: [t[8], t[9]],
                    z_c_l: g1s[1 + 2 * j],
                    z_c_r: g1s[2 + 2 * j],
                }
            })
            .collect();
        let tail = &g1s[1 + 2 * log_n..];
        AggregateProof {
            n,
            com_ab: [gts[0], gts[1]],
            com_c: [gts[2], gts[3]],
            z_ab: gts[4],
            z_c: g1s[0],
            rounds,
            fin: FinalValues {
                a: tail[0],
                c: tail[1],
                w1: tail[2],
                w2: tail[3],
                b: g2s[0],
                v1: g2s[1],
                v2: g2s[2],
            },
            openings: Openings {
                w1: tail[4],
                w2: tail[5],
                v1: g2s[3],
                v2: g2s[4],
            },
        }
    }
}

// ---- the transcript schedule, shared by prover and verifier ----

/// Starts the transcript: the caller's context, the SRS verifier key, n and the commitments;
/// returns the challenge r.
pub(crate) fn absorb_commitments(
    t: &mut Transcript,
    vk: &VerifierKey,
    n: usize,
    com_ab: &[Gt; 2],
    com_c: &[Gt; 2],
) -> Scalar {
    t.append_bytes(b"srs-vk", &vk.digest());
    t.append_u64(b"n", n as u64);
    t.append_gt(b"com-ab-t", &com_ab[0]);
    t.append_gt(b"com-ab-u", &com_ab[1]);
    t.append_gt(b"com-c-t", &com_c[0]);
    t.append_gt(b"com-c-u", &com_c[1]);
    t.challenge_scalar(b"r")
}

/// Absorbs the claimed inner products Z_AB and Z_C (before the first GIPA round).
pub(crate) fn absorb_inner_products(t: &mut Transcript, z_ab: &Gt, z_c: &G1Affine) {
    t.append_gt(b"z-ab", z_ab);
    t.append_g1(b"z-c", z_c);
}

/// Absorbs one GIPA round; returns its challenge x.
pub(crate) fn absorb_round(t: &mut Transcript, r: &GipaRound) -> Scalar {
    for (label, x) in [
        (&b"ab-l-t"[..], &r.ab_l[0]),
        (b"ab-l-u", &r.ab_l[1]),
        (b"ab-r-t", &r.ab_r[0]),
        (b"ab-r-u", &r.ab_r[1]),
        (b"z-ab-l", &r.z_ab_l),
        (b"z-ab-r", &r.z_ab_r),
        (b"c-l-t", &r.c_l[0]),
        (b"c-l-u", &r.c_l[1]),
        (b"c-r-t", &r.c_r[0]),
        (b"c-r-u", &r.c_r[1]),
    ] {
        t.append_gt(label, x);
    }
    t.append_g1(b"z-c-l", &r.z_c_l);
    t.append_g1(b"z-c-r", &r.z_c_r);
    t.challenge_scalar(b"gipa-x")
}

/// Absorbs the folded values and keys; returns the KZG evaluation point z.
pub(crate) fn absorb_final(t: &mut Transcript, f: &FinalValues) -> Scalar {
    t.append_g1(b"final-a", &f.a);
    t.append_g2(b"final-b", &f.b);
    t.append_g1(b"final-c", &f.c);
    t.append_g2(b"final-v1", &f.v1);
    t.append_g2(b"final-v2", &f.v2);
    t.append_g1(b"final-w1", &f.w1);
    t.append_g1(b"final-w2", &f.w2);
    t.challenge_scalar(b"kzg-z")
}

/// Absorbs the KZG openings; returns the verifier's batching challenge ρ.
pub(crate) fn absorb_openings(t: &mut Transcript, o: &Openings) -> Scalar {
    t.append_g2(b"open-v1", &o.v1);
    t.append_g2(b"open-v2", &o.v2);
    t.append_g1(b"open-w1", &o.w1);
    t.append_g1(b"open-w2", &o.w2);
    t.challenge_scalar(b"batch-rho")
}
