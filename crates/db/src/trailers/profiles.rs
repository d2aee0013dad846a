//! Trailer profiles.

use super::small;
use crate::rows::{flag, from_json, get, to_json, ts};
use crate::{Db, RowsExt, backend_err, delete_with_children};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use tapearr_core::storage::{StorageResult, TrailerProfileStore};
use tapearr_core::trailers::model::Profile;

fn profile_row(row: &AnyRow) -> StorageResult<Profile> {
    Ok(Profile {
        id: get(row, "id")?,
        name: get(row, "name")?,
        enabled: flag(row, "enabled")?,
        priority: small(Some(get(row, "priority")?)).unwrap_or(0),
        filters: from_json(row, "filters")?,
        search: from_json(row, "search")?,
        output: from_json(row, "output")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

#[async_trait]
impl TrailerProfileStore for Db {
    async fn trailer_profiles(&self) -> StorageResult<Vec<Profile>> {
        sqlx::query(
            "SELECT id, name, enabled, priority, filters, search, output, created_at, updated_at \
             FROM trailer_profiles ORDER BY priority DESC, name",
        )
        .all(self.pool(), profile_row)
        .await
    }

    async fn insert_trailer_profile(&self, p: &Profile) -> StorageResult<()> {
        sqlx::query(
            "INSERT INTO trailer_profiles (id, name, enabled, priority, filters, search, output, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&p.id)
        .bind(&p.name)
        .bind(i64::from(p.enabled))
        .bind(i64::from(p.priority))
        .bind(to_json(&p.filters)?)
        .bind(to_json(&p.search)?)
        .bind(to_json(&p.output)?)
        .bind(p.created_at.millis())
        .bind(p.updated_at.millis())
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn update_trailer_profile(&self, p: &Profile) -> StorageResult<()> {
        sqlx::query(
            "UPDATE trailer_profiles SET name = $1, enabled = $2, priority = $3, filters = $4, \
             search = $5, output = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&p.name)
        .bind(i64::from(p.enabled))
        .bind(i64::from(p.priority))
        .bind(to_json(&p.filters)?)
        .bind(to_json(&p.search)?)
        .bind(to_json(&p.output)?)
        .bind(p.updated_at.millis())
        .bind(&p.id)
        .execute_found(self.pool())
        .await
    }

    async fn delete_trailer_profile(&self, id: &str) -> StorageResult<()> {
        delete_with_children(
            self,
            &["DELETE FROM trailer_downloads WHERE profile_id = $1"],
            "DELETE FROM trailer_profiles WHERE id = $1",
            id,
        )
        .await
    }
}
