//! Native Poseidon over BLS12-381's scalar field, bit-compatible with neptune (Filecoin's Poseidon)
//! in its Merkle-tree mode: width `t = arity + 1`, x^5 S-box, `R_F = 8`, neptune's `R_P`,
//! Grain-LFSR round constants, the Cauchy MDS matrix, `state[0] = 2^arity − 1`, output `state[1]`.
//!
//! Three evaluations live side by side, in the spirit of BLAKE3's reference implementation:
//! - [`Poseidon::hash_reference`]: the textbook permutation (add constants, S-box, dense MDS per
//!   round). Short and obviously right; the tests pin it to neptune's vectors.
//! - [`Poseidon::hash_scalar`]: the optimised schedule over `bls12_381::Scalar`, the one the
//!   circuit mirrors. Two exact rewrites of the reference make it fast:
//!   1. *Constants pushed forward.* In a partial round only `state[0]` goes through the S-box, so the
//!      other `t − 1` round constants pass through it linearly; they are multiplied by the MDS matrix
//!      and added to the next round's constants instead. Each partial round then adds one scalar.
//!   2. *Sparse partial-round matrices.* The MDS matrix `M` factors as `S · B` with `S` sparse
//!      (dense first row and column, identity elsewhere) and `B = diag(1, M̂)`. `B` commutes with a
//!      partial round, so it is folded into the previous round's matrix; repeating from the last
//!      partial round backwards leaves `2t − 1` multiplications per partial round instead of `t²`,
//!      and one dense "pre-sparse" matrix in the last full round of the first half.
//! - The fast path (`fast.rs`, `ifma.rs`): the same schedule over blst's assembly field arithmetic,
//!   and, for batches on CPUs with AVX-512 IFMA, eight hashes at once in SIMD lanes. It serves
//!   [`Poseidon::hash`] and the node-level entry points the sealer and tree builder call:
//!   [`Poseidon::hash_nodes`], [`Poseidon::hash_node_groups`] (a tree level) and
//!   [`Poseidon::hash_node_columns`] (tree_c's column hashes).
//!
//! The tests check all three against each other on random and edge inputs and against the vendored
//! vectors in `primitives/testdata/poseidon.jsonl`.

mod fast;
mod grain;
#[cfg(target_arch = "x86_64")]
mod ifma;
pub mod matrix;

use bls12_381::Scalar;
use ff::Field;
use matrix::{Matrix, Sparse};
use std::sync::OnceLock;

/// Number of full rounds (half before the partial rounds, half after).
pub const FULL_ROUNDS: usize = 8;

/// neptune's partial round count for a width `t` at standard (128-bit) strength.
pub fn partial_rounds(t: usize) -> Option<usize> {
    match t {
        3 => Some(55),
        9 | 12 => Some(57),
        _ => None,
    }
}

/// Arities this crate provides constants for: binary trees, arity-8 trees, 11-layer columns.
pub const SUPPORTED_ARITIES: [usize; 3] = [2, 8, 11];

/// Precomputed constants of one Poseidon instance (one arity).
#[derive(Debug)]
pub struct Poseidon {
    arity: usize,
    width: usize,
    partial_rounds: usize,
    domain_tag: Scalar,
    // Reference form.
    round_constants: Vec<Scalar>,
    mds: Matrix,
    // Optimised form.
    full_constants: Vec<Vec<Scalar>>, // 8 rounds × t, the first second-half round carrying the pushed tail
    partial_constants: Vec<Scalar>,   // one scalar per partial round
    pre_sparse: Matrix,               // replaces M in the last first-half full round
    sparse: Vec<Sparse>,              // one per partial round, in round order
    // The optimised form's constants over blst (the fast path).
    fast: fast::FastConstants,
    // The same, for the AVX-512 IFMA batch path.
    #[cfg(target_arch = "x86_64")]
    ifma: ifma::IfmaConstants,
}

