//! The keystore: named keys in a JSON file readable by its owner only (mode 0600). It is written
//! atomically (temp file created 0600, fsync, rename) and refused if group or others can read it.

use crate::keys::{Address, KeyPair};
use serde::{Deserialize, Serialize};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Format version of the keystore file.
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Entry {
    name: String,
    address: Address,
    secret: String,
}

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    keys: Vec<Entry>,
}

/// Why the keystore could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    /// Reading or writing failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Others can read the file.
    #[error("keystore {path} is readable by others (mode {mode:o}); run `chmod 600` on it")]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its mode bits.
        mode: u32,
    },
    /// The file is not a keystore or a key does not match its address.
    #[error("keystore {path} is malformed: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A name is taken.
    #[error("a key named {0:?} already exists")]
    Duplicate(String),
    /// The system's randomness failed.
    #[error("no randomness for a new key: {0}")]
    Random(String),
}

/// An open keystore.
pub struct Keystore {
    path: PathBuf,
    keys: Vec<(String, KeyPair)>,
}

impl Keystore {
    /// Opens the keystore at `path`, or an empty one if the file does not exist yet.
    pub fn open(path: &Path) -> Result<Self, KeystoreError> {
        let meta = match fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Keystore {
                    path: path.to_path_buf(),
                    keys: vec![],
                })
            }
            Err(source) => {
                return Err(KeystoreError::Io {
                    what: "reading",
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeystoreError::Permissions {
                path: path.to_path_buf(),
                mode,
            });
        }
        let malformed = |reason: String| KeystoreError::Malformed {
            path: path.to_path_buf(),
            reason,
        };
        let text = fs::read_to_string(path).map_err(|source| KeystoreError::Io {
            what: "reading",
            path: path.to_path_buf(),
            source,
        })?;
        let file: File = serde_json::from_str(&text).map_err(|e| malformed(e.to_string()))?;
        if file.version != VERSION {
            return Err(malformed(format!("version {}", file.version)));
        }
        let keys = file
            .keys
            .into_iter()
            .map(|e| {
                let secret: [u8; 32] = hex::decode(&e.secret)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| malformed(format!("key {:?} has a bad secret", e.name)))?;
                let key = KeyPair::from_secret(&secret);
                if key.address() != e.address {
                    return Err(malformed(format!(
                        "key {:?} does not match its address",
                        e.name
                    )));
                }
                Ok((e.name, key))
            })
            .collect::<Result<_, _>>()?;
        Ok(Keystore {
            path: path.to_path_buf(),
            keys,
        })
    }

    /// Creates a new key named `name` and saves the keystore.
    pub fn create(&mut self, name: &str) -> Result<Address, KeystoreError> {
        if self.get(name).is_some() {
            return Err(KeystoreError::Duplicate(name.to_string()));
        }
        let key = KeyPair::generate().map_err(|e| KeystoreError::Random(e.to_string()))?;
        let addr = key.address();
        self.keys.push((name.to_string(), key));
        self.save()?;
        Ok(addr)
    }

    /// The key named `name`.
    pub fn get(&self, name: &str) -> Option<&KeyPair> {
        self.keys.iter().find(|(n, _)| n == name).map(|(_, k)| k)
    }

    /// The key for `address`.
    pub fn by_address(&self, address: &Address) -> Option<&KeyPair> {
        self.keys
            .iter()
            .find(|(_, k)| k.address() == *address)
            .map(|(_, k)| k)
    }

    /// Names and addresses, in creation order.
    pub fn list(&self) -> Vec<(String, Address)> {
        self.keys
            .iter()
            .map(|(n, k)| (n.clone(), k.address()))
            .collect()
    }

    fn save(&self) -> Result<(), KeystoreError> {
        let file = File {
            version: VERSION,
            keys: self
                .keys
                .iter()
                .map(|(n, k)| Entry {
                    name: n.clone(),
                    address: k.address(),
                    secret: hex::encode(k.secret()),
                })
                .collect(),
        };
        let io = |what, path: &Path| {
            let path = path.to_path_buf();
            move |source| KeystoreError::Io { what, path, source }
        };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io("creating", dir))?;
        }
        let tmp = self.path.with_extension("tmp");
        let _ = fs::remove_file(&tmp);
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io("creating", &tmp))?;
        f.write_all(
            serde_json::to_string_pretty(&file)
                .expect("keystore serialises")
                .as_bytes(),
        )
        .map_err(io("writing", &tmp))?;
        f.sync_all().map_err(io("syncing", &tmp))?;
        drop(f);
        fs::rename(&tmp, &self.path).map_err(io("renaming into place", &self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_persist_with_owner_only_permissions() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("wallet").join("keys.json");
        let mut ks = Keystore::open(&path).unwrap();
        let owner = ks.create("owner").unwrap();
        let worker = ks.create("worker").unwrap();
        assert_ne!(owner, worker);
        assert!(matches!(
            ks.create("owner"),
            Err(KeystoreError::Duplicate(_))
        ));
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let again = Keystore::open(&path).unwrap();
        assert_eq!(
            again.list(),
            vec![("owner".to_string(), owner), ("worker".to_string(), worker)]
        );
        assert_eq!(
            again.by_address(&worker).unwrap().secret(),
            ks.get("worker").unwrap().secret()
        );
    }

    #[test]
    fn readable_or_malformed_keystores_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("keys.json");
        Keystore::open(&path).unwrap().create("a").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            Keystore::open(&path),
            Err(KeystoreError::Permissions { mode: 0o644, .. })
        ));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, text.replace("\"secret\": \"", "\"secret\": \"00")).unwrap();
        assert!(matches!(
            Keystore::open(&path),
            Err(KeystoreError::Malformed { .. })
        ));
        fs::write(&path, "{").unwrap();
        assert!(matches!(
            Keystore::open(&path),
            Err(KeystoreError::Malformed { .. })
        ));
    }
}
