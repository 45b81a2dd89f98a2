//! Sealing a batch of sectors together (DESIGN §10): each sector's pieces and tree_d as when
//! sealed alone, the labels of all of them in one pass ([`crate::labeling_batch`]), then each
//! sector's encoding, tree_c, tree_r_last and CommR. Every sector directory is bit for bit the one
//! [`crate::seal::seal`] makes from the same inputs.
//!
//! Atomicity: each sector is built in its own hidden work directory; all of them are renamed into
//! place only once every sector is finished, so a failure before that leaves nothing under any
//! final name, and a process killed midway leaves only work directories the next run removes.

use crate::error::SealError;
use crate::labeling_batch::label_layers_batch;
use crate::progress::Progress;
use crate::seal::{
    complete_work_dir, finish, open_parent_cache, prepare, start_work_dir, Layout, PieceSource,
    SealConfig,
};
use crate::sector::SectorMeta;
use std::collections::HashSet;
use std::path::PathBuf;

/// One sector of a batch.
pub struct BatchItem<'a> {
    /// Its identities; every item of a batch has the same proof type and parent cache directory.
    pub config: SealConfig,
    /// Its pieces, in order.
    pub pieces: Vec<PieceSource<'a>>,
    /// The sector directory to create (must not exist).
    pub out: PathBuf,
}

/// Seals every item; returns their metadata in the items' order. Fails before writing anything
/// if the items differ in proof type or parent cache, repeat a sector (miner and number) or an
/// output directory, or if any item's pieces are empty, do not fit, or its output exists.
pub fn seal_batch(
    items: Vec<BatchItem<'_>>,
    progress: &dyn Progress,
) -> Result<Vec<SectorMeta>, SealError> {
    seal_batch_with_lanes(items, None, progress)
}

/// [`seal_batch`] with a forced SIMD lane count (4, 8 or 16; tests use it to run every width).
#[doc(hidden)]
pub fn seal_batch_with_lanes(
    items: Vec<BatchItem<'_>>,
    lanes: Option<usize>,
    progress: &dyn Progress,
) -> Result<Vec<SectorMeta>, SealError> {
    let first = items
        .first()
        .ok_or_else(|| SealError::Batch("no sectors".into()))?
        .config
        .clone();
    let mut sectors = HashSet::new();
    let mut outs = HashSet::new();
    for item in &items {
        let c = &item.config;
        if c.proof_type != first.proof_type || c.parent_cache_dir != first.parent_cache_dir {
            return Err(SealError::Batch(format!(
                "sector {} has another proof type or parent cache than sector {}",
                c.sector_number, first.sector_number
            )));
        }
        if !sectors.insert((c.prover_id, c.sector_number)) {
            return Err(SealError::Batch(format!(
                "sector {} of miner {} appears twice",
                c.sector_number, c.prover_id
            )));
        }
        if !outs.insert(item.out.clone()) {
            return Err(SealError::Batch(format!(
                "{} is the output of two sectors",
                item.out.display()
            )));
        }
    }
    let layouts = items
        .iter()
        .map(|i| Layout::check(&i.config, &i.pieces, &i.out))
        .collect::<Result<Vec<_>, _>>()?;

    let finals: Vec<PathBuf> = items.iter().map(|i| i.out.clone()).collect();
    let mut works = Vec::with_capacity(items.len());
    let result = (|| {
        for item in &items {
            works.push(start_work_dir(&item.out)?);
        }
        let mut prepared = Vec::with_capacity(items.len());
        let mut configs = Vec::with_capacity(items.len());
        for ((item, layout), work) in items.into_iter().zip(&layouts).zip(&works) {
            prepared.push(prepare(&item.config, item.pieces, layout, work, progress)?);
            configs.push(item.config);
        }
        progress.start("parent cache", 1);
        let cache = open_parent_cache(&first)?;
        progress.finish();
        let rids: Vec<_> = prepared.iter().map(|p| p.replica_id).collect();
        label_layers_batch(
            &cache,
            &rids,
            first.proof_type.layers,
            &|s, l| prepared[s].paths.layer(l),
            &prepared[0].paths.cache(),
            lanes,
            progress,
        )?;
        configs
            .iter()
            .zip(prepared)
            .map(|(c, p)| finish(c, p, progress))
            .collect::<Result<Vec<_>, _>>()
    })();
    match result {
        Ok(metas) => metas
            .into_iter()
            .zip(&works)
            .zip(&finals)
            .map(|((meta, work), out)| complete_work_dir(Ok(meta), work, out))
            .collect(),
        Err(e) => {
            for w in &works {
                let _ = std::fs::remove_dir_all(w);
            }
            Err(e)
        }
    }
}
