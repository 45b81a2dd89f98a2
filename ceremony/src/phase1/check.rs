//! Reading and verifying the chain.

use super::format::{parse, Header, Layout};
use super::stream::{first_not, point_at, powers_sums};
use super::transcript::transcript_error;
use super::update::{beacon_secrets, pok_context};
use super::{Accumulator, Entry, StepKind, Transcript, Verified, TRANSCRIPT_FILE};
use crate::curve::{
    decode_g1, decode_g1s, decode_g2s, pairing_eq, G1Affine, G1Projective, G2Affine, G1_BYTES,
};
use crate::pok::{Pok, POK_BYTES};
use crate::{files, CeremonyError, Progress};
use group013::prime::PrimeCurveAffine;
use group013::Curve;
use memmap2::Mmap;
use std::path::{Path, PathBuf};

/// A mapped file of the chain whose header, length and digest have been checked against
/// `transcript.json`, with the points a following step builds on (decoded, checked).
pub(super) struct Opened {
    pub path: PathBuf,
    pub map: Mmap,
    pub header: Header,
    pub layout: Layout,
    /// BLAKE3 of the whole file.
    pub digest: [u8; 32],
    /// `tau_g1[1]`, `alpha_g1[0]`, `beta_g1[0]`: the proofs-of-knowledge bases of the next step.
    pub tau1: G1Affine,
    pub alpha0: G1Affine,
    pub beta0: G1Affine,
}

