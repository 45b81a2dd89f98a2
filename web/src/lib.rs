//! Server-rendered HTML shared by the provider's operator console (`strata miner run`, at `/`)
//! and the network dashboard (`strata devnet run`, at `/`): the page frame ([`html`]), SVG
//! charts ([`chart`]), figure formatting ([`format`]), pagination ([`pagination`]), the
//! operator's token and CSRF protection for actions ([`auth`]), and the stylesheet and refresh
//! script compiled into the binary ([`assets`]).
//!
//! Design notes: pages are plain HTML rendered on each request — no JavaScript build step, no
//! remote fonts or CDN, so a console works on an air-gapped machine and the browser test needs
//! nothing but the binary. A single small script re-fetches the page every few seconds and swaps
//! its `<main>` (polling rather than server-sent events: a page is one cheap request, there is
//! no connection to hold open per viewer, and the server stays stateless). Every figure carries
//! its raw value and a JSON pointer into the page's API resource (`data-key`), so a test can
//! check what the operator sees against what a script reads.

pub mod assets;
pub mod auth;
pub mod chart;
pub mod format;
pub mod html;
pub mod pagination;
