//! Web push subscriptions.

use crate::rows::get;
use crate::{Db, RowsExt, backend_err};
use async_trait::async_trait;
use tapearr_core::notify::model::{PushKeys, PushSubscription};
use tapearr_core::storage::{PushSubscriptionStore, StorageResult};
use tapearr_core::time::Timestamp;

#[async_trait]
impl PushSubscriptionStore for Db {
    async fn save_push_subscription(
        &self,
        sub: &PushSubscription,
        at: Timestamp,
    ) -> StorageResult<()> {
        sqlx::query(
            "INSERT INTO push_subscriptions (id, endpoint, p256dh, auth, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth",
        )
        .bind(tapearr_core::ids::new_id())
        .bind(&sub.endpoint)
        .bind(&sub.keys.p256dh)
        .bind(&sub.keys.auth)
        .bind(at.millis())
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn list_push_subscriptions(&self) -> StorageResult<Vec<PushSubscription>> {
        sqlx::query("SELECT endpoint, p256dh, auth FROM push_subscriptions ORDER BY created_at")
            .all(self.pool(), |r| {
                Ok(PushSubscription {
                    endpoint: get(r, "endpoint")?,
                    keys: PushKeys {
                        p256dh: get(r, "p256dh")?,
                        auth: get(r, "auth")?,
                    },
                })
            })
            .await
    }

    async fn delete_push_subscription(&self, endpoint: &str) -> StorageResult<bool> {
        Ok(
            sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1")
                .bind(endpoint)
                .execute(self.pool())
                .await
                .map_err(backend_err)?
                .rows_affected()
                > 0,
        )
    }
}
