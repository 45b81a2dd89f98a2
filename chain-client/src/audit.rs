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

/// Checks a WinningPoSt's recall proof, if it has one: the target is the one the verified
/// beacon's recall draw picks over the weave as it stood at the election (the pieces stored by
/// then), the piece and the sector's CommD are the chain's, and the chunk hashes through the
/// piece to the CommD.
pub async fn check_recall(api: &dyn ChainApi, record: &ProofRecord) -> Result<(), String> {
    let Some(r) = &record.recall else {
        return Ok(());
    };
    let d = record
        .draws
        .iter()
        .find(|d| d.tag == RandomnessTag::Recall)
        .ok_or("no recorded Recall draw behind the recall proof")?;
    let entry = api
        .verified_beacon(d.epoch)
        .await
        .map_err(|e| format!("Recall at epoch {}: {}", d.epoch, e.message))?;
    let value = draw(
        &entry.randomness(),
        RandomnessTag::Recall,
        d.epoch,
        record.miner,
    );
    let pieces = api.permanent_pieces().await.map_err(|e| e.message)?;
    let weave: Vec<(u64, u64, u64)> = pieces
        .iter()
        .filter(|p| p.created <= d.epoch)
        .map(|p| (p.id, p.weave_offset, p.piece_size))
        .collect();
    let net = api.network().await.map_err(|e| e.message)?;
    let want = crate::permanent::RecallTarget::pick(
        &value,
        &weave,
        net.constants.permanent.recall_chunk_bytes,
    );
    if value != d.value || want != Some(r.target) {
        return Err(format!(
            "the recall target is not what the beacon's draw at epoch {} picks",
            d.epoch
        ));
    }
    let piece = pieces
        .iter()
        .find(|p| p.id == r.target.piece)
        .ok_or("the recalled piece is not on chain")?;
    let sector = api
        .sector(record.miner, r.proof.sector)
        .await
        .map_err(|e| e.message)?;
    if piece.piece_cid != r.piece_cid || sector.comm_d != r.comm_d {
        return Err("the recall record's CommP or CommD is not the chain's".into());
    }
    r.verify().map_err(|e| format!("recall proof: {e}"))
}

/// Checks the randomness behind `record`: every value its public inputs draw from the beacon
/// has a recorded draw by this miner, re-derived from the verified entry of the draw's epoch;
/// and its recall proof, if any ([`check_recall`]). Returns why not, naming the value.
pub async fn check_randomness(api: &dyn ChainApi, record: &ProofRecord) -> Result<(), String> {
    check_recall(api, record).await?;
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
