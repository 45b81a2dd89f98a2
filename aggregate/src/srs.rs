//! The structured reference string: two powers-of-tau transcripts, with secrets `a` and `b`.
//!
//! For at most `N` proofs the SRS holds g^{a^i}, g^{b^i} (G1, i < 2N) and h^{a^i}, h^{b^i}
//! (G2, i < N), where g and h are the standard generators. The commitment keys of an aggregate
//! of n ≤ N proofs are v = (h^{a^i}, h^{b^i})_{i<n} (for the G1 vectors A and C) and
//! w = (g^{a^{n+i}}, g^{b^{n+i}})_{i<n} (for the G2 vector B); the remaining powers let the
//! prover open the folded keys with KZG. The verifier needs only g, h, g^a, g^b, h^a, h^b.
//!
//! Whoever knows `a` or `b` can forge aggregates: [`Srs::generate_devnet`] is a single-party
//! setup for a devnet. A production SRS is built with [`Srs::from_powers`] from the outputs of
//! two independent powers-of-tau ceremonies (one honest contributor each suffices).

use crate::curve::{self, G1Affine, G1Projective, G2Affine, G2Projective, Scalar};
use crate::AggregateError;
use ff013::Field;
use group013::prime::PrimeCurveAffine;
use group013::{Curve, Group};
use pairing023::MillerLoopResult as _;
use rayon::prelude::*;

const SRS_MAGIC: &[u8; 20] = b"strata-snarkpack-srs";
const VK_MAGIC: &[u8; 19] = b"strata-snarkpack-vk";
const FORMAT_VERSION: u8 = 1;
/// The largest SRS this crate reads or makes: 2^26 proofs (a 48 GiB file).
pub const MAX_SRS_PROOFS: usize = 1 << 26;

/// A structured reference string for aggregating up to [`Srs::max_proofs`] proofs.
///
/// Holding an `Srs` guarantees its shape: the first elements are the generators, the G1 and G2
/// sequences are successive powers of one secret each (checked with a random linear combination
/// when built from outside data), and the two secrets differ and are neither 0 nor 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Srs {
    g1_a: Vec<G1Affine>,
    g1_b: Vec<G1Affine>,
    g2_a: Vec<G2Affine>,
    g2_b: Vec<G2Affine>,
}

/// The prover's key for aggregating exactly [`ProverKey::n`] proofs.
#[derive(Clone, Debug)]
pub struct ProverKey {
    pub(crate) n: usize,
    /// g^{a^i}, i < 2n: w1 is `g1_a[n..]`, the rest opens it.
    pub(crate) g1_a: Vec<G1Affine>,
    /// g^{b^i}, i < 2n.
    pub(crate) g1_b: Vec<G1Affine>,
    /// h^{a^i}, i < n: the key v1.
    pub(crate) g2_a: Vec<G2Affine>,
    /// h^{b^i}, i < n: the key v2.
    pub(crate) g2_b: Vec<G2Affine>,
    pub(crate) vk: VerifierKey,
}

/// The verifier's key: g, h, g^a, g^b, h^a, h^b and the SRS size. One key verifies aggregates
/// of any power-of-two number of proofs up to [`VerifierKey::max_proofs`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKey {
    pub(crate) max_proofs: usize,
    pub(crate) g: G1Affine,
    pub(crate) h: G2Affine,
    pub(crate) g_a: G1Affine,
    pub(crate) g_b: G1Affine,
    pub(crate) h_a: G2Affine,
    pub(crate) h_b: G2Affine,
}

fn check_proof_count(n: usize) -> Result<(), AggregateError> {
    if n < 2 || !n.is_power_of_two() || n > MAX_SRS_PROOFS {
        return Err(AggregateError::ProofCount(n));
    }
    Ok(())
}

