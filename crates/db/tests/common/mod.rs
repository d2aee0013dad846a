//! A migrated database per backend: SQLite always, PostgreSQL (an isolated schema) with
//! TAPEARR_TEST_PG_URL.

use tapearr_db::{Db, testing};

pub struct TestDb {
    pub db: Db,
    _dir: tempfile::TempDir,
}

pub async fn databases(label: &str) -> Vec<TestDb> {
    let mut out = Vec::new();
    for backend in testing::backends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = match backend {
            None => format!("sqlite://{}", dir.path().join("t.db").display()),
            Some(pg) => testing::isolated_postgres_url(&pg, label)
                .await
                .expect("pg schema"),
        };
        let db = Db::connect(&url).await.expect("connect");
        db.migrate(Some(dir.path())).await.expect("migrate");
        out.push(TestDb { db, _dir: dir });
    }
    out
}
