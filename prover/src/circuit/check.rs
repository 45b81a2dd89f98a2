//! A fast satisfaction checker: evaluates every constraint as it is enforced and keeps only
//! counters, the public inputs and the first unsatisfied constraint's index. It checks circuits of
//! millions of constraints (the PoRep circuit) without storing them, where bellman's
//! `TestConstraintSystem` keeps every constraint and its name.

use bellman::{ConstraintSystem, Index, LinearCombination, SynthesisError, Variable};
use bls12_381::Scalar;
use ff::Field;

/// The checking constraint system.
pub struct CheckCs {
    inputs: Vec<Scalar>,
    aux: Vec<Scalar>,
    constraints: usize,
    first_failure: Option<usize>,
}

impl Default for CheckCs {
    fn default() -> Self {
        CheckCs {
            inputs: vec![Scalar::ONE],
            aux: Vec::new(),
            constraints: 0,
            first_failure: None,
        }
    }
}

impl CheckCs {
    fn eval(&self, lc: &LinearCombination<Scalar>) -> Scalar {
        lc.as_ref().iter().fold(Scalar::ZERO, |acc, (v, c)| {
            acc + *c
                * match v.get_unchecked() {
                    Index::Input(i) => self.inputs[i],
                    Index::Aux(i) => self.aux[i],
                }
        })
    }

    /// True if every constraint held.
    pub fn is_satisfied(&self) -> bool {
        self.first_failure.is_none()
    }

    /// The index of the first constraint that did not hold.
    pub fn first_failure(&self) -> Option<usize> {
        self.first_failure
    }

    /// Constraints enforced.
    pub fn num_constraints(&self) -> usize {
        self.constraints
    }

    /// The public inputs assigned (without the constant one).
    pub fn inputs(&self) -> &[Scalar] {
        &self.inputs[1..]
    }
}

impl ConstraintSystem<Scalar> for CheckCs {
    type Root = Self;

    fn alloc<F, A, AR>(&mut self, _: A, f: F) -> Result<Variable, SynthesisError>
    where
        F: FnOnce() -> Result<Scalar, SynthesisError>,
        A: FnOnce() -> AR,
        AR: Into<String>,
    {
        self.aux.push(f()?);
        Ok(Variable::new_unchecked(Index::Aux(self.aux.len() - 1)))
    }

    fn alloc_input<F, A, AR>(&mut self, _: A, f: F) -> Result<Variable, SynthesisError>
    where
        F: FnOnce() -> Result<Scalar, SynthesisError>,
        A: FnOnce() -> AR,
        AR: Into<String>,
    {
        self.inputs.push(f()?);
        Ok(Variable::new_unchecked(Index::Input(self.inputs.len() - 1)))
    }

    fn enforce<A, AR, LA, LB, LC>(&mut self, _: A, a: LA, b: LB, c: LC)
    where
        A: FnOnce() -> AR,
        AR: Into<String>,
        LA: FnOnce(LinearCombination<Scalar>) -> LinearCombination<Scalar>,
        LB: FnOnce(LinearCombination<Scalar>) -> LinearCombination<Scalar>,
        LC: FnOnce(LinearCombination<Scalar>) -> LinearCombination<Scalar>,
    {
        let (a, b, c) = (
            a(LinearCombination::zero()),
            b(LinearCombination::zero()),
            c(LinearCombination::zero()),
        );
        if self.first_failure.is_none() && self.eval(&a) * self.eval(&b) != self.eval(&c) {
            self.first_failure = Some(self.constraints);
        }
        self.constraints += 1;
    }

    fn push_namespace<NR, N>(&mut self, _: N)
    where
        NR: Into<String>,
        N: FnOnce() -> NR,
    {
    }

    fn pop_namespace(&mut self) {}

    fn get_root(&mut self) -> &mut Self::Root {
        self
    }
}
