//! Sealing one sector end to end: pieces → unsealed → tree_d/CommD → replica_id → labels →
//! replica → tree_c, tree_r_last → CommR, all inside a hidden work directory renamed into place
//! at the end.

use crate::error::SealError;
use crate::files;
use crate::graph::Graph;
use crate::labeling;
use crate::parent_cache::ParentCache;
use crate::pieces::{self, comm_d_from_pieces, PieceInfo};
use crate::progress::Progress;
use crate::sector::{replica_id, PlacedPiece, SectorMeta, SectorPaths, SectorState, META_VERSION};
use crate::{encoding, tree_c};
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use strata_params::ProofType;
use strata_primitives::merkle::{build_tree, LeafSource, TreeError, TreeShape};
use strata_primitives::node::{node_from_fr, node_to_fr, nodes_as_bytes, nodes_as_bytes_mut, Node};
use strata_primitives::sizes::{PaddedPieceSize, UnpaddedPieceSize};

/// What to seal and with which identities.
#[derive(Clone, Debug)]
pub struct SealConfig {
    /// The registered proof type (sector size, layers, …).
    pub proof_type: ProofType,
    /// The miner's id.
    pub prover_id: u64,
    /// The sector number.
    pub sector_number: u64,
    /// Chain randomness.
    pub ticket: Node,
    /// Directory holding parent caches (shared across sectors).
    pub parent_cache_dir: PathBuf,
}

/// One piece's bytes: a reader that yields exactly `len` bytes.
pub struct PieceSource<'a> {
    /// The data.
    pub reader: Box<dyn Read + 'a>,
    /// Its length in bytes (> 0).
    pub len: u64,
}

/// The hidden work directory used while sealing into `out`.
pub fn work_dir(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    out.with_file_name(format!(".{name}.sealing"))
}

/// Seals `pieces` into a new sector directory `out`, which must not exist. On error nothing is
/// left at `out`; a run killed midway leaves only the hidden work directory, which the next run
/// removes and redoes.
pub fn seal(
    config: &SealConfig,
    pieces: Vec<PieceSource<'_>>,
    out: &Path,
    progress: &dyn Progress,
) -> Result<SectorMeta, SealError> {
    let layout = Layout::check(config, &pieces, out)?;
    let work = start_work_dir(out)?;
    let result = (|| {
        let prepared = prepare(config, pieces, &layout, &work, progress)?;
        progress.start("parent cache", 1);
        let cache = open_parent_cache(config)?;
        progress.finish();
        let paths = &prepared.paths;
        labeling::label_layers(
            &cache,
            &prepared.replica_id,
            config.proof_type.layers,
            &|l| paths.layer(l),
            progress,
        )?;
        finish(config, prepared, progress)
    })();
    complete_work_dir(result, &work, out)
}

/// Where each piece goes, checked before anything is written.
pub(crate) struct Layout {
    offsets: Vec<u64>,
}

impl Layout {
    /// Checks that `out` is free and the pieces are non-empty and fit; returns their offsets.
    pub(crate) fn check(
        config: &SealConfig,
        pieces: &[PieceSource<'_>],
        out: &Path,
    ) -> Result<Layout, SealError> {
        if out.exists() {
            return Err(SealError::OutputExists(out.to_path_buf()));
        }
        for (index, p) in pieces.iter().enumerate() {
            if p.len == 0 {
                return Err(SealError::EmptyPiece { index });
            }
        }
        let sizes: Vec<PaddedPieceSize> = pieces
            .iter()
            .map(|p| UnpaddedPieceSize::for_data_len(p.len).padded())
            .collect();
        let offsets = pieces::layout(config.proof_type.sector_size, &sizes)?;
        Ok(Layout { offsets })
    }
}

/// Creates the hidden work directory for `out` (removing an interrupted seal's).
pub(crate) fn start_work_dir(out: &Path) -> Result<PathBuf, SealError> {
    let work = work_dir(out);
    if work.exists() {
        tracing::warn!(dir = %work.display(), "removing the work directory of an interrupted seal");
        fs::remove_dir_all(&work).map_err(SealError::io("removing stale work directory", &work))?;
    }
    let paths = SectorPaths::new(&work);
    fs::create_dir_all(paths.cache()).map_err(SealError::io("creating", paths.cache()))?;
    Ok(work)
}

/// Renames a finished work directory to `out` (fsyncing both), or removes it after an error.
pub(crate) fn complete_work_dir(
    result: Result<SectorMeta, SealError>,
    work: &Path,
    out: &Path,
) -> Result<SectorMeta, SealError> {
    let paths = SectorPaths::new(work);
    match result {
        Ok(meta) => {
            files::sync_dir(&paths.cache())?;
            files::sync_dir(work)?;
            fs::rename(work, out).map_err(SealError::io("renaming sector into place", out))?;
            if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
                files::sync_dir(parent)?;
            }
            Ok(meta)
        }
        Err(e) => {
            let _ = fs::remove_dir_all(work);
            Err(e)
        }
    }
}

