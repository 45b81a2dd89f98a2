//! The two database engines behind one small interface: SQLite (rusqlite, bundled — the embedded
//! default for one machine) and PostgreSQL (the `postgres` client — a cluster's shared state).
//!
//! Every statement is written once, in the dialect both accept, with `$1, $2, …` placeholders
//! (rewritten to SQLite's `?1, ?2, …`); values are the few types the schema uses ([`V`]), and
//! every integer column is 64-bit on both (`BIGINT`). Statements that cannot be shared
//! (auto-increment keys, row locks) are chosen by [`Engine::is_postgres`].
//!
//! The `postgres` client runs its own small runtime and refuses to block a thread that is
//! driving async tasks, so inside a tokio runtime each call runs on a scoped thread of its own;
//! the calling thread waits, exactly as it waits on SQLite's `fsync`. A dropped connection (the
//! server restarted, the network failed) fails the call in progress with a named error, and the
//! next call connects again: callers retry on their next tick, nothing is half-applied because
//! every multi-statement change is one transaction.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;
use thiserror::Error;

/// A database failure, naming the engine.
#[derive(Debug, Error)]
pub enum DbError {
    /// SQLite failed.
    #[error("provider database (SQLite {path}): {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
    /// PostgreSQL failed or could not be reached.
    #[error("provider database (PostgreSQL {url}): {message}")]
    Postgres {
        /// The server, without its password.
        url: String,
        /// Why.
        message: String,
    },
    /// A stored value is not what the schema promises.
    #[error("provider database: {0}")]
    Corrupt(String),
}

/// One value bound to or read from a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum V {
    /// A 64-bit integer (or NULL).
    I(Option<i64>),
    /// Text (or NULL).
    T(Option<String>),
}

impl V {
    /// An integer.
    pub fn i(v: impl TryInto<i64>) -> V {
        V::I(Some(v.try_into().unwrap_or(i64::MAX)))
    }
    /// Text.
    pub fn t(v: impl Into<String>) -> V {
        V::T(Some(v.into()))
    }
    /// The integer, if it is one and not NULL.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            V::I(v) => *v,
            V::T(Some(s)) => s.parse().ok(),
            V::T(None) => None,
        }
    }
    /// The text, if it is text and not NULL.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            V::T(Some(s)) => Some(s),
            _ => None,
        }
    }
}

/// A row read back: its values in column order.
pub type Row = Vec<V>;

/// Typed access to a row's columns, with a named error instead of a panic.
pub trait RowExt {
    /// Column `i` as an integer (NULL is an error).
    fn int(&self, i: usize) -> Result<i64, DbError>;
    /// Column `i` as an optional integer.
    fn opt_int(&self, i: usize) -> Result<Option<i64>, DbError>;
    /// Column `i` as text (NULL is an error).
    fn text(&self, i: usize) -> Result<String, DbError>;
    /// Column `i` as optional text.
    fn opt_text(&self, i: usize) -> Result<Option<String>, DbError>;
}

