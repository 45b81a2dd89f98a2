//! The Poseidon gadget: the same permutation as `strata_primitives::poseidon`, in R1CS.
//!
//! It follows the native optimised schedule (constants pushed forward, sparse partial-round
//! matrices): every linear step is free, and only S-boxes cost constraints — 3 each — plus one to
//! bind the output to a fresh variable: `3·(8t + R_P) + 1` constraints, i.e. 238, 388 and 460 for
//! arities 2, 8 and 11. The tests pin those counts and check agreement with the native hash and the
//! shared neptune vectors.

use super::lc::{Elt, Vars};
use bellman::gadgets::num::AllocatedNum;
use bellman::{ConstraintSystem, SynthesisError};
use bls12_381::Scalar;
use strata_primitives::poseidon::Poseidon;

/// Constraints of one Poseidon of `arity` inputs.
pub fn constraint_count(arity: usize) -> Option<usize> {
    let p = Poseidon::for_arity(arity)?;
    Some(3 * (8 * p.width() + p.partial_round_count()) + 1)
}

/// Poseidon (Merkle domain tag) of `inputs`; the arity is `inputs.len()` (2, 8 or 11).
pub fn poseidon_hash<CS: ConstraintSystem<Scalar>>(
    mut cs: CS,
    inputs: &[AllocatedNum<Scalar>],
) -> Result<AllocatedNum<Scalar>, SynthesisError> {
    let p = Poseidon::for_arity(inputs.len()).ok_or(SynthesisError::Unsatisfiable)?;
    let t = p.width();
    let mut vars = Vars::default();
    let mut state: Vec<Elt> = Vec::with_capacity(t);
    state.push(Elt::constant(p.domain_tag()));
    for x in inputs {
        state.push(vars.push(x.get_variable(), x.get_value()));
    }
    let full = p.optimised_full_constants();
    let half = full.len() / 2;
    let full_round = |cs: &mut CS,
                      vars: &mut Vars,
                      state: &mut Vec<Elt>,
                      r: usize,
                      m: &Vec<Vec<Scalar>>|
     -> Result<(), SynthesisError> {
        let mut boxed = Vec::with_capacity(t);
        for (i, (e, c)) in state.iter_mut().zip(&full[r]).enumerate() {
            e.add_constant(*c);
            boxed.push(vars.pow5(cs.namespace(|| format!("full {r} sbox {i}")), e)?);
        }
        *state = m
            .iter()
            .map(|row| {
                Elt::combine(
                    &row.iter()
                        .zip(&boxed)
                        .map(|(k, e)| (*k, e))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        Ok(())
    };
    for r in 0..half {
        let m = if r + 1 == half {
            p.pre_sparse()
        } else {
            p.mds()
        };
        full_round(&mut cs, &mut vars, &mut state, r, m)?;
    }
    for (r, (c, s)) in p
        .optimised_partial_constants()
        .iter()
        .zip(p.sparse_matrices())
        .enumerate()
    {
        state[0].add_constant(*c);
        let x = vars.pow5(cs.namespace(|| format!("partial {r} sbox")), &state[0])?;
        let mut terms: Vec<(Scalar, &Elt)> = vec![(s.m00, &x)];
        terms.extend(s.row.iter().copied().zip(&state[1..]));
        let s0 = Elt::combine(&terms);
        for (j, cj) in s.col.iter().enumerate() {
            state[j + 1] = Elt::combine(&[(Scalar::one(), &state[j + 1]), (*cj, &x)]);
        }
        state[0] = s0;
    }
    for r in half..full.len() {
        full_round(&mut cs, &mut vars, &mut state, r, p.mds())?;
    }
    let out = AllocatedNum::alloc(cs.namespace(|| "output"), || {
        state[1].value().ok_or(SynthesisError::AssignmentMissing)
    })?;
    let lc = vars.lc::<CS>(&state[1]);
    cs.enforce(
        || "output binds state[1]",
        |l| l + &lc,
        |l| l + CS::one(),
        |l| l + out.get_variable(),
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bellman::gadgets::test::TestConstraintSystem;
    use strata_primitives::node::{node_to_fr, Node};

    fn alloc(cs: &mut TestConstraintSystem<Scalar>, xs: &[Scalar]) -> Vec<AllocatedNum<Scalar>> {
        xs.iter()
            .enumerate()
            .map(|(i, x)| {
                AllocatedNum::alloc(cs.namespace(|| format!("in {i}")), || Ok(*x)).unwrap()
            })
            .collect()
    }

    #[test]
    fn constraint_counts_are_pinned() {
        for (arity, want) in [(2usize, 238usize), (8, 388), (11, 460)] {
            assert_eq!(constraint_count(arity), Some(want));
            let mut cs = TestConstraintSystem::new();
            let ins = alloc(&mut cs, &vec![Scalar::from(3u64); arity]);
            poseidon_hash(&mut cs, &ins).unwrap();
            assert_eq!(cs.num_constraints(), want, "arity {arity}");
            assert!(cs.is_satisfied());
        }
    }

    #[test]
    fn agrees_with_native_poseidon_and_neptune_vectors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../primitives/testdata/poseidon.jsonl"
        );
        let text = std::fs::read_to_string(path).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let parse = |h: &serde_json::Value| {
                let n: Node = hex::decode(h.as_str().unwrap())
                    .unwrap()
                    .try_into()
                    .unwrap();
                node_to_fr(&n).unwrap()
            };
            let inputs: Vec<Scalar> = v["inputs"].as_array().unwrap().iter().map(parse).collect();
            let mut cs = TestConstraintSystem::new();
            let ins = alloc(&mut cs, &inputs);
            let out = poseidon_hash(&mut cs, &ins).unwrap();
            assert!(cs.is_satisfied());
            assert_eq!(out.get_value().unwrap(), parse(&v["output"]));
            assert_eq!(
                out.get_value().unwrap(),
                strata_primitives::poseidon::hash(&inputs)
            );
        }
    }

    #[test]
    fn a_wrong_output_is_unsatisfiable() {
        let mut cs = TestConstraintSystem::new();
        let ins = alloc(&mut cs, &[Scalar::from(1u64), Scalar::from(2u64)]);
        let out = poseidon_hash(&mut cs, &ins).unwrap();
        assert!(cs.is_satisfied());
        cs.set("output/num", out.get_value().unwrap() + Scalar::one());
        assert!(!cs.is_satisfied());
    }
}
