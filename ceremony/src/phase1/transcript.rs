//! `transcript.json`: the ordered list of a ceremony directory's files with their digests.

use super::{file_name, Entry, StepKind, MAX_POWER, TRANSCRIPT_FILE, TRANSCRIPT_FORMAT};
use crate::{files, CeremonyError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

/// The record of a phase-1 ceremony directory (`transcript.json`):
/// `{"format":"strata-ptau-transcript","version":1,"power":K,"files":[…]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcript {
    /// Always `"strata-ptau-transcript"`.
    pub format: String,
    /// Always 1.
    pub version: u32,
    /// log2 of the number of powers.
    pub power: u32,
    /// Every file in chain order, the initial file first.
    pub files: Vec<Entry>,
}

pub(super) fn transcript_error(dir: &Path, reason: impl Into<String>) -> CeremonyError {
    CeremonyError::Transcript {
        dir: dir.to_path_buf(),
        reason: reason.into(),
    }
}

fn is_digest(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Transcript {
    /// Reads `dir/transcript.json` and checks its shape: the format and version, a power in
    /// `1..=28`, files named `0000.ptau`, `0001.ptau`, … without gaps, the initial file first
    /// and only first, a beacon only last, and well-formed digests. It does not look at the
    /// files themselves (see [`verify`](super::verify)). Any defect is a `Transcript` error.
    pub fn read(dir: &Path) -> Result<Transcript, CeremonyError> {
        let path = dir.join(TRANSCRIPT_FILE);
        let text = std::fs::read(&path).map_err(|source| CeremonyError::Io {
            what: "reading",
            path: path.clone(),
            source,
        })?;
        let t: Transcript = serde_json::from_slice(&text)
            .map_err(|e| transcript_error(dir, format!("{TRANSCRIPT_FILE} does not parse: {e}")))?;
        t.check_shape(dir)?;
        Ok(t)
    }

    /// A transcript holding only the initial file.
    pub(super) fn initial(power: u32, entry: Entry) -> Transcript {
        Transcript {
            format: TRANSCRIPT_FORMAT.to_string(),
            version: 1,
            power,
            files: vec![entry],
        }
    }

    /// Writes `dir/transcript.json` atomically.
    pub(super) fn write(&self, dir: &Path) -> Result<(), CeremonyError> {
        let mut json = serde_json::to_vec_pretty(self)
            .map_err(|e| transcript_error(dir, format!("encoding {TRANSCRIPT_FILE}: {e}")))?;
        json.push(b'\n');
        files::write_bytes_atomic(&dir.join(TRANSCRIPT_FILE), &json)
    }

    /// The last file of the chain.
    pub fn last(&self) -> Option<&Entry> {
        self.files.last()
    }

    fn check_shape(&self, dir: &Path) -> Result<(), CeremonyError> {
        let err = |reason: String| Err(transcript_error(dir, reason));
        if self.format != TRANSCRIPT_FORMAT || self.version != 1 {
            return err(format!(
                "format {:?} version {}, expected {TRANSCRIPT_FORMAT:?} version 1",
                self.format, self.version
            ));
        }
        if !(1..=MAX_POWER).contains(&self.power) {
            return err(format!("power {} outside 1..={MAX_POWER}", self.power));
        }
        if self.files.is_empty() || self.files.len() > u32::MAX as usize {
            return err(format!("{} files listed", self.files.len()));
        }
        let last = self.files.len() - 1;
        for (i, e) in self.files.iter().enumerate() {
            let expected = file_name(i as u32);
            if e.file != expected {
                return err(format!(
                    "entry {i} is {:?} where {expected} belongs (a skipped, extra or reordered file)",
                    e.file
                ));
            }
            let kind_ok = match e.kind {
                StepKind::Initial => i == 0,
                StepKind::Contribution => i > 0,
                StepKind::Beacon => i > 0 && i == last,
            };
            if !kind_ok {
                return err(format!(
                    "{} is recorded as {:?}: the initial file comes first and only first, a beacon only last",
                    e.file, e.kind
                ));
            }
            if !is_digest(&e.digest) {
                return err(format!("{}: malformed digest {:?}", e.file, e.digest));
            }
        }
        Ok(())
    }

    /// Checks the directory holds exactly the `.ptau` files listed (hidden temporary files
    /// aside): a file not listed or a listed file missing is a `Transcript` error.
    pub(super) fn check_listing(&self, dir: &Path) -> Result<(), CeremonyError> {
        let io = |source| CeremonyError::Io {
            what: "listing",
            path: dir.to_path_buf(),
            source,
        };
        let mut present = BTreeSet::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            if let Some(name) = entry.file_name().to_str() {
                if name.ends_with(".ptau") && !name.starts_with('.') {
                    present.insert(name.to_string());
                }
            }
        }
        let listed: BTreeSet<String> = self.files.iter().map(|e| e.file.clone()).collect();
        if let Some(extra) = present.difference(&listed).next() {
            return Err(transcript_error(
                dir,
                format!("{extra} is in the directory but not in {TRANSCRIPT_FILE}"),
            ));
        }
        if let Some(missing) = listed.difference(&present).next() {
            return Err(transcript_error(
                dir,
                format!("{missing} is listed in {TRANSCRIPT_FILE} but missing"),
            ));
        }
        Ok(())
    }
}
