//! Circuits proving the same statements the vanilla verifiers check, and their shapes.

pub mod post;
pub mod shape;