impl RowExt for Row {
    fn int(&self, i: usize) -> Result<i64, DbError> {
        self.opt_int(i)?
            .ok_or_else(|| DbError::Corrupt(format!("column {i} is NULL")))
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, DbError> {
        match self.get(i) {
            Some(V::I(v)) => Ok(*v),
            Some(V::T(None)) => Ok(None),
            Some(v @ V::T(Some(_))) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| DbError::Corrupt(format!("column {i} is not an integer"))),
            None => Err(DbError::Corrupt(format!("no column {i}"))),
        }
    }
    fn text(&self, i: usize) -> Result<String, DbError> {
        self.opt_text(i)?
            .ok_or_else(|| DbError::Corrupt(format!("column {i} is NULL")))
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, DbError> {
        match self.get(i) {
            Some(V::T(v)) => Ok(v.clone()),
            Some(V::I(None)) => Ok(None),
            Some(V::I(Some(n))) => Ok(Some(n.to_string())),
            None => Err(DbError::Corrupt(format!("no column {i}"))),
        }
    }
}

/// Statements inside one transaction (or outside any, on [`Engine`]).
pub trait Sql {
    /// Runs a statement; the number of rows it changed.
    fn exec(&mut self, sql: &str, args: &[V]) -> Result<u64, DbError>;
    /// Runs a query; its rows.
    fn query(&mut self, sql: &str, args: &[V]) -> Result<Vec<Row>, DbError>;
    /// Whether this is PostgreSQL (for the few statements the dialects do not share).
    fn is_postgres(&self) -> bool;
    /// The first row's first column as an integer, if any row.
    fn query_int(&mut self, sql: &str, args: &[V]) -> Result<Option<i64>, DbError> {
        Ok(self
            .query(sql, args)?
            .first()
            .and_then(|r| r.first())
            .and_then(V::as_i64))
    }
}

/// `$1` → `?1`: SQLite's numbered placeholders.
fn sqlite_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

fn sqlite_args(args: &[V]) -> Vec<rusqlite::types::Value> {
    use rusqlite::types::Value;
    args.iter()
        .map(|a| match a {
            V::I(Some(i)) => Value::Integer(*i),
            V::T(Some(s)) => Value::Text(s.clone()),
            V::I(None) | V::T(None) => Value::Null,
        })
        .collect()
}

fn sqlite_row(r: &rusqlite::Row, n: usize) -> rusqlite::Result<Row> {
    use rusqlite::types::ValueRef;
    (0..n)
        .map(|i| {
            Ok(match r.get_ref(i)? {
                ValueRef::Null => V::T(None),
                ValueRef::Integer(v) => V::I(Some(v)),
                ValueRef::Real(f) => V::I(Some(f as i64)),
                ValueRef::Text(t) => V::T(Some(String::from_utf8_lossy(t).into_owned())),
                ValueRef::Blob(b) => V::T(Some(hex::encode(b))),
            })
        })
        .collect()
}

struct SqliteTx<'a> {
    tx: &'a rusqlite::Connection,
    path: &'a Path,
}

impl SqliteTx<'_> {
    fn err(&self, source: rusqlite::Error) -> DbError {
        DbError::Sqlite {
            path: self.path.to_path_buf(),
            source,
        }
    }
}

