//! Groth16 parameter files (DESIGN §7): one per (proof kind, sector size, circuit digest), in a
//! directory (`$STRATA_PARAMS`, default `$XDG_CACHE_HOME/strata/params`) with a `manifest.json`
//! of BLAKE3 digests. Loading checks the file's digest against the manifest before mapping it, so a
//! truncated or altered file is an error naming the file, never a panic or a wrong proof.
//!
//! Generation is a single-party setup — fine for a devnet, not for production, where parameters
//! come from a multi-party ceremony. A file lock serialises generation across processes.

use bls12_381::Bls12;
use groth16::{Parameters, VerifyingKey};
use memmap2::Mmap;
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Format version of parameter files and their manifest.
pub const PARAMS_VERSION: u32 = 1;

/// Which proof a parameter file is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProofKind {
    /// Seal proof (one partition).
    Porep,
    /// WinningPoSt.
    Winning,
    /// WindowPoSt (one partition).
    Window,
}

impl ProofKind {
    /// The name used in file names and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ProofKind::Porep => "porep",
            ProofKind::Winning => "winning",
            ProofKind::Window => "window",
        }
    }
}

/// One manifest entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamsEntry {
    /// File name inside the directory.
    pub file: String,
    /// Proof kind.
    pub kind: ProofKind,
    /// Sector size in bytes.
    pub sector_size: u64,
    /// BLAKE3 digest of the circuit's R1CS.
    pub circuit_digest: String,
    /// Constraints in the circuit.
    pub constraints: usize,
    /// BLAKE3 of the parameter file.
    pub blake3: String,
    /// BLAKE3 of the serialised verifying key (what proof files name).
    pub vk_digest: String,
    /// File size in bytes.
    pub bytes: u64,
    /// The verifying key alone, in a file beside the parameters (its BLAKE3 is `vk_digest`):
    /// what `strata verify` reads, and all an auditor needs. Absent in manifests written before
    /// key files existed; the key is then read from the parameter file's prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vk_file: Option<String>,
    /// How the parameters were made; absent in manifests written before ceremonies existed
    /// (those files were single-party).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// How a parameter file was made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "setup", rename_all = "snake_case")]
pub enum Origin {
    /// Generated on one machine (`strata params generate`): whoever ran it could forge proofs.
    /// Devnet only.
    SingleParty,
    /// The result of a multi-party ceremony (`strata ceremony`): sound if one contributor in
    /// either phase was honest.
    Ceremony {
        /// Contributions to the powers of tau (phase 1), the beacon not counted.
        phase1_contributions: usize,
        /// Contributions to this circuit's phase 2.
        phase2_contributions: usize,
        /// BLAKE3 of the last phase-2 file, which chains back through every file of both phases.
        transcript: String,
    },
}

impl ParamsEntry {
    /// One line on how the file was made, for `strata params list`.
    pub fn provenance(&self) -> String {
        match &self.origin {
            None | Some(Origin::SingleParty) => "single-party setup (devnet only)".into(),
            Some(Origin::Ceremony {
                phase1_contributions,
                phase2_contributions,
                transcript,
            }) => format!(
                "ceremony: {phase1_contributions} phase-1 + {phase2_contributions} phase-2 contributions, transcript {}",
                &transcript[..transcript.len().min(16)]
            ),
        }
    }
}

/// `manifest.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version.
    pub version: u32,
    /// Entries, one per file.
    pub entries: Vec<ParamsEntry>,
}

