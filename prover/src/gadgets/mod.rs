//! bellman gadgets over BLS12-381's scalar field: small functions over a constraint system, a
//! namespace on every constraint, and tests that pin each gadget's constraint count.

pub mod blake3;
pub mod lc;
pub mod merkle;
pub mod num;
pub mod poseidon;