impl Sql for SqliteTx<'_> {
    fn exec(&mut self, sql: &str, args: &[V]) -> Result<u64, DbError> {
        let mut st = self
            .tx
            .prepare_cached(&sqlite_sql(sql))
            .map_err(|e| self.err(e))?;
        st.execute(rusqlite::params_from_iter(sqlite_args(args)))
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }
    fn query(&mut self, sql: &str, args: &[V]) -> Result<Vec<Row>, DbError> {
        let mut st = self
            .tx
            .prepare_cached(&sqlite_sql(sql))
            .map_err(|e| self.err(e))?;
        let n = st.column_count();
        let rows = st
            .query_map(rusqlite::params_from_iter(sqlite_args(args)), |r| {
                sqlite_row(r, n)
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
    fn is_postgres(&self) -> bool {
        false
    }
}

/// The URL without its password, for error messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

struct PgTx<'a, 'b> {
    tx: &'a mut postgres::Transaction<'b>,
    url: &'a str,
}

fn pg_err(url: &str, e: postgres::Error) -> DbError {
    let message = match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    };
    DbError::Postgres {
        url: redact(url),
        message,
    }
}

fn pg_args(args: &[V]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    args.iter()
        .map(|a| -> Box<dyn postgres::types::ToSql + Sync> {
            match a {
                V::I(v) => Box::new(*v),
                V::T(v) => Box::new(v.clone()),
            }
        })
        .collect()
}

fn pg_row(r: &postgres::Row) -> Result<Row, postgres::Error> {
    use postgres::types::Type;
    (0..r.len())
        .map(|i| {
            let t = r.columns()[i].type_().clone();
            Ok(if t == Type::INT8 {
                V::I(r.try_get::<_, Option<i64>>(i)?)
            } else if t == Type::INT4 {
                V::I(r.try_get::<_, Option<i32>>(i)?.map(i64::from))
            } else if t == Type::INT2 {
                V::I(r.try_get::<_, Option<i16>>(i)?.map(i64::from))
            } else if t == Type::BOOL {
                V::I(r.try_get::<_, Option<bool>>(i)?.map(i64::from))
            } else {
                V::T(r.try_get::<_, Option<String>>(i)?)
            })
        })
        .collect()
}

impl Sql for PgTx<'_, '_> {
    fn exec(&mut self, sql: &str, args: &[V]) -> Result<u64, DbError> {
        let a = pg_args(args);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = a.iter().map(|b| &**b).collect();
        self.tx.execute(sql, &refs).map_err(|e| pg_err(self.url, e))
    }
    fn query(&mut self, sql: &str, args: &[V]) -> Result<Vec<Row>, DbError> {
        let a = pg_args(args);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = a.iter().map(|b| &**b).collect();
        let rows = self.tx.query(sql, &refs).map_err(|e| pg_err(self.url, e))?;
        rows.iter()
            .map(pg_row)
            .collect::<Result<_, _>>()
            .map_err(|e| pg_err(self.url, e))
    }
    fn is_postgres(&self) -> bool {
        true
    }
}

/// How long connecting to PostgreSQL may take before the call fails (it is retried next time).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

struct Pg {
    url: String,
    client: Option<postgres::Client>,
}

impl Drop for Pg {
    fn drop(&mut self) {
        drop_client(self.client.take());
    }
}

/// Drops a PostgreSQL client where that is allowed: its destructor blocks on a runtime of its
/// own, which panics on a thread already driving tokio.
pub(crate) fn drop_client(c: Option<postgres::Client>) {
    if c.is_some() {
        off_runtime(move || drop(c));
    }
}

impl Pg {
    /// The live client, connecting (again) if there is none or the last one was closed.
    fn client(&mut self) -> Result<&mut postgres::Client, DbError> {
        if self.client.as_ref().is_none_or(|c| c.is_closed()) {
            drop_client(self.client.take());
            let mut cfg: postgres::Config = self.url.parse().map_err(|e| DbError::Postgres {
                url: redact(&self.url),
                message: format!("not a PostgreSQL URL: {e}"),
            })?;
            cfg.connect_timeout(CONNECT_TIMEOUT);
            cfg.keepalives(true);
            cfg.keepalives_idle(Duration::from_secs(10));
            let c = cfg
                .connect(postgres::NoTls)
                .map_err(|e| pg_err(&self.url, e))?;
            tracing::info!(db = %redact(&self.url), "connected to PostgreSQL");
            self.client = Some(c);
        }
        Ok(self.client.as_mut().expect("just connected"))
    }
}

/// Runs `f` where the `postgres` client may block: on a scoped thread when the caller is
/// inside a tokio runtime, inline otherwise.
pub(crate) fn off_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| {
            s.spawn(f)
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    } else {
        f()
    }
}

enum Inner {
    Sqlite {
        conn: Box<rusqlite::Connection>,
        path: PathBuf,
    },
    Postgres(Box<Pg>),
}

/// An open database: one connection, used by one call at a time.
pub struct Engine {
    inner: Mutex<Inner>,
    postgres: bool,
    /// What it is, for messages (the file, or the URL without its password).
    pub describe: String,
}

/// Where the provider's state lives: `postgres://…` (or `postgresql://…`), else a SQLite file.
pub fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