/// Why parameters could not be found, generated or loaded.
#[derive(Debug, Error)]
pub enum ParamsError {
    /// A file operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// No parameters for this circuit.
    #[error("no {kind} parameters for {size}-byte sectors (circuit {digest}) in {dir}; run `strata params generate`")]
    Missing {
        /// Kind.
        kind: &'static str,
        /// Sector size.
        size: u64,
        /// Circuit digest.
        digest: String,
        /// The directory searched.
        dir: PathBuf,
    },
    /// The file does not match its manifest digest, or does not parse.
    #[error("parameter file {path} is corrupt: {reason}; delete it and regenerate")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// The verifying key read from a parameter file is not the one its manifest entry names.
    #[error("verifying key in parameter file {path} has BLAKE3 {actual}, the manifest records {recorded}")]
    VkDigest {
        /// The parameter file.
        path: PathBuf,
        /// The digest in the manifest.
        recorded: String,
        /// The digest of the key the file holds.
        actual: String,
    },
    /// The manifest does not parse.
    #[error("manifest {path} is malformed: {reason}")]
    BadManifest {
        /// The manifest.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Generation failed.
    #[error("generating {kind} parameters: {reason}")]
    Generation {
        /// Kind.
        kind: &'static str,
        /// Why.
        reason: String,
    },
}

/// What a checked entry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryStatus {
    /// The parameter file (digest and parse checked) and its key, which agree.
    Complete,
    /// Only the verifying key (digest checked): enough to verify, not to prove.
    KeyOnly,
}

/// One entry and the result of checking its files.
pub type EntryCheck = (ParamsEntry, Result<EntryStatus, ParamsError>);

/// A directory of parameter files.
#[derive(Clone, Debug)]
pub struct ParamsStore {
    dir: PathBuf,
}

/// What identifies the circuit a parameter file is for.
#[derive(Clone, Debug)]
pub struct CircuitId {
    /// Proof kind.
    pub kind: ProofKind,
    /// Sector size in bytes.
    pub sector_size: u64,
    /// BLAKE3 of the R1CS.
    pub digest: String,
    /// Constraint count.
    pub constraints: usize,
}

/// Loaded parameters and their manifest entry.
pub struct LoadedParams {
    /// The Groth16 parameters.
    pub params: Parameters<Bls12>,
    /// Its manifest entry.
    pub entry: ParamsEntry,
}

