//! Phase 2 for one circuit (Bowe–Gabizon–Miers 2017): from the closed powers of tau and the
//! circuit's R1CS, the starting parameters (δ = 1, computed publicly, see [`qap`]); then a chain
//! of contributions, each multiplying δ by a secret δ' and dividing `h` and `l` by it, with a
//! proof of knowledge of δ'; finally ordinary Groth16 parameters in the parameter store.
//!
//! Directory layout: `ceremony.json` (the [`Transcript`]), `0000.phase2` (initial),
//! `0001.phase2`, … (contributions; format in [`file`]).
//!
//! Verification trusts nothing in the directory: it re-verifies phase 1, recomputes the initial
//! file from it and the circuit (so the result matches the circuit's QAP), and checks each
//! contribution's proof of knowledge and pairing equations against the file before it.

pub mod check;
pub mod file;
pub mod qap;
mod verification;

pub use verification::verify;

use crate::curve::{
    random_scalar, scale_g1, G1Affine, G1Projective, G2Affine, G2Projective, CHUNK, G1_BYTES,
};
use crate::files::{digest_of, map, write_atomic};
use crate::phase1::{self, Entry, StepKind};
use crate::pok::Pok;
use crate::{decode_g1s, CeremonyError, Progress};
use bellman::Circuit;
use file::{CircuitRecord, Header, Reader};
use group013::prime::PrimeCurveAffine;
use group013::Curve;
use qap::{Initial, Powers};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use strata_params::generator::assembly::KeypairAssembly;
use strata_params::groth16_files::{CircuitId, Origin, ParamsEntry, ParamsStore, ProofKind};

const FORMAT: &str = "strata-phase2-transcript";
const VERSION: u32 = 1;
const TRANSCRIPT: &str = "ceremony.json";

/// The phase-1 transcript a phase 2 starts from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TauRecord {
    /// Its directory, as given to `new`.
    pub dir: PathBuf,
    /// BLAKE3 of its final (beacon) file.
    pub digest: String,
    /// log₂ of its powers.
    pub power: u32,
    /// Its contributions, the beacon not counted.
    pub contributions: usize,
}

/// `ceremony.json`: the circuit, the phase 1 it builds on, and every file in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcript {
    /// Always `strata-phase2-transcript`.
    pub format: String,
    /// Format version.
    pub version: u32,
    /// The proof kind.
    pub kind: ProofKind,
    /// The sector size in bytes.
    pub sector_size: u64,
    /// BLAKE3 of the circuit's R1CS (as the parameter store names circuits).
    pub circuit_digest: String,
    /// The circuit's constraints, input constraints included.
    pub constraints: usize,
    /// log₂ of the circuit's domain.
    pub domain_log: u32,
    /// The powers of tau.
    pub tau: TauRecord,
    /// The files: the initial one, then the contributions.
    pub files: Vec<Entry>,
}

impl Transcript {
    /// Reads `dir/ceremony.json`.
    pub fn read(dir: &Path) -> Result<Transcript, CeremonyError> {
        let path = dir.join(TRANSCRIPT);
        let text = std::fs::read_to_string(&path).map_err(|source| CeremonyError::Io {
            what: "reading",
            path: path.clone(),
            source,
        })?;
        let t: Transcript = serde_json::from_str(&text).map_err(|e| CeremonyError::Format {
            path: path.clone(),
            expected: "phase-2 transcript",
            reason: e.to_string(),
        })?;
        if t.format != FORMAT || t.version != VERSION {
            return Err(CeremonyError::Format {
                path,
                expected: "phase-2 transcript",
                reason: format!(
                    "{} v{}, this build reads {FORMAT} v{VERSION}",
                    t.format, t.version
                ),
            });
        }
        Ok(t)
    }

    fn write(&self, dir: &Path) -> Result<(), CeremonyError> {
        let text = serde_json::to_string_pretty(self).expect("transcript serialises");
        crate::files::write_bytes_atomic(&dir.join(TRANSCRIPT), text.as_bytes())
    }

    /// Contributions so far.
    pub fn contributions(&self) -> usize {
        self.files.len().saturating_sub(1)
    }
}

/// What `verify` established.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The transcript, every file of it checked.
    pub transcript: Transcript,
    /// Phase 1, re-verified.
    pub phase1: phase1::Verified,
    /// BLAKE3 of the last file (chains back to the first power of tau).
    pub final_digest: String,
}

