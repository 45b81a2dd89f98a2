//! End-to-end tests live in tests/. This library holds what they share, including
//! [`cheat`], an attack builder used by tests only.

pub mod cheat;
