//! On import (T10): Radarr's and Sonarr's "Webhook" connection calls Tapearr when a movie or
//! episode is imported, renamed, added or deleted, so that item's trailers come within seconds
//! instead of at the next hourly run. Each connection has its own secret in the URL (sealed at
//! rest, compared in constant time); a wrong one changes nothing.

use crate::auth::tokens::{constant_time_eq, random_token};
use crate::trailers::error::{TrailerError, TrailerResult};
use crate::trailers::model::ConnectionKind;
use crate::trailers::plan::{PlanAction, PlanEntry};
use crate::trailers::service::Trailers;
use crate::trailers::service::run::RunReport;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use tokio_util::sync::CancellationToken;

/// Where the webhook of a connection is served; the last part is its secret.
pub const WEBHOOK_PATH: &str = "/api/v1/trailers/webhooks";

/// The webhook of a connection, to paste into the Arr (Settings → Connect → Webhook, POST).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookInfo {
    /// `/api/v1/trailers/webhooks/{connection id}/{secret}`: put Tapearr's address before it.
    pub path: String,
    /// The events to tick in the Arr.
    pub events: Vec<String>,
}

/// What a webhook call did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookReply {
    /// The Arr's `eventType` (`Download`, `Rename`, `Test`, …).
    pub event: String,
    /// `queued` (a job for the item or a sync), `test` or `ignored`.
    pub action: String,
    pub job_id: Option<String>,
}

/// The part of Radarr's and Sonarr's webhook body Tapearr reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArrEvent {
    event_type: String,
    movie: Option<ArrRef>,
    series: Option<ArrRef>,
}

#[derive(Debug, Deserialize)]
struct ArrRef {
    id: i64,
}

/// What an event asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventAction {
    Test,
    /// The item's folder or files changed: sync, scan, then its missing trailers.
    Item(i64),
    /// The item is gone from the Arr: a sync removes it.
    Sync,
    Ignore,
}