impl Engine {
    /// Opens SQLite at `path` (WAL, `synchronous=FULL`, waiting up to 10 s on a lock another
    /// process holds).
    pub fn sqlite(path: &Path) -> Result<Engine, DbError> {
        let err = |source| DbError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = rusqlite::Connection::open(path).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(err)?;
        Ok(Engine {
            inner: Mutex::new(Inner::Sqlite {
                conn: Box::new(conn),
                path: path.to_path_buf(),
            }),
            postgres: false,
            describe: path.display().to_string(),
        })
    }

    /// Opens PostgreSQL at `url`, connecting now (so a wrong URL is reported at start).
    pub fn postgres(url: &str) -> Result<Engine, DbError> {
        let mut pg = Pg {
            url: url.to_string(),
            client: None,
        };
        off_runtime(|| pg.client().map(|_| ()))?;
        Ok(Engine {
            inner: Mutex::new(Inner::Postgres(Box::new(pg))),
            postgres: true,
            describe: redact(url),
        })
    }

    /// Opens `location`: a PostgreSQL URL or a SQLite file path.
    pub fn open(location: &str) -> Result<Engine, DbError> {
        if is_postgres_url(location) {
            Self::postgres(location)
        } else {
            Self::sqlite(Path::new(location))
        }
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.postgres
    }

    /// Runs `f` in one transaction: committed if it returns `Ok`, rolled back otherwise (and
    /// when the connection fails midway). SQLite takes the write lock at the start
    /// (`BEGIN IMMEDIATE`), so two processes never deadlock upgrading a read.
    pub fn tx<R: Send>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<R, DbError> + Send,
    ) -> Result<R, DbError> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match &mut *inner {
            Inner::Sqlite { conn, path } => {
                let err = |source| DbError::Sqlite {
                    path: path.clone(),
                    source,
                };
                let tx = conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(err)?;
                let r = f(&mut SqliteTx { tx: &tx, path })?;
                tx.commit().map_err(err)?;
                Ok(r)
            }
            Inner::Postgres(pg) => off_runtime(move || {
                let url = pg.url.clone();
                let client = pg.client()?;
                let mut tx = client.transaction().map_err(|e| pg_err(&url, e))?;
                let r = f(&mut PgTx {
                    tx: &mut tx,
                    url: &url,
                })?;
                tx.commit().map_err(|e| pg_err(&url, e))?;
                Ok(r)
            }),
        }
    }

    /// Runs one statement (its own transaction).
    pub fn exec(&self, sql: &str, args: &[V]) -> Result<u64, DbError> {
        let (sql, args) = (sql.to_string(), args.to_vec());
        self.tx(move |t| t.exec(&sql, &args))
    }

    /// Runs one query.
    pub fn query(&self, sql: &str, args: &[V]) -> Result<Vec<Row>, DbError> {
        let (sql, args) = (sql.to_string(), args.to_vec());
        self.tx(move |t| t.query(&sql, &args))
    }

    /// The first row's first column as an integer.
    pub fn query_int(&self, sql: &str, args: &[V]) -> Result<Option<i64>, DbError> {
        let (sql, args) = (sql.to_string(), args.to_vec());
        self.tx(move |t| t.query_int(&sql, &args))
    }

    /// Milliseconds since the Unix epoch by the database's clock (PostgreSQL: the server's, so
    /// machines with skewed clocks still agree on heartbeats; SQLite: this machine's).
    pub fn now_ms(&self) -> Result<i64, DbError> {
        if self.postgres {
            Ok(self
                .query_int(
                    "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
                    &[],
                )?
                .unwrap_or(0))
        } else {
            Ok(std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_for_sqlite_only_where_numbered() {
        assert_eq!(
            sqlite_sql("SELECT a FROM t WHERE b = $1 AND c = '$x' AND d = $12"),
            "SELECT a FROM t WHERE b = ?1 AND c = '$x' AND d = ?12"
        );
    }

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact("postgres://strata:secret@db:5432/p"),
            "postgres://strata:***@db:5432/p"
        );
        assert_eq!(redact("postgres://db/p"), "postgres://db/p");
    }
}
