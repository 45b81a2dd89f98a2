//! Circuits proving the same statements the vanilla verifiers check.

pub mod post;