fn bad(index: usize, path: &Path, reason: impl Into<String>) -> CeremonyError {
    CeremonyError::BadContribution {
        index,
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Maps the `i`-th file of `t` and checks, in this order: its header and exact length
/// (`Format`, `Length`), its digest, kind and name against the transcript (`Transcript`), its
/// index and power (`BadContribution`).
fn open_entry(dir: &Path, t: &Transcript, i: usize) -> Result<Opened, CeremonyError> {
    let entry = &t.files[i];
    let path = dir.join(&entry.file);
    let map = files::map(&path)?;
    let (header, layout) = parse(&map, &path)?;
    let mut h = blake3::Hasher::new();
    h.update_rayon(&map);
    let hash = h.finalize();
    if hash.to_hex().as_str() != entry.digest {
        return Err(transcript_error(
            dir,
            format!(
                "{}: digest {}, but {TRANSCRIPT_FILE} records {}",
                entry.file,
                hash.to_hex(),
                entry.digest
            ),
        ));
    }
    if header.kind != entry.kind || header.name != entry.name {
        return Err(transcript_error(
            dir,
            format!(
                "{}: the header says {:?} by {:?}, {TRANSCRIPT_FILE} says {:?} by {:?}",
                entry.file, header.kind, header.name, entry.kind, entry.name
            ),
        ));
    }
    if header.index as usize != i || header.power != t.power {
        return Err(bad(
            i,
            &path,
            format!(
                "the header says index {} of a 2^{} ceremony; this is position {i} of a 2^{} ceremony",
                header.index, header.power, t.power
            ),
        ));
    }
    let g1 = &map[layout.tau_g1.clone()];
    let tau1 = point_at::<G1Affine>(g1, 1, &path, "tau_g1")?;
    let alpha0 = point_at::<G1Affine>(&map[layout.alpha_g1.clone()], 0, &path, "alpha_g1")?;
    let beta0 = point_at::<G1Affine>(&map[layout.beta_g1.clone()], 0, &path, "beta_g1")?;
    Ok(Opened {
        path,
        map,
        header,
        layout,
        digest: *hash.as_bytes(),
        tau1,
        alpha0,
        beta0,
    })
}

/// The latest file of the ceremony in `dir`, ready to build on: the directory matches the
/// transcript, the file is checked as [`open_entry`] does, and the ceremony is not closed.
pub(super) fn open_latest(dir: &Path) -> Result<(Transcript, Opened), CeremonyError> {
    let t = Transcript::read(dir)?;
    t.check_listing(dir)?;
    let last = t.files.len() - 1;
    let opened = open_entry(dir, &t, last)?;
    if opened.header.kind == StepKind::Beacon {
        return Err(transcript_error(
            dir,
            format!(
                "{} is a beacon: the ceremony is closed, no more contributions",
                t.files[last].file
            ),
        ));
    }
    Ok((t, opened))
}

/// Reads the last file of the ceremony in `dir` whole: its header, length and digest checked
/// against `transcript.json`, every point decoded with curve and subgroup checks. It does not
/// verify the chain (see [`verify`]).
pub fn read_latest(dir: &Path) -> Result<(Accumulator, Entry), CeremonyError> {
    let t = Transcript::read(dir)?;
    let last = t.files.len() - 1;
    let f = open_entry(dir, &t, last)?;
    let (m, l, p) = (&f.map, &f.layout, &f.path);
    let acc = Accumulator {
        power: f.header.power,
        tau_g1: decode_g1s(&m[l.tau_g1.clone()], p, "tau_g1")?,
        tau_g2: decode_g2s(&m[l.tau_g2.clone()], p, "tau_g2")?,
        alpha_g1: decode_g1s(&m[l.alpha_g1.clone()], p, "alpha_g1")?,
        beta_g1: decode_g1s(&m[l.beta_g1.clone()], p, "beta_g1")?,
        beta_g2: point_at::<G2Affine>(&m[l.beta_g2.clone()], 0, p, "beta_g2")?,
    };
    Ok((acc, t.files[last].clone()))
}

/// Verifies the whole ceremony in `dir`: `transcript.json` lists exactly the files present, in
/// order, with their digests; `0000.ptau` is the deterministic initial accumulator; and every
/// later file builds on the one before (index, power, previous digest), holds only valid
/// points (curve and subgroup checked), has generators at `tau_g1[0]`, `tau_g2[0]`, non-identity
/// `tau_g1[1]`, `alpha_g1[0]`, `beta_g1[0]`, proofs of knowledge relative to the previous
/// file's points (or, for a beacon, points matching the recomputed beacon secrets), and the
/// structure of powers of one τ with consistent α, β (randomised batched pairing checks,
/// error ≤ 2⁻¹²⁸ each). Nothing may follow a beacon. The first failure is returned, naming the
/// file and the check. Streams each file: memory is O(CHUNK) points.
pub fn verify(dir: &Path, progress: &dyn Progress) -> Result<Verified, CeremonyError> {
    let t = Transcript::read(dir)?;
    t.check_listing(dir)?;
    let mut prev: Option<Opened> = None;
    for i in 0..t.files.len() {
        let f = open_entry(dir, &t, i)?;
        match &prev {
            None => check_initial(&f)?,
            Some(p) => check_step(p, &f, progress)?,
        }
        prev = Some(f);
    }
    let last = &t.files[t.files.len() - 1];
    Ok(Verified {
        power: t.power,
        contributions: (t.files.iter())
            .filter(|e| e.kind == StepKind::Contribution)
            .count(),
        finalized: last.kind == StepKind::Beacon,
        final_digest: last.digest.clone(),
        entries: t.files.clone(),
    })
}

/// `0000.ptau` must be exactly the initial accumulator.
fn check_initial(f: &Opened) -> Result<(), CeremonyError> {
    let h = &f.header;
    if h.kind != StepKind::Initial || h.prev != [0; 32] || h.name != "initial" {
        return Err(bad(
            0,
            &f.path,
            "the header is not that of the initial file (kind 0, zero previous digest, name \"initial\")",
        ));
    }
    let (m, l) = (&f.map, &f.layout);
    let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
    for (what, found) in [
        ("tau_g1", first_not(&m[l.tau_g1.clone()], &g1)),
        ("tau_g2", first_not(&m[l.tau_g2.clone()], &g2)),
        ("alpha_g1", first_not(&m[l.alpha_g1.clone()], &g1)),
        ("beta_g1", first_not(&m[l.beta_g1.clone()], &g1)),
        ("beta_g2", first_not(&m[l.beta_g2.clone()], &g2)),
    ] {
        if let Some(k) = found {
            return Err(bad(
                0,
                &f.path,
                format!(
                    "{what}[{k}] is not the generator: not the deterministic initial accumulator"
                ),
            ));
        }
    }
    Ok(())
}

/// One step `prev → f`.
fn check_step(prev: &Opened, f: &Opened, progress: &dyn Progress) -> Result<(), CeremonyError> {
    let (h, path) = (&f.header, f.path.as_path());
    let i = h.index as usize;
    let fail = |reason: String| Err(bad(i, path, reason));
    if prev.header.kind == StepKind::Beacon {
        return fail("it follows a beacon, which closes the ceremony".into());
    }
    if h.prev != prev.digest {
        return fail(format!(
            "it builds on a file with digest {}, but the previous file's digest is {}",
            hex::encode(h.prev),
            hex::encode(prev.digest)
        ));
    }
    let (m, l) = (&f.map, &f.layout);
    let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
    let tau_g2 = &m[l.tau_g2.clone()];
    if point_at::<G1Affine>(&m[l.tau_g1.clone()], 0, path, "tau_g1")? != g1 {
        return fail("tau_g1[0] is not the G1 generator".into());
    }
    if point_at::<G2Affine>(tau_g2, 0, path, "tau_g2")? != g2 {
        return fail("tau_g2[0] is not the G2 generator".into());
    }
    let tau2 = point_at::<G2Affine>(tau_g2, 1, path, "tau_g2")?;
    let beta_g2 = point_at::<G2Affine>(&m[l.beta_g2.clone()], 0, path, "beta_g2")?;
    let secrets = [
        ("tau", "tau_g1[1]", &prev.tau1, &f.tau1),
        ("alpha", "alpha_g1[0]", &prev.alpha0, &f.alpha0),
        ("beta", "beta_g1[0]", &prev.beta0, &f.beta0),
    ];
    for (_, point, _, new) in secrets {
        if bool::from(new.is_identity()) {
            return fail(format!("{point} is the identity (a zero secret)"));
        }
    }
    let proof = &m[l.proof.clone()];
    match h.kind {
        StepKind::Contribution => {
            for (k, (what, point, base, image)) in secrets.into_iter().enumerate() {
                let bytes = &proof[k * POK_BYTES..(k + 1) * POK_BYTES];
                let pok = Pok::from_bytes(bytes).ok_or_else(|| {
                    if decode_g1(&bytes[..G1_BYTES]).is_none() {
                        CeremonyError::InvalidPoint {
                            path: path.to_path_buf(),
                            what: format!("the proof of knowledge of {what}"),
                        }
                    } else {
                        bad(
                            i,
                            path,
                            format!(
                                "the proof of knowledge of {what} has a non-canonical response"
                            ),
                        )
                    }
                })?;
                let ctx = pok_context(&prev.digest, h.index, what.as_bytes());
                if !pok.verify(base, image, &ctx) {
                    return fail(format!(
                        "the proof of knowledge of {what} does not verify (from the previous file's {point} to this file's, in this position of this chain)"
                    ));
                }
            }
        }
        StepKind::Beacon => {
            let mut value = [0u8; 32];
            value.copy_from_slice(&proof[..32]);
            let mut it = [0u8; 4];
            it.copy_from_slice(&proof[32..36]);
            let iterations = u32::from_le_bytes(it);
            let s = beacon_secrets(&value, iterations, &prev.digest, progress);
            for ((what, point, base, image), x) in secrets.into_iter().zip([s.tau, s.alpha, s.beta])
            {
                if (G1Projective::from(base) * x).to_affine() != *image {
                    return fail(format!(
                        "{point} is not the previous file's {point} times the {what} the beacon {} with {iterations} iterations derives",
                        hex::encode(value)
                    ));
                }
            }
        }
        StepKind::Initial => return fail("a second initial file".into()),
    }
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let stage = |what: &str| format!("{file} {what}");
    let (a, b) = powers_sums::<G2Affine>(tau_g2, path, "tau_g2", &stage("tau_g2"), progress)?;
    if !pairing_eq(&f.tau1, &a.to_affine(), &g1, &b.to_affine()) {
        return fail(
            "tau_g2 is not a sequence of successive powers of the tau of tau_g1[1]".into(),
        );
    }
    let sections = [
        ("tau_g1", l.tau_g1.clone()),
        ("alpha_g1", l.alpha_g1.clone()),
        ("beta_g1", l.beta_g1.clone()),
    ];
    for (what, range) in sections {
        let (a, b) = powers_sums::<G1Affine>(&m[range], path, what, &stage(what), progress)?;
        if !pairing_eq(&a.to_affine(), &tau2, &b.to_affine(), &g2) {
            return fail(format!(
                "{what} is not a sequence of successive powers of the tau of tau_g2[1]"
            ));
        }
    }
    if !pairing_eq(&f.beta0, &g2, &g1, &beta_g2) {
        return fail("beta_g2 does not hold the beta of beta_g1[0]".into());
    }
    Ok(())
}
