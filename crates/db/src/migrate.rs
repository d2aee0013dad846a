//! Versioned migrations, applied in order inside a transaction each. Refuses a database whose
//! schema is newer than this binary; backs a SQLite file up before changing it.

use crate::{Backend, Db, DbError, backend_err};
use sqlx::{Acquire, Executor, Row};
use std::path::{Path, PathBuf};
use tapearr_core::time::Timestamp;

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "notifications",
        sql: include_str!("../migrations/0002_notifications.sql"),
    },
    Migration {
        version: 3,
        name: "push_and_media_servers",
        sql: include_str!("../migrations/0003_push_and_media_servers.sql"),
    },
    Migration {
        version: 4,
        name: "streams",
        sql: include_str!("../migrations/0004_streams.sql"),
    },
    Migration {
        version: 5,
        name: "library",
        sql: include_str!("../migrations/0005_library.sql"),
    },
    Migration {
        version: 6,
        name: "trailers",
        sql: include_str!("../migrations/0006_trailers.sql"),
    },
    Migration {
        version: 7,
        name: "list_order_indexes",
        sql: include_str!("../migrations/0007_list_order_indexes.sql"),
    },
    Migration {
        version: 8,
        name: "media_files",
        sql: include_str!("../migrations/0008_media_files.sql"),
    },
    Migration {
        version: 13,
        name: "account",
        sql: include_str!("../migrations/0013_account.sql"),
    },
    Migration {
        version: 14,
        name: "channel_playlist_proxy",
        sql: include_str!("../migrations/0014_channel_playlist_proxy.sql"),
    },
    Migration {
        version: 15,
        name: "download_slots",
        sql: include_str!("../migrations/0015_download_slots.sql"),
    },
    Migration {
        version: 16,
        name: "server_trailer",
        sql: include_str!("../migrations/0016_server_trailer.sql"),
    },
    Migration {
        version: 17,
        name: "media_seasons",
        sql: include_str!("../migrations/0017_media_seasons.sql"),
    },
    Migration {
        version: 18,
        name: "trailer_upgrades",
        sql: include_str!("../migrations/0018_trailer_upgrades.sql"),
    },
    Migration {
        version: 19,
        name: "archive",
        sql: include_str!("../migrations/0019_archive.sql"),
    },
    Migration {
        version: 20,
        name: "channel_chat",
        sql: include_str!("../migrations/0020_channel_chat.sql"),
    },
];

/// Any number that identifies Tapearr's migration lock on PostgreSQL.
const PG_LOCK_KEY: i64 = 0x07a9_ea77;

pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

#[derive(Debug, Clone)]
pub struct MigrationReport {
    pub from: i64,
    pub to: i64,
    pub backup: Option<PathBuf>,
}

impl Db {
    /// The schema version the database is at (0 when empty).
    pub async fn schema_version(&self) -> Result<i64, DbError> {
        self.ensure_version_table().await?;
        let row = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
            .fetch_one(self.pool())
            .await
            .map_err(backend_err)?;
        Ok(row.try_get::<i64, _>("v").map_err(backend_err)?)
    }

