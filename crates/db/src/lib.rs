//! SQLite and PostgreSQL storage for Tapearr through sqlx's `Any` driver: one set of portable
//! queries (`$1` placeholders work on both), per-backend SQL only where it must differ.

mod api_keys;
mod archive;
mod channels;
mod events;
pub mod import;
mod jobs;
mod key_value;
mod library;
mod login_throttle;
mod media_servers;
pub mod migrate;
mod notify_channels;
mod notify_messages;
mod push;
mod recordings;
mod retention;
mod rows;
mod sessions;
mod share_links;
mod streams;
mod tasks;
pub mod testing;
mod trailers;
mod users;

use async_trait::async_trait;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::Duration;
use tapearr_core::storage::{Storage, StorageError, StorageResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("cannot open the database: {0}")]
    Connect(String),
    #[error(
        "the database schema is version {found}, newer than this Tapearr knows ({known}); \
         upgrade Tapearr or restore the backup made before the upgrade"
    )]
    SchemaTooNew { found: i64, known: i64 },
    #[error("migration {version} failed: {message}")]
    Migration { version: i64, message: String },
    #[error("database backup failed: {0}")]
    Backup(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The database: a pool plus which backend it talks to.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl Db {
    /// Opens the database (creating a SQLite file and its folder when missing).
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl);
        };
        let url = match backend {
            Backend::Sqlite => sqlite_url_with_create(url)?,
            Backend::Postgres => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| DbError::Connect(redact(&e.to_string())))?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 10 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; the busy timeout makes writers
                        // wait for each other instead of failing.
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA busy_timeout = 10000",
                            "PRAGMA foreign_keys = ON",
                            "PRAGMA synchronous = NORMAL",
                        ] {
                            conn.execute(pragma).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| DbError::Connect(redact(&e.to_string())))?;
        Ok(Self { pool, backend })
    }

    pub fn backend_kind(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The database holds password hashes, sessions and sealed secrets: like `secret.key`, only
/// its owner may read it. A missing file is created empty (a valid empty database) with mode
/// 0600 before SQLite opens it; SQLite gives its `-wal` and `-shm` files the database file's
/// mode. Existing files (from an older version) are narrowed to 0600 too.
fn private_files(file: &std::path::Path) -> Result<(), DbError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let err =
        |p: &std::path::Path, e: std::io::Error| DbError::Connect(format!("{}: {e}", p.display()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(err(file, e)),
    }
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        let path = std::path::PathBuf::from(name);
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| err(&path, e))?;
        }
    }
    Ok(())
}

fn sqlite_url_with_create(url: &str) -> Result<String, DbError> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let file = path.split('?').next().unwrap_or_default();
    if let Some(parent) = std::path::Path::new(file).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| DbError::Connect(format!("{}: {e}", parent.display())))?;
    }
    if !file.is_empty() && !file.starts_with(':') && !path.contains("mode=memory") {
        private_files(std::path::Path::new(file))?;
    }
    Ok(if path.contains("mode=") {
        format!("sqlite://{path}")
    } else if path.contains('?') {
        format!("sqlite://{path}&mode=rwc")
    } else {
        format!("sqlite://{path}?mode=rwc")
    })
}

