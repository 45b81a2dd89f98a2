//! The schema, as numbered migrations applied in order when a database is opened. Each is one
//! transaction that also records its number in `schema_migrations`, so a crash mid-way leaves
//! the previous version; on PostgreSQL a transaction-scoped advisory lock makes processes that
//! start together apply each migration once. A database newer than this build is refused.
//!
//! `{serial}` stands for an auto-increment primary key (SQLite `INTEGER PRIMARY KEY
//! AUTOINCREMENT`, PostgreSQL `BIGSERIAL PRIMARY KEY`); every other type is shared. Migration 1 is
//! the schema the single-machine daemon had before migrations existed, with `IF NOT EXISTS`, so an
//! old SQLite file is adopted as version 1 unchanged.

use super::engine::{DbError, Engine, Sql, V};

/// One migration: its number, what it does, and its statements.
pub struct Migration {
    /// Version it brings the schema to.
    pub version: i64,
    /// What it adds.
    pub name: &'static str,
    /// Statements, `;`-separated, with `{serial}` for auto-increment keys.
    pub sql: &'static str,
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "deals, sectors, decision log, proof times",
        sql: "CREATE TABLE IF NOT EXISTS deals (
                id BIGINT PRIMARY KEY, proposal TEXT NOT NULL, raw_len BIGINT NOT NULL,
                sector BIGINT);
              CREATE TABLE IF NOT EXISTS sectors (
                number BIGINT PRIMARY KEY, step TEXT NOT NULL, deals TEXT NOT NULL,
                ticket_epoch BIGINT, comm_r TEXT, comm_d TEXT, proofs TEXT, error TEXT,
                attempts BIGINT NOT NULL DEFAULT 0, retry_at BIGINT NOT NULL DEFAULT 0);
              CREATE TABLE IF NOT EXISTS log (
                seq {serial}, epoch BIGINT NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL);
              CREATE TABLE IF NOT EXISTS proof_times (
                op TEXT NOT NULL, seq {serial}, ms BIGINT NOT NULL)",
    },
    Migration {
        version: 2,
        name: "cluster: machines, tasks, file locations, messages, cluster secret",
        sql: "CREATE TABLE machines (
                id {serial}, name TEXT NOT NULL UNIQUE, http TEXT NOT NULL,
                cores BIGINT NOT NULL, memory BIGINT NOT NULL, kinds TEXT NOT NULL,
                storage TEXT NOT NULL, started_at BIGINT NOT NULL, heartbeat_at BIGINT NOT NULL);
              CREATE TABLE tasks (
                id {serial}, kind TEXT NOT NULL, sector BIGINT NOT NULL, task_key TEXT NOT NULL,
                input TEXT NOT NULL, state TEXT NOT NULL, machine BIGINT, affinity BIGINT,
                claimed_at BIGINT, done_at BIGINT, result TEXT, error TEXT,
                attempts BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL,
                UNIQUE (kind, sector, task_key));
              CREATE INDEX tasks_pending ON tasks (state, kind);
              CREATE TABLE sector_files (
                sector BIGINT PRIMARY KEY, machine BIGINT NOT NULL, path TEXT NOT NULL,
                updated_at BIGINT NOT NULL);
              CREATE TABLE messages (
                msg_key TEXT PRIMARY KEY, method TEXT NOT NULL, state TEXT NOT NULL,
                msg_id TEXT, error TEXT, machine TEXT NOT NULL, at BIGINT NOT NULL);
              CREATE TABLE cluster_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    },
    Migration {
        version: 3,
        name: "console: the deadline and partition of proving log rows; indexes for paging",
        sql: "ALTER TABLE log ADD COLUMN deadline BIGINT;
              ALTER TABLE log ADD COLUMN part BIGINT;
              CREATE INDEX log_kind_seq ON log (kind, seq);
              CREATE INDEX log_deadline_seq ON log (deadline, seq);
              CREATE INDEX log_deadline_kind ON log (deadline, kind);
              CREATE INDEX sectors_step_number ON sectors (step, number)",
    },
];

/// The newest schema version this build knows.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

fn statements(sql: &str, postgres: bool) -> Vec<String> {
    let serial = if postgres {
        "BIGSERIAL PRIMARY KEY"
    } else {
        "INTEGER PRIMARY KEY AUTOINCREMENT"
    };
    sql.split(';')
        .map(|s| s.trim().replace("{serial}", serial))
        .filter(|s| !s.is_empty())
        .collect()
}

/// The version a database is at (0: empty).
pub fn version(t: &mut dyn Sql) -> Result<i64, DbError> {
    t.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
        &[],
    )?;
    Ok(
        t.query_int("SELECT MAX(version) FROM schema_migrations", &[])?
            .unwrap_or(0),
    )
}

/// Applies every migration the database lacks, each in its own transaction; the versions
/// applied now. Refuses a database whose schema is newer than this build.
pub fn apply(engine: &Engine) -> Result<Vec<i64>, DbError> {
    let now = engine.now_ms()?;
    let mut applied = Vec::new();
    for m in MIGRATIONS {
        let done = engine.tx(|t| {
            if t.is_postgres() {
                // Serialises migrating processes; released at commit.
                t.exec("SELECT pg_advisory_xact_lock(7355608001)", &[])?;
            }
            let v = version(t)?;
            if v > latest() {
                return Err(DbError::Corrupt(format!(
                    "the database's schema is version {v}; this build knows up to {} \
                     (upgrade strata)",
                    latest()
                )));
            }
            if v >= m.version {
                return Ok(false);
            }
            for s in statements(m.sql, t.is_postgres()) {
                t.exec(&s, &[])?;
            }
            t.exec(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                &[V::i(m.version), V::t(m.name), V::i(now)],
            )?;
            Ok(true)
        })?;
        if done {
            tracing::info!(
                db = %engine.describe,
                version = m.version,
                name = m.name,
                "schema migrated"
            );
            applied.push(m.version);
        }
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
        }
    }

    #[test]
    fn a_fresh_sqlite_database_gets_every_migration_once() {
        let dir = tempfile::tempdir().unwrap();
        let e = Engine::sqlite(&dir.path().join("p.sqlite")).unwrap();
        assert_eq!(apply(&e).unwrap(), (1..=latest()).collect::<Vec<_>>());
        assert!(
            apply(&e).unwrap().is_empty(),
            "a second start applies nothing"
        );
        assert_eq!(e.tx(version).unwrap(), latest());
    }

    #[test]
    fn an_old_single_machine_database_is_adopted_and_kept() {
        // The schema as the daemon created it before migrations existed, with a deal in it.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.sqlite");
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE deals (id INTEGER PRIMARY KEY, proposal TEXT NOT NULL,
                    raw_len INTEGER NOT NULL, sector INTEGER);
                 CREATE TABLE log (seq INTEGER PRIMARY KEY AUTOINCREMENT, epoch INTEGER NOT NULL,
                    kind TEXT NOT NULL, detail TEXT NOT NULL);
                 INSERT INTO deals VALUES (7, '{}', 100, NULL);",
            )
            .unwrap();
        }
        let e = Engine::sqlite(&path).unwrap();
        apply(&e).unwrap();
        assert_eq!(
            e.query_int("SELECT raw_len FROM deals WHERE id = 7", &[])
                .unwrap(),
            Some(100)
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = Engine::sqlite(&dir.path().join("p.sqlite")).unwrap();
        apply(&e).unwrap();
        e.exec(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'future', 0)",
            &[V::i(latest() + 1)],
        )
        .unwrap();
        let err = apply(&e).unwrap_err().to_string();
        assert!(err.contains("upgrade strata"), "{err}");
    }
}
