//! Where the chain's beacon entries come from (DESIGN §8; the scheme itself is in
//! [`strata_chain_client::beacon`]): a devnet signs each epoch's round with its own BLS key, kept
//! owner-only in its state directory and never in the genesis; a chain following drand takes
//! each round from a relay (a file of published entries, re-read as it grows, or entries pushed
//! in by [`crate::Chain::add_beacon_entries`] from an HTTP relay). Either way every entry is
//! checked against the network's public key before an epoch uses it.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use strata_chain_client::beacon::{BeaconEntry, BeaconSecretKey};
use strata_chain_client::ChainError;

/// The file name of a devnet's beacon key inside its state directory.
pub const KEY_FILE: &str = "beacon.key";

/// The chain's source of entries.
pub enum BeaconSigner {
    /// A devnet's own key.
    Devnet(BeaconSecretKey),
    /// Entries of a drand chain.
    Drand(DrandRelay),
}

impl BeaconSigner {
    /// The entry of `round`: signed now (devnet), or taken from the relay (drand; unverified
    /// here — the caller checks it against the network key).
    pub fn entry(&mut self, round: u64) -> Result<BeaconEntry, ChainError> {
        match self {
            BeaconSigner::Devnet(sk) => Ok(sk.sign(round)),
            BeaconSigner::Drand(relay) => relay.entry(round),
        }
    }
}

/// Published drand entries: from a relay file (a JSON array of `{round, signature}` objects as
/// drand's HTTP API serves them, or one such object per line) and/or pushed in.
#[derive(Default)]
pub struct DrandRelay {
    file: Option<PathBuf>,
    entries: BTreeMap<u64, BeaconEntry>,
}

impl DrandRelay {
    /// A relay reading `file` (if any) whenever it lacks a round.
    pub fn new(file: Option<PathBuf>) -> Self {
        DrandRelay {
            file,
            entries: BTreeMap::new(),
        }
    }

    /// Adds entries (later ones for the same round replace earlier ones; all are verified when
    /// used, so a bad one can only stall the chain, never enter it).
    pub fn add(&mut self, entries: impl IntoIterator<Item = BeaconEntry>) {
        for e in entries {
            self.entries.insert(e.round, e);
        }
    }

    /// Drops the entry of `round` (it failed verification), so the next attempt reads the
    /// relay again.
    pub fn forget(&mut self, round: u64) {
        self.entries.remove(&round);
    }

    fn entry(&mut self, round: u64) -> Result<BeaconEntry, ChainError> {
        if !self.entries.contains_key(&round) {
            if let Some(f) = self.file.clone() {
                let read = read_relay_file(&f)?;
                self.add(read);
            }
        }
        self.entries.get(&round).copied().ok_or_else(|| {
            ChainError::too_early(format!(
                "drand round {round} is not available from the relay yet{}",
                self.file
                    .as_ref()
                    .map(|f| format!(" ({})", f.display()))
                    .unwrap_or_default()
            ))
        })
    }
}

/// Reads a relay file: a JSON array of entries, or one JSON entry per line.
pub fn read_relay_file(path: &Path) -> Result<Vec<BeaconEntry>, ChainError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ChainError::unavailable(format!("cannot read drand relay {}: {e}", path.display()))
    })?;
    let bad = |e: serde_json::Error| {
        ChainError::invalid(format!("drand relay {} is malformed: {e}", path.display()))
    };
    if text.trim_start().starts_with('[') {
        return serde_json::from_str(&text).map_err(bad);
    }
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(bad))
        .collect()
}

fn key_err(path: &Path, what: impl std::fmt::Display) -> ChainError {
    ChainError::invalid(format!("beacon key {}: {what}", path.display()))
}

/// Reads a beacon key file (64 hex characters, owner-only).
pub fn read_key(path: &Path) -> Result<BeaconSecretKey, ChainError> {
    let meta = std::fs::metadata(path).map_err(|e| key_err(path, e))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(key_err(
            path,
            format!("readable by others (mode {mode:o}); run `chmod 600` on it"),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| key_err(path, e))?;
    let bytes: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| key_err(path, "not 64 hex characters"))?;
    BeaconSecretKey::from_bytes(&bytes).ok_or_else(|| key_err(path, "not a valid secret scalar"))
}

/// Writes a new beacon key file, owner-only (0600), atomically: a temp file, fsync, rename.
/// An existing file is never overwritten.
pub fn write_new_key(path: &Path, key: &BeaconSecretKey) -> Result<(), ChainError> {
    if path.exists() {
        return Err(key_err(path, "already exists"));
    }
    let tmp = path.with_extension("key.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| key_err(&tmp, e))?;
    writeln!(f, "{}", hex::encode(key.to_bytes())).map_err(|e| key_err(&tmp, e))?;
    f.sync_all().map_err(|e| key_err(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| key_err(path, e))?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_are_owner_only_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(KEY_FILE);
        let k = BeaconSecretKey::from_wide(&[5; 64]);
        write_new_key(&p, &k).unwrap();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(read_key(&p).unwrap().public_key(), k.public_key());
        assert!(write_new_key(&p, &BeaconSecretKey::from_wide(&[6; 64])).is_err());
        assert_eq!(read_key(&p).unwrap().public_key(), k.public_key());
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_key(&p).unwrap_err();
        assert!(e.message.contains("readable by others"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&p, "zz\n").unwrap();
        assert!(read_key(&p).unwrap_err().message.contains("64 hex"));
    }

    #[test]
    fn relay_files_in_both_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let k = BeaconSecretKey::from_wide(&[5; 64]);
        let (a, b) = (k.sign(4), k.sign(5));
        let arr = dir.path().join("a.json");
        std::fs::write(&arr, serde_json::to_string(&vec![a, b]).unwrap()).unwrap();
        assert_eq!(read_relay_file(&arr).unwrap(), vec![a, b]);
        let lines = dir.path().join("b.jsonl");
        let text = format!(
            "{}\n\n{}\n",
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        std::fs::write(&lines, text).unwrap();
        let mut relay = DrandRelay::new(Some(lines.clone()));
        assert_eq!(relay.entry(5).unwrap(), b);
        let e = relay.entry(6).unwrap_err();
        assert_eq!(e.kind, strata_chain_client::ErrorKind::TooEarly);
        // The file grows: the relay re-reads it.
        std::fs::write(
            &lines,
            format!("{}\n", serde_json::to_string(&k.sign(6)).unwrap()),
        )
        .unwrap();
        assert_eq!(relay.entry(6).unwrap(), k.sign(6));
        std::fs::write(&lines, "{not json").unwrap();
        assert!(read_relay_file(&lines)
            .unwrap_err()
            .message
            .contains("malformed"));
    }
}
