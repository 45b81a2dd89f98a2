//! Linear combinations with merged coefficients and a tracked witness value.
//!
//! bellman's `LinearCombination` appends terms without merging, so a permutation that keeps
//! multiplying its state by a matrix would grow them without bound. [`Elt`] keeps one coefficient
//! per variable of a local table, so a state element never has more terms than there are
//! variables in play, and carries its value so witnesses need no second pass.

use bellman::{ConstraintSystem, LinearCombination, SynthesisError, Variable};
use bls12_381::Scalar;
use ff::Field;

/// The variables a gadget's elements are combinations of.
#[derive(Default)]
pub struct Vars {
    vars: Vec<Variable>,
    vals: Vec<Option<Scalar>>,
}

impl Vars {
    /// Registers a variable; returns the element equal to it.
    pub fn push(&mut self, var: Variable, val: Option<Scalar>) -> Elt {
        self.vars.push(var);
        self.vals.push(val);
        let mut coeffs = vec![Scalar::ZERO; self.vars.len()];
        coeffs[self.vars.len() - 1] = Scalar::ONE;
        Elt {
            coeffs,
            constant: Scalar::ZERO,
            value: val,
        }
    }

    /// The bellman linear combination of `e` (constants on `CS::one()`).
    pub fn lc<CS: ConstraintSystem<Scalar>>(&self, e: &Elt) -> LinearCombination<Scalar> {
        let mut lc = LinearCombination::zero();
        for (c, v) in e.coeffs.iter().zip(&self.vars) {
            if !bool::from(c.is_zero()) {
                lc = lc + (*c, *v);
            }
        }
        if !bool::from(e.constant.is_zero()) {
            lc = lc + (e.constant, CS::one());
        }
        lc
    }

    /// Allocates `x = e^5` with three constraints: `e·e = x2`, `x2·x2 = x4`, `x4·e = x`.
    pub fn pow5<CS: ConstraintSystem<Scalar>>(
        &mut self,
        mut cs: CS,
        e: &Elt,
    ) -> Result<Elt, SynthesisError> {
        let v = e.value;
        let v2 = v.map(|x| x.square());
        let v4 = v2.map(|x| x.square());
        let v5 = v4.zip(v).map(|(a, b)| a * b);
        let x2 = cs.alloc(|| "x2", || v2.ok_or(SynthesisError::AssignmentMissing))?;
        let x4 = cs.alloc(|| "x4", || v4.ok_or(SynthesisError::AssignmentMissing))?;
        let x5 = cs.alloc(|| "x5", || v5.ok_or(SynthesisError::AssignmentMissing))?;
        let a = self.lc::<CS>(e);
        cs.enforce(|| "x^2", |lc| lc + &a, |lc| lc + &a, |lc| lc + x2);
        cs.enforce(|| "x^4", |lc| lc + x2, |lc| lc + x2, |lc| lc + x4);
        cs.enforce(|| "x^5", |lc| lc + x4, |lc| lc + &a, |lc| lc + x5);
        Ok(self.push(x5, v5))
    }
}

/// A linear combination of registered variables plus a constant, with its value if known.
#[derive(Clone, Debug)]
pub struct Elt {
    coeffs: Vec<Scalar>,
    constant: Scalar,
    value: Option<Scalar>,
}

impl Elt {
    /// The constant `c`.
    pub fn constant(c: Scalar) -> Self {
        Elt {
            coeffs: Vec::new(),
            constant: c,
            value: Some(c),
        }
    }

    /// The witness value, if assigned.
    pub fn value(&self) -> Option<Scalar> {
        self.value
    }

    /// `self + c`.
    pub fn add_constant(&mut self, c: Scalar) {
        self.constant += c;
        self.value = self.value.map(|v| v + c);
    }

    /// `Σ k_i · e_i`.
    pub fn combine(terms: &[(Scalar, &Elt)]) -> Elt {
        let len = terms.iter().map(|(_, e)| e.coeffs.len()).max().unwrap_or(0);
        let mut coeffs = vec![Scalar::ZERO; len];
        let mut constant = Scalar::ZERO;
        let mut value = Some(Scalar::ZERO);
        for (k, e) in terms {
            for (c, x) in coeffs.iter_mut().zip(&e.coeffs) {
                *c += *k * x;
            }
            constant += *k * e.constant;
            value = value.zip(e.value).map(|(a, b)| a + *k * b);
        }
        Elt {
            coeffs,
            constant,
            value,
        }
    }
}
