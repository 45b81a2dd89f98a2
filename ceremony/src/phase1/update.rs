//! Writing the chain: the initial accumulator, contributions and the closing beacon.

use super::check::{open_latest, Opened};
use super::format::{Header, Layout};
use super::stream::{transform, WriteError};
use super::transcript::transcript_error;
use super::{file_name, Entry, StepKind, Transcript, MAX_NAME_BYTES, MAX_POWER};
use crate::curve::{hash_to_scalar, random_scalar, G1Affine, G1Projective, G2Affine, Scalar};
use crate::pok::Pok;
use crate::{files, CeremonyError, Progress};
use ff013::Field;
use group013::prime::PrimeCurveAffine;
use group013::Curve;
use std::io::Write;
use std::path::Path;

/// Domain of the proofs of knowledge' contexts.
const CONTEXT: &[u8] = b"strata ptau v1";
/// Domain of the beacon's secret derivation.
const BEACON_DOMAIN: &str = "strata ptau v1 beacon";
/// Beacon delay iterations per progress increment.
const DELAY_STEP: u32 = 1 << 16;

/// A step's three secrets. They live only for the duration of the step; nothing writes them
/// anywhere (stack and register copies are not scrubbed).
pub(super) struct Secrets {
    pub tau: Scalar,
    pub alpha: Scalar,
    pub beta: Scalar,
}

/// The context a proof of knowledge is bound to: `b"strata ptau v1" ‖ prev digest ‖ index
/// (u32 LE) ‖ what` (`b"tau"`, `b"alpha"`, `b"beta"`).
pub(super) fn pok_context(prev: &[u8; 32], index: u32, what: &[u8]) -> Vec<u8> {
    [CONTEXT, prev, &index.to_le_bytes(), what].concat()
}

/// The beacon's secrets: `seed = BLAKE3^iterations(beacon)`, then each secret is
/// `hash_to_scalar("strata ptau v1 beacon", [seed, prev digest, name])`.
pub(super) fn beacon_secrets(
    beacon: &[u8; 32],
    iterations: u32,
    prev: &[u8; 32],
    progress: &dyn Progress,
) -> Secrets {
    progress.stage("beacon delay", u64::from(iterations));
    let mut seed = *beacon;
    let mut left = iterations;
    while left > 0 {
        let step = left.min(DELAY_STEP);
        for _ in 0..step {
            seed = *blake3::hash(&seed).as_bytes();
        }
        left -= step;
        progress.inc(u64::from(step));
    }
    let secret = |what: &[u8]| hash_to_scalar(BEACON_DOMAIN, &[&seed, prev, what]);
    Secrets {
        tau: secret(b"tau"),
        alpha: secret(b"alpha"),
        beta: secret(b"beta"),
    }
}

fn check_name(dir: &Path, name: &str) -> Result<(), CeremonyError> {
    if name.len() > MAX_NAME_BYTES {
        return Err(CeremonyError::Format {
            path: dir.to_path_buf(),
            expected: "contributor name (at most 256 bytes of UTF-8)",
            reason: format!("{} bytes", name.len()),
        });
    }
    Ok(())
}

/// A writer that hashes what passes through it.
struct Tee<'a, W: Write> {
    inner: &'a mut W,
    hasher: &'a mut blake3::Hasher,
}