/// Connection errors can echo the URL; never let a password through.
pub(crate) fn redact(message: &str) -> String {
    message
        .split_whitespace()
        .map(|word| match (word.find("://"), word.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                format!("{}://***@{}", &word[..scheme], &word[at + 1..])
            }
            _ => word.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs a query and maps its rows: the one place the fetch-and-map plumbing lives.
pub(crate) trait RowsExt {
    async fn optional<T>(
        self,
        pool: &AnyPool,
        map: impl Fn(&sqlx::any::AnyRow) -> StorageResult<T>,
    ) -> StorageResult<Option<T>>;
    async fn all<T>(
        self,
        pool: &AnyPool,
        map: impl Fn(&sqlx::any::AnyRow) -> StorageResult<T>,
    ) -> StorageResult<Vec<T>>;
    /// The `n` of a `SELECT COUNT(*) AS n …`.
    async fn count(self, pool: &AnyPool) -> StorageResult<u64>;
    /// Runs an `UPDATE`/`DELETE` that must touch a row: `NotFound` when it touched none.
    async fn execute_found(self, pool: &AnyPool) -> StorageResult<()>;
}

impl<'q> RowsExt for sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    async fn optional<T>(
        self,
        pool: &AnyPool,
        map: impl Fn(&sqlx::any::AnyRow) -> StorageResult<T>,
    ) -> StorageResult<Option<T>> {
        self.fetch_optional(pool)
            .await
            .map_err(backend_err)?
            .as_ref()
            .map(map)
            .transpose()
    }

    async fn all<T>(
        self,
        pool: &AnyPool,
        map: impl Fn(&sqlx::any::AnyRow) -> StorageResult<T>,
    ) -> StorageResult<Vec<T>> {
        self.fetch_all(pool)
            .await
            .map_err(backend_err)?
            .iter()
            .map(map)
            .collect()
    }

    async fn execute_found(self, pool: &AnyPool) -> StorageResult<()> {
        let done = self.execute(pool).await.map_err(backend_err)?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        Ok(())
    }

    async fn count(self, pool: &AnyPool) -> StorageResult<u64> {
        let n: i64 = self
            .fetch_one(pool)
            .await
            .and_then(|row| sqlx::Row::try_get(&row, "n"))
            .map_err(backend_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

pub(crate) fn backend_err(e: sqlx::Error) -> StorageError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StorageError::Conflict(db.message().to_string())
        }
        sqlx::Error::RowNotFound => StorageError::NotFound,
        _ => StorageError::Backend(redact(&e.to_string())),
    }
}

/// Runs the `children` deletes, then the `parent` one, all bound to `id`, in one transaction;
/// `NotFound` (and nothing deleted) when the parent row is not there.
pub(crate) async fn delete_with_children(
    db: &Db,
    children: &[&str],
    parent: &str,
    id: &str,
) -> StorageResult<()> {
    let mut tx = db.pool().begin().await.map_err(backend_err)?;
    for sql in children {
        sqlx::query(sql)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
    }
    let done = sqlx::query(parent)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound);
    }
    tx.commit().await.map_err(backend_err)
}

#[async_trait]
impl Storage for Db {
    fn backend(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    async fn ping(&self) -> StorageResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(backend_err)
    }

    async fn scrub_replaced(&self, tables: &[&str]) -> StorageResult<()> {
        let statements = match self.backend {
            crate::Backend::Sqlite => vec![
                "VACUUM".to_string(),
                "PRAGMA wal_checkpoint(TRUNCATE)".to_string(),
            ],
            crate::Backend::Postgres => tables.iter().map(|t| format!("VACUUM {t}")).collect(),
        };
        for sql in statements {
            sqlx::raw_sql(&sql)
                .execute(&self.pool)
                .await
                .map_err(backend_err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(
            redact("error connecting to postgres://bob:pw@db:5432/x now"),
            "error connecting to postgres://***@db:5432/x now"
        );
    }

    #[test]
    fn sqlite_urls_get_create_mode() {
        assert_eq!(
            sqlite_url_with_create("sqlite:///tmp/x.db").expect("url"),
            "sqlite:///tmp/x.db?mode=rwc"
        );
    }

    #[tokio::test]
    async fn the_database_and_its_wal_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("data/tapearr.db");
        let db = Db::connect(&format!("sqlite://{}", file.display()))
            .await
            .expect("connect");
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(db.pool())
            .await
            .expect("write");
        for suffix in ["", "-wal", "-shm"] {
            let path = format!("{}{suffix}", file.display());
            let mode = std::fs::metadata(&path).expect(&path).permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{path}");
        }
        db.close().await;

        // A file an older version left world-readable is narrowed on the next open.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let db = Db::connect(&format!("sqlite://{}", file.display()))
            .await
            .expect("reopen");
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        db.close().await;
    }
}
