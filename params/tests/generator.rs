//! The fast generator: its parameters equal `groth16`'s for the same trapdoor, prove and verify
//! with `groth16`, reject wrong public inputs, and survive `Parameters::write`/`read` (checked).

use bellman::{Circuit, ConstraintSystem, SynthesisError};
use bls12_381::{Bls12, G1Projective, G2Projective, Scalar};
use ff::Field;
use groth16::{create_random_proof, prepare_verifying_key, verify_proof, Parameters};
use rand_core::UnwrapErr;
use strata_params::generator::{generate_parameters, generate_parameters_with_trapdoor, Trapdoor};

fn rng() -> UnwrapErr<rand::rngs::SysRng> {
    UnwrapErr(rand::rngs::SysRng)
}

/// `x³ + x + 5 = out`, `out` public.
#[derive(Clone)]
struct Cubic {
    x: Option<Scalar>,
}

impl Circuit<Scalar> for Cubic {
    fn synthesize<CS: ConstraintSystem<Scalar>>(self, cs: &mut CS) -> Result<(), SynthesisError> {
        let x_val = self.x;
        let x = cs.alloc(|| "x", || x_val.ok_or(SynthesisError::AssignmentMissing))?;
        let x2_val = x_val.map(|x| x.square());
        let x2 = cs.alloc(|| "x2", || x2_val.ok_or(SynthesisError::AssignmentMissing))?;
        cs.enforce(|| "x*x", |lc| lc + x, |lc| lc + x, |lc| lc + x2);
        let x3_val = x2_val.zip(x_val).map(|(a, b)| a * b);
        let x3 = cs.alloc(|| "x3", || x3_val.ok_or(SynthesisError::AssignmentMissing))?;
        cs.enforce(|| "x2*x", |lc| lc + x2, |lc| lc + x, |lc| lc + x3);
        let out_val = x3_val.zip(x_val).map(|(a, b)| a + b + Scalar::from(5u64));
        let out = cs.alloc_input(
            || "out",
            || out_val.ok_or(SynthesisError::AssignmentMissing),
        )?;
        cs.enforce(
            || "x3 + x + 5 = out",
            |lc| lc + x3 + x + (Scalar::from(5u64), CS::one()),
            |lc| lc + CS::one(),
            |lc| lc + out,
        );
        Ok(())
    }
}

fn cubic_out(x: Scalar) -> Scalar {
    x * x * x + x + Scalar::from(5u64)
}

/// Several public inputs and columns of zero density: `s = p0 + p1` (aux in C only), `p2·y = z`
/// (an input in B), `z` only in C, `w` only in B (`1·w = w2`), a duplicate term that cancels in
/// A (`(y + 3·y − 4·y + 1)·1 = 1`), and a zero coefficient.
#[derive(Clone)]
struct Sparse {
    p: [Option<Scalar>; 3],
    y: Option<Scalar>,
    w: Option<Scalar>,
}

impl Sparse {
    fn with(p: [Scalar; 3], y: Scalar, w: Scalar) -> Self {
        Sparse {
            p: p.map(Some),
            y: Some(y),
            w: Some(w),
        }
    }
    fn inputs(p: [Scalar; 3], y: Scalar, w: Scalar) -> Vec<Scalar> {
        vec![p[0], p[1], p[2], p[2] * y, w]
    }
}

impl Circuit<Scalar> for Sparse {
    fn synthesize<CS: ConstraintSystem<Scalar>>(self, cs: &mut CS) -> Result<(), SynthesisError> {
        let mut p = Vec::new();
        for (i, v) in self.p.iter().enumerate() {
            p.push(cs.alloc_input(
                || format!("p{i}"),
                || v.ok_or(SynthesisError::AssignmentMissing),
            )?);
        }
        let s_val = self.p[0].zip(self.p[1]).map(|(a, b)| a + b);
        let s = cs.alloc(|| "s", || s_val.ok_or(SynthesisError::AssignmentMissing))?;
        cs.enforce(
            || "s",
            |lc| lc + p[0] + p[1],
            |lc| lc + CS::one(),
            |lc| lc + s,
        );
        let y = cs.alloc(|| "y", || self.y.ok_or(SynthesisError::AssignmentMissing))?;
        let z_val = self.p[2].zip(self.y).map(|(a, b)| a * b);
        let z = cs.alloc(|| "z", || z_val.ok_or(SynthesisError::AssignmentMissing))?;
        cs.enforce(|| "p2*y", |lc| lc + y, |lc| lc + p[2], |lc| lc + z);
        let zp = cs.alloc_input(|| "zp", || z_val.ok_or(SynthesisError::AssignmentMissing))?;
        cs.enforce(|| "z=zp", |lc| lc + z, |lc| lc + CS::one(), |lc| lc + zp);
        let w = cs.alloc(|| "w", || self.w.ok_or(SynthesisError::AssignmentMissing))?;
        let w2 = cs.alloc(|| "w2", || self.w.ok_or(SynthesisError::AssignmentMissing))?;
        cs.enforce(
            || "1*w=w2",
            |lc| lc + CS::one() + (Scalar::ZERO, y),
            |lc| lc + w,
            |lc| lc + w2,
        );
        let wp = cs.alloc_input(|| "wp", || self.w.ok_or(SynthesisError::AssignmentMissing))?;
        cs.enforce(|| "w2=wp", |lc| lc + wp, |lc| lc + CS::one(), |lc| lc + w2);
        cs.enforce(
            || "cancel",
            |lc| lc + y + (Scalar::from(3u64), y) - (Scalar::from(4u64), y) + CS::one(),
            |lc| lc + CS::one(),
            |lc| lc + CS::one(),
        );
        Ok(())
    }
}

