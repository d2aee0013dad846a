//! Web push subscriptions.

use super::StorageResult;
use crate::notify::model::PushSubscription;
use crate::time::Timestamp;
use async_trait::async_trait;

#[async_trait]
pub trait PushSubscriptionStore: Send + Sync {
    /// Adds or refreshes a subscription (keyed by endpoint).
    async fn save_push_subscription(
        &self,
        sub: &PushSubscription,
        at: Timestamp,
    ) -> StorageResult<()>;
    async fn list_push_subscriptions(&self) -> StorageResult<Vec<PushSubscription>>;
    /// True when a subscription with that endpoint existed.
    async fn delete_push_subscription(&self, endpoint: &str) -> StorageResult<bool>;
}
