//! Phase-2 files. Every file starts with the same header and names the BLAKE3 digest of the
//! file it builds on (the initial file names the final phase-1 file), so a transcript is one
//! hash chain from the first power of tau to the last δ.
//!
//! ```text
//! magic "STRTPHS2" · version u32 · index u32 · kind u8 (0 initial, 1 contribution)
//! prev [32] · name (u16 length + UTF-8, ≤ 256 bytes)
//! initial:      circuit digest (u16 + UTF-8) · constraints u64 · domain log u32
//!               α·G1 · β·G1 · β·G2 · ic · h · l · a · b_g1 · b_g2   (vectors: u32 count + points)
//! contribution: δ·G1 · δ·G2 · h · l · proof of knowledge of δ'
//! ```
//! Integers are little-endian; points uncompressed and checked (curve, subgroup) when read.

use super::qap::Initial;
use crate::curve::{
    decode_g1, decode_g1s, decode_g2, decode_g2s, G1Affine, G2Affine, G1_BYTES, G2_BYTES,
};
use crate::pok::{Pok, POK_BYTES};
use crate::CeremonyError;
use std::io::Write;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"STRTPHS2";
const VERSION: u32 = 1;
const EXPECTED: &str = "phase-2 ceremony";

/// A phase-2 file's header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Position in the transcript (0 = initial).
    pub index: u32,
    /// 0 initial, 1 contribution.
    pub kind: u8,
    /// BLAKE3 of the file this one builds on.
    pub prev: [u8; 32],
    /// The contributor's name.
    pub name: String,
}

/// The initial file's circuit identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircuitRecord {
    /// BLAKE3 of the R1CS, hex.
    pub digest: String,
    /// Constraints (input constraints included).
    pub constraints: u64,
    /// log₂ of the domain.
    pub domain_log: u32,
}

/// A contribution's content.
#[derive(Clone, Debug)]
pub struct Contribution {
    /// δ·G1 after it.
    pub delta_g1: G1Affine,
    /// δ·G2 after it.
    pub delta_g2: G2Affine,
    /// h divided by its δ'.
    pub h: Vec<G1Affine>,
    /// l divided by its δ'.
    pub l: Vec<G1Affine>,
    /// Proof of knowledge of δ'.
    pub pok: Pok,
}

/// A contribution with its h and l sections left encoded (for streaming): δ·G1, δ·G2, h, l,
/// the proof of knowledge.
pub type RawContribution<'a> = (G1Affine, G2Affine, &'a [u8], &'a [u8], Pok);

/// Writes the header.
pub fn write_header(w: &mut impl Write, h: &Header) -> std::io::Result<()> {
    w.write_all(MAGIC)?;
    w.write_all(&VERSION.to_le_bytes())?;
    w.write_all(&h.index.to_le_bytes())?;
    w.write_all(&[h.kind])?;
    w.write_all(&h.prev)?;
    write_str(w, &h.name)
}

fn write_str(w: &mut impl Write, s: &str) -> std::io::Result<()> {
    w.write_all(&(s.len() as u16).to_le_bytes())?;
    w.write_all(s.as_bytes())
}

/// Writes a vector of G1 points with its count.
pub fn write_g1s(w: &mut impl Write, v: &[G1Affine]) -> std::io::Result<()> {
    w.write_all(&(v.len() as u32).to_le_bytes())?;
    for p in v {
        w.write_all(&p.to_uncompressed())?;
    }
    Ok(())
}

fn write_g2s(w: &mut impl Write, v: &[G2Affine]) -> std::io::Result<()> {
    w.write_all(&(v.len() as u32).to_le_bytes())?;
    for p in v {
        w.write_all(&p.to_uncompressed())?;
    }
    Ok(())
}

/// Writes an initial file's body.
pub fn write_initial(w: &mut impl Write, c: &CircuitRecord, i: &Initial) -> std::io::Result<()> {
    write_str(w, &c.digest)?;
    w.write_all(&c.constraints.to_le_bytes())?;
    w.write_all(&c.domain_log.to_le_bytes())?;
    w.write_all(&i.alpha_g1.to_uncompressed())?;
    w.write_all(&i.beta_g1.to_uncompressed())?;
    w.write_all(&i.beta_g2.to_uncompressed())?;
    write_g1s(w, &i.ic)?;
    write_g1s(w, &i.h)?;
    write_g1s(w, &i.l)?;
    write_g1s(w, &i.a)?;
    write_g1s(w, &i.b_g1)?;
    write_g2s(w, &i.b_g2)
}

