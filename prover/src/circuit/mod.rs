//! Circuits proving the same statements the vanilla verifiers check, and their shapes.

pub mod check;
pub mod porep;
pub mod post;
pub mod shape;
pub mod update;
