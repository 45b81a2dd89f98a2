//! Records a circuit's R1CS matrices constraint by constraint (flat arrays, no per-variable
//! vectors) and evaluates each variable's QAP polynomials at τ from the Lagrange coefficients.

use bellman::{ConstraintSystem, Index, LinearCombination, SynthesisError, Variable};
use bls12_381::Scalar;
use ff::Field;
use std::io;

/// One matrix of the R1CS, row (constraint) major.
#[derive(Default)]
struct Matrix {
    /// End offset in `terms` of each row.
    ends: Vec<usize>,
    /// Non-zero terms: the variable (`index << 1 | is_aux`) and its coefficient.
    terms: Vec<(u64, Scalar)>,
}

impl Matrix {
    fn push_row(&mut self, lc: &LinearCombination<Scalar>) {
        for (var, coeff) in lc.as_ref() {
            if bool::from(coeff.is_zero()) {
                continue;
            }
            let tag = match var.get_unchecked() {
                Index::Input(i) => (i as u64) << 1,
                Index::Aux(i) => ((i as u64) << 1) | 1,
            };
            self.terms.push((tag, *coeff));
        }
        self.ends.push(self.terms.len());
    }

    /// `Σ_rows coeff·lagrange[row]` per variable: inputs first, then auxiliary variables.
    fn evaluate(
        &self,
        lagrange: &[Scalar],
        num_inputs: usize,
        num_aux: usize,
    ) -> Result<Vec<Scalar>, SynthesisError> {
        let mut acc = vec![Scalar::ZERO; num_inputs + num_aux];
        let mut start = 0;
        for (&end, l) in self.ends.iter().zip(lagrange) {
            for &(tag, coeff) in &self.terms[start..end] {
                let index = (tag >> 1) as usize;
                let column = if tag & 1 == 0 {
                    (index < num_inputs).then_some(index)
                } else {
                    (index < num_aux).then_some(num_inputs + index)
                };
                let slot = column.and_then(|c| acc.get_mut(c)).ok_or_else(|| {
                    SynthesisError::IoError(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "a constraint names a variable that was never allocated",
                    ))
                })?;
                if coeff == Scalar::ONE {
                    *slot += l;
                } else {
                    *slot += coeff * l;
                }
            }
            start = end;
        }
        Ok(acc)
    }
}

/// One matrix by columns: per variable (inputs first, then auxiliary), its `(row, coefficient)`
/// terms in row order.
pub type Columns = Vec<Vec<(u32, Scalar)>>;

/// The QAP polynomials of every variable (inputs first, then auxiliary) evaluated at τ.
pub struct QapAtTau {
    /// `u_j(τ)` (the A matrix).
    pub a: Vec<Scalar>,
    /// `v_j(τ)` (the B matrix).
    pub b: Vec<Scalar>,
    /// `w_j(τ)` (the C matrix).
    pub c: Vec<Scalar>,
}

/// A constraint system that records the three matrices and never asks for witness values.
#[derive(Default)]
pub struct KeypairAssembly {
    num_inputs: usize,
    num_aux: usize,
    a: Matrix,
    b: Matrix,
    c: Matrix,
}

impl KeypairAssembly {
    /// Synthesizes `circuit` exactly as `groth16`'s generator and prover see it: the constant-one
    /// input first, then the circuit, then `input · 0 = 0` for every input (so the IC query and
    /// the inputs' A query are fully dense).
    pub fn synthesize<C: bellman::Circuit<Scalar>>(circuit: C) -> Result<Self, SynthesisError> {
        let mut cs = KeypairAssembly::default();
        cs.alloc_input(|| "one", || Ok(Scalar::ONE))?;
        circuit.synthesize(&mut cs)?;
        for i in 0..cs.num_inputs {
            cs.enforce(
                || "input",
                |lc| lc + Variable::new_unchecked(Index::Input(i)),
                |lc| lc,
                |lc| lc,
            );
        }
        Ok(cs)
    }

    /// Constraints, including the input constraints.
    pub fn num_constraints(&self) -> usize {
        self.a.ends.len()
    }

