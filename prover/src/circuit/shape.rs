//! A constraint system that records only a circuit's shape: counts of constraints, public inputs
//! and private variables, and a BLAKE3 digest of every constraint's linear combinations. It never
//! asks for witness values, so blank circuits synthesize, and two circuits with the same digest
//! have the same R1CS — the key under which Groth16 parameters are stored and checked.

use bellman::{ConstraintSystem, Index, LinearCombination, SynthesisError, Variable};
use bls12_381::Scalar;
use ff::PrimeField;

/// The shape of a synthesized circuit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircuitShape {
    /// Number of constraints.
    pub constraints: usize,
    /// Number of public inputs (excluding the constant one).
    pub inputs: usize,
    /// Number of private variables.
    pub aux: usize,
    /// BLAKE3 of the constraints, hex.
    pub digest: String,
}

/// The recording constraint system.
pub struct ShapeCs {
    constraints: usize,
    inputs: usize,
    aux: usize,
    hasher: blake3::Hasher,
}

impl Default for ShapeCs {
    fn default() -> Self {
        ShapeCs {
            constraints: 0,
            inputs: 1,
            aux: 0,
            hasher: blake3::Hasher::new(),
        }
    }
}

impl ShapeCs {
    /// The recorded shape.
    pub fn shape(&self) -> CircuitShape {
        CircuitShape {
            constraints: self.constraints,
            inputs: self.inputs - 1,
            aux: self.aux,
            digest: self.hasher.finalize().to_hex().to_string(),
        }
    }

    fn absorb(&mut self, lc: &LinearCombination<Scalar>) {
        let mut terms: Vec<(u8, usize, [u8; 32])> = Vec::new();
        for (var, coeff) in lc.as_ref() {
            let (kind, i) = match var.get_unchecked() {
                Index::Input(i) => (0u8, i),
                Index::Aux(i) => (1u8, i),
            };
            terms.push((kind, i, coeff.to_repr()));
        }
        // Merge duplicate variables so equal R1CS give equal digests however they were built.
        terms.sort_by_key(|t| (t.0, t.1));
        let mut merged: Vec<(u8, usize, Scalar)> = Vec::new();
        for (k, i, c) in terms {
            let c = Scalar::from_repr(c).unwrap();
            match merged.last_mut() {
                Some(last) if last.0 == k && last.1 == i => last.2 += c,
                _ => merged.push((k, i, c)),
            }
        }
        self.hasher.update(&(merged.len() as u64).to_le_bytes());
        for (k, i, c) in merged {
            self.hasher
                .update(&[k])
                .update(&(i as u64).to_le_bytes())
                .update(&c.to_repr());
        }
    }
}

impl ConstraintSystem<Scalar> for ShapeCs {
    type Root = Self;

    fn alloc<F, A, AR>(&mut self, _: A, _: F) -> Result<Variable, SynthesisError>
    where
        F: FnOnce() -> Result<Scalar, SynthesisError>,
        A: FnOnce() -> AR,
        AR: Into<String>,
    {
        self.aux += 1;
        Ok(Variable::new_unchecked(Index::Aux(self.aux - 1)))
    }

    fn alloc_input<F, A, AR>(&mut self, _: A, _: F) -> Result<Variable, SynthesisError>
    where
        F: FnOnce() -> Result<Scalar, SynthesisError>,
        A: FnOnce() -> AR,
        AR: Into<String>,
    {
        self.inputs += 1;
        Ok(Variable::new_unchecked(Index::Input(self.inputs - 1)))
    }

    fn enforce<A, AR, LA, LB, LC>(&mut self, _: A, a: LA, b: LB, c: LC)
    where
        A: FnOnce() -> AR,
        AR: Into<String>,
        LA: FnOnce(LinearCombination<Scalar>) -> LinearCombination<Scalar>,
        LB: FnOnce(LinearCombination<Scalar>) -> LinearCombination<Scalar>,
        LC: FnOnce(LinearCombination<Scalar>) -> LinearCombination<Scalar>,
    {
        self.constraints += 1;
        for lc in [
            a(LinearCombination::zero()),
            b(LinearCombination::zero()),
            c(LinearCombination::zero()),
        ] {
            self.absorb(&lc);
        }
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

/// Synthesizes `circuit` (blank or not) and returns its shape.
pub fn circuit_shape<C: bellman::Circuit<Scalar>>(
    circuit: C,
) -> Result<CircuitShape, SynthesisError> {
    let mut cs = ShapeCs::default();
    circuit.synthesize(&mut cs)?;
    Ok(cs.shape())
}