    async fn ensure_version_table(&self) -> Result<(), DbError> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
        )
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    /// Brings the schema to the latest version. `backup_dir` receives a copy of a SQLite
    /// database before the first change.
    pub async fn migrate(&self, backup_dir: Option<&Path>) -> Result<MigrationReport, DbError> {
        self.migrate_with(MIGRATIONS, backup_dir).await
    }

    async fn migrate_with(
        &self,
        migrations: &[Migration],
        backup_dir: Option<&Path>,
    ) -> Result<MigrationReport, DbError> {
        self.ensure_version_table().await?;
        let mut conn = self.pool().acquire().await.map_err(backend_err)?;
        if self.backend_kind() == Backend::Postgres {
            // Two processes starting at once must not both migrate.
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(PG_LOCK_KEY)
                .execute(&mut *conn)
                .await
                .map_err(backend_err)?;
        }
        let result = self.migrate_locked(&mut conn, migrations, backup_dir).await;
        if self.backend_kind() == Backend::Postgres {
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(PG_LOCK_KEY)
                .execute(&mut *conn)
                .await;
        }
        result
    }

    async fn migrate_locked(
        &self,
        conn: &mut sqlx::pool::PoolConnection<sqlx::Any>,
        migrations: &[Migration],
        backup_dir: Option<&Path>,
    ) -> Result<MigrationReport, DbError> {
        let from: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
            .fetch_one(&mut **conn)
            .await
            .and_then(|r| r.try_get("v"))
            .map_err(backend_err)?;
        let known = migrations.last().map_or(0, |m| m.version);
        if from > known {
            return Err(DbError::SchemaTooNew { found: from, known });
        }
        let pending: Vec<&Migration> = migrations.iter().filter(|m| m.version > from).collect();
        let mut report = MigrationReport {
            from,
            to: from,
            backup: None,
        };
        if pending.is_empty() {
            return Ok(report);
        }
        if from > 0
            && self.backend_kind() == Backend::Sqlite
            && let Some(dir) = backup_dir
        {
            report.backup = Some(self.backup_sqlite(conn, dir, from).await?);
        }
        for m in pending {
            let mut tx = conn.begin().await.map_err(backend_err)?;
            for statement in split_statements(&self.render(m.sql)) {
                tx.execute(statement.as_str())
                    .await
                    .map_err(|e| DbError::Migration {
                        version: m.version,
                        message: e.to_string(),
                    })?;
            }
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(m.version)
            .bind(m.name)
            .bind(Timestamp::now().millis())
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
            tx.commit().await.map_err(backend_err)?;
            tracing::info!(version = m.version, name = m.name, "migration applied");
            report.to = m.version;
        }
        Ok(report)
    }

    fn render(&self, sql: &str) -> String {
        let serial = match self.backend_kind() {
            Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Backend::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        };
        sql.replace("{{SERIAL_PK}}", serial)
    }

    /// A consistent copy, even with writers and WAL, via `VACUUM INTO`.
    async fn backup_sqlite(
        &self,
        conn: &mut sqlx::pool::PoolConnection<sqlx::Any>,
        dir: &Path,
        version: i64,
    ) -> Result<PathBuf, DbError> {
        std::fs::create_dir_all(dir).map_err(|e| DbError::Backup(e.to_string()))?;
        let target = dir.join(format!(
            "tapearr-v{version}-{}.db",
            Timestamp::now().millis()
        ));
        // Private like the database itself: created empty (mode 0600) for VACUUM INTO to fill.
        {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&target)
                .map_err(|e| DbError::Backup(format!("{}: {e}", target.display())))?;
        }
        let quoted = target.display().to_string().replace('\'', "''");
        sqlx::query(&format!("VACUUM INTO '{quoted}'"))
            .execute(&mut **conn)
            .await
            .map_err(|e| DbError::Backup(e.to_string()))?;
        tracing::info!(path = %target.display(), "database backed up before migrating");
        Ok(target)
    }
}