/// Opens (creating if absent) the parent cache of `config`'s proof type.
pub(crate) fn open_parent_cache(config: &SealConfig) -> Result<ParentCache, SealError> {
    let pt = &config.proof_type;
    let graph = Graph::new(&pt.porep_id(), pt.nodes());
    ParentCache::open_or_create(&config.parent_cache_dir, pt, &graph)
}

/// A sector whose data, tree_d and replica id exist, ready to be labeled.
pub(crate) struct Prepared {
    pub(crate) paths: SectorPaths,
    pub(crate) replica_id: Node,
    pub(crate) comm_d: Node,
    pub(crate) infos: Vec<PieceInfo>,
    pub(crate) offsets: Vec<u64>,
}

/// Writes the pieces into `work`'s unsealed file, builds tree_d, checks CommD against the
/// pieces' and derives the replica id.
pub(crate) fn prepare(
    config: &SealConfig,
    pieces: Vec<PieceSource<'_>>,
    layout: &Layout,
    work: &Path,
    progress: &dyn Progress,
) -> Result<Prepared, SealError> {
    let pt = &config.proof_type;
    let paths = SectorPaths::new(work);
    let offsets = layout.offsets.clone();

    // 1. Pieces → unsealed file, CommP per piece, streamed.
    progress.start("writing pieces", pieces.iter().map(|p| p.len).sum());
    let unsealed_path = paths.unsealed();
    let (unsealed, tmp) = files::create_sized(&unsealed_path, pt.sector_size.bytes())?;
    let mut infos: Vec<PieceInfo> = Vec::with_capacity(pieces.len());
    for (index, (piece, &offset)) in pieces.into_iter().zip(&offsets).enumerate() {
        let len = piece.len;
        let mut sink =
            |pos: u64, bytes: &[u8]| files::write_at(&unsealed, bytes, offset + pos, &tmp);
        infos.push(pieces::comm_p_indexed(
            piece.reader,
            len,
            index,
            Some(&mut sink),
        )?);
        progress.advance(len);
    }
    files::commit(unsealed, &tmp, &unsealed_path)?;
    progress.finish();

    // 2. tree_d over the unsealed file; CommD must equal CommD from the pieces.
    progress.start("building tree_d", 1);
    let comm_d = build_tree(
        &pt.tree_d_shape(),
        &mut FileLeaves::open(&unsealed_path)?,
        &paths.tree_d(),
    )?;
    let from_pieces = comm_d_from_pieces(pt.sector_size, &infos)?;
    if comm_d != from_pieces {
        return Err(SealError::CorruptSector {
            dir: paths.dir.clone(),
            reason: "CommD of the data differs from CommD of the pieces".into(),
        });
    }
    progress.finish();

    // 3. The replica id binds the labels to this miner, sector, ticket, data and proof type.
    let replica_id = replica_id(
        config.prover_id,
        config.sector_number,
        &config.ticket,
        &comm_d,
        &pt.porep_id(),
    );
    Ok(Prepared {
        paths,
        replica_id,
        comm_d,
        infos,
        offsets,
    })
}