impl<W: Write> Write for Tee<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Starts a ceremony in `dir` (created if absent): writes `0000.ptau`, the deterministic
/// initial accumulator for `2^power` powers (every point a generator), and `transcript.json`
/// listing it, both atomically. Refuses (`Transcript` error) a power outside `1..=28` or a
/// `dir` that is not empty, so an existing ceremony is never overwritten.
pub fn new(dir: &Path, power: u32) -> Result<Transcript, CeremonyError> {
    if !(1..=MAX_POWER).contains(&power) {
        return Err(transcript_error(
            dir,
            format!("power {power} outside 1..={MAX_POWER}"),
        ));
    }
    let io = |what, source| CeremonyError::Io {
        what,
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|e| io("creating", e))?;
    if std::fs::read_dir(dir)
        .map_err(|e| io("listing", e))?
        .next()
        .is_some()
    {
        return Err(transcript_error(
            dir,
            "the directory is not empty: a new ceremony needs an empty directory",
        ));
    }
    let header = Header {
        power,
        index: 0,
        kind: StepKind::Initial,
        prev: [0; 32],
        name: "initial".to_string(),
    };
    let header_bytes = header.to_bytes();
    let layout = Layout::new(power, header_bytes.len(), StepKind::Initial)
        .ok_or_else(|| transcript_error(dir, "too large for this platform"))?;
    let g1 = G1Affine::generator().to_uncompressed();
    let g2 = G2Affine::generator().to_uncompressed();
    let n = layout.n;
    let file = file_name(0);
    let mut hasher = blake3::Hasher::new();
    files::write_atomic(&dir.join(&file), |w| {
        let mut out = Tee {
            inner: w,
            hasher: &mut hasher,
        };
        out.write_all(&header_bytes)?;
        for (count, point) in [
            (2 * n - 1, &g1[..]),
            (n, &g2[..]),
            (n, &g1[..]),
            (n, &g1[..]),
            (1, &g2[..]),
        ] {
            for _ in 0..count {
                out.write_all(point)?;
            }
        }
        Ok(())
    })?;
    let entry = Entry {
        file,
        digest: hasher.finalize().to_hex().to_string(),
        kind: StepKind::Initial,
        name: header.name,
    };
    let t = Transcript::initial(power, entry);
    t.write(dir)?;
    Ok(t)
}

/// Contributes to the ceremony in `dir` under `name` (≤ 256 bytes): draws secret non-zero τ,
/// α, β from the operating system, writes the next file (the previous accumulator with every
/// point multiplied in, and proofs of knowledge of the three secrets bound to the previous
/// file's digest and the new index) and appends it to `transcript.json`, then forgets the
/// secrets. Before building on the latest file it checks the directory against the transcript,
/// the file's header and length and its digest against `transcript.json` (and decodes every
/// point it reads with subgroup checks); it refuses a ceremony closed by a beacon. Streams:
/// memory stays O(CHUNK) points.
pub fn contribute(dir: &Path, name: &str, progress: &dyn Progress) -> Result<Entry, CeremonyError> {
    let secrets = Secrets {
        tau: random_scalar()?,
        alpha: random_scalar()?,
        beta: random_scalar()?,
    };
    contribute_secrets(dir, name, &secrets, progress)
}

/// [`contribute`] with chosen secrets instead of random ones. **For tests and reproducible
/// devnets only**: whoever knows the secrets of every contribution and of the beacon can forge
/// proofs for circuits set up from this ceremony. Refuses zero secrets.
pub fn contribute_with_secrets(
    dir: &Path,
    name: &str,
    tau: &Scalar,
    alpha: &Scalar,
    beta: &Scalar,
    progress: &dyn Progress,
) -> Result<Entry, CeremonyError> {
    let secrets = Secrets {
        tau: *tau,
        alpha: *alpha,
        beta: *beta,
    };
    contribute_secrets(dir, name, &secrets, progress)
}

fn contribute_secrets(
    dir: &Path,
    name: &str,
    s: &Secrets,
    progress: &dyn Progress,
) -> Result<Entry, CeremonyError> {
    check_name(dir, name)?;
    let (t, prev) = open_latest(dir)?;
    let index = next_index(dir, &prev)?;
    let zero = |x: &Scalar| bool::from(x.is_zero());
    if zero(&s.tau) || zero(&s.alpha) || zero(&s.beta) {
        return Err(CeremonyError::BadContribution {
            index: index as usize,
            path: dir.join(file_name(index)),
            reason: "a contribution's secrets must be non-zero".to_string(),
        });
    }
    let mut proof = Vec::with_capacity(3 * crate::pok::POK_BYTES);
    for (x, base, what) in [
        (&s.tau, &prev.tau1, &b"tau"[..]),
        (&s.alpha, &prev.alpha0, &b"alpha"[..]),
        (&s.beta, &prev.beta0, &b"beta"[..]),
    ] {
        let image = (G1Projective::from(base) * x).to_affine();
        let ctx = pok_context(&prev.digest, index, what);
        proof.extend_from_slice(&Pok::prove(x, base, &image, &ctx)?.to_bytes());
    }
    write_next(
        dir,
        t,
        &prev,
        name,
        StepKind::Contribution,
        s,
        &proof,
        progress,
    )
}

