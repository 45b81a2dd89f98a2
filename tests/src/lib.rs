//! End-to-end tests live in tests/. This library holds what they share, including
//! [`cheat`], an attack builder used by tests only, and [`browser`], a small headless-Chromium
//! driver for browser tests.

pub mod browser;
pub mod cheat;
