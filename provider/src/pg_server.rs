//! A throwaway PostgreSQL server on loopback, for tests and trying a cluster on one machine:
//! `initdb` into a temporary directory, `pg_ctl start` on a free port, trust authentication for
//! the `postgres` user, stopped (immediately) when dropped. Run as root it runs the server as the
//! `postgres` system user, as PostgreSQL requires. The binaries come from `$STRATA_PG_BIN`, else
//! Debian's `/usr/lib/postgresql/<newest>/bin`, else `PATH`.
//!
//! [`test_database`] gives each test a database of its own: in the server `$STRATA_TEST_PG` names
//! (what `.ci/run` starts), or else in a private server started for it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A running server.
pub struct PgServer {
    dir: tempfile::TempDir,
    port: u16,
    bin: PathBuf,
    as_postgres: bool,
}

/// The directory holding `pg_ctl` and `initdb`.
pub fn bin_dir() -> Result<PathBuf, String> {
    if let Ok(b) = std::env::var("STRATA_PG_BIN") {
        return Ok(PathBuf::from(b));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, b)) = versions.pop() {
        return Ok(b);
    }
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .find(|d| d.join("pg_ctl").exists() && d.join("initdb").exists())
        })
        .ok_or_else(|| {
            "no PostgreSQL server binaries (install Debian's `postgresql`, or set STRATA_PG_BIN \
             or STRATA_TEST_PG)"
                .into()
        })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

impl PgServer {
    /// Initialises and starts a server in a new temporary directory.
    pub fn start() -> Result<PgServer, String> {
        let bin = bin_dir()?;
        let dir = tempfile::Builder::new()
            .prefix("strata-pg-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let as_postgres = is_root();
        if as_postgres {
            // The server refuses to run as root: its files belong to the `postgres` user.
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .map_err(|e| format!("chown: {e}"))?
                .success();
            if !ok {
                return Err(
                    "chown to the postgres user failed (is the postgresql package installed?)"
                        .into(),
                );
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let s = PgServer {
            dir,
            port,
            bin,
            as_postgres,
        };
        s.run(
            "initdb",
            &[
                "-D",
                &s.data().display().to_string(),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        )?;
        s.start_again()?;
        Ok(s)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .map_err(|e| format!("{}: {e}", exe.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{tool} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    }

    /// Starts the server (again, after [`PgServer::stop`]) and waits until it accepts
    /// connections.
    pub fn start_again(&self) -> Result<(), String> {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data().display().to_string(),
                "-o",
                &opts,
                "-l",
                &log,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
    }

    /// Stops the server at once (`-m immediate`: connections are cut as by a crash).
    pub fn stop(&self) -> Result<(), String> {
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data().display().to_string(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        )
    }

    /// The URL of database `db` on this server.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// The server's directory (data, log).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = self.stop();
        if self.as_postgres {
            // Hand the files back so the temporary directory can be removed.
            let _ = Command::new("chown")
                .args(["-R", "root:root"])
                .arg(self.dir.path())
                .status();
        }
    }
}

/// A database for one test, dropped with it (with its private server, if it has one).
pub struct TestDb {
    /// Its URL.
    pub url: String,
    /// The private server it lives in, if `$STRATA_TEST_PG` was not set.
    pub server: Option<PgServer>,
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// Creates a fresh database `NAME_<pid>_<n>` on the server `$STRATA_TEST_PG` names (a URL of an
/// existing database there, e.g. `postgres://postgres@127.0.0.1:5432/postgres`), or on a private
/// server started now.
pub fn test_database(name: &str) -> Result<TestDb, String> {
    let db = format!(
        "{name}_{}_{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    let (admin, server) = match std::env::var("STRATA_TEST_PG") {
        Ok(u) if !u.is_empty() => (u, None),
        _ => {
            let s = PgServer::start()?;
            (s.url("postgres"), Some(s))
        }
    };
    let url = match admin.rfind('/') {
        Some(i) if admin[..i].contains("://") && i > admin.find("://").unwrap_or(0) + 2 => {
            format!("{}/{db}", &admin[..i])
        }
        _ => {
            return Err(format!(
                "STRATA_TEST_PG={admin} is not a postgres://…/DB URL"
            ))
        }
    };
    let admin2 = admin.clone();
    let create = move || -> Result<(), String> {
        let mut c = postgres::Client::connect(&admin2, postgres::NoTls)
            .map_err(|e| format!("{}: {e}", crate::db::engine::redact(&admin2)))?;
        c.batch_execute(&format!("CREATE DATABASE {db}"))
            .map_err(|e| e.to_string())
    };
    crate::db::engine::off_runtime(create)?;
    Ok(TestDb { url, server })
}
