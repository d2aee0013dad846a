//! Helpers for tests that run the same story on SQLite and PostgreSQL.

use sqlx::Executor;
use sqlx::any::AnyPoolOptions;

/// The PostgreSQL URL tests use when set (CI sets it).
pub const TEST_PG_ENV: &str = "TAPEARR_TEST_PG_URL";

/// The backends to run a story on: always SQLite (as `None`, meaning "a file in the data dir"),
/// plus PostgreSQL when `TAPEARR_TEST_PG_URL` is set.
pub fn backends() -> Vec<Option<String>> {
    let mut out = vec![None];
    if let Ok(url) = std::env::var(TEST_PG_ENV)
        && !url.is_empty()
    {
        out.push(Some(url));
    }
    out
}

/// A fresh schema in the test PostgreSQL database, so tests running at once never share tables.
/// Returns a URL whose connections use that schema.
pub async fn isolated_postgres_url(base: &str, label: &str) -> Result<String, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let schema = format!(
        "t_{}_{}",
        label
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(20)
            .collect::<String>()
            .to_lowercase(),
        tapearr_core::ids::new_id().replace('-', "")
    );
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(base)
        .await?;
    pool.execute(format!("CREATE SCHEMA {schema}").as_str())
        .await?;
    pool.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok(format!("{base}{sep}options=-c%20search_path%3D{schema}"))
}