/// Closes the ceremony in `dir` with a public random beacon (e.g. a drand round's randomness,
/// announced after the last contribution): the secrets are derived from `beacon`, `iterations`
/// sequential BLAKE3 hashes (a delay, so the last contributor cannot grind) and the latest
/// file's digest, so anyone can recompute them; the file records `beacon` and `iterations`.
/// Same checks as [`contribute`]; after a beacon no step is accepted.
pub fn beacon(
    dir: &Path,
    beacon: &[u8; 32],
    iterations: u32,
    progress: &dyn Progress,
) -> Result<Entry, CeremonyError> {
    let (t, prev) = open_latest(dir)?;
    next_index(dir, &prev)?;
    let s = beacon_secrets(beacon, iterations, &prev.digest, progress);
    if bool::from(s.tau.is_zero() | s.alpha.is_zero() | s.beta.is_zero()) {
        return Err(transcript_error(dir, "this beacon derives a zero secret"));
    }
    let mut proof = beacon.to_vec();
    proof.extend_from_slice(&iterations.to_le_bytes());
    write_next(
        dir,
        t,
        &prev,
        "beacon",
        StepKind::Beacon,
        &s,
        &proof,
        progress,
    )
}

fn next_index(dir: &Path, prev: &Opened) -> Result<u32, CeremonyError> {
    prev.header
        .index
        .checked_add(1)
        .ok_or_else(|| transcript_error(dir, "no index left"))
}

/// Writes the file after `prev` (streaming each section through the secrets) and appends it to
/// the transcript.
#[allow(clippy::too_many_arguments)]
fn write_next(
    dir: &Path,
    mut t: Transcript,
    prev: &Opened,
    name: &str,
    kind: StepKind,
    s: &Secrets,
    proof: &[u8],
    progress: &dyn Progress,
) -> Result<Entry, CeremonyError> {
    let index = next_index(dir, prev)?;
    let header = Header {
        power: prev.header.power,
        index,
        kind,
        prev: prev.digest,
        name: name.to_string(),
    };
    let file = file_name(index);
    let (src, l, from) = (&prev.map[..], &prev.layout, &prev.path);
    let one = Scalar::ONE;
    let mut failure = None;
    let mut hasher = blake3::Hasher::new();
    let written = files::write_atomic(&dir.join(&file), |w| {
        let mut out = Tee {
            inner: w,
            hasher: &mut hasher,
        };
        let result = (|| -> Result<(), WriteError> {
            out.write_all(&header.to_bytes())?;
            let g1 = transform::<G1Affine>;
            let g2 = transform::<G2Affine>;
            g1(
                &src[l.tau_g1.clone()],
                &one,
                &s.tau,
                &mut out,
                from,
                "tau_g1",
                progress,
            )?;
            g2(
                &src[l.tau_g2.clone()],
                &one,
                &s.tau,
                &mut out,
                from,
                "tau_g2",
                progress,
            )?;
            g1(
                &src[l.alpha_g1.clone()],
                &s.alpha,
                &s.tau,
                &mut out,
                from,
                "alpha_g1",
                progress,
            )?;
            g1(
                &src[l.beta_g1.clone()],
                &s.beta,
                &s.tau,
                &mut out,
                from,
                "beta_g1",
                progress,
            )?;
            g2(
                &src[l.beta_g2.clone()],
                &s.beta,
                &s.tau,
                &mut out,
                from,
                "beta_g2",
                progress,
            )?;
            out.write_all(proof)?;
            Ok(())
        })();
        match result {
            Ok(()) => Ok(()),
            Err(WriteError::Io(e)) => Err(e),
            Err(WriteError::Input(e)) => {
                failure = Some(e);
                Err(std::io::Error::other(
                    "the previous file holds an invalid point",
                ))
            }
        }
    });
    if let Err(e) = written {
        return Err(failure.unwrap_or(e));
    }
    let entry = Entry {
        file,
        digest: hasher.finalize().to_hex().to_string(),
        kind,
        name: name.to_string(),
    };
    t.files.push(entry.clone());
    t.write(dir)?;
    Ok(entry)
}
