//! **An attack, for tests only.** A cheating "seal" that exploits a PoRep seed known before
//! pre-commit.
//!
//! The vanilla seal verifier checks, for each challenged node c, c's data leaf in tree_d, the
//! columns of c and of its 14 parents in tree_c (taking the parents' labels as given), c's labels
//! recomputed from those parent labels, and `replica[c] = data[c] + label_L[c]` in tree_r_last. It
//! never checks a parent's own labels. So a miner who knows the seed, hence the challenges, before
//! it commits to CommR can leave every label zero except the challenged nodes' (computed from the
//! zero or already-computed parent labels), build tree_c over those fake columns and tree_r_last
//! over a replica equal to the data everywhere else, and the proof for that seed verifies: at
//! 2 KiB (2 layers, 2 challenges) that is 4 label hashes instead of 126.
//!
//! [`cheat_seal`] builds such a sector directory in the real sealer's layout, so
//! `strata_prover::vanilla::porep::prove_seal_partition` reads it and a chain flow can pre-commit
//! its CommR and CommD. It exists to show that the seed must be unpredictable at pre-commit; never
//! use it for anything else.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use strata_params::BASE_DEGREE;
use strata_primitives::merkle::build_tree;
use strata_primitives::node::{nodes_as_bytes, Node};
use strata_primitives::sizes::{PaddedPieceSize, UnpaddedPieceSize};
use strata_prover::challenges::porep_challenges;
use strata_sealer::files::{sync_dir, write_atomic};
use strata_sealer::graph::{Graph, PARENTS};
use strata_sealer::labeling::label_reference;
use strata_sealer::parent_cache::ParentCache;
use strata_sealer::pieces::{comm_d_from_pieces, comm_p, layout, pad_bytes};
use strata_sealer::seal::{build_tree_c, comm_r, work_dir};
use strata_sealer::sector::{replica_id, PlacedPiece, SectorState, META_VERSION};
use strata_sealer::{encoding, NoProgress, SealConfig, SealError, SectorMeta, SectorPaths};

/// What [`cheat_seal`] produced.
#[derive(Clone, Debug)]
pub struct CheatedSector {
    /// The sector directory (same layout as a real seal's).
    pub dir: PathBuf,
    /// Its `meta.json`, as written.
    pub meta: SectorMeta,
    /// CommR of the fake replica (what the cheater pre-commits).
    pub comm_r: Node,
    /// CommD of the data (the honest one: the data is real).
    pub comm_d: Node,
    /// The nodes challenged by the predicted seed, ascending and deduplicated: the only nodes
    /// whose labels were computed.
    pub challenged: Vec<u64>,
    /// How many label hashes the cheat performed (an honest seal does `layers · (N − 1)` plus one
    /// per layer for node 0).
    pub label_hashes: usize,
}

/// **Attack, for tests only.** Writes to `out` (which must not exist) a sector that passes the
/// vanilla seal verifier for `predicted_seed` — every partition — while computing only the labels
/// of the nodes that seed challenges. `pieces` are the raw piece bytes, laid out as the real sealer
/// lays them out. Meant for small sectors: everything is held in memory.
pub fn cheat_seal(
    config: &SealConfig,
    pieces: &[&[u8]],
    predicted_seed: &Node,
    out: &Path,
) -> Result<CheatedSector, SealError> {
    if out.exists() {
        return Err(SealError::OutputExists(out.to_path_buf()));
    }
    let work = work_dir(out);
    if work.exists() {
        fs::remove_dir_all(&work).map_err(io("removing stale work directory", &work))?;
    }
    let paths = SectorPaths::new(&work);
    fs::create_dir_all(paths.cache()).map_err(io("creating", paths.cache()))?;
    match cheat_in(config, pieces, predicted_seed, &paths) {
        Ok(mut sector) => {
            sync_dir(&paths.cache())?;
            sync_dir(&work)?;
            fs::rename(&work, out).map_err(io("renaming sector into place", out))?;
            sector.dir = out.to_path_buf();
            Ok(sector)
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&work);
            Err(e)
        }
    }
}

