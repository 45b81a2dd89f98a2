//! The devnet ledger (DESIGN §8): Filecoin's miner, market, power and reward rules over an
//! epoch-based state kept in redb, a randomness beacon, proof verification with `prover`, and a
//! JSON-RPC server. [`Chain`] is the node; it implements `strata_chain_client::ChainApi`.
//!
//! # Design notes
//!
//! - **Messages name their network.** Every signed message and deal proposal carries the
//!   network's name inside what is signed, and the chain refuses any other name (`WrongNetwork`),
//!   so nothing signed for one devnet replays on another.
//! - **Messages apply at once, epochs commit.** A submitted message is checked (signature, nonce)
//!   and applied to a copy of the *pending* state (the last epoch plus the messages already
//!   accepted); an error comes back immediately and changes nothing. Accepted messages are kept in
//!   a durable mempool and become part of the next epoch, which then runs the cron (market →
//!   miners → rewards) and commits state, block, beacon value and the emptied mempool in one redb
//!   transaction. Because nothing else changes state between acceptance and inclusion, a message
//!   accepted is a message applied: receipts never carry a late failure. (Filecoin instead
//!   includes failing messages with an exit code; for a single-node devnet an immediate typed
//!   error is what a provider or a script wants.)
//! - **redb, not SQLite**: see [`store`]. The state is one canonical JSON document (ordered maps)
//!   whose BLAKE3 is the state root; blocks hold the epoch's messages, balance events and accepted
//!   proof files, so events and proofs are queryable without bloating the state.
//! - **JSON-RPC on axum + reqwest** rather than jsonrpsee: the protocol surface is one POST route
//!   and a dozen methods, and owning the envelope lets every error carry a stable numeric code and
//!   `data.kind` (see `strata_chain_client::ErrorKind`), including the parse/invalid-request cases.
//! - **Money moves only through [`State::transfer`](state::State)** (and the vesting/penalty
//!   helpers in [`funds`] built on it): each move checks the payer, records an event (who, what,
//!   why, epoch) and keeps `genesis + minted − burnt = Σ balances`. That and the per-holder
//!   invariants — a miner's locked pledge = Σ its live sectors' pledge, its pre-commit deposits =
//!   Σ its pre-committed sectors' deposits, a provider's locked escrow = Σ its open deals'
//!   collateral, a client's locked escrow = Σ its open deals' unpaid price and collateral — are
//!   checked ([`State::check_invariants`](state::State::check_invariants)) before any epoch
//!   commits in [`exec::end_epoch`] (an epoch that would break one is refused, not stored) and
//!   when [`Chain::open`] loads the state from disk (a broken one is refused, named).
//! - **Formulas** ([`economics`]) are Filecoin's — BR(t), 20-day pre-commit deposit on the
//!   sector's maximum QA power (10× its size: it must cover a sector that proves all verified),
//!   storage + consensus pledge with the per-byte cap, 3.51-day fault fee, FIP-0098 termination
//!   fee, minimum provider collateral — with current reward and power instead of Filecoin's
//!   alpha-beta smoothed estimates, and network power floored at the baseline in every
//!   denominator. The block reward decays exponentially (simple minting only; no baseline
//!   minting), computed in Q64 fixed point so every node agrees.
//! - **Deadlines**: a miner's first proving period starts a full period after creation plus a
//!   beacon-drawn offset. Sectors go to the deadline with the fewest live sectors, never the open
//!   one or the next. A WindowPoSt must prove at least one sector (one that skips them all is
//!   refused: declare faults instead); the sectors it skips become faulty at once and pay the
//!   fault fee at that deadline's close. A partition not proven when its window closes makes its
//!   active sectors faulty with no fee that period; sectors already faulty before the window
//!   opened (missed earlier, declared, or recovering unproven) pay the continued-fault fee at
//!   each close; after `fault_max_age_periods` they are terminated with the termination fee.
//!   Every sector list in a message (terminations, faults, recoveries, skipped sectors, a
//!   pre-commit's deals, the proposals published) is refused if it names an entry twice.
//! - **Penalties** come from vesting rewards first (soonest to vest first), then the available
//!   (unlocked) balance; the rest is fee debt, repaid from income before any withdrawal or
//!   pre-commit. Locked pledge is never drawn while its sector lives, so every live sector stays
//!   fully pledged: a sector that ends (terminated or expired) first releases its whole pledge to
//!   the available balance, and a termination fee is then taken like any other penalty. A miner
//!   with fee debt cannot declare recoveries and is left out of the election until it repays.
//! - **Deals** are validated at publication as Filecoin's market actor does: duration between
//!   `min_deal_duration` and `max_deal_duration` (180 and 1278 days), a label of at most 256
//!   bytes, and provider collateral at least 1% of the circulating supply × the deal's QA power
//!   / max(baseline, network raw power) ([`economics::min_provider_collateral`]). A signed
//!   proposal is published once: its hash is remembered until the deal's end epoch. A verified
//!   deal gets Filecoin's allocation terms — term_min = its duration ≥ 180 days, term_max =
//!   term_min + 90 days ≤ 5 years — and its piece counts 10× only in a sector whose life from
//!   activation to expiration lies within them (decided at prove-commit; otherwise the piece
//!   counts as raw space, and the DataCap spent on it is not returned). A sector can only be
//!   prove-committed while none of its deals' start epochs has passed (the cron slashes a deal
//!   not activated by its start).
//! - **Elections**: one winner per epoch, drawn in proportion to quality-adjusted power (Filecoin
//!   elects ~5 per epoch by a Poisson sortition; one keeps the devnet simple and the reward share
//!   still tracks power); miners with fee debt are not drawn. The winner's WinningPoSt must
//!   land within `winning_post_window` epochs or the reward is never minted.
//! - **Randomness: who knows each value, and when** (DESIGN §8; an audit broke the first design,
//!   a BLAKE3 hash chain from the genesis seed, which let anyone compute every future seed and
//!   challenge). The beacon entry of epoch `e` is a BLS signature of its round
//!   ([`strata_chain_client::beacon`]); its randomness is SHA-256 of the signature, and every
//!   value the rules use is a [`draw`](strata_chain_client::beacon::draw) from it with a purpose
//!   tag, the epoch and the drawer's id. Nobody can compute an entry before it is signed except
//!   the key holder (BLS is unforgeable), and the key holder cannot choose among entries (BLS
//!   signatures are unique): the devnet operator (devnet mode) or the League of Entropy's
//!   threshold of nodes (drand mode) is the only party that learns an entry early, by at most
//!   its signing time. Per value:
//!   - *ticket* (drawn at the ticket epoch the miner names, at most `max_ticket_age` old): public
//!     before sealing on purpose — it only makes the replica unique to this chain's history;
//!   - *seal seed* (epoch pre-commit + `seed_delay`): unknown to everyone until that epoch's
//!     entry exists, which is after the pre-commit and its CommR are on chain, so the replica is
//!     fixed before its challenges are known (test: `strata-tests`' `seed_attack`);
//!   - *WindowPoSt randomness* (a deadline's challenge epoch, `challenge_lookback` before its
//!     window opens): known from then to the window's close — the proving budget; a miner who
//!     has deleted the replica cannot recompute it in that time;
//!   - *WinningPoSt randomness* and the *election* (each epoch): known once the epoch applies;
//!     the winner has `winning_post_window` epochs to prove;
//!   - *proving-period offset* (creation): public, only spreads miners' deadlines.
//!
//!   Consumers never trust a node's word for a draw: `ChainApi::randomness` fetches the entry,
//!   checks it against the pinned beacon key and computes the draw locally; proof records carry
//!   their draws so `strata audit miner` re-derives them. In devnet mode the operator holds the
//!   key (`STATE/beacon.key`, owner-only, never in the genesis) and could predict randomness:
//!   a devnet is trusted for it, as for everything else; a network of independent parties
//!   follows drand instead (`[beacon] kind = "drand"` in the genesis, `--drand-relay`).
//! - **No gas.** Messages cost nothing; a devnet has no spam to price. Base fee burning would be
//!   one more `transfer` to `Burn` per message.

pub mod beacon;
pub mod config;
pub mod dashboard;
pub mod economics;
pub mod exec;
pub mod funds;
pub mod market;
pub mod miner;
pub mod node;
pub mod permanent;
pub mod proving;
pub mod rewards;
pub mod rpc;
pub mod rules;
pub mod state;
pub mod stats;
pub mod store;
pub mod verifier;

pub use config::Genesis;
pub use node::{Chain, ChainOptions};
pub use verifier::{HashVerifier, ProofVerifier, SnarkVerifier, VerifiedAggregate};
