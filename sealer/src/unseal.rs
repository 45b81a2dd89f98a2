//! Unsealing: decode the replica back to data (`data = replica − label_L`), for one piece (its
//! original bytes, exactly `raw_len` of them) or the whole padded sector. The decoded data is
//! checked against CommP / CommD while it streams out, so a corrupt replica is an error, never
//! silently wrong output. Labels depend only on replica_id and the graph, so if the layer files
//! were deleted after sealing they are regenerated (into a scratch directory, removed after).

use crate::encoding::{decode, DecodeError};
use crate::error::SealError;
use crate::files;
use crate::graph::Graph;
use crate::labeling;
use crate::parent_cache::ParentCache;
use crate::pieces::PieceInfo;
use crate::progress::Progress;
use crate::seal::SealSource;
use crate::sector::{SectorMeta, SectorPaths};
use crate::update::{decode_update, Rhos};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use strata_primitives::fr32;
use strata_primitives::merkle::{tree_root, TreeShape};
use strata_primitives::node::{nodes_as_bytes, nodes_as_bytes_mut, Node};

/// Writes the original bytes of piece `index` of the sector in `dir` to `out` (atomically).
/// Returns the piece's info as recorded in `meta.json`.
pub fn unseal_piece(
    dir: &Path,
    index: usize,
    out: &Path,
    parent_cache_dir: &Path,
    progress: &dyn Progress,
) -> Result<PieceInfo, SealError> {
    let meta = SectorMeta::load(dir)?;
    let pieces = meta.data().1;
    let piece = pieces
        .get(index)
        .ok_or(SealError::NoSuchPiece {
            index,
            count: pieces.len(),
        })?
        .clone();
    let first = piece.offset / 32;
    let count = piece.info.padded_size / 32;
    let raw_len = piece.info.raw_len;
    let mut written = 0u64;
    unseal_range(
        dir,
        &meta,
        first,
        count,
        piece.info.comm_p,
        out,
        parent_cache_dir,
        progress,
        &mut |file, tmp, nodes| {
            let bytes = nodes_as_bytes(nodes);
            let mut raw = vec![0u8; bytes.len() / 128 * 127];
            fr32::unpad(bytes, &mut raw);
            let take = (raw_len - written).min(raw.len() as u64) as usize;
            files::write_at(file, &raw[..take], written, tmp)?;
            written += take as u64;
            Ok(())
        },
    )?;
    Ok(piece.info)
}

/// Writes the whole fr32-padded unsealed sector of `dir` to `out` (atomically), checked against CommD.
pub fn unseal_sector(
    dir: &Path,
    out: &Path,
    parent_cache_dir: &Path,
    progress: &dyn Progress,
) -> Result<(), SealError> {
    let meta = SectorMeta::load(dir)?;
    let n = meta.sector_size / 32;
    let mut pos = 0u64;
    unseal_range(
        dir,
        &meta,
        0,
        n,
        meta.data().0,
        out,
        parent_cache_dir,
        progress,
        &mut |file, tmp, nodes| {
            files::write_at(file, nodes_as_bytes(nodes), pos, tmp)?;
            pos += nodes.len() as u64 * 32;
            Ok(())
        },
    )
}

type Emit<'a> = dyn FnMut(&File, &Path, &[Node]) -> Result<(), SealError> + 'a;