fn action_of(kind: ConnectionKind, event: &ArrEvent) -> EventAction {
    let id = match kind {
        ConnectionKind::Radarr => event.movie.as_ref().map(|m| m.id),
        ConnectionKind::Sonarr => event.series.as_ref().map(|s| s.id),
        ConnectionKind::Plex | ConnectionKind::Jellyfin => None,
    };
    match (event.event_type.as_str(), id) {
        ("Test", _) => EventAction::Test,
        ("Download" | "Rename" | "MovieAdded" | "SeriesAdd", Some(id)) => EventAction::Item(id),
        ("MovieDelete" | "SeriesDelete", _) => EventAction::Sync,
        _ => EventAction::Ignore,
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ItemPayload {
    pub connection_id: String,
    pub arr_id: i64,
}

fn token_key(connection_id: &str) -> String {
    format!("trailers.webhook.{connection_id}")
}

impl Trailers {
    /// The connection's webhook (its secret made on first use). Radarr and Sonarr only.
    pub async fn webhook_info(&self, connection_id: &str) -> TrailerResult<WebhookInfo> {
        let conn = self.connection(connection_id).await?;
        let events = match conn.kind {
            ConnectionKind::Radarr => [
                "On Import",
                "On Rename",
                "On Movie Added",
                "On Movie Delete",
            ],
            ConnectionKind::Sonarr => [
                "On Import",
                "On Rename",
                "On Series Add",
                "On Series Delete",
            ],
            ConnectionKind::Plex | ConnectionKind::Jellyfin => {
                return Err(TrailerError::Invalid(
                    "only Radarr and Sonarr connections have a webhook".into(),
                ));
            }
        };
        let sealed = self.inner.secrets.seal(&random_token("whk_"));
        // Two first calls at once keep one secret: the stored one wins.
        let stored = self
            .store()
            .app_state_init(&token_key(&conn.id), &sealed)
            .await?;
        let token = self.reveal_token(&stored)?;
        Ok(WebhookInfo {
            path: format!("{WEBHOOK_PATH}/{}/{token}", conn.id),
            events: events.map(String::from).to_vec(),
        })
    }

    fn reveal_token(&self, stored: &str) -> TrailerResult<String> {
        self.inner
            .secrets
            .reveal(stored)
            .map_err(|e| TrailerError::Internal(format!("webhook secret: {e}")))
    }

    /// Forgets a connection's webhook secret (the connection is deleted).
    pub(crate) async fn forget_webhook(&self, connection_id: &str) -> TrailerResult<()> {
        Ok(self
            .store()
            .set_app_value(&token_key(connection_id), None)
            .await?)
    }

    /// One call of the Arr. `Unauthorized` (and nothing done) unless `token` is the
    /// connection's secret; the body is read only after that.
    pub async fn arr_webhook(
        &self,
        connection_id: &str,
        token: &str,
        body: &[u8],
    ) -> TrailerResult<WebhookReply> {
        let stored = self.store().app_value(&token_key(connection_id)).await?;
        let expected = match stored {
            Some(s) => self.reveal_token(&s)?,
            None => return Err(TrailerError::Unauthorized),
        };
        if !constant_time_eq(token, &expected) {
            return Err(TrailerError::Unauthorized);
        }
        let conn = match self.store().arr_connection(connection_id).await? {
            Some(c) => c,
            None => return Err(TrailerError::Unauthorized),
        };
        let event: ArrEvent = serde_json::from_slice(body).map_err(|e| {
            TrailerError::Invalid(format!("not a Radarr or Sonarr webhook body: {e}"))
        })?;
        let reply = |action: &str, job_id: Option<String>| WebhookReply {
            event: event.event_type.clone(),
            action: action.into(),
            job_id,
        };
        if !conn.enabled {
            return Ok(reply("ignored", None));
        }
        Ok(match action_of(conn.kind, &event) {
            EventAction::Test => reply("test", None),
            EventAction::Ignore => reply("ignored", None),
            EventAction::Sync => reply("queued", Some(self.queue_sync(&conn.id).await?)),
            EventAction::Item(arr_id) => {
                let job = self.queue_item(&conn.id, arr_id).await?;
                reply("queued", Some(job))
            }
        })
    }

    /// The work of an import for one Arr item: sync its connection (the item may be new or
    /// moved), scan, then fetch what the plan says is missing for that item only.
    pub async fn run_item(
        &self,
        connection_id: &str,
        arr_id: i64,
        cancel: &CancellationToken,
    ) -> TrailerResult<RunReport> {
        let _running = self.inner.run_lock.lock().await;
        let mut report = RunReport::default();
        self.sync_connection(connection_id).await?;
        report.scan = self.scan_all().await?;
        let ids: HashSet<String> = self
            .store()
            .all_media()
            .await?
            .into_iter()
            .filter(|m| m.connection_id == connection_id && m.arr_id == arr_id)
            .map(|m| m.id)
            .collect();
        let entries: Vec<PlanEntry> = self
            .preview()
            .await?
            .into_iter()
            .filter(|e| e.action == PlanAction::Download && ids.contains(&e.media_id))
            .collect();
        self.record_missing(&entries).await?;
        report.planned = entries.len();
        report.count(self.download_all(entries, cancel, &|_, _| {}).await?);
        tracing::info!(
            connection_id,
            arr_id,
            planned = report.planned,
            downloaded = report.downloaded,
            "on-import trailers done"
        );
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> ArrEvent {
        serde_json::from_str(json).expect("event")
    }

    #[test]
    fn events_map_to_their_work_per_arr() {
        let radarr = ConnectionKind::Radarr;
        let sonarr = ConnectionKind::Sonarr;
        let import =
            r#"{"eventType":"Download","movie":{"id":7,"title":"Alien"},"isUpgrade":false}"#;
        assert_eq!(action_of(radarr, &event(import)), EventAction::Item(7));
        // A movie in a Sonarr call is not Sonarr's item.
        assert_eq!(action_of(sonarr, &event(import)), EventAction::Ignore);
        let series = r#"{"eventType":"Rename","series":{"id":3,"tvdbId":1}}"#;
        assert_eq!(action_of(sonarr, &event(series)), EventAction::Item(3));
        assert_eq!(
            action_of(
                radarr,
                &event(r#"{"eventType":"MovieDelete","movie":{"id":7}}"#)
            ),
            EventAction::Sync
        );
        assert_eq!(
            action_of(radarr, &event(r#"{"eventType":"Test","movie":{"id":1}}"#)),
            EventAction::Test
        );
        for other in ["Grab", "Health", "MovieFileDelete", "ApplicationUpdate"] {
            let body = format!(r#"{{"eventType":"{other}","movie":{{"id":1}}}}"#);
            assert_eq!(
                action_of(radarr, &event(&body)),
                EventAction::Ignore,
                "{other}"
            );
        }
    }
}