/// A reader over a file's bytes that turns every shortfall into a named error.
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl<'a> Reader<'a> {
    /// Reads `bytes`, the content of `path`.
    pub fn new(bytes: &'a [u8], path: &'a Path) -> Self {
        Reader {
            bytes,
            pos: 0,
            path,
        }
    }

    fn format(&self, reason: impl Into<String>) -> CeremonyError {
        CeremonyError::Format {
            path: self.path.to_path_buf(),
            expected: EXPECTED,
            reason: reason.into(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], CeremonyError> {
        if self.bytes.len() - self.pos < n {
            return Err(CeremonyError::Length {
                path: self.path.to_path_buf(),
                got: self.bytes.len() as u64,
                expected: (self.pos + n) as u64,
            });
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, CeremonyError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn string(&mut self) -> Result<String, CeremonyError> {
        let n = u16::from_le_bytes(self.take(2)?.try_into().expect("2 bytes")) as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| self.format("a name is not UTF-8"))
    }

    fn g1(&mut self, what: &str) -> Result<G1Affine, CeremonyError> {
        let b = self.take(G1_BYTES)?;
        decode_g1(b).ok_or_else(|| self.invalid(what))
    }

    fn g2(&mut self, what: &str) -> Result<G2Affine, CeremonyError> {
        let b = self.take(G2_BYTES)?;
        decode_g2(b).ok_or_else(|| self.invalid(what))
    }

    fn invalid(&self, what: &str) -> CeremonyError {
        CeremonyError::InvalidPoint {
            path: self.path.to_path_buf(),
            what: what.to_string(),
        }
    }

    /// The raw bytes of a counted G1 vector (not decoded), and its count.
    pub fn g1s_raw(&mut self) -> Result<(&'a [u8], usize), CeremonyError> {
        let n = self.u32()? as usize;
        Ok((self.take(n * G1_BYTES)?, n))
    }

    fn g1s(&mut self, what: &str) -> Result<Vec<G1Affine>, CeremonyError> {
        let (raw, _) = self.g1s_raw()?;
        decode_g1s(raw, self.path, what)
    }

    fn g2s(&mut self, what: &str) -> Result<Vec<G2Affine>, CeremonyError> {
        let n = self.u32()? as usize;
        let raw = self.take(n * G2_BYTES)?;
        decode_g2s(raw, self.path, what)
    }

    /// The header; `kind` must be the one expected.
    pub fn header(&mut self, kind: u8) -> Result<Header, CeremonyError> {
        if self.take(8)? != MAGIC {
            return Err(self.format("bad magic"));
        }
        let v = self.u32()?;
        if v != VERSION {
            return Err(self.format(format!("version {v}, this build reads {VERSION}")));
        }
        let index = self.u32()?;
        let k = self.take(1)?[0];
        if k != kind {
            return Err(self.format(format!("kind {k} where {kind} was expected")));
        }
        let prev = self.take(32)?.try_into().expect("32 bytes");
        let name = self.string()?;
        Ok(Header {
            index,
            kind,
            prev,
            name,
        })
    }

    fn circuit_record(&mut self) -> Result<CircuitRecord, CeremonyError> {
        Ok(CircuitRecord {
            digest: self.string()?,
            constraints: u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")),
            domain_log: self.u32()?,
        })
    }

    /// An initial file's body.
    pub fn initial(&mut self) -> Result<(CircuitRecord, Initial), CeremonyError> {
        let record = self.circuit_record()?;
        let init = Initial {
            alpha_g1: self.g1("alpha_g1")?,
            beta_g1: self.g1("beta_g1")?,
            beta_g2: self.g2("beta_g2")?,
            ic: self.g1s("ic")?,
            h: self.g1s("h")?,
            l: self.g1s("l")?,
            a: self.g1s("a")?,
            b_g1: self.g1s("b_g1")?,
            b_g2: self.g2s("b_g2")?,
        };
        self.end()?;
        Ok((record, init))
    }

    /// An initial file's circuit record and its raw h and l sections (the rest skipped, the
    /// length still checked): what a first contribution streams from.
    pub fn initial_hl_raw(&mut self) -> Result<(CircuitRecord, &'a [u8], &'a [u8]), CeremonyError> {
        let record = self.circuit_record()?;
        self.take(2 * G1_BYTES + G2_BYTES)?;
        self.g1s_raw()?;
        let (h, _) = self.g1s_raw()?;
        let (l, _) = self.g1s_raw()?;
        self.g1s_raw()?;
        self.g1s_raw()?;
        let n = self.u32()? as usize;
        self.take(n * G2_BYTES)?;
        self.end()?;
        Ok((record, h, l))
    }

    /// A contribution's δ points, then the raw h and l sections (for streaming), then its proof.
    pub fn contribution_raw(&mut self) -> Result<RawContribution<'a>, CeremonyError> {
        let d1 = self.g1("delta_g1")?;
        let d2 = self.g2("delta_g2")?;
        let (h, _) = self.g1s_raw()?;
        let (l, _) = self.g1s_raw()?;
        let pok = Pok::from_bytes(self.take(POK_BYTES)?)
            .ok_or_else(|| self.invalid("the proof of knowledge"))?;
        self.end()?;
        Ok((d1, d2, h, l, pok))
    }

    /// A contribution, decoded and checked.
    pub fn contribution(&mut self) -> Result<Contribution, CeremonyError> {
        let path = self.path;
        let (delta_g1, delta_g2, h, l, pok) = self.contribution_raw()?;
        Ok(Contribution {
            delta_g1,
            delta_g2,
            h: decode_g1s(h, path, "h")?,
            l: decode_g1s(l, path, "l")?,
            pok,
        })
    }

    fn end(&self) -> Result<(), CeremonyError> {
        if self.pos != self.bytes.len() {
            return Err(CeremonyError::Length {
                path: self.path.to_path_buf(),
                got: self.bytes.len() as u64,
                expected: self.pos as u64,
            });
        }
        Ok(())
    }
}

/// `CDIR/NNNN.phase2`.
pub fn file_name(index: usize) -> String {
    format!("{index:04}.phase2")
}

/// The path of file `index` in `dir`.
pub fn path(dir: &Path, index: usize) -> PathBuf {
    dir.join(file_name(index))
}