fn raw_digest(hex_digest: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    if let Ok(b) = hex::decode(hex_digest) {
        if b.len() == 32 {
            out.copy_from_slice(&b);
        }
    }
    out
}

fn transcript_err(dir: &Path, reason: impl Into<String>) -> CeremonyError {
    CeremonyError::Transcript {
        dir: dir.to_path_buf(),
        reason: reason.into(),
    }
}

/// Maps the file of `entry` and checks its BLAKE3 digest is the one the transcript records;
/// returns the mapping and the digest.
fn map_recorded(dir: &Path, entry: &Entry) -> Result<(memmap2::Mmap, String), CeremonyError> {
    let bytes = map(&dir.join(&entry.file))?;
    let actual = digest_of(&bytes);
    if actual != entry.digest {
        return Err(transcript_err(
            dir,
            format!(
                "{} has BLAKE3 {actual}, the transcript records {}",
                entry.file, entry.digest
            ),
        ));
    }
    Ok((bytes, actual))
}

/// The context a δ proof of knowledge is bound to: the file it builds on and its position.
fn pok_context(prev: &[u8; 32], index: u32) -> Vec<u8> {
    let mut c = b"strata phase2 v1 delta".to_vec();
    c.extend_from_slice(prev);
    c.extend_from_slice(&index.to_le_bytes());
    c
}

/// Verifies phase 1 (which must be closed by a beacon) and loads its final powers.
fn closed_phase1(
    tau_dir: &Path,
    progress: &dyn Progress,
) -> Result<(phase1::Verified, phase1::Accumulator), CeremonyError> {
    let v = phase1::verify(tau_dir, progress)?;
    if !v.finalized {
        return Err(not_closed(tau_dir));
    }
    let (acc, entry) = phase1::read_latest(tau_dir)?;
    if entry.digest != v.final_digest {
        return Err(transcript_err(
            tau_dir,
            "the final file changed while it was verified",
        ));
    }
    Ok((v, acc))
}

fn not_closed(tau_dir: &Path) -> CeremonyError {
    transcript_err(
        tau_dir,
        "phase 1 is not closed by a beacon (`strata ceremony tau beacon`)",
    )
}

/// Loads the final powers of a closed phase 1 after checking only that its transcript ends in
/// a beacon and the final file has the recorded digest (its points are decoded with curve and
/// subgroup checks). Starting a phase 2 needs no more: `verify` and `finalize` re-verify the
/// whole phase 1, and a phase 2 built on a bad phase 1 fails there.
fn closed_phase1_light(tau_dir: &Path) -> Result<(TauRecord, phase1::Accumulator), CeremonyError> {
    let t = phase1::Transcript::read(tau_dir)?;
    if t.files.last().map(|e| e.kind) != Some(StepKind::Beacon) {
        return Err(not_closed(tau_dir));
    }
    let (acc, entry) = phase1::read_latest(tau_dir)?;
    let contributions = t
        .files
        .iter()
        .filter(|e| e.kind == StepKind::Contribution)
        .count();
    Ok((
        TauRecord {
            dir: tau_dir.to_path_buf(),
            digest: entry.digest,
            power: acc.power,
            contributions,
        },
        acc,
    ))
}

/// The phase-1 elements of `acc` that phase 2 reads.
fn powers_of(acc: &phase1::Accumulator) -> Powers<'_> {
    Powers {
        tau_g1: &acc.tau_g1,
        tau_g2: &acc.tau_g2,
        alpha_g1: &acc.alpha_g1,
        beta_g1: &acc.beta_g1,
        beta_g2: acc.beta_g2,
    }
}

/// The initial file's bytes for `assembly`'s circuit over `acc`.
fn initial_bytes(
    acc: &phase1::Accumulator,
    tau_digest: &str,
    record: &CircuitRecord,
    assembly: &KeypairAssembly,
    progress: &dyn Progress,
) -> Result<Vec<u8>, CeremonyError> {
    let init = qap::initial(&powers_of(acc), assembly, progress)?;
    let mut bytes = Vec::new();
    let header = Header {
        index: 0,
        kind: 0,
        prev: raw_digest(tau_digest),
        name: "initial".into(),
    };
    file::write_header(&mut bytes, &header).expect("writing to memory");
    file::write_initial(&mut bytes, record, &init).expect("writing to memory");
    Ok(bytes)
}