#[allow(clippy::too_many_arguments)]
fn unseal_range(
    dir: &Path,
    meta: &SectorMeta,
    first: u64,
    count: u64,
    expected_root: Node,
    out: &Path,
    parent_cache_dir: &Path,
    progress: &dyn Progress,
    emit: &mut Emit<'_>,
) -> Result<(), SealError> {
    let corrupt = |reason: String| SealError::CorruptSector {
        dir: dir.to_path_buf(),
        reason,
    };
    let pt = meta.proof_type_checked()?;
    let paths = SectorPaths::new(dir);
    let n = pt.nodes();
    let sealed_path = paths.sealed();
    let sealed = File::open(&sealed_path).map_err(|e| {
        corrupt(format!(
            "cannot open the replica {}: {e}",
            sealed_path.display()
        ))
    })?;
    let len = sealed
        .metadata()
        .map_err(SealError::io("reading metadata of", &sealed_path))?
        .len();
    if len != n * 32 {
        return Err(corrupt(format!(
            "replica has {len} bytes, a {} sector has {}",
            pt.sector_size,
            n * 32
        )));
    }

    // The key: the last layer's labels, regenerated if the layer file is gone. For an updated
    // sector it is also the committed-capacity replica (whose data was zero), from which the
    // new data is decoded with the update's ρ.
    let rhos = match &meta.update {
        None => None,
        Some(u) => Some(
            Rhos::new(&u.comm_d, &u.comm_r_old, n)
                .map_err(|e| corrupt(format!("update commitments: {e}")))?,
        ),
    };
    let (key_path, scratch) = key_layer(&paths, meta, parent_cache_dir, progress)?;
    let result = (|| {
        let key = File::open(&key_path).map_err(SealError::io("opening", &key_path))?;
        let tmp = files::tmp_path(out);
        let out_file = File::create(&tmp).map_err(SealError::io("creating", &tmp))?;
        progress.start("unsealing", count);
        let mut rep = Vec::new();
        let mut k = Vec::new();
        let mut source = SealSource::new(
            |start: u64, nodes: &mut [Node]| -> Result<(), SealError> {
                rep.resize(nodes.len(), [0u8; 32]);
                k.resize(nodes.len(), [0u8; 32]);
                let at = (first + start) * 32;
                files::read_at(&sealed, nodes_as_bytes_mut(&mut rep), at, &sealed_path)?;
                files::read_at(&key, nodes_as_bytes_mut(&mut k), at, &key_path)?;
                match &rhos {
                    None => decode(&rep, &k, nodes).map_err(|e| match e {
                        DecodeError::NonCanonical(bad) => {
                            corrupt(format!("replica node near {}: {bad}", first + start))
                        }
                        DecodeError::NotData { index } => corrupt(format!(
                            "replica node {} does not decode to data: the replica is corrupt",
                            first + start + index as u64
                        )),
                    })?,
                    Some(rhos) => {
                        decode_update(&rep, &k, first + start, rhos, nodes).map_err(|e| {
                            corrupt(match e {
                                None => format!("replica node near {} is not a field element", first + start),
                                Some(index) => format!(
                                    "updated replica node {} does not decode to data: the replica is corrupt",
                                    first + start + index as u64
                                ),
                            })
                        })?
                    }
                }
                emit(&out_file, &tmp, nodes)?;
                progress.advance(nodes.len() as u64);
                Ok(())
            },
        );
        let root = match tree_root(&TreeShape::binary(count), &mut source) {
            Ok(r) => r,
            Err(e) => {
                let err = source.error(e);
                let _ = fs::remove_file(&tmp);
                return Err(err);
            }
        };
        progress.finish();
        if root != expected_root {
            let _ = fs::remove_file(&tmp);
            return Err(corrupt(format!(
                "decoded data has commitment {}, meta.json records {}: the replica is corrupt",
                hex::encode(root),
                hex::encode(expected_root)
            )));
        }
        files::commit(out_file, &tmp, out)
    })();
    if let Some(s) = scratch {
        let _ = fs::remove_dir_all(s);
    }
    result
}

/// The path of the last layer's labels, regenerating them into a scratch directory if needed.
fn key_layer(
    paths: &SectorPaths,
    meta: &SectorMeta,
    parent_cache_dir: &Path,
    progress: &dyn Progress,
) -> Result<(PathBuf, Option<PathBuf>), SealError> {
    let pt = meta.proof_type_checked()?;
    let last = paths.layer(pt.layers);
    if fs::metadata(&last)
        .map(|m| m.len() == pt.nodes() * 32)
        .unwrap_or(false)
    {
        return Ok((last, None));
    }
    tracing::info!(sector = %paths.dir.display(), "layer files absent: regenerating labels to unseal");
    let scratch = paths.cache().join(format!("unseal-{}", std::process::id()));
    fs::create_dir_all(&scratch).map_err(SealError::io("creating", &scratch))?;
    let graph = Graph::new(&pt.porep_id(), pt.nodes());
    let r = ParentCache::open_or_create(parent_cache_dir, &pt, &graph).and_then(|cache| {
        labeling::label_layers(
            &cache,
            &meta.replica_id,
            pt.layers,
            &|l| scratch.join(format!("layer-{l}.dat")),
            progress,
        )
    });
    if let Err(e) = r {
        let _ = fs::remove_dir_all(&scratch);
        return Err(e);
    }
    Ok((
        scratch.join(format!("layer-{}.dat", pt.layers)),
        Some(scratch),
    ))
}
