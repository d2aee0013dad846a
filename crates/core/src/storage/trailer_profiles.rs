//! Trailer profiles (what to download: language, quality, file name).

use super::StorageResult;
use crate::trailers::model::Profile;
use async_trait::async_trait;

#[async_trait]
pub trait TrailerProfileStore: Send + Sync {
    async fn trailer_profiles(&self) -> StorageResult<Vec<Profile>>;
    async fn insert_trailer_profile(&self, p: &Profile) -> StorageResult<()>;
    async fn update_trailer_profile(&self, p: &Profile) -> StorageResult<()>;
    async fn delete_trailer_profile(&self, id: &str) -> StorageResult<()>;
}