impl Srs {
    /// A fresh SRS for up to `max_proofs` proofs (a power of two ≥ 2), from secrets drawn from
    /// `rng`.
    ///
    /// **Devnet only: this process knows both secrets while it runs**, and anyone who learns
    /// either can make aggregates of false statements verify. The secrets are dropped (not
    /// zeroised) when this returns. Production SRSs come from two powers-of-tau ceremonies via
    /// [`Srs::from_powers`].
    pub fn generate_devnet<R: rand_core::CryptoRng + ?Sized>(
        max_proofs: usize,
        rng: &mut R,
    ) -> Result<Srs, AggregateError> {
        check_proof_count(max_proofs)?;
        let draw = |rng: &mut R| loop {
            let mut wide = [0u8; 64];
            rng.fill_bytes(&mut wide);
            let x = curve::scalar_from_wide(&wide);
            if x != Scalar::ZERO && x != Scalar::ONE {
                return x;
            }
        };
        let a = draw(rng);
        let b = loop {
            let b = draw(rng);
            if b != a {
                break b;
            }
        };
        let n = max_proofs;
        Ok(Srs {
            g1_a: fixed_base_g1(&curve::powers(&a, 2 * n)),
            g1_b: fixed_base_g1(&curve::powers(&b, 2 * n)),
            g2_a: fixed_base_g2(&curve::powers(&a, n)),
            g2_b: fixed_base_g2(&curve::powers(&b, n)),
        })
    }

    /// An SRS from two externally produced powers-of-tau transcripts: `g1_a[i] = g^{a^i}`
    /// (i < 2N), `g2_a[i] = h^{a^i}` (i < N), and likewise for `b`, for N = `g2_a.len()` a power
    /// of two ≥ 2.
    ///
    /// Checks every point (on the curve, in the subgroup), the lengths, the generators, that each
    /// sequence is powers of one secret shared by its G1 and G2 halves (a pairing check on a
    /// random linear combination), and that the secrets differ and are not 0 or 1.
    pub fn from_powers(
        g1_a: &[bls12_381::G1Affine],
        g2_a: &[bls12_381::G2Affine],
        g1_b: &[bls12_381::G1Affine],
        g2_b: &[bls12_381::G2Affine],
    ) -> Result<Srs, AggregateError> {
        let convert_g1 = |v: &[bls12_381::G1Affine]| {
            v.par_iter()
                .map(|p| curve::g1_from_zk(p, "SRS G1 power"))
                .collect::<Result<Vec<_>, _>>()
        };
        let convert_g2 = |v: &[bls12_381::G2Affine]| {
            v.par_iter()
                .map(|p| curve::g2_from_zk(p, "SRS G2 power"))
                .collect::<Result<Vec<_>, _>>()
        };
        let srs = Srs {
            g1_a: convert_g1(g1_a)?,
            g1_b: convert_g1(g1_b)?,
            g2_a: convert_g2(g2_a)?,
            g2_b: convert_g2(g2_b)?,
        };
        let seed = blake3::hash(&srs.to_bytes());
        srs.check(seed.as_bytes())?;
        Ok(srs)
    }

    /// The largest number of proofs this SRS aggregates.
    pub fn max_proofs(&self) -> usize {
        self.g2_a.len()
    }

    /// The verifier key (the same for every n this SRS supports).
    pub fn verifier_key(&self) -> VerifierKey {
        VerifierKey {
            max_proofs: self.max_proofs(),
            g: self.g1_a[0],
            h: self.g2_a[0],
            g_a: self.g1_a[1],
            g_b: self.g1_b[1],
            h_a: self.g2_a[1],
            h_b: self.g2_b[1],
        }
    }

    /// The prover key for aggregating exactly `n` proofs (a power of two, 2 ≤ n ≤
    /// [`Srs::max_proofs`]) and the verifier key.
    pub fn specialize(&self, n: usize) -> Result<(ProverKey, VerifierKey), AggregateError> {
        check_proof_count(n)?;
        if n > self.max_proofs() {
            return Err(AggregateError::KeySize {
                supported: self.max_proofs(),
                asked: n,
            });
        }
        let vk = self.verifier_key();
        let pk = ProverKey {
            n,
            g1_a: self.g1_a[..2 * n].to_vec(),
            g1_b: self.g1_b[..2 * n].to_vec(),
            g2_a: self.g2_a[..n].to_vec(),
            g2_b: self.g2_b[..n].to_vec(),
            vk: vk.clone(),
        };
        Ok((pk, vk))
    }

    /// The SRS file: `"strata-snarkpack-srs" ‖ version ‖ u32_le(N)` then g1_a, g1_b (2N points
    /// each) and g2_a, g2_b (N points each), uncompressed.
    pub fn to_bytes(&self) -> Vec<u8> {
        let n = self.max_proofs();
        let mut out = Vec::with_capacity(srs_len(n));
        out.extend_from_slice(SRS_MAGIC);
        out.push(FORMAT_VERSION);
        out.extend_from_slice(&(n as u32).to_le_bytes());
        for p in self.g1_a.iter().chain(&self.g1_b) {
            out.extend_from_slice(&p.to_uncompressed());
        }
        for p in self.g2_a.iter().chain(&self.g2_b) {
            out.extend_from_slice(&p.to_uncompressed());
        }
        out
    }

