//! What an auditor checks of a posted proof besides the SNARK itself: that the randomness in its
//! public inputs is exactly what the beacon dictated. Each [`Draw`] the chain recorded is
//! re-derived here from the beacon entry of its epoch, verified against the network's key, and
//! the proof must use precisely those values — a chain (or a miner) that fed a proof chosen
//! randomness is caught even if the SNARK verifies.

use crate::api::ChainApi;
use crate::beacon::draw;
use crate::types::RandomnessTag;
use crate::views::{Draw, ProofRecord};
use strata_prover::proof_file::PublicData;

/// The draws a proof of this kind must rest on, with the value its public inputs used.
fn expected_draws(record: &ProofRecord) -> Vec<(RandomnessTag, [u8; 32])> {
    match &record.file.public {
        PublicData::Porep { inputs } => vec![
            (RandomnessTag::Ticket, inputs.ticket),
            (RandomnessTag::SealSeed, inputs.seed),
        ],
        PublicData::Winning { randomness, .. } => vec![(RandomnessTag::WinningPost, *randomness)],
        PublicData::Window { randomness, .. } => vec![(RandomnessTag::WindowPost, *randomness)],
    }
}

/// Checks the randomness behind `record`: every value its public inputs draw from the beacon
/// has a recorded draw by this miner, re-derived from the verified entry of the draw's epoch.
/// Returns why not, naming the value.
pub async fn check_randomness(api: &dyn ChainApi, record: &ProofRecord) -> Result<(), String> {
    for (tag, used) in expected_draws(record) {
        let d: &Draw = record
            .draws
            .iter()
            .find(|d| d.tag == tag)
            .ok_or_else(|| format!("no recorded {tag:?} draw behind the proof"))?;
        if d.entropy != record.miner {
            return Err(format!(
                "the {tag:?} draw was made for m{}, not m{}",
                d.entropy, record.miner
            ));
        }
        let entry = api
            .verified_beacon(d.epoch)
            .await
            .map_err(|e| format!("{tag:?} at epoch {}: {}", d.epoch, e.message))?;
        let value = draw(&entry.randomness(), tag, d.epoch, d.entropy);
        if value != d.value || value != used {
            return Err(format!(
                "the proof's {tag:?} randomness is not the beacon's draw at epoch {} (round {})",
                d.epoch, entry.round
            ));
        }
    }
    Ok(())
}