/// From labeled layers: encoding, tree_c, tree_r_last, CommR, `p_aux` and `meta.json`.
pub(crate) fn finish(
    config: &SealConfig,
    prepared: Prepared,
    progress: &dyn Progress,
) -> Result<SectorMeta, SealError> {
    let pt = &config.proof_type;
    let n = pt.nodes();
    let paths = &prepared.paths;

    // 4. Encoding: replica = data + last layer.
    progress.start("encoding", n);
    encode_file(
        &paths.unsealed(),
        &paths.layer(pt.layers),
        &paths.sealed(),
        n,
        progress,
    )?;
    progress.finish();

    // 5. tree_c over column hashes, tree_r_last over the replica.
    progress.start("building tree_c", n);
    let comm_c = build_tree_c(paths, pt.layers, &pt.tree_r_shape(), progress)?;
    progress.finish();
    let comm_r_last = build_tree_r_last(paths, pt, progress)?;
    let comm_r = comm_r(&comm_c, &comm_r_last);
    files::write_atomic(&paths.p_aux(), &[comm_c, comm_r_last].concat())?;

    let meta = SectorMeta {
        version: META_VERSION,
        proof_type: pt.id,
        sector_size: pt.sector_size.bytes(),
        prover_id: config.prover_id,
        sector_number: config.sector_number,
        ticket: config.ticket,
        replica_id: prepared.replica_id,
        comm_d: prepared.comm_d,
        comm_c,
        comm_r_last,
        comm_r,
        pieces: prepared
            .infos
            .into_iter()
            .zip(prepared.offsets)
            .map(|(info, offset)| PlacedPiece { info, offset })
            .collect(),
        state: SectorState::Sealed,
        update: None,
    };
    files::write_atomic(
        &paths.meta(),
        serde_json::to_string_pretty(&meta)
            .expect("meta serialises")
            .as_bytes(),
    )?;
    Ok(meta)
}

/// `CommR = Poseidon_2(comm_c, comm_r_last)`.
pub fn comm_r(comm_c: &Node, comm_r_last: &Node) -> Node {
    let c = node_to_fr(comm_c).expect("comm_c is a Poseidon output");
    let r = node_to_fr(comm_r_last).expect("comm_r_last is a Poseidon output");
    node_from_fr(&strata_primitives::poseidon::hash(&[c, r]))
}

/// Builds tree_r_last over the sector's replica (`sealed`); returns its root.
pub(crate) fn build_tree_r_last(
    paths: &SectorPaths,
    pt: &ProofType,
    progress: &dyn Progress,
) -> Result<Node, SealError> {
    progress.start("building tree_r_last", 1);
    let root = build_tree(
        &pt.tree_r_shape(),
        &mut FileLeaves::open(&paths.sealed())?,
        &paths.tree_r_last(),
    )?;
    progress.finish();
    Ok(root)
}

/// Adapts a fallible leaf-producing closure into a [`LeafSource`] while keeping its typed
/// [`SealError`]: the tree builder only sees a message, and [`SealSource::error`] recovers the
/// original error afterwards.
pub(crate) struct SealSource<F> {
    fill: F,
    error: Option<SealError>,
}

impl<F: FnMut(u64, &mut [Node]) -> Result<(), SealError>> SealSource<F> {
    pub(crate) fn new(fill: F) -> Self {
        SealSource { fill, error: None }
    }

    /// The error to report for a failed tree operation: the source's own, else the tree's.
    pub(crate) fn error(&mut self, e: TreeError) -> SealError {
        self.error.take().unwrap_or(SealError::Tree(e))
    }
}

impl<F: FnMut(u64, &mut [Node]) -> Result<(), SealError>> LeafSource for SealSource<F> {
    fn fill(&mut self, start: u64, out: &mut [Node]) -> Result<(), TreeError> {
        (self.fill)(start, out).map_err(|e| {
            let msg = e.to_string();
            self.error = Some(e);
            TreeError::Source(msg)
        })
    }
}

/// Nodes processed per streamed block.
pub(crate) const BLOCK: usize = 1 << 16;

/// Leaves read from a file block by block with positioned reads.
pub(crate) struct FileLeaves {
    file: File,
    path: PathBuf,
}

impl FileLeaves {
    pub(crate) fn open(path: &Path) -> Result<Self, SealError> {
        Ok(FileLeaves {
            file: File::open(path).map_err(SealError::io("opening", path))?,
            path: path.to_path_buf(),
        })
    }
}