/// The circuit's R1CS and the record of it an initial file carries.
fn synthesize<C: Circuit<bls12_381::Scalar>>(
    id: &CircuitId,
    circuit: C,
) -> Result<(KeypairAssembly, CircuitRecord), CeremonyError> {
    let assembly =
        KeypairAssembly::synthesize(circuit).map_err(|e| CeremonyError::Circuit(e.to_string()))?;
    let constraints = assembly.num_constraints();
    let record = CircuitRecord {
        digest: id.digest.clone(),
        constraints: constraints as u64,
        domain_log: qap::domain_log(constraints),
    };
    Ok((assembly, record))
}

/// Starts the phase 2 of circuit `id` (whose blank circuit is `circuit`) in the empty or new
/// directory `dir`, from the closed phase-1 transcript in `tau_dir` (its final file checked;
/// the whole of it is re-verified by [`verify`]).
pub fn new<C: Circuit<bls12_381::Scalar>>(
    dir: &Path,
    tau_dir: &Path,
    id: &CircuitId,
    circuit: C,
    progress: &dyn Progress,
) -> Result<Transcript, CeremonyError> {
    if dir.join(TRANSCRIPT).exists() {
        return Err(transcript_err(dir, "a ceremony already exists here"));
    }
    std::fs::create_dir_all(dir).map_err(|source| CeremonyError::Io {
        what: "creating",
        path: dir.to_path_buf(),
        source,
    })?;
    let (tau, acc) = closed_phase1_light(tau_dir)?;
    let (assembly, record) = synthesize(id, circuit)?;
    let constraints = assembly.num_constraints();
    let bytes = initial_bytes(&acc, &tau.digest, &record, &assembly, progress)?;
    let path = file::path(dir, 0);
    crate::files::write_bytes_atomic(&path, &bytes)?;
    let t = Transcript {
        format: FORMAT.into(),
        version: VERSION,
        kind: id.kind,
        sector_size: id.sector_size,
        circuit_digest: id.digest.clone(),
        constraints,
        domain_log: record.domain_log,
        tau,
        files: vec![Entry {
            file: file::file_name(0),
            digest: digest_of(&bytes),
            kind: StepKind::Initial,
            name: "initial".into(),
        }],
    };
    t.write(dir)?;
    Ok(t)
}

/// The δ-dependent state a contribution builds on: δ in both groups and the raw h, l sections.
struct State<'a> {
    delta_g1: G1Affine,
    delta_g2: G2Affine,
    h: &'a [u8],
    l: &'a [u8],
}

/// Reads the δ state of file `index` (initial: δ = 1) from its bytes, without decoding h and l.
fn state_of<'a>(bytes: &'a [u8], path: &'a Path, index: usize) -> Result<State<'a>, CeremonyError> {
    let mut r = Reader::new(bytes, path);
    if index == 0 {
        r.header(0)?;
        let (_record, h, l) = r.initial_hl_raw()?;
        Ok(State {
            delta_g1: G1Affine::generator(),
            delta_g2: G2Affine::generator(),
            h,
            l,
        })
    } else {
        r.header(1)?;
        let (delta_g1, delta_g2, h, l, _) = r.contribution_raw()?;
        Ok(State {
            delta_g1,
            delta_g2,
            h,
            l,
        })
    }
}

/// Adds a contribution with a fresh secret δ' from the operating system, which is dropped when
/// this returns. Streams `h` and `l` from the previous file chunk by chunk.
pub fn contribute(dir: &Path, name: &str, progress: &dyn Progress) -> Result<Entry, CeremonyError> {
    let delta = random_scalar()?;
    contribute_with_secret(dir, name, &delta, progress)
}

