//! Parsing and writing the `NNNN.ptau` header and computing the sections' layout (the
//! format is documented in the parent module).

use super::{StepKind, MAX_NAME_BYTES, MAX_POWER};
use crate::curve::{G1_BYTES, G2_BYTES};
use crate::pok::POK_BYTES;
use crate::CeremonyError;
use std::ops::Range;
use std::path::Path;

/// Magic bytes opening every phase-1 file.
pub(super) const MAGIC: &[u8; 8] = b"STRTPTAU";
/// The format version this code reads and writes.
pub(super) const VERSION: u32 = 1;
/// Header bytes before the name.
pub(super) const FIXED_HEADER: usize = 8 + 4 + 4 + 4 + 1 + 32 + 2;
/// Bytes of a beacon step's proof: the beacon value and the iteration count.
pub(super) const BEACON_PROOF: usize = 32 + 4;

const WHAT: &str = "powers-of-tau (.ptau)";

/// A file header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Header {
    pub power: u32,
    pub index: u32,
    pub kind: StepKind,
    pub prev: [u8; 32],
    pub name: String,
}

impl Header {
    /// The encoded header (the caller has checked the name's length).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FIXED_HEADER + self.name.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&self.power.to_le_bytes());
        out.extend_from_slice(&self.index.to_le_bytes());
        out.push(self.kind.code());
        out.extend_from_slice(&self.prev);
        out.extend_from_slice(&(self.name.len() as u16).to_le_bytes());
        out.extend_from_slice(self.name.as_bytes());
        out
    }
}

/// Where each section of a file lies (byte ranges).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Layout {
    /// `n = 2^power`.
    pub n: usize,
    pub tau_g1: Range<usize>,
    pub tau_g2: Range<usize>,
    pub alpha_g1: Range<usize>,
    pub beta_g1: Range<usize>,
    pub beta_g2: Range<usize>,
    pub proof: Range<usize>,
}

impl Layout {
    /// The layout of a file with this power, header length and kind; `None` if it does not fit
    /// this platform's address space.
    pub fn new(power: u32, header_len: usize, kind: StepKind) -> Option<Layout> {
        let n = 1u64.checked_shl(power)?;
        let proof = match kind {
            StepKind::Initial => 0,
            StepKind::Contribution => 3 * POK_BYTES as u64,
            StepKind::Beacon => BEACON_PROOF as u64,
        };
        let sizes = [
            (2 * n - 1) * G1_BYTES as u64,
            n * G2_BYTES as u64,
            n * G1_BYTES as u64,
            n * G1_BYTES as u64,
            G2_BYTES as u64,
            proof,
        ];
        let mut at = usize::try_from(header_len as u64).ok()?;
        let mut ranges = Vec::with_capacity(sizes.len());
        for s in sizes {
            let end = at.checked_add(usize::try_from(s).ok()?)?;
            ranges.push(at..end);
            at = end;
        }
        let mut r = ranges.into_iter();
        Some(Layout {
            n: usize::try_from(n).ok()?,
            tau_g1: r.next()?,
            tau_g2: r.next()?,
            alpha_g1: r.next()?,
            beta_g1: r.next()?,
            beta_g2: r.next()?,
            proof: r.next()?,
        })
    }

    /// The file's total length.
    pub fn total(&self) -> usize {
        self.proof.end
    }
}

fn format_error(path: &Path, reason: impl Into<String>) -> CeremonyError {
    CeremonyError::Format {
        path: path.to_path_buf(),
        expected: WHAT,
        reason: reason.into(),
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

/// Parses and checks a file's header and its exact length: bad magic, version, kind, power or
/// name are `Format` errors, a length other than the header implies is a `Length` error.
pub(super) fn parse(bytes: &[u8], path: &Path) -> Result<(Header, Layout), CeremonyError> {
    if bytes.len() < FIXED_HEADER {
        return Err(format_error(
            path,
            format!("{} bytes, shorter than the header", bytes.len()),
        ));
    }
    if &bytes[..8] != MAGIC {
        return Err(format_error(path, "bad magic (expected STRTPTAU)"));
    }
    let version = u32_at(bytes, 8);
    if version != VERSION {
        return Err(format_error(
            path,
            format!("version {version}, this code reads version {VERSION}"),
        ));
    }
    let power = u32_at(bytes, 12);
    if !(1..=MAX_POWER).contains(&power) {
        return Err(format_error(
            path,
            format!("power {power} outside 1..={MAX_POWER}"),
        ));
    }
    let index = u32_at(bytes, 16);
    let kind = StepKind::from_code(bytes[20])
        .ok_or_else(|| format_error(path, format!("unknown kind {}", bytes[20])))?;
    let mut prev = [0u8; 32];
    prev.copy_from_slice(&bytes[21..53]);
    let name_len = u16::from_le_bytes([bytes[53], bytes[54]]) as usize;
    if name_len > MAX_NAME_BYTES {
        return Err(format_error(
            path,
            format!("name of {name_len} bytes (at most {MAX_NAME_BYTES})"),
        ));
    }
    let header_len = FIXED_HEADER + name_len;
    let layout = Layout::new(power, header_len, kind)
        .ok_or_else(|| format_error(path, "too large for this platform"))?;
    if bytes.len() != layout.total() {
        return Err(CeremonyError::Length {
            path: path.to_path_buf(),
            got: bytes.len() as u64,
            expected: layout.total() as u64,
        });
    }
    let name = std::str::from_utf8(&bytes[FIXED_HEADER..header_len])
        .map_err(|_| format_error(path, "the name is not UTF-8"))?
        .to_string();
    let header = Header {
        power,
        index,
        kind,
        prev,
        name,
    };
    Ok((header, layout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_length_is_checked() {
        let h = Header {
            power: 3,
            index: 2,
            kind: StepKind::Beacon,
            prev: [7; 32],
            name: "beacon".into(),
        };
        let layout = Layout::new(3, FIXED_HEADER + 6, StepKind::Beacon).unwrap();
        let mut file = h.to_bytes();
        file.resize(layout.total(), 0);
        let (back, l) = parse(&file, Path::new("x")).unwrap();
        assert_eq!((back, l), (h, layout.clone()));
        assert_eq!(layout.tau_g1.len(), 15 * G1_BYTES);
        assert_eq!(layout.proof.len(), BEACON_PROOF);
        file.pop();
        assert!(matches!(
            parse(&file, Path::new("x")),
            Err(CeremonyError::Length { .. })
        ));
        file[0] = b'X';
        assert!(matches!(
            parse(&file, Path::new("x")),
            Err(CeremonyError::Format { .. })
        ));
    }
}
