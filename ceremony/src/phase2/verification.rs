//! Verifying a phase-2 transcript from scratch (see the module docs of [`super`]).

use super::check;
use super::file::{self, Reader};
use super::{
    closed_phase1, map_recorded, pok_context, powers_of, raw_digest, synthesize, transcript_err,
    Transcript, Verified,
};
use crate::curve::{pairing_eq, same_ratio_g1, G1Affine, G2Affine};
use crate::phase1::StepKind;
use crate::{CeremonyError, Progress};
use bellman::Circuit;
use group013::prime::PrimeCurveAffine;
use std::path::Path;
use strata_params::groth16_files::CircuitId;

/// Verifies the whole ceremony of circuit `id` in `dir` (see the module docs); `tau_dir`
/// overrides the phase-1 directory the transcript recorded. Names the first file and check
/// that fails.
pub fn verify<C: Circuit<bls12_381::Scalar>>(
    dir: &Path,
    tau_dir: Option<&Path>,
    id: &CircuitId,
    circuit: C,
    progress: &dyn Progress,
) -> Result<Verified, CeremonyError> {
    let t = Transcript::read(dir)?;
    if t.circuit_digest != id.digest || t.kind != id.kind || t.sector_size != id.sector_size {
        return Err(transcript_err(
            dir,
            format!(
                "a transcript of another circuit ({} {} bytes, R1CS {}), not of {} {} bytes (R1CS {})",
                t.kind.as_str(),
                t.sector_size,
                &t.circuit_digest[..t.circuit_digest.len().min(16)],
                id.kind.as_str(),
                id.sector_size,
                &id.digest[..id.digest.len().min(16)]
            ),
        ));
    }
    check_listing(dir, &t)?;
    let tau_dir = tau_dir.unwrap_or(&t.tau.dir);
    let (v1, acc) = closed_phase1(tau_dir, progress)?;
    if v1.final_digest != t.tau.digest {
        return Err(transcript_err(
            dir,
            format!(
                "built on phase 1 {}, but {} ends in {}",
                t.tau.digest,
                tau_dir.display(),
                v1.final_digest
            ),
        ));
    }
    // The initial file must be what this circuit and this phase 1 give (checked under random
    // linear combinations, see `check`, rather than recomputed).
    let (assembly, record) = synthesize(id, circuit)?;
    let mut prev_digest = String::new();
    let mut prev: Option<(G1Affine, G2Affine, Vec<G1Affine>, Vec<G1Affine>)> = None;
    progress.stage("phase-2 contributions", t.files.len() as u64);
    for (index, entry) in t.files.iter().enumerate() {
        let path = dir.join(&entry.file);
        let (bytes, actual) = map_recorded(dir, entry)?;
        let mut r = Reader::new(&bytes, &path);
        let bad = |reason: String| CeremonyError::BadContribution {
            index,
            path: path.clone(),
            reason,
        };
        if index == 0 {
            let header = r.header(0)?;
            if header.prev != raw_digest(&v1.final_digest) {
                return Err(bad("the initial file does not build on this phase 1".into()));
            }
            let (got, init) = r.initial()?;
            if got != record {
                return Err(bad(format!(
                    "the initial file is for another circuit (R1CS {}, {} constraints)",
                    got.digest, got.constraints
                )));
            }
            check::check_initial(&powers_of(&acc), &assembly, &init)
                .map_err(|why| bad(format!("the initial file is not this circuit's: {why}")))?;
            prev = Some((G1Affine::generator(), G2Affine::generator(), init.h, init.l));
        } else {
            let header = r.header(1)?;
            if header.index as usize != index {
                return Err(bad(format!("says it is contribution {}", header.index)));
            }
            if header.prev != raw_digest(&prev_digest) {
                return Err(bad(
                    "does not build on the file before it (digest chain broken)".into(),
                ));
            }
            let c = r.contribution()?;
            let (pd1, pd2, ph, pl) = prev.take().expect("set by the initial file");
            if !c
                .pok
                .verify(&pd1, &c.delta_g1, &pok_context(&header.prev, index as u32))
            {
                return Err(bad("the proof of knowledge of δ' does not verify".into()));
            }
            if !pairing_eq(
                &c.delta_g1,
                &G2Affine::generator(),
                &G1Affine::generator(),
                &c.delta_g2,
            ) {
                return Err(bad("δ·G1 and δ·G2 disagree".into()));
            }
            if c.h.len() != ph.len() || c.l.len() != pl.len() {
                return Err(bad(format!(
                    "h/l have {}/{} points where the previous file has {}/{}",
                    c.h.len(),
                    c.l.len(),
                    ph.len(),
                    pl.len()
                )));
            }
            if !same_ratio_g1(&c.h, &ph, &pd2, &c.delta_g2)? {
                return Err(bad("h is not the previous h divided by δ'".into()));
            }
            if !same_ratio_g1(&c.l, &pl, &pd2, &c.delta_g2)? {
                return Err(bad("l is not the previous l divided by δ'".into()));
            }
            prev = Some((c.delta_g1, c.delta_g2, c.h, c.l));
        }
        prev_digest = actual;
        progress.inc(1);
    }
    Ok(Verified {
        transcript: t,
        phase1: v1,
        final_digest: prev_digest,
    })
}

/// The transcript lists `0000.phase2 … NNNN.phase2` in order, and no other phase-2 file is there.
fn check_listing(dir: &Path, t: &Transcript) -> Result<(), CeremonyError> {
    for (i, e) in t.files.iter().enumerate() {
        let kind_ok = if i == 0 {
            e.kind == StepKind::Initial
        } else {
            e.kind == StepKind::Contribution
        };
        if e.file != file::file_name(i) || !kind_ok {
            return Err(transcript_err(
                dir,
                format!("entry {i} is {} ({:?})", e.file, e.kind),
            ));
        }
    }
    if t.files.is_empty() {
        return Err(transcript_err(dir, "no initial file"));
    }
    let extra = file::path(dir, t.files.len());
    if extra.exists() {
        return Err(transcript_err(
            dir,
            format!("{} is not in the transcript", extra.display()),
        ));
    }
    Ok(())
}