/// [`contribute`] with a given δ'. For tests and reproducible devnets only: whoever knows every
/// δ' can forge proofs.
pub fn contribute_with_secret(
    dir: &Path,
    name: &str,
    delta: &crate::Scalar,
    progress: &dyn Progress,
) -> Result<Entry, CeremonyError> {
    if name.len() > 256 {
        return Err(transcript_err(
            dir,
            "a contributor name is at most 256 bytes",
        ));
    }
    let mut t = Transcript::read(dir)?;
    let index = t.files.len();
    let last = t
        .files
        .last()
        .ok_or_else(|| transcript_err(dir, "no initial file"))?;
    let prev_path = dir.join(&last.file);
    let (prev_bytes, prev_digest) = map_recorded(dir, last)?;
    let prev = state_of(&prev_bytes, &prev_path, index - 1)?;
    let inverse = Option::from(ff013::Field::invert(delta))
        .ok_or_else(|| CeremonyError::Randomness("δ' must not be zero".into()))?;
    let delta_g1 = (G1Projective::from(prev.delta_g1) * delta).to_affine();
    let delta_g2 = (G2Projective::from(prev.delta_g2) * delta).to_affine();
    let prev_raw = raw_digest(&prev_digest);
    let pok = Pok::prove(
        delta,
        &prev.delta_g1,
        &delta_g1,
        &pok_context(&prev_raw, index as u32),
    )?;
    let header = Header {
        index: index as u32,
        kind: 1,
        prev: prev_raw,
        name: name.to_string(),
    };
    let path = file::path(dir, index);
    let mut bad_point = None;
    progress.stage(
        "dividing h and l by δ'",
        ((prev.h.len() + prev.l.len()) / G1_BYTES) as u64,
    );
    write_atomic(&path, |w| {
        file::write_header(w, &header)?;
        w.write_all(&delta_g1.to_uncompressed())?;
        w.write_all(&delta_g2.to_uncompressed())?;
        for (section, what) in [(prev.h, "h"), (prev.l, "l")] {
            w.write_all(&((section.len() / G1_BYTES) as u32).to_le_bytes())?;
            for chunk in section.chunks(CHUNK * G1_BYTES) {
                let points = match decode_g1s(chunk, &prev_path, what) {
                    Ok(p) => p,
                    Err(e) => {
                        bad_point = Some(e);
                        return Err(std::io::Error::other("invalid point"));
                    }
                };
                for p in scale_g1(&points, &inverse) {
                    w.write_all(&p.to_uncompressed())?;
                }
                progress.inc(points.len() as u64);
            }
        }
        w.write_all(&pok.to_bytes())
    })
    .map_err(|e| bad_point.take().unwrap_or(e))?;
    let entry = Entry {
        file: file::file_name(index),
        digest: digest_of(&map(&path)?),
        kind: StepKind::Contribution,
        name: name.to_string(),
    };
    t.files.push(entry.clone());
    t.write(dir)?;
    Ok(entry)
}

/// Verifies the ceremony, then writes its parameters into `store` as the parameters of `id`
/// (replacing any earlier ones) with their provenance. Refused without a contribution: δ = 1 is
/// public, and parameters with a public δ let anyone forge proofs.
pub fn finalize<C: Circuit<bls12_381::Scalar>>(
    dir: &Path,
    tau_dir: Option<&Path>,
    id: &CircuitId,
    circuit: C,
    store: &ParamsStore,
    progress: &dyn Progress,
) -> Result<ParamsEntry, CeremonyError> {
    let v = verify(dir, tau_dir, id, circuit, progress)?;
    let n = v.transcript.contributions();
    if n == 0 {
        return Err(transcript_err(
            dir,
            "no contribution yet: δ is still 1, which anyone could forge with",
        ));
    }
    let params = parameters(dir, &v.transcript)?;
    let origin = Origin::Ceremony {
        phase1_contributions: v.phase1.contributions,
        phase2_contributions: n,
        transcript: v.final_digest.clone(),
    };
    Ok(store.install(id, &params, origin)?)
}

/// The Groth16 parameters the files of a (verified) transcript give.
pub fn parameters(
    dir: &Path,
    t: &Transcript,
) -> Result<groth16::Parameters<bls12_381::Bls12>, CeremonyError> {
    let p0 = file::path(dir, 0);
    let b0 = map(&p0)?;
    let mut r = Reader::new(&b0, &p0);
    r.header(0)?;
    let (_, init): (CircuitRecord, Initial) = r.initial()?;
    let last = t.contributions();
    if last == 0 {
        return Ok(qap::to_parameters(
            &init,
            &G1Affine::generator(),
            &G2Affine::generator(),
            &init.h,
            &init.l,
        ));
    }
    let pl = file::path(dir, last);
    let bl = map(&pl)?;
    let mut r = Reader::new(&bl, &pl);
    r.header(1)?;
    let c = r.contribution()?;
    Ok(qap::to_parameters(
        &init,
        &c.delta_g1,
        &c.delta_g2,
        &c.h,
        &c.l,
    ))
}