impl Poseidon {
    /// The instance for `arity` (2, 8 or 11), built once and cached; `None` for other arities.
    pub fn for_arity(arity: usize) -> Option<&'static Poseidon> {
        static P2: OnceLock<Poseidon> = OnceLock::new();
        static P8: OnceLock<Poseidon> = OnceLock::new();
        static P11: OnceLock<Poseidon> = OnceLock::new();
        let cell = match arity {
            2 => &P2,
            8 => &P8,
            11 => &P11,
            _ => return None,
        };
        Some(cell.get_or_init(|| Poseidon::new(arity)))
    }

    fn new(arity: usize) -> Self {
        let width = arity + 1;
        let r_p = partial_rounds(width).expect("supported arity");
        let round_constants = grain::round_constants(width, FULL_ROUNDS, r_p);
        let mds = matrix::cauchy_mds(width);
        let domain_tag = Scalar::from((1u64 << arity) - 1);

        let half = FULL_ROUNDS / 2;
        let rc = |r: usize| round_constants[r * width..(r + 1) * width].to_vec();

        // 1. Push the non-first constants of each partial round forward through M.
        let mut partial_constants = Vec::with_capacity(r_p);
        let mut carry = vec![Scalar::ZERO; width];
        for p in 0..r_p {
            let mut acc = rc(half + p);
            for (a, c) in acc.iter_mut().zip(&carry) {
                *a += c;
            }
            partial_constants.push(acc[0]);
            acc[0] = Scalar::ZERO;
            carry = matrix::apply(&mds, &acc);
        }
        let mut full_constants: Vec<Vec<Scalar>> = (0..half).map(rc).collect();
        let mut first_after = rc(half + r_p);
        for (a, c) in first_after.iter_mut().zip(&carry) {
            *a += c;
        }
        full_constants.push(first_after);
        full_constants.extend((half + r_p + 1..FULL_ROUNDS + r_p).map(rc));

        // 2. Factor the partial rounds' matrices into sparse ones, from the last round backwards.
        let mut sparse = Vec::with_capacity(r_p);
        let mut dense = mds.clone();
        for _ in 0..r_p {
            let (s, b) = matrix::factor_sparse(&dense).expect("MDS minors are invertible");
            sparse.push(s);
            dense = matrix::mul(&b, &mds);
        }
        sparse.reverse();
        let pre_sparse = dense;

        let mut p = Poseidon {
            arity,
            width,
            partial_rounds: r_p,
            domain_tag,
            round_constants,
            mds,
            full_constants,
            partial_constants,
            pre_sparse,
            sparse,
            fast: fast::FastConstants::default(),
            #[cfg(target_arch = "x86_64")]
            ifma: ifma::IfmaConstants::default(),
        };
        p.fast = fast::FastConstants::new(&p);
        #[cfg(target_arch = "x86_64")]
        {
            p.ifma = ifma::IfmaConstants::new(&p);
        }
        p
    }

    /// The number of inputs this instance hashes.
    pub fn arity(&self) -> usize {
        self.arity
    }

    /// State width `t = arity + 1`.
    pub fn width(&self) -> usize {
        self.width
    }

    /// neptune's partial round count for this width.
    pub fn partial_round_count(&self) -> usize {
        self.partial_rounds
    }

    /// `2^arity − 1`, placed in `state[0]`.
    pub fn domain_tag(&self) -> Scalar {
        self.domain_tag
    }

    /// The optimised schedule, for circuits that mirror [`Poseidon::hash`]: the 8 full rounds'
    /// constants (the first of the second half carrying the pushed partial-round tails).
    pub fn optimised_full_constants(&self) -> &[Vec<Scalar>] {
        &self.full_constants
    }

    /// One scalar constant per partial round, added to `state[0]` before its S-box.
    pub fn optimised_partial_constants(&self) -> &[Scalar] {
        &self.partial_constants
    }

    /// The dense MDS matrix `M`.
    pub fn mds(&self) -> &Matrix {
        &self.mds
    }

    /// The matrix replacing `M` in the last full round of the first half.
    pub fn pre_sparse(&self) -> &Matrix {
        &self.pre_sparse
    }

    /// The sparse matrices of the partial rounds, in round order.
    pub fn sparse_matrices(&self) -> &[Sparse] {
        &self.sparse
    }

    /// The textbook permutation; the reference the optimised [`Poseidon::hash`] must equal.
    pub fn hash_reference(&self, inputs: &[Scalar]) -> Scalar {
        assert_eq!(inputs.len(), self.arity, "Poseidon arity mismatch");
        let t = self.width;
        let mut state = self.initial_state(inputs);
        let total = FULL_ROUNDS + self.partial_rounds;
        for r in 0..total {
            for (s, c) in state
                .iter_mut()
                .zip(&self.round_constants[r * t..(r + 1) * t])
            {
                *s += c;
            }
            let full = r < FULL_ROUNDS / 2 || r >= FULL_ROUNDS / 2 + self.partial_rounds;
            if full {
                state.iter_mut().for_each(sbox);
            } else {
                sbox(&mut state[0]);
            }
            state = matrix::apply(&self.mds, &state);
        }
        state[1]
    }

    /// The optimised schedule over `Scalar`s (what the circuit mirrors): equal to
    /// [`Poseidon::hash_reference`]; [`Poseidon::hash`] evaluates the same schedule over blst.
    ///
    /// # Panics
    /// If `inputs.len()` is not the arity.
    pub fn hash_scalar(&self, inputs: &[Scalar]) -> Scalar {
        assert_eq!(inputs.len(), self.arity, "Poseidon arity mismatch");
        let mut buf = [Scalar::ZERO; 16];
        let state = &mut buf[..self.width];
        state[0] = self.domain_tag;
        state[1..].copy_from_slice(inputs);
        let half = FULL_ROUNDS / 2;
        let mut tmp = [Scalar::ZERO; 16];
        for r in 0..half {
            self.full_round(state, &self.full_constants[r], &mut tmp, r + 1 == half);
        }
        for (c, s) in self.partial_constants.iter().zip(&self.sparse) {
            state[0] += c;
            sbox(&mut state[0]);
            s.apply(state);
        }
        for r in half..FULL_ROUNDS {
            self.full_round(state, &self.full_constants[r], &mut tmp, false);
        }
        state[1]
    }

    #[inline]
    fn full_round(
        &self,
        state: &mut [Scalar],
        constants: &[Scalar],
        tmp: &mut [Scalar; 16],
        pre_sparse: bool,
    ) {
        for (s, c) in state.iter_mut().zip(constants) {
            *s += c;
            sbox(s);
        }
        let m = if pre_sparse {
            &self.pre_sparse
        } else {
            &self.mds
        };
        let out = &mut tmp[..self.width];
        for (o, row) in out.iter_mut().zip(m) {
            let mut acc = Scalar::ZERO;
            for (a, b) in row.iter().zip(state.iter()) {
                acc += a * b;
            }
            *o = acc;
        }
        state.copy_from_slice(out);
    }

    fn initial_state(&self, inputs: &[Scalar]) -> Vec<Scalar> {
        let mut state = Vec::with_capacity(self.width);
        state.push(self.domain_tag);
        state.extend_from_slice(inputs);
        state
    }
}

#[inline(always)]
fn sbox(x: &mut Scalar) {
    let x2 = x.square();
    let x4 = x2.square();
    *x *= x4;
}

/// Poseidon of `inputs` with the arity given by their count (2, 8 or 11).
///
/// # Panics
/// If `inputs.len()` is not a supported arity; callers pass fixed-size tree rows or columns.
pub fn hash(inputs: &[Scalar]) -> Scalar {
    Poseidon::for_arity(inputs.len())
        .unwrap_or_else(|| panic!("no Poseidon constants for arity {}", inputs.len()))
        .hash(inputs)
}

#[cfg(test)]
mod tests;