/// Splits a migration file on `;` at line ends, dropping comment-only chunks.
fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in sql.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("--") || trimmed.is_empty() {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if trimmed.ends_with(';') {
            out.push(current.trim().trim_end_matches(';').to_string());
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn download_records_from_before_slots_become_the_first_trailer() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::connect(&url).await.expect("connect");
        let before_slots = MIGRATIONS
            .iter()
            .position(|m| m.version == 15)
            .expect("migration 15");
        db.migrate_with(&MIGRATIONS[..before_slots], None)
            .await
            .expect("v13");
        for sql in [
            "INSERT INTO arr_connections (id, name, kind, url, api_key, path_mappings, monitor_new, \
             enabled, created_at, updated_at) VALUES ('c', 'R', 'radarr', 'http://r', 'k', '[]', 1, 1, 0, 0)",
            "INSERT INTO media (id, connection_id, kind, arr_id, ext_id, title, tags, folder, has_file, \
             arr_monitored, monitor, fingerprint, added_at, updated_at) \
             VALUES ('m', 'c', 'movie', 1, 1, 'Alien', '[]', '/m/Alien', 1, 1, 1, '', 0, 0)",
            "INSERT INTO trailer_profiles (id, name, enabled, priority, filters, search, output, \
             created_at, updated_at) VALUES ('p', 'P', 1, 0, '[]', '{}', '{}', 0, 0)",
            "INSERT INTO trailer_downloads (media_id, profile_id, status, video_id, attempts, updated_at) \
             VALUES ('m', 'p', 'downloaded', 'abc', 0, 5)",
        ] {
            sqlx::query(sql).execute(db.pool()).await.expect(sql);
        }
        db.migrate(None).await.expect("latest");
        let (slot, video): (String, String) =
            sqlx::query("SELECT slot, video_id FROM trailer_downloads WHERE media_id = 'm'")
                .fetch_one(db.pool())
                .await
                .and_then(|r| Ok((r.try_get("slot")?, r.try_get("video_id")?)))
                .expect("the record survived");
        assert_eq!((slot.as_str(), video.as_str()), ("trailer-1", "abc"));
        // Another slot of the same (media, profile) is its own row.
        sqlx::query(
            "INSERT INTO trailer_downloads (media_id, profile_id, slot, status, attempts, updated_at) \
             VALUES ('m', 'p', 'featurette-1', 'missing', 0, 6)",
        )
        .execute(db.pool())
        .await
        .expect("a second slot");
    }

    #[tokio::test]
    async fn sqlite_is_backed_up_before_a_migration_changes_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::connect(&url).await.expect("connect");
        db.migrate_with(&MIGRATIONS[..1], Some(dir.path()))
            .await
            .expect("v1");
        sqlx::query("INSERT INTO tasks (name, kind, description, interval_secs, paused, next_run_at) VALUES ('keep', 'k', 'd', 60, 0, 0)")
            .execute(db.pool())
            .await
            .expect("row");
        let next = [
            Migration {
                version: 1,
                name: "init",
                sql: MIGRATIONS[0].sql,
            },
            Migration {
                version: 2,
                name: "more",
                sql: "CREATE TABLE extra (id TEXT PRIMARY KEY);",
            },
        ];
        let report = db.migrate_with(&next, Some(dir.path())).await.expect("v2");
        assert_eq!((report.from, report.to), (1, 2));
        let backup = report.backup.expect("a backup was made");
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&backup)
                .expect("backup")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "the backup is private");
        }
        // The backup is a database at v1 holding the row.
        let old = Db::connect(&format!("sqlite://{}", backup.display()))
            .await
            .expect("open backup");
        assert_eq!(old.schema_version().await.expect("version"), 1);
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM tasks WHERE name = 'keep'")
            .fetch_one(old.pool())
            .await
            .and_then(|r| r.try_get("n"))
            .expect("count");
        assert_eq!(n, 1);
        // A failing migration rolls back and leaves the version where it was.
        let broken = [
            Migration {
                version: 1,
                name: "init",
                sql: MIGRATIONS[0].sql,
            },
            Migration {
                version: 2,
                name: "more",
                sql: "",
            },
            Migration {
                version: 3,
                name: "bad",
                sql: "CREATE TABLE ok3 (id TEXT);\nTHIS IS NOT SQL;",
            },
        ];
        assert!(matches!(
            db.migrate_with(&broken, None).await,
            Err(DbError::Migration { version: 3, .. })
        ));
        assert_eq!(db.schema_version().await.expect("version"), 2);
        assert!(
            sqlx::query("SELECT * FROM ok3")
                .fetch_all(db.pool())
                .await
                .is_err(),
            "rolled back"
        );
    }

    #[test]
    fn splits_on_statement_ends_and_skips_comments() {
        let parts =
            split_statements("-- c\nCREATE TABLE a (x BIGINT);\n\nCREATE INDEX i ON a (x);\n");
        assert_eq!(
            parts,
            vec!["CREATE TABLE a (x BIGINT)", "CREATE INDEX i ON a (x)"]
        );
    }
}