    /// Parses [`Srs::to_bytes`], with every check of [`Srs::from_powers`]: a truncated,
    /// extended or altered file is an error, never a panic.
    pub fn from_bytes(bytes: &[u8]) -> Result<Srs, AggregateError> {
        const WHAT: &str = "SRS";
        let header = SRS_MAGIC.len() + 5;
        if bytes.len() < header || &bytes[..SRS_MAGIC.len()] != SRS_MAGIC {
            return Err(AggregateError::malformed(WHAT, "not a SnarkPack SRS file"));
        }
        if bytes[SRS_MAGIC.len()] != FORMAT_VERSION {
            return Err(AggregateError::malformed(WHAT, "unknown version"));
        }
        let n = read_u32(&bytes[SRS_MAGIC.len() + 1..header]) as usize;
        check_proof_count(n).map_err(|_| AggregateError::malformed(WHAT, format!("size {n}")))?;
        if bytes.len() != srs_len(n) {
            return Err(AggregateError::malformed(
                WHAT,
                format!(
                    "{} bytes, expected {} for {n} proofs",
                    bytes.len(),
                    srs_len(n)
                ),
            ));
        }
        let (g1, g2) = bytes[header..].split_at(4 * n * curve::G1_UNCOMPRESSED_BYTES);
        let g1 = parse_g1_uncompressed(g1)?;
        let g2 = parse_g2_uncompressed(g2)?;
        let (g1_a, g1_b) = g1.split_at(2 * n);
        let (g2_a, g2_b) = g2.split_at(n);
        let srs = Srs {
            g1_a: g1_a.to_vec(),
            g1_b: g1_b.to_vec(),
            g2_a: g2_a.to_vec(),
            g2_b: g2_b.to_vec(),
        };
        srs.check(blake3::hash(bytes).as_bytes())?;
        Ok(srs)
    }

    /// The structural checks (see [`Srs::from_powers`]), with linear-combination randomness
    /// derived from `seed`, a hash of the whole SRS.
    fn check(&self, seed: &[u8; 32]) -> Result<(), AggregateError> {
        let n = self.g2_a.len();
        check_proof_count(n).map_err(|_| AggregateError::InvalidSrs(format!("size {n}")))?;
        if self.g2_b.len() != n || self.g1_a.len() != 2 * n || self.g1_b.len() != 2 * n {
            return Err(AggregateError::InvalidSrs(
                "expected 2N G1 powers and N G2 powers of each secret".into(),
            ));
        }
        let (g, h) = (G1Affine::generator(), G2Affine::generator());
        if [self.g1_a[0], self.g1_b[0]] != [g, g] || [self.g2_a[0], self.g2_b[0]] != [h, h] {
            return Err(AggregateError::InvalidSrs(
                "powers must start at the generators".into(),
            ));
        }
        for (p, name) in [(self.g1_a[1], "a"), (self.g1_b[1], "b")] {
            if bool::from(p.is_identity()) || p == g {
                return Err(AggregateError::InvalidSrs(format!(
                    "secret {name} is 0 or 1"
                )));
            }
        }
        if self.g1_a[1] == self.g1_b[1] {
            return Err(AggregateError::InvalidSrs(
                "the two secrets are equal".into(),
            ));
        }
        let seed_a = blake3::keyed_hash(seed, b"a");
        let seed_b = blake3::keyed_hash(seed, b"b");
        if !powers_are_consistent(&self.g1_a, &self.g2_a, seed_a.as_bytes())
            || !powers_are_consistent(&self.g1_b, &self.g2_b, seed_b.as_bytes())
        {
            return Err(AggregateError::InvalidSrs(
                "the points are not successive powers of one secret".into(),
            ));
        }
        Ok(())
    }
}

