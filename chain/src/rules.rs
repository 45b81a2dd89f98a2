//! What every rule module shares: the context a message or cron runs in, sizes and power, and
//! deadline timing.

use crate::state::{Miner, State};
use crate::verifier::ProofVerifier;
use strata_chain_client::types::{Epoch, MinerId, RandomnessTag};
use strata_chain_client::views::{Constants, DeadlineTiming, Draw};
use strata_chain_client::{Address, ChainError};
use strata_params::ProofType;
use strata_primitives::node::Node;

/// Quality multiplier of verified deal space.
pub const VERIFIED_MULTIPLIER: u128 = 10;

/// What rules can see besides the state.
pub struct Ctx<'a> {
    /// The network's name: messages and deal proposals must name it.
    pub network: &'a str,
    /// The proof types miners may use on this network.
    pub allowed_proof_types: &'a [u64],
    /// Protocol constants.
    pub constants: &'a Constants,
    /// Proof checks.
    pub verifier: &'a dyn ProofVerifier,
    /// Beacon randomness (SHA-256 of each verified entry's signature), index = epoch, up to the
    /// epoch being applied.
    pub beacons: &'a [Node],
}

impl Ctx<'_> {
    /// Randomness at `epoch`, which must already be applied.
    pub fn randomness(
        &self,
        tag: RandomnessTag,
        epoch: Epoch,
        entropy: u64,
    ) -> Result<Node, ChainError> {
        let b = usize::try_from(epoch)
            .ok()
            .and_then(|i| self.beacons.get(i))
            .ok_or_else(|| {
                ChainError::too_early(format!(
                    "randomness of epoch {epoch} is not available (head is {})",
                    self.beacons.len() as i64 - 1
                ))
            })?;
        Ok(strata_chain_client::beacon::draw(b, tag, epoch, entropy))
    }

    /// [`Ctx::randomness`], recorded as a [`Draw`] so auditors can re-derive it.
    pub fn draw(&self, tag: RandomnessTag, epoch: Epoch, entropy: u64) -> Result<Draw, ChainError> {
        Ok(Draw {
            tag,
            epoch,
            entropy,
            value: self.randomness(tag, epoch, entropy)?,
        })
    }
}

/// Sector size in bytes of a registered proof type (0 for an unknown one, which creation refuses).
pub fn sector_size(proof_type: u64) -> u64 {
    ProofType::for_id(proof_type)
        .map(|p| p.sector_size.bytes())
        .unwrap_or(0)
}

/// Quality-adjusted power of a sector with `verified` bytes of verified deals.
pub fn qa_power(size: u64, verified: u64) -> u128 {
    size as u128 + (VERIFIED_MULTIPLIER - 1) * verified.min(size) as u128
}

/// Timing of deadline `index` in the proving period starting at `period_start`.
pub fn timing(c: &Constants, period_start: Epoch, index: u64) -> DeadlineTiming {
    let open = period_start + index as i64 * c.deadline_window;
    DeadlineTiming {
        index,
        period_start,
        open,
        close: open + c.deadline_window,
        challenge: open - c.challenge_lookback,
        fault_cutoff: open - c.fault_cutoff,
    }
}

/// The deadline open at `now`, or the first one if proving has not started.
pub fn current_deadline(c: &Constants, first_start: Epoch, now: Epoch) -> DeadlineTiming {
    if now < first_start {
        return timing(c, first_start, 0);
    }
    let periods = (now - first_start) / c.proving_period;
    let start = first_start + periods * c.proving_period;
    timing(c, start, ((now - start) / c.deadline_window) as u64)
}

/// The next instance of deadline `index` that has not closed at `now`.
pub fn next_instance(c: &Constants, first_start: Epoch, index: u64, now: Epoch) -> DeadlineTiming {
    let cur = current_deadline(c, first_start, now);
    let t = timing(c, cur.period_start, index);
    if t.close > now {
        t
    } else {
        timing(c, cur.period_start + c.proving_period, index)
    }
}

/// Refuses a list that names an item twice (a [`ErrorKind::Duplicate`] error naming the item
/// and the list): every sector or deal list in a message is checked with it before anything is
/// applied, so one entry can never be counted, charged or released twice.
///
/// [`ErrorKind::Duplicate`]: strata_chain_client::ErrorKind::Duplicate
pub fn check_unique<T: Ord + std::fmt::Display>(
    items: &[T],
    what: &str,
    list: &str,
) -> Result<(), ChainError> {
    let mut seen = std::collections::BTreeSet::new();
    for x in items {
        if !seen.insert(x) {
            return Err(ChainError::duplicate(format!(
                "{what} {x} is listed twice in {list}"
            )));
        }
    }
    Ok(())
}

/// The miner, or NotFound.
pub fn miner(state: &State, id: MinerId) -> Result<&Miner, ChainError> {
    state
        .miners
        .get(&id)
        .ok_or_else(|| ChainError::not_found(format!("miner m{id} does not exist")))
}

/// Checks `from` is the miner's owner or worker.
pub fn check_operator(m: &Miner, id: MinerId, from: &Address) -> Result<(), ChainError> {
    if *from == m.owner || *from == m.worker {
        Ok(())
    } else {
        Err(ChainError::forbidden(format!(
            "{from} is neither the owner nor the worker of m{id}"
        )))
    }
}

/// Checks `from` is the miner's owner.
pub fn check_owner(m: &Miner, id: MinerId, from: &Address) -> Result<(), ChainError> {
    if *from == m.owner {
        Ok(())
    } else {
        Err(ChainError::forbidden(format!(
            "{from} is not the owner of m{id}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_timing() {
        let c = crate::config::devnet_constants(); // 12 deadlines × 5 epochs, lookback 2, cutoff 4
        let t = current_deadline(&c, 100, 50);
        assert_eq!((t.index, t.open, t.close), (0, 100, 105));
        let t = current_deadline(&c, 100, 163);
        assert_eq!(
            (t.index, t.period_start, t.open, t.close),
            (0, 160, 160, 165)
        );
        assert_eq!((t.challenge, t.fault_cutoff), (158, 156));
        let t = current_deadline(&c, 100, 159);
        assert_eq!((t.index, t.open), (11, 155));
        let n = next_instance(&c, 100, 3, 131);
        assert_eq!((n.open, n.close), (115 + 60, 120 + 60));
        let n = next_instance(&c, 100, 3, 119);
        assert_eq!(n.open, 115);
    }
}
