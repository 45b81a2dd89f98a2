//! Numbers in circuits: allocating witness values (singly, as rows, as rows of rows) and packing
//! little-endian bits into one field element, as a private variable or as a public input.

use bellman::gadgets::boolean::Boolean;
use bellman::gadgets::num::AllocatedNum;
use bellman::{ConstraintSystem, LinearCombination, SynthesisError};
use bls12_381::Scalar;
use ff::Field;

/// Allocates a witness value (missing in blank circuits).
pub fn alloc_num<CS: ConstraintSystem<Scalar>>(
    mut cs: CS,
    v: Option<Scalar>,
) -> Result<AllocatedNum<Scalar>, SynthesisError> {
    AllocatedNum::alloc(cs.namespace(|| "value"), || {
        v.ok_or(SynthesisError::AssignmentMissing)
    })
}

/// Allocates a row of witness values.
pub fn alloc_nums<CS: ConstraintSystem<Scalar>>(
    mut cs: CS,
    row: &[Option<Scalar>],
) -> Result<Vec<AllocatedNum<Scalar>>, SynthesisError> {
    row.iter()
        .enumerate()
        .map(|(i, v)| alloc_num(cs.namespace(|| format!("{i}")), *v))
        .collect()
}

/// Allocates rows of witness values (e.g. Merkle siblings per level).
pub fn alloc_rows<CS: ConstraintSystem<Scalar>>(
    mut cs: CS,
    rows: &[Vec<Option<Scalar>>],
) -> Result<Vec<Vec<AllocatedNum<Scalar>>>, SynthesisError> {
    rows.iter()
        .enumerate()
        .map(|(l, row)| alloc_nums(cs.namespace(|| format!("row {l}")), row))
        .collect()
}

/// `Σ bits_i · 2^i` as a linear combination, with its value when every bit is assigned.
fn bits_lc<CS: ConstraintSystem<Scalar>>(
    bits: &[Boolean],
) -> (LinearCombination<Scalar>, Option<Scalar>) {
    assert!(
        bits.len() <= 254,
        "packing more than 254 bits could wrap around the modulus"
    );
    let mut lc = LinearCombination::zero();
    let mut coeff = Scalar::ONE;
    let mut value = Some(Scalar::ZERO);
    for b in bits {
        lc = lc + &b.lc(CS::one(), coeff);
        value = value
            .zip(b.get_value())
            .map(|(v, x)| if x { v + coeff } else { v });
        coeff = coeff.double();
    }
    (lc, value)
}

/// Packs at most 254 bits into a new private variable (one constraint).
pub fn pack_bits<CS: ConstraintSystem<Scalar>>(
    mut cs: CS,
    bits: &[Boolean],
) -> Result<AllocatedNum<Scalar>, SynthesisError> {
    let (lc, value) = bits_lc::<CS>(bits);
    let num = AllocatedNum::alloc(cs.namespace(|| "packed"), || {
        value.ok_or(SynthesisError::AssignmentMissing)
    })?;
    cs.enforce(
        || "packing",
        |l| l + &lc,
        |l| l + CS::one(),
        |l| l + num.get_variable(),
    );
    Ok(num)
}

/// Exposes at most 254 bits, packed, as a new public input (one constraint).
pub fn inputize_bits<CS: ConstraintSystem<Scalar>>(
    mut cs: CS,
    bits: &[Boolean],
) -> Result<(), SynthesisError> {
    let (lc, value) = bits_lc::<CS>(bits);
    let input = cs.alloc_input(
        || "packed",
        || value.ok_or(SynthesisError::AssignmentMissing),
    )?;
    cs.enforce(|| "packing", |l| l + &lc, |l| l + CS::one(), |l| l + input);
    Ok(())
}