fn cheat_in(
    config: &SealConfig,
    pieces: &[&[u8]],
    seed: &Node,
    paths: &SectorPaths,
) -> Result<CheatedSector, SealError> {
    let pt = &config.proof_type;
    let n = pt.nodes() as usize;

    // The data is real: unsealed file, tree_d and CommD exactly as the sealer makes them.
    for (index, p) in pieces.iter().enumerate() {
        if p.is_empty() {
            return Err(SealError::EmptyPiece { index });
        }
    }
    let sizes: Vec<PaddedPieceSize> = pieces
        .iter()
        .map(|p| UnpaddedPieceSize::for_data_len(p.len() as u64).padded())
        .collect();
    let offsets = layout(pt.sector_size, &sizes)?;
    let mut unsealed = vec![[0u8; 32]; n];
    let mut placed = Vec::with_capacity(pieces.len());
    for (p, &offset) in pieces.iter().zip(&offsets) {
        let padded = pad_bytes(p);
        let start = (offset / 32) as usize;
        unsealed[start..start + padded.len()].copy_from_slice(&padded);
        placed.push(PlacedPiece {
            info: comm_p(*p, p.len() as u64)?,
            offset,
        });
    }
    write_atomic(&paths.unsealed(), nodes_as_bytes(&unsealed))?;
    let comm_d = build_tree(&pt.tree_d_shape(), &mut &unsealed[..], &paths.tree_d())?;
    let infos: Vec<_> = placed.iter().map(|p| p.info.clone()).collect();
    if comm_d != comm_d_from_pieces(pt.sector_size, &infos)? {
        return Err(corrupt(
            paths,
            "CommD of the data differs from CommD of the pieces",
        ));
    }

    // The cheat: with the seed known, compute only the challenged nodes' labels.
    let porep_id = pt.porep_id();
    let rid = replica_id(
        config.prover_id,
        config.sector_number,
        &config.ticket,
        &comm_d,
        &porep_id,
    );
    let challenged: Vec<u64> = (0..pt.porep_partitions)
        .flat_map(|k| porep_challenges(pt, &rid, seed, k))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let graph = Graph::new(&porep_id, pt.nodes());
    let cache = ParentCache::open_or_create(&config.parent_cache_dir, pt, &graph)?;
    let mut rows = Vec::with_capacity(challenged.len());
    for &c in &challenged {
        let mut row = [0u32; PARENTS];
        cache.read_rows(c, &mut row)?;
        rows.push(row);
    }
    let mut layers: Vec<Vec<Node>> = vec![vec![[0u8; 32]; n]; pt.layers];
    let mut label_hashes = 0;
    for layer in 1..=pt.layers {
        // Ascending order: a challenged base parent (< c) is labelled before c needs it;
        // expander parents lie in the previous layer, which is final.
        for (&c, row) in challenged.iter().zip(&rows) {
            let (done, rest) = layers.split_at_mut(layer - 1);
            let cur = &mut rest[0];
            let mut labels: Vec<Node> = row[..BASE_DEGREE]
                .iter()
                .map(|&p| cur[p as usize])
                .collect();
            if let Some(prev) = done.last() {
                labels.extend(row[BASE_DEGREE..].iter().map(|&p| prev[p as usize]));
            }
            cur[c as usize] = label_reference(&rid, layer as u32, c, &labels);
            label_hashes += 1;
        }
    }
    for (l, labels) in layers.iter().enumerate() {
        write_atomic(&paths.layer(l + 1), nodes_as_bytes(labels))?;
    }

    // Everything downstream is honest over the fake labels.
    let mut replica = vec![[0u8; 32]; n];
    encoding::encode(&unsealed, &layers[pt.layers - 1], &mut replica)
        .map_err(|e| corrupt(paths, &format!("encoding: {e}")))?;
    write_atomic(&paths.sealed(), nodes_as_bytes(&replica))?;
    let comm_c = build_tree_c(paths, pt.layers, &pt.tree_r_shape(), &NoProgress)?;
    let comm_r_last = build_tree(&pt.tree_r_shape(), &mut &replica[..], &paths.tree_r_last())?;
    let comm_r = comm_r(&comm_c, &comm_r_last);
    write_atomic(&paths.p_aux(), &[comm_c, comm_r_last].concat())?;

    let meta = SectorMeta {
        version: META_VERSION,
        proof_type: pt.id,
        sector_size: pt.sector_size.bytes(),
        prover_id: config.prover_id,
        sector_number: config.sector_number,
        ticket: config.ticket,
        replica_id: rid,
        comm_d,
        comm_c,
        comm_r_last,
        comm_r,
        pieces: placed,
        state: SectorState::Sealed,
        update: None,
    };
    let json = serde_json::to_string_pretty(&meta).expect("meta serialises");
    write_atomic(&paths.meta(), json.as_bytes())?;
    Ok(CheatedSector {
        dir: paths.dir.clone(),
        meta,
        comm_r,
        comm_d,
        challenged,
        label_hashes,
    })
}

fn io(what: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> SealError {
    let path = path.into();
    move |source| SealError::Io { what, path, source }
}

fn corrupt(paths: &SectorPaths, reason: &str) -> SealError {
    SealError::CorruptSector {
        dir: paths.dir.clone(),
        reason: reason.to_string(),
    }
}