impl ParamsStore {
    /// A store in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ParamsStore { dir: dir.into() }
    }

    /// `$STRATA_PARAMS`, else `$XDG_CACHE_HOME/strata/params`, else `~/.cache/strata/params`.
    pub fn default_dir() -> PathBuf {
        if let Some(p) = std::env::var_os("STRATA_PARAMS") {
            return PathBuf::from(p);
        }
        std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir)
            .join("strata")
            .join("params")
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn manifest_path(&self) -> PathBuf {
        self.dir.join("manifest.json")
    }

    /// The file name for a circuit: version, kind, size and digest prefix.
    pub fn file_name(id: &CircuitId) -> String {
        format!(
            "v{PARAMS_VERSION}-{}-{}-{}.params",
            id.kind.as_str(),
            id.sector_size,
            &id.digest[..16]
        )
    }

    /// Reads the manifest (empty if absent).
    pub fn manifest(&self) -> Result<Manifest, ParamsError> {
        let path = self.manifest_path();
        match fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| ParamsError::BadManifest {
                path,
                reason: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest {
                version: PARAMS_VERSION,
                entries: vec![],
            }),
            Err(source) => Err(ParamsError::Io {
                what: "reading",
                path,
                source,
            }),
        }
    }

    /// The verifying-key file name for a circuit: the parameter file's name with `.vk`.
    pub fn vk_file_name(id: &CircuitId) -> String {
        Self::file_name(id).replace(".params", ".vk")
    }

    /// Whether the manifest lists parameters for `id` and their file is there with the recorded
    /// size: a cheap presence check (the digest is checked when they are loaded).
    pub fn has(&self, id: &CircuitId) -> Result<bool, ParamsError> {
        Ok(self.manifest()?.entries.iter().any(|e| {
            e.kind == id.kind
                && e.sector_size == id.sector_size
                && e.circuit_digest == id.digest
                && fs::metadata(self.dir.join(&e.file)).is_ok_and(|m| m.len() == e.bytes)
        }))
    }

    /// Loads the parameters of `id`, checking the file's digest first.
    pub fn load(&self, id: &CircuitId) -> Result<LoadedParams, ParamsError> {
        let entry = self
            .manifest()?
            .entries
            .into_iter()
            .find(|e| {
                e.kind == id.kind
                    && e.sector_size == id.sector_size
                    && e.circuit_digest == id.digest
            })
            .ok_or_else(|| ParamsError::Missing {
                kind: id.kind.as_str(),
                size: id.sector_size,
                digest: id.digest.clone(),
                dir: self.dir.clone(),
            })?;
        let path = self.dir.join(&entry.file);
        let map = self.check_file(&entry)?;
        let params =
            Parameters::<Bls12>::read(&map[..], false).map_err(|e| ParamsError::Corrupt {
                path,
                reason: format!("does not parse: {e}"),
            })?;
        Ok(LoadedParams { params, entry })
    }

    /// Maps an entry's file after checking its size and BLAKE3 digest.
    pub fn check_file(&self, entry: &ParamsEntry) -> Result<Mmap, ParamsError> {
        let path = self.dir.join(&entry.file);
        let map = map_file(&path)?;
        if map.len() as u64 != entry.bytes {
            return Err(ParamsError::Corrupt {
                path,
                reason: format!("{} bytes, the manifest records {}", map.len(), entry.bytes),
            });
        }
        let mut h = blake3::Hasher::new();
        h.update_rayon(&map);
        let digest = h.finalize().to_hex().to_string();
        if digest != entry.blake3 {
            return Err(ParamsError::Corrupt {
                path,
                reason: format!("BLAKE3 {digest}, the manifest records {}", entry.blake3),
            });
        }
        Ok(map)
    }

    /// Loads the parameters of `id`, generating and storing them first if absent.
    pub fn load_or_generate(
        &self,
        id: &CircuitId,
        generate: impl FnOnce() -> Result<Parameters<Bls12>, String>,
    ) -> Result<LoadedParams, ParamsError> {
        match self.load(id) {
            Err(ParamsError::Missing { .. }) => {}
            other => return other,
        }
        let lock = self.lock()?;
        // Another process may have generated them while we waited for the lock.
        match self.load(id) {
            Err(ParamsError::Missing { .. }) => {}
            other => return other,
        }
        tracing::warn!(
            kind = id.kind.as_str(),
            size = id.sector_size,
            constraints = id.constraints,
            "generating Groth16 parameters (single-party setup: devnet only)"
        );
        let params = generate().map_err(|reason| ParamsError::Generation {
            kind: id.kind.as_str(),
            reason,
        })?;
        let entry = self.store_locked(id, &params, Origin::SingleParty)?;
        drop(lock);
        Ok(LoadedParams { params, entry })
    }

    /// Stores `params` as the parameters of `id`, replacing any earlier file for the same
    /// circuit (proofs made with the replaced parameters no longer verify against this store),
    /// and records how they were made. Files are written atomically, under the directory's lock.
    pub fn install(
        &self,
        id: &CircuitId,
        params: &Parameters<Bls12>,
        origin: Origin,
    ) -> Result<ParamsEntry, ParamsError> {
        let _lock = self.lock()?;
        self.store_locked(id, params, origin)
    }

    /// Creates the directory and takes its exclusive lock (held until the file is dropped), so
    /// one process at a time writes parameters and the manifest.
    fn lock(&self) -> Result<File, ParamsError> {
        fs::create_dir_all(&self.dir).map_err(|source| ParamsError::Io {
            what: "creating",
            path: self.dir.clone(),
            source,
        })?;
        let lock_path = self.dir.join(".lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| ParamsError::Io {
                what: "opening",
                path: lock_path.clone(),
                source,
            })?;
        lock.lock().map_err(|source| ParamsError::Io {
            what: "locking",
            path: lock_path,
            source,
        })?;
        Ok(lock)
    }

    fn store_locked(
        &self,
        id: &CircuitId,
        params: &Parameters<Bls12>,
        origin: Origin,
    ) -> Result<ParamsEntry, ParamsError> {
        let mut bytes = Vec::new();
        params.write(&mut bytes).expect("writing to memory");
        let mut vk = Vec::new();
        params.vk.write(&mut vk).expect("writing to memory");
        let entry = ParamsEntry {
            file: Self::file_name(id),
            kind: id.kind,
            sector_size: id.sector_size,
            circuit_digest: id.digest.clone(),
            constraints: id.constraints,
            blake3: blake3::hash(&bytes).to_hex().to_string(),
            vk_digest: blake3::hash(&vk).to_hex().to_string(),
            bytes: bytes.len() as u64,
            vk_file: Some(Self::vk_file_name(id)),
            origin: Some(origin),
        };
        write_atomic(&self.dir.join(&entry.file), &bytes)?;
        write_atomic(&self.dir.join(Self::vk_file_name(id)), &vk)?;
        let mut manifest = self.manifest()?;
        manifest.version = PARAMS_VERSION;
        manifest.entries.retain(|e| e.file != entry.file);
        manifest.entries.push(entry.clone());
        self.write_manifest(&manifest)?;
        Ok(entry)
    }

    /// The verifying key with BLAKE3 digest `vk_digest` from the entry for (`kind`, `sector_size`).
    ///
    /// Reads the entry's key file (a few KB) when it has one, else only the parameter file's
    /// prefix: never the whole parameter file, whose size is no business of a verifier. Either
    /// way the key's digest is recomputed from the bytes read, so a key that is not the one the
    /// manifest (and the proof file) names is [`ParamsError::VkDigest`], and trailing or missing
    /// bytes in a key file are [`ParamsError::Corrupt`].
    pub fn load_vk(
        &self,
        kind: ProofKind,
        sector_size: u64,
        vk_digest: &str,
    ) -> Result<(VerifyingKey<Bls12>, ParamsEntry), ParamsError> {
        let entry = self
            .manifest()?
            .entries
            .into_iter()
            .find(|e| e.kind == kind && e.sector_size == sector_size && e.vk_digest == vk_digest)
            .ok_or_else(|| ParamsError::Missing {
                kind: kind.as_str(),
                size: sector_size,
                digest: format!("verifying key {vk_digest}"),
                dir: self.dir.clone(),
            })?;
        let vk = self.read_vk(&entry)?;
        Ok((vk, entry))
    }

    /// Reads and checks the verifying key of `entry` (see [`ParamsStore::load_vk`]).
    pub fn read_vk(&self, entry: &ParamsEntry) -> Result<VerifyingKey<Bls12>, ParamsError> {
        let (path, vk) = match &entry.vk_file {
            Some(name) => {
                let path = self.dir.join(name);
                let bytes = fs::read(&path).map_err(|source| ParamsError::Io {
                    what: "reading",
                    path: path.clone(),
                    source,
                })?;
                let mut rest = &bytes[..];
                let vk =
                    VerifyingKey::<Bls12>::read(&mut rest).map_err(|e| ParamsError::Corrupt {
                        path: path.clone(),
                        reason: format!("verifying key does not parse: {e}"),
                    })?;
                if !rest.is_empty() {
                    return Err(ParamsError::Corrupt {
                        path,
                        reason: format!("{} bytes after the verifying key", rest.len()),
                    });
                }
                (path, vk)
            }
            None => {
                let path = self.dir.join(&entry.file);
                let map = map_file(&path)?;
                let vk =
                    VerifyingKey::<Bls12>::read(&map[..]).map_err(|e| ParamsError::Corrupt {
                        path: path.clone(),
                        reason: format!("verifying key does not parse: {e}"),
                    })?;
                (path, vk)
            }
        };
        let actual = self::vk_digest(&vk);
        if actual != entry.vk_digest {
            return Err(ParamsError::VkDigest {
                path,
                recorded: entry.vk_digest.clone(),
                actual,
            });
        }
        Ok(vk)
    }

    /// Checks every entry in the manifest; one result per entry. A parameter file must match its
    /// BLAKE3 digest and parse, and its key must be the entry's key file's; an entry whose
    /// parameter file is absent but whose key file checks is [`EntryStatus::KeyOnly`].
    pub fn verify_all(&self) -> Result<Vec<EntryCheck>, ParamsError> {
        Ok(self
            .manifest()?
            .entries
            .into_iter()
            .map(|e| {
                let r = self.check_entry(&e);
                (e, r)
            })
            .collect())
    }

    fn check_entry(&self, e: &ParamsEntry) -> Result<EntryStatus, ParamsError> {
        let path = self.dir.join(&e.file);
        if e.vk_file.is_some() && !path.exists() {
            self.read_vk(e)?;
            return Ok(EntryStatus::KeyOnly);
        }
        let map = self.check_file(e)?;
        let params =
            Parameters::<Bls12>::read(&map[..], false).map_err(|err| ParamsError::Corrupt {
                path: path.clone(),
                reason: format!("does not parse: {err}"),
            })?;
        if e.vk_file.is_some() && self.read_vk(e)? != params.vk {
            return Err(ParamsError::Corrupt {
                path,
                reason: "its verifying key differs from the key file's".into(),
            });
        }
        Ok(EntryStatus::Complete)
    }

    /// Writes the key file of every entry that lacks one (manifests from before key files),
    /// reading each key from its parameter file's prefix and checking its digest. Returns the
    /// names of the files written.
    pub fn add_missing_vk_files(&self) -> Result<Vec<String>, ParamsError> {
        let mut manifest = self.manifest()?;
        let mut written = Vec::new();
        for e in manifest.entries.iter_mut().filter(|e| e.vk_file.is_none()) {
            let vk = self.read_vk(e)?;
            let name = e.file.replace(".params", ".vk");
            let mut bytes = Vec::new();
            vk.write(&mut bytes).expect("writing to memory");
            write_atomic(&self.dir.join(&name), &bytes)?;
            e.vk_file = Some(name.clone());
            written.push(name);
        }
        if !written.is_empty() {
            self.write_manifest(&manifest)?;
        }
        Ok(written)
    }

    /// Copies every entry's verifying key (checked) into `out` with a manifest of its own: a
    /// directory an auditor can verify proof files against without any parameter file.
    pub fn export_keys(&self, out: &Path) -> Result<Manifest, ParamsError> {
        fs::create_dir_all(out).map_err(|source| ParamsError::Io {
            what: "creating",
            path: out.to_path_buf(),
            source,
        })?;
        let mut manifest = self.manifest()?;
        for e in manifest.entries.iter_mut() {
            let vk = self.read_vk(e)?;
            let name = e
                .vk_file
                .clone()
                .unwrap_or_else(|| e.file.replace(".params", ".vk"));
            let mut bytes = Vec::new();
            vk.write(&mut bytes).expect("writing to memory");
            write_atomic(&out.join(&name), &bytes)?;
            e.vk_file = Some(name);
        }
        ParamsStore::new(out).write_manifest(&manifest)?;
        Ok(manifest)
    }

    fn write_manifest(&self, manifest: &Manifest) -> Result<(), ParamsError> {
        write_atomic(
            &self.manifest_path(),
            serde_json::to_string_pretty(manifest)
                .expect("manifest serialises")
                .as_bytes(),
        )
    }
}

/// BLAKE3 of a serialised verifying key.
pub fn vk_digest(vk: &VerifyingKey<Bls12>) -> String {
    let mut bytes = Vec::new();
    vk.write(&mut bytes).expect("writing to memory");
    blake3::hash(&bytes).to_hex().to_string()
}

/// Maps a parameter file read-only.
fn map_file(path: &Path) -> Result<Mmap, ParamsError> {
    let file = File::open(path).map_err(|source| ParamsError::Io {
        what: "opening",
        path: path.to_path_buf(),
        source,
    })?;
    // SAFETY: parameter files are written once (temp + rename) and never modified in place.
    unsafe { Mmap::map(&file) }.map_err(|source| ParamsError::Io {
        what: "mapping",
        path: path.to_path_buf(),
        source,
    })
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ParamsError> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let tmp = path.with_file_name(name);
    let io = |what, p: &Path| {
        let p = p.to_path_buf();
        move |source| ParamsError::Io {
            what,
            path: p,
            source,
        }
    };
    let mut f = File::create(&tmp).map_err(io("creating", &tmp))?;
    f.write_all(bytes).map_err(io("writing", &tmp))?;
    f.sync_all().map_err(io("syncing", &tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(io("renaming into place", path))
}
