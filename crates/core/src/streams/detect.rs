//! Live detection by Helix polling (S2): works without a public URL.
//!
//! Every `twitch.poll_secs` one `GET /streams` per 100 channels; the client paces itself by
//! Helix's `Ratelimit-*` headers. Missed ticks are delayed, never bunched.

use super::Streams;
use std::time::Duration;

fn interval(secs: u64) -> tokio::time::Interval {
    let mut tick = tokio::time::interval(Duration::from_secs(secs.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick
}

impl Streams {
    pub(crate) async fn poll_loop(self) {
        let mut live = self.inner.live.clone();
        let mut every = live.current().twitch.poll_secs;
        let mut tick = interval(every);
        let mut changes = true;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                more = live.changed(), if changes => {
                    changes = more;
                    // A new interval from the settings: the next check comes one new period on.
                    let now = live.current().twitch.poll_secs;
                    if now != every {
                        every = now;
                        tick = interval(every);
                        tick.reset();
                    }
                    continue;
                }
                _ = self.inner.shutdown.cancelled() => return,
            }
            match self.inner.store.list_twitch_channels().await {
                Ok(channels) => self.check_channels(&channels).await,
                Err(e) => tracing::warn!(error = %e, "could not list channels to poll"),
            }
        }
    }
}