    /// Public inputs, including the constant one.
    pub fn num_inputs(&self) -> usize {
        self.num_inputs
    }

    /// Auxiliary (private) variables.
    pub fn num_aux(&self) -> usize {
        self.num_aux
    }

    /// The matrices as columns: for A, B and C, per variable (inputs first, then auxiliary),
    /// its `(row, coefficient)` terms in row order. What a multi-party setup needs to evaluate
    /// the QAP in the exponent, where τ is unknown. Errors on a term naming an unallocated
    /// variable.
    pub fn columns(&self) -> Result<[Columns; 3], SynthesisError> {
        let (ni, na) = (self.num_inputs, self.num_aux);
        let column = |m: &Matrix| -> Result<Vec<Vec<(u32, Scalar)>>, SynthesisError> {
            let mut cols = vec![Vec::new(); ni + na];
            let mut start = 0;
            for (row, &end) in m.ends.iter().enumerate() {
                for &(tag, coeff) in &m.terms[start..end] {
                    let index = (tag >> 1) as usize;
                    let c = if tag & 1 == 0 {
                        (index < ni).then_some(index)
                    } else {
                        (index < na).then_some(ni + index)
                    };
                    let slot = c.and_then(|c| cols.get_mut(c)).ok_or_else(|| {
                        SynthesisError::IoError(io::Error::new(
                            io::ErrorKind::InvalidInput,
                            "a constraint names a variable that was never allocated",
                        ))
                    })?;
                    slot.push((row as u32, coeff));
                }
                start = end;
            }
            Ok(cols)
        };
        Ok([column(&self.a)?, column(&self.b)?, column(&self.c)?])
    }

    /// Evaluates the three matrices' polynomials at τ (one matrix per task), given the Lagrange
    /// basis at τ (`lagrange[i] = L_i(τ)`, at least one per constraint).
    pub fn evaluate(self, lagrange: &[Scalar]) -> Result<QapAtTau, SynthesisError> {
        let (ni, na) = (self.num_inputs, self.num_aux);
        let (a, (b, c)) = rayon::join(
            || self.a.evaluate(lagrange, ni, na),
            || {
                rayon::join(
                    || self.b.evaluate(lagrange, ni, na),
                    || self.c.evaluate(lagrange, ni, na),
                )
            },
        );
        Ok(QapAtTau {
            a: a?,
            b: b?,
            c: c?,
        })
    }
}

impl ConstraintSystem<Scalar> for KeypairAssembly {
    type Root = Self;

    fn alloc<F, A, AR>(&mut self, _: A, _: F) -> Result<Variable, SynthesisError>
    where
        F: FnOnce() -> Result<Scalar, SynthesisError>,
        A: FnOnce() -> AR,
        AR: Into<String>,
    {
        // No assignment is needed (or asked for) to generate parameters.
        self.num_aux += 1;
        Ok(Variable::new_unchecked(Index::Aux(self.num_aux - 1)))
    }

    fn alloc_input<F, A, AR>(&mut self, _: A, _: F) -> Result<Variable, SynthesisError>
    where
        F: FnOnce() -> Result<Scalar, SynthesisError>,
        A: FnOnce() -> AR,
        AR: Into<String>,
    {
        self.num_inputs += 1;
        Ok(Variable::new_unchecked(Index::Input(self.num_inputs - 1)))
    }

    fn enforce<A, AR, LA, LB, LC>(&mut self, _: A, a: LA, b: LB, c: LC)
    where
        A: FnOnce() -> AR,
        AR: Into<String>,
        LA: FnOnce(LinearCombination<Scalar>) -> LinearCombination<Scalar>,
        LB: FnOnce(LinearCombination<Scalar>) -> LinearCombination<Scalar>,
        LC: FnOnce(LinearCombination<Scalar>) -> LinearCombination<Scalar>,
    {
        self.a.push_row(&a(LinearCombination::zero()));
        self.b.push_row(&b(LinearCombination::zero()));
        self.c.push_row(&c(LinearCombination::zero()));
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
