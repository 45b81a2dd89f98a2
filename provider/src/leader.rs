//! One signer at a time (DESIGN §11): the process that signs chain messages and runs the
//! deadline scheduler holds a lock in the database; every other `strata miner run` on the same
//! database waits as a standby and takes over when the lock frees.
//!
//! - **PostgreSQL**: a session advisory lock on a connection of its own. The server frees it the
//!   moment that connection ends — the process died, or the network or the server went away — so
//!   a standby polling `pg_try_advisory_lock` takes over within one poll.
//! - **SQLite**: an exclusive `flock` on `<db>.lock`, freed by the kernel when the process dies.
//!
//! Holding the lock is re-checked every poll (a round trip on the lock's connection); between a
//! lost connection and the next poll, two processes may briefly both believe they lead. That is
//! harmless because the worker key's nonce fences them: both sign with one key and the chain
//! takes one message per nonce, and every step first checks the chain (DESIGN §11, the crate's
//! design notes).

use crate::db::engine::{is_postgres_url, redact, DbError};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

// One per process: the size of the PostgreSQL variant does not matter.
#[allow(clippy::large_enum_variant)]
enum Lock {
    Sqlite {
        path: PathBuf,
        file: Option<std::fs::File>,
    },
    Postgres {
        url: String,
        key: i64,
        client: Option<postgres::Client>,
    },
}

impl Drop for Lock {
    fn drop(&mut self) {
        if let Lock::Postgres { client, .. } = self {
            crate::db::engine::drop_client(client.take());
        }
    }
}

/// The leadership lock of one miner's database.
pub struct Leadership {
    lock: Mutex<Lock>,
    held: AtomicBool,
    /// When the lock was last confirmed held.
    confirmed: Mutex<Option<std::time::Instant>>,
}

/// How often a standby tries the lock, and a leader confirms it.
pub const POLL: Duration = Duration::from_millis(500);

/// How long the server keeps a leader's session (and lock) without hearing from it.
pub const SESSION_LEASE: Duration = Duration::from_secs(10);

/// How long a leader that cannot reach the database at all goes on leading: a database restart
/// ends every session, so no standby can take the lock meanwhile, and deadlines keep being met.
/// In a partition that lets a standby reach the database, both may lead for up to
/// `GRACE - SESSION_LEASE`; the chain's nonces fence their messages (one signing key), and a
/// second PoSt for a partition is refused by the chain.
pub const GRACE: Duration = Duration::from_secs(30);

impl Leadership {
    /// The lock for the database at `location` (a `postgres://` URL or a SQLite file) and
    /// `miner` (several miners may share one server).
    pub fn new(location: &str, miner: u64) -> Leadership {
        let lock = if is_postgres_url(location) {
            Lock::Postgres {
                url: location.to_string(),
                key: 0x5354_5241_0000_0000 | (miner as i64 & 0xffff_ffff),
                client: None,
            }
        } else {
            Lock::Sqlite {
                path: PathBuf::from(format!("{location}.lock")),
                file: None,
            }
        };
        Leadership {
            lock: Mutex::new(lock),
            held: AtomicBool::new(false),
            confirmed: Mutex::new(None),
        }
    }

    /// Whether this process held the lock at the last [`Leadership::check`].
    pub fn is_leader(&self) -> bool {
        self.held.load(Ordering::Acquire)
    }

    /// Takes the lock if it is free, or confirms it is still held; whether this process holds
    /// it now. Never blocks for longer than a connection attempt.
    pub fn check(&self) -> Result<bool, DbError> {
        let mut lock = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let held = match &mut *lock {
            Lock::Sqlite { path, file } => {
                if file.is_none() {
                    let f = std::fs::OpenOptions::new()
                        .create(true)
                        .truncate(false)
                        .write(true)
                        .open(&*path)
                        .map_err(|e| DbError::Corrupt(format!("{}: {e}", path.display())))?;
                    // SAFETY: flock on a file descriptor this function owns.
                    let r = unsafe {
                        libc::flock(
                            std::os::fd::AsRawFd::as_raw_fd(&f),
                            libc::LOCK_EX | libc::LOCK_NB,
                        )
                    };
                    if r == 0 {
                        *file = Some(f);
                    }
                }
                file.is_some()
            }
            Lock::Postgres { url, key, client } => {
                let (url, key) = (url.clone(), *key);
                let r = crate::db::engine::off_runtime(|| pg_check(&url, key, client));
                if r.is_err() {
                    crate::db::engine::drop_client(client.take());
                }
                r?
            }
        };
        *self.confirmed.lock().unwrap_or_else(|p| p.into_inner()) =
            held.then(std::time::Instant::now);
        let was = self.held.swap(held, Ordering::AcqRel);
        if was != held {
            if held {
                tracing::info!("this process now leads: it signs messages and runs the scheduler");
            } else {
                tracing::warn!("leadership lost: standing by");
            }
        }
        Ok(held)
    }

    /// Marks the lock lost (its connection failed).
    pub fn lost(&self) {
        self.held.store(false, Ordering::Release);
    }

    /// [`Leadership::check`], except that a leader that cannot reach the database keeps
    /// leading for [`GRACE`] after its last confirmation (a database restart must not stop
    /// WindowPoSt); whether this process leads now.
    pub fn check_with_grace(&self) -> bool {
        match self.check() {
            Ok(held) => held,
            Err(e) => {
                let within = self
                    .confirmed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .is_some_and(|t| t.elapsed() < GRACE);
                if within && self.is_leader() {
                    tracing::warn!(%e, "database unreachable; leading on within the grace period");
                    true
                } else {
                    if self.is_leader() {
                        tracing::warn!(%e, "database unreachable past the grace period: standing by");
                    }
                    self.lost();
                    false
                }
            }
        }
    }
}

fn pg_check(url: &str, key: i64, client: &mut Option<postgres::Client>) -> Result<bool, DbError> {
    let err = |e: postgres::Error| DbError::Postgres {
        url: redact(url),
        message: e.to_string(),
    };
    if client.as_ref().is_some_and(|c| c.is_closed()) {
        crate::db::engine::drop_client(client.take());
    }
    if client.is_none() {
        let mut cfg: postgres::Config = url.parse().map_err(err)?;
        cfg.connect_timeout(crate::db::engine::CONNECT_TIMEOUT);
        cfg.keepalives(true);
        cfg.keepalives_idle(Duration::from_secs(5));
        let mut c = cfg.connect(postgres::NoTls).map_err(err)?;
        // A lease: a leader that stops confirming (its machine died without closing the
        // connection) loses its session, and the lock with it, after this long. Servers that do
        // not know the setting (before PostgreSQL 14) keep the lock until TCP gives up.
        if let Err(e) = c.batch_execute(&format!(
            "SET idle_session_timeout = {}",
            SESSION_LEASE.as_millis()
        )) {
            tracing::warn!(%e, "the database cannot end an idle leader's session: a dead leader's lock is held until TCP gives up");
        }
        *client = Some(c);
    }
    let c = client.as_mut().expect("connected");
    // Held already by this session? (pg_locks names our backend's advisory locks.)
    let held: bool = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
               AND pid = pg_backend_pid() AND objid = ($1::bigint & 4294967295)::oid
               AND classid = (($1::bigint >> 32) & 4294967295)::oid)",
            &[&key],
        )
        .map_err(err)?
        .get(0);
    if held {
        return Ok(true);
    }
    let got: bool = c
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
        .map_err(err)?
        .get(0);
    Ok(got)
}
