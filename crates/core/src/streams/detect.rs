//! Live detection by Helix polling (S2): works without a public URL.
//!
//! Every `twitch.poll_secs` one `GET /streams` per 100 channels; the client paces itself by
//! Helix's `Ratelimit-*` headers. Missed ticks are delayed, never bunched.

use super::Streams;
use std::time::Duration;

impl Streams {
    pub(crate) async fn poll_loop(self) {
        let every = Duration::from_secs(self.inner.config.twitch.poll_secs);
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = self.inner.shutdown.cancelled() => return,
            }
            match self.inner.store.list_twitch_channels().await {
                Ok(channels) => self.check_channels(&channels).await,
                Err(e) => tracing::warn!(error = %e, "could not list channels to poll"),
            }
        }
    }
}
