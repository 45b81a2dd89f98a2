//! A tiny circuit whose proofs are instant, and the fixtures shared by the tests.
//!
//! The circuit proves knowledge of x, y with x·y = z and x + y = s, for public inputs (z, s).

#![allow(dead_code)]

use bellman::{Circuit, ConstraintSystem, SynthesisError};
use bls12_381::{Bls12, Scalar};
use groth16::{Parameters, Proof};
use rand::SeedableRng;
use std::sync::OnceLock;
use strata_aggregate::{Srs, VerifierKey};

/// x·y = z and x + y = s, with z and s public.
#[derive(Clone, Copy)]
pub struct Product {
    pub x: Option<Scalar>,
    pub y: Option<Scalar>,
}

impl Circuit<Scalar> for Product {
    fn synthesize<CS: ConstraintSystem<Scalar>>(self, cs: &mut CS) -> Result<(), SynthesisError> {
        let x = cs.alloc(|| "x", || self.x.ok_or(SynthesisError::AssignmentMissing))?;
        let y = cs.alloc(|| "y", || self.y.ok_or(SynthesisError::AssignmentMissing))?;
        let z = cs.alloc_input(
            || "z",
            || {
                Ok(self.x.ok_or(SynthesisError::AssignmentMissing)?
                    * self.y.ok_or(SynthesisError::AssignmentMissing)?)
            },
        )?;
        let s = cs.alloc_input(
            || "s",
            || {
                Ok(self.x.ok_or(SynthesisError::AssignmentMissing)?
                    + self.y.ok_or(SynthesisError::AssignmentMissing)?)
            },
        )?;
        cs.enforce(|| "x*y=z", |lc| lc + x, |lc| lc + y, |lc| lc + z);
        cs.enforce(
            || "x+y=s",
            |lc| lc + x + y,
            |lc| lc + CS::one(),
            |lc| lc + s,
        );
        Ok(())
    }
}

/// A deterministic RNG for fixtures.
pub fn rng(seed: u64) -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(seed)
}

/// The Groth16 parameters of [`Product`] (made once per test binary).
pub fn params() -> &'static Parameters<Bls12> {
    static P: OnceLock<Parameters<Bls12>> = OnceLock::new();
    P.get_or_init(|| {
        groth16::generate_random_parameters::<Bls12, _, _>(
            Product { x: None, y: None },
            &mut rng(1),
        )
        .expect("parameters")
    })
}

/// Other parameters for the same circuit: a different verifying key.
pub fn other_params() -> &'static Parameters<Bls12> {
    static P: OnceLock<Parameters<Bls12>> = OnceLock::new();
    P.get_or_init(|| {
        groth16::generate_random_parameters::<Bls12, _, _>(
            Product { x: None, y: None },
            &mut rng(2),
        )
        .expect("parameters")
    })
}

/// A devnet SRS for up to 256 proofs (made once per test binary).
pub fn srs() -> &'static Srs {
    static S: OnceLock<Srs> = OnceLock::new();
    S.get_or_init(|| Srs::generate_devnet(256, &mut rng(3)).expect("srs"))
}

/// The public inputs (z, s) of statement k: x = k + 2, y = 3k + 5.
pub fn statement(k: u64) -> (Product, Vec<Scalar>) {
    let (x, y) = (Scalar::from(k + 2), Scalar::from(3 * k + 5));
    (
        Product {
            x: Some(x),
            y: Some(y),
        },
        vec![x * y, x + y],
    )
}

/// `n` proofs of statements `first..first + n`, with their inputs.
pub fn proofs(first: u64, n: usize) -> (Vec<Proof<Bls12>>, Vec<Vec<Scalar>>) {
    let mut r = rng(1000 + first);
    (first..first + n as u64)
        .map(|k| {
            let (circuit, inputs) = statement(k);
            let proof = groth16::create_random_proof(circuit, params(), &mut r).expect("prove");
            (proof, inputs)
        })
        .unzip()
}

/// The SRS verifier key.
pub fn vk() -> VerifierKey {
    srs().verifier_key()
}