/// Whether g1[i] = g^{s^i} and g2[i] = h^{s^i} for one s, given g1[0] = g and g2[0] = h.
///
/// With ρ from `seed` (a hash of all the points, so fixed only after them), it checks
/// e(Σρ^i g1[i+1], h) = e(Σρ^i g1[i], h^s) and e(g, Σρ^i g2[i+1]) = e(g^s, Σρ^i g2[i]) in one
/// product of pairings (the second weighted by another power of ρ). A sequence that is not of
/// this form passes with probability at most 2N/r over ρ.
fn powers_are_consistent(g1: &[G1Affine], g2: &[G2Affine], seed: &[u8; 32]) -> bool {
    let mut wide = [0u8; 64];
    blake3::Hasher::new_keyed(seed)
        .update(b"rho")
        .finalize_xof()
        .fill(&mut wide);
    let rho = curve::scalar_from_wide(&wide);
    let rho1 = curve::powers(&rho, g1.len() - 1);
    let rho2 = curve::powers(&rho, g2.len() - 1);
    let (hi1, lo1) = (
        curve::msm_g1(&g1[1..], &rho1),
        curve::msm_g1(&g1[..g1.len() - 1], &rho1),
    );
    let (hi2, lo2) = (
        curve::msm_g2(&g2[1..], &rho2),
        curve::msm_g2(&g2[..g2.len() - 1], &rho2),
    );
    let weight = rho.pow_vartime([g1.len() as u64]);
    let g1_terms = [
        hi1.to_affine(),
        (-lo1).to_affine(),
        (G1Projective::from(g1[0]) * weight).to_affine(),
        (-(G1Projective::from(g1[1]) * weight)).to_affine(),
    ];
    let g2_terms = [g2[0], g2[1], hi2.to_affine(), lo2.to_affine()];
    curve::miller_loops(&[(&g1_terms, &g2_terms)])
        .final_exponentiation()
        .is_identity()
        .into()
}

impl ProverKey {
    /// The number of proofs this key aggregates.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The verifier key of the SRS this key was specialised from.
    pub fn verifier_key(&self) -> &VerifierKey {
        &self.vk
    }
}

impl VerifierKey {
    /// Bytes of [`VerifierKey::to_bytes`].
    pub const BYTES: usize = VK_MAGIC.len() + 5 + 3 * curve::G1_BYTES + 3 * curve::G2_BYTES;

    /// The largest number of proofs in an aggregate this key accepts.
    pub fn max_proofs(&self) -> usize {
        self.max_proofs
    }