impl LeafSource for FileLeaves {
    fn fill(&mut self, start: u64, out: &mut [Node]) -> Result<(), TreeError> {
        use std::os::unix::fs::FileExt;
        self.file
            .read_exact_at(nodes_as_bytes_mut(out), start * 32)
            .map_err(|source| TreeError::Io {
                what: "reading leaves from",
                path: self.path.clone(),
                source,
            })
    }
}

fn encode_file(
    data: &Path,
    key: &Path,
    out: &Path,
    n: u64,
    progress: &dyn Progress,
) -> Result<(), SealError> {
    combine_files(data, key, out, n, progress, &|start, d, k, o| {
        encoding::encode(d, k, o).map_err(|e| SealError::CorruptSector {
            dir: data.parent().unwrap_or(data).to_path_buf(),
            reason: format!("encoding block at node {start}: {e}"),
        })
    })
}

/// One block of a [`combine_files`]: its first node, the blocks of both inputs, the output.
pub(crate) type CombineBlock<'a> =
    dyn Fn(u64, &[Node], &[Node], &mut [Node]) -> Result<(), SealError> + 'a;

/// Writes `out` (n nodes, atomically) from two n-node files read block by block in step, each
/// output block computed by `f` from the two input blocks.
pub(crate) fn combine_files(
    a: &Path,
    b: &Path,
    out: &Path,
    n: u64,
    progress: &dyn Progress,
    f: &CombineBlock<'_>,
) -> Result<(), SealError> {
    let (fa, fb) = (
        File::open(a).map_err(SealError::io("opening", a))?,
        File::open(b).map_err(SealError::io("opening", b))?,
    );
    let (o, tmp) = files::create_sized(out, n * 32)?;
    let mut ba = vec![[0u8; 32]; BLOCK];
    let mut bb = vec![[0u8; 32]; BLOCK];
    let mut bo = vec![[0u8; 32]; BLOCK];
    let mut start = 0u64;
    while start < n {
        let len = (BLOCK as u64).min(n - start) as usize;
        files::read_at(&fa, nodes_as_bytes_mut(&mut ba[..len]), start * 32, a)?;
        files::read_at(&fb, nodes_as_bytes_mut(&mut bb[..len]), start * 32, b)?;
        f(start, &ba[..len], &bb[..len], &mut bo[..len])?;
        files::write_at(&o, nodes_as_bytes(&bo[..len]), start * 32, &tmp)?;
        progress.advance(len as u64);
        start += len as u64;
    }
    files::commit(o, &tmp, out)
}

/// Builds tree_c over the column hashes of the layer files in `paths`, writing its leaves and upper
/// levels into the sector cache. Returns comm_c.
pub fn build_tree_c(
    paths: &SectorPaths,
    layers: usize,
    shape: &TreeShape,
    progress: &dyn Progress,
) -> Result<Node, SealError> {
    let layer_files = (1..=layers)
        .map(|l| File::open(paths.layer(l)).map_err(SealError::io("opening", paths.layer(l))))
        .collect::<Result<Vec<_>, _>>()?;
    let leaves_path = paths.tree_c_leaves();
    let (leaves_file, leaves_tmp) = files::create_sized(&leaves_path, shape.leaves * 32)?;
    let mut cols: Vec<Vec<Node>> = vec![Vec::new(); layers];
    let mut source = SealSource::new(|start: u64, out: &mut [Node]| -> Result<(), SealError> {
        for (l, (f, col)) in layer_files.iter().zip(cols.iter_mut()).enumerate() {
            col.resize(out.len(), [0u8; 32]);
            files::read_at(f, nodes_as_bytes_mut(col), start * 32, &paths.layer(l + 1))?;
        }
        tree_c::hash_columns(&cols, out).map_err(|e| SealError::CorruptSector {
            dir: paths.dir.clone(),
            reason: format!("layer label: {e}"),
        })?;
        files::write_at(&leaves_file, nodes_as_bytes(out), start * 32, &leaves_tmp)?;
        progress.advance(out.len() as u64);
        Ok(())
    });
    let root = build_tree(shape, &mut source, &paths.tree_c()).map_err(|e| source.error(e))?;
    files::commit(leaves_file, &leaves_tmp, &leaves_path)?;
    Ok(root)
}
