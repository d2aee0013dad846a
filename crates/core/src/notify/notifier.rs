//! The notifier: its parts (storage, the event bus, the senders) and the loop that moves events
//! through the outbox every tick, or at once when an event is stored.

use super::model::Channel;
use super::send::Senders;
use crate::crypto::SecretBox;
use crate::events::EventBus;
use crate::events::model::EventRecord;
use crate::setup::SetupError;
use crate::storage::{Storage, StorageError};
use crate::time::Timestamp;
use crate::tools::ToolsManager;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const TICK: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{0}")]
    Invalid(String),
    #[error("channel not found")]
    NotFound,
    #[error("test message failed: {0}")]
    TestFailed(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

#[derive(Clone)]
pub struct Notifier {
    pub(super) store: Arc<dyn Storage>,
    pub(super) events: EventBus,
    pub(super) senders: Arc<Senders>,
}

impl Notifier {
    /// Deliveries use the one HTTP policy for secrets ([`tapearr_integrations::http`]); every
    /// secret is sealed with `secrets` in the database.
    pub fn new(
        store: Arc<dyn Storage>,
        events: EventBus,
        tools: Arc<ToolsManager>,
        secrets: SecretBox,
    ) -> Result<Self, SetupError> {
        Ok(Self {
            store: store.clone(),
            events,
            senders: Arc::new(Senders {
                http: tapearr_integrations::http::secret_client()
                    .map_err(SetupError::HttpClient)?,
                tools,
                store: store.clone(),
                secrets,
                vapid_key: tokio::sync::OnceCell::new(),
            }),
        })
    }

    /// Ingests, batches and delivers until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut live = self.events.subscribe();
        loop {
            if let Err(e) = self.tick().await {
                tracing::warn!(error = %e, "notification round failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                // A new stored event: look now rather than at the next tick.
                _ = next_stored(&mut live) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }

    pub(crate) async fn tick(&self) -> Result<(), StorageError> {
        let channels: HashMap<String, Channel> = self
            .store
            .list_channels()
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        self.ingest(&channels).await?;
        let now = Timestamp::now();
        self.compose(&channels, now).await?;
        self.deliver(&channels, now).await
    }
}

/// Waits for the next event that was stored (and so can become a notification); live-only ones
/// such as progress ticks arrive every few seconds and must not trigger a round each.
async fn next_stored(live: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<EventRecord>>) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match live.recv().await {
            Ok(event) if event.id.is_none() => continue,
            Ok(_) | Err(RecvError::Lagged(_)) => return,
            // The bus is gone: only the timer wakes the loop from now on.
            Err(RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}
