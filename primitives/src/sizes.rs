//! Sector and piece sizes (DESIGN §3–4).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// A padded piece size: `128 · 2^k` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PaddedPieceSize(u64);

/// An unpadded piece size: `127 · 2^k` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UnpaddedPieceSize(u64);

/// A size that is not of the required form.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SizeError {
    /// Not `128 · 2^k`.
    #[error("{0} bytes is not a padded piece size (128·2^k)")]
    NotPadded(u64),
    /// Not `127 · 2^k`.
    #[error("{0} bytes is not an unpadded piece size (127·2^k)")]
    NotUnpadded(u64),
    /// Could not parse a sector size.
    #[error("unknown sector size {0:?}: expected one of 2KiB, 8MiB, 512MiB, 32GiB, 64GiB")]
    UnknownSectorSize(String),
}

impl PaddedPieceSize {
    /// Checks the form `128 · 2^k`.
    pub fn new(bytes: u64) -> Result<Self, SizeError> {
        if bytes >= 128 && bytes.is_power_of_two() {
            Ok(Self(bytes))
        } else {
            Err(SizeError::NotPadded(bytes))
        }
    }
    /// Bytes.
    pub fn bytes(self) -> u64 {
        self.0
    }
    /// Nodes (32 bytes each).
    pub fn nodes(self) -> u64 {
        self.0 / 32
    }
    /// The matching unpadded size.
    pub fn unpadded(self) -> UnpaddedPieceSize {
        UnpaddedPieceSize(self.0 / 128 * 127)
    }
}

impl UnpaddedPieceSize {
    /// Checks the form `127 · 2^k`.
    pub fn new(bytes: u64) -> Result<Self, SizeError> {
        if bytes >= 127 && bytes.is_multiple_of(127) && (bytes / 127).is_power_of_two() {
            Ok(Self(bytes))
        } else {
            Err(SizeError::NotUnpadded(bytes))
        }
    }
    /// The smallest unpadded piece size that holds `len` bytes (`127 · 2^k ≥ len`, k ≥ 0).
    pub fn for_data_len(len: u64) -> Self {
        Self(len.div_ceil(127).max(1).next_power_of_two() * 127)
    }
    /// Bytes.
    pub fn bytes(self) -> u64 {
        self.0
    }
    /// The matching padded size.
    pub fn padded(self) -> PaddedPieceSize {
        PaddedPieceSize(self.0 / 127 * 128)
    }
}

/// A sector size in bytes (padded), one of the registered sizes' bytes or any power of two ≥ 256
/// for internal use; parsing accepts the registered names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SectorSize(pub u64);

impl SectorSize {
    /// 2 KiB.
    pub const KIB2: SectorSize = SectorSize(2 << 10);
    /// 8 MiB.
    pub const MIB8: SectorSize = SectorSize(8 << 20);
    /// 512 MiB.
    pub const MIB512: SectorSize = SectorSize(512 << 20);
    /// 32 GiB.
    pub const GIB32: SectorSize = SectorSize(32 << 30);
    /// 64 GiB.
    pub const GIB64: SectorSize = SectorSize(64 << 30);

    /// Bytes.
    pub fn bytes(self) -> u64 {
        self.0
    }
    /// Nodes per layer.
    pub fn nodes(self) -> u64 {
        self.0 / 32
    }
    /// The sector as a padded piece size.
    pub fn padded(self) -> PaddedPieceSize {
        PaddedPieceSize(self.0)
    }
}

impl FromStr for SectorSize {
    type Err = SizeError;
    fn from_str(s: &str) -> Result<Self, SizeError> {
        let norm = s.trim().to_ascii_lowercase().replace(' ', "");
        Ok(match norm.as_str() {
            "2kib" | "2k" | "2048" => Self::KIB2,
            "8mib" | "8m" => Self::MIB8,
            "512mib" | "512m" => Self::MIB512,
            "32gib" | "32g" => Self::GIB32,
            "64gib" | "64g" => Self::GIB64,
            _ => return Err(SizeError::UnknownSectorSize(s.to_string())),
        })
    }
}

impl fmt::Display for SectorSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        if b >= 1 << 30 && b.is_multiple_of(1 << 30) {
            write!(f, "{}GiB", b >> 30)
        } else if b >= 1 << 20 && b.is_multiple_of(1 << 20) {
            write!(f, "{}MiB", b >> 20)
        } else if b >= 1 << 10 && b.is_multiple_of(1 << 10) {
            write!(f, "{}KiB", b >> 10)
        } else {
            write!(f, "{b}B")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn piece_sizes() {
        assert_eq!(UnpaddedPieceSize::for_data_len(0).bytes(), 127);
        assert_eq!(UnpaddedPieceSize::for_data_len(127).bytes(), 127);
        assert_eq!(UnpaddedPieceSize::for_data_len(128).bytes(), 254);
        assert_eq!(UnpaddedPieceSize::for_data_len(1000).bytes(), 1016);
        assert_eq!(UnpaddedPieceSize::for_data_len(1000).padded().bytes(), 1024);
        assert!(PaddedPieceSize::new(96).is_err());
        assert!(UnpaddedPieceSize::new(381).is_err());
    }

    #[test]
    fn sector_size_names() {
        for s in ["2KiB", "8MiB", "512MiB", "32GiB", "64GiB"] {
            assert_eq!(s.parse::<SectorSize>().unwrap().to_string(), s);
        }
        assert!(matches!(
            "3KiB".parse::<SectorSize>(),
            Err(SizeError::UnknownSectorSize(_))
        ));
    }
}