/// A variable in no constraint.
struct Unconstrained;

impl Circuit<Scalar> for Unconstrained {
    fn synthesize<CS: ConstraintSystem<Scalar>>(self, cs: &mut CS) -> Result<(), SynthesisError> {
        let a = cs.alloc(|| "a", || Ok(Scalar::ONE))?;
        cs.alloc(|| "lonely", || Ok(Scalar::ONE))?;
        cs.enforce(|| "a", |lc| lc + a, |lc| lc + CS::one(), |lc| lc + a);
        Ok(())
    }
}

fn reference(circuit: impl Circuit<Scalar>, t: &Trapdoor) -> Parameters<Bls12> {
    groth16::generate_parameters::<Bls12, _>(
        circuit,
        G1Projective::generator(),
        G2Projective::generator(),
        t.alpha,
        t.beta,
        t.gamma,
        t.delta,
        t.tau,
    )
    .unwrap()
}

fn round_trip(params: &Parameters<Bls12>) {
    let mut bytes = Vec::new();
    params.write(&mut bytes).unwrap();
    let back = Parameters::<Bls12>::read(&bytes[..], true).unwrap();
    assert!(back == *params, "read(write(params)) == params");
}

#[test]
fn equals_groth16_for_the_same_trapdoor() {
    let t = Trapdoor::random(&mut rng());
    let ours = generate_parameters_with_trapdoor(Cubic { x: None }, &t).unwrap();
    assert!(ours == reference(Cubic { x: None }, &t), "cubic");
    let blank = Sparse {
        p: [None; 3],
        y: None,
        w: None,
    };
    let ours = generate_parameters_with_trapdoor(blank.clone(), &t).unwrap();
    let theirs = reference(blank, &t);
    assert_eq!(ours.a.len(), theirs.a.len(), "A density");
    assert_eq!(ours.b_g2.len(), theirs.b_g2.len(), "B density");
    assert!(ours == theirs, "sparse");
}

#[test]
fn cubic_proves_verifies_and_round_trips() {
    let params = generate_parameters(Cubic { x: None }, &mut rng()).unwrap();
    round_trip(&params);
    let pvk = prepare_verifying_key(&params.vk);
    for x in [Scalar::ZERO, Scalar::from(3u64), Scalar::random(&mut rng())] {
        let proof = create_random_proof(Cubic { x: Some(x) }, &params, &mut rng()).unwrap();
        verify_proof(&pvk, &proof, &[cubic_out(x)]).unwrap();
        assert!(verify_proof(&pvk, &proof, &[cubic_out(x) + Scalar::ONE]).is_err());
    }
    assert_eq!(params.vk.ic.len(), 2);
    // 3 constraints + 2 input constraints → domain 8, H has 7 points.
    assert_eq!(params.h.len(), 7);
}

#[test]
fn sparse_circuit_with_many_inputs_proves_and_verifies() {
    let params = generate_parameters(
        Sparse {
            p: [None; 3],
            y: None,
            w: None,
        },
        &mut rng(),
    )
    .unwrap();
    round_trip(&params);
    assert_eq!(params.vk.ic.len(), 6);
    // Zero-density columns are dropped: not every variable has an A or B point.
    assert!(params.a.len() < params.vk.ic.len() + params.l.len());
    assert!(params.b_g1.len() < params.vk.ic.len() + params.l.len());
    let pvk = prepare_verifying_key(&params.vk);
    let mut r = rng();
    for _ in 0..3 {
        let p = [(); 3].map(|_| Scalar::random(&mut r));
        let (y, w) = (Scalar::random(&mut r), Scalar::random(&mut r));
        let proof = create_random_proof(Sparse::with(p, y, w), &params, &mut r).unwrap();
        let inputs = Sparse::inputs(p, y, w);
        verify_proof(&pvk, &proof, &inputs).unwrap();
        for i in 0..inputs.len() {
            let mut bad = inputs.clone();
            bad[i] += Scalar::ONE;
            assert!(verify_proof(&pvk, &proof, &bad).is_err(), "input {i}");
        }
    }
}

#[test]
fn unconstrained_variable_is_an_error() {
    assert!(matches!(
        generate_parameters(Unconstrained, &mut rng()),
        Err(SynthesisError::UnconstrainedVariable)
    ));
}

#[test]
fn degenerate_trapdoor_is_an_error() {
    let mut t = Trapdoor::random(&mut rng());
    t.delta = Scalar::ZERO;
    assert!(matches!(
        generate_parameters_with_trapdoor(Cubic { x: None }, &t),
        Err(SynthesisError::UnexpectedIdentity)
    ));
}
