//! Video hosts that refuse us (bot check, rate limit, rejected cookies): their pauses are
//! saved so a restart keeps them, shown on the dashboard, and announced once per refusal
//! with what the user can do.

use crate::events::DomainEvent;
use crate::time::Timestamp;
use crate::trailers::download::politeness::HostPause;
use crate::trailers::service::Trailers;

/// The application value the pauses are saved under (JSON list of [`HostPause`]).
const SAVED_PAUSES: &str = "trailers.host_pauses";

impl Trailers {
    /// Puts back the pauses saved before a restart (called at start-up); a value that cannot
    /// be read is logged and dropped, since the worst outcome is one more refused request.
    pub async fn restore_host_pauses(&self) {
        let saved = match self.store().app_value(SAVED_PAUSES).await {
            Ok(Some(json)) => json,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the saved host pauses");
                return;
            }
        };
        match serde_json::from_str::<Vec<HostPause>>(&saved) {
            Ok(pauses) => self.inner.politeness.restore(pauses),
            Err(e) => tracing::warn!(error = %e, "the saved host pauses are unreadable"),
        }
    }

    /// The hosts paused now, by name, for the dashboard.
    pub fn host_pauses(&self) -> Vec<HostPause> {
        let now = Timestamp::now();
        self.inner
            .politeness
            .pauses()
            .into_iter()
            .filter(|p| p.until > now)
            .collect()
    }

    /// `host` refused a request: pause it, save the pauses, and tell the user what to do.
    pub(in crate::trailers) async fn host_refused(
        &self,
        host: &str,
        kind: &str,
        reason: &str,
    ) -> HostPause {
        let pause = self
            .inner
            .politeness
            .refuse(host, kind, reason, Timestamp::now());
        self.save_host_pauses().await;
        tracing::warn!(host, kind, until = %pause.until.to_rfc3339(), strikes = pause.strikes, "video host refused us; pausing it");
        self.inner
            .events
            .emit(DomainEvent::TrailerHostPaused {
                host: host.to_string(),
                kind: kind.to_string(),
                reason: reason.to_string(),
                advice: advice(kind, self.config().trailers.cookies_file.is_some()),
                strikes: pause.strikes,
                until: pause.until,
            })
            .await;
        pause
    }

    /// A request to `host` worked: its streak of refusals ends.
    pub(in crate::trailers) async fn host_worked(&self, host: &str) {
        if self.inner.politeness.succeeded(host) {
            self.save_host_pauses().await;
        }
    }

    async fn save_host_pauses(&self) {
        let pauses = self.inner.politeness.pauses();
        let value = if pauses.is_empty() {
            None
        } else {
            match serde_json::to_string(&pauses) {
                Ok(json) => Some(json),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot encode the host pauses");
                    return;
                }
            }
        };
        if let Err(e) = self
            .store()
            .set_app_value(SAVED_PAUSES, value.as_deref())
            .await
        {
            tracing::warn!(error = %e, "cannot save the host pauses");
        }
    }
}

/// What the user can do about a refusal of this kind.
fn advice(kind: &str, with_cookies: bool) -> String {
    match kind {
        "cookies_rejected" => "export a fresh cookies file (from a private browser window, \
             then close it) and set it in Settings → Trailers"
            .into(),
        "bot_check" if with_cookies => "refresh the cookies file in Settings → Trailers, or \
             set a PO-token provider (trailers.po_token_provider_url); downloads resume by \
             themselves after the pause"
            .into(),
        "bot_check" => "add a cookies file of a signed-in account in Settings → Trailers, or set \
             a PO-token provider (trailers.po_token_provider_url); downloads resume by \
             themselves after the pause"
            .into(),
        _ => "wait: downloads resume by themselves after the pause; a lower \
              trailers.host_hourly_cap makes it rarer"
            .into(),
    }
}