    /// `"strata-snarkpack-vk" ‖ version ‖ u32_le(N) ‖ g ‖ h ‖ g^a ‖ g^b ‖ h^a ‖ h^b`, points
    /// compressed.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::BYTES);
        out.extend_from_slice(VK_MAGIC);
        out.push(FORMAT_VERSION);
        out.extend_from_slice(&(self.max_proofs as u32).to_le_bytes());
        for p in [self.g, self.g_a, self.g_b] {
            out.extend_from_slice(&p.to_compressed());
        }
        for p in [self.h, self.h_a, self.h_b] {
            out.extend_from_slice(&p.to_compressed());
        }
        out
    }

    /// Parses [`VerifierKey::to_bytes`]: checks the length, every point, the generators, that
    /// g^a and h^a (and g^b and h^b) share their exponent, and that the secrets differ and are
    /// not 0 or 1.
    pub fn from_bytes(bytes: &[u8]) -> Result<VerifierKey, AggregateError> {
        const WHAT: &str = "verifier key";
        if bytes.len() != Self::BYTES || &bytes[..VK_MAGIC.len()] != VK_MAGIC {
            return Err(AggregateError::malformed(WHAT, "wrong length or magic"));
        }
        if bytes[VK_MAGIC.len()] != FORMAT_VERSION {
            return Err(AggregateError::malformed(WHAT, "unknown version"));
        }
        let max_proofs = read_u32(&bytes[VK_MAGIC.len() + 1..VK_MAGIC.len() + 5]) as usize;
        check_proof_count(max_proofs)
            .map_err(|_| AggregateError::malformed(WHAT, format!("size {max_proofs}")))?;
        let body = &bytes[VK_MAGIC.len() + 5..];
        let g1 = |i: usize| {
            let chunk = &body[i * curve::G1_BYTES..(i + 1) * curve::G1_BYTES];
            curve::g1_from_bytes(chunk.try_into().expect("48-byte chunk"))
                .ok_or_else(|| AggregateError::malformed(WHAT, "invalid G1 point"))
        };
        let g2_at = 3 * curve::G1_BYTES;
        let g2 = |i: usize| {
            let start = g2_at + i * curve::G2_BYTES;
            curve::g2_from_bytes(body[start..start + curve::G2_BYTES].try_into().expect("96"))
                .ok_or_else(|| AggregateError::malformed(WHAT, "invalid G2 point"))
        };
        let vk = VerifierKey {
            max_proofs,
            g: g1(0)?,
            g_a: g1(1)?,
            g_b: g1(2)?,
            h: g2(0)?,
            h_a: g2(1)?,
            h_b: g2(2)?,
        };
        vk.check()?;
        Ok(vk)
    }

    fn check(&self) -> Result<(), AggregateError> {
        let (g, h) = (G1Affine::generator(), G2Affine::generator());
        if self.g != g || self.h != h {
            return Err(AggregateError::InvalidSrs(
                "not the standard generators".into(),
            ));
        }
        if self.g_a == self.g_b
            || [self.g_a, self.g_b]
                .iter()
                .any(|p| *p == g || bool::from(p.is_identity()))
        {
            return Err(AggregateError::InvalidSrs("degenerate secrets".into()));
        }
        let g1 = [self.g_a, -self.g, self.g_b, -self.g];
        let g2 = [self.h, self.h_a, self.h, self.h_b];
        // Both equalities at once, the second weighted by a hash of the key.
        let w = curve::scalar_from_wide(&{
            let mut wide = [0u8; 64];
            blake3::Hasher::new_derive_key("strata-snarkpack-v1 vk check")
                .update(&self.to_bytes())
                .finalize_xof()
                .fill(&mut wide);
            wide
        });
        let g1 = [
            g1[0],
            g1[1],
            (g1[2] * w).to_affine(),
            (g1[3] * w).to_affine(),
        ];
        let ok: bool = curve::miller_loops(&[(&g1, &g2)])
            .final_exponentiation()
            .is_identity()
            .into();
        if !ok {
            return Err(AggregateError::InvalidSrs(
                "G1 and G2 secrets differ".into(),
            ));
        }
        Ok(())
    }

    /// BLAKE3 digest of [`VerifierKey::to_bytes`] (keyed by this protocol's domain): what a
    /// chain or a proof file records to name the key.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = blake3::Hasher::new_derive_key("strata-snarkpack-v1 verifier key");
        h.update(&self.to_bytes());
        *h.finalize().as_bytes()
    }
}

fn srs_len(n: usize) -> usize {
    SRS_MAGIC.len()
        + 5
        + 4 * n * curve::G1_UNCOMPRESSED_BYTES
        + 2 * n * curve::G2_UNCOMPRESSED_BYTES
}

fn read_u32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes(bytes.try_into().expect("4 bytes"))
}

fn parse_g1_uncompressed(bytes: &[u8]) -> Result<Vec<G1Affine>, AggregateError> {
    bytes
        .par_chunks_exact(curve::G1_UNCOMPRESSED_BYTES)
        .map(|c| {
            Option::from(G1Affine::from_uncompressed(c.try_into().expect("96 bytes")))
                .ok_or_else(|| AggregateError::malformed("SRS", "invalid G1 point"))
        })
        .collect()
}

fn parse_g2_uncompressed(bytes: &[u8]) -> Result<Vec<G2Affine>, AggregateError> {
    bytes
        .par_chunks_exact(curve::G2_UNCOMPRESSED_BYTES)
        .map(|c| {
            Option::from(G2Affine::from_uncompressed(
                c.try_into().expect("192 bytes"),
            ))
            .ok_or_else(|| AggregateError::malformed("SRS", "invalid G2 point"))
        })
        .collect()
}

fn fixed_base_g1(scalars: &[Scalar]) -> Vec<G1Affine> {
    let g = G1Projective::generator();
    let proj: Vec<G1Projective> = scalars.par_iter().map(|s| g * s).collect();
    let mut out = vec![G1Affine::identity(); proj.len()];
    G1Projective::batch_normalize(&proj, &mut out);
    out
}

fn fixed_base_g2(scalars: &[Scalar]) -> Vec<G2Affine> {
    let h = G2Projective::generator();
    let proj: Vec<G2Projective> = scalars.par_iter().map(|s| h * s).collect();
    let mut out = vec![G2Affine::identity(); proj.len()];
    G2Projective::batch_normalize(&proj, &mut out);
    out
}
